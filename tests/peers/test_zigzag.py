"""Cross-check edgesim against ZigZag on its example TPU-like accelerator running ResNet-18.

ZigZag (zigzag-dse 3.9.1) runs its own shipped shape-only ``resnet18.onnx`` on its example
``tpu_like`` accelerator; edgesim runs the zoo's ResNet-18 (same shapes, same 1.814 G MACs) on
``hardware_specs/zigzag-tpu-like.yaml``, the same accelerator as an edgesim spec. ZigZag costs only
Conv/Gemm/MatMul nodes, so edgesim's totals are restricted to the layers that multiply (its conv
and linear layers). Both use 8-bit weights and activations.

edgesim keeps an activation on chip between two layers when it fits and is not a branch point;
ZigZag does the same only with ``exploit_data_locality=True`` (by default it writes every output
to DRAM and reads every input back), so that is the mode compared here. With it, both tools agree
byte for byte on the DRAM reads of 20 of the 21 layers (the FC layer differs by its 512-byte
input), and per memory level within 15%. The residue (which layer a branch tensor's DRAM write
is charged to, the FC input) is explained in docs/validation.md.

MobileNet-v2 (ZigZag's shipped ``mobilenetv2.onnx``, imported by edgesim) checks the depthwise
layers and the word-granular buffer accesses: ZigZag rounds every transfer period up to whole
``bandwidth_min`` words (64 bits at the 2 MB SRAM, ``CostModelEvaluation._calc_memory_access``).
Its tpu_like mapping file unrolls only K and C, so a depthwise layer (K = C = 1 per group) would
run on one PE; ZigZag is given edgesim's systolic depthwise mapping instead (``depthwise_rows``:
the 3 x 3 taps on 9 rows, one output channel on a column, SCALE-Sim's im2col layout), so both
read 9-byte input vectors as two words per 9 MACs, and nothing is re-priced: every component
agrees within 15% and the totals within 10%.

ZigZag's search takes minutes on the whole models, so these checks are marked ``peers_full`` and
deselected by default (``pytest -m peers_full tests/peers/test_zigzag.py``, ~2-7 min). The suite
runs cuts instead (``test_zigzag_cuts.py``): each network from its input through ResNet-18's
``layer1`` and MobileNet-v2's ``features.2``, where every pJ is accounted for per layer and level
in both tools, and the totals agree within 2% once re-priced.
"""


from __future__ import annotations

import math
from pathlib import Path

import pytest
import yaml

from edgesim.hardware import load_hardware
from edgesim.hardware.model import Hardware
from edgesim.mapping.tiling import word_padded_factor
from edgesim.results import LayerResult, SimResult
from edgesim.validate.zigzag import ZigZagLayer, ZigZagResult, run_zigzag, tpu_like_hw
from tests.peers.zigzag_kit import (
    ARRAY,
    EXACT,
    MOBILENETV2_ONNX,
    SPEC,
    costed_layers,
    edgesim_array_words,
    is_depthwise,
    rel_err,
    sram_pj,
    torch_module_name,
    zigzag_array_words,
)

TPU_LIKE_HW = tpu_like_hw()
TOLERANCE = 0.20  # issue "Simulation engine", section 6: within 20% of ZigZag
# Tighter, from the measured residue (docs/validation.md): ZigZag charges the residual branch
# tensors' DRAM writes (1.55 MB, 146 uJ, 8.5% of its total) to the convolutions, edgesim to the
# max-pool and the ReLUs after the adds, which ZigZag does not cost. Totals and DRAM energy
# therefore read about 9-11% low; everything else agrees within a few percent.
TOTALS_TOLERANCE = 0.12
READS_TOLERANCE = 0.01  # DRAM reads: byte for byte except the FC's 512-byte input

