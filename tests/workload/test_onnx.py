"""ONNX import agrees with torch tracing on the same model, and rejects what it cannot read."""

from __future__ import annotations

import warnings
from collections import Counter
from pathlib import Path

import onnx
import pytest
import torch
from onnx import TensorProto, helper

from edgesim.errors import WorkloadError
from edgesim.workload import load_workload, zoo
from edgesim.workload.onnx import import_onnx
from edgesim.workload.trace import trace


def _export(name: str, path: Path) -> tuple:
    model, inputs = zoo.get(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, inputs, str(path), dynamo=False, opset_version=17)
    return model, inputs


@pytest.mark.parametrize("name", ["lenet5", "resnet18", "mobilenet_v2"])
def test_onnx_matches_trace(tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.onnx"
    model, inputs = _export(name, path)
    a, b = trace(model, inputs, name=name), load_workload(path)
    assert b.macs == a.macs and b.params == a.params
    assert Counter(lay.op for lay in a) == Counter(lay.op for lay in b)
    assert [(lay.op, lay.macs, lay.params) for lay in a] == [(lay.op, lay.macs, lay.params)
                                                             for lay in b]


def test_onnx_transformer_macs_match(tmp_path: Path) -> None:
    # the exporter decomposes GELU (erf) and the attention scale into elementwise nodes,
    # so layer lists differ; the work in GEMMs and the weights must agree.
    path = tmp_path / "vit.onnx"
    model, inputs = _export("vit_tiny", path)
    a, b = trace(model, inputs), import_onnx(path)
    assert (b.macs, b.params) == (a.macs, a.params)


def test_unsupported_onnx_op(tmp_path: Path) -> None:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
    graph = helper.make_graph([helper.make_node("Cos", ["x"], ["y"], name="cosine")], "g",
                              [x], [y])
    path = tmp_path / "cos.onnx"
    onnx.save(helper.make_model(graph), str(path))
    with pytest.raises(WorkloadError, match="unsupported ONNX op Cos .node 'cosine'"):
        import_onnx(path)


def test_broken_onnx_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.onnx"
    path.write_bytes(b"not a protobuf at all")
    with pytest.raises(WorkloadError, match="bad.onnx: not a readable ONNX model"):
        import_onnx(path)
    with pytest.raises(WorkloadError, match="no such file"):
        import_onnx(tmp_path / "missing.onnx")


def test_shape_only_onnx_with_missing_external_data(tmp_path) -> None:
    """ZigZag ships shape-only ONNX workloads whose weights live in absent external files:
    edgesim reads their shapes (weights counted dense) and gets the zoo's counts."""
    import shutil

    import zigzag

    from edgesim.workload import load_workload
    from edgesim.workload.onnx import import_onnx

    src = Path(zigzag.__file__).parent / "inputs" / "workload"
    shutil.copy(src / "resnet18.onnx", tmp_path / "resnet18.onnx")  # without its external data
    wl = import_onnx(tmp_path / "resnet18.onnx")
    zoo = load_workload("resnet18")
    assert wl.macs == zoo.macs and wl.params == zoo.params
    assert all(lay.weight_sparsity == 0.0 for lay in wl.layers)
    lrn = import_onnx(src / "alexnet.onnx")  # Caffe-style AlexNet with LRN layers
    assert any(lay.variant == "lrn" for lay in lrn.layers)
