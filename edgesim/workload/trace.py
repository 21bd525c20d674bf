"""torch.fx tracing of a torch module into the workload IR, with an explicit converter registry."""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import fx, nn
from torch.fx.passes.shape_prop import ShapeProp, TensorMetadata

from edgesim.errors import EdgesimError, WorkloadError
from edgesim.workload.ir import (
    Layer,
    OpKind,
    Shape,
    Workload,
    fold_batchnorm,
    measure_sparsity,
    precision_bits,
)

REGISTER_HINT = ("register one with edgesim.workload.trace.register_converter(target, fn), "
                 "where fn(ctx: ConvertContext) returns a list of Layers (or None for a "
                 "zero-cost view)")


@dataclass(frozen=True)
class ConvertContext:
    """What a converter sees of one fx node: its module, tensor inputs, shapes and producers."""

    node: fx.Node
    name: str  # layer name to use (module path for modules, node name otherwise)
    module: Any  # the nn.Module of a call_module node, else None
    in_shapes: tuple[Shape, ...]  # shapes of the tensor-valued arguments, in argument order
    producers: tuple[str | None, ...]  # producing layer of each tensor argument (None: input)
    out_shape: Shape  # shape of the (first) output tensor
    tensor_args: tuple[fx.Node, ...] = field(default=(), repr=False)
    params: dict[str, torch.Tensor] = field(default_factory=dict, repr=False)

    @property
    def inputs(self) -> tuple[str, ...]:
        """Distinct producing layers, in order (model inputs and constants are left out)."""
        return _unique(p for p in self.producers if p is not None)

    def arg(self, index: int, key: str, default: Any = None) -> Any:
        """A literal argument of the call, by position or keyword."""
        if index < len(self.node.args):
            return self.node.args[index]
        return self.node.kwargs.get(key, default)

    def layer(self, op: OpKind, **fields: Any) -> Layer:
        """A layer named after this node with its inputs and shapes filled in."""
        base: dict[str, Any] = {"name": self.name, "op": op, "inputs": self.inputs,
                                "in_shapes": self.in_shapes, "out_shape": self.out_shape}
        base.update(fields)
        return Layer(**base)


Converter = Callable[[ConvertContext], "list[Layer] | None"]
ConverterKey = type | Callable[..., Any] | str

_CONVERTERS: dict[Any, Converter] = {}
_LAZY_CLASSES: dict[tuple[str, str], Converter] = {}


def register_converter(target: ConverterKey, fn: Converter) -> None:
    """Register ``fn`` for a module class (and its subclasses), a function, or a method name.

    The converter gets a :class:`ConvertContext` and returns the IR layers the op becomes
    (their inputs are usually ``ctx.inputs``) or ``None`` for a zero-cost view whose consumers
    read straight from its producer. A module class registered here is a leaf of the trace.
    """
    _CONVERTERS[target] = fn


def _module_converter(cls: type) -> Converter | None:
    _resolve_lazy_classes()
    for base in cls.__mro__:
        if base in _CONVERTERS:
            return _CONVERTERS[base]
    return None


def _resolve_lazy_classes() -> None:
    """Register classes that live in modules written elsewhere (AdderConv2d) once importable."""
    import importlib

    for (mod_name, cls_name), fn in list(_LAZY_CLASSES.items()):
        try:
            cls = getattr(importlib.import_module(mod_name), cls_name)
        except (ImportError, AttributeError):
            continue
        _CONVERTERS.setdefault(cls, fn)
        del _LAZY_CLASSES[(mod_name, cls_name)]


class _LeafTracer(fx.Tracer):
    """Every module with a registered converter (subclasses included) is a leaf."""

    def is_leaf_module(self, m: nn.Module, module_qualified_name: str) -> bool:
        return _module_converter(type(m)) is not None


# ---- helpers --------------------------------------------------------------------------------
def _unique(items: Any) -> tuple[str, ...]:
    out: list[str] = []
    for item in items:
        if item not in out:
            out.append(item)
    return tuple(out)


