"""Row-stationary mapping against Eyeriss' measured AlexNet figures (Chen et al., JSSC 2017).

Measured at batch 4, 16-bit, 200 MHz (JSSC 2017, performance breakdown table): processing
latency, active PEs, DRAM accesses and MACs per conv layer. Nothing in the mapper is fitted to
these numbers: active PEs come from the PE-set rules, cycles from scratchpad-limited passes
(MACs + vertical psum accumulation + pass setup), DRAM from the generic tiler.

Tolerances: latency 30% per layer and 15% in total (the model omits NoC/GLB delivery stalls,
which are largest for conv1's stride-4 ifmap rows, so it reads low there); DRAM 15% in total and
55% per layer, on the fixture without activation coding. Two mechanisms pull in opposite
directions and only one is modelled: Eyeriss run-length-codes activations in DRAM (modelled:
``compression: rlc``, set in the built-in spec; tests/mapping/test_compression.py shows it
brings conv4/conv5 within 25%), and it re-fetches ifmaps in conv1-3 beyond their compulsory
traffic (measured 4.0 MB for conv2 against 2.7 MB of uncompressed weights + ifmaps + ofmaps),
which the generic tiler does not model. With RLC on, conv1-3 read 27-55% low and the total
29% low (10.9 vs 15.4 MB), so the uncoded fixture's agreement here partly reflects the two
omissions offsetting each other.
"""

from __future__ import annotations

import pytest

from edgesim.mapping import map_workload
from tests.mapping.eyeriss_fixture import EYERISS, alexnet_convs

LATENCY_MS = [20.9, 41.9, 23.6, 18.4, 10.5]
ACTIVE_PES = [154, 135, 156, 156, 156]
DRAM_MB = [5.0, 4.0, 3.0, 2.1, 1.3]
MACS_G = [0.42, 0.90, 0.60, 0.45, 0.30]


@pytest.fixture(scope="module")
def schedule():
    return map_workload(alexnet_convs(4), EYERISS)


def test_active_pes_follow_rs_rules(schedule):
    assert [int(c.extra["active_pes"]) for c in schedule.layers] == ACTIVE_PES


def test_macs_match_published(schedule):
    for c, g in zip(schedule.layers, MACS_G, strict=True):
        assert c.dense_ops / 1e9 == pytest.approx(g, rel=0.03)


def test_latency_close_to_measured(schedule):
    ours = [c.compute_cycles / EYERISS.clock_hz * 1e3 for c in schedule.layers]
    for o, m in zip(ours, LATENCY_MS, strict=True):
        assert o == pytest.approx(m, rel=0.30)
    assert sum(ours) == pytest.approx(sum(LATENCY_MS), rel=0.15)


def test_dram_close_to_measured(schedule):
    ours = [(c.dram_read_bytes + c.dram_write_bytes) / 1e6 for c in schedule.layers]
    for o, m in zip(ours, DRAM_MB, strict=True):
        assert o == pytest.approx(m, rel=0.55)
    assert sum(ours) == pytest.approx(sum(DRAM_MB), rel=0.15)


def test_zero_gating_saves_macs_not_cycles(schedule):
    dense = map_workload(alexnet_convs(4).with_layers(
        [lay.with_(act_sparsity=0.0) for lay in alexnet_convs(4).layers]), EYERISS)
    for g, d in zip(schedule.layers[1:], dense.layers[1:], strict=True):
        assert g.compute_cycles == d.compute_cycles
        assert g.ops["mac"] < 0.65 * d.ops["mac"]
        assert g.reads_bytes["filter_spad"] < d.reads_bytes["filter_spad"]


def test_builtin_eyeriss_spec_maps_alexnet_alike():
    from edgesim.hardware import load_hardware

    hw = load_hardware("eyeriss")
    wl = alexnet_convs(4)
    s = map_workload(wl, hw)
    assert [int(c.extra["active_pes"]) for c in s.layers] == ACTIVE_PES
    total_ms = sum(c.compute_cycles for c in s.layers) / hw.clock_hz * 1e3
    assert total_ms == pytest.approx(sum(LATENCY_MS), rel=0.15)
