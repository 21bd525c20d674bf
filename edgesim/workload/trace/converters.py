"""The built-in converters of the torch.fx tracer: torch modules, functions and methods to IR layers."""

from __future__ import annotations

import math
import operator
from dataclasses import replace
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from edgesim.errors import WorkloadError
from edgesim.nn.adder import AdderConv2d
from edgesim.vocab import OpKind, Precision, pair, precision
from edgesim.workload.ingest import measure_sparsity
from edgesim.workload.layer import Layer, Shape
from edgesim.workload.lowering import conv3d_as_conv2d, einsum_matmul, pool3d_as_pool2d
from edgesim.workload.trace.registry import (
    ZERO_FRACTION,
    ConvertContext,
    Converter,
    register_builtin,
    unique,
)


# ---- compression read-off -------------------------------------------------------------------
def _precision(module: nn.Module, attr: str, name: str) -> Precision | None:
    value = getattr(module, attr, None)
    if value is None:
        return None
    if not isinstance(value, str):
        raise WorkloadError(f"expected a precision name such as 'int8', got {value!r}",
                            field=f"{name}.{attr}")
    try:
        return precision(value)
    except WorkloadError as exc:
        raise WorkloadError(exc.detail, field=f"{name}.{attr}") from None


def with_compression(layer: Layer, ctx: ConvertContext, weight: torch.Tensor) -> Layer:
    """``layer`` with what the module carries: measured zeros and N:M pattern of ``weight``, the
    module's ``weight_precision`` / ``act_precision`` and ``act_sparsity`` (else the zeros of
    its input measured on the example inputs, when the trace was asked to)."""
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
    shared, code_bits = _sharing(m, weight, ctx.name)
    return replace(layer, weight_precision=_precision(m, "weight_precision", ctx.name),
                   act_precision=_precision(m, "act_precision", ctx.name),
                   weight_sparsity=sparsity, sparsity_pattern=pattern, act_sparsity=act_sparsity,
                   shared_weights=shared, weight_code_bits=code_bits)


def _sharing(m: nn.Module, weight: torch.Tensor, name: str) -> tuple[int, float]:
    """The module's ``shared_weights`` and ``weight_code_bits`` (``compress.share_weights``
    sets them), checked against the weights: they must take exactly that many nonzero values
    (a mark made before pruning, fine-tuning or quantizing is stale, and refused)."""
    shared = getattr(m, "shared_weights", 0) or 0
    if not shared:
        return 0, 0.0
    w = weight.detach()
    distinct = int(torch.unique(w[w != 0]).numel())
    if isinstance(shared, int) and not isinstance(shared, bool) and distinct != shared:
        raise WorkloadError(f"the module says its weights share {shared} values but they take "
                            f"{distinct}: share them again (es.compress.share_weights) after "
                            "changing them", field=f"{name}.shared_weights")
    return shared, getattr(m, "weight_code_bits", 0.0) or 0.0


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
    return (0, int(pad[0])) if is1d else pair(pad)


def convert_conv(ctx: ConvertContext, op: OpKind | None = None) -> list[Layer]:
    """nn.Conv1d / nn.Conv2d (and look-alikes such as AdderConv2d, with ``op`` given)."""
    m = ctx.module
    assert m is not None
    weight = m.weight
    is1d = weight.dim() == 3
    if is1d:
        kernel = (1, int(weight.shape[2]))
        stride = (1, int(pair(m.stride)[0]))
        dilation = (1, int(pair(m.dilation)[0]))
        wshape: Shape = (int(weight.shape[0]), int(weight.shape[1]), 1, int(weight.shape[2]))
    else:
        kernel = (int(weight.shape[2]), int(weight.shape[3]))
        stride, dilation = pair(m.stride), pair(m.dilation)
        wshape = tuple(int(d) for d in weight.shape)
    padding = _conv_padding(m, kernel, dilation, is1d)
    if op is None:
        op = OpKind.CONV1D if is1d else OpKind.CONV2D
    layer = ctx.layer(op, in_shapes=ctx.in_shapes[:1], kernel=kernel, stride=stride,
                      padding=padding, dilation=dilation, groups=int(m.groups),
                      weight_shape=wshape, has_bias=_has_bias(m))
    return [with_compression(layer, ctx, weight)]


