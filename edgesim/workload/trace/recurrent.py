"""Recurrent and transformer blocks as the IR's layers: ``nn.LSTM`` / ``nn.GRU`` as their matmuls
and elementwise ops per time step (``workload.lowering``, shared with the ONNX importer),
``nn.TransformerEncoderLayer`` / ``nn.TransformerEncoder`` as attention, feed-forward, residual
adds and norms (torch.fx cannot trace either: their forwards branch on tensors, so each is a
leaf converted here)."""

from __future__ import annotations

from dataclasses import replace

from torch import nn

from edgesim.errors import WorkloadError
from edgesim.vocab import OpKind
from edgesim.workload.layer import Layer, Shape
from edgesim.workload.lowering import recurrent_layers
from edgesim.workload.trace.converters import convert_mha, with_compression
from edgesim.workload.trace.registry import ConvertContext, register_builtin


def _recurrent(ctx: ConvertContext) -> list[Layer]:
    """nn.LSTM / nn.GRU (any layers, directions, batch_first, with or without biases)."""
    m = ctx.module
    assert isinstance(m, nn.LSTM | nn.GRU)
    if getattr(m, "proj_size", 0):
        raise WorkloadError("an LSTM with proj_size is not supported: use proj_size=0 and a "
                            "Linear after it", field=ctx.name)
    x = ctx.in_shapes[0]
    if len(x) == 2:  # unbatched (T, I)
        t_len, n = x[0], 1
    else:
        t_len, n = (x[1], x[0]) if m.batch_first else (x[0], x[1])
    src = tuple(p for p in ctx.producers[:1] if p is not None)  # x: h0 / c0 come after it
    h0 = tuple(p for p in ctx.producers[1:2] if p is not None)
    return recurrent_layers(ctx.name, "lstm" if isinstance(m, nn.LSTM) else "gru", src,
                            steps=t_len, batch=n, input_size=m.input_size,
                            hidden=m.hidden_size, num_layers=m.num_layers,
                            bidirectional=m.bidirectional, has_bias=bool(m.bias), h0=h0)


def _sub(ctx: ConvertContext, module: nn.Module, name: str, shape: Shape,
         producer: str | None) -> ConvertContext:
    """A context for a submodule of a converted block, reading ``producer``'s ``shape``."""
    arg = ctx.tensor_args[:1]
    return replace(ctx, module=module, name=name, in_shapes=(shape,) * 3,
                   producers=(producer,) * 3, tensor_args=arg * 3, out_shape=shape)


def _linear(ctx: ConvertContext, m: nn.Linear, name: str, src: tuple[str, ...],
            shape: Shape) -> Layer:
    sub = replace(ctx, module=m, name=name)
    layer = Layer(name=name, op=OpKind.LINEAR, inputs=src, in_shapes=(shape,),
                  out_shape=(*shape[:-1], m.out_features),
                  weight_shape=(m.out_features, m.in_features), has_bias=m.bias is not None)
    return with_compression(layer, sub, m.weight)


def _norm(m: nn.Module, name: str, src: tuple[str, ...], shape: Shape) -> Layer:
    weight = getattr(m, "weight", None)
    wshape: Shape = (int(weight.numel()),) if weight is not None else ()
    return Layer(name=name, op=OpKind.LAYERNORM, inputs=src, in_shapes=(shape,),
                 out_shape=shape, weight_shape=wshape,
                 has_bias=getattr(m, "bias", None) is not None and bool(wshape))


def _activation(fn: object, name: str, src: tuple[str, ...], shape: Shape) -> Layer:
    label = getattr(fn, "__name__", type(fn).__name__).lower()
    if label == "relu":
        return Layer(name=name, op=OpKind.RELU, inputs=src, in_shapes=(shape,), out_shape=shape)
    return Layer(name=name, op=OpKind.ACTIVATION, inputs=src, in_shapes=(shape,),
                 out_shape=shape, variant=label)


def encoder_layer(ctx: ConvertContext, m: nn.TransformerEncoderLayer, name: str,
                  src: str | None, shape: Shape) -> list[Layer]:
    """One encoder layer (post-norm or ``norm_first``) reading ``src``'s ``shape``."""
    def ins(p: str | None) -> tuple[str, ...]:
        return (p,) if p else ()

    layers: list[Layer] = []
    x = src
    attn_in = x
    if m.norm_first:
        layers.append(_norm(m.norm1, f"{name}.norm1", ins(x), shape))
        attn_in = layers[-1].name
    layers += convert_mha(_sub(ctx, m.self_attn, f"{name}.self_attn", shape, attn_in))
    layers.append(Layer(name=f"{name}.add1", op=OpKind.ADD, inputs=(*ins(x), layers[-1].name),
                        in_shapes=(shape, shape), out_shape=shape))
    x = layers[-1].name
    if not m.norm_first:
        layers.append(_norm(m.norm1, f"{name}.norm1", (x,), shape))
        x = layers[-1].name
    ff_in = x
    if m.norm_first:
        layers.append(_norm(m.norm2, f"{name}.norm2", (x,), shape))
        ff_in = layers[-1].name
    layers.append(_linear(ctx, m.linear1, f"{name}.linear1", (ff_in,), shape))
    hidden = layers[-1].out_shape
    layers.append(_activation(m.activation, f"{name}.activation", (layers[-1].name,), hidden))
    layers.append(_linear(ctx, m.linear2, f"{name}.linear2", (layers[-1].name,), hidden))
    layers.append(Layer(name=f"{name}.add2", op=OpKind.ADD, inputs=(x, layers[-1].name),
                        in_shapes=(shape, shape), out_shape=shape))
    if not m.norm_first:
        layers.append(_norm(m.norm2, f"{name}.norm2", (layers[-1].name,), shape))
    return layers


def _encoder_layer(ctx: ConvertContext) -> list[Layer]:
    assert isinstance(ctx.module, nn.TransformerEncoderLayer)
    return encoder_layer(ctx, ctx.module, ctx.name, ctx.producers[0], ctx.in_shapes[0])


def _encoder(ctx: ConvertContext) -> list[Layer]:
    """nn.TransformerEncoder: its layers in turn, then its final norm if it has one."""
    m = ctx.module
    assert isinstance(m, nn.TransformerEncoder)
    shape, src = ctx.in_shapes[0], ctx.producers[0]
    layers: list[Layer] = []
    for i, layer in enumerate(m.layers):
        assert isinstance(layer, nn.TransformerEncoderLayer)
        layers += encoder_layer(ctx, layer, f"{ctx.name}.layers.{i}", src, shape)
        src = layers[-1].name
    if m.norm is not None:
        layers.append(_norm(m.norm, f"{ctx.name}.norm", (src,) if src else (), shape))
    return layers


def install() -> None:
    """Register the recurrent and transformer-block converters."""
    register_builtin(nn.LSTM, _recurrent)
    register_builtin(nn.GRU, _recurrent)
    register_builtin(nn.TransformerEncoderLayer, _encoder_layer)
    register_builtin(nn.TransformerEncoder, _encoder)


__all__ = ["encoder_layer", "install"]
