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
            busy = t.busy_s - t.stall_s
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
