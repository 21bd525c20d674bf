"""Reading workload YAML (the layer-list and graph forms) into layers, checking every connection."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from edgesim.errors import WorkloadError
from edgesim.vocab import WEIGHTED_OPS, OpKind, pair
from edgesim.workload.layer import CODE_BITS_UNSHARED, Layer, Shape
from edgesim.workload.yaml_check import (
    check_layer,
    check_pattern,
    conv_out,
    op_kind,
    parse_precision,
    pydantic_error,
)
from edgesim.workload.yaml_schema import (
    LAYER_ENTRIES,
    ConvEntry,
    ConvTransposeEntry,
    Defaults,
    EmbeddingEntry,
    GraphLayerEntry,
    Header,
    LinearEntry,
    MatmulEntry,
    PoolEntry,
    ShapedEntry,
    UpsampleEntry,
)
from edgesim.yamlutil import load_yaml, read_text


@dataclass(frozen=True)
class ParsedWorkload:
    """A workload file's content: its name, batch and checked layers (the IR is built above)."""

    name: str
    batch: int
    layers: tuple[Layer, ...]


# ---- layer-list reader ----------------------------------------------------------------------
class _ListReader:
    """Builds IR layers from layer-list entries, checking each connection."""

    def __init__(self, file: str | None, batch: int, defaults: Defaults) -> None:
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
        op = op_kind(raw["op"], self.file, f"{at}.op")
        try:
            spec = LAYER_ENTRIES[op].model_validate(raw)
        except ValidationError as exc:
            raise pydantic_error(exc, self.file, at, LAYER_ENTRIES[op]) from None
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
        check_pattern(spec.sparsity_pattern, self.file, f"{at}.sparsity_pattern")
        build = _BUILDERS[op]
        layer = build(self, at, op, spec, inputs)
        wbits = spec.weight_bits if spec.weight_bits is not None else self.defaults.weight_bits
        abits = spec.act_bits if spec.act_bits is not None else self.defaults.act_bits
        if op not in WEIGHTED_OPS:
            if spec.weight_bits is not None:
                raise self.err(f"{at}.weight_bits", f"op {op.value} has no weights")
            wbits = None
        if spec.weight_code_bits and not spec.shared_weights:
            raise self.err(f"{at}.weight_code_bits", CODE_BITS_UNSHARED)
        layer = replace(
            layer, weight_precision=parse_precision(wbits, self.file, f"{at}.weight_bits"),
            act_precision=parse_precision(abits, self.file, f"{at}.act_bits"),
            weight_sparsity=float(spec.weight_sparsity), act_sparsity=float(spec.act_sparsity),
            sparsity_pattern=spec.sparsity_pattern, shared_weights=spec.shared_weights,
            weight_code_bits=float(spec.weight_code_bits))
        for key in ("weight_sparsity", "shared_weights"):
            if getattr(layer, key) and op not in WEIGHTED_OPS:
                raise self.err(f"{at}.{key}", f"op {op.value} has no weights")
        self.layers.append(layer)
        self.by_name[layer.name] = layer
        return layer

    def producer_shapes(self, inputs: tuple[str, ...]) -> list[Shape]:
        return [self.by_name[s].out_shape for s in inputs]

    def input_shape(self, at: str, spec: ShapedEntry, inputs: tuple[str, ...]) -> Shape:
        """The single input shape of a shape-following op."""
        if inputs:
            shape = self.by_name[inputs[0]].out_shape
            if spec.channels is not None and (len(shape) < 2 or shape[1] != spec.channels):
                raise self.err(f"{at}.channels", f"{spec.channels} does not match producer "
                               f"{inputs[0]!r} output shape {list(shape)}")
            if spec.in_size is not None and (len(shape) != 4
                                             or pair(spec.in_size) != shape[2:]):
                raise self.err(f"{at}.in_size", f"{spec.in_size} does not match producer "
                               f"{inputs[0]!r} output shape {list(shape)}")
            return shape
        if spec.channels is None:
            raise self.err(f"{at}.channels", "required when the layer reads a fresh model input")
        if spec.in_size is None:
            return (self.batch, spec.channels)
        return (self.batch, spec.channels, *pair(spec.in_size))

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
                want = pair(in_size)[-(rank - 2):] if rank == 3 else pair(in_size)
                if tuple(want) != tuple(shape[2:]):
                    raise self.err(f"{at}.in_size", f"{in_size} does not match producer "
                                   f"{src.name!r} output size {list(shape[2:])}")
            return shape
        if in_size is None:
            raise self.err(f"{at}.in_size", "required when the layer reads a fresh model input")
        size = pair(in_size)
        return (self.batch, channels, size[-1]) if rank == 3 else (self.batch, channels, *size)