def _pair(v: Any) -> tuple[int, int]:
    if isinstance(v, int):
        return (v, v)
    t = tuple(int(x) for x in v)
    return (t[0], t[0]) if len(t) == 1 else (t[0], t[1])


def _first_meta(meta: Any) -> TensorMetadata | None:
    if isinstance(meta, TensorMetadata):
        return meta
    if isinstance(meta, (tuple, list)):
        for item in meta:
            found = _first_meta(item)
            if found is not None:
                return found
    if isinstance(meta, dict):
        for item in meta.values():
            found = _first_meta(item)
            if found is not None:
                return found
    return None


def _is_tensor_node(n: Any) -> bool:
    return isinstance(n, fx.Node) and _first_meta(n.meta.get("tensor_meta")) is not None


def _shape(n: fx.Node) -> Shape:
    meta = _first_meta(n.meta.get("tensor_meta"))
    assert meta is not None
    return tuple(int(d) for d in meta.shape)


def _tensor_args(node: fx.Node) -> list[fx.Node]:
    found: list[fx.Node] = []

    def visit(a: Any) -> Any:
        if _is_tensor_node(a):
            found.append(a)
        return a

    fx.node.map_aggregate(node.args, visit)
    fx.node.map_aggregate(node.kwargs, visit)
    return found


def _target_name(node: fx.Node, module: nn.Module | None) -> str:
    if node.op == "call_module" and module is not None:
        cls = type(module)
        return f"module {node.target!r} of class {cls.__module__}.{cls.__qualname__}"
    if node.op == "call_method":
        return f"method Tensor.{node.target}"
    target = node.target
    mod = getattr(target, "__module__", None) or ""
    qual = getattr(target, "__qualname__", None) or getattr(target, "__name__", str(target))
    return f"function {mod + '.' if mod else ''}{qual}"


# ---- compression read-off -------------------------------------------------------------------
def _precision(module: nn.Module, attr: str, name: str) -> str | None:
    value = getattr(module, attr, None)
    if value is None:
        return None
    if not isinstance(value, str):
        raise WorkloadError(f"expected a precision name such as 'int8', got {value!r}",
                            field=f"{name}.{attr}")
    try:
        precision_bits(value)
    except WorkloadError as exc:
        raise WorkloadError(exc.detail, field=f"{name}.{attr}") from None
    return value


def _compression_fields(ctx: ConvertContext, weight: torch.Tensor) -> dict[str, Any]:
    m = ctx.module
    assert m is not None
    sparsity, pattern = measure_sparsity(weight.detach().cpu().float().numpy())
    if sparsity >= 1.0:
        raise WorkloadError("every weight is zero; remove the layer instead of zeroing it",
                            field=f"{ctx.name}.weight")
    act_sparsity = float(getattr(m, "act_sparsity", 0.0) or 0.0)
    if not act_sparsity and ctx.tensor_args:  # measured on the example inputs, if asked for
        act_sparsity = min(0.999, float(ctx.tensor_args[0].meta.get(ZERO_FRACTION, 0.0)))
    if not 0.0 <= act_sparsity < 1.0:
        raise WorkloadError(f"expected a fraction in [0, 1), got {act_sparsity}",
                            field=f"{ctx.name}.act_sparsity")
    return {"weight_precision": _precision(m, "weight_precision", ctx.name),
            "act_precision": _precision(m, "act_precision", ctx.name),
            "weight_sparsity": sparsity, "sparsity_pattern": pattern,
            "act_sparsity": act_sparsity}


def _has_bias(m: nn.Module) -> bool:
    return isinstance(getattr(m, "bias", None), torch.Tensor)


# ---- converters -----------------------------------------------------------------------------
def _view(ctx: ConvertContext) -> None:
    return None


