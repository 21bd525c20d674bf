"""Row-stationary mapping against Eyeriss' measured AlexNet figures (Chen et al., JSSC 2017).

Measured at batch 4, 16-bit, 200 MHz (JSSC 2017, performance breakdown table): processing
latency, active PEs, DRAM accesses and MACs per conv layer. Nothing in the mapper is fitted to
these numbers: active PEs come from the PE-set rules, cycles from scratchpad-limited passes
(MACs + vertical psum accumulation + pass setup), DRAM from the GLB blocking of the passes
(``spatial.glb_blocking``: psums of n images x m filters x e rows and the current ifmap rows
must fit the GLB; the block moving the fewest DRAM bytes is kept; the ifmap is re-read once per
m-block, filters once per image and row block), on the built-in spec as users run it
(``compression: rlc`` on its DRAM, the chip's measured ifmap zeros).

Tolerances: DRAM 30% per layer and 5% in total (measured: +15, -9, -9, -7, +28% and +2%;
conv5's output zeros are not published, so it is coded as dense: +33% on its 0.35 MB write).
Latency (simulated: fmap transfers not overlapped, JSSC 2017) 30% per layer and 10% in total
(+15, +4, +3, -2, +22% and +6%). VGG-16 is compared with its published totals and does not get
within 30% (see ``test_vgg16_against_measured`` and docs/validation.md, Eyeriss).
"""

from __future__ import annotations

import dataclasses

import pytest

from edgesim.hardware import load_hardware
from edgesim.mapping import map_workload
from edgesim.mapping.spatial import pe_sets
from edgesim.sim import simulate, simulate_schedule
from tests.mapping.eyeriss_fixture import EYERISS, alexnet_convs, vgg16_convs

LATENCY_MS = [20.9, 41.9, 23.6, 18.4, 10.5]
ACTIVE_PES = [154, 135, 156, 156, 156]
DRAM_MB = [5.0, 4.0, 3.0, 2.1, 1.3]
MACS_G = [0.42, 0.90, 0.60, 0.45, 0.30]
HW = load_hardware("eyeriss")


@pytest.fixture(scope="module")
def schedule():
    return map_workload(alexnet_convs(4), HW)


def _glb_bytes(c, layer) -> float:
    """GLB bytes a chosen block needs: psums (16-bit) + two chunks of the pass's ifmap rows."""
    n, m, rows = c.extra["glb_images"], c.extra["glb_filters"], c.extra["glb_rows"]
    _, w = layer.out_hw
    r = layer.kernel[0]
    in_rows = min(layer.in_hw[0] + 2 * layer.padding[0], (rows - 1) * layer.stride[0] + r)
    w_in = layer.in_hw[1] + 2 * layer.padding[1]
    return n * m * rows * w * 2 + 2 * n * c.extra["q"] * in_rows * w_in * 2


def _compulsory_bytes(c, layer) -> float:
    """Weights once + ifmap and ofmap as stored (the ifmap read at most as often as needed)."""
    return layer.weight_elems * 2 + c.dram_write_bytes


def test_active_pes_follow_rs_rules(schedule):
    assert [int(c.extra["active_pes"]) for c in schedule.layers] == ACTIVE_PES
    fixture = map_workload(alexnet_convs(4), EYERISS)
    assert [int(c.extra["active_pes"]) for c in fixture.layers] == ACTIVE_PES


def test_macs_match_published(schedule):
    for c, g in zip(schedule.layers, MACS_G, strict=True):
        assert c.dense_ops / 1e9 == pytest.approx(g, rel=0.03)


def test_latency_close_to_measured(schedule):
    # Compute alone (MACs, psum accumulation, per-pass ramp-up) stays below the chip.
    compute = [c.compute_cycles / HW.clock_hz * 1e3 for c in schedule.layers]
    assert sum(compute) < sum(LATENCY_MS)
    # What users see: ifmap loads and ofmap dumps are not overlapped with processing (JSSC
    # 2017; ``dram_overlap: weights``), filters stream behind the passes, GLB bandwidth.
    sim = simulate_schedule(schedule, "analytic")
    ours = [lay.latency_s * 1e3 for lay in sim.layers]
    for o, m in zip(ours, LATENCY_MS, strict=True):
        assert o == pytest.approx(m, rel=0.30)
    assert sim.latency_s * 1e3 == pytest.approx(sum(LATENCY_MS), rel=0.10)
    # Double-buffered fmaps (dram_overlap: all) would read 8% low on the total.
    overlapped = simulate(alexnet_convs(4), load_hardware(
        "eyeriss", {"compute.pe_array.dram_overlap": "all"}))
    assert overlapped.latency_s < sim.latency_s


def test_dram_close_to_measured(schedule):
    ours = [(c.dram_read_bytes + c.dram_write_bytes) / 1e6 for c in schedule.layers]
    for o, m in zip(ours, DRAM_MB, strict=True):
        assert o == pytest.approx(m, rel=0.30)
    assert sum(ours) == pytest.approx(sum(DRAM_MB), rel=0.05)


def test_glb_blocks_fit_and_refetch_what_does_not(schedule):
    wl = alexnet_convs(4)
    for c, layer in zip(schedule.layers, wl.layers, strict=True):
        assert _glb_bytes(c, layer) <= 108 * 1024
        total = c.dram_read_bytes + c.dram_write_bytes
        assert total >= _compulsory_bytes(c, layer)
    # conv1: the psums of 96 filters x 55 rows (581 KB per image) cannot stay: rows are blocked
    # and every filter is reloaded per image and row block.
    c1 = schedule.layers[0]
    assert c1.extra["glb_images"] == 1 and c1.extra["glb_rows"] < 55
    assert c1.extra["filter_loads"] > 4 * 15  # more than once per image and filter chunk
    # conv3-5 keep all 4 images' psums of 64 filters (13x13x64x4x2 B = 86.5 KB).
    for c in schedule.layers[2:]:
        assert (c.extra["glb_images"], c.extra["glb_filters"]) == (4, 64)