def _build_conv(r: _ListReader, at: str, op: OpKind, spec: Any,
                inputs: tuple[str, ...]) -> Layer:
    assert isinstance(spec, ConvEntry)
    is1d = op == OpKind.CONV1D
    rank = 3 if is1d else 4
    x = r.spatial_input(at, spec.in_channels, spec.in_size, inputs, "in_channels", rank)
    g = spec.groups
    if spec.in_channels % g or spec.out_channels % g:
        raise r.err(f"{at}.groups", f"{g} does not divide in_channels {spec.in_channels} "
                    f"and out_channels {spec.out_channels}")
    k, s, p, d = (pair(spec.kernel), pair(spec.stride), pair(spec.padding),
                  pair(spec.dilation))
    if is1d:
        k, s, p, d = (1, k[1]), (1, s[1]), (0, p[1]), (1, d[1])
    ih, iw = (1, x[2]) if is1d else (x[2], x[3])
    if isinstance(spec, ConvTransposeEntry):
        op_ = pair(spec.output_padding)
        oh = (ih - 1) * s[0] - 2 * p[0] + d[0] * (k[0] - 1) + op_[0] + 1
        ow = (iw - 1) * s[1] - 2 * p[1] + d[1] * (k[1] - 1) + op_[1] + 1
        wshape: Shape = (spec.in_channels, spec.out_channels // g, *k)
    else:
        oh, ow = conv_out(ih, k[0], s[0], p[0], d[0]), conv_out(iw, k[1], s[1], p[1], d[1])
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
    assert isinstance(spec, LinearEntry)
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
    assert isinstance(spec, MatmulEntry)
    lead: Shape = (r.batch,) if spec.heads is None else (r.batch, spec.heads)
    a, b = (*lead, spec.m, spec.k), (*lead, spec.k, spec.n)
    return Layer(name=spec.name, op=op, inputs=inputs, in_shapes=(a, b),
                 out_shape=(*lead, spec.m, spec.n))


def _build_pool(r: _ListReader, at: str, op: OpKind, spec: Any,
                inputs: tuple[str, ...]) -> Layer:
    assert isinstance(spec, PoolEntry)
    x = r.input_shape(at, spec, inputs)
    if len(x) != 4:
        raise r.err(f"{at}.in_size", f"pooling needs a 4-D feature map, got {list(x)}")
    k = pair(spec.kernel) if spec.kernel is not None else (x[2], x[3])
    s = pair(spec.stride) if spec.stride is not None else k
    p = pair(spec.padding)
    oh, ow = conv_out(x[2], k[0], s[0], p[0], 1), conv_out(x[3], k[1], s[1], p[1], 1)
    if oh <= 0 or ow <= 0:
        raise r.err(f"{at}.kernel", f"kernel {list(k)} does not fit input {x[2]}x{x[3]}")
    return Layer(name=spec.name, op=op, inputs=inputs, in_shapes=(x,),
                 out_shape=(x[0], x[1], oh, ow), kernel=k, stride=s, padding=p,
                 variant=spec.variant)


def _build_elementwise(r: _ListReader, at: str, op: OpKind, spec: Any,
                       inputs: tuple[str, ...]) -> Layer:
    assert isinstance(spec, ShapedEntry)
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
    assert isinstance(spec, ShapedEntry)
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
    assert isinstance(spec, ShapedEntry)
    x = r.input_shape(at, spec, inputs)
    variant = getattr(spec, "variant", "")
    weight_shape: Shape = ()
    if op in (OpKind.BATCHNORM, OpKind.LAYERNORM) and len(x) > 1:
        weight_shape = (x[-1] if op == OpKind.LAYERNORM else x[1],)
    if isinstance(spec, UpsampleEntry):
        if len(x) != 4:
            raise r.err(f"{at}.in_size", f"upsample needs a 4-D feature map, got {list(x)}")
        out: Shape = (x[0], x[1], x[2] * spec.scale, x[3] * spec.scale)
    else:
        out = x
    return Layer(name=spec.name, op=op, inputs=inputs, in_shapes=(x,), out_shape=out,
                 variant=variant, weight_shape=weight_shape, has_bias=bool(weight_shape))


def _build_embedding(r: _ListReader, at: str, op: OpKind, spec: Any,
                     inputs: tuple[str, ...]) -> Layer:
    assert isinstance(spec, EmbeddingEntry)
    if inputs:
        raise r.err(f"{at}.inputs", "an embedding reads token ids, a model input: inputs: []")
    return Layer(name=spec.name, op=op, inputs=(), in_shapes=((r.batch, spec.tokens),),
                 out_shape=(r.batch, spec.tokens, spec.embedding_dim),
                 weight_shape=(spec.num_embeddings, spec.embedding_dim))


_Builder = Callable[[_ListReader, str, OpKind, Any, tuple[str, ...]], Layer]
_BUILDERS: dict[OpKind, _Builder] = {
    OpKind.CONV2D: _build_conv, OpKind.ADDER_CONV2D: _build_conv, OpKind.CONV1D: _build_conv,
    OpKind.CONV_TRANSPOSE2D: _build_conv, OpKind.LINEAR: _build_linear,
    OpKind.MATMUL: _build_matmul, OpKind.POOL2D: _build_pool, OpKind.ADD: _build_elementwise,
    OpKind.MUL: _build_elementwise, OpKind.CONCAT: _build_concat, OpKind.RELU: _build_unary,
    OpKind.ACTIVATION: _build_unary, OpKind.SOFTMAX: _build_unary,
    OpKind.LAYERNORM: _build_unary, OpKind.BATCHNORM: _build_unary,
    OpKind.UPSAMPLE: _build_unary,
    OpKind.EMBEDDING: _build_embedding,
}


def _read_graph_layer(raw: Any, i: int, file: str | None) -> Layer:
    at = f"layers[{i}]"
    if not isinstance(raw, dict):
        raise WorkloadError(f"expected a mapping, got {raw!r}", file=file, field=at)
    try:
        g = GraphLayerEntry.model_validate(raw)
    except ValidationError as exc:
        raise pydantic_error(exc, file, at, GraphLayerEntry) from None
    op = op_kind(g.op, file, f"{at}.op")
    w_prec = parse_precision(g.weight_precision, file, f"{at}.weight_precision")
    a_prec = parse_precision(g.act_precision, file, f"{at}.act_precision")
    for pos in g.fresh_inputs:
        if not len(g.inputs) <= pos < len(g.in_shapes):
            raise WorkloadError(f"{pos} is not a position of in_shapes past the named inputs",
                                file=file, field=f"{at}.fresh_inputs")
    if g.weight_code_bits and not g.shared_weights:
        raise WorkloadError(CODE_BITS_UNSHARED, file=file, field=f"{at}.weight_code_bits")
    layer = Layer(name=g.name, op=op, inputs=tuple(g.inputs), fresh_inputs=tuple(g.fresh_inputs),
                  in_shapes=tuple(tuple(s) for s in g.in_shapes), out_shape=tuple(g.out_shape),
                  kernel=pair(g.kernel), stride=pair(g.stride), padding=pair(g.padding),
                  dilation=pair(g.dilation), groups=g.groups,
                  weight_shape=tuple(g.weight_shape), has_bias=g.has_bias, variant=g.variant,
                  weight_precision=w_prec, act_precision=a_prec,
                  weight_sparsity=float(g.weight_sparsity), act_sparsity=float(g.act_sparsity),
                  sparsity_pattern=g.sparsity_pattern, shared_weights=g.shared_weights,
                  weight_code_bits=float(g.weight_code_bits),
                  extra=tuple((k, v) for k, v in g.extra))
    check_layer(layer, file, at)
    return layer


# ---- entry points ---------------------------------------------------------------------------
def read_yaml_mapping(path: Path) -> dict[str, Any]:
    """The parsed mapping of a workload YAML file; anything else is a WorkloadError naming it."""
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


def parse_workload(data: dict[str, Any], file: str | None = None,
                   default_name: str = "workload") -> ParsedWorkload:
    """The name, batch and layers of a parsed workload YAML (either form), all checked."""
    try:
        head = Header.model_validate(data)
    except ValidationError as exc:
        raise pydantic_error(exc, file, "", Header) from None
    name = head.name or default_name
    if head.form == "graph":
        if head.defaults != Defaults():
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
        return ParsedWorkload(name, head.batch, tuple(layers))
    for key in ("weight_bits", "act_bits"):
        parse_precision(getattr(head.defaults, key), file, f"defaults.{key}")
    reader = _ListReader(file, head.batch, head.defaults)
    for i, raw in enumerate(head.layers):
        reader.read(i, raw)
    return ParsedWorkload(name, head.batch, tuple(reader.layers))
