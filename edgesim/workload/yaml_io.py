"""Workload YAML in and out: the CONTRACT's layer-list form and the full graph form."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from edgesim.errors import WorkloadError
from edgesim.workload.ir import (
    FLOAT_PRECISIONS,
    WEIGHTED_OPS,
    Layer,
    OpKind,
    Shape,
    Workload,
    precision_bits,
)
from edgesim.yamlutil import load_yaml, read_text

PosInt = Annotated[int, Field(strict=True, gt=0)]
NonNegInt = Annotated[int, Field(strict=True, ge=0)]
Fraction = Annotated[float, Field(ge=0.0, lt=1.0)]
Pair = PosInt | Annotated[list[PosInt], Field(min_length=1, max_length=2)]
PairNonNeg = NonNegInt | Annotated[list[NonNegInt], Field(min_length=1, max_length=2)]
Bits = Annotated[int, Field(strict=True)] | str
ShapeList = Annotated[list[PosInt], Field(min_length=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


# ---- layer-list form ------------------------------------------------------------------------
class _Defaults(_Strict):
    weight_bits: Bits | None = None
    act_bits: Bits | None = None


class _Header(_Strict):
    name: str = ""
    batch: PosInt = 1
    form: Literal["layers", "graph"] = "layers"
    defaults: _Defaults = _Defaults()
    layers: Annotated[list[dict[str, Any]], Field(min_length=1)]


class _LayerBase(_Strict):
    name: Annotated[str, Field(min_length=1)]
    op: str
    inputs: list[str] | None = None
    weight_bits: Bits | None = None
    act_bits: Bits | None = None
    weight_sparsity: Fraction = 0.0
    act_sparsity: Fraction = 0.0
    sparsity_pattern: str = "unstructured"


class _Conv(_LayerBase):
    in_channels: PosInt
    out_channels: PosInt
    in_size: Pair | None = None
    kernel: Pair
    stride: Pair = 1
    padding: PairNonNeg = 0
    dilation: Pair = 1
    groups: PosInt = 1
    bias: bool = False


class _ConvTranspose(_Conv):
    output_padding: PairNonNeg = 0


class _Linear(_LayerBase):
    in_features: PosInt
    out_features: PosInt
    tokens: PosInt | None = None
    bias: bool = False


class _Matmul(_LayerBase):
    m: PosInt
    n: PosInt
    k: PosInt
    heads: PosInt | None = None


class _Shaped(_LayerBase):
    """Ops whose shape follows their producer; a fresh input needs channels and in_size."""

    channels: PosInt | None = None
    in_size: Pair | None = None


class _Pool(_Shaped):
    variant: Literal["max", "avg"] = "max"
    kernel: Pair | None = None  # omitted: global pooling
    stride: Pair | None = None  # omitted: equal to kernel
    padding: PairNonNeg = 0


class _Upsample(_Shaped):
    scale: PosInt = 2
    variant: Literal["nearest", "bilinear"] = "nearest"


class _Activation(_Shaped):
    variant: Annotated[str, Field(min_length=1)]


class _Relu(_Shaped):
    variant: Literal["", "relu6"] = ""


_LAYER_MODELS: dict[OpKind, type[_LayerBase]] = {
    OpKind.CONV2D: _Conv, OpKind.ADDER_CONV2D: _Conv, OpKind.CONV1D: _Conv,
    OpKind.CONV_TRANSPOSE2D: _ConvTranspose, OpKind.LINEAR: _Linear, OpKind.MATMUL: _Matmul,
    OpKind.POOL2D: _Pool, OpKind.ADD: _Shaped, OpKind.MUL: _Shaped, OpKind.CONCAT: _Shaped,
    OpKind.RELU: _Relu, OpKind.ACTIVATION: _Activation, OpKind.SOFTMAX: _Shaped,
    OpKind.LAYERNORM: _Shaped, OpKind.BATCHNORM: _Shaped, OpKind.UPSAMPLE: _Upsample,
}


# ---- graph form -----------------------------------------------------------------------------
class _GraphLayer(_Strict):
    name: Annotated[str, Field(min_length=1)]
    op: str
    inputs: list[str] = []
    in_shapes: list[ShapeList]
    out_shape: ShapeList
    kernel: Annotated[list[PosInt], Field(min_length=2, max_length=2)] = [1, 1]
    stride: Annotated[list[PosInt], Field(min_length=2, max_length=2)] = [1, 1]
    padding: Annotated[list[NonNegInt], Field(min_length=2, max_length=2)] = [0, 0]
    dilation: Annotated[list[PosInt], Field(min_length=2, max_length=2)] = [1, 1]
    groups: PosInt = 1
    weight_shape: list[PosInt] = []
    has_bias: bool = False
    variant: str = ""
    weight_precision: str | None = None
    act_precision: str | None = None
    weight_sparsity: Fraction = 0.0
    act_sparsity: Fraction = 0.0
    sparsity_pattern: str = "unstructured"
    extra: list[Annotated[list[str], Field(min_length=2, max_length=2)]] = []


# ---- helpers --------------------------------------------------------------------------------
def _loc(prefix: str, loc: Sequence[int | str]) -> str:
    out = prefix
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _pydantic_error(exc: ValidationError, file: str | None, prefix: str) -> WorkloadError:
    err = exc.errors()[0]
    loc = [p for p in err["loc"] if not (isinstance(p, str) and ("[" in p or p in (
        "int", "str", "list[int]", "list[constrained-int]", "constrained-int")))]
    msg = err["msg"]
    if err["type"] == "extra_forbidden":
        msg = "unknown key"
    elif "input" in err and err["type"] != "missing":
        msg = f"{msg}, got {err['input']!r}"
    return WorkloadError(msg, file=file, field=_loc(prefix, loc) or None)


def _precision(value: int | str | None, file: str | None, field: str) -> str | None:
    """``8 -> "int8"``; ``"fp16"``, ``"bf16"``, ``"int4"`` as they are."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise WorkloadError(f"expected a bit-width 1..32 or a format such as 'fp16', got {value!r}",
                            file=file, field=field)
    if isinstance(value, int):
        if not 1 <= value <= 32:
            raise WorkloadError(f"bit-width must be within 1..32, got {value}", file=file,
                                field=field)
        name = f"int{value}"
    else:
        name = value
    try:
        precision_bits(name)
    except WorkloadError as exc:
        raise WorkloadError(exc.detail, file=file, field=field) from None
    return name