def test_bigger_glb_only_saves_refetches():
    big = dataclasses.replace(HW, memory=tuple(
        dataclasses.replace(m, size_bytes=64 << 20) if m.name == "glb" else m
        for m in HW.memory))
    wl = alexnet_convs(4)
    small_s, big_s = map_workload(wl, HW), map_workload(wl, big)
    for s, b, layer in zip(small_s.layers, big_s.layers, wl.layers, strict=True):
        s_total = s.dram_read_bytes + s.dram_write_bytes
        b_total = b.dram_read_bytes + b.dram_write_bytes
        assert b_total <= s_total
        # Everything fits: one block of all images and rows, each filter loaded once (up to
        # the padding of balanced filter chunks), the ifmap read once (as stored).
        assert (b.extra["glb_images"], b.extra["glb_rows"]) == (4, layer.out_hw[0])
        assert b.extra["filter_loads"] <= s.extra["filter_loads"]
        weight_reads = b.dram_read_bytes - b.dram_act_read_bytes
        assert weight_reads == pytest.approx(layer.weight_elems * 2, rel=0.05)
        assert b.dram_act_read_bytes <= s.dram_act_read_bytes
    assert sum(b.dram_read_bytes for b in big_s.layers) < 0.7 * sum(
        s.dram_read_bytes for s in small_s.layers)


def test_zero_gating_saves_macs_not_cycles():
    # Without RLC in DRAM (the fixture), zeros do not change the GLB blocking (with RLC they
    # shrink the coded ifmap, which can change the block and with it the filter loads).
    gated = map_workload(alexnet_convs(4), EYERISS)
    dense = map_workload(alexnet_convs(4).with_layers(
        [dataclasses.replace(lay, act_sparsity=0.0) for lay in alexnet_convs(4).layers]), EYERISS)
    for g, d in zip(gated.layers[1:], dense.layers[1:], strict=True):
        assert g.compute_cycles == d.compute_cycles
        assert g.ops["mac"] < 0.65 * d.ops["mac"]
        assert g.reads_bytes["filter_spad"] < d.reads_bytes["filter_spad"]


VGG16_BATCH_S = 3 / 0.7  # JSSC 2017: 0.7 frames/s on VGG-16's conv layers at batch 3
VGG16_DRAM_MB = 321.1  # JSSC 2017: DRAM access per batch of 3


def test_vgg16_mechanisms():
    """The RS rules and the GLB blocking must hold on VGG-16's 224-wide 3x3 layers at batch 3."""
    wl = vgg16_convs(3)
    s = map_workload(wl, HW)
    # 3x3 sets of E >= 14 columns: 14-wide strips, 12 // 3 = 4 stacked -> 4 x 3 x 14 = 168.
    assert pe_sets(3, 224, 12, 14)[0] == 168
    assert all(int(c.extra["active_pes"]) == 168 for c in s.layers)
    assert sum(c.dense_ops for c in s.layers) == pytest.approx(3 * 15.35e9, rel=0.02)
    for c, layer in zip(s.layers, wl.layers, strict=True):
        assert _glb_bytes(c, layer) <= 108 * 1024
        assert c.dram_read_bytes + c.dram_write_bytes >= _compulsory_bytes(c, layer)
        assert c.utilization <= 1.0
        # p x q x S = 216 of the 224 filter entries: no room to stage the next pass's
        # filters, so every filter load is a ramp-up of p x q x S cycles.
        assert c.extra["filter_load_cycles"] >= c.extra["filter_loads"] / c.extra["sets"] * 200
    # Large early layers cannot hold one image's psums: images go one at a time; the 14x14
    # layers can hold all three (14x14x512 psums of 74 filters x 3 images = 85 KB).
    assert s.layers[0].extra["glb_images"] == 1
    assert s.layers[-1].extra["glb_images"] == 3


def test_vgg16_against_measured():
    """What the model reaches on VGG-16 (JSSC 2017: 4.29 s and 321.1 MB per batch of 3).

    Not within 30%: the model reads 41% low on latency and 49% high on DRAM. DRAM: VGG-16's
    activation zeros are not published, so fmaps are RLC-coded as dense (1.33x their raw size;
    raw they give 444 MB, still +38%: the GLB blocking re-reads the 224-wide ifmaps more than
    the chip). Latency: the model explains 2.5 s of the 4.3 s (compute 1.6 s, GLB bandwidth,
    non-overlapped fmap transfers); see docs/validation.md, Eyeriss.
    """
    sim = simulate(vgg16_convs(3), HW)
    ratio_latency = sim.latency_s / VGG16_BATCH_S
    ratio_dram = (sim.dram_read_bytes + sim.dram_write_bytes) / 1e6 / VGG16_DRAM_MB
    assert 0.55 <= ratio_latency <= 1.0
    assert 1.0 <= ratio_dram <= 1.6
    # The non-overlapped fmap transfers are a large share on VGG-16's big fmaps.
    overlapped = simulate(vgg16_convs(3), load_hardware(
        "eyeriss", {"compute.pe_array.dram_overlap": "all"}))
    assert sim.latency_s > 1.2 * overlapped.latency_s
