"""Energy and area roll-up: prices come from the spec, breakdowns sum, static = power x time."""

from __future__ import annotations

import json
import math

import pytest

from edgesim.cost.area import OVERHEAD, area_breakdown_mm2, total_area_mm2
from edgesim.cost.energy import layer_dynamic_energy_j, static_power_w
from edgesim.hardware import load_hardware
from edgesim.hardware.model import Operation
from edgesim.mapping.counts import LayerCounts, Schedule
from edgesim.sim import simulate_schedule
from edgesim.vocab import OpKind
from edgesim.workload.ir import Workload
from tests.sim.simkit import conv, make_hw, make_unit, schedule_of

CONTRACT_KEYS = {"hardware", "workload", "mode", "batch", "clock_hz", "latency_s",
                 "latency_cycles", "energy_j", "energy_breakdown_j", "area_mm2",
                 "area_breakdown_mm2", "macs", "adds", "params", "weight_bytes",
                 "dram_read_bytes", "dram_write_bytes", "layers"}
CONTRACT_LAYER_KEYS = {"name", "op", "unit", "macs", "adds", "compute_cycles", "latency_cycles",
                       "utilization", "dram_read_bytes", "dram_write_bytes", "energy_j",
                       "energy_breakdown_j", "bound"}


def _edge_npu_layer() -> tuple[Schedule, LayerCounts]:
    hw = load_hardware("edge-npu")
    lay = conv("c", 64, 64, 56)
    lc = LayerCounts(layer="c", op=OpKind.CONV2D, unit="pe_array", precision="int8",
                     compute_cycles=30_000, utilization=0.9, ops={"mac": lay.macs},
                     reads_bytes={"dram": 250_000, "weight_buf": 40_000, "ifmap_buf": 900_000},
                     writes_bytes={"dram": 200_000, "ofmap_buf": 200_000}, tiles=8,
                     dram_read_bytes=250_000, dram_write_bytes=200_000)
    return Schedule(Workload("one", (lay,)), hw, 1, (lc,), ((),)), lc


def test_dynamic_energy_is_counts_times_the_specs_prices() -> None:
    s, lc = _edge_npu_layer()
    hw = s.hardware
    e = layer_dynamic_energy_j(lc, hw)
    unit = hw.unit("pe_array")
    assert e["pe_array"] == pytest.approx(lc.ops["mac"] * unit.energy_pj("mac", "int8") * 1e-12)
    dram = hw.level("dram")
    assert e["dram"] == pytest.approx((250_000 * dram.read_energy_pj_per_byte
                                       + 200_000 * dram.write_energy_pj_per_byte) * 1e-12)
    assert e["ofmap_buf"] == pytest.approx(200_000 * hw.level("ofmap_buf").write_energy_pj_per_byte
                                           * 1e-12)
    assert "vector" not in e  # no work there


@pytest.mark.parametrize("mode", ["analytic", "des"])
def test_breakdown_sums_and_static_is_power_times_latency(mode: str) -> None:
    s, _ = _edge_npu_layer()
    r = simulate_schedule(s, mode)
    hw = s.hardware
    assert set(r.energy_breakdown_j) == {"pe_array", "vector", "dram", "weight_buf", "ifmap_buf",
                                         "ofmap_buf", "static"}
    assert math.fsum(r.energy_breakdown_j.values()) == pytest.approx(r.energy_j, rel=1e-12)
    # edge-npu: static_power 100 mW, no per-part leakage in the spec
    assert static_power_w(hw) == pytest.approx(0.1)
    assert r.energy_breakdown_j["static"] == pytest.approx(0.1 * r.latency_s, rel=1e-12)
    lay = r.layers[0]
    assert math.fsum(lay.energy_breakdown_j.values()) == pytest.approx(lay.energy_j, rel=1e-12)
    assert lay.energy_j == pytest.approx(r.energy_j, rel=1e-12)  # one layer: all of it


def test_leakage_of_parts_counts_in_static() -> None:
    hw = make_hw(static_power_w=0.05)  # unit 2 mW + SRAM 3 mW leakage (simkit)
    r = simulate_schedule(schedule_of(Workload("w", (conv("a", 16, 16, 14),)), hw), "analytic")
    assert r.energy_breakdown_j["static"] == pytest.approx((0.05 + 0.002 + 0.003) * r.latency_s)


def test_adder_layer_is_cheaper_on_adder_units_than_the_mac_layer_of_the_same_shape() -> None:
    hw = make_hw(units=(make_unit("macs"), make_unit("adders", operation=Operation.ADDER)))
    mac_l = conv("m", 32, 32, 14, inputs=())
    add_l = conv("a", 32, 32, 14, inputs=(), op=OpKind.ADDER_CONV2D)
    s = schedule_of(Workload("pair", (mac_l, add_l)), hw, units={"m": "macs", "a": "adders"})
    r = simulate_schedule(s, "analytic")
    m, a = r.layers
    assert m.macs == a.adds == mac_l.macs > 0
    ratio = a.energy_breakdown_j["adders"] / m.energy_breakdown_j["macs"]
    # the ratio is exactly the units' per-op energies (adder 0.06 pJ vs MAC 0.23 pJ)
    assert ratio == pytest.approx(hw.unit("adders").energy_pj("adder", "int8")
                                  / hw.unit("macs").energy_pj("mac", "int8"))
    assert a.energy_j < m.energy_j


def test_area_is_pes_plus_memories_plus_overhead() -> None:
    hw = load_hardware("edge-npu")
    area = area_breakdown_mm2(hw)
    pe = hw.unit("pe_array")
    assert area["pe_array"] == pytest.approx(pe.pe_area_mm2 * 64 * 64)
    assert area["dram"] == 0.0  # off-chip
    assert area["weight_buf"] == pytest.approx(hw.level("weight_buf").area_mm2)
    core = math.fsum(v for k, v in area.items() if k != OVERHEAD)
    assert area[OVERHEAD] == pytest.approx(0.15 * core)  # edge-npu: area_overhead 0.15
    assert total_area_mm2(hw) == pytest.approx(math.fsum(area.values()))


def test_result_json_has_the_contract_keys_and_round_trips() -> None:
    s, _ = _edge_npu_layer()
    for mode in ("analytic", "des"):
        r = simulate_schedule(s, mode)
        d = json.loads(json.dumps(r.to_dict()))
        assert set(d) >= CONTRACT_KEYS
        assert all(set(lay) >= CONTRACT_LAYER_KEYS for lay in d["layers"])
        assert d["mode"] == mode and d["hardware"] == "edge-npu" and d["batch"] == 1
        assert d["layers"][0]["bound"] in ("compute", "memory")
        assert d["latency_cycles"] == round(d["latency_s"] * 500e6)
        assert d["area_mm2"] == pytest.approx(sum(d["area_breakdown_mm2"].values()))
        assert set(r.energy_sources) >= set(r.energy_breakdown_j)
        frame = r.to_frame()
        assert list(frame["name"]) == ["c"] and frame["energy_j"].iloc[0] == r.layers[0].energy_j
        text = r.summary()
        assert "latency" in text and "energy" in text and "area" in text and "bound" in text
    assert simulate_schedule(s, "analytic").timeline == ()