pytestmark = pytest.mark.slow
# The whole-model checks (ZigZag ~2-7 min in all): `pytest -m peers_full tests/peers/test_zigzag.py`;
# deselected by default (pyproject addopts), where the cuts of test_zigzag_cuts.py run instead.
FULL = pytest.mark.peers_full


def test_torch_module_name() -> None:
    assert torch_module_name("/layer1/layer1.0/conv1/Conv") == "layer1.0.conv1"
    assert torch_module_name("/layer2/layer2.0/downsample/downsample.0/Conv") == \
        "layer2.0.downsample.0"
    assert torch_module_name("/fc/Gemm") == "fc"


@pytest.fixture(scope="session")
def zigzag_resnet18() -> ZigZagResult:
    """ZigZag's mapping search over ResNet-18 on tpu_like (~2 min; peers_full only)."""
    return run_zigzag(opt="energy", exploit_data_locality=True)


@pytest.fixture(scope="module")
def tpu_like() -> Hardware:
    return load_hardware(SPEC)


@pytest.fixture(scope="module")
def edgesim_resnet18(tpu_like: Hardware) -> SimResult:
    from edgesim.sim import simulate
    from edgesim.workload import load_workload

    return simulate(load_workload("resnet18"), tpu_like)


def matched(zz: ZigZagResult, es: SimResult) -> list[tuple[ZigZagLayer, LayerResult]]:
    by_name = {layer.name: layer for layer in costed_layers(es)}
    return [(z, by_name[torch_module_name(z.name)]) for z in zz.layers]


# ---- the spec carries ZigZag's figures ---------------------------------------------------------
def _zigzag_per_byte_pj(mem: dict[str, object], key: str) -> float:
    """ZigZag prices r_cost/w_cost per access of bandwidth_max bits (fractions of it counted)."""
    ports = mem["ports"]
    assert isinstance(ports, list)
    bw_max_bits = max(int(p["bandwidth_max"]) for p in ports)
    cost = mem[key]
    assert isinstance(cost, int | float)
    return float(cost) * 8 / bw_max_bits


def test_spec_has_zigzag_energies_and_sizes(tpu_like: Hardware) -> None:
    zz = yaml.safe_load(TPU_LIKE_HW.read_text())
    for name, mem in zz["memories"].items():
        level = tpu_like.level(name)
        assert level.read_energy_pj_per_byte == pytest.approx(_zigzag_per_byte_pj(mem, "r_cost"))
        assert level.write_energy_pj_per_byte == pytest.approx(_zigzag_per_byte_pj(mem, "w_cost"))
        assert level.size_bytes == mem["size"] // 8  # ZigZag sizes are bits
        assert level.per_pe == (mem["served_dimensions"] == [])
    array = zz["operational_array"]
    unit = tpu_like.main_unit
    assert unit.energy_pj("mac", "int8") == pytest.approx(array["unit_energy"])
    assert [unit.rows, unit.cols] == array["sizes"]
    assert tpu_like.level("rf_128B").instances == math.prod(array["sizes"])


# ---- the cross-check ---------------------------------------------------------------------------
@FULL
def test_same_layers_and_macs(zigzag_resnet18: ZigZagResult, edgesim_resnet18: SimResult) -> None:
    pairs = matched(zigzag_resnet18, edgesim_resnet18)
    assert len(pairs) == len(costed_layers(edgesim_resnet18)) == 21
    for z, e in pairs:
        assert e.macs == z.macs, z.name


@FULL
def test_mac_energy_identical(zigzag_resnet18: ZigZagResult, edgesim_resnet18: SimResult,
                              tpu_like: Hardware) -> None:
    """Same MACs at the same 0.04 pJ: the compute part of both totals must agree exactly."""
    unit = tpu_like.main_unit.name
    ours_j = math.fsum(layer.energy_breakdown_j.get(unit, 0.0)
                       for layer in costed_layers(edgesim_resnet18))
    assert ours_j == pytest.approx(zigzag_resnet18.mac_energy_pj * 1e-12, rel=1e-9)


