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

ZigZag's search takes minutes on the whole models, so those checks are marked ``peers_full`` and
deselected by default (``pytest -m peers_full tests/peers/test_zigzag.py``, ~2-7 min). The suite
runs cuts instead: each network from its input through ResNet-18's ``layer1`` (5 convolutions,
residual branches) and MobileNet-v2's ``features.2`` (6 layers, 2 depthwise), extracted from the
same ONNX files with ``onnx.utils.Extractor`` and imported by edgesim from the extracted file.
On a cut every pJ is accounted for per layer and level in both tools (the DRAM bytes, the SRAM
words, the register-file accesses), and the totals agree within 2% once re-priced.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import onnx
import pytest
import yaml
from onnx.utils import Extractor

from edgesim.hardware import load_hardware
from edgesim.hardware.model import Hardware
from edgesim.mapping.tiling import word_padded_factor
from edgesim.results import LayerResult, SimResult
from edgesim.validate.zigzag import (
    ZigZagLayer,
    ZigZagResult,
    inputs_dir,
    onnx_model,
    run_zigzag,
    tpu_like_hw,
)
from edgesim.workload import Layer, Workload

ZIGZAG_INPUTS = inputs_dir()
TPU_LIKE_HW = tpu_like_hw()
RESNET18_ONNX = onnx_model("resnet18")

SPEC = Path(__file__).resolve().parents[2] / "hardware_specs" / "zigzag-tpu-like.yaml"
TOLERANCE = 0.20  # issue "Simulation engine", section 6: within 20% of ZigZag
# Tighter, from the measured residue (docs/validation.md): ZigZag charges the residual branch
# tensors' DRAM writes (1.55 MB, 146 uJ, 8.5% of its total) to the convolutions, edgesim to the
# max-pool and the ReLUs after the adds, which ZigZag does not cost. Totals and DRAM energy
# therefore read about 9-11% low; everything else agrees within a few percent.
TOTALS_TOLERANCE = 0.12
READS_TOLERANCE = 0.01  # DRAM reads: byte for byte except the FC's 512-byte input

pytestmark = pytest.mark.slow
# The whole-model checks (ZigZag ~2-7 min in all): `pytest -m peers_full tests/peers/test_zigzag.py`;
# deselected by default (pyproject addopts), where the cuts at the end of this file run instead.
FULL = pytest.mark.peers_full


def torch_module_name(onnx_node_name: str) -> str:
    """``/layer2/layer2.0/downsample/downsample.0/Conv`` -> ``layer2.0.downsample.0``.

    torch's ONNX exporter names a node by its scopes; a scope either extends the previous one
    (``layer1`` then ``layer1.0``, ``downsample`` then ``downsample.0``) or names a child
    (``conv1`` inside ``layer1.0``). The last part is the op type.
    """
    parts: list[str] = []
    for scope in onnx_node_name.strip("/").split("/")[:-1]:
        segs = scope.split(".")
        parts = parts[:-1] + segs if parts and segs[0] == parts[-1] else parts + segs
    return ".".join(parts)


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


def costed_layers(res: SimResult) -> list[LayerResult]:
    """The layers ZigZag prices: those that multiply (conv, linear, matmul)."""
    return [layer for layer in res.layers if layer.macs > 0]


def matched(zz: ZigZagResult, es: SimResult) -> list[tuple[ZigZagLayer, LayerResult]]:
    by_name = {layer.name: layer for layer in costed_layers(es)}
    return [(z, by_name[torch_module_name(z.name)]) for z in zz.layers]


def rel_err(ours: float, theirs: float) -> float:
    return abs(ours - theirs) / theirs


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


# ---- MobileNet-v2: word-granular SRAM accesses --------------------------------------------------
MOBILENETV2_ONNX = ZIGZAG_INPUTS / "workload" / "mobilenetv2.onnx"
SRAM_WORD_BYTES = 8  # the 2 MB SRAM's bandwidth_min: 64 bits
SRAM_READ_PJ_PER_WORD = 416.16 * 64 / 2048  # r_cost per 2048-bit access, 64-bit granules
SRAM_WRITE_PJ_PER_WORD = 378.4 * 64 / 2048
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