def _conv_padding(m: Any, kernel: tuple[int, int], dilation: tuple[int, int],
                  is1d: bool) -> tuple[int, int]:
    pad = m.padding
    if isinstance(pad, str):  # "same" / "valid"
        if pad == "valid":
            return (0, 0)
        return (dilation[0] * (kernel[0] - 1) // 2, dilation[1] * (kernel[1] - 1) // 2)
    return (0, int(pad[0])) if is1d else _pair(pad)


def _convert_conv(ctx: ConvertContext, op: OpKind | None = None) -> list[Layer]:
    m = ctx.module
    assert m is not None
    weight = m.weight
    is1d = weight.dim() == 3
    if is1d:
        kernel = (1, int(weight.shape[2]))
        stride = (1, int(_pair(m.stride)[0]))
        dilation = (1, int(_pair(m.dilation)[0]))
        wshape: Shape = (int(weight.shape[0]), int(weight.shape[1]), 1, int(weight.shape[2]))
    else:
        kernel = (int(weight.shape[2]), int(weight.shape[3]))
        stride, dilation = _pair(m.stride), _pair(m.dilation)
        wshape = tuple(int(d) for d in weight.shape)
    padding = _conv_padding(m, kernel, dilation, is1d)
    if op is None:
        op = OpKind.CONV1D if is1d else OpKind.CONV2D
    return [ctx.layer(op, in_shapes=ctx.in_shapes[:1], kernel=kernel, stride=stride,
                      padding=padding, dilation=dilation, groups=int(m.groups),
                      weight_shape=wshape, has_bias=_has_bias(m),
                      **_compression_fields(ctx, weight))]


def _convert_adder(ctx: ConvertContext) -> list[Layer]:
    return _convert_conv(ctx, OpKind.ADDER_CONV2D)


def _convert_conv_transpose(ctx: ConvertContext) -> list[Layer]:
    m = ctx.module
    assert isinstance(m, nn.ConvTranspose2d)
    return [ctx.layer(OpKind.CONV_TRANSPOSE2D, in_shapes=ctx.in_shapes[:1],
                      kernel=_pair(m.kernel_size), stride=_pair(m.stride),
                      padding=_pair(m.padding), dilation=_pair(m.dilation), groups=int(m.groups),
                      weight_shape=tuple(int(d) for d in m.weight.shape), has_bias=_has_bias(m),
                      **_compression_fields(ctx, m.weight))]


def _convert_linear(ctx: ConvertContext) -> list[Layer]:
    m = ctx.module
    assert m is not None
    return [ctx.layer(OpKind.LINEAR, in_shapes=ctx.in_shapes[:1],
                      weight_shape=tuple(int(d) for d in m.weight.shape), has_bias=_has_bias(m),
                      **_compression_fields(ctx, m.weight))]


def _norm_params(m: nn.Module) -> dict[str, Any]:
    weight = getattr(m, "weight", None)
    if isinstance(weight, torch.Tensor):
        return {"weight_shape": (int(weight.numel()),), "has_bias": _has_bias(m)}
    return {}


def _convert_batchnorm(ctx: ConvertContext) -> list[Layer]:
    assert ctx.module is not None
    return [ctx.layer(OpKind.BATCHNORM, in_shapes=ctx.in_shapes[:1], **_norm_params(ctx.module))]


def _convert_layernorm(ctx: ConvertContext) -> list[Layer]:
    variant = "" if ctx.module is None else type(ctx.module).__name__.lower()
    fields = _norm_params(ctx.module) if ctx.module is not None else {}
    if variant == "layernorm":
        variant = ""
    return [ctx.layer(OpKind.LAYERNORM, in_shapes=ctx.in_shapes[:1], variant=variant, **fields)]


def _relu(variant: str = "") -> Converter:
    def convert(ctx: ConvertContext) -> list[Layer]:
        return [ctx.layer(OpKind.RELU, in_shapes=ctx.in_shapes[:1], variant=variant)]
    return convert


def _activation(variant: str) -> Converter:
    def convert(ctx: ConvertContext) -> list[Layer]:
        return [ctx.layer(OpKind.ACTIVATION, in_shapes=ctx.in_shapes[:1], variant=variant)]
    return convert


def _convert_softmax(ctx: ConvertContext) -> list[Layer]:
    return [ctx.layer(OpKind.SOFTMAX, in_shapes=ctx.in_shapes[:1])]


def _elementwise(op: OpKind) -> Converter:
    def convert(ctx: ConvertContext) -> list[Layer]:
        return [ctx.layer(op)]
    return convert


def _convert_cat(ctx: ConvertContext) -> list[Layer]:
    return [ctx.layer(OpKind.CONCAT)]


def _adaptive(in_size: int, out_size: int) -> tuple[int, int]:
    """(kernel, stride) of the plain pooling equivalent to an adaptive one."""
    stride = max(1, in_size // out_size)
    return in_size - (out_size - 1) * stride, stride


def _pool_layer(ctx: ConvertContext, variant: str, kernel: tuple[int, int],
                stride: tuple[int, int], padding: tuple[int, int]) -> list[Layer]:
    return [ctx.layer(OpKind.POOL2D, in_shapes=ctx.in_shapes[:1], kernel=kernel, stride=stride,
                      padding=padding, variant=variant)]


def _spatial(shape: Shape) -> tuple[int, int]:
    return (shape[-2], shape[-1]) if len(shape) >= 4 else (1, shape[-1])


def _one(v: Any) -> tuple[int, int]:
    return (1, int(v if isinstance(v, int) else v[0]))


def _pool(variant: str, dims: int, adaptive: bool) -> Converter:
    def convert(ctx: ConvertContext) -> list[Layer]:
        m = ctx.module
        if adaptive:
            (ih, iw), (oh, ow) = _spatial(ctx.in_shapes[0]), _spatial(ctx.out_shape)
            (kh, sh), (kw, sw) = _adaptive(ih, oh), _adaptive(iw, ow)
            return _pool_layer(ctx, variant, (kh, kw), (sh, sw), (0, 0))
        if m is not None:
            k, s, p = m.kernel_size, m.stride, m.padding
        else:
            k, s, p = ctx.arg(1, "kernel_size"), ctx.arg(2, "stride"), ctx.arg(3, "padding", 0)
        if s is None or s == [] or s == ():
            s = k
        if dims == 1:
            return _pool_layer(ctx, variant, _one(k), _one(s), (0, _one(p)[1]))
        return _pool_layer(ctx, variant, _pair(k), _pair(s), _pair(p))
    return convert


def _convert_mean(ctx: ConvertContext) -> list[Layer]:
    """A mean over some dims: average pooling whose window covers the reduced elements."""
    window = math.prod(ctx.in_shapes[0]) // max(1, math.prod(ctx.out_shape))
    shape = ctx.in_shapes[0]
    if len(shape) == 4 and window == shape[2] * shape[3]:
        kernel = (shape[2], shape[3])
    else:
        kernel = (1, window)
    return _pool_layer(ctx, "avg", kernel, kernel, (0, 0))


def _convert_upsample(ctx: ConvertContext) -> list[Layer]:
    m = ctx.module
    mode = getattr(m, "mode", None) if m is not None else ctx.arg(3, "mode", "nearest")
    return [ctx.layer(OpKind.UPSAMPLE, in_shapes=ctx.in_shapes[:1], variant=str(mode or "nearest"))]


def _convert_matmul(ctx: ConvertContext) -> list[Layer]:
    a, b = ctx.in_shapes[0], ctx.in_shapes[1]
    a2 = a if len(a) >= 2 else (1, *a)
    b2 = b if len(b) >= 2 else (*b, 1)
    out = ctx.out_shape
    if len(out) < 2:
        out = (a2[-2], b2[-1]) if len(a) >= 2 or len(b) >= 2 else (1, 1)
    return [ctx.layer(OpKind.MATMUL, in_shapes=(a2, b2), out_shape=out)]


def _attention_layers(ctx: ConvertContext, q: Shape, k: Shape, v: Shape,
                      q_src: tuple[str, ...], k_src: tuple[str, ...],
                      v_src: tuple[str, ...], prefix: str) -> list[Layer]:
    """QK^T -> softmax -> PV as three layers (the decomposition of attention)."""
    batch = q[:-2]
    scores: Shape = (*batch, q[-2], k[-2])
    out: Shape = (*batch, q[-2], v[-1])
    kt: Shape = (*k[:-2], k[-1], k[-2])
    qk = Layer(name=f"{prefix}.qk", op=OpKind.MATMUL, inputs=_unique((*q_src, *k_src)),
               in_shapes=(q, kt), out_shape=scores)
    sm = Layer(name=f"{prefix}.softmax", op=OpKind.SOFTMAX, inputs=(qk.name,),
               in_shapes=(scores,), out_shape=scores)
    pv = Layer(name=f"{prefix}.pv", op=OpKind.MATMUL, inputs=_unique((sm.name, *v_src)),
               in_shapes=(scores, v), out_shape=out)
    return [qk, sm, pv]


def _convert_sdpa(ctx: ConvertContext) -> list[Layer]:
    q, k, v = ctx.in_shapes[:3]
    src = [(p,) if p is not None else () for p in ctx.producers[:3]]
    return _attention_layers(ctx, q, k, v, src[0], src[1], src[2], ctx.name)


def _convert_mha(ctx: ConvertContext) -> list[Layer]:
    """nn.MultiheadAttention: input projections, per-head attention, output projection."""
    m = ctx.module
    assert isinstance(m, nn.MultiheadAttention)
    e, h = m.embed_dim, m.num_heads
    d = e // h
    args = ctx.tensor_args[:3]
    shapes = ctx.in_shapes[:3]
    srcs = [(p,) if p is not None else () for p in ctx.producers[:3]]
    batch_first = bool(m.batch_first)
    name = ctx.name
    layers: list[Layer] = []
    has_b = m.in_proj_bias is not None

    def seq_batch(s: Shape) -> tuple[int, int]:
        if len(s) == 2:
            return s[0], 1
        return (s[1], s[0]) if batch_first else (s[0], s[1])

    proj_srcs: list[tuple[str, ...]] = []
    if len(args) == 3 and args[0] is args[1] is args[2] and m.in_proj_weight is not None:
        qkv_shape = (*shapes[0][:-1], 3 * e)
        layers.append(Layer(name=f"{name}.in_proj", op=OpKind.LINEAR, inputs=srcs[0],
                            in_shapes=(shapes[0],), out_shape=qkv_shape, weight_shape=(3 * e, e),
                            has_bias=has_b))
        proj_srcs = [(f"{name}.in_proj",)] * 3
    else:
        in_dims = (e, m.kdim, m.vdim)
        for i, tag in enumerate(("q_proj", "k_proj", "v_proj")):
            layers.append(Layer(name=f"{name}.{tag}", op=OpKind.LINEAR, inputs=srcs[i],
                                in_shapes=(shapes[i],), out_shape=(*shapes[i][:-1], e),
                                weight_shape=(e, in_dims[i]), has_bias=has_b))
            proj_srcs.append((f"{name}.{tag}",))
    (lq, n), (ls, _) = seq_batch(shapes[0]), seq_batch(shapes[1])
    q, kk, v = (n, h, lq, d), (n, h, ls, d), (n, h, ls, d)
    layers += _attention_layers(ctx, q, kk, v, proj_srcs[0], proj_srcs[1], proj_srcs[2],
                              name)
    layers.append(Layer(name=f"{name}.out_proj", op=OpKind.LINEAR, inputs=(f"{name}.pv",),
                        in_shapes=((*shapes[0][:-1], e),), out_shape=(*shapes[0][:-1], e),
                        weight_shape=(e, e), has_bias=m.out_proj.bias is not None))
    return layers


def _install_defaults() -> None:
    views_fn: list[Any] = [torch.flatten, torch.reshape, torch.permute, torch.transpose, torch.t,
                           torch.chunk, torch.split, operator.getitem, torch.squeeze,
                           torch.unsqueeze, F.dropout, F.dropout1d, F.dropout2d, F.dropout3d,
                           torch.narrow, torch.select, torch.unbind, torch.movedim,
                           torch.swapaxes, torch.unflatten, getattr, F.pad, torch.clone,
                           torch.detach]
    views_method = ["flatten", "reshape", "view", "permute", "transpose", "t", "chunk", "split",
                    "contiguous", "size", "squeeze", "unsqueeze", "expand", "expand_as",
                    "view_as", "reshape_as", "clone", "detach", "to", "type", "float", "half",
                    "unflatten", "unbind", "narrow", "select", "movedim", "swapaxes",
                    "__getitem__"]
    views_mod: list[type] = [nn.Flatten, nn.Unflatten, nn.Dropout, nn.Dropout1d, nn.Dropout2d,
                             nn.Dropout3d, nn.AlphaDropout, nn.Identity, nn.ReflectionPad1d,
                             nn.ReflectionPad2d, nn.ReplicationPad1d, nn.ReplicationPad2d,
                             nn.ZeroPad2d, nn.ConstantPad1d, nn.ConstantPad2d]
    for target in [*views_fn, *views_method, *views_mod]:
        register_converter(target, _view)
    for conv_cls in (nn.Conv1d, nn.Conv2d):
        register_converter(conv_cls, _convert_conv)
    register_converter(nn.ConvTranspose2d, _convert_conv_transpose)
    register_converter(nn.Linear, _convert_linear)
    _LAZY_CLASSES[("edgesim.compress.addernet", "AdderConv2d")] = _convert_adder
    for bn_cls in (nn.BatchNorm1d, nn.BatchNorm2d):
        register_converter(bn_cls, _convert_batchnorm)
    for norm_cls in (nn.LayerNorm, nn.GroupNorm, nn.InstanceNorm1d, nn.InstanceNorm2d):
        register_converter(norm_cls, _convert_layernorm)
    register_converter(F.layer_norm, _convert_layernorm)
    for target in (nn.ReLU, F.relu, torch.relu, torch.relu_, "relu", "relu_"):
        register_converter(target, _relu())
    for target in (nn.ReLU6, F.relu6):
        register_converter(target, _relu("relu6"))
    acts: dict[str, list[Any]] = {
        "gelu": [nn.GELU, F.gelu], "silu": [nn.SiLU, F.silu],
        "sigmoid": [nn.Sigmoid, torch.sigmoid, F.sigmoid, "sigmoid", "sigmoid_"],
        "hardswish": [nn.Hardswish, F.hardswish], "hardsigmoid": [nn.Hardsigmoid, F.hardsigmoid],
        "tanh": [nn.Tanh, torch.tanh, F.tanh, "tanh", "tanh_"],
        "leaky_relu": [nn.LeakyReLU, F.leaky_relu], "elu": [nn.ELU, F.elu],
        "hardtanh": [nn.Hardtanh, F.hardtanh], "mish": [nn.Mish, F.mish],
        "softplus": [nn.Softplus, F.softplus], "prelu": [nn.PReLU],
        "lrn": [nn.LocalResponseNorm, F.local_response_norm],  # original AlexNet
    }
    for variant, targets in acts.items():
        for target in targets:
            register_converter(target, _activation(variant))
    for target in (nn.Softmax, nn.LogSoftmax, F.softmax, F.log_softmax, torch.softmax,
                   "softmax", "log_softmax"):
        register_converter(target, _convert_softmax)
    for target in (operator.add, operator.iadd, operator.sub, operator.isub, torch.add,
                   torch.sub, "add", "add_", "sub", "sub_"):
        register_converter(target, _elementwise(OpKind.ADD))
    for target in (operator.mul, operator.imul, operator.truediv, operator.itruediv, torch.mul,
                   torch.div, "mul", "mul_", "div", "div_"):
        register_converter(target, _elementwise(OpKind.MUL))
    for target in (torch.cat, torch.concat, torch.concatenate, torch.stack):
        register_converter(target, _convert_cat)
    pools: list[tuple[list[Any], str, int, bool]] = [
        ([nn.MaxPool2d, F.max_pool2d], "max", 2, False),
        ([nn.AvgPool2d, F.avg_pool2d], "avg", 2, False),
        ([nn.MaxPool1d, F.max_pool1d], "max", 1, False),
        ([nn.AvgPool1d, F.avg_pool1d], "avg", 1, False),
        ([nn.AdaptiveAvgPool2d, F.adaptive_avg_pool2d, nn.AdaptiveAvgPool1d,
          F.adaptive_avg_pool1d], "avg", 2, True),
        ([nn.AdaptiveMaxPool2d, F.adaptive_max_pool2d, nn.AdaptiveMaxPool1d,
          F.adaptive_max_pool1d], "max", 2, True),
    ]
    for targets, variant, dims, adaptive in pools:
        for target in targets:
            register_converter(target, _pool(variant, dims, adaptive))
    for target in (torch.mean, "mean"):
        register_converter(target, _convert_mean)
    for target in (nn.Upsample, nn.UpsamplingNearest2d, nn.UpsamplingBilinear2d, F.interpolate):
        register_converter(target, _convert_upsample)
    for target in (torch.matmul, operator.matmul, torch.bmm, torch.mm, "matmul", "bmm", "mm"):
        register_converter(target, _convert_matmul)
    register_converter(F.scaled_dot_product_attention, _convert_sdpa)
    register_converter(nn.MultiheadAttention, _convert_mha)


_install_defaults()


# ---- the trace ------------------------------------------------------------------------------
def _as_tuple(example_inputs: Any) -> tuple[Any, ...]:
    if isinstance(example_inputs, torch.Tensor):
        return (example_inputs,)
    if isinstance(example_inputs, (tuple, list)):
        return tuple(example_inputs)
    raise WorkloadError(f"example_inputs must be a tensor or a tuple of tensors, "
                        f"got {type(example_inputs).__name__}", field="example_inputs")


def _symbolic_trace(module: nn.Module, name: str) -> fx.GraphModule:
    tracer = _LeafTracer()
    try:
        graph = tracer.trace(module)
    except EdgesimError:
        raise
    except Exception as exc:  # torch.fx raises many kinds (TraceError, TypeError...)
        raise WorkloadError(
            f"torch.fx cannot trace model {name!r}: {type(exc).__name__}: {exc}. Make the "
            "offending submodule a leaf by registering a converter for its class with "
            "edgesim.workload.trace.register_converter(cls, fn)") from None
    return fx.GraphModule(tracer.root, graph, name)


ZERO_FRACTION = "edgesim_zero_fraction"  # node.meta key: fraction of exact zeros in the output


class _ZeroCountingShapeProp(ShapeProp):
    """ShapeProp that also records the fraction of exact zeros of each tensor a node produces."""

    def run_node(self, n: fx.Node) -> Any:
        result = super().run_node(n)
        if isinstance(result, torch.Tensor) and result.numel() and not result.is_complex():
            n.meta[ZERO_FRACTION] = float((result == 0).sum()) / result.numel()
        return result


def _propagate(gm: fx.GraphModule, module: nn.Module, inputs: tuple[Any, ...], name: str,
               count_zeros: bool = False) -> None:
    modes = [(m, m.training) for m in module.modules()]
    prop = _ZeroCountingShapeProp if count_zeros else ShapeProp
    try:
        gm.eval()
        with torch.no_grad():
            prop(gm).propagate(*inputs)
    except EdgesimError:
        raise
    except Exception as exc:
        raise WorkloadError(f"running model {name!r} on its example inputs failed: "
                            f"{type(exc).__name__}: {exc}", field="example_inputs") from None
    finally:
        for m, training in modes:
            m.training = training


def _check_sizes(layers: Sequence[Layer], name: str) -> None:
    for lay in layers:
        for shape in (*lay.in_shapes, lay.out_shape, lay.weight_shape):
            if any(d <= 0 for d in shape):
                raise WorkloadError(f"zero-sized tensor {shape} in model {name!r}",
                                    field=f"{lay.name}")


class _LeafRoot(nn.Module):
    """Holds a lone leaf module (a bare ``nn.Linear``...) so that it is traced as a leaf."""

    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        self.child = type(module).__name__.lower()
        self.add_module(self.child, module)

    def forward(self, x: torch.Tensor) -> Any:
        return getattr(self, self.child)(x)


def trace(module: nn.Module, example_inputs: Any, name: str = "model", *,
          measure_act_sparsity: bool = False) -> Workload:
    """Trace ``module`` with torch.fx on ``example_inputs`` into a :class:`Workload`.

    Args:
        module: any ``torch.nn.Module`` that ``torch.fx`` can trace. It is not modified.
        example_inputs: a tensor or tuple of tensors; dimension 0 is the batch.
        name: the workload's name.
        measure_act_sparsity: record, for each conv/linear/adder layer, the fraction of exact
            zeros in its input as the example inputs produce it (``act_sparsity``), so that
            zero-gating, zero-skipping and run-length coding see real zeros. Use it with
            representative inputs and trained weights; a module's own ``act_sparsity`` wins.

    Raises:
        WorkloadError: the model cannot be traced, or an op has no converter.
    """
    if not isinstance(module, nn.Module):
        raise WorkloadError(f"expected a torch.nn.Module, got {type(module).__name__}",
                            field="module")
    inputs = _as_tuple(example_inputs)
    tensors = [t for t in inputs if isinstance(t, torch.Tensor)]
    if not tensors:
        raise WorkloadError("example_inputs holds no tensor", field="example_inputs")
    if any(t.numel() == 0 for t in tensors):
        raise WorkloadError("zero-sized example input", field="example_inputs")
    batch = int(tensors[0].shape[0]) if tensors[0].dim() else 1
    root = module
    if _module_converter(type(module)) is not None:  # a lone leaf: trace it as a child
        root = _LeafRoot(module)
    gm = _symbolic_trace(root, name)
    _propagate(gm, root, inputs, name, count_zeros=measure_act_sparsity)
    modules = dict(gm.named_modules())
    producer: dict[fx.Node, str | None] = {}
    layers: list[Layer] = []
    used: set[str] = set()
    outputs: set[str] = set()
    for node in gm.graph.nodes:
        if node.op in ("placeholder", "get_attr"):
            producer[node] = None
            continue
        if node.op == "output":
            for arg in _tensor_args(node):
                if producer.get(arg):
                    outputs.add(str(producer[arg]))
            continue
        if not _is_tensor_node(node):
            continue  # size arithmetic and other non-tensor values
        module_obj = modules.get(str(node.target)) if node.op == "call_module" else None
        if node.op == "call_module":
            assert module_obj is not None
            converter = _module_converter(type(module_obj))
        else:
            converter = _CONVERTERS.get(node.target)
        if converter is None:
            raise WorkloadError(f"no converter for {_target_name(node, module_obj)} (node "
                                f"{node.name!r}); {REGISTER_HINT}", field=node.name)
        targs = _tensor_args(node)
        lname = str(node.target) if node.op == "call_module" else node.name
        while lname in used:
            lname = f"{lname}_"
        ctx = ConvertContext(node=node, name=lname, module=module_obj,
                             in_shapes=tuple(_shape(a) for a in targs),
                             producers=tuple(producer.get(a) for a in targs),
                             out_shape=_shape(node), tensor_args=tuple(targs))
        new = converter(ctx)
        if new is None:  # zero-cost view: consumers connect to the real producer
            producer[node] = next((p for p in ctx.producers if p is not None), None)
            continue
        if not new:
            raise WorkloadError(f"converter for {_target_name(node, module_obj)} returned no "
                                "layers (return None for a zero-cost view)", field=node.name)
        for lay in new:
            if lay.name in used:
                raise WorkloadError(f"converter produced duplicate layer name {lay.name!r}",
                                    field=node.name)
            used.add(lay.name)
        layers.extend(new)
        producer[node] = new[-1].name
    if not layers:
        raise WorkloadError(f"model {name!r} has no countable layers (only views or nothing)",
                            field="module")
    layers = fold_batchnorm(layers, frozenset(outputs))
    _check_sizes(layers, name)
    return Workload(name=name, layers=tuple(layers), batch=batch, source="torch.fx")
