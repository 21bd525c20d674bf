"""A unit that reaches only some levels (``reaches``): an AI CPU beside an NPU reaches DRAM only,
so the tensors it reads and writes cross through DRAM both ways and none it touches stays on
chip; units that reach every level keep them on chip as before."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from edgesim.errors import SpecError
from edgesim.hardware import load_hardware
from edgesim.hardware.model import Hardware
from edgesim.mapping import map_workload
from edgesim.mapping.residency import plan_activations
from edgesim.mapping.topology import reaches, unit_view
from edgesim.vocab import OpKind
from edgesim.workload.ir import Layer, Workload
from tests.mapping.hwfactory import conv, systolic_hw

SPECS = Path(__file__).resolve().parents[2] / "hardware_specs"


def _chain() -> Workload:
    """conv a -> relu r (on the cpu: the array runs convs only) -> conv b -> conv c."""
    a = conv("a", 16, 16, 32, 3, 1, 1)
    r = Layer("r", OpKind.RELU, ("a",), (a.out_shape,), a.out_shape)
    b = conv("b", 16, 16, 32, 3, 1, 1, inputs=("r",))
    c = conv("c", 16, 16, 32, 3, 1, 1, inputs=("b",))
    return Workload("chain", (a, r, b, c))


def _cpu_reaches(hw: Hardware, levels: tuple[str, ...] | None) -> Hardware:
    units = [dataclasses.replace(u, reaches=levels) if u.name == "cpu" else u for u in hw.compute]
    return dataclasses.replace(hw, compute=tuple(units))


def test_a_dram_only_unit_sends_its_tensors_through_dram_both_ways():
    wl = _chain()
    shared = systolic_hw(sram=1 << 20)
    apart = _cpu_reaches(shared, ())
    s_shared, s_apart = map_workload(wl, shared), map_workload(wl, apart)
    assert [x.unit for x in s_apart.layers] == ["pe_array", "cpu", "pe_array", "pe_array"]
    # Sharing the buffers: a -> r -> b stay on chip; only c's output (the model's) goes home.
    assert [x.dram_write_bytes for x in s_shared.layers[:3]] == [0, 0, 0]
    elems = wl.layers[0].output_elems  # a's output, r's input and output
    # DRAM only: a's output is written home (int8), the cpu reads it and writes its own, b reads
    # that. Each layer reads and writes activations at its own unit's precision (fp32 on the
    # cpu, int8 on the array): the conversion between them is not modelled (a known gap).
    assert s_apart.layers[0].dram_write_bytes == elems
    assert s_apart.layers[1].dram_read_bytes == s_apart.layers[1].dram_write_bytes == elems * 4
    assert s_apart.layers[2].dram_read_bytes - s_shared.layers[2].dram_read_bytes == elems
    # b -> c is between units that share the buffers: still on chip.
    assert s_apart.layers[2].dram_write_bytes == 0
    # The cpu's layer touches no on-chip level, and its counts still name every level.
    cpu = s_apart.layers[1]
    assert list(cpu.reads_bytes) == [m.name for m in apart.memory]
    assert all(cpu.reads_bytes[m.name] == cpu.writes_bytes[m.name] == 0 for m in apart.memory[1:])
    assert plan_activations(wl, apart, units=[apart.unit(x.unit) for x in s_apart.layers]
                            ).resident == (False, False, True, False)


def test_a_unit_reaching_some_buffers_parks_only_there():
    hw = _cpu_reaches(systolic_hw(sram=1 << 20), ("ifmap_buf",))
    cpu = hw.unit("cpu")
    view = unit_view(hw, cpu)
    assert [m.name for m in view.memory] == ["dram", "ifmap_buf"]
    assert reaches(cpu, hw.memory[0]) and not reaches(cpu, hw.level("ofmap_buf"))
    assert unit_view(hw, hw.unit("pe_array")) is hw  # reaches nothing declared: every level
    # a's output parks in ofmap_buf, where the array writes it, unless a reader's unit (the
    # cpu) cannot reach it: then it goes home; the cpu reaches no buffer holding outputs, so its
    # own output goes home too; b's stays on chip
    units = [hw.unit(n) for n in ("pe_array", "cpu", "pe_array", "pe_array")]
    shared = systolic_hw(sram=1 << 20)
    assert plan_activations(_chain(), shared, units=[shared.unit(u.name) for u in units]
                            ).parked[:3] == ("ofmap_buf", "ofmap_buf", "ofmap_buf")
    assert plan_activations(_chain(), hw, units=units).parked[:3] == (None, None, "ofmap_buf")
    s = map_workload(_chain(), hw)
    assert s.layers[0].dram_write_bytes == _chain().layers[0].output_elems
    assert s.layers[1].reads_bytes["ifmap_buf"] > 0  # the cpu streams its input through it


def test_reaches_round_trips_through_the_spec_and_is_validated(tmp_path: Path):
    import yaml

    from edgesim.hardware import spec_to_yaml

    raw = yaml.safe_load((SPECS / "davinci-npu.yaml").read_text())
    raw["compute"][1]["reaches"] = ["ub"]
    (tmp_path / "npu.yaml").write_text(yaml.safe_dump(raw))
    hw = load_hardware(tmp_path / "npu.yaml")
    assert hw.unit("vector").reaches == ("ub",) and hw.unit("cube").reaches is None
    shown = yaml.safe_load(spec_to_yaml(hw))["compute"]  # what `specs show` prints
    assert shown[1]["reaches"] == ["ub"] and "reaches" not in shown[0]
    mcu = yaml.safe_load((SPECS / "cortex-m7.yaml").read_text())
    mcu["compute"][0]["reaches"] = []
    (tmp_path / "mcu.yaml").write_text(yaml.safe_dump(mcu))
    with pytest.raises(SpecError, match=r"mcu.yaml: compute\[0\]\.reaches: the levels unit "
                       r"'dsp' reaches hold no inputs"):
        load_hardware(tmp_path / "mcu.yaml")
    mcu["compute"][0]["reaches"] = ["dtcm"]  # holds every operand, but is not their home
    (tmp_path / "mcu.yaml").write_text(yaml.safe_dump(mcu))
    with pytest.raises(SpecError, match=r"compute\[0\]\.reaches: on a flash chip a unit must "
                       r"reach 'sram', the activations' home"):
        load_hardware(tmp_path / "mcu.yaml")
    mcu["compute"][0]["reaches"] = ["sram"]
    (tmp_path / "mcu.yaml").write_text(yaml.safe_dump(mcu))
    assert load_hardware(tmp_path / "mcu.yaml").main_unit.reaches == ("sram",)