def _triple(v: Any) -> tuple[int, int, int]:
    t = tuple(int(x) for x in v) if isinstance(v, tuple | list) else (int(v),) * 3
    return (t[0], t[1], t[2])


def _convert_conv3d(ctx: ConvertContext) -> list[Layer]:
    """nn.Conv3d, lowered onto a 2-D convolution (``lowering.conv3d_as_conv2d``)."""
    m = ctx.module
    assert isinstance(m, nn.Conv3d)
    if isinstance(m.padding, str):
        raise WorkloadError("a Conv3d with padding='same' or 'valid' is not supported: give "
                            "numbers", field=ctx.name)
    fields = conv3d_as_conv2d(ctx.in_shapes[0], tuple(int(d) for d in m.weight.shape),
                              _triple(m.stride), _triple(m.padding), _triple(m.dilation))
    layer = ctx.layer(OpKind.CONV2D, groups=int(m.groups), has_bias=_has_bias(m), **fields)
    return [with_compression(layer, ctx, m.weight)]


def _pool3d(variant: str, adaptive: bool) -> Converter:
    def convert(ctx: ConvertContext) -> list[Layer]:
        x, out = ctx.in_shapes[0], ctx.out_shape
        if adaptive:
            kd, kh, kw = (_adaptive(x[i], out[i])[0] for i in (2, 3, 4))
            kernel = (kd, kh, kw)
        else:
            m = ctx.module
            k = m.kernel_size if m is not None else ctx.arg(1, "kernel_size")
            kernel = _triple(k)
        return [ctx.layer(OpKind.POOL2D, variant=variant, **pool3d_as_pool2d(x, out, kernel))]
    return convert


def convert_adder(ctx: ConvertContext) -> list[Layer]:
    """An adder convolution (AdderConv2d, or any module with Conv2d's attributes)."""
    return convert_conv(ctx, OpKind.ADDER_CONV2D)


def _convert_conv_transpose(ctx: ConvertContext) -> list[Layer]:
    m = ctx.module
    assert isinstance(m, nn.ConvTranspose2d)
    assert not isinstance(m.padding, str)  # torch's transposed convs take numbers only
    layer = ctx.layer(OpKind.CONV_TRANSPOSE2D, in_shapes=ctx.in_shapes[:1],
                      kernel=pair(m.kernel_size), stride=pair(m.stride),
                      padding=pair(m.padding), dilation=pair(m.dilation), groups=int(m.groups),
                      weight_shape=tuple(int(d) for d in m.weight.shape), has_bias=_has_bias(m))
    return [with_compression(layer, ctx, m.weight)]


def _convert_embedding(ctx: ConvertContext) -> list[Layer]:
    """nn.Embedding / F.embedding: a lookup of the rows its ids name."""
    m = ctx.module
    if m is None:  # F.embedding(ids, weight): the table is the second tensor argument
        shape = ctx.in_shapes[1]
        return [ctx.layer(OpKind.EMBEDDING, in_shapes=ctx.in_shapes[:1],
                          weight_shape=(int(shape[0]), int(shape[1])))]
    layer = ctx.layer(OpKind.EMBEDDING, in_shapes=ctx.in_shapes[:1],
                      weight_shape=(int(m.weight.shape[0]), int(m.weight.shape[1])))
    return [with_compression(layer, ctx, m.weight)]


def _convert_linear(ctx: ConvertContext) -> list[Layer]:
    m = ctx.module
    assert m is not None
    layer = ctx.layer(OpKind.LINEAR, in_shapes=ctx.in_shapes[:1],
                      weight_shape=tuple(int(d) for d in m.weight.shape), has_bias=_has_bias(m))
    return [with_compression(layer, ctx, m.weight)]


