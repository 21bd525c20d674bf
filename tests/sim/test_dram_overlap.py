"""DRAM transfers a unit does not overlap with compute (``dram_overlap``), analytic and DES."""

from __future__ import annotations

import pytest

from edgesim.errors import SpecError
from edgesim.hardware import load_hardware
from edgesim.hardware.model import DramOverlap
from edgesim.mapping import map_workload
from edgesim.sim import simulate_schedule
from edgesim.sim.timing import HardwareTiming
from tests.mapping.eyeriss_fixture import alexnet_convs


def _eyeriss(overlap: str):
    return load_hardware("eyeriss", {"compute.pe_array.dram_overlap": overlap})


def test_spec_field_and_default():
    assert load_hardware("eyeriss").compute[0].dram_overlap == DramOverlap.WEIGHTS
    assert _eyeriss("all").compute[0].dram_overlap == DramOverlap.ALL
    with pytest.raises(SpecError, match="dram_overlap"):
        _eyeriss("sometimes")


@pytest.mark.parametrize("overlap", ["all", "weights", "none"])
def test_analytic_equals_des_on_a_chain(overlap):
    s = map_workload(alexnet_convs(4), _eyeriss(overlap))
    a, d = simulate_schedule(s, "analytic"), simulate_schedule(s, "des")
    assert a.latency_s == pytest.approx(d.latency_s, rel=1e-9)
    for la, ld in zip(a.layers, d.layers, strict=True):
        assert la.latency_s == pytest.approx(ld.latency_s, rel=1e-9)


def test_latency_composition():
    """none: compute + every transfer; weights: compute + activation transfers + the first
    weight step (the pipeline's exposed load); all: double-buffered, the shortest."""
    lat = {}
    for overlap in ("all", "weights", "none"):
        hw = _eyeriss(overlap)
        s = map_workload(alexnet_convs(4), hw)
        timing = HardwareTiming(hw)
        lat[overlap] = [timing.layer(lc).latency_s for lc in s.layers]
        for lc, got in zip(s.layers, lat[overlap], strict=True):
            t = timing.layer(lc)
            busy = t.busy_s
            assert busy >= t.compute_s  # these layers are compute-bound: the closed forms hold
            act = (lc.dram_act_read_bytes + lc.dram_write_bytes) / timing.dram_bw
            weights = t.dram_read_s - lc.dram_act_read_bytes / timing.dram_bw
            if overlap == "none":
                assert got == pytest.approx(busy + t.dram_s, rel=1e-9)
            elif overlap == "weights":
                assert got == pytest.approx(busy + act + weights / t.steps, rel=1e-9)
            else:
                assert t.stall_s == 0.0
                assert got == pytest.approx(busy + t.dram_s / t.steps, rel=1e-9)
    for a, w, n in zip(lat["all"], lat["weights"], lat["none"], strict=True):
        assert a < w < n


def _overlaps(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return min(a[1], b[1]) - max(a[0], b[0]) > 1e-12


def _spans(res, kinds) -> list[tuple[float, float]]:  # type: ignore[no-untyped-def]
    return [(e.start_s, e.end_s) for e in res.timeline if e.kind in kinds]


def test_serial_transfers_hold_the_unit_and_share_the_channel():
    """Transfers a unit does not overlap (``none``) move through the shared DRAM channel while
    the unit waits. Alone, no DMA event of a workload overlaps its compute and each runs at the
    full bandwidth. Two such workloads co-running on two units of one chip share the channel:
    their transfers run slower, still never beside their own unit's compute, so each unit waits
    longer and each workload takes longer (before, the wait was a fixed time whatever the
    channel did)."""
    import dataclasses

    from edgesim.results import EventKind
    from edgesim.sim.des import run_des
    from edgesim.workload.ir import Workload
    from tests.sim.simkit import conv, make_hw, make_unit, schedule_of

    units = tuple(dataclasses.replace(make_unit(n, 16, 16), dram_overlap=DramOverlap.NONE)
                  for n in ("u1", "u2"))
    hw = make_hw(units=units, dram_bw=1e9)
    wl = Workload("w", (conv("c1", 32, 64, 28, inputs=()), conv("c2", 64, 64, 28, prev="c1")))
    sa = schedule_of(dataclasses.replace(wl, name="A"), hw, units={"c1": "u1", "c2": "u1"})
    sb = schedule_of(dataclasses.replace(wl, name="B"), hw, units={"c1": "u2", "c2": "u2"})
    dma = (EventKind.DMA_IN, EventKind.DMA_OUT)
    alone, = run_des([sa])
    assert alone.latency_s == pytest.approx(simulate_schedule(sa, "analytic").latency_s,
                                            rel=1e-9)
    assert not any(_overlaps(d, c) for d in _spans(alone, dma)
                   for c in _spans(alone, (EventKind.COMPUTE,)))
    # the unit's lane shows it held while they move: stall spans cover the transfers exactly
    stall = sum(e - s for s, e in _spans(alone, (EventKind.STALL,)))
    assert stall == pytest.approx(sum(e - s for s, e in _spans(alone, dma)), rel=1e-9)
    rates = [e.moved_bytes / (e.end_s - e.start_s) for e in alone.timeline
             if e.kind in dma and e.moved_bytes > 0]
    assert rates and all(r == pytest.approx(1e9, rel=1e-3) for r in rates)
    co_a, co_b = run_des([sa, sb])
    for res in (co_a, co_b):
        assert res.latency_s > 1.2 * alone.latency_s
        assert not any(_overlaps(d, c) for d in _spans(res, dma)
                       for c in _spans(res, (EventKind.COMPUTE,)))
        slow = [e for e in res.timeline if e.kind in dma and e.moved_bytes > 0
                and e.moved_bytes / (e.end_s - e.start_s) < 0.9e9]
        assert slow  # transfers that shared the channel, the unit waiting for them
