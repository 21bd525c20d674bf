"""Every kind of bad spec gives one clean SpecError naming the file and the field path."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from edgesim.errors import SpecError
from edgesim.hardware import load_hardware, validate_spec_file

GOOD: dict[str, Any] = yaml.safe_load("""
name: my-npu
kind: npu
technology_nm: 28
clock: 1 GHz
compute:
  - {name: pe_array, type: systolic, rows: 32, cols: 32, dataflow: ws, operation: mac,
     precisions: [int8]}
  - {name: vec, type: simd, lanes: 16, precisions: [int8]}
memory:
  - {name: dram, type: dram, size: 4 GiB, bandwidth: 16 GB/s}
  - {name: ifmap_buf,  type: sram, size: 64 KiB, holds: [inputs]}
  - {name: filter_buf, type: sram, size: 64 KiB, holds: [weights]}
  - {name: ofmap_buf,  type: sram, size: 64 KiB, holds: [outputs]}
""")


def _set(path: tuple[Any, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(raw: dict[str, Any]) -> None:
        node: Any = raw
        for key in path[:-1]:
            node = node[key]
        if value is _DELETE:
            del node[path[-1]]
        else:
            node[path[-1]] = value
    return mutate


_DELETE = object()

CASES = [
    # (id, mutation, expected field path, expected words in the message)
    ("negative size", _set(("memory", 1, "size"), "-3 KiB"), "memory[1].size",
     'expected a size such as "64 KiB", got \'-3 KiB\''),
    ("zero size", _set(("memory", 1, "size"), "0 KiB"), "memory[1].size", "positive"),
    ("number without unit", _set(("memory", 2, "size"), 65536), "memory[2].size",
     "needs its unit"),
    ("wrong unit", _set(("clock",), "1 GB"), "clock", "expected a frequency"),
    ("wrong energy unit", _set(("memory", 1, "read_energy"), "3 GHz"), "memory[1].read_energy",
     "expected an energy"),
    ("unknown top key", _set(("colour",), "red"), "colour", "unknown key"),
    ("unknown unit key", _set(("compute", 0, "colour"), "red"), "compute[0].colour",
     "unknown key"),
    ("unknown level key", _set(("memory", 3, "latency"), "1 ns"), "memory[3].latency",
     "unknown key"),
    ("wrong type rows", _set(("compute", 0, "rows"), "many"), "compute[0].rows", "integer"),
    ("float rows", _set(("compute", 0, "rows"), 3.5), "compute[0].rows", "integer"),
    ("negative rows", _set(("compute", 0, "rows"), -1), "compute[0].rows", "greater than 0"),
    ("wrong type compute", _set(("compute",), "pe"), "compute", "list"),
    ("wrong type node", _set(("technology_nm",), "28nm"), "technology_nm", "nanometres"),
    ("unknown dataflow", _set(("compute", 0, "dataflow"), "xyz"), "compute[0].dataflow", "'ws'"),
    ("dataflow for type", _set(("compute", 0, "dataflow"), "rs"), "compute[0].dataflow",
     "not valid for a systolic unit"),
    ("bad fallback", _set(("fallback",), "nope"), "fallback", "names no compute unit"),
    ("fallback is main", _set(("fallback",), "pe_array"), "fallback", "differ"),
    ("reaches an unknown level", _set(("compute", 1, "reaches"), ["l2"]), "compute[1].reaches",
     "'l2' names no on-chip memory level"),
    ("reaches the dram", _set(("compute", 1, "reaches"), ["dram"]), "compute[1].reaches",
     "names no on-chip"),
    ("reaches twice", _set(("compute", 1, "reaches"), ["ofmap_buf", "ofmap_buf"]),
     "compute[1].reaches", "repeats"),
    ("unknown kind", _set(("kind",), "tpu"), "kind", "'npu'"),
    ("unknown precision", _set(("compute", 0, "precisions"), ["int64"]),
     "compute[0].precisions", "unknown precision"),
    ("missing rows", _set(("compute", 0, "rows"), _DELETE), "compute[0].rows", "needs `rows`"),
    ("rows on simd", _set(("compute", 1, "rows"), 4), "compute[1].rows", "does not apply"),
    ("missing memory", _set(("memory",), _DELETE), "memory", "missing"),
    ("duplicate level", _set(("memory", 2, "name"), "ifmap_buf"), "memory", "unique"),
    ("duplicate unit", _set(("compute", 1, "name"), "pe_array"), "compute", "unique"),
    ("dram not first", _set(("memory", 0, "type"), "sram"), "memory", "off-chip"),
    ("per_pe cache", _set(("memory", 1, "type"), "cache"), None, None),  # valid: not per_pe
    ("unknown operand", _set(("memory", 1, "holds"), ["biases"]), "memory[1].holds[0]",
     "'inputs'"),
    ("operand nowhere", lambda r: (_set(("memory", 0, "holds"), ["inputs"])(r),
                                   _set(("memory", 2, "holds"), ["outputs"])(r)),
     "memory", "no level holds weights"),
    ("bad nm pattern", _set(("compute", 0, "nm_sparsity"), ["4:2"]),
     "compute[0].nm_sparsity", "N:M"),
    ("unknown op", _set(("compute", 0, "ops"), ["conv3d"]), "compute[0].ops[0]", "'conv2d'"),
    ("fused conv", _set(("compute", 0, "fuses"), ["relu", "conv2d"]), "compute[0].fuses",
     "output stage"),
    ("fuses repeat", _set(("compute", 1, "fuses"), ["relu", "relu"]), "compute[1].fuses",
     "repeats"),
    ("unknown residency", _set(("residency",), "forever"), "residency", "'lifetime'"),
    ("fill on systolic", _set(("compute", 0, "fill_cycles"), 4), "compute[0].fill_cycles",
     "cube"),
    ("zero fill on systolic", _set(("compute", 0, "fill_cycles"), 0), "compute[0].fill_cycles",
     "cube"),
    ("packing on simd", _set(("compute", 1, "packs_channels"), True),
     "compute[1].packs_channels", "cube"),
    ("mapping weight on systolic", _set(("compute", 0, "mapping_dram_weight"), 100),
     "compute[0].mapping_dram_weight", "spatial"),
    ("zero mapping weight", _set(("compute", 0, "mapping_dram_weight"), 0),
     "compute[0].mapping_dram_weight", "greater than 0"),
    ("depth unroll on systolic", _set(("compute", 0, "depth_unrolls"), "channels"),
     "compute[0].depth_unrolls", "cube"),
    ("pixel tile on systolic", _set(("compute", 0, "rows_pixel_tile"), [4, 8]),
     "compute[0].rows_pixel_tile", "cube"),
    ("pixel tile not the rows", lambda r: r["compute"].__setitem__(0, {
        "name": "pe_array", "type": "cube", "rows": 16, "cols": 8, "depth": 8,
        "precisions": ["int8"], "rows_pixel_tile": [4, 8]}),
     "compute[0].rows_pixel_tile", "does not fill"),
    ("channel per operand on sram", _set(("memory", 1, "channel_per_operand"), True),
     "memory[1].channel_per_operand", "only to dram"),
    ("single-buffered dram", _set(("memory", 0, "double_buffered"), False),
     "memory[0].double_buffered", "shared on-chip"),
    ("single-buffered per-PE file", lambda r: r["memory"].append(
        {"name": "rf", "type": "regfile", "size": "2 B", "word": "2 B", "holds": ["outputs"],
         "per_pe": True, "double_buffered": False}), "memory[4].double_buffered",
     "shared on-chip"),
    ("served dims on a shared level", _set(("memory", 1, "served_dimensions"), ["rows"]),
     "memory[1].served_dimensions", "per_pe"),
    ("served dims repeat", lambda r: r["memory"].append(
        {"name": "rf", "type": "regfile", "size": "2 B", "word": "2 B", "holds": ["outputs"],
         "per_pe": True,
         "served_dimensions": ["depth", "depth"]}), "memory[4].served_dimensions", "repeats"),
    ("outputs served along rows", lambda r: r["memory"].append(
        {"name": "rf", "type": "regfile", "size": "2 B", "word": "2 B", "holds": ["outputs"],
         "per_pe": True, "served_dimensions": ["rows"]}), "memory[4].served_dimensions",
     "only along `depth`"),
    ("served dims off a cube", lambda r: r["memory"].append(
        {"name": "rf", "type": "regfile", "size": "2 B", "word": "2 B", "holds": ["weights"],
         "per_pe": True,
         "served_dimensions": ["rows"]}), "memory[4].served_dimensions", "cube main unit"),
    ("unknown zero_skip", _set(("compute", 0, "zero_skip"), "maybe"), "compute[0].zero_skip",
     "'weights'"),
    ("adder int1", _set(("compute", 0, "operation"), "adder"), None, None),  # valid with int8
    ("dram without bandwidth", _set(("memory", 0, "bandwidth"), _DELETE),
     "memory[0].bandwidth", "needs `bandwidth`"),
    ("efficiency on array", _set(("compute", 0, "efficiency"), 0.5), "compute[0].efficiency",
     "simd"),
    ("efficiency > 1", _set(("compute", 1, "efficiency"), 1.5), "compute[1].efficiency", "1"),
    ("bad voltage", _set(("dvfs",), [{"clock": "1 GHz", "voltage": "0.8 A"}]),
     "dvfs[0].voltage", "voltage"),
    ("clock not a dvfs point", _set(("dvfs",), [{"clock": "800 MHz", "voltage": "0.8 V"}]),
     "clock", "dvfs"),
    ("bool as number", _set(("compute", 0, "cols"), True), "compute[0].cols", "integer"),
]


@pytest.mark.parametrize(("case", "mutate", "field", "words"), CASES,
                         ids=[c[0] for c in CASES])
def test_bad_spec(tmp_path: Path, case: str, mutate: Callable[[dict[str, Any]], None],
                  field: str | None, words: str | None) -> None:
    raw = copy.deepcopy(GOOD)
    mutate(raw)
    path = tmp_path / "my.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    if field is None:  # control cases: the mutation is legal
        assert validate_spec_file(path).name == "my-npu"
        return
    with pytest.raises(SpecError) as info:
        load_hardware(path)
    msg = str(info.value)
    assert msg.startswith(f"{path}: {field}: "), msg
    assert words is not None and words in msg, msg
    assert "\n" not in msg
    assert info.value.file == str(path) and info.value.field == field


@pytest.mark.parametrize(("text", "words"), [
    ("", "empty spec file"),
    ("# only a comment\n", "empty spec file"),
    ("name: [\n", "broken YAML"),
    ("name: a\n  kind: npu\n bad indent", "broken YAML"),
    ("- a\n- b\n", "expected a mapping of spec keys, got a list"),
    ("42\n", "got a number"),
    ("name: x\nname: y\n", "duplicate key 'name'"),
    ("base: 3\n", "base"),
    ("base: edge-npu\noverrides: [1]\n", "overrides"),
    ("base: edge-npu\noverrides: {compute.pe_array.colour: 1}\n", "overrides.compute.pe_array"),
])
def test_bad_file(tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(SpecError) as info:
        validate_spec_file(path)
    msg = str(info.value)
    assert msg.startswith(f"{path}: ") and words in msg and "\n" not in msg, msg


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "bin.yaml"
    path.write_bytes(b"\xff\xfe\x00name")
    with pytest.raises(SpecError, match="bin.yaml: cannot read"):
        validate_spec_file(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="no such file"):
        validate_spec_file(tmp_path / "nope.yaml")