def _norm_params(m: nn.Module | None) -> tuple[Shape, bool]:
    """(weight shape, has bias) of a norm's affine parameters; ``((), False)`` without any."""
    weight = getattr(m, "weight", None)
    if m is not None and isinstance(weight, torch.Tensor):
        return (int(weight.numel()),), _has_bias(m)
    return (), False


def _convert_batchnorm(ctx: ConvertContext) -> list[Layer]:
    assert ctx.module is not None
    shape, bias = _norm_params(ctx.module)
    return [ctx.layer(OpKind.BATCHNORM, in_shapes=ctx.in_shapes[:1], weight_shape=shape,
                      has_bias=bias)]


def _convert_layernorm(ctx: ConvertContext) -> list[Layer]:
    variant = "" if ctx.module is None else type(ctx.module).__name__.lower()
    shape, bias = _norm_params(ctx.module)
    if variant == "layernorm":
        variant = ""
    return [ctx.layer(OpKind.LAYERNORM, in_shapes=ctx.in_shapes[:1], variant=variant,
                      weight_shape=shape, has_bias=bias)]


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
        return _pool_layer(ctx, variant, pair(k), pair(s), pair(p))
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
    qk = Layer(name=f"{prefix}.qk", op=OpKind.MATMUL, inputs=unique((*q_src, *k_src)),
               in_shapes=(q, kt), out_shape=scores)
    sm = Layer(name=f"{prefix}.softmax", op=OpKind.SOFTMAX, inputs=(qk.name,),
               in_shapes=(scores,), out_shape=scores)
    pv = Layer(name=f"{prefix}.pv", op=OpKind.MATMUL, inputs=unique((sm.name, *v_src)),
               in_shapes=(scores, v), out_shape=out)
    return [qk, sm, pv]


def _convert_sdpa(ctx: ConvertContext) -> list[Layer]:
    q, k, v = ctx.in_shapes[:3]
    src = [(p,) if p is not None else () for p in ctx.producers[:3]]
    return _attention_layers(ctx, q, k, v, src[0], src[1], src[2], ctx.name)


def convert_mha(ctx: ConvertContext) -> list[Layer]:
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


def _convert_einsum(ctx: ConvertContext) -> list[Layer] | None:
    """torch.einsum: a permutation is a view; two operands are one batched matmul."""
    eq = ctx.arg(0, "equation")
    if not isinstance(eq, str):
        raise WorkloadError("einsum without a literal equation", field=ctx.name)
    try:
        mm = einsum_matmul(eq, ctx.in_shapes)
    except WorkloadError as exc:
        raise WorkloadError(exc.detail, field=ctx.name) from None
    if mm is None:
        return None  # a transpose: zero cost, as permute
    return [ctx.layer(OpKind.MATMUL, in_shapes=mm[0], out_shape=mm[1])]


