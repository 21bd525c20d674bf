"""ONNX files as the importer reads them: loaded, shapes inferred, shape arithmetic folded into
constants (so a graph exported with ``Shape`` / ``Gather`` / ``Concat`` chains gets static
shapes), tensors as NumPy arrays (missing external weights read as dense)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import helper, numpy_helper, shape_inference

from edgesim.workload.layer import Shape


def static_shape(vi: onnx.ValueInfoProto) -> Shape | None:
    t = vi.type.tensor_type
    if not t.HasField("shape"):
        return None
    dims = []
    for d in t.shape.dim:
        if not d.HasField("dim_value"):
            return None
        dims.append(int(d.dim_value))
    return tuple(dims)


def _eval_const(node: onnx.NodeProto, vals: list[np.ndarray], attrs: dict[str, Any]) -> Any:
    """Evaluate one shape-arithmetic node on constant inputs (None when not supported)."""
    op = node.op_type
    if op in ("Identity", "Cast"):
        return vals[0]
    if op == "Gather":
        return np.take(vals[0], vals[1], axis=int(attrs.get("axis", 0)))
    if op == "Unsqueeze":
        axes = attrs.get("axes", vals[1].tolist() if len(vals) > 1 else [])
        out = vals[0]
        for a in sorted(int(a) % (out.ndim + len(axes)) for a in axes):
            out = np.expand_dims(out, a)
        return out
    if op == "Squeeze":
        axes = attrs.get("axes", vals[1].tolist() if len(vals) > 1 else None)
        return np.squeeze(vals[0], axis=tuple(axes) if axes is not None else None)
    if op == "Concat":
        return np.concatenate(vals, axis=int(attrs.get("axis", 0)))
    if op == "Slice":
        data, starts, ends = vals[0], vals[1], vals[2]
        axes = vals[3] if len(vals) > 3 else np.arange(len(starts))
        steps = vals[4] if len(vals) > 4 else np.ones(len(starts), dtype=np.int64)
        idx = [slice(None)] * data.ndim
        for st, en, ax, sp in zip(starts, ends, axes, steps, strict=True):
            idx[int(ax)] = slice(int(st), int(min(en, 2**62)) if en > -2**62 else None, int(sp))
        return data[tuple(idx)]
    if op == "ConstantOfShape":
        value = attrs.get("value")
        fill = to_array(value) if value is not None else np.zeros(1, np.float32)
        return np.full(tuple(int(d) for d in vals[0]), fill.reshape(-1)[0], dtype=fill.dtype)
    if op == "Reshape":
        return vals[0].reshape(tuple(int(d) for d in vals[1]))
    if op == "Transpose":
        return np.transpose(vals[0], attrs.get("perm"))
    if op == "Range":
        return np.arange(vals[0], vals[1], vals[2])
    binary: dict[str, Callable[[Any, Any], Any]] = {
        "Equal": np.equal, "Mul": np.multiply, "Add": np.add, "Sub": np.subtract,
        "Div": lambda a, b: a // b if a.dtype.kind in "iu" else a / b,
        "Less": np.less, "Greater": np.greater}
    if op in binary:
        return binary[op](vals[0], vals[1])
    if op == "Where":
        return np.where(vals[0], vals[1], vals[2])
    return None


def _fold_shape_arithmetic(model: onnx.ModelProto) -> tuple[onnx.ModelProto, bool]:
    """Replace shape arithmetic whose inputs are now known by Constant nodes."""
    graph = model.graph
    consts: dict[str, np.ndarray] = {i.name: to_array(i) for i in graph.initializer}
    shapes: dict[str, Shape] = {}
    for vi in [*graph.input, *graph.value_info, *graph.output]:
        shape = static_shape(vi)
        if shape is not None:
            shapes[vi.name] = shape
    changed = False
    new_nodes: list[onnx.NodeProto] = []
    for node in graph.node:
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        value: Any = None
        if node.op_type == "Constant" and isinstance(attrs.get("value"), onnx.TensorProto):
            consts[node.output[0]] = to_array(attrs["value"])
        elif node.op_type == "Shape" and node.input[0] in shapes and len(node.output) == 1:
            value = np.array(shapes[node.input[0]], dtype=np.int64)
            start, end = attrs.get("start"), attrs.get("end")
            value = value[start:end]
        elif node.op_type != "Constant" and all(not t or t in consts for t in node.input):
            try:
                value = _eval_const(node, [consts[t] for t in node.input if t], attrs)
            except Exception:  # leave anything unusual to shape inference
                value = None
        if value is not None and len(node.output) == 1:
            arr = np.asarray(value)
            consts[node.output[0]] = arr
            new_nodes.append(helper.make_node(
                "Constant", [], [node.output[0]], name=node.name,
                value=numpy_helper.from_array(arr, node.output[0])))
            changed = True
            continue
        new_nodes.append(node)
    if changed:
        del graph.node[:]
        graph.node.extend(new_nodes)
    return model, changed


def to_array(t: onnx.TensorProto) -> np.ndarray:
    """A tensor's values; for a shape-only model (external data absent, as in ZigZag's shipped
    workloads) a zero-memory array of ones of the right shape: its weights count as dense."""
    if t.data_location == onnx.TensorProto.EXTERNAL and not t.raw_data:
        dtype = helper.tensor_dtype_to_np_dtype(t.data_type)
        return np.broadcast_to(np.ones((), dtype=dtype), tuple(int(d) for d in t.dims))
    return numpy_helper.to_array(t)


def load(file: str) -> onnx.ModelProto:
    model = onnx.load(file, load_external_data=False)
    # A shape-only model's missing external weights are read as dense (see to_array).
    with contextlib.suppress(OSError, ValueError, onnx.checker.ValidationError):
        onnx.external_data_helper.load_external_data_for_model(model, str(Path(file).parent))
    model = shape_inference.infer_shapes(model, data_prop=True)
    for _ in range(8):  # each round may make more shapes static
        model, changed = _fold_shape_arithmetic(model)
        if not changed:
            break
        del model.graph.value_info[:]
        model = shape_inference.infer_shapes(model, data_prop=True)
    return model




__all__ = ["load", "static_shape", "to_array"]