def _check_pattern(pattern: str, file: str | None, field: str) -> None:
    if pattern == "unstructured":
        return
    parts = pattern.split(":")
    if (len(parts) == 2 and all(p.isdigit() for p in parts)
            and 0 < int(parts[0]) < int(parts[1])):
        return
    raise WorkloadError(f"expected 'unstructured' or 'N:M' with 0 < N < M, got {pattern!r}",
                        file=file, field=field)


def _pair(v: int | list[int]) -> tuple[int, int]:
    if isinstance(v, int):
        return (v, v)
    return (v[0], v[0]) if len(v) == 1 else (v[0], v[1])


def _conv_out(size: int, k: int, s: int, p: int, d: int) -> int:
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


def _op(value: Any, file: str | None, field: str) -> OpKind:
    try:
        return OpKind(value)
    except ValueError:
        known = ", ".join(o.value for o in OpKind)
        raise WorkloadError(f"unknown op {value!r} (known: {known})", file=file,
                            field=field) from None


# ---- layer-list reader ----------------------------------------------------------------------
class _ListReader:
    """Builds IR layers from layer-list entries, checking each connection."""

    def __init__(self, file: str | None, batch: int, defaults: _Defaults) -> None:
        self.file = file
        self.batch = batch
        self.defaults = defaults
        self.layers: list[Layer] = []
        self.by_name: dict[str, Layer] = {}

    def err(self, field: str, detail: str) -> WorkloadError:
        return WorkloadError(detail, file=self.file, field=field)

    def read(self, i: int, raw: Any) -> Layer:
        at = f"layers[{i}]"
        if not isinstance(raw, dict):
            raise self.err(at, f"expected a mapping with name and op, got {raw!r}")
        if "op" not in raw:
            raise self.err(f"{at}.op", "required key missing")
        op = _op(raw["op"], self.file, f"{at}.op")
        try:
            spec = _LAYER_MODELS[op].model_validate(raw)
        except ValidationError as exc:
            raise _pydantic_error(exc, self.file, at) from None
        if spec.name in self.by_name:
            raise self.err(f"{at}.name", f"duplicate layer name {spec.name!r}")
        inputs: tuple[str, ...]
        if spec.inputs is None:
            inputs = (self.layers[-1].name,) if self.layers else ()
        else:
            for j, src in enumerate(spec.inputs):
                if src not in self.by_name:
                    raise self.err(f"{at}.inputs[{j}]", f"unknown input layer {src!r} "
                                   "(inputs must name earlier layers)")
            inputs = tuple(dict.fromkeys(spec.inputs))
        _check_pattern(spec.sparsity_pattern, self.file, f"{at}.sparsity_pattern")
        build = _BUILDERS[op]
        layer = build(self, at, op, spec, inputs)
        wbits = spec.weight_bits if spec.weight_bits is not None else self.defaults.weight_bits
        abits = spec.act_bits if spec.act_bits is not None else self.defaults.act_bits
        if op not in WEIGHTED_OPS:
            if spec.weight_bits is not None:
                raise self.err(f"{at}.weight_bits", f"op {op.value} has no weights")
            wbits = None
        layer = layer.with_(
            weight_precision=_precision(wbits, self.file, f"{at}.weight_bits"),
            act_precision=_precision(abits, self.file, f"{at}.act_bits"),
            weight_sparsity=float(spec.weight_sparsity), act_sparsity=float(spec.act_sparsity),
            sparsity_pattern=spec.sparsity_pattern)
        if layer.weight_sparsity and op not in WEIGHTED_OPS:
            raise self.err(f"{at}.weight_sparsity", f"op {op.value} has no weights")
        self.layers.append(layer)
        self.by_name[layer.name] = layer
        return layer

    def producer_shapes(self, inputs: tuple[str, ...]) -> list[Shape]:
        return [self.by_name[s].out_shape for s in inputs]

    def input_shape(self, at: str, spec: _Shaped, inputs: tuple[str, ...]) -> Shape:
        """The single input shape of a shape-following op."""
        if inputs:
            shape = self.by_name[inputs[0]].out_shape
            if spec.channels is not None and (len(shape) < 2 or shape[1] != spec.channels):
                raise self.err(f"{at}.channels", f"{spec.channels} does not match producer "
                               f"{inputs[0]!r} output shape {list(shape)}")
            if spec.in_size is not None and (len(shape) != 4
                                             or _pair(spec.in_size) != shape[2:]):
                raise self.err(f"{at}.in_size", f"{spec.in_size} does not match producer "
                               f"{inputs[0]!r} output shape {list(shape)}")
            return shape
        if spec.channels is None:
            raise self.err(f"{at}.channels", "required when the layer reads a fresh model input")
        if spec.in_size is None:
            return (self.batch, spec.channels)
        return (self.batch, spec.channels, *_pair(spec.in_size))

    def spatial_input(self, at: str, channels: int, in_size: int | list[int] | None,
                      inputs: tuple[str, ...], channels_key: str, rank: int = 4) -> Shape:
        """(B, C, H, W) of a conv-like layer, checked against its producer."""
        if inputs:
            src = self.by_name[inputs[0]]
            shape = src.out_shape
            if len(shape) < 2 or shape[1] != channels:
                raise self.err(f"{at}.{channels_key}", f"{channels} does not match producer "
                               f"{src.name!r} output channels ({list(shape)})")
            if len(shape) != rank:
                raise self.err(f"{at}.inputs", f"producer {src.name!r} output {list(shape)} "
                               f"is not a {rank}-D feature map")
            if in_size is not None:
                want = _pair(in_size)[-(rank - 2):] if rank == 3 else _pair(in_size)
                if tuple(want) != tuple(shape[2:]):
                    raise self.err(f"{at}.in_size", f"{in_size} does not match producer "
                                   f"{src.name!r} output size {list(shape[2:])}")
            return shape
        if in_size is None:
            raise self.err(f"{at}.in_size", "required when the layer reads a fresh model input")
        size = _pair(in_size)
        return (self.batch, channels, size[-1]) if rank == 3 else (self.batch, channels, *size)


