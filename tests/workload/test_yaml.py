"""Workload YAML: built-ins, round trips, every kind of bad input, and no torch import."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from edgesim.errors import WorkloadError
from edgesim.vocab import OpKind
from edgesim.workload import (
    builtin_workloads,
    load_workload,
    read_workload_yaml,
    write_workload_yaml,
)

REPO = Path(__file__).resolve().parents[2]


def test_builtin_workloads_load() -> None:
    assert {"small3", "alexnet_conv", "scalesim_small"} <= set(builtin_workloads())
    small = load_workload("small3")
    assert [lay.op for lay in small] == [OpKind.CONV2D, OpKind.CONV2D, OpKind.ADDER_CONV2D,
                                         OpKind.POOL2D, OpKind.LINEAR]
    c2 = small.layer("c2")
    assert c2.out_shape == (1, 128, 28, 28) and c2.weight_sparsity == 0.5
    assert c2.weight_precision == "int8" and small.layer("fc").weight_precision == "int4"
    assert small.layer("a2").adds == 28 * 28 * 128 * 128 * 9 and small.layer("a2").macs == 0
    assert small.layer("gap").weight_precision is None  # no weights, no weight precision


def test_alexnet_conv_matches_zoo_convs() -> None:
    zoo_convs = [lay for lay in load_workload("alexnet") if lay.op == OpKind.CONV2D]
    yaml_convs = [lay for lay in load_workload("alexnet_conv") if lay.op == OpKind.CONV2D]
    assert [(c.macs, c.params, c.out_shape) for c in yaml_convs] == [
        (c.macs, c.params, c.out_shape) for c in zoo_convs]


def test_independent_layers() -> None:
    wl = load_workload(REPO / "workloads" / "scalesim_small.yaml")
    assert all(lay.inputs == () for lay in wl)
    assert wl.layer("dw").macs == 14 * 14 * 32 * 9
    assert wl.layer("gemm").macs == 64 ** 3


@pytest.mark.parametrize("name", ["small3", "alexnet_conv", "scalesim_small"])
@pytest.mark.parametrize("form", ["layers", "graph"])
def test_round_trip_builtin(tmp_path: Path, name: str, form: str) -> None:
    wl = load_workload(name)
    write_workload_yaml(wl, tmp_path / "a.yaml", form=form)
    back = read_workload_yaml(tmp_path / "a.yaml")
    assert back.layers == wl.layers and back.name == wl.name and back.batch == wl.batch
    write_workload_yaml(back, tmp_path / "b.yaml", form=form)
    assert (tmp_path / "a.yaml").read_text() == (tmp_path / "b.yaml").read_text()


@pytest.mark.parametrize("name", ["resnet18", "vit_tiny", "ghostnet"])
def test_round_trip_traced_graph(tmp_path: Path, name: str) -> None:
    wl = load_workload(name)
    wl.to_yaml(tmp_path / "g.yaml", form="graph")
    back = load_workload(tmp_path / "g.yaml")
    assert back.layers == wl.layers and (back.macs, back.params) == (wl.macs, wl.params)


def test_round_trip_traced_chain_layer_list(tmp_path: Path) -> None:
    import torch
    from torch import nn

    from edgesim.workload.trace import trace

    m = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 8, 3, groups=8),
                      nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8 * 9, 10))
    wl = trace(m, torch.randn(1, 3, 8, 8))
    wl.to_yaml(tmp_path / "l.yaml")
    assert "form: graph" not in (tmp_path / "l.yaml").read_text()
    assert load_workload(tmp_path / "l.yaml").layers == wl.layers


def test_layer_list_refuses_what_it_cannot_express(tmp_path: Path) -> None:
    with pytest.raises(WorkloadError, match="form='graph'"):
        load_workload("vit_tiny").to_yaml(tmp_path / "v.yaml", form="layers")
    assert not (tmp_path / "v.yaml").exists()


GOOD = """name: t
batch: 1
defaults: {weight_bits: 8, act_bits: 8}
layers:
  - {name: c1, op: conv2d, in_channels: 3, out_channels: 8, in_size: [8, 8], kernel: [3, 3], padding: [1, 1]}
  - {name: c2, op: conv2d, in_channels: 8, out_channels: 8, kernel: 3, padding: 1}
  - {name: s, op: add, inputs: [c1, c2]}
