"""Writing workloads as YAML: the CONTRACT's layer-list form (checked by reading it back) or the graph form."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol

import yaml

from edgesim.errors import WorkloadError
from edgesim.vocab import CONV_OPS, WEIGHTED_OPS, OpKind, Precision
from edgesim.workload.layer import Layer
from edgesim.workload.yaml_read import parse_workload


class WorkloadLike(Protocol):
    """What the writers read of a workload (``edgesim.workload.ir.Workload`` is one)."""

    @property
    def name(self) -> str: ...
    @property
    def batch(self) -> int: ...
    @property
    def layers(self) -> tuple[Layer, ...]: ...


def _bits_out(precision: Precision | None) -> int | str | None:
    if precision is None:
        return None
    return precision.value if precision.is_float else precision.bits


def _precision_out(precision: Precision | None) -> str | None:
    return None if precision is None else precision.value


def _list(t: Sequence[int]) -> list[int]:
    return [int(v) for v in t]


def _layer_entry(layer: Layer, prev: str | None, batch: int) -> dict[str, Any]:
    """One layer in the layer-list form (it is checked by reading it back)."""
    d: dict[str, Any] = {"name": layer.name, "op": layer.op.value}
    op = layer.op
    x = layer.in_shapes[0] if layer.in_shapes else ()
    if op in CONV_OPS or op == OpKind.CONV_TRANSPOSE2D:
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
    elif op == OpKind.EMBEDDING:
        d |= {"num_embeddings": layer.weight_shape[0], "embedding_dim": layer.weight_shape[1],
              "tokens": math.prod(x[1:])}
    elif op in (OpKind.RELU, OpKind.ACTIVATION) and layer.variant:
        d["variant"] = layer.variant
    if op in WEIGHTED_OPS and layer.has_bias:
        d["bias"] = True
    if not layer.inputs and op not in WEIGHTED_OPS and op not in (OpKind.MATMUL,
                                                                    OpKind.EMBEDDING):
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
    return {**d, **_sharing(layer)}


def _sharing(layer: Layer) -> dict[str, Any]:
    """Weight-sharing keys, written only where a layer shares weights (older files unchanged)."""
    out: dict[str, Any] = {}
    if layer.shared_weights:
        out["shared_weights"] = layer.shared_weights
    if layer.weight_code_bits:
        out["weight_code_bits"] = layer.weight_code_bits
    return out


def _graph_entry(layer: Layer) -> dict[str, Any]:
    fresh = {"fresh_inputs": list(layer.fresh_inputs)} if layer.fresh_inputs else {}
    return {"name": layer.name, "op": layer.op.value, "inputs": list(layer.inputs), **fresh,
            "in_shapes": [_list(s) for s in layer.in_shapes], "out_shape": _list(layer.out_shape),
            "kernel": _list(layer.kernel), "stride": _list(layer.stride),
            "padding": _list(layer.padding), "dilation": _list(layer.dilation),
            "groups": layer.groups, "weight_shape": _list(layer.weight_shape),
            "has_bias": layer.has_bias, "variant": layer.variant,
            "weight_precision": _precision_out(layer.weight_precision),
            "act_precision": _precision_out(layer.act_precision),
            "weight_sparsity": layer.weight_sparsity, "act_sparsity": layer.act_sparsity,
            "sparsity_pattern": layer.sparsity_pattern, **_sharing(layer),
            "extra": [[k, v] for k, v in layer.extra]}


def workload_to_dict(wl: WorkloadLike, form: str = "layers") -> dict[str, Any]:
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
        back = parse_workload(data, file=None, default_name=wl.name)
    except WorkloadError as exc:
        raise WorkloadError(f"the layer-list form cannot express this workload ({exc}); "
                            "write it with form='graph'", field="form") from None
    for a, b in zip(wl.layers, back.layers, strict=True):
        if replace(a, extra=()) != b:
            raise WorkloadError(f"the layer-list form cannot express layer {a.name!r} exactly; "
                                "write it with form='graph'", field="form")
    return data


def dump_workload_yaml(wl: WorkloadLike, form: str = "layers") -> str:
    """The YAML text: a block header and one flow mapping per layer."""
    data = workload_to_dict(wl, form)
    layers = data.pop("layers")
    head = yaml.safe_dump(data, sort_keys=False, default_flow_style=False)
    lines = [head.rstrip("\n"), "layers:"]
    for entry in layers:
        text = yaml.safe_dump(entry, sort_keys=False, default_flow_style=True, width=1 << 30)
        lines.append(f"  - {text.strip()}")
    return "\n".join(lines) + "\n"


def write_workload_yaml(wl: WorkloadLike, path: str | Path, form: str = "layers") -> None:
    """Write ``wl`` to ``path`` as YAML (``form`` is ``"layers"`` or ``"graph"``)."""
    text = dump_workload_yaml(wl, form)
    p = Path(path)
    tmp = p.with_name(p.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(p)