def install() -> None:
    """Register every built-in converter (once, when the tracer is imported)."""
    views_fn: list[Any] = [torch.flatten, torch.reshape, torch.permute, torch.transpose, torch.t,
                           torch.chunk, torch.split, operator.getitem, torch.squeeze,
                           torch.unsqueeze, F.dropout, F.dropout1d, F.dropout2d, F.dropout3d,
                           torch.narrow, torch.select, torch.unbind, torch.movedim,
                           torch.swapaxes, torch.unflatten, getattr, F.pad, torch.clone,
                           torch.detach, F.pixel_shuffle, F.pixel_unshuffle]
    views_method = ["flatten", "reshape", "view", "permute", "transpose", "t", "chunk", "split",
                    "contiguous", "size", "squeeze", "unsqueeze", "expand", "expand_as",
                    "view_as", "reshape_as", "clone", "detach", "to", "type", "float", "half",
                    "unflatten", "unbind", "narrow", "select", "movedim", "swapaxes",
                    "__getitem__"]
    views_mod: list[type] = [nn.Flatten, nn.Unflatten, nn.Dropout, nn.Dropout1d, nn.Dropout2d,
                             nn.Dropout3d, nn.AlphaDropout, nn.Identity, nn.ReflectionPad1d,
                             nn.ReflectionPad2d, nn.ReplicationPad1d, nn.ReplicationPad2d,
                             nn.ZeroPad2d, nn.ConstantPad1d, nn.ConstantPad2d, nn.PixelShuffle,
                             nn.PixelUnshuffle]
    for target in [*views_fn, *views_method, *views_mod]:
        register_builtin(target, _view)
    for conv_cls in (nn.Conv1d, nn.Conv2d):
        register_builtin(conv_cls, convert_conv)
    register_builtin(nn.ConvTranspose2d, _convert_conv_transpose)
    register_builtin(nn.Conv3d, _convert_conv3d)
    pools3d: list[tuple[list[Any], str, bool]] = [
        ([nn.MaxPool3d, F.max_pool3d], "max", False), ([nn.AvgPool3d, F.avg_pool3d], "avg", False),
        ([nn.AdaptiveAvgPool3d, F.adaptive_avg_pool3d], "avg", True),
        ([nn.AdaptiveMaxPool3d, F.adaptive_max_pool3d], "max", True)]
    for targets3, variant3, adaptive3 in pools3d:
        for target in targets3:
            register_builtin(target, _pool3d(variant3, adaptive3))
    register_builtin(nn.Linear, _convert_linear)
    for target in (nn.Embedding, F.embedding):
        register_builtin(target, _convert_embedding)
    register_builtin(AdderConv2d, convert_adder)
    for bn_cls in (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d):
        register_builtin(bn_cls, _convert_batchnorm)
    for norm_cls in (nn.LayerNorm, nn.GroupNorm, nn.InstanceNorm1d, nn.InstanceNorm2d):
        register_builtin(norm_cls, _convert_layernorm)
    register_builtin(F.layer_norm, _convert_layernorm)
    for target in (nn.ReLU, F.relu, torch.relu, torch.relu_, "relu", "relu_"):
        register_builtin(target, _relu())
    for target in (nn.ReLU6, F.relu6):
        register_builtin(target, _relu("relu6"))
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
            register_builtin(target, _activation(variant))
    for target in (nn.Softmax, nn.LogSoftmax, F.softmax, F.log_softmax, torch.softmax,
                   "softmax", "log_softmax"):
        register_builtin(target, _convert_softmax)
    for target in (operator.add, operator.iadd, operator.sub, operator.isub, torch.add,
                   torch.sub, "add", "add_", "sub", "sub_"):
        register_builtin(target, _elementwise(OpKind.ADD))
    for target in (operator.mul, operator.imul, operator.truediv, operator.itruediv, torch.mul,
                   torch.div, "mul", "mul_", "div", "div_"):
        register_builtin(target, _elementwise(OpKind.MUL))
    for target in (torch.cat, torch.concat, torch.concatenate, torch.stack):
        register_builtin(target, _convert_cat)
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
            register_builtin(target, _pool(variant, dims, adaptive))
    for target in (torch.mean, "mean"):
        register_builtin(target, _convert_mean)
    for target in (nn.Upsample, nn.UpsamplingNearest2d, nn.UpsamplingBilinear2d, F.interpolate):
        register_builtin(target, _convert_upsample)
    for target in (torch.matmul, operator.matmul, torch.bmm, torch.mm, "matmul", "bmm", "mm"):
        register_builtin(target, _convert_matmul)
    register_builtin(F.scaled_dot_product_attention, _convert_sdpa)
    register_builtin(nn.MultiheadAttention, convert_mha)
    for target in (torch.einsum, torch.functional.einsum):
        register_builtin(target, _convert_einsum)

