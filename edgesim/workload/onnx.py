"""ONNX import into the workload IR (the same op set as the torch.fx tracer)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import helper

from edgesim.errors import WorkloadError
from edgesim.vocab import OpKind
from edgesim.workload.ingest import fold_batchnorm, measure_sparsity
from edgesim.workload.ir import Workload
from edgesim.workload.layer import Layer, Shape
from edgesim.workload.lowering import (
    conv3d_as_conv2d,
    einsum_matmul,
    pool3d_as_pool2d,
    recurrent_layers,
)
from edgesim.workload.onnx_file import load, static_shape, to_array

# Ops that only move or describe data: their consumers read straight from the producer.
VIEW_OPS = frozenset({
    "Flatten", "Reshape", "Transpose", "Squeeze", "Unsqueeze", "Identity", "Dropout", "Shape",
    "Gather", "Constant", "Slice", "Split", "Cast", "Expand", "ConstantOfShape", "Pad",
    "Range", "Size", "Tile", "GatherElements", "ReduceProd",
    "DepthToSpace", "SpaceToDepth"})  # pixel (un)shuffle: a permutation, as torch's views


@dataclass
class _Graph:
    """What the importer knows about the tensors of one ONNX graph."""

    file: str
    shapes: dict[str, Shape] = field(default_factory=dict)
    consts: dict[str, np.ndarray] = field(default_factory=dict)
    active: set[str] = field(default_factory=set)  # tensors derived from model inputs
    producer: dict[str, str | None] = field(default_factory=dict)


@dataclass(frozen=True)
class _Node:
    """One ONNX node with its resolved context."""

    node: onnx.NodeProto
    name: str
    attrs: dict[str, Any]
    g: _Graph

    def shape(self, tensor: str) -> Shape:
        if tensor not in self.g.shapes:
            raise WorkloadError(f"no static shape for tensor {tensor!r} of node {self.name!r} "
                                "(export the model with fixed input shapes)", file=self.g.file,
                                field=f"nodes.{self.name}")
        return self.g.shapes[tensor]

    @property
    def data_inputs(self) -> list[str]:
        """Inputs that carry activations (not weights, constants or shape arithmetic)."""
        return [t for t in self.node.input if t and t in self.g.active]

    def sources(self, tensors: list[str]) -> tuple[str, ...]:
        out: list[str] = []
        for t in tensors:
            p = self.g.producer.get(t)
            if p is not None and p not in out:
                out.append(p)
        return tuple(out)

    def layer(self, op: OpKind, in_tensors: list[str], *,
              in_shapes: tuple[Shape, ...] | None = None, kernel: tuple[int, int] = (1, 1),
              stride: tuple[int, int] = (1, 1), padding: tuple[int, int] = (0, 0),
              dilation: tuple[int, int] = (1, 1), groups: int = 1, weight_shape: Shape = (),
              has_bias: bool = False, variant: str = "",
              sparsity: tuple[float, str] = (0.0, "unstructured")) -> Layer:
        """The node as a layer reading ``in_tensors`` (shapes from them unless given);
        ``sparsity`` is (zero fraction, pattern) of its weights."""
        return Layer(name=self.name, op=op, inputs=self.sources(in_tensors),
                     in_shapes=(tuple(self.shape(t) for t in in_tensors) if in_shapes is None
                                else in_shapes),
                     out_shape=self.shape(self.node.output[0]), kernel=kernel, stride=stride,
                     padding=padding, dilation=dilation, groups=groups,
                     weight_shape=weight_shape, has_bias=has_bias, variant=variant,
                     weight_sparsity=sparsity[0], sparsity_pattern=sparsity[1])

    def const(self, index: int) -> np.ndarray | None:
        if index >= len(self.node.input) or not self.node.input[index]:
            return None
        return self.g.consts.get(self.node.input[index])


def _attr_pair(values: Any, default: int) -> tuple[int, int]:
    """An ONNX ints attribute as a 2-D pair: one value is the width of a 1-D op, ``(1, v)``."""
    if values is None:
        return (default, default)
    v = [int(x) for x in values]
    return (1, v[0]) if len(v) == 1 else (v[0], v[1])


def _weighted(n: _Node, w: np.ndarray) -> tuple[float, str]:
    """(zero fraction, pattern) of a node's weights; all zeros is an error."""
    sparsity, pattern = measure_sparsity(w)
    if sparsity >= 1.0:
        raise WorkloadError("every weight is zero", file=n.g.file, field=f"nodes.{n.name}")
    return sparsity, pattern