@FULL
def test_total_energy_within_20_percent(zigzag_resnet18: ZigZagResult,
                                        edgesim_resnet18: SimResult) -> None:
    ours_j = math.fsum(layer.energy_j for layer in costed_layers(edgesim_resnet18))
    theirs_j = zigzag_resnet18.energy_pj * 1e-12
    assert rel_err(ours_j, theirs_j) <= TOLERANCE, (ours_j, theirs_j)
    # The fidelity issue's bar for totals (measured 1564.7 vs 1721.6 uJ, -9.1%).
    assert rel_err(ours_j, theirs_j) <= 0.10, (ours_j, theirs_j)


@FULL
@pytest.mark.parametrize(("level", "tolerance"), [("sram_2MB", 0.15), ("rf_128B", 0.05),
                                                  ("rf_2B", 0.05)])
def test_energy_per_on_chip_level(zigzag_resnet18: ZigZagResult, edgesim_resnet18: SimResult,
                                  level: str, tolerance: float) -> None:
    """Per on-chip level: the per-PE files (a weight read per MAC, an output-register read and
    write per MAC) and the SRAM (inputs broadcast to the columns, outputs, spills only where the
    reduction outgrows 32 rows x 128 weights) agree with ZigZag's energy."""
    ours_j = math.fsum(layer.energy_breakdown_j.get(level, 0.0)
                       for layer in costed_layers(edgesim_resnet18))
    theirs_j = zigzag_resnet18.mem_energy_pj(level) * 1e-12
    assert rel_err(ours_j, theirs_j) <= tolerance, (level, ours_j, theirs_j)


@FULL
def test_dram_traffic_within_20_percent(zigzag_resnet18: ZigZagResult,
                                        edgesim_resnet18: SimResult) -> None:
    layers = costed_layers(edgesim_resnet18)
    reads = sum(layer.dram_read_bytes for layer in layers)
    writes = sum(layer.dram_write_bytes for layer in layers)
    assert rel_err(reads, zigzag_resnet18.dram_read_bytes) <= READS_TOLERANCE, reads
    theirs = zigzag_resnet18.dram_read_bytes + zigzag_resnet18.dram_write_bytes
    assert rel_err(reads + writes, theirs) <= TOTALS_TOLERANCE, (reads + writes, theirs)


@FULL
def test_dram_energy_within_20_percent(zigzag_resnet18: ZigZagResult,
                                       edgesim_resnet18: SimResult) -> None:
    """DRAM dominates both totals (about three quarters of ZigZag's): check it on its own."""
    ours_j = math.fsum(layer.energy_breakdown_j.get("dram", 0.0)
                       for layer in costed_layers(edgesim_resnet18))
    theirs_j = zigzag_resnet18.mem_energy_pj("dram") * 1e-12
    assert rel_err(ours_j, theirs_j) <= TOTALS_TOLERANCE, (ours_j, theirs_j)


@FULL
def test_per_layer_dram_reads(zigzag_resnet18: ZigZagResult, edgesim_resnet18: SimResult) -> None:
    """Per layer, DRAM reads (weights plus inputs not kept on chip) agree within 1%.

    This includes the stride-2 1x1 convolutions (the downsample shortcuts): both fetch only the
    input pixels the strided window touches (a quarter of the input).
    """
    for z, e in matched(zigzag_resnet18, edgesim_resnet18):
        assert rel_err(e.dram_read_bytes, z.dram_read_bytes) <= READS_TOLERANCE, e.name


# ---- MobileNet-v2: depthwise layers, word-granular SRAM accesses --------------------------------
# Measured (docs/validation.md, both tools on the same depthwise mapping): total 0.983, `dram`
# 0.967, `sram_2MB` 1.062, `rf_128B` 0.951, `rf_2B` 1.014; as the Edge-TPU-like check, every
# component within 15% and the total within 10%.
MBV2_COMPONENT_TOLERANCE = 0.15
MBV2_TOTAL_TOLERANCE = 0.10


