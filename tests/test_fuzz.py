"""Fuzzing the boundary (hypothesis, derandomized: the same examples on every run): generated
spec YAML, workload YAML, --set values and search configs, valid, nearly valid and garbage, end
in a result or an EdgesimError (on the command line: exit 2, one line, no output file), never a
traceback; where a result comes back, its invariants hold."""

from __future__ import annotations

import contextlib
import copy
import io
import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import edgesim as es
from edgesim.cli import main
from edgesim.errors import EdgesimError
from edgesim.hardware.build import build_hardware
from edgesim.hardware.spec import validate_spec_dict
from edgesim.workload.load import workload_from_dict

ROOT = Path(__file__).resolve().parents[1]
SPECS = {n: yaml.safe_load((ROOT / "hardware_specs" / f"{n}.yaml").read_text())
         for n in ("edge-npu", "eyeriss", "davinci-npu", "cortex-m7", "cortex-a76")}
LENET = es.load_workload("lenet5")
WORKLOAD = yaml.safe_load("""
name: fuzz
defaults: {weight_bits: 8, act_bits: 8}
layers:
  - {name: c1, op: conv2d, in_channels: 3, out_channels: 8, in_size: [16, 16], kernel: [3, 3],
     stride: [1, 1], padding: [1, 1]}
  - {name: p1, op: pool2d, variant: max, kernel: [2, 2], stride: [2, 2]}
  - {name: c2, op: conv2d, in_channels: 8, out_channels: 16, in_size: [8, 8], kernel: [3, 3],
     weight_sparsity: 0.5}
  - {name: fc, op: linear, in_features: 576, out_features: 10}
""")
FUZZ = settings(max_examples=60, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow])

# Values a careless or hostile file holds: numbers of every sign, unit strings right and wrong,
# empty and odd containers, text.
VALUES = st.one_of(
    st.integers(-5, 5000), st.floats(allow_nan=True, allow_infinity=True), st.booleans(),
    st.none(), st.text(max_size=8),
    st.sampled_from(["64 KiB", "-3 KiB", "64 KB", "1 GHz", "0 Hz", "25.6 GB/s", "6.4 Gbps",
                     "0.2 pJ", "1.2 pJ/B", "10 pJ", "0.5 mm2", "15 mW", "nan GHz", "1e400 B",
                     "int8", "fp16", "int3", "ws", "rs", "2:4", "relu", "weights", "sram"]),
    st.lists(st.sampled_from(["int8", "weights", "relu", 3, "x"]), max_size=3),
    st.dictionaries(st.sampled_from(["a", "rows", "mac"]), st.integers(0, 3), max_size=2))


def _paths(tree: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value in a nested dict/list tree."""
    out = [prefix] if prefix else []
    if isinstance(tree, dict):
        for k, v in tree.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(tree, list):
        for i, v in enumerate(tree):
            out += _paths(v, (*prefix, i))
    return out


@st.composite
def mutated(draw: st.DrawFn, base: Any) -> Any:
    """``base`` with one to three edits: a value replaced, a key dropped, a key misspelt or a
    key added."""
    tree = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(tree)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = tree
        for p in path[:-1]:
            parent = parent[p]
        key = path[-1]
        edit = draw(st.sampled_from(["value", "drop", "misspell", "add"]))
        if edit == "value":
            parent[key] = draw(VALUES)
        elif edit == "drop":
            del parent[key]
        elif edit == "misspell" and isinstance(key, str):
            parent[key[:-1] or "x"] = parent.pop(key)
        elif isinstance(parent, dict):
            parent[draw(st.sampled_from(["extra", "row", "size", "clock2"]))] = draw(VALUES)
    return tree


def _check_result(res: es.SimResult) -> None:
    assert res.latency_s > 0 and math.isfinite(res.latency_s)
    assert math.isclose(sum(res.energy_breakdown_j.values()), res.energy_j, rel_tol=1e-9)
    for lay in res.layers:
        assert lay.latency_cycles >= lay.compute_cycles, lay.name


def _hardware(raw: Any) -> es.Hardware | None:
    try:
        return build_hardware(validate_spec_dict(raw, "fuzz.yaml"), "fuzz.yaml")
    except EdgesimError as exc:
        assert str(exc).startswith("fuzz.yaml"), exc  # names the file
        return None


@FUZZ
@given(st.sampled_from(list(SPECS)).flatmap(lambda n: mutated(SPECS[n])))
def test_spec_files(raw: Any) -> None:
    hw = _hardware(raw)
    if hw is None:
        return
    try:
        res = es.simulate(LENET, hw)
    except EdgesimError:
        return
    _check_result(res)
    faster = copy.deepcopy(raw)
    faster["memory"][0]["bandwidth"] = f"{2 * hw.outermost.bandwidth_bytes_per_s:.6g} B/s"
    hw2 = _hardware(faster)
    assert hw2 is not None
    assert es.simulate(LENET, hw2).latency_s <= res.latency_s * (1 + 1e-9)  # never slower


@FUZZ
@given(mutated(WORKLOAD))
def test_workload_files(raw: Any) -> None:
    try:
        wl = workload_from_dict(raw, "fuzz.yaml")
        res = es.simulate(wl, "edge-npu")
    except EdgesimError:
        return
    _check_result(res)


SET_KEYS = ["compute.pe_array.rows", "compute.pe_array.cols", "compute.pe_array.dataflow",
            "compute.pe_array.precisions", "memory.dram.bandwidth", "memory.weight_buf.size",
            "memory.ifmap_buf.word", "clock", "static_power", "residency", "compute[0].rows",
            "compute.pe_array.row", "memory.nope.size", "compute..rows", "", "memory[9].size"]


@settings(max_examples=40, deadline=None, derandomize=True)
@given(st.sampled_from(SET_KEYS), st.one_of(VALUES.map(str), st.text(max_size=12)))
def test_set_values_on_the_command_line(key: str, value: str) -> None:
    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        code = main(["simulate", "--hw", "edge-npu", "--model", "lenet5", "--set",
                     f"{key}={value}"])
    assert code in (0, 2), err.getvalue()
    if code == 2:
        lines = err.getvalue().strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and out.getvalue() == ""


SEARCH = {"problem": "channel_pruning", "model": "lenet5", "hardware": "edge-npu",
          "space": {"granularity": "group", "ratios": [0.0, 0.5]},
          "objectives": ["latency_s", "energy_j"], "algorithm": "grid"}


@settings(max_examples=25, deadline=None, derandomize=True)
@given(mutated(SEARCH))
def test_search_configs(raw: Any) -> None:
    try:
        res = es.search.run(raw, progress=False)
    except EdgesimError:
        return
    assert len(res.history) >= 1 and not res.pareto.empty or res.closest is not None


@pytest.mark.parametrize("text", ["", "- a\n- b\n", "name: [unclosed", "{a: 1}", "\x00\x01"])
def test_garbage_files_on_the_command_line(tmp_path: Path, text: str) -> None:
    spec, out = tmp_path / "s.yaml", tmp_path / "r.json"
    spec.write_text(text)
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(["simulate", "--hw", str(spec), "--model", "lenet5", "--json", str(out)])
    assert code == 2 and err.getvalue().count("\n") == 1 and not out.exists()
