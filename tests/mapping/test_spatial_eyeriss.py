"""Row-stationary mapping against Eyeriss' measured AlexNet figures (Chen et al., JSSC 2017).

Measured at batch 4, 16-bit, 200 MHz (JSSC 2017, performance breakdown table): processing
latency, active PEs, DRAM accesses and MACs per conv layer. Nothing in the mapper is fitted to
these numbers: active PEs come from the PE-set rules, cycles from scratchpad-limited passes
(MACs + vertical psum accumulation + pass setup), DRAM from the GLB blocking of the passes
(``spatial.glb_blocking``: psums of n images x m filters x e rows and the current ifmap rows
must fit the GLB; the block moving the fewest DRAM bytes is kept; the ifmap is re-read once per
m-block, filters once per image and row block), on the built-in spec as users run it
(``compression: rlc`` on its DRAM, the chip's measured ifmap zeros).

Tolerances: DRAM 30% per layer and 5% in total (measured: +13, -10, -11, -9, +27% and +1%;
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
from edgesim.validate import published as pub
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
    return n * m * rows * w * 2 + 2 * n * c.extra["q"] * c.extra["r"] * in_rows * w_in * 2


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
        if c.extra["q"] == 4:
            # p x q x S = 216 of the 224 filter entries: no room to stage the next pass's
            # filters, so every filter load is a ramp-up of p x q x S cycles.
            assert c.extra["filter_load_cycles"] >= c.extra["filter_loads"] / c.extra["sets"] * 200
    # Channels per psum trip, chosen with the GLB block (mapping_dram_weight, fitted to Table
    # VI's GLB accesses on the ten 224- to 28-wide layers: 1 on the 224- and 112-wide layers, 2
    # at 56, 4 at 28). On the 14-wide layers, whose sets are one strip stacked four high, two
    # channel-parallel sets of 3 channels chain their psums: 6 per trip (the chip's GLB
    # accesses imply ~7; the weight was not fitted there).
    assert [int(c.extra["q"] * c.extra["r"]) for c in s.layers] == \
        [1, 1, 1, 1, 2, 2, 2, 4, 4, 4, 6, 6, 6]
    assert [int(c.extra["r"]) for c in s.layers] == [1] * 10 + [2] * 3
    # Without the weight, the scratchpads' most: 3 for conv1-1's 3 channels, 4 elsewhere.
    plain = dataclasses.replace(HW, compute=(dataclasses.replace(HW.compute[0],
                                                                  mapping_dram_weight=None),))
    assert [int(c.extra["q"]) for c in map_workload(wl, plain).layers] == [3] + [4] * 12
    # Large early layers cannot hold one image's psums: images go one at a time; the 14x14
    # layers can hold all three (14x14x512 psums of 74 filters x 3 images = 85 KB).
    assert s.layers[0].extra["glb_images"] == 1
    assert s.layers[-1].extra["glb_images"] == 3


def test_vgg16_per_layer_against_table_vi():
    """VGG-16 per layer against JSSC 2017 Table VI (batch 3, the chip's measured ifmap zeros).

    Asserted as measured (``edgesim validate --check eyeriss`` prints the table). The channels
    per partial-sum trip come from the spec's ``mapping_dram_weight``, fitted to this table's
    GLB accesses (calibration); latency and DRAM are the other columns:
    * DRAM: within 35% on every layer (measured 0.73..1.12x) and within 10% in total (measured
      -7% against the layers' sum);
    * GLB accesses: within 15% on the 224- to 28-wide layers (measured 1.06..1.09x); within
      35% on the 14-wide ones, which the weight was not fitted on (measured 1.29x: two
      channel-parallel PE sets accumulate 6 channels per trip where the chip's accesses imply
      ~7; 1.83x with 4 per trip before the mapper had channel-parallel sets);
    * latency: every layer within 15% (measured 0.88..1.01x) and the total within 10% (measured
      0.96x; before the channels per trip followed the GLB, 0.53x);
    * on-chip power, held out: the spec's ``static_power`` (clock network, NoC, control: 138
      mW) is fitted to AlexNet's Table V, not to this table; with it, within 30% per layer
      (measured 0.74..1.02x, conv1-1 lowest) and 15% in total (measured 0.92x). The priced
      accesses, MACs and psum hops alone are 0.25..0.4x of the chip's energy (measured 0.32).
    """
    wl = vgg16_convs(3)
    sim = simulate(wl, HW)
    counts = map_workload(wl, HW).layers
    chip_ms, chip_mb = pub.EYERISS_VGG16_LATENCY_MS, pub.EYERISS_VGG16_DRAM_MB_PER_LAYER
    lat = [lay.latency_s * 1e3 / m for lay, m in zip(sim.layers, chip_ms, strict=True)]
    dram = [(lay.dram_read_bytes + lay.dram_write_bytes) / 1e6 / m
            for lay, m in zip(sim.layers, chip_mb, strict=True)]
    glb = [(c.reads_bytes["glb"] + c.writes_bytes["glb"]) / 1e6 / m
           for c, m in zip(counts, pub.EYERISS_VGG16_GLB_MB, strict=True)]
    assert all(0.65 <= r <= 1.35 for r in dram), dram
    total_mb = (sim.dram_read_bytes + sim.dram_write_bytes) / 1e6
    assert total_mb == pytest.approx(sum(chip_mb), rel=0.10)
    assert all(r == pytest.approx(1.0, abs=0.15) for r in lat), lat
    assert sim.latency_s * 1e3 / sum(chip_ms) == pytest.approx(1.0, abs=0.10)
    assert all(r == pytest.approx(1.0, abs=0.15) for r in glb[:10]), glb
    assert all(r == pytest.approx(1.0, abs=0.35) for r in glb[10:]), glb
    powers = []
    for lay, mw in zip(sim.layers, pub.EYERISS_VGG16_POWER_MW, strict=True):
        onchip = sum(v for k, v in lay.energy_breakdown_j.items() if k != "dram")
        powers.append(onchip / lay.latency_s * 1e3 / mw)
    assert all(0.7 <= r <= 1.3 for r in powers), powers
    onchip_j = sum(v for lay in sim.layers for k, v in lay.energy_breakdown_j.items() if k != "dram")
    chip_j = sum(mw * 1e-3 * ms * 1e-3 for mw, ms in zip(pub.EYERISS_VGG16_POWER_MW, chip_ms, strict=True))
    ours_w, chip_w = onchip_j / sim.latency_s, chip_j / (sum(chip_ms) * 1e-3)
    assert ours_w / chip_w == pytest.approx(1.0, abs=0.15)
    priced_j = onchip_j - sum(lay.energy_breakdown_j["static"] for lay in sim.layers)
    assert 0.25 <= priced_j / chip_j <= 0.4
    # The non-overlapped fmap transfers are a share of VGG-16's time (measured 1.10x; the wide
    # layers wait mostly on the GLB's partial-sum traffic).
    overlapped = simulate(wl, load_hardware("eyeriss", {"compute.pe_array.dram_overlap": "all"}))
    assert sim.latency_s > 1.05 * overlapped.latency_s


def test_alexnet_glb_blocks_against_the_chip_mapping(schedule):
    """JSSC 2017 Table III, the chip's mapping: the GLB blocks (n images, m filters, e rows) the
    mapper picks equal the chip's on conv1 and conv3-5; on conv2 it picks n = 2, m = 32 where
    the chip runs n = 1, m = 64 (the same DRAM trade-off: the ifmap read 4x vs twice, filters
    reloaded half as often). Channels per PE (q) and channel-parallel sets (r): equal on
    conv1-3 (r = 1); on conv4-5 the chip takes q = 3 with r = 2 channel-parallel sets, the
    mapper q = 4, r = 1 (the sets of conv3-5 could chain: the mapper weighs it and declines)."""
    got = [(int(c.extra["glb_images"]), int(c.extra["glb_filters"]), int(c.extra["glb_rows"]),
            int(c.extra["q"])) for c in schedule.layers]
    chip = [(n, m, e, q) for n, m, e, _, q, _, _ in pub.EYERISS_ALEXNET_MAPPING]
    assert [g[:3] for g in got] == [c[:3] for c in chip[:1]] + [(2, 32, 27)] + [
        c[:3] for c in chip[2:]]
    assert [g[3] for g in got[:3]] == [c[3] for c in chip[:3]]
    assert [int(c.extra["r"]) for c in schedule.layers[:3]] == [c[5] for c in
                                                                pub.EYERISS_ALEXNET_MAPPING[:3]]


def test_alexnet_onchip_power_against_table_v(schedule):
    """JSSC 2017 Table V power per layer (332, 288, 266, 235, 236 mW). The priced MACs and
    accesses give 0.4..0.6x (measured 0.45..0.54); the rest (the clock network, which JSSC 2017
    names the largest consumer beside the spads; the NoC, 15.6% of the chip in ISSCC 2016; control)
    is the spec's ``static_power``, FITTED to this table: the time-weighted 278.3 mW minus the
    priced 140.7 mW (MACs, accesses, inter-PE psum hops) at the model's latency = 138 mW. So the total reproduces its fit (within 1%)
    and the per-layer spread is the check: within 10% (measured 0.96..1.05x). VGG-16 is the held-out
    check (test above)."""
    sim = simulate_schedule(schedule, "analytic")
    onchip_j = 0.0
    for lay, mw in zip(sim.layers, pub.EYERISS_ALEXNET_POWER_MW, strict=True):
        onchip = sum(v for k, v in lay.energy_breakdown_j.items() if k != "dram")
        priced = onchip - lay.energy_breakdown_j["static"]
        assert 0.4 <= priced / lay.latency_s * 1e3 / mw <= 0.6
        assert onchip / lay.latency_s * 1e3 / mw == pytest.approx(1.0, abs=0.10)
        onchip_j += onchip
    chip_mw = sum(p * t for p, t in zip(pub.EYERISS_ALEXNET_POWER_MW,
                                        pub.EYERISS_ALEXNET_LATENCY_MS, strict=True)) / sum(
        pub.EYERISS_ALEXNET_LATENCY_MS)
    assert onchip_j / sim.latency_s * 1e3 == pytest.approx(chip_mw, rel=0.01)


def test_partial_sums_passed_between_pes_are_counted_and_priced_at_the_noc_energy():
    """Each channel trip's partial sums climb the chain of ``r_eff x r`` PEs: one word passed
    up per hop (and added), priced at the unit's ``noc_energy`` (ISCA 2016: inter-PE 2x a
    16-bit MAC, 3.82 pJ); a unit without one prices the adds only."""
    wl = vgg16_convs(3)
    s = map_workload(wl, HW)
    unit = HW.main_unit
    assert unit.noc_energy_pj == pytest.approx(2 * 1.91)
    for c, layer in zip(s.layers, wl.layers, strict=True):
        q, r = int(c.extra["q"]), int(c.extra["r"])
        trips = -(-layer.in_channels // (q * r))
        assert c.noc_words == layer.output_elems * trips * (3 * r - 1), layer.name
        assert c.ops["add"] == c.noc_words
    sim = simulate(wl, HW)
    free = dataclasses.replace(HW, compute=(dataclasses.replace(unit, noc_energy_pj=0.0),))
    plain = simulate(wl, free)
    # charged to the array's own component (the contract's components are the spec's names)
    assert set(sim.energy_breakdown_j) == set(plain.energy_breakdown_j)
    noc = [a.energy_breakdown_j["pe_array"] - b.energy_breakdown_j["pe_array"]
           for a, b in zip(sim.layers, plain.layers, strict=True)]
    assert noc == pytest.approx([c.noc_words * 3.82e-12 for c in s.layers])
    assert plain.energy_j == pytest.approx(sim.energy_j - sum(noc))
    assert "noc_energy" in sim.energy_sources["pe_array"]


@pytest.mark.parametrize("c, m, e", [(64, 64, 7), (5, 32, 14), (128, 96, 3), (48, 48, 28)])
def test_channel_parallel_sets_chain_only_in_a_column_and_cut_the_psum_trips(c, m, e):
    """r divides the sets stacked in a column (a set of one strip), never beyond the channel
    chunks; the psum trips and the inter-PE hops follow r x q; a set of two strips keeps r = 1."""
    from edgesim.vocab import OpKind
    from edgesim.workload.ir import Workload
    from edgesim.workload.layer import Layer

    lay = Layer("c", OpKind.CONV2D, (), ((1, c, e, e),), (1, m, e, e), kernel=(3, 3),
                padding=(1, 1), weight_shape=(m, c, 3, 3))
    got = map_workload(Workload("w", [lay]), HW).layers[0]
    q, r = int(got.extra["q"]), int(got.extra["r"])
    column = HW.main_unit.rows // 3
    assert column % r == 0 and (r == 1 or e <= HW.main_unit.cols)
    assert r == 1 or -(-c // q) >= r  # no more chained sets than channel chunks
    assert got.noc_words == m * e * e * -(-c // (q * r)) * (3 * r - 1)
    energy = simulate(Workload("w", [lay]), HW)
    assert set(energy.energy_sources) >= set(energy.energy_breakdown_j)  # noc has its source