"""


def test_good_base_is_good(tmp_path: Path) -> None:
    p = tmp_path / "good.yaml"
    p.write_text(GOOD)
    wl = read_workload_yaml(p)
    assert wl.layer("s").inputs == ("c1", "c2") and wl.layer("c2").in_shapes == ((1, 8, 8, 8),)


BAD = [
    ("unknown op", GOOD.replace("op: add", "op: fft"), "layers[2].op: unknown op 'fft'"),
    ("unknown key", GOOD.replace("padding: 1}", "padding: 1, colour: red}"),
     "layers[1].colour: unknown key"),
    ("unknown top key", GOOD.replace("batch: 1", "batch: 1\nspeed: 3"), "speed: unknown key"),
    ("wrong type", GOOD.replace("out_channels: 8, in_size", "out_channels: '8', in_size"),
     "layers[0].out_channels: Input should be a valid integer"),
    ("broken yaml", GOOD.replace("layers:", "layers: [unclosed"), "broken YAML"),
    ("negative size", GOOD.replace("in_size: [8, 8]", "in_size: [-8, 8]"),
     "layers[0].in_size"),
    ("zero channels", GOOD.replace("in_channels: 3", "in_channels: 0"),
     "layers[0].in_channels: Input should be greater than 0"),
    ("bits too wide", GOOD.replace("weight_bits: 8", "weight_bits: 40"),
     "defaults.weight_bits: bit-width must be within 1..32, got 40"),
    ("unknown precision", GOOD.replace("padding: 1}", "padding: 1, act_bits: fp8}"),
     "layers[1].act_bits: unknown precision 'fp8'"),
    ("sparsity 1", GOOD.replace("padding: 1}", "padding: 1, weight_sparsity: 1.0}"),
     "layers[1].weight_sparsity: Input should be less than 1"),
    ("shared add", GOOD.replace("inputs: [c1, c2]}", "inputs: [c1, c2], shared_weights: 4}"),
     "layers[2].shared_weights: op add has no weights"),
    ("code bits unshared", GOOD.replace("padding: 1}", "padding: 1, weight_code_bits: 3.0}"),
     "weight_code_bits: Huffman-coded indices need shared weights"),
    ("negative sparsity", GOOD.replace("padding: 1}", "padding: 1, act_sparsity: -0.1}"),
     "layers[1].act_sparsity: Input should be greater than or equal to 0"),
    ("bad pattern", GOOD.replace("padding: 1}", "padding: 1, sparsity_pattern: '4:2'}"),
     "layers[1].sparsity_pattern: expected 'unstructured' or 'N:M'"),
    ("channel mismatch", GOOD.replace("in_channels: 8, out", "in_channels: 16, out"),
     "layers[1].in_channels: 16 does not match producer 'c1' output channels"),
    ("unknown input", GOOD.replace("inputs: [c1, c2]", "inputs: [c1, c9]"),
     "layers[2].inputs[1]: unknown input layer 'c9'"),
    ("shape mismatch", GOOD.replace("kernel: 3, padding: 1", "kernel: 3, padding: 0"),
     "layers[2].inputs[1]: shape [1, 8, 6, 6] of 'c2' does not match"),
    ("size mismatch", GOOD.replace("kernel: 3, padding: 1}", "kernel: 3, padding: 1, "
                                   "in_size: [9, 9]}"), "layers[1].in_size"),
    ("no layers", "name: t\nlayers: []\n", "layers: List should have at least 1 item"),
    ("not a mapping", "- 1\n- 2\n", "expected a mapping"),
    ("duplicate name", GOOD.replace("name: c2", "name: c1"), "layers[1].name: duplicate"),
    ("kernel too big", GOOD.replace("kernel: [3, 3], padding: [1, 1]", "kernel: [11, 11]"),
     "layers[0].kernel: kernel [11, 11] does not fit"),
]


@pytest.mark.parametrize(("case", "text", "message"), BAD, ids=[b[0] for b in BAD])
def test_bad_workload_yaml(tmp_path: Path, case: str, text: str, message: str) -> None:
    p = tmp_path / "bad.yaml"
    p.write_text(text)
    with pytest.raises(WorkloadError) as err:
        read_workload_yaml(p)
    assert str(err.value).startswith(f"{p}: "), case
    assert message in str(err.value), str(err.value)


def test_empty_and_missing_files(tmp_path: Path) -> None:
    p = tmp_path / "empty.yaml"
    p.write_text("  \n")
    with pytest.raises(WorkloadError, match="empty.yaml: the file is empty"):
        load_workload(p)
    with pytest.raises(WorkloadError, match="no such file"):
        load_workload(tmp_path / "nope.yaml")
    with pytest.raises(WorkloadError, match="no zoo model, built-in workload or file"):
        load_workload("resnet9000")


def test_bad_graph_form(tmp_path: Path) -> None:
    wl = load_workload("small3")
    wl.to_yaml(tmp_path / "g.yaml", form="graph")
    text = (tmp_path / "g.yaml").read_text()
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace("weight_shape: [128, 64, 3, 3]", "weight_shape: [128, 32, 3, 3]"))
    with pytest.raises(WorkloadError, match=r"layers\[1\].weight_shape: .* expects 32 input"):
        read_workload_yaml(bad)
    bad.write_text(text.replace("out_shape: [1, 128, 28, 28]", "out_shape: [1, 128, 27, 28]", 1))
    with pytest.raises(WorkloadError, match=r"layers\[1\].out_shape: output size"):
        read_workload_yaml(bad)


def test_yaml_loading_does_not_import_torch() -> None:
    code = ("import sys, edgesim, edgesim.workload as w; wl = w.load_workload('small3'); "
            "wl2 = edgesim.load_workload('alexnet_conv'); assert wl.macs and wl2.macs; "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=REPO)
    assert out.stdout.strip() == "False"


def test_nm_pattern_stays_a_string_and_duplicate_keys_fail(tmp_path: Path) -> None:
    """YAML 1.1 reads an unquoted 2:4 as the base-60 integer 124; edgesim's reader does not."""
    from edgesim.workload import read_workload_yaml

    p = tmp_path / "nm.yaml"
    p.write_text("name: nm\nlayers:\n  - {name: c1, op: conv2d, in_channels: 16, out_channels: 32,"
                 " in_size: [14, 14], kernel: [3, 3], padding: [1, 1], weight_sparsity: 0.5,"
                 " sparsity_pattern: 2:4}\n")
    assert read_workload_yaml(p).layers[0].sparsity_pattern == "2:4"
    p.write_text("name: a\nname: b\nlayers: []\n")
    with pytest.raises(WorkloadError, match="duplicate key 'name'"):
        read_workload_yaml(p)
