"""Tiling and per-level traffic: DRAM and buffer reads/writes of each operand, shared by all mappers.

The model (closed form, no loops over cycles):

* Operand sizes at the layer's bit-widths; weights as stored: the smaller of dense, CSR with 4-bit
  relative indices (with the padding entries a gap longer than 15 needs), and a 1-bit-per-weight
  bitmap, or N:M values plus ``ceil(log2 M)`` bits of metadata per kept weight; never above dense.
* Each operand lives in the buffers whose ``holds`` lists it (outer to inner). A tile must fit half
  a buffer (the other half double-buffers the next tile); a buffer shared by several operands gives
  half to the stationary operand and a quarter to each streamed one.
* Two loop orders are tried at every buffer level and the one moving fewer bytes from the level
  above is kept (a real mapper would):
  ``weights-outer``: filter tiles stay, inputs stream in row bands (with the halo of overlapping
  windows) once per filter tile of a group; a filter whose reduction does not fit splits the
  reduction and spills partial sums (write + read back per extra split);
  ``inputs-outer``: input row bands stay, all weights stream once per band unless they fit.
* Outputs are written once per level (plus partial-sum spills).
* A mapper whose dataflow fixes the loop order above its buffers (row-stationary processing
  passes: ``spatial``) hands its own plan for the outermost buffer level (``ArraySide.home_plan``);
  inner levels are still tiled here.
* Reads from the innermost buffer are what the array itself consumes (given by each mapper from
  its dataflow's reuse); operands no buffer holds are read from the level above directly.
* Input footprint: a window smaller than its stride (a stride-2 1x1 conv) touches only some
  input rows and columns; only those are fetched (rows are skipped per band, columns by a
  strided transfer), so such a layer reads ``ceil(E*R/ H)`` of the rows and likewise of the
  columns (a quarter of a stride-2 1x1 conv's input).
* Compressed activations: a home level with ``compression: rlc`` (Eyeriss) stores activations
  run-length coded (``rlc_ratio``); only the bytes crossing to and from that level shrink or grow,
  buffers hold them decoded. Weights and partial-sum spills are never coded.
* Activation residency, per input tensor: a tensor that a producer hands to its next layer stays
  on chip when it fits in half of the on-chip capacity that holds activations (see
  ``activation_budget_bytes``); the producer's DRAM write and that tensor's DRAM read are then
  skipped and its re-fetches hit the on-chip buffer. A layer with several inputs (a residual
  add) reads from DRAM only the inputs that live there.
* Word-granular array accesses: an array moves one vector of elements per access to the on-chip
  buffer that feeds it (one element per row or per column it uses); a buffer is accessed in
  whole words of its ``word`` size, so a vector narrower than a word, or one that ends part-way
  into a word, costs the bytes of the whole words it touches (``word_padded_factor``; a
  depthwise layer's 9-element vectors cost 16 bytes of an 8-byte-word buffer). Mappers express
  this in the array-side bytes they hand over (``ArraySide``); bulk transfers between levels
  (tiles, contiguous) and off-chip levels (burst-accessed) are not rounded.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from edgesim.hardware.model import Hardware, MemoryLevel, MemoryType, Operand
from edgesim.workload.ir import Layer, OpKind

IN, W, OUT = Operand.INPUTS, Operand.WEIGHTS, Operand.OUTPUTS
CSR_INDEX_BITS = 4


RLC_WORD_BITS = 64  # Eyeriss (JSSC 2017): 64-bit words of three (5-bit run, 16-bit level) pairs
RLC_RUN_BITS = 5


def rlc_ratio(zero_fraction: float, bits: int) -> float:
    """Coded / raw size of a tensor of ``bits``-bit values run-length coded as Eyeriss does.

    A word holds ``floor((64 - 1) / (5 + bits))`` (run, level) pairs plus a last-word flag (three
    pairs at 16 bits). Each nonzero value takes a pair (the run of zeros before it, up to 31, and
    its level); a longer run of zeros spends an extra pair (31 zeros and a zero level) per 32
    zeros. With zeros spread at random (fraction z) the expected pairs per value are
    ``(1 - z) / (1 - z**32)``. Dense data grow (64/48 at 16 bits); sparse data shrink.
    """
    z = min(max(zero_fraction, 0.0), 1.0)
    pairs_per_word = max(1, (RLC_WORD_BITS - 1) // (RLC_RUN_BITS + bits))
    pairs = 1.0 / 32 if z >= 1.0 else (1.0 - z) / (1.0 - z ** 32)
    return pairs * RLC_WORD_BITS / pairs_per_word / bits


def psum_bits(act_bits: int) -> int:
    """Partial-sum width: 32-bit accumulators (wider activations keep their width)."""
    return max(32, act_bits)


def weight_storage_bits(layer: Layer, weight_bits: int) -> int:
    """Bits needed to store a layer's parameters in the cheapest sensible format (never > dense)."""
    n = layer.params
    dense = n * weight_bits
    if n == 0:
        return 0
    pattern = layer.sparsity_pattern
    if pattern not in ("", "unstructured") and ":" in pattern:
        keep_n, block_m = (int(x) for x in pattern.split(":"))
        kept = math.ceil(n * keep_n / block_m)
        meta = max(1, math.ceil(math.log2(block_m)))
        return min(dense, kept * (weight_bits + meta))
    s = layer.weight_sparsity
    if s <= 0.0:
        return dense
    nnz = math.ceil(n * (1.0 - s))
    bitmap = n + nnz * weight_bits
    # CSR with relative 4-bit indices: a gap of 16 or more needs a padding entry per 16 positions.
    # For zeros spread at random (density d) the expected padding per nonzero is q / (1 - q) with
    # q = (1 - d) ** 16 (sum over k >= 1 of P(gap >= 16 k)).
    density = max(1.0 - s, 1e-12)
    q = (1.0 - density) ** (1 << CSR_INDEX_BITS)
    pads = math.ceil(nnz * q / (1.0 - q)) if q < 1.0 else n
    csr = (nnz + pads) * (weight_bits + CSR_INDEX_BITS)
    return min(dense, bitmap, csr)