# ---- the suite's cross-check: cuts of ZigZag's own models ---------------------------------------
# ZigZag's mapping search costs about 6 s a layer, so by default the suite runs each network from
# its input up to a cut (ResNet-18 ~35 s, MobileNet-v2 ~34 s of ZigZag) instead of whole (the
# peers_full tests above). On a cut both tools are accounted for layer by layer, level by level:
# every difference is one of the named mechanisms below, so the checks are exact (rel 1e-9) and
# only the re-priced total carries a tolerance.
DRAM_READ_PJ_PER_BYTE = 700 / 8  # r_cost per 64-bit word
DRAM_WRITE_PJ_PER_BYTE = 750 / 8
RF_WEIGHT_PJ = 0.095  # rf_128B, per 8-bit weight read or written
RF_OUTPUT_PJ = 0.021  # rf_2B, per 16-bit partial sum read or written
ARRAY = 32  # rows (C) and columns (K) of the array
EXACT = 1e-9


@dataclass(frozen=True)
class Cut:
    """A sub-model: ZigZag's shipped ONNX from its input through tensor ``output``."""

    onnx: Path
    output: str
    layers: int  # costed (Conv) layers
    depthwise: int


CUTS = {
    # conv1, max-pool, layer1 (two residual blocks): 5 convolutions, 3 branch points, 0.58 G MACs
    "resnet18": Cut(RESNET18_ONNX, "/layer1/layer1.1/relu_1/Relu_output_0", 5, 0),
    # features.0-2: first conv, two inverted-residual blocks (2 depthwise, 3 pointwise layers;
    # the 1.2 MB expand output of features.2 spills to DRAM in both tools), 50.1 M MACs
    "mobilenetv2": Cut(MOBILENETV2_ONNX, "/features/features.2/conv/conv.2/Conv_output_0", 6, 2),
}


def extract_cut(cut: Cut, dst: Path) -> Path:
    """Write ``cut`` as an ONNX model at ``dst`` (onnx.utils.Extractor, which infers shapes).

    ZigZag ships shape-only models (weights as external data it does not ship); the cut keeps
    those references and both tools read the weights as dense.
    """
    model = onnx.load(str(cut.onnx), load_external_data=False)
    weights = {t.name for t in model.graph.initializer}
    inputs = [vi.name for vi in model.graph.input if vi.name not in weights]
    onnx.save(Extractor(model).extract_model(inputs, [cut.output]), str(dst))
    return dst


@dataclass(frozen=True)
class CutRun:
    cut: Cut
    workload: Workload
    zigzag: ZigZagResult
    edgesim: SimResult

    def result(self, name: str) -> LayerResult:
        return next(r for r in self.edgesim.layers if r.name == name)

    def pairs(self) -> list[tuple[Layer, ZigZagLayer, LayerResult]]:
        """(edgesim's layer, ZigZag's figures, edgesim's figures) per costed layer, by ONNX name."""
        return [(self.workload.layer(z.name), z, self.result(z.name)) for z in self.zigzag.layers]


@pytest.fixture(scope="module", params=sorted(CUTS))
def cut_run(request: pytest.FixtureRequest, tpu_like: Hardware,
            tmp_path_factory: pytest.TempPathFactory) -> CutRun:
    """ZigZag (locality mode) and edgesim on the same extracted file (~35 s of ZigZag each)."""
    from edgesim.sim import simulate
    from edgesim.workload import load_workload

    cut = CUTS[request.param]
    path = extract_cut(cut, tmp_path_factory.mktemp("zigzag-cut") / f"{request.param}.onnx")
    wl = load_workload(str(path))
    return CutRun(cut, wl, run_zigzag(path, opt="energy", exploit_data_locality=True,
                                      depthwise_rows=ARRAY),
                  simulate(wl, tpu_like))


def uncosted_tail(wl: Workload, name: str) -> str:
    """Follow a layer's output through the layers ZigZag does not cost (ReLU, clip, pooling, adds)
    while it has one consumer: the layer producing the tensor that moves on."""
    while len(nxt := wl.consumers(name)) == 1 and wl.layer(nxt[0]).macs == 0:
        name = nxt[0]
    return name


def is_depthwise(layer: Layer) -> bool:
    return layer.groups > 1 and layer.groups == layer.in_channels