def _build_conv(r: _ListReader, at: str, op: OpKind, spec: Any,
                inputs: tuple[str, ...]) -> Layer:
    assert isinstance(spec, _Conv)
    is1d = op == OpKind.CONV1D
    rank = 3 if is1d else 4
    x = r.spatial_input(at, spec.in_channels, spec.in_size, inputs, "in_channels", rank)
    g = spec.groups
    if spec.in_channels % g or spec.out_channels % g:
        raise r.err(f"{at}.groups", f"{g} does not divide in_channels {spec.in_channels} "
                    f"and out_channels {spec.out_channels}")
    k, s, p, d = (_pair(spec.kernel), _pair(spec.stride), _pair(spec.padding),
                  _pair(spec.dilation))
    if is1d:
        k, s, p, d = (1, k[1]), (1, s[1]), (0, p[1]), (1, d[1])
    ih, iw = (1, x[2]) if is1d else (x[2], x[3])
    if isinstance(spec, _ConvTranspose):
        op_ = _pair(spec.output_padding)
        oh = (ih - 1) * s[0] - 2 * p[0] + d[0] * (k[0] - 1) + op_[0] + 1
        ow = (iw - 1) * s[1] - 2 * p[1] + d[1] * (k[1] - 1) + op_[1] + 1
        wshape: Shape = (spec.in_channels, spec.out_channels // g, *k)
    else:
        oh, ow = _conv_out(ih, k[0], s[0], p[0], d[0]), _conv_out(iw, k[1], s[1], p[1], d[1])
        wshape = (spec.out_channels, spec.in_channels // g, *k)
    if oh <= 0 or ow <= 0:
        raise r.err(f"{at}.kernel", f"kernel {list(k)} does not fit input {ih}x{iw} "
                    f"with padding {list(p)}")
    out: Shape = (x[0], spec.out_channels, ow) if is1d else (x[0], spec.out_channels, oh, ow)
    return Layer(name=spec.name, op=op, inputs=inputs, in_shapes=(x,), out_shape=out, kernel=k,
                 stride=s, padding=p, dilation=d, groups=g, weight_shape=wshape,
                 has_bias=spec.bias)


def _build_linear(r: _ListReader, at: str, op: OpKind, spec: Any,
                  inputs: tuple[str, ...]) -> Layer:
    assert isinstance(spec, _Linear)
    if inputs:
        src = r.by_name[inputs[0]]
        shape = src.out_shape
        per_sample = math.prod(shape[1:])
        if spec.tokens is not None or (len(shape) == 3 and shape[-1] == spec.in_features):
            if len(shape) != 3 or shape[-1] != spec.in_features or (
                    spec.tokens is not None and shape[1] != spec.tokens):
                raise r.err(f"{at}.in_features", f"{spec.in_features} features x "
                            f"{spec.tokens} tokens does not match producer {src.name!r} output "
                            f"{list(shape)}")
            x: Shape = shape
        elif per_sample == spec.in_features:
            x = (shape[0], spec.in_features)
        else:
            raise r.err(f"{at}.in_features", f"{spec.in_features} does not match producer "
                        f"{src.name!r} output {list(shape)} ({per_sample} values per sample)")
    else:
        x = ((r.batch, spec.tokens, spec.in_features) if spec.tokens is not None
             else (r.batch, spec.in_features))
    return Layer(name=spec.name, op=op, inputs=inputs, in_shapes=(x,),
                 out_shape=(*x[:-1], spec.out_features),
                 weight_shape=(spec.out_features, spec.in_features), has_bias=spec.bias)


def _build_matmul(r: _ListReader, at: str, op: OpKind, spec: Any,
                  inputs: tuple[str, ...]) -> Layer:
    assert isinstance(spec, _Matmul)
    lead: Shape = (r.batch,) if spec.heads is None else (r.batch, spec.heads)
    a, b = (*lead, spec.m, spec.k), (*lead, spec.k, spec.n)
    return Layer(name=spec.name, op=op, inputs=inputs, in_shapes=(a, b),
                 out_shape=(*lead, spec.m, spec.n))


def _build_pool(r: _ListReader, at: str, op: OpKind, spec: Any,
                inputs: tuple[str, ...]) -> Layer:
    assert isinstance(spec, _Pool)
    x = r.input_shape(at, spec, inputs)
    if len(x) != 4:
        raise r.err(f"{at}.in_size", f"pooling needs a 4-D feature map, got {list(x)}")
    k = _pair(spec.kernel) if spec.kernel is not None else (x[2], x[3])
    s = _pair(spec.stride) if spec.stride is not None else k
    p = _pair(spec.padding)
    oh, ow = _conv_out(x[2], k[0], s[0], p[0], 1), _conv_out(x[3], k[1], s[1], p[1], 1)
    if oh <= 0 or ow <= 0:
        raise r.err(f"{at}.kernel", f"kernel {list(k)} does not fit input {x[2]}x{x[3]}")
    return Layer(name=spec.name, op=op, inputs=inputs, in_shapes=(x,),
                 out_shape=(x[0], x[1], oh, ow), kernel=k, stride=s, padding=p,
                 variant=spec.variant)


def _build_elementwise(r: _ListReader, at: str, op: OpKind, spec: Any,
                       inputs: tuple[str, ...]) -> Layer:
    assert isinstance(spec, _Shaped)
    if not inputs:
        x = r.input_shape(at, spec, inputs)
        return Layer(name=spec.name, op=op, inputs=(), in_shapes=(x, x), out_shape=x)
    shapes = r.producer_shapes(inputs)
    r.input_shape(at, spec, inputs)  # checks channels / in_size against the first producer
    for j, shape in enumerate(shapes[1:], start=1):
        if shape != shapes[0]:
            raise r.err(f"{at}.inputs[{j}]", f"shape {list(shape)} of {inputs[j]!r} does not "
                        f"match {list(shapes[0])} of {inputs[0]!r}")
    in_shapes = tuple(shapes) if len(shapes) > 1 else (shapes[0], shapes[0])
    return Layer(name=spec.name, op=op, inputs=inputs, in_shapes=in_shapes, out_shape=shapes[0])


def _build_concat(r: _ListReader, at: str, op: OpKind, spec: Any,
                  inputs: tuple[str, ...]) -> Layer:
    assert isinstance(spec, _Shaped)
    if not inputs:
        raise r.err(f"{at}.inputs", "concat needs the layers it joins")
    if spec.channels is not None or spec.in_size is not None:
        raise r.err(f"{at}.channels", "concat takes its shape from its inputs")
    shapes = r.producer_shapes(inputs)
    first = shapes[0]
    for j, shape in enumerate(shapes[1:], start=1):
        if len(shape) != len(first) or shape[0] != first[0] or shape[2:] != first[2:]:
            raise r.err(f"{at}.inputs[{j}]", f"shape {list(shape)} of {inputs[j]!r} cannot be "
                        f"concatenated with {list(first)} along channels")
    out = (first[0], sum(s[1] for s in shapes), *first[2:])
    return Layer(name=spec.name, op=op, inputs=inputs, in_shapes=tuple(shapes), out_shape=out)


def _build_unary(r: _ListReader, at: str, op: OpKind, spec: Any,
                 inputs: tuple[str, ...]) -> Layer:
    assert isinstance(spec, _Shaped)
    x = r.input_shape(at, spec, inputs)
    variant = getattr(spec, "variant", "")
    fields: dict[str, Any] = {}
    if op in (OpKind.BATCHNORM, OpKind.LAYERNORM) and len(x) > 1:
        c = x[-1] if op == OpKind.LAYERNORM else x[1]
        fields = {"weight_shape": (c,), "has_bias": True}
    if isinstance(spec, _Upsample):
        if len(x) != 4:
            raise r.err(f"{at}.in_size", f"upsample needs a 4-D feature map, got {list(x)}")
        out: Shape = (x[0], x[1], x[2] * spec.scale, x[3] * spec.scale)
    else:
        out = x
    return Layer(name=spec.name, op=op, inputs=inputs, in_shapes=(x,), out_shape=out,
                 variant=variant, **fields)


_Builder = Callable[[_ListReader, str, OpKind, Any, tuple[str, ...]], Layer]
_BUILDERS: dict[OpKind, _Builder] = {
    OpKind.CONV2D: _build_conv, OpKind.ADDER_CONV2D: _build_conv, OpKind.CONV1D: _build_conv,
    OpKind.CONV_TRANSPOSE2D: _build_conv, OpKind.LINEAR: _build_linear,
    OpKind.MATMUL: _build_matmul, OpKind.POOL2D: _build_pool, OpKind.ADD: _build_elementwise,
    OpKind.MUL: _build_elementwise, OpKind.CONCAT: _build_concat, OpKind.RELU: _build_unary,
    OpKind.ACTIVATION: _build_unary, OpKind.SOFTMAX: _build_unary,
    OpKind.LAYERNORM: _build_unary, OpKind.BATCHNORM: _build_unary,
    OpKind.UPSAMPLE: _build_unary,
}


# ---- graph reader and layer self-consistency ------------------------------------------------
def check_layer(layer: Layer, file: str | None = None, at: str = "") -> None:
    """Check that a layer's own fields agree (weights vs channels, output shape vs kernel)."""
    def err(key: str, detail: str) -> WorkloadError:
        return WorkloadError(detail, file=file, field=f"{at}.{key}" if at else key)

    op = layer.op
    for key in ("weight_precision", "act_precision"):
        value = getattr(layer, key)
        if value is not None:
            _precision(value, file, f"{at}.{key}")
    _check_pattern(layer.sparsity_pattern, file, f"{at}.sparsity_pattern")
    if op in WEIGHTED_OPS and not layer.in_shapes:
        raise err("in_shapes", f"op {op.value} needs an input shape")
    if op in (OpKind.CONV2D, OpKind.CONV1D, OpKind.ADDER_CONV2D, OpKind.CONV_TRANSPOSE2D):
        rank = 3 if op == OpKind.CONV1D else 4
        x = layer.in_shapes[0]
        if len(x) != rank or len(layer.out_shape) != rank:
            raise err("in_shapes", f"{op.value} needs {rank}-D input and output shapes")
        if len(layer.weight_shape) != 4:
            raise err("weight_shape", f"expected 4 dims (K, C/g, R, S), got "
                      f"{list(layer.weight_shape)}")
        w: tuple[int, ...] = tuple(layer.weight_shape)
        g = layer.groups
        if op == OpKind.CONV_TRANSPOSE2D:
            c_in, c_out = w[0], w[1] * g
        else:
            c_in, c_out = w[1] * g, w[0]
        if c_in != x[1]:
            raise err("weight_shape", f"{list(w)} with groups {g} expects {c_in} input "
                      f"channels, input has {x[1]}")
        if c_out != layer.out_shape[1]:
            raise err("out_shape", f"{layer.out_shape[1]} channels, weights give {c_out}")
        if tuple(w[2:]) != layer.kernel:
            raise err("kernel", f"{list(layer.kernel)} differs from weight_shape {list(w)}")
        if op != OpKind.CONV_TRANSPOSE2D:
            (ih, iw), (oh, ow) = layer.in_hw, layer.out_hw
            k, s, p, d = layer.kernel, layer.stride, layer.padding, layer.dilation
            want = (_conv_out(ih, k[0], s[0], p[0], d[0]), _conv_out(iw, k[1], s[1], p[1], d[1]))
            if (oh, ow) != want:
                raise err("out_shape", f"output size {[oh, ow]} does not follow from input "
                          f"{[ih, iw]}, kernel, stride and padding (expected {list(want)})")
    elif op == OpKind.LINEAR:
        w = tuple(layer.weight_shape)
        if len(w) != 2:
            raise err("weight_shape", f"expected (out, in), got {list(w)}")
        if layer.in_shapes[0][-1] != w[1] or layer.out_shape[-1] != w[0]:
            raise err("weight_shape", f"{list(w)} does not match input "
                      f"{list(layer.in_shapes[0])} and output {list(layer.out_shape)}")
    elif op == OpKind.MATMUL:
        if len(layer.in_shapes) != 2 or min(len(s) for s in layer.in_shapes) < 2:
            raise err("in_shapes", "matmul needs two operands of at least 2 dims")
        a, b = layer.in_shapes
        if a[-1] != b[-2] or tuple(layer.out_shape[-2:]) != (a[-2], b[-1]):
            raise err("in_shapes", f"{list(a)} x {list(b)} cannot give {list(layer.out_shape)}")
    if op not in WEIGHTED_OPS and layer.weight_sparsity:
        raise err("weight_sparsity", f"op {op.value} has no weights")


def _read_graph_layer(raw: Any, i: int, file: str | None) -> Layer:
    at = f"layers[{i}]"
    if not isinstance(raw, dict):
        raise WorkloadError(f"expected a mapping, got {raw!r}", file=file, field=at)
    try:
        g = _GraphLayer.model_validate(raw)
    except ValidationError as exc:
        raise _pydantic_error(exc, file, at) from None
    op = _op(g.op, file, f"{at}.op")
    layer = Layer(name=g.name, op=op, inputs=tuple(g.inputs),
                  in_shapes=tuple(tuple(s) for s in g.in_shapes), out_shape=tuple(g.out_shape),
                  kernel=_pair(g.kernel), stride=_pair(g.stride), padding=_pair(g.padding),
                  dilation=_pair(g.dilation), groups=g.groups,
                  weight_shape=tuple(g.weight_shape), has_bias=g.has_bias, variant=g.variant,
                  weight_precision=g.weight_precision, act_precision=g.act_precision,
                  weight_sparsity=float(g.weight_sparsity), act_sparsity=float(g.act_sparsity),
                  sparsity_pattern=g.sparsity_pattern,
                  extra=tuple((k, v) for k, v in g.extra))
    check_layer(layer, file, at)
    return layer


# ---- entry points ---------------------------------------------------------------------------
def _load_yaml(path: Path) -> Any:
    file = str(path)
    text = read_text(path, WorkloadError)
    if not text.strip():
        raise WorkloadError("the file is empty", file=file)
    data = load_yaml(text, file, WorkloadError)
    if data is None:
        raise WorkloadError("the file holds no workload", file=file)
    if not isinstance(data, dict):
        raise WorkloadError(f"expected a mapping with name and layers, got "
                            f"{type(data).__name__}", file=file)
    return data


def workload_from_dict(data: dict[str, Any], file: str | None = None,
                       default_name: str = "workload") -> Workload:
    """Build a workload from parsed YAML (either form)."""
    try:
        head = _Header.model_validate(data)
    except ValidationError as exc:
        raise _pydantic_error(exc, file, "") from None
    name = head.name or default_name
    source = file or ""
    if head.form == "graph":
        if head.defaults != _Defaults():
            raise WorkloadError("the graph form takes no defaults", file=file, field="defaults")
        layers: list[Layer] = []
        seen: set[str] = set()
        for i, raw in enumerate(head.layers):
            layer = _read_graph_layer(raw, i, file)
            if layer.name in seen:
                raise WorkloadError(f"duplicate layer name {layer.name!r}", file=file,
                                    field=f"layers[{i}].name")
            for j, src in enumerate(layer.inputs):
                if src not in seen:
                    raise WorkloadError(f"unknown input layer {src!r} (inputs must name "
                                        "earlier layers)", file=file,
                                        field=f"layers[{i}].inputs[{j}]")
            seen.add(layer.name)
            layers.append(layer)
        return Workload(name=name, layers=tuple(layers), batch=head.batch, source=source)
    for key in ("weight_bits", "act_bits"):
        _precision(getattr(head.defaults, key), file, f"defaults.{key}")
    reader = _ListReader(file, head.batch, head.defaults)
    for i, raw in enumerate(head.layers):
        reader.read(i, raw)
    return Workload(name=name, layers=tuple(reader.layers), batch=head.batch, source=source)


def read_workload_yaml(path: str | Path) -> Workload:
    """Read a workload YAML file in the layer-list form or the graph form (``form: graph``)."""
    p = Path(path)
    return workload_from_dict(_load_yaml(p), file=str(p), default_name=p.stem)


# ---- writers --------------------------------------------------------------------------------
def _bits_out(precision: str | None) -> int | str | None:
    if precision is None:
        return None
    if precision in FLOAT_PRECISIONS:
        return precision
    return precision_bits(precision)


def _list(t: Sequence[int]) -> list[int]:
    return [int(v) for v in t]


def _layer_entry(layer: Layer, prev: str | None, batch: int) -> dict[str, Any]:
    """One layer in the layer-list form (it is checked by reading it back)."""
    d: dict[str, Any] = {"name": layer.name, "op": layer.op.value}
    op = layer.op
    x = layer.in_shapes[0] if layer.in_shapes else ()
    if op in (OpKind.CONV2D, OpKind.ADDER_CONV2D, OpKind.CONV1D, OpKind.CONV_TRANSPOSE2D):
        is1d = op == OpKind.CONV1D
        out_c = (layer.weight_shape[1] * layer.groups if op == OpKind.CONV_TRANSPOSE2D
                 else layer.weight_shape[0])
        d |= {"in_channels": x[1], "out_channels": out_c,
              "in_size": [x[2]] if is1d else _list(x[2:]),
              "kernel": [layer.kernel[1]] if is1d else _list(layer.kernel),
              "stride": [layer.stride[1]] if is1d else _list(layer.stride),
              "padding": [layer.padding[1]] if is1d else _list(layer.padding)}
        if layer.dilation != (1, 1):
            d["dilation"] = [layer.dilation[1]] if is1d else _list(layer.dilation)
        if layer.groups != 1:
            d["groups"] = layer.groups
        if op == OpKind.CONV_TRANSPOSE2D:
            want = [(layer.in_hw[i] - 1) * layer.stride[i] - 2 * layer.padding[i]
                    + layer.dilation[i] * (layer.kernel[i] - 1) + 1 for i in range(2)]
            extra_pad = [o - w for o, w in zip(layer.out_hw, want, strict=True)]
            if any(extra_pad):
                d["output_padding"] = extra_pad
    elif op == OpKind.LINEAR:
        d |= {"in_features": layer.weight_shape[1], "out_features": layer.weight_shape[0]}
        if len(x) == 3:
            d["tokens"] = x[1]
    elif op == OpKind.MATMUL:
        a, b = layer.in_shapes
        d |= {"m": a[-2], "n": b[-1], "k": a[-1]}
        if len(layer.out_shape) == 4:
            d["heads"] = layer.out_shape[1]
    elif op == OpKind.POOL2D:
        d |= {"variant": layer.variant or "max", "kernel": _list(layer.kernel),
              "stride": _list(layer.stride)}
        if layer.padding != (0, 0):
            d["padding"] = _list(layer.padding)
    elif op == OpKind.UPSAMPLE:
        d |= {"scale": layer.out_hw[0] // max(1, layer.in_hw[0]),
              "variant": layer.variant or "nearest"}
    elif op in (OpKind.RELU, OpKind.ACTIVATION) and layer.variant:
        d["variant"] = layer.variant
    if op in WEIGHTED_OPS and layer.has_bias:
        d["bias"] = True
    if not layer.inputs and op not in WEIGHTED_OPS and op not in (OpKind.MATMUL,):
        d["channels"] = x[1] if len(x) > 1 else 1
        if len(x) == 4:
            d["in_size"] = _list(x[2:])
    if not (prev is not None and layer.inputs == (prev,)):
        d["inputs"] = list(layer.inputs)
    if layer.weight_precision is not None:
        d["weight_bits"] = _bits_out(layer.weight_precision)
    if layer.act_precision is not None:
        d["act_bits"] = _bits_out(layer.act_precision)
    if layer.weight_sparsity:
        d["weight_sparsity"] = layer.weight_sparsity
    if layer.act_sparsity:
        d["act_sparsity"] = layer.act_sparsity
    if layer.sparsity_pattern != "unstructured":
        d["sparsity_pattern"] = layer.sparsity_pattern
    return d


def _graph_entry(layer: Layer) -> dict[str, Any]:
    return {"name": layer.name, "op": layer.op.value, "inputs": list(layer.inputs),
            "in_shapes": [_list(s) for s in layer.in_shapes], "out_shape": _list(layer.out_shape),
            "kernel": _list(layer.kernel), "stride": _list(layer.stride),
            "padding": _list(layer.padding), "dilation": _list(layer.dilation),
            "groups": layer.groups, "weight_shape": _list(layer.weight_shape),
            "has_bias": layer.has_bias, "variant": layer.variant,
            "weight_precision": layer.weight_precision, "act_precision": layer.act_precision,
            "weight_sparsity": layer.weight_sparsity, "act_sparsity": layer.act_sparsity,
            "sparsity_pattern": layer.sparsity_pattern,
            "extra": [[k, v] for k, v in layer.extra]}


def workload_to_dict(wl: Workload, form: str = "layers") -> dict[str, Any]:
    """The YAML-ready mapping of ``wl`` in the layer-list or graph form.

    Raises:
        WorkloadError: the layer-list form cannot express the workload exactly (views between
            layers, model inputs mixed into a layer...); use ``form="graph"`` then.
    """
    if form == "graph":
        return {"name": wl.name, "batch": wl.batch, "form": "graph",
                "layers": [_graph_entry(lay) for lay in wl.layers]}
    if form != "layers":
        raise WorkloadError(f"unknown form {form!r} (use 'layers' or 'graph')", field="form")
    entries: list[dict[str, Any]] = []
    prev: str | None = None
    for lay in wl.layers:
        entries.append(_layer_entry(lay, prev, wl.batch))
        prev = lay.name
    data = {"name": wl.name, "batch": wl.batch, "layers": entries}
    try:
        back = workload_from_dict(data, file=None, default_name=wl.name)
    except WorkloadError as exc:
        raise WorkloadError(f"the layer-list form cannot express this workload ({exc}); "
                            "write it with form='graph'", field="form") from None
    for a, b in zip(wl.layers, back.layers, strict=True):
        if a.with_(extra=()) != b:
            raise WorkloadError(f"the layer-list form cannot express layer {a.name!r} exactly; "
                                "write it with form='graph'", field="form")
    return data


def dump_workload_yaml(wl: Workload, form: str = "layers") -> str:
    """The YAML text: a block header and one flow mapping per layer."""
    data = workload_to_dict(wl, form)
    layers = data.pop("layers")
    head = yaml.safe_dump(data, sort_keys=False, default_flow_style=False)
    lines = [head.rstrip("\n"), "layers:"]
    for entry in layers:
        text = yaml.safe_dump(entry, sort_keys=False, default_flow_style=True, width=1 << 30)
        lines.append(f"  - {text.strip()}")
    return "\n".join(lines) + "\n"


def write_workload_yaml(wl: Workload, path: str | Path, form: str = "layers") -> None:
    """Write ``wl`` to ``path`` as YAML (``form`` is ``"layers"`` or ``"graph"``)."""
    text = dump_workload_yaml(wl, form)
    p = Path(path)
    tmp = p.with_name(p.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(p)