def test_word_padded_factor() -> None:
    """A vector costs the whole words it touches: 9 bytes are two 8-byte words."""
    assert word_padded_factor(9, 32, 1.0, 8) == pytest.approx(16 / 9)
    assert word_padded_factor(1, 32, 1.0, 8) == pytest.approx(8.0)
    assert word_padded_factor(64, 32, 1.0, 8) == 1.0  # full 32-byte vectors: 4 words each
    assert word_padded_factor(147, 32, 1.0, 8) == pytest.approx((4 * 32 + 24) / 147)
    assert word_padded_factor(9, 32, 1.0, 1) == 1.0  # byte-wide buffer: nothing to round


def test_depthwise_on_rows_names_each_depthwise_layer(tmp_path: Path) -> None:
    """The derived mapping file: one entry per depthwise layer (by ONNX node name, which ZigZag
    matches before the operator type), taps on D2 and one channel on D1, then the original."""
    from edgesim.validate.zigzag import depthwise_on_rows, tpu_like_mapping
    from edgesim.workload import load_workload

    path = depthwise_on_rows(MOBILENETV2_ONNX, tpu_like_mapping(), tmp_path / "m.yaml")
    entries = yaml.safe_load(path.read_text())
    original = yaml.safe_load(tpu_like_mapping().read_text())
    dw = [e for e in entries if e["name"].startswith("/")]
    assert entries[len(dw):] == original
    names = {layer.name for layer in load_workload(str(MOBILENETV2_ONNX)).layers
             if is_depthwise(layer)}
    assert {e["name"] for e in dw} == names and len(names) == 17
    assert all(e["spatial_mapping"] == {"D1": ["K, 1"], "D2": ["FX, 3", "FY, 3"]} for e in dw)


@pytest.fixture(scope="session")
def zigzag_mobilenetv2() -> ZigZagResult:
    """ZigZag's mapping search over MobileNet-v2 on tpu_like, its depthwise layers mapped as
    edgesim maps them (taps on the rows; ~1.5 min; peers_full only)."""
    return run_zigzag(MOBILENETV2_ONNX, opt="energy", exploit_data_locality=True,
                      depthwise_rows=ARRAY)


@pytest.fixture(scope="module")
def mobilenetv2_layers(tpu_like: Hardware) -> tuple[SimResult, frozenset[str]]:
    """edgesim on the same ONNX file, and the names of its depthwise layers."""
    from edgesim.sim import simulate
    from edgesim.workload import load_workload

    wl = load_workload(str(MOBILENETV2_ONNX))
    dw = frozenset(layer.name for layer in wl.layers
                   if layer.groups > 1 and layer.groups == layer.in_channels)
    return simulate(wl, tpu_like), dw


def _split(zz: ZigZagResult, es: SimResult, dw: frozenset[str]) -> dict[str, list[tuple[
        ZigZagLayer, LayerResult]]]:
    by_name = {layer.name: layer for layer in costed_layers(es)}
    pairs = [(z, by_name[z.name]) for z in zz.layers]
    assert len(pairs) == len(by_name) == 53
    return {"dw": [p for p in pairs if p[1].name in dw],
            "other": [p for p in pairs if p[1].name not in dw]}