@dataclass(frozen=True)
class Sizes:
    """Bytes of each operand of a layer (weights as stored) and of one partial-sum pass."""

    inputs: int
    weights: int
    outputs: int
    psums: int  # bytes of the outputs held at accumulator width


@dataclass(frozen=True)
class Geometry:
    """What the tiler needs of a GEMM-like layer: groups, filters, rows for input banding."""

    batch: int
    groups: int
    n_per_group: int  # filters (output channels) per group
    out_rows: int  # output rows per image (conv E; GEMM rows for linear)
    in_rows: int  # padded input rows per image
    stride: int
    kernel_rows: int
    col_frac: float = 1.0  # fraction of each input row's columns the windows touch


def _touched(n_out: int, stride: int, kernel: int, n_in: int) -> int:
    """Input positions touched by ``n_out`` windows of ``kernel`` at ``stride`` (of ``n_in``).

    Overlapping or abutting windows touch a contiguous span; windows smaller than their stride
    leave gaps that are not fetched.
    """
    span = (n_out - 1) * stride + kernel if n_out > 0 else 0
    return min(n_in, span, n_out * kernel)


def geometry(layer: Layer) -> Geometry:
    """Tiling geometry of a layer (conv: image rows; linear/matmul: token rows)."""
    g = layer.gemm()
    if g is None:
        rows = max(1, layer.output_elems // max(1, layer.batch))
        return Geometry(layer.batch, 1, 1, rows, rows, 1, 1)
    groups, m, n, _ = g
    if layer.op in (OpKind.CONV2D, OpKind.CONV1D, OpKind.ADDER_CONV2D):
        e, f = layer.out_hw
        h, w = layer.in_hw
        kc = (layer.kernel[1] - 1) * layer.dilation[1] + 1
        w_pad = w + 2 * layer.padding[1]
        col_frac = _touched(f, layer.stride[1], kc, w_pad) / w_pad if kc < layer.stride[1] \
            else 1.0
        return Geometry(layer.batch, groups, n, e, h + 2 * layer.padding[0], layer.stride[0],
                        (layer.kernel[0] - 1) * layer.dilation[0] + 1, col_frac)
    if layer.op == OpKind.CONV_TRANSPOSE2D:
        h, _w = layer.in_hw
        return Geometry(layer.batch, groups, n, h, h, 1, 1)
    if layer.op == OpKind.MATMUL:
        return Geometry(1, groups, n, m, m, 1, 1)
    return Geometry(1, 1, n, m, m, 1, 1)


def _stream_inputs(geo: Geometry, inputs: int, cap: float) -> tuple[int, int]:
    """(bytes read, row bands) to stream all inputs once through a buffer of ``cap`` bytes."""
    if inputs == 0:
        return 0, 1
    per_img = inputs / geo.batch
    row_b = per_img / max(1, geo.in_rows) * geo.col_frac  # bytes of the touched part of a row
    if cap >= per_img or geo.out_rows <= 1:
        imgs = geo.batch if (per_img <= 0 or math.isinf(cap)) else max(1, int(cap // per_img))
        if geo.kernel_rows < geo.stride or geo.col_frac < 1.0:
            touched = _touched(geo.out_rows, geo.stride, geo.kernel_rows, geo.in_rows)
            inputs = int(round(geo.batch * touched * row_b))
        return inputs, max(1, math.ceil(geo.batch / imgs))
    rows_fit = geo.in_rows if (row_b <= 0 or math.isinf(cap)) else int(cap // row_b)
    e_t = max(1, (rows_fit - geo.kernel_rows) // geo.stride + 1) if rows_fit >= geo.kernel_rows \
        else 1
    e_t = min(e_t, geo.out_rows)
    full, rem = divmod(geo.out_rows, e_t)
    span = _touched(e_t, geo.stride, geo.kernel_rows, geo.in_rows)
    rows = full * span + (_touched(rem, geo.stride, geo.kernel_rows, geo.in_rows) if rem else 0)
    bands = full + (1 if rem else 0)
    return int(round(geo.batch * rows * row_b)), geo.batch * bands


@dataclass(frozen=True)
class TilePlan:
    """Bytes moved from the level above into one buffer level, for the chosen loop order."""

    inputs: int
    weights: int
    outputs_written: int
    outputs_read: int  # partial sums read back
    tiles: int
    order: str

    @property
    def total(self) -> int:
        return self.inputs + self.weights + self.outputs_written + self.outputs_read


def plan_tiles(geo: Geometry, sizes: Sizes, caps: Mapping[Operand, tuple[float, float]],
               weighted: bool) -> TilePlan:
    """Choose the loop order that moves fewest bytes into buffers of the given capacities.

    ``caps[op] = (stationary_bytes, streamed_bytes)``; a missing operand has no buffer and is
    read through (its traffic is the plain operand size here; mappers charge array reads).
    """
    i_stat, i_str = caps.get(IN, (math.inf, math.inf))
    w_stat, w_str = caps.get(W, (math.inf, math.inf))
    out_w, out_r = sizes.outputs, 0
    if not weighted or sizes.weights == 0:
        rd, bands = _stream_inputs(geo, sizes.inputs, i_str)
        return TilePlan(rd, 0, out_w, out_r, bands, "stream")
    filters = geo.groups * geo.n_per_group
    per_filter = sizes.weights / filters
    # Order A: weights outer.
    n_t = filters if (per_filter <= 0 or math.isinf(w_stat)) else int(w_stat // per_filter)
    stream, bands = _stream_inputs(geo, sizes.inputs, i_str)
    if n_t >= 1:
        n_t = min(n_t, filters)
        t_w = math.ceil(filters / n_t)
        passes = math.ceil(geo.n_per_group / n_t) if n_t < geo.n_per_group else 1
        spill_w = spill_r = 0
    else:
        k_split = math.ceil(per_filter / max(w_stat, 1.0))
        t_w = filters * k_split
        passes = geo.n_per_group * k_split
        spill_w = spill_r = (k_split - 1) * sizes.psums
    plan_a = TilePlan(stream * passes, sizes.weights, out_w + spill_w, out_r + spill_r,
                      t_w * bands, "weights-outer")
    # Order B: inputs outer.
    stat, t_i = _stream_inputs(geo, sizes.inputs, i_stat)
    w_reads = sizes.weights if sizes.weights <= w_stat else sizes.weights * t_i
    w_chunks = max(1, math.ceil(sizes.weights / max(w_str, 1.0)))
    plan_b = TilePlan(stat, w_reads, out_w, out_r, t_i * w_chunks, "inputs-outer")
    return plan_a if plan_a.total <= plan_b.total else plan_b


def word_padded_factor(extent: int, lanes: int, elem_bytes: float, word_bytes: int) -> float:
    """Bytes charged per useful byte when ``extent`` elements cross to or from a buffer in
    vectors of at most ``lanes`` elements (full vectors, then the remainder), each vector an
    access of whole ``word_bytes`` words.

    ``word_padded_factor(9, 32, 1, 8)`` is 16 / 9 (a 9-byte vector touches two 8-byte words);
    a dimension that fills the lanes with vectors a multiple of the word gives 1.
    """
    if extent <= 0 or lanes <= 0 or elem_bytes <= 0 or word_bytes <= 1:
        return 1.0
    full, rem = divmod(extent, lanes)

    def words(n: int) -> int:
        return math.ceil(n * elem_bytes / word_bytes - 1e-9)

    charged = (full * words(lanes) + (words(rem) if rem else 0)) * word_bytes
    return max(1.0, charged / (extent * elem_bytes))


def array_word_bytes(hw: Hardware, op: Operand) -> int:
    """Access width of the on-chip buffer feeding the array ``op`` (the innermost shared buffer
    holding it); 1 (byte-granular, no rounding) when it comes from off chip."""
    c = chain(hw, op)
    home = activation_home(hw) if op != W else hw.dram
    c = [m for m in c if m is not home]
    if not c or c[-1].is_offchip:
        return 1
    return max(1, c[-1].word_bytes)


def onchip_buffers(hw: Hardware) -> list[MemoryLevel]:
    """Shared on-chip levels (SRAM, caches), outer to inner; per-PE files are excluded."""
    return [m for m in hw.memory[1:] if not m.is_offchip and not m.per_pe]


def per_pe_levels(hw: Hardware) -> list[MemoryLevel]:
    return [m for m in hw.memory if m.per_pe]


def chain(hw: Hardware, op: Operand) -> list[MemoryLevel]:
    """Buffers holding ``op``, outer to inner."""
    return [m for m in onchip_buffers(hw) if op in m.holds]


def activation_home(hw: Hardware) -> MemoryLevel | None:
    """Where activations live off the array: DRAM, or on an MCU (flash outermost) the first SRAM."""
    if hw.dram.type != MemoryType.FLASH:
        return hw.dram
    for m in onchip_buffers(hw):
        if IN in m.holds or OUT in m.holds:
            return m
    return None


def activation_budget_bytes(hw: Hardware) -> int:
    """On-chip bytes an activation may occupy between layers: half the largest buffer holding
    both inputs and outputs, or half of the input buffer when inputs and outputs are split
    (the output buffer becomes the next layer's input buffer by swapping roles)."""
    best = 0
    for m in onchip_buffers(hw):
        if IN in m.holds and OUT in m.holds:
            best = max(best, m.total_bytes // 2)
    if best == 0:
        ins = [m.total_bytes for m in onchip_buffers(hw) if IN in m.holds]
        outs = [m.total_bytes for m in onchip_buffers(hw) if OUT in m.holds]
        if ins and outs:
            best = min(max(ins), max(outs)) // 2
    return best


def _caps(level_of: Mapping[Operand, MemoryLevel]) -> dict[Operand, tuple[float, float]]:
    caps: dict[Operand, tuple[float, float]] = {}
    for op, lvl in level_of.items():
        sharing = sum(1 for o in level_of.values() if o is lvl)
        size = float(lvl.total_bytes)
        caps[op] = (size / 2, size / 2) if sharing == 1 else (size / 2, size / 4)
    return caps


@dataclass(frozen=True)
class ArraySide:
    """What the array itself moves at the innermost buffer (bytes) and in per-PE files."""

    reads: Mapping[Operand, int]  # bytes read by the array from its feeding buffer, per operand
    output_writes: int  # bytes written by the array (partial sums included)
    output_reads: int = 0  # partial sums read back by the array
    rf_reads: Mapping[Operand, int] | None = None  # per-PE register-file bytes read, per operand
    rf_writes: Mapping[Operand, int] | None = None
    # The mapper's own loop order between the homes and the outermost buffers, when its dataflow
    # fixes one (row-stationary processing passes, see ``spatial``); None: the tiler chooses.
    home_plan: TilePlan | None = None


@dataclass(frozen=True)
class LevelTraffic:
    reads: dict[str, int]
    writes: dict[str, int]
    tiles: int
    note: str
    dram_act_reads: int = 0  # bytes of activations (inputs, a matmul's second operand) from DRAM


def _resident_share(part: int, whole: int) -> float:
    return min(1.0, part / whole) if whole > 0 and part > 0 else 0.0


def level_traffic(hw: Hardware, layer: Layer, sizes: Sizes, array: ArraySide,
                  inputs_resident_bytes: int = 0, outputs_on_chip: bool = False,
                  weights_resident_bytes: int = 0, inputs_home_ratio: float = 1.0,
                  outputs_home_ratio: float = 1.0) -> LevelTraffic:
    """Reads and writes of every memory level for one layer (totals across instances).

    ``inputs_resident_bytes`` of the layer's inputs (and, for a matmul, ``weights_resident_bytes``
    of its second operand) are already on chip, left there by their producers: only the rest is
    read from the activation home. ``outputs_on_chip``: the output stays on chip (no home write).
    ``inputs_home_ratio`` / ``outputs_home_ratio``: stored / raw size of the inputs and the output
    at the activation home (compressed activations, see ``rlc_ratio``).
    """
    reads = {m.name: 0 for m in hw.memory}
    writes = {m.name: 0 for m in hw.memory}
    geo = geometry(layer)
    weighted = layer.op in (OpKind.CONV2D, OpKind.CONV1D, OpKind.ADDER_CONV2D,
                            OpKind.CONV_TRANSPOSE2D, OpKind.LINEAR, OpKind.MATMUL)
    act_home = activation_home(hw)
    homes: dict[Operand, MemoryLevel | None] = {IN: act_home, OUT: act_home, W: hw.dram}
    chains = {op: [m for m in chain(hw, op) if m is not homes[op]] for op in (IN, W, OUT)}
    # Where a resident activation sits: the outermost buffer of its chain (an output buffer
    # becomes the next layer's input buffer by swapping roles), or any activation buffer.
    act_bufs = [m for m in onchip_buffers(hw) if m is not act_home and (IN in m.holds
                                                                         or OUT in m.holds)]
    share = {IN: _resident_share(inputs_resident_bytes, sizes.inputs),
             W: _resident_share(weights_resident_bytes, sizes.weights)
             if layer.op == OpKind.MATMUL else 0.0}
    park = {op: (chains[op][0] if chains[op] else (act_bufs[0] if act_bufs else None))
            for op in (IN, W)}
    for op in (IN, W):
        if park[op] is None:
            share[op] = 0.0
    if outputs_on_chip and chains[OUT]:
        homes[OUT] = None
    dram_act = 0
    act_ops = (IN, W) if layer.op == OpKind.MATMUL else (IN,)
    depth = max(len(c) for c in chains.values())
    tiles = 1
    notes = []
    for d in range(depth):
        level_of = {op: c[min(d, len(c) - 1)] for op, c in chains.items() if c}
        plan = array.home_plan if d == 0 and array.home_plan is not None \
            else plan_tiles(geo, sizes, _caps(level_of), weighted)
        if d == 0:
            tiles = plan.tiles
        notes.append(f"{'/'.join(sorted({m.name for m in level_of.values()}))}:{plan.order}")
        fills = {IN: plan.inputs, W: plan.weights}
        for op in (IN, W):
            c = chains[op]
            if not c or d >= len(c):
                continue
            fill = fills[op]
            if d == 0:
                on_chip = int(round(fill * share[op]))  # re-fetches read the buffer itself
                reads[c[0].name] += on_chip
                fill -= on_chip
                src = homes[op]
                if src is None:
                    continue
                writes[c[0].name] += fill
                if op == IN:
                    fill = int(round(fill * inputs_home_ratio))
                if src is hw.dram and op in act_ops:
                    dram_act += fill
                reads[src.name] += fill
                continue
            reads[c[d - 1].name] += fill
            writes[c[d].name] += fill
        c = chains[OUT]
        if c and d < len(c):
            dst = homes[OUT] if d == 0 else c[d - 1]
            if dst is not None:
                ratio = outputs_home_ratio if d == 0 else 1.0
                coded = int(round(min(plan.outputs_written, sizes.outputs) * ratio))
                writes[dst.name] += coded + max(0, plan.outputs_written - sizes.outputs)
                reads[dst.name] += plan.outputs_read
                reads[c[d].name] += plan.outputs_written
                writes[c[d].name] += plan.outputs_read
    # The array's own accesses at the innermost buffer (or straight from home without buffers).
    for op in (IN, W):
        c = chains[op]
        amount = array.reads.get(op, 0)
        if c:
            reads[c[-1].name] += amount
            continue
        parked = park[op]
        on_chip = int(round(amount * share[op]))
        if parked is not None and on_chip:
            reads[parked.name] += on_chip
        src = homes[op]
        if src is not None:
            off = amount - on_chip
            if op == IN:
                off = int(round(off * inputs_home_ratio))
            reads[src.name] += off
            if src is hw.dram and op in act_ops:
                dram_act += off
    c = chains[OUT]
    if c:
        writes[c[-1].name] += array.output_writes
        reads[c[-1].name] += array.output_reads
    elif (out_home := homes[OUT]) is not None:
        final = min(array.output_writes, sizes.outputs)
        writes[out_home.name] += (int(round(final * outputs_home_ratio))
                                  + array.output_writes - final)
        reads[out_home.name] += array.output_reads
    # Register files per PE.
    for m in per_pe_levels(hw):
        for op in m.holds:
            reads[m.name] += (array.rf_reads or {}).get(op, 0)
            writes[m.name] += (array.rf_writes or {}).get(op, 0)
    return LevelTraffic(reads, writes, tiles, "; ".join(notes), dram_act)


def layer_sizes(layer: Layer, weight_bits: int, act_bits: int) -> Sizes:
    """Operand bytes of ``layer``; a matmul's second operand is an activation (the 'weights')."""
    if layer.op == OpKind.MATMUL:
        a = math.prod(layer.in_shapes[0])
        b = math.prod(layer.in_shapes[1]) if len(layer.in_shapes) > 1 else 0
        return Sizes(math.ceil(a * act_bits / 8), math.ceil(b * act_bits / 8),
                     math.ceil(layer.output_elems * act_bits / 8),
                     math.ceil(layer.output_elems * psum_bits(act_bits) / 8))
    return Sizes(math.ceil(layer.input_elems * act_bits / 8),
                 math.ceil(weight_storage_bits(layer, weight_bits) / 8),
                 math.ceil(layer.output_elems * act_bits / 8),
                 math.ceil(layer.output_elems * psum_bits(act_bits) / 8))
