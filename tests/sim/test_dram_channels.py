"""DRAM with a channel per operand (``channel_per_operand``): analytic and DES agree, and a
layer's transfers of different operands run side by side."""

from __future__ import annotations

import pytest

from edgesim.hardware import load_hardware
from edgesim.mapping import map_workload
from edgesim.results import EventKind
from edgesim.sim import simulate_schedule
from edgesim.sim.timing import HardwareTiming
from tests.mapping.eyeriss_fixture import alexnet_convs


def _eyeriss(overlap: str, per_operand: bool):
    return load_hardware("eyeriss", {"compute.pe_array.dram_overlap": overlap,
                                     "memory.dram.channel_per_operand": per_operand})


@pytest.mark.parametrize("overlap", ["all", "weights", "none"])
def test_analytic_equals_des_with_a_channel_per_operand(overlap):
    s = map_workload(alexnet_convs(4), _eyeriss(overlap, True))
    a, d = simulate_schedule(s, "analytic"), simulate_schedule(s, "des")
    assert a.latency_s == pytest.approx(d.latency_s, rel=1e-9)
    for la, ld in zip(a.layers, d.layers, strict=True):
        assert la.latency_s == pytest.approx(ld.latency_s, rel=1e-9)


def test_operands_cross_their_channels_side_by_side():
    """Every transfer serial (``none``): on one channel a step's store, weight and input loads
    follow each other; on three they overlap, so each layer is faster by what the slower
    channels hide, and its DRAM time is the busiest channel's, not the sum."""
    shared = map_workload(alexnet_convs(4), _eyeriss("none", False))
    split = map_workload(alexnet_convs(4), _eyeriss("none", True))
    assert [lc.dram_read_bytes for lc in shared.layers] == \
        [lc.dram_read_bytes for lc in split.layers]  # counts do not change
    t1, t3 = HardwareTiming(shared.hardware), HardwareTiming(split.hardware)
    for a, b in zip(shared.layers, split.layers, strict=True):
        ta, tb = t1.layer(a), t3.layer(b)
        w = b.dram_read_bytes - b.dram_act_read_bytes
        busiest = max(w, b.dram_read_bytes - w, b.dram_write_bytes) / t3.dram_bw
        assert tb.dram_s == pytest.approx(busiest, rel=1e-12) and tb.dram_s < ta.dram_s
        # none: compute + every transfer; side by side, the transfers take the busiest
        # channel's share of each step (at least the busiest channel's time in all)
        assert tb.busy_s + tb.dram_s <= tb.latency_s < ta.latency_s
        # every transfer waits for the unit: the layer is its compute plus its stalls, each
        # stage's serial parts side by side
        assert tb.latency_s == pytest.approx(tb.busy_s + tb.stall_s, rel=1e-9)
        assert ta.latency_s == pytest.approx(ta.busy_s + ta.stall_s, rel=1e-9)
    des = simulate_schedule(split, "des")
    ins = [(e.start_s, e.end_s) for e in des.timeline if e.kind == EventKind.DMA_IN]
    assert any(min(x[1], y[1]) > max(x[0], y[0]) for x, y in zip(ins, ins[1:], strict=False))


def test_shared_channel_is_the_default():
    assert not load_hardware("eyeriss").outermost.channel_per_operand


def test_inconsistent_channel_parts_are_refused():
    import dataclasses

    hw = _eyeriss("weights", True)
    lc = map_workload(alexnet_convs(4), hw).layers[1]
    t = HardwareTiming(hw).layer(lc)
    with pytest.raises(ValueError, match="nest"):
        dataclasses.replace(t, serial_weight_read_bytes=t.weight_read_bytes + 1)
    with pytest.raises(ValueError, match="nest"):
        dataclasses.replace(t, s_per_byte=0.0)