@FULL
def test_mobilenetv2_depthwise_sram_words(zigzag_mobilenetv2: ZigZagResult,
                                          mobilenetv2_layers: tuple[SimResult, frozenset[str]],
                                          ) -> None:
    """On the same mapping, each depthwise layer's SRAM energy in both tools is the cuts'
    formula (``sram_pj``, exact): two 64-bit words per 9 MACs (9-byte input vectors, whole
    words), one word per output (1 byte each), the input written in where it comes from DRAM
    (the spilled expand output of features.2); edgesim adds one bulk pass over an input already
    on chip (its tile fill from the producer's copy), which ZigZag does not charge here."""
    from edgesim.workload import load_workload

    es, dw = mobilenetv2_layers
    wl = load_workload(str(MOBILENETV2_ONNX))
    pairs = _split(zigzag_mobilenetv2, es, dw)["dw"]
    assert len(pairs) == 17
    for z, e in pairs:
        layer = wl.layer(e.name)
        theirs = sram_pj(layer, zigzag_array_words(layer),
                         fill=z.dram_read_bytes >= layer.input_elems, bulk_read=False,
                         spill=z.dram_write_bytes > 0)
        e_fill = e.dram_read_bytes >= layer.input_elems
        ours = sram_pj(layer, edgesim_array_words(layer), fill=e_fill, bulk_read=not e_fill,
                       spill=e.dram_write_bytes > 0)
        assert zigzag_array_words(layer) == edgesim_array_words(layer), e.name
        assert z.mem_energy_pj["sram_2MB"] == pytest.approx(theirs, rel=EXACT), e.name
        assert e.energy_breakdown_j["sram_2MB"] * 1e12 == pytest.approx(ours, rel=EXACT), e.name


@FULL
def test_mobilenetv2_dense_layers_sram(zigzag_mobilenetv2: ZigZagResult,
                                       mobilenetv2_layers: tuple[SimResult, frozenset[str]]
                                       ) -> None:
    """The 36 other layers (pointwise, first conv, classifier): SRAM within ResNet-18's 15%."""
    es, dw = mobilenetv2_layers
    pairs = _split(zigzag_mobilenetv2, es, dw)["other"]
    ours_j = math.fsum(e.energy_breakdown_j.get("sram_2MB", 0.0) for _, e in pairs)
    theirs_j = sum(z.mem_energy_pj.get("sram_2MB", 0.0) for z, _ in pairs) * 1e-12
    assert rel_err(ours_j, theirs_j) <= 0.15, (ours_j, theirs_j)


@FULL
def test_mobilenetv2_dram_and_total(zigzag_mobilenetv2: ZigZagResult,
                                    mobilenetv2_layers: tuple[SimResult, frozenset[str]],
                                    tpu_like: Hardware) -> None:
    """DRAM traffic agrees, and the raw figures as the two tools give them, nothing re-priced:
    every component (MAC, each memory level) within 15%, the total within 10%."""
    es, _ = mobilenetv2_layers
    layers = costed_layers(es)
    reads = sum(layer.dram_read_bytes for layer in layers)
    writes = sum(layer.dram_write_bytes for layer in layers)
    assert rel_err(reads, zigzag_mobilenetv2.dram_read_bytes) <= 0.02, reads
    theirs = zigzag_mobilenetv2.dram_read_bytes + zigzag_mobilenetv2.dram_write_bytes
    assert rel_err(reads + writes, theirs) <= 0.05, (reads + writes, theirs)
    mac_j = math.fsum(layer.energy_breakdown_j.get(tpu_like.main_unit.name, 0.0)
                      for layer in layers)
    assert mac_j == pytest.approx(zigzag_mobilenetv2.mac_energy_pj * 1e-12, rel=1e-9)
    for level in zigzag_mobilenetv2.memory_names:
        ours_j = math.fsum(layer.energy_breakdown_j.get(level, 0.0) for layer in layers)
        theirs_j = zigzag_mobilenetv2.mem_energy_pj(level) * 1e-12
        assert rel_err(ours_j, theirs_j) <= MBV2_COMPONENT_TOLERANCE, (level, ours_j, theirs_j)
    ours_j = math.fsum(layer.energy_j for layer in layers)
    theirs_j = zigzag_mobilenetv2.energy_pj * 1e-12
    assert rel_err(ours_j, theirs_j) <= MBV2_TOTAL_TOLERANCE, (ours_j, theirs_j)
