"""Analytic vs DES composition: the closed form, agreement on chains, determinism, errors."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgesim.errors import EdgesimError
from edgesim.mapping.counts import LayerCounts, Schedule
from edgesim.sim import simulate, simulate_schedule
from edgesim.sim.timing import MAX_TILE_STEPS
from edgesim.workload.ir import Workload
from tests.sim.simkit import conv, linear, make_hw, schedule_of


def _one_layer_schedule(cycles: int, rd: int, wr: int, tiles: int, dram_bw: float,
                        ) -> Schedule:
    hw = make_hw(dram_bw=dram_bw, static_power_w=0.0)
    layer = conv("c", 8, 8, 8)
    lc = LayerCounts(layer="c", op=layer.op, unit="pe_array", precision="int8",
                     compute_cycles=cycles, utilization=0.5, ops={"mac": layer.macs},
                     reads_bytes={"dram": rd}, writes_bytes={"dram": wr}, tiles=tiles,
                     dram_read_bytes=rd, dram_write_bytes=wr)
    return Schedule(Workload("one", (layer,)), hw, 1, (lc,), ((),))


def test_compute_bound_layer_exposes_one_tile_of_memory() -> None:
    # 1000 cycles at 1 GHz = 1 us of compute; 600 B + 200 B at 1 GB/s = 0.8 us of DRAM; 4 tiles:
    # the first tile's load (0.15 us) and last tile's store (0.05 us) do not overlap: 1.2 us.
    s = _one_layer_schedule(1000, 600, 200, 4, 1e9)
    a = simulate_schedule(s, "analytic")
    d = simulate_schedule(s, "des")
    assert a.latency_s == pytest.approx(1.2e-6, rel=1e-12)
    assert d.latency_s == pytest.approx(1.2e-6, rel=1e-9)
    assert a.layers[0].bound == "compute"
    assert a.latency_cycles == 1200


def test_memory_bound_layer_hides_compute_under_the_stores() -> None:
    # 400 cycles = 0.4 us compute; 1500 B + 500 B at 1 GB/s = 2 us of DRAM; 4 steps of
    # l = 0.375, c = 0.1, s = 0.125 us. The DRAM never idles and the last step's compute hides
    # under the store of the step before it: latency = DRAM time = 2.0 us.
    s = _one_layer_schedule(400, 1500, 500, 4, 1e9)
    a = simulate_schedule(s, "analytic")
    d = simulate_schedule(s, "des")
    assert a.layers[0].bound == "memory"
    assert a.latency_s == pytest.approx(2.0e-6, rel=1e-12)
    assert d.latency_s == pytest.approx(2.0e-6, rel=1e-9)


def test_memory_bound_layer_exposes_the_compute_tail() -> None:
    # c = 0.2 us > s = 0.125 us: the last compute outlasts the previous store by 0.075 us, then
    # the last store runs: 2.0 + 0.075 = 2.075 us (stage by stage in edgesim.sim.timing).
    s = _one_layer_schedule(800, 1500, 500, 4, 1e9)
    for mode in ("analytic", "des"):
        assert simulate_schedule(s, mode).latency_s == pytest.approx(2.075e-6, rel=1e-9)


def test_single_tile_is_fully_serial() -> None:
    # one tile cannot double-buffer: load 1 us + compute 2 us + store 0.5 us.
    s = _one_layer_schedule(2000, 1000, 500, 1, 1e9)
    for mode in ("analytic", "des"):
        assert simulate_schedule(s, mode).latency_s == pytest.approx(3.5e-6, rel=1e-9)


def test_tiles_beyond_the_cap_are_aggregated_with_the_same_totals() -> None:
    few = simulate_schedule(_one_layer_schedule(1000, 600, 200, MAX_TILE_STEPS, 1e9), "des")
    many = simulate_schedule(_one_layer_schedule(1000, 600, 200, 10 * MAX_TILE_STEPS, 1e9), "des")
    assert few.latency_s == many.latency_s
    assert many.dram_read_bytes == 600 and many.dram_write_bytes == 200


def test_declared_onchip_bandwidth_stretches_compute() -> None:
    import dataclasses

    s = _one_layer_schedule(1000, 0, 0, 1, 1e9)
    hw = s.hardware
    slow = dataclasses.replace(hw.memory[1], bandwidth_bytes_per_s=1e9)
    hw2 = dataclasses.replace(hw, memory=(hw.memory[0], slow))
    lc = dataclasses.replace(s.layers[0], reads_bytes={"sram": 3000}, writes_bytes={})
    r = simulate_schedule(Schedule(s.workload, hw2, 1, (lc,), ((),)), "analytic")
    # 3000 B at 1 GB/s = 3 us > 1 us of compute: memory-bound, 3 us.
    assert r.latency_s == pytest.approx(3e-6, rel=1e-12)
    assert r.layers[0].bound == "memory"


@st.composite
def chains(draw: st.DrawFn) -> tuple[Workload, dict[str, float]]:
    n = draw(st.integers(1, 6))
    layers = []
    c = draw(st.sampled_from([3, 8, 16, 32]))
    px = draw(st.sampled_from([8, 14, 28]))
    prev = None
    for i in range(n):
        if draw(st.booleans()) or i < n - 1:
            k = draw(st.sampled_from([8, 16, 32, 64]))
            r = draw(st.sampled_from([1, 3]))
            stride = draw(st.sampled_from([1, 2])) if px >= 8 else 1
            lay = conv(f"c{i}", c, k, px, r=r, stride=stride, prev=prev)
            c, px = k, lay.out_shape[-1]
        else:
            lay = linear(f"fc{i}", c * px * px, draw(st.sampled_from([10, 100])), prev=prev)
            lay = replace(lay, in_shapes=((1, c * px * px),))
        layers.append(lay)
        prev = lay.name
        if lay.op.value == "linear":
            break
    spec = {
        "rows": draw(st.sampled_from([4, 8, 16, 32])),
        "cols": draw(st.sampled_from([4, 8, 16, 32])),
        "sram_bytes": draw(st.sampled_from([2048, 16384, 262144])),
        "dram_bw": draw(st.sampled_from([0.5e9, 2e9, 8e9, 64e9])),
    }
    return Workload("chain", tuple(layers)), spec


@settings(max_examples=40, deadline=None)
@given(chains())
def test_analytic_and_des_agree_on_chains(case: tuple[Workload, dict[str, float]]) -> None:
    wl, spec = case
    hw = make_hw(rows=int(spec["rows"]), cols=int(spec["cols"]),
                 sram_bytes=int(spec["sram_bytes"]), dram_bw=spec["dram_bw"])
    s = schedule_of(wl, hw)
    a = simulate_schedule(s, "analytic")
    d = simulate_schedule(s, "des")
    assert d.latency_s == pytest.approx(a.latency_s, rel=0.05)
    assert d.energy_j == pytest.approx(a.energy_j, rel=0.01)
    assert d.dram_read_bytes == a.dram_read_bytes
    assert a.energy_breakdown_j["static"] == pytest.approx(
        (hw.static_power_w + sum(u.leakage_w for u in hw.compute)
         + sum(m.leakage_w for m in hw.memory)) * a.latency_s, rel=1e-12)


def test_same_inputs_give_bit_identical_numbers() -> None:
    hw = make_hw(dram_bw=2e9)
    wl = Workload("w", (conv("a", 16, 32, 28), conv("b", 32, 32, 28, prev="a"),
                        conv("c", 32, 64, 28, stride=2, prev="b")))
    for mode in ("analytic", "des"):
        r1 = simulate_schedule(schedule_of(wl, hw), mode)
        r2 = simulate_schedule(schedule_of(wl, hw), mode)
        assert r1.to_dict() == r2.to_dict()
        assert r1.timeline == r2.timeline


def test_unknown_mode_is_an_edgesim_error_naming_the_field() -> None:
    wl = Workload("w", (conv("a", 16, 32, 28),))
    with pytest.raises(EdgesimError) as info:
        simulate(wl, make_hw(), mode="cycle-accurate")
    assert info.value.field == "mode"
    assert "cycle-accurate" in str(info.value)