def _weight(n: _Node, index: int) -> np.ndarray:
    w = n.const(index)
    if w is None:
        raise WorkloadError(f"{n.node.op_type} weights must be an initializer or Constant",
                            file=n.g.file, field=f"nodes.{n.name}")
    return w


def _triple(values: Any, default: int) -> tuple[int, int, int]:
    v = [int(x) for x in values] if values is not None else [default] * 3
    return (v[0], v[1], v[2])


def _conv3d(n: _Node, w: np.ndarray) -> list[Layer]:
    """A 3-D Conv, lowered as the tracer lowers nn.Conv3d (``lowering.conv3d_as_conv2d``)."""
    x = n.node.input[0]
    pads = n.attrs.get("pads")
    dilation = _triple(n.attrs.get("dilations"), 1)
    auto = n.attrs.get("auto_pad", b"NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else str(auto)
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        k = w.shape[2:]
        padding = _triple([dilation[i] * (int(k[i]) - 1) // 2 for i in range(3)], 0)
    else:
        padding = _triple(pads[:3] if pads is not None else None, 0)
    fields = conv3d_as_conv2d(n.shape(x), tuple(int(d) for d in w.shape),
                              _triple(n.attrs.get("strides"), 1), padding, dilation)
    out = fields.pop("out_shape")
    layer = n.layer(OpKind.CONV2D, [x], groups=int(n.attrs.get("group", 1)),
                    has_bias=len(n.node.input) > 2 and bool(n.node.input[2]),
                    sparsity=_weighted(n, w), **fields)
    return [replace(layer, out_shape=out)]


def _conv(n: _Node) -> list[Layer]:
    w = _weight(n, 1)
    if w.ndim == 5 and n.node.op_type == "Conv":
        return _conv3d(n, w)
    x = n.node.input[0]
    is1d = w.ndim == 3
    transpose = n.node.op_type == "ConvTranspose"
    wshape: Shape = (w.shape[0], w.shape[1], 1, w.shape[2]) if is1d else tuple(w.shape)
    kernel = (int(wshape[2]), int(wshape[3]))
    stride, dilation = _attr_pair(n.attrs.get("strides"), 1), _attr_pair(n.attrs.get("dilations"), 1)
    pads = n.attrs.get("pads")
    if n.attrs.get("auto_pad", b"NOTSET") in (b"SAME_UPPER", b"SAME_LOWER", "SAME_UPPER",
                                              "SAME_LOWER"):
        padding = ((dilation[0] * (kernel[0] - 1)) // 2, (dilation[1] * (kernel[1] - 1)) // 2)
    elif pads is None:
        padding = (0, 0)
    else:
        half = len(pads) // 2
        padding = (0, int(pads[0])) if is1d else (int(pads[0]), int(pads[1] if half > 1 else 0))
    if is1d:
        stride, dilation = (1, stride[1]), (1, dilation[1])
    op = OpKind.CONV_TRANSPOSE2D if transpose else (OpKind.CONV1D if is1d else OpKind.CONV2D)
    sparsity = _weighted(n, w)
    return [n.layer(op, [x], kernel=kernel, stride=stride, padding=padding, dilation=dilation,
                    groups=int(n.attrs.get("group", 1)),
                    weight_shape=tuple(int(d) for d in wshape),
                    has_bias=len(n.node.input) > 2 and bool(n.node.input[2]), sparsity=sparsity)]


def _gemm(n: _Node) -> list[Layer]:
    a = n.node.input[0]
    w = n.const(1)
    if w is None or n.attrs.get("transA", 0):
        return _matmul(n)
    w2 = w if n.attrs.get("transB", 0) else w.T  # (out, in)
    sparsity = _weighted(n, w2)
    return [n.layer(OpKind.LINEAR, [a], weight_shape=(int(w2.shape[0]), int(w2.shape[1])),
                    has_bias=len(n.node.input) > 2 and bool(n.node.input[2]),
                    sparsity=sparsity)]


def _matmul(n: _Node) -> list[Layer]:
    a, b = n.node.input[0], n.node.input[1]
    w = n.const(1)
    if w is not None and w.ndim == 2 and a in n.g.active:  # activation x weight: a linear layer
        w2 = w.T
        sparsity = _weighted(n, w2)
        return [n.layer(OpKind.LINEAR, [a], weight_shape=(int(w2.shape[0]), int(w2.shape[1])),
                        sparsity=sparsity)]
    sa, sb = n.shape(a), n.shape(b)
    sa2 = sa if len(sa) >= 2 else (1, *sa)
    sb2 = sb if len(sb) >= 2 else (*sb, 1)
    return [n.layer(OpKind.MATMUL, [a, b], in_shapes=(sa2, sb2))]


def _recurrent(kind: str) -> Callable[[_Node], list[Layer]]:
    """ONNX ``LSTM`` / ``GRU`` (one node per stacked layer) through the tracer's lowering."""
    def convert(n: _Node) -> list[Layer]:
        x = n.node.input[0]
        shape = n.shape(x)
        steps, batch = (shape[1], shape[0]) if n.attrs.get("layout", 0) else (shape[0], shape[1])
        w, r = _weight(n, 1), _weight(n, 2)
        direction = n.attrs.get("direction", b"forward")
        direction = direction.decode() if isinstance(direction, bytes) else str(direction)
        return recurrent_layers(n.name, kind, n.sources([x]), steps=int(steps),
                                batch=int(batch), input_size=int(w.shape[2]),
                                hidden=int(n.attrs.get("hidden_size") or r.shape[-1]),
                                num_layers=1,
                                bidirectional=direction == "bidirectional",
                                has_bias=len(n.node.input) > 3 and bool(n.node.input[3]))
    return convert


def _embedding(n: _Node) -> Layer:
    table = n.g.consts[n.node.input[0]]
    ids = n.node.input[1]
    return n.layer(OpKind.EMBEDDING, [ids], weight_shape=(int(table.shape[0]), int(table.shape[1])),
                   sparsity=_weighted(n, table))


def _einsum(n: _Node) -> list[Layer]:
    eq = n.attrs.get("equation", b"")
    eq = eq.decode() if isinstance(eq, bytes) else str(eq)
    ins = [t for t in n.node.input if t]
    try:
        mm = einsum_matmul(eq, tuple(n.shape(t) for t in ins))
    except WorkloadError as exc:
        raise WorkloadError(exc.detail, file=n.g.file, field=f"nodes.{n.name}") from None
    if mm is None:  # a permutation: costs nothing, as a Transpose
        return []
    return [replace(n.layer(OpKind.MATMUL, ins, in_shapes=mm[0]), out_shape=mm[1])]


def _norm(op: OpKind, variant: str = "") -> Callable[[_Node], list[Layer]]:
    def convert(n: _Node) -> list[Layer]:
        scale = n.const(1)
        bias = n.const(2)
        identity = (op == OpKind.LAYERNORM and variant and scale is not None
                    and bias is not None and np.all(scale == 1) and np.all(bias == 0))
        if scale is None or identity:  # all-ones/zeros: a non-affine norm
            return [n.layer(op, [n.node.input[0]], variant=variant)]
        return [n.layer(op, [n.node.input[0]], variant=variant, weight_shape=(int(scale.size),),
                        has_bias=len(n.node.input) > 2 and bool(n.node.input[2]))]
    return convert


def _unary(op: OpKind, variant: str = "") -> Callable[[_Node], list[Layer]]:
    def convert(n: _Node) -> list[Layer]:
        return [n.layer(op, [n.node.input[0]], variant=variant)]
    return convert


def _clip(n: _Node) -> list[Layer]:
    lo = n.const(1) if len(n.node.input) > 1 else n.attrs.get("min")
    hi = n.const(2) if len(n.node.input) > 2 else n.attrs.get("max")
    lo_v = None if lo is None else float(np.asarray(lo))
    hi_v = None if hi is None else float(np.asarray(hi))
    if lo_v == 0.0 and hi_v in (None, 6.0):
        return _unary(OpKind.RELU, "" if hi_v is None else "relu6")(n)
    return _unary(OpKind.ACTIVATION, "hardtanh")(n)


def _pool(variant: str, is_global: bool) -> Callable[[_Node], list[Layer]]:
    def convert(n: _Node) -> list[Layer]:
        x = n.node.input[0]
        shape = n.shape(x)
        out = n.shape(n.node.output[0])
        if len(shape) == 5:  # 3-D pooling, lowered as the tracer lowers it
            kernel = ((shape[2], shape[3], shape[4]) if is_global
                      else _triple(n.attrs.get("kernel_shape"), 1))
            fields = pool3d_as_pool2d(shape, out, kernel)
            out4 = fields.pop("out_shape")
            return [replace(n.layer(OpKind.POOL2D, [x], variant=variant, **fields),
                            out_shape=out4)]
        if is_global:
            k = (shape[2], shape[3]) if len(shape) == 4 else (1, shape[-1])
            return [n.layer(OpKind.POOL2D, [x], kernel=k, stride=k, variant=variant)]
        k = _attr_pair(n.attrs.get("kernel_shape"), 1)
        s = _attr_pair(n.attrs.get("strides"), 1)
        pads = n.attrs.get("pads")
        p = (0, 0) if pads is None else _attr_pair(pads[: max(1, len(pads) // 2)], 0)
        return [n.layer(OpKind.POOL2D, [x], kernel=k, stride=s, padding=p, variant=variant)]
    return convert


def _reduce_mean(n: _Node) -> list[Layer]:
    x = n.node.input[0]
    shape, out = n.shape(x), n.shape(n.node.output[0])
    window = int(np.prod(shape)) // max(1, int(np.prod(out)))
    k = (shape[2], shape[3]) if len(shape) == 4 and window == shape[2] * shape[3] else (1, window)
    return [n.layer(OpKind.POOL2D, [x], kernel=k, stride=k, variant="avg")]


def _elementwise(op: OpKind) -> Callable[[_Node], list[Layer]]:
    def convert(n: _Node) -> list[Layer]:
        tensors = [t for t in n.node.input if t and len(n.g.shapes.get(t, ())) > 0]
        return [n.layer(op, tensors)]
    return convert


def _concat(n: _Node) -> list[Layer]:
    return [n.layer(OpKind.CONCAT, [t for t in n.node.input if t])]


def _resize(n: _Node) -> list[Layer]:
    mode = n.attrs.get("mode", b"nearest")
    mode = mode.decode() if isinstance(mode, bytes) else str(mode)
    return _unary(OpKind.UPSAMPLE, "bilinear" if mode == "linear" else mode)(n)


_CONVERTERS: dict[str, Callable[[_Node], list[Layer]]] = {
    "Conv": _conv, "ConvTranspose": _conv, "Gemm": _gemm, "MatMul": _matmul,
    "BatchNormalization": _norm(OpKind.BATCHNORM), "LayerNormalization": _norm(OpKind.LAYERNORM),
    "InstanceNormalization": _norm(OpKind.LAYERNORM, "instancenorm2d"),
    "Relu": _unary(OpKind.RELU), "Clip": _clip,
    "Sigmoid": _unary(OpKind.ACTIVATION, "sigmoid"), "Tanh": _unary(OpKind.ACTIVATION, "tanh"),
    "HardSigmoid": _unary(OpKind.ACTIVATION, "hardsigmoid"),
    "HardSwish": _unary(OpKind.ACTIVATION, "hardswish"),
    "Gelu": _unary(OpKind.ACTIVATION, "gelu"), "Erf": _unary(OpKind.ACTIVATION, "erf"),
    "LeakyRelu": _unary(OpKind.ACTIVATION, "leaky_relu"), "Elu": _unary(OpKind.ACTIVATION, "elu"),
    "Softplus": _unary(OpKind.ACTIVATION, "softplus"), "Mish": _unary(OpKind.ACTIVATION, "mish"),
    "LRN": _unary(OpKind.ACTIVATION, "lrn"),
    "PRelu": _unary(OpKind.ACTIVATION, "prelu"), "Softmax": _unary(OpKind.SOFTMAX),
    "LogSoftmax": _unary(OpKind.SOFTMAX),
    "MaxPool": _pool("max", False), "AveragePool": _pool("avg", False),
    "GlobalAveragePool": _pool("avg", True), "GlobalMaxPool": _pool("max", True),
    "ReduceMean": _reduce_mean,
    "Add": _elementwise(OpKind.ADD), "Sub": _elementwise(OpKind.ADD),
    "Mul": _elementwise(OpKind.MUL), "Div": _elementwise(OpKind.MUL),
    "Concat": _concat, "Resize": _resize, "Upsample": _resize,
    "LSTM": _recurrent("lstm"), "GRU": _recurrent("gru"), "Einsum": _einsum,
}


def _fold_linear_bias(layers: list[Layer], bias_adds: dict[str, str]) -> list[Layer]:
    """``MatMul`` + ``Add(bias)`` (how a 3-D ``nn.Linear`` exports) back into one biased linear."""
    consumers: dict[str, int] = {}
    for lay in layers:
        for src in lay.inputs:
            consumers[src] = consumers.get(src, 0) + 1
    by_name = {lay.name: lay for lay in layers}
    rename: dict[str, str] = {}
    for add_name, lin_name in bias_adds.items():
        lin = by_name[lin_name]
        if lin.op == OpKind.LINEAR and not lin.has_bias and consumers.get(lin_name) == 1:
            by_name[lin_name] = replace(lin, has_bias=True)
            rename[add_name] = lin_name
    out = []
    for lay in layers:
        if lay.name in rename:
            continue
        lay = by_name[lay.name]
        if any(s in rename for s in lay.inputs):
            lay = replace(lay, inputs=tuple(dict.fromkeys(rename.get(s, s) for s in lay.inputs)))
        out.append(lay)
    return out


def import_onnx(path: str | Path) -> Workload:
    """Read an ONNX model into a :class:`Workload` (static shapes via ONNX shape inference)."""
    p = Path(path)
    file = str(p)
    try:
        model = load(file)
    except FileNotFoundError:
        raise WorkloadError("no such file", file=file) from None
    except Exception as exc:  # onnx raises DecodeError, ValidationError, InferenceError...
        raise WorkloadError(f"not a readable ONNX model: {type(exc).__name__}: {exc}",
                            file=file) from None
    graph = model.graph
    g = _Graph(file=file)
    for init in graph.initializer:
        arr = to_array(init)
        g.consts[init.name] = arr
        g.shapes[init.name] = tuple(int(d) for d in arr.shape)
    for vi in [*graph.input, *graph.value_info, *graph.output]:
        shape = static_shape(vi)
        if shape is not None:
            g.shapes.setdefault(vi.name, shape)
    inputs = [vi for vi in graph.input if vi.name not in g.consts]
    if not inputs:
        raise WorkloadError("the graph has no input", file=file, field="graph.input")
    for vi in inputs:
        if vi.name not in g.shapes:
            raise WorkloadError(f"input {vi.name!r} has no static shape (export with fixed "
                                "shapes)", file=file, field="graph.input")
        if any(d <= 0 for d in g.shapes[vi.name]):
            raise WorkloadError(f"input {vi.name!r} is zero-sized", file=file,
                                field="graph.input")
        g.active.add(vi.name)
        g.producer[vi.name] = None
    batch = g.shapes[inputs[0].name][0] if g.shapes[inputs[0].name] else 1
    layers: list[Layer] = []
    used: set[str] = set()
    bias_adds: dict[str, str] = {}
    for i, node in enumerate(graph.node):
        op_type = node.op_type
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        if op_type == "Constant":
            value = attrs.get("value")
            if isinstance(value, onnx.TensorProto):
                arr = to_array(value)
                g.consts[node.output[0]] = arr
                g.shapes[node.output[0]] = tuple(int(d) for d in arr.shape)
            continue
        name = node.name or f"{op_type.lower()}_{i}"
        while name in used:
            name += "_"
        n = _Node(node=node, name=name, attrs=attrs, g=g)
        data = n.data_inputs
        if not data or op_type == "Shape":  # weights, constants and shape arithmetic
            continue
        for out in node.output:
            g.active.add(out)
        if (op_type == "Gather" and node.input[0] in g.consts
                and g.consts[node.input[0]].ndim == 2 and attrs.get("axis", 0) in (0, -2)
                and node.input[1] in g.active):  # a lookup of rows of a weight table
            layers.append(_embedding(n))
            used.add(name)
            for out in node.output:
                g.producer[out] = name
            continue
        if op_type in VIEW_OPS:
            src = next((g.producer.get(t) for t in data if g.producer.get(t)), None)
            for out in node.output:
                g.producer[out] = src
            continue
        convert = _CONVERTERS.get(op_type)
        if convert is None:
            raise WorkloadError(f"unsupported ONNX op {op_type} (node {name!r}); supported: "
                                f"{', '.join(sorted([*_CONVERTERS, *VIEW_OPS]))}", file=file,
                                field=f"graph.node[{i}]")
        new = convert(n)
        if not new:  # a converter's view (an einsum that only permutes)
            src = next((g.producer.get(t) for t in data if g.producer.get(t)), None)
            for out in node.output:
                g.producer[out] = src
            continue
        for lay in new:
            used.add(lay.name)
        layers.extend(new)
        for out in node.output:
            g.producer[out] = new[-1].name
        if op_type == "Add" and len(data) == 1:
            other = next((t for t in node.input if t not in g.active), None)
            src = g.producer.get(data[0])
            if (other in g.consts and src is not None and g.consts[other].ndim == 1
                    and g.shapes[node.output[0]][-1] == g.consts[other].size):
                bias_adds[new[-1].name] = src
    if not layers:
        raise WorkloadError("the graph has no countable layers", file=file, field="graph.node")
    outputs = frozenset(str(g.producer[o.name]) for o in graph.output if g.producer.get(o.name))
    layers = _fold_linear_bias(layers, bias_adds)
    layers = fold_batchnorm(layers, outputs)
    for lay in layers:
        if any(d <= 0 for s in (*lay.in_shapes, lay.out_shape) for d in s):
            raise WorkloadError(f"zero-sized tensor in layer {lay.name!r}", file=file,
                                field=f"nodes.{lay.name}")
    return Workload(name=p.stem, layers=tuple(layers), batch=int(batch), source=file)
