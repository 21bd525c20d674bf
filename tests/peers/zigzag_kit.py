"""Shared pieces of the ZigZag TPU-like cross-checks (``test_zigzag.py``, whole models;
``test_zigzag_cuts.py``, the suite's cuts): the accelerator's prices, the cuts, and each tool's
mapping and SRAM words as formulas."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import onnx
from onnx.utils import Extractor

from edgesim.results import LayerResult, SimResult
from edgesim.validate.zigzag import inputs_dir, onnx_model
from edgesim.workload import Layer, Workload

ZIGZAG_INPUTS = inputs_dir()
RESNET18_ONNX = onnx_model("resnet18")
SPEC = Path(__file__).resolve().parents[2] / "hardware_specs" / "zigzag-tpu-like.yaml"
MOBILENETV2_ONNX = ZIGZAG_INPUTS / "workload" / "mobilenetv2.onnx"
SRAM_WORD_BYTES = 8  # the 2 MB SRAM's bandwidth_min: 64 bits
SRAM_READ_PJ_PER_WORD = 416.16 * 64 / 2048  # r_cost per 2048-bit access, 64-bit granules
SRAM_WRITE_PJ_PER_WORD = 378.4 * 64 / 2048
DRAM_READ_PJ_PER_BYTE = 700 / 8  # r_cost per 64-bit word
DRAM_WRITE_PJ_PER_BYTE = 750 / 8
RF_WEIGHT_PJ = 0.095  # rf_128B, per 8-bit weight read or written
RF_OUTPUT_PJ = 0.021  # rf_2B, per 16-bit partial sum read or written
ARRAY = 32  # rows (C) and columns (K) of the array
EXACT = 1e-9


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


def costed_layers(res: SimResult) -> list[LayerResult]:
    """The layers ZigZag prices: those that multiply (conv, linear, matmul)."""
    return [layer for layer in res.layers if layer.macs > 0]


def rel_err(ours: float, theirs: float) -> float:
    return abs(ours - theirs) / theirs


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