def _vector_words(extent: int) -> int:
    """Whole 8-byte words that ``extent`` bytes take in vectors of at most 32 (one per row)."""
    full, rem = divmod(extent, ARRAY)
    return full * (ARRAY // SRAM_WORD_BYTES) + math.ceil(rem / SRAM_WORD_BYTES)


def zigzag_rows(layer: Layer) -> int:
    """Rows ZigZag's mapping uses: C per group (tpu_like's file), a depthwise layer's taps
    (``depthwise_rows``)."""
    if is_depthwise(layer):
        return layer.kernel[0] * layer.kernel[1]
    return min(layer.in_channels // layer.groups, ARRAY)


def edgesim_rows(layer: Layer) -> int:
    """Rows edgesim's im2col mapping uses: the C/g x R x S reduction, up to 32."""
    return min(layer.in_channels // layer.groups * layer.kernel[0] * layer.kernel[1], ARRAY)


def zigzag_array_words(layer: Layer) -> float:
    """ZigZag's tpu_like mapping unrolls K on the 32 columns and C on the 32 rows (per group):
    each cycle reads one C-vector of the input, whole words; C = 3 (a first conv) uses 3 rows
    and reads a word per cycle. A depthwise layer has its 9 taps on 9 rows (two words a
    cycle), as in edgesim."""
    if is_depthwise(layer):
        return layer.macs / zigzag_rows(layer) * _vector_words(zigzag_rows(layer))
    c = min(layer.in_channels // layer.groups, ARRAY)
    k = min(layer.out_channels // layer.groups, ARRAY)
    return layer.macs / (k * c) * _vector_words(c)


def edgesim_array_words(layer: Layer) -> float:
    """edgesim maps a convolution im2col: per output pixel, group and 32-column fold, the
    C/g x R x S reduction in 32-row vectors (147 bytes for ResNet's conv1: 19 words; 9 for a
    depthwise filter: 2 words)."""
    crs = layer.in_channels // layer.groups * layer.kernel[0] * layer.kernel[1]
    k = layer.out_channels // layer.groups
    pixels = layer.output_elems // layer.out_channels
    return pixels * layer.groups * math.ceil(k / ARRAY) * _vector_words(crs)


def sram_pj(layer: Layer, array_words: float, *, fill: bool, bulk_read: bool,
            spill: bool) -> float:
    """One layer's energy at the 2 MB SRAM, in its 64-bit words, as both tools price it.

    ``array_words`` read towards the array; each output written once as a K-vector of whole words
    (a depthwise layer's 1-byte outputs a word each) and read once more when it goes to DRAM
    (``spill``); ``fill``: the input comes from DRAM and is written in; ``bulk_read``: edgesim's
    one pass over an input already on chip (its tile fill from the producer's copy), which ZigZag
    does not have.
    """
    k = min(layer.out_channels // layer.groups, ARRAY)
    out_words = layer.output_elems / k * _vector_words(k)
    in_words = layer.input_elems / SRAM_WORD_BYTES
    reads = array_words + (in_words if bulk_read else 0) + (out_words if spill else 0)
    writes = out_words + (in_words if fill else 0)
    return reads * SRAM_READ_PJ_PER_WORD + writes * SRAM_WRITE_PJ_PER_WORD


def test_cut_layers_and_macs(cut_run: CutRun) -> None:
    pairs = cut_run.pairs()
    assert len(pairs) == len(costed_layers(cut_run.edgesim)) == cut_run.cut.layers
    assert sum(is_depthwise(layer) for layer, _, _ in pairs) == cut_run.cut.depthwise
    for _, z, e in pairs:
        assert e.macs == z.macs, z.name


def test_cut_mac_energy_identical(cut_run: CutRun, tpu_like: Hardware) -> None:
    unit = tpu_like.main_unit.name
    ours_j = math.fsum(e.energy_breakdown_j.get(unit, 0.0) for _, _, e in cut_run.pairs())
    assert ours_j == pytest.approx(cut_run.zigzag.mac_energy_pj * 1e-12, rel=EXACT)


def test_cut_dram_reads_per_layer(cut_run: CutRun) -> None:
    """Byte for byte (weights once, plus the input where it is not on chip), but for one thing
    ZigZag does differently: in locality mode it takes the network input as already on chip
    unless the first layer starts a branch (MobileNet-v2's features.0: 150 528 B that edgesim
    reads; ResNet-18's conv1 feeds two layers through the max-pool, so both read it). (With a
    depthwise layer on one PE, ZigZag fetched each 9-byte filter as two 8-byte words; on the
    taps-on-rows mapping it reads the 9 bytes.)"""
    wl = cut_run.workload
    for layer, z, e in cut_run.pairs():
        theirs = z.dram_read_bytes
        if not layer.inputs and len(wl.consumers(uncosted_tail(wl, layer.name))) == 1:
            theirs += layer.input_elems
        assert e.dram_read_bytes == theirs, layer.name


def test_cut_dram_writes_per_layer(cut_run: CutRun) -> None:
    """Both write a branch tensor (one that two layers read) and a spill once; which layer pays
    differs. ZigZag drops the uncosted layers, so the costed producer writes its own output
    (ResNet-18's conv1: 802 816 B, before the max-pool it does not see); edgesim writes the tensor
    from the layer that makes it (the max-pool: 200 704 B; the ReLU after a residual add). The
    cut's output: ZigZag's locality mode keeps the last layer's output on chip, edgesim writes a
    model output to DRAM (MobileNet-v2: 75 264 B from features.2's last conv)."""
    wl = cut_run.workload
    for layer, z, e in cut_run.pairs():
        tail = uncosted_tail(wl, layer.name)
        readers = len(wl.consumers(tail))
        if readers > 1:  # a branch tensor
            assert z.dram_write_bytes == layer.output_elems, layer.name
            assert e.dram_write_bytes == 0, layer.name
            assert cut_run.result(tail).dram_write_bytes == wl.layer(tail).output_elems, tail
        elif readers == 0:  # the cut's output
            assert z.dram_write_bytes == 0, layer.name
            assert cut_run.result(tail).dram_write_bytes == wl.layer(tail).output_elems, tail
        else:
            assert e.dram_write_bytes == z.dram_write_bytes, layer.name


def test_cut_dram_energy_per_layer(cut_run: CutRun) -> None:
    """Both price every DRAM byte alike (so with the bytes above, DRAM energy is pinned)."""
    for layer, z, e in cut_run.pairs():
        for pj, rd, wr in [(z.mem_energy_pj.get("dram", 0.0), z.dram_read_bytes,
                            z.dram_write_bytes),
                           (e.energy_breakdown_j.get("dram", 0.0) * 1e12, e.dram_read_bytes,
                            e.dram_write_bytes)]:
            assert pj == pytest.approx(rd * DRAM_READ_PJ_PER_BYTE + wr * DRAM_WRITE_PJ_PER_BYTE,
                                       rel=EXACT), layer.name


def test_cut_sram_per_layer(cut_run: CutRun) -> None:
    """Each tool's SRAM energy is its array input reads plus the same output and staging words
    (``sram_pj``); the array reads are the same wherever the reduction fills whole words (C per
    group a multiple of 8) and on the depthwise layers (the same mapping), and differ by the
    mapping for a first conv (C = 3), ZigZag reading a word per cycle for 3 bytes."""
    for layer, z, e in cut_run.pairs():
        c = layer.in_channels // layer.groups
        if c % SRAM_WORD_BYTES == 0 or is_depthwise(layer):
            assert edgesim_array_words(layer) == zigzag_array_words(layer), layer.name
        z_fill = z.dram_read_bytes >= layer.input_elems
        e_fill = e.dram_read_bytes >= layer.input_elems
        theirs = sram_pj(layer, zigzag_array_words(layer), fill=z_fill, bulk_read=False,
                         spill=z.dram_write_bytes > 0)
        ours = sram_pj(layer, edgesim_array_words(layer), fill=e_fill, bulk_read=not e_fill,
                       spill=e.dram_write_bytes > 0)
        assert z.mem_energy_pj["sram_2MB"] == pytest.approx(theirs, rel=EXACT), layer.name
        assert e.energy_breakdown_j["sram_2MB"] * 1e12 == pytest.approx(ours, rel=EXACT), \
            layer.name


def test_cut_register_files_per_layer(cut_run: CutRun) -> None:
    """Both tools write each weight into its PE's file once, read and write the 16-bit output
    register once per MAC, and read each used row's output register once more per output as the
    column's partial sums leave the array. The weight file is read once per MAC, or once per
    weight where no loop inside the array's pass touches the weight (the whole reduction on the
    rows: each PE holds one weight, which stays at the multiplier). The mappings differ on a
    first conv only: ZigZag puts C = 3 on 3 rows and steps the taps in time, edgesim puts
    C x R x S on the rows (ResNet-18's 147 > 32 rows; MobileNet-v2's 27 <= 32: held)."""
    for layer, z, e in cut_run.pairs():
        c = layer.in_channels // layer.groups
        for rows, held, pj in [
                (zigzag_rows(layer), is_depthwise(layer) or (layer.kernel == (1, 1) and c <= ARRAY),
                 z.mem_energy_pj),
                (edgesim_rows(layer), c * layer.kernel[0] * layer.kernel[1] <= ARRAY,
                 {k: v * 1e12 for k, v in e.energy_breakdown_j.items()})]:
            reads = layer.weight_elems if held else layer.macs
            assert pj["rf_128B"] == pytest.approx((reads + layer.weight_elems) * RF_WEIGHT_PJ,
                                                  rel=EXACT), layer.name
            assert pj["rf_2B"] == pytest.approx(
                (2 * layer.macs + layer.output_elems * rows) * RF_OUTPUT_PJ, rel=EXACT), layer.name


# Measured (docs/validation.md): ResNet-18 cut -0.8%, MobileNet-v2 cut +1.5%; the residue is the
# first convs' register files (their mappings differ) and edgesim's bulk pass over on-chip
# inputs, all exact above.
CUT_TOTAL_TOLERANCE = 0.02


def test_cut_total_energy(cut_run: CutRun) -> None:
    """The totals: each tool's is its MAC and four levels (nothing else, no static energy), and
    ZigZag's, re-priced where the tools differ by construction (the first conv's array reads at
    edgesim's mapping, the DRAM bytes at edgesim's), is within 2% of edgesim's."""
    pairs = cut_run.pairs()
    ours_pj = math.fsum(e.energy_j for _, _, e in pairs) * 1e12
    parts = ["dram", "sram_2MB", "rf_128B", "rf_2B"]
    assert cut_run.zigzag.energy_pj == pytest.approx(
        cut_run.zigzag.mac_energy_pj + sum(cut_run.zigzag.mem_energy_pj(m) for m in parts),
        rel=EXACT)
    assert ours_pj == pytest.approx(math.fsum(
        sum(e.energy_breakdown_j.values()) for _, _, e in pairs) * 1e12, rel=EXACT)
    mapping_pj = sum(zigzag_array_words(layer) - edgesim_array_words(layer)
                     for layer, _, _ in pairs) * SRAM_READ_PJ_PER_WORD
    dram_pj = math.fsum(e.energy_breakdown_j.get("dram", 0.0) for _, _, e in pairs) * 1e12 \
        - cut_run.zigzag.mem_energy_pj("dram")
    theirs_pj = cut_run.zigzag.energy_pj - mapping_pj + dram_pj
    assert rel_err(ours_pj, theirs_pj) <= CUT_TOTAL_TOLERANCE, (ours_pj, theirs_pj)


if __name__ == "__main__":  # the cut figures in docs/validation.md (~70 s of ZigZag)
    import tempfile
    import time

    from edgesim.sim import simulate
    from edgesim.workload import load_workload

    hw = load_hardware(SPEC)
    with tempfile.TemporaryDirectory() as tmp:
        for net, cut in CUTS.items():
            path = extract_cut(cut, Path(tmp) / f"{net}.onnx")
            wl = load_workload(str(path))
            start = time.perf_counter()
            run = CutRun(cut, wl, run_zigzag(path, opt="energy", exploit_data_locality=True,
                                             depthwise_rows=ARRAY),
                         simulate(wl, hw))
            secs = time.perf_counter() - start
            pairs = run.pairs()
            zz = run.zigzag
            mapping = sum(zigzag_array_words(la) - edgesim_array_words(la)
                          for la, _, _ in pairs) * SRAM_READ_PJ_PER_WORD
            ours_dram = math.fsum(e.energy_breakdown_j.get("dram", 0.0) for _, _, e in pairs)
            rows = [("total energy (uJ)", zz.energy_pj / 1e6,
                     math.fsum(e.energy_j for _, _, e in pairs) * 1e6),
                    ("total, ZigZag re-priced (uJ)",
                     (zz.energy_pj - mapping + ours_dram * 1e12 - zz.mem_energy_pj("dram")) / 1e6,
                     math.fsum(e.energy_j for _, _, e in pairs) * 1e6),
                    ("MAC (uJ)", zz.mac_energy_pj / 1e6, math.fsum(
                        e.energy_breakdown_j.get(hw.main_unit.name, 0.0) for _, _, e in pairs) * 1e6)]
            rows += [(f"{m} (uJ)", zz.mem_energy_pj(m) / 1e6,
                      math.fsum(e.energy_breakdown_j.get(m, 0.0) for _, _, e in pairs) * 1e6)
                     for m in ("dram", "sram_2MB", "rf_128B", "rf_2B")]
            rows += [("DRAM reads (B)", zz.dram_read_bytes,
                      sum(e.dram_read_bytes for _, _, e in pairs)),
                     ("DRAM writes (B)", zz.dram_write_bytes,
                      sum(e.dram_write_bytes for _, _, e in pairs))]
            print(f"{net}: {len(pairs)} layers, {zz.macs} MACs, ZigZag + edgesim {secs:.1f} s")
            for label, theirs, ours in rows:
                print(f"| {label} | {theirs:.6g} | {ours:.6g} | {ours / theirs if theirs else 0:.3f} |")
