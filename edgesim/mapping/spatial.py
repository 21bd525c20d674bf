"""Row-stationary spatial arrays (Eyeriss; Chen et al., ISCA 2016 and JSSC 2017).

Mapping rules (no constants fitted to any chip; a spec's ``mapping_dram_weight`` may be):

* A PE set computes one 2-D convolution: ``R`` PE rows (filter rows) x ``E`` PE columns (output
  rows); each PE runs a 1-D row convolution. Filter rows beyond the array height fold into
  ``ceil(R / rows)`` pieces whose partial sums accumulate.
* Sets wider than the array split into ``ceil(E / cols)`` strips of balanced width. Strips stack
  vertically (``floor(rows / R)`` fit); when all strips fit at once, spare room replicates the
  whole set (vertically, and horizontally when one strip leaves whole set-widths free) to work on
  other filters/channels; otherwise strips take turns. Active PEs = PEs covered by sets.
  (AlexNet: conv1 11x14 of 11x55 -> 154; conv2 5x27 as 5x14 + 5x13 -> 135; conv3-5 3x13 x4
  -> 156.)
* Per processing pass a PE holds ``q`` channels and ``p`` filters: ``q x S`` ifmap entries,
  ``p x q x S`` filter entries and ``p`` partial sums in its scratchpads (sizes from the per-PE
  memory levels that hold each operand, a shared file split 12:224:24 as Eyeriss'; those
  entries when a spec has none).
  Chunks are balanced (``p = ceil(M / ceil(M / p_max))``) as a mapper would choose. ``q`` is
  the most the ifmap scratchpad holds, unless the unit has a ``mapping_dram_weight``: then every
  balanced ``q`` up to it is tried with its best GLB block, and the one minimising weight x home
  (DRAM) bytes + the psums' GLB trip bytes (``2 x outputs x (chunks - 1) x psum bytes``) + the
  ifmap bytes delivered to the array is kept, the buffer split between ifmaps and psums in whole banks when it has several (Eyeriss:
  fewer channels per trip on wide layers, so the GLB holds more filters' psums and the ifmap is
  re-read from DRAM fewer times). That weight is a spec's, and may be fitted (Eyeriss' is).
* Channel-parallel sets (JSSC 2017's ``r``): where a set is one strip and its replicas stack in
  a column, ``r`` of them (dividing the column) may work on other channels of the same filters
  and chain their partial sums vertically, so a trip to the GLB carries ``r x q`` channels; the
  rest (``t``) work on other filters. ``r`` is chosen with ``q`` and the GLB block by the same
  cost (the GLB then holds ``r x q`` channels of ifmap rows, leaving less room for psums); the
  ifmap is delivered once per ``t`` filter sets instead of once per all of them.
* Partial sums travel at the datapath width (Eyeriss: 16-bit psum scratchpads, NoC and GLB
  words; JSSC 2017), not at a 32-bit accumulator width.
* Global-buffer blocking (the loop nest above the passes, JSSC 2017's ``n`` images and ``m``
  ofmap channels per GLB block): channels accumulate pass after pass in the buffer that holds
  partial sums, so a block keeps the psums of ``n`` images x ``m`` filters x ``k`` strips' output
  rows there, next to the ifmap rows of the current channel chunk (double-buffered). Of the
  blocks that fit, the one moving the fewest home (DRAM) bytes is chosen, a mapper's choice:
  the ifmap is read once per ``m``-block of filters (with the halo of overlapping row blocks),
  and filters, which stay in the scratchpads only for one block, are loaded once per image
  block and row block; psums never leave the chip, outputs are written once.
* Time per pass and PE: ``F x S x p x q`` MACs, plus one add per output and filter to accumulate
  the partial sum arriving from the PE below (the vertical accumulation of RS uses the PE's
  adder), plus priming ``q x S`` ifmap values per image at one word per cycle, plus the first
  pass's filter load (``p x q x S`` writes). Later filter loads are staged behind the running
  pass (Eyeriss double-buffers the next pass's filters in 8 kB of its GLB, JSSC 2017 Sec. V-A)
  when the filter scratchpad has room for them beside the running pass's (``2 p q S`` entries),
  and then stall the array only when the filters arrive slower than the passes consume them:
  their bytes over the bandwidth of their source (the buffer holding weights, else DRAM), or
  their scratchpad writes, beyond the compute time. Without that room every load's ``p q S``
  scratchpad writes start its pass (the per-pass ramp-up JSSC 2017 names). Passes run ``sets`` at a time; the last round
  may be partial.
* Zero gating (``zero_gating`` covering activations): a zero ifmap value skips the filter and
  psum scratchpad reads and the MAC; cycles are unchanged. ``ops["mac"]`` counts executed MACs.
  ``zero_skip`` (Eyeriss v2 style) shortens the MAC time instead.

Traffic: global-buffer reads are the array's deliveries: ifmap rows of each strip (with the halo
of overlapping rows) once per filter chunk that replicas cannot share, filter weights once per
load (multicast to the strips that run together), partial sums written once per channel chunk
and read back between trips. Register-file traffic: per MAC one ifmap, one filter and one psum
read and one psum write. Inter-PE network: each trip's partial sums climb the chain of
``r_eff x r`` PEs, one word passed up (and added, an ``add`` operation) per hop; priced at the
unit's ``noc_energy`` (ISCA 2016's inter-PE level) where the spec gives one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from edgesim.hardware.model import (
    Compression,
    ComputeUnit,
    Hardware,
    MemoryLevel,
    Operand,
    ZeroSkip,
)
from edgesim.mapping.mapper import ComputeResult, GemmView
from edgesim.mapping.storage import Sizes, rlc_ratio
from edgesim.mapping.tiling import TilePlan, geometry, touched
from edgesim.mapping.topology import activation_home, chain, per_pe_levels
from edgesim.mapping.traffic import ArraySide
from edgesim.vocab import CONV_OPS, OpClass

EYERISS_SPAD_ENTRIES = {Operand.INPUTS: 12, Operand.WEIGHTS: 224, Operand.OUTPUTS: 24}


def _spad_entries(hw: Hardware, op: Operand, bits: int) -> int:
    for m in per_pe_levels(hw):
        if op in m.holds:
            # A file shared by several operands is split in Eyeriss' 12:224:24 proportions.
            share = sum(EYERISS_SPAD_ENTRIES[o] for o in m.holds)
            return max(1, (m.size_bytes * 8 // bits) * EYERISS_SPAD_ENTRIES[op] // share)
    return EYERISS_SPAD_ENTRIES[op]


def pe_sets(r: int, e: int, rows: int, cols: int) -> tuple[int, int, int, int, int]:
    """(active PEs, parallel sets, strips, strip width, filter-row pieces) of the RS mapping."""
    r_pieces = math.ceil(r / rows)
    r_eff = math.ceil(r / r_pieces)
    strips = math.ceil(e / cols)
    width = math.ceil(e / strips)
    copies = rows // r_eff
    if strips <= copies:
        h_rep = cols // width if strips == 1 else 1
        replicas = (copies // strips) * h_rep
        return replicas * r_eff * e, strips * replicas, strips, width, r_pieces
    return copies * r_eff * width, copies, strips, width, r_pieces


def rs_psum_bits(unit: ComputeUnit, act_bits: int) -> int:
    """Partial-sum width on an RS array: the unit's ``psum_bits``, else the datapath width
    (Eyeriss: 16-bit psum words)."""
    return max(act_bits, unit.psum_bits if unit.psum_bits is not None
               else unit.native_precision.bits)


@dataclass(frozen=True)
class ConvDims:
    """The loop bounds the RS mapping works with (a GEMM is a 1x1 conv over its rows)."""

    batch: int
    r: int
    s: int
    c: int  # channels per group
    e: int  # output rows
    f: int  # output columns
    u: int  # vertical stride
    in_rows: int  # padded input rows
    w_in: int  # padded input row length


def conv_dims(gv: GemmView) -> ConvDims:
    """The RS loop bounds of a GEMM-type layer."""
    layer, m_rows, k = gv.layer, gv.m, gv.k
    if layer.op in CONV_OPS:
        r, s = layer.kernel
        e, f = layer.out_hw
        return ConvDims(layer.batch, r, s, k // (r * s), e, f, layer.stride[0],
                        layer.in_hw[0] + 2 * layer.padding[0],
                        layer.in_hw[1] + 2 * layer.padding[1])
    return ConvDims(1, 1, 1, k, m_rows, 1, 1, m_rows, 1)


@dataclass(frozen=True)
class GlbBlock:
    """One GLB block of RS processing passes and what it implies at the home (DRAM)."""

    images: int  # n: images whose psums the buffer holds at once
    filters: int  # m: filters per group whose psums the buffer holds at once
    rows: int  # output rows per block
    row_blocks: int
    in_factor: float  # ifmap bytes read from home / ifmap bytes
    home_bytes: float  # bytes moved at the home for this choice (what the choice minimises)
    fits: bool = True  # False: nothing fits the buffer (the smallest block, as a fallback)


def block_rows(e: int, width: int, strips: int, together: bool, cols: int,
               copies: int) -> list[int]:
    """Output rows a GLB block may hold, largest first, keeping the PE mapping's columns busy.

    Whole strips (``k x width``); when the strips run together, ``k`` of them with the spare
    set positions replicated on other filters, as long as that keeps as many sets busy
    (``(copies // k) * k >= strips``); when strips take turns, also a narrower set of ``w``
    rows placed ``cols // w`` times side by side on other filters (JSSC 2017's ``e`` and ``t``)
    as long as that covers the ``width`` columns a strip uses (AlexNet conv1: sets of 7 twice).
    """
    if together:
        ks = [k for k in range(1, strips + 1) if (copies // k) * k >= strips]
        return sorted({min(e, k * width) for k in ks}, reverse=True)
    rows = {min(e, math.ceil(strips / b) * width) for b in range(1, strips + 1)}
    rows |= {w for w in range(1, width) if (cols // w) * w >= width}
    return sorted(rows, reverse=True)


def _row_factor(d: ConvDims, rows_per_block: int) -> float:
    """Input rows fetched over all row blocks / input rows (halo of overlapping blocks)."""
    full, rem = divmod(d.e, rows_per_block)
    rows = full * touched(rows_per_block, d.u, d.r, d.in_rows)
    rows += touched(rem, d.u, d.r, d.in_rows) if rem else 0
    whole = touched(d.e, d.u, d.r, d.in_rows)
    return rows / max(1, whole)


def _distinct_splits(total: int) -> list[int]:
    """Block sizes giving distinct block counts of ``total``, largest first."""
    return sorted({math.ceil(total / b) for b in range(1, total + 1)}, reverse=True)


def glb_blocking(d: ConvDims, n_f: int, width: int, strips: int, together: bool, cols: int,
                 copies: int, q: int, psum_bytes: float, act_bytes: float, psum_cap: float, in_cap: float,
                 shared: bool, in_home_bytes: float, weight_load_bytes: float,
                 out_home_bytes: float, bank_bytes: float = 0.0) -> GlbBlock:
    """The GLB block (images, filters, output rows) moving the fewest home bytes that fits.

    ``psum_cap`` / ``in_cap``: bytes of the buffers holding psums and ifmaps (``shared``: one
    buffer for both, split in whole banks of ``bank_bytes`` when given); ``in_home_bytes``: the
    ifmap as stored at the home (coded if it is); ``weight_load_bytes``: bytes of one load of
    every filter into the scratchpads (0 when a buffer keeps the filters on chip).
    """
    best: GlbBlock | None = None
    fallback: GlbBlock | None = None
    for n in _distinct_splits(d.batch):
        for rows in block_rows(d.e, width, strips, together, cols, copies):
            row_blocks = math.ceil(d.e / rows)
            in_rows = touched(rows, d.u, d.r, d.in_rows)
            ifmap = 2 * n * q * in_rows * d.w_in * act_bytes  # current + next channel chunk
            if bank_bytes > 0:  # an operand holds whole banks
                ifmap = math.ceil(ifmap / bank_bytes) * bank_bytes
            room = psum_cap - ifmap if shared else psum_cap
            per_filter = n * rows * d.f * psum_bytes
            m_fit = int(room // per_filter) if room > 0 else 0
            if not shared and ifmap > in_cap:
                m_fit = 0
            m = min(n_f, max(1, m_fit))
            m = math.ceil(n_f / math.ceil(n_f / m))  # balanced filter blocks
            in_factor = math.ceil(n_f / m) * _row_factor(d, rows)
            home = (in_home_bytes * in_factor
                    + weight_load_bytes * math.ceil(d.batch / n) * row_blocks + out_home_bytes)
            cand = GlbBlock(n, m, rows, row_blocks, in_factor, home, m_fit >= 1)
            if m_fit >= 1 and (best is None or home < best.home_bytes):
                best = cand
            if fallback is None or (n, rows) < (fallback.images, fallback.rows):
                fallback = cand
    assert fallback is not None
    return best if best is not None else fallback


def _pass_chunks(hw: Hardware, c: int, n_f: int, q: int, s: int, act_bits: int,
                 weight_bits: int) -> tuple[int, int, int, int]:
    """(q, channel chunks, p, filter chunks) of a pass of ``q`` channels: ``p`` filters as
    many as the psum and filter scratchpads hold beside them, balanced."""
    q_chunks = math.ceil(c / q)
    p_max = max(1, min(n_f, _spad_entries(hw, Operand.OUTPUTS, act_bits),
                       _spad_entries(hw, Operand.WEIGHTS, weight_bits) // (q * s)))
    p_chunks = math.ceil(n_f / p_max)
    return q, q_chunks, math.ceil(n_f / p_chunks), p_chunks


def _bytes_per_cycle(level: MemoryLevel | None, clock_hz: float) -> float:
    if level is None or not level.bandwidth_bytes_per_s > 0 or not clock_hz > 0:
        return math.inf
    return level.bandwidth_bytes_per_s / clock_hz


def map_spatial(gv: GemmView, unit: ComputeUnit, hw: Hardware, sizes: Sizes) -> ComputeResult:
    """Cycles and per-level traffic of a GEMM layer on a row-stationary array."""
    layer, pack, act_bits, weight_bits = gv.layer, gv.pack, gv.act_bits, gv.weight_bits
    groups, n_f = gv.groups, gv.n
    d = conv_dims(gv)
    batch, r, s, c, e, f = d.batch, d.r, d.s, d.c, d.e, d.f
    active, sets, strips, width, r_pieces = pe_sets(r, e, unit.rows, unit.cols)
    r_eff = math.ceil(r / r_pieces)
    together = strips <= unit.rows // r_eff
    ab, wb = act_bits / 8, weight_bits / 8
    psb = rs_psum_bits(unit, act_bits) / 8
    # GLB blocking (processing-pass loop order above the array).
    home = activation_home(hw)
    psum_bufs = [m for m in chain(hw, Operand.OUTPUTS) if m is not home]
    in_bufs = [m for m in chain(hw, Operand.INPUTS) if m is not home]
    w_bufs = [m for m in chain(hw, Operand.WEIGHTS) if m is not hw.outermost]
    w_on_chip = bool(w_bufs) and sizes.weights_bytes <= w_bufs[0].tile_bytes
    in_ratio = (rlc_ratio(layer.act_sparsity, act_bits)
                if home is not None and home.compression == Compression.RLC else 1.0)
    # Channels per pass: the scratchpads' most (balanced chunks), or, with a
    # `mapping_dram_weight`, every balanced count up to it, chosen with the GLB block.
    q_max = max(1, _spad_entries(hw, Operand.INPUTS, act_bits) // s)
    top = math.ceil(c / math.ceil(c / min(c, q_max)))
    weight = unit.mapping_dram_weight
    options = sorted({math.ceil(c / math.ceil(c / qq)) for qq in range(1, top + 1)}, reverse=True) \
        if weight is not None else [top]
    # Channel-parallel sets (JSSC 2017's r): sets of one strip stacked in a column chain their
    # partial sums vertically, so r of them accumulate r x q channels per trip; tried with a
    # `mapping_dram_weight`, r dividing the sets stacked in a column.
    column = unit.rows // r_eff
    r_options = ([rp for rp in range(1, column + 1) if column % rp == 0]
                 if weight is not None and strips == 1 and together else [1])
    block: GlbBlock | None = None
    best_cost: tuple[int, float] = (2, math.inf)  # any block's cost is below it
    q, r_par = top, 1
    psum_buf = psum_bufs[0] if psum_bufs else None
    shared = psum_buf is not None and bool(in_bufs) and in_bufs[0] is psum_buf
    bank = (psum_buf.total_bytes / psum_buf.banks
            if psum_buf is not None and shared and weight and psum_buf.banks > 1 else 0.0)
    strip_rows = min(d.in_rows, (width - 1) * d.u + r_eff) if layer.op in CONV_OPS else width
    for qq, rp in ((qq, rp) for qq in options for rp in r_options):
        if psum_buf is None:  # no buffer holds psums: no GLB blocking
            break
        pc = _pass_chunks(hw, c, n_f, qq, s, act_bits, weight_bits)
        load_once = (groups * min(n_f, pc[3] * pc[2]) * min(c, pc[1] * qq) * r_pieces * r_eff
                     * s * wb)
        cand = glb_blocking(d, n_f, width, strips, together, unit.cols, unit.rows // r_eff,
                            qq * rp, psb, ab, float(psum_buf.total_bytes),
                            float(in_bufs[0].total_bytes) if in_bufs else math.inf, shared,
                            sizes.inputs_bytes * in_ratio, 0.0 if w_on_chip else load_once,
                            sizes.outputs_bytes, bank)
        # psums leave the array once per r channel chunks and come back for the next
        trips_bytes = 2.0 * layer.output_elems * (math.ceil(c / (qq * rp)) * r_pieces - 1) * psb
        # ...and the ifmap rows the array is delivered, once per t sets of other filters
        t_sets = max(1, min(sets // max(1, min(strips, sets)) // rp, pc[3]))
        if_bytes = (batch * groups * c * r_pieces * strips * strip_rows * d.w_in * ab
                    * math.ceil(pc[3] / t_sets))
        # a block that fits beats any that does not; then the cheapest
        cost = (0 if cand.fits else 1,
                cand.home_bytes * (weight or 0.0) + trips_bytes + if_bytes)
        if cost < best_cost:  # ties: the most channels, then the fewest channel-parallel sets
            best_cost, block, q, r_par = cost, cand, qq, rp
    _, q_chunks, p, p_chunks = _pass_chunks(hw, c, n_f, q, s, act_bits, weight_bits)
    set_units = groups * p_chunks * q_chunks * r_pieces * strips
    sets = max(1, min(sets, set_units))
    rounds = math.ceil(set_units / sets)
    if r_par > 1:  # r sets chain consecutive channel chunks of one filter chunk
        rounds = (groups * r_pieces * math.ceil(p_chunks / max(1, sets // r_par))
                  * math.ceil(q_chunks / r_par))
    filter_units = groups * p_chunks * q_chunks * r_pieces
    img_blocks = math.ceil(batch / block.images) if block else 1
    row_blocks = block.row_blocks if block else (1 if together else strips)
    loads = filter_units * img_blocks * row_blocks
    # the filters and channels the layer has (a balanced last chunk loads fewer)
    f_reads = (img_blocks * row_blocks * groups * min(n_f, p_chunks * p) * min(c, q_chunks * q)
               * r_pieces * r_eff * s * wb)
    # Cycles: MACs, vertical psum accumulation and ifmap priming per pass, plus filter loads.
    frac = gv.cycle_fraction
    mac_cycles = batch * math.ceil(f * s * p * q * frac / pack)
    acc_cycles = batch * f * p
    prime_cycles = batch * q * s
    sets_f = max(1, sets // max(1, min(strips, sets)))  # filter units loaded side by side
    w_src = w_bufs[0] if w_bufs else hw.outermost
    first_load = p * q * s  # the first pass's filters: nothing to overlap them with
    stream_cycles = math.ceil(f_reads / _bytes_per_cycle(w_src, hw.clock_hz))
    write_cycles = math.ceil(loads / sets_f) * p * q * s
    work = rounds * (mac_cycles + acc_cycles + prime_cycles)
    # Later loads stream in behind the running pass when the filter scratchpad has room for the
    # next pass's filters beside the current ones; they stall the array only where the filters
    # arrive slower than the passes consume them. Otherwise every pass starts by writing its
    # filters into the scratchpads (the per-pass ramp-up of JSSC 2017).
    if 2 * p * q * s <= _spad_entries(hw, Operand.WEIGHTS, weight_bits):
        load_cycles = first_load + max(0, max(stream_cycles, write_cycles) - work)
    else:
        load_cycles = write_cycles + max(0, stream_cycles - work)
    cycles = work + load_cycles
    useful = gv.useful_ops
    gated = unit.zero_gating in (ZeroSkip.ACTIVATIONS, ZeroSkip.BOTH)
    executed = math.ceil(useful * (1.0 - layer.act_sparsity)) if gated else useful
    # Global-buffer (array-side) traffic.
    replicas_sharing = max(1, min(sets // max(1, min(strips, sets)) // r_par, p_chunks))
    if_reads = (batch * groups * c * r_pieces * strips * strip_rows * d.w_in * ab
                * math.ceil(p_chunks / replicas_sharing))
    chunks = math.ceil(c / (q * r_par)) * r_pieces  # psum trips: r sets chain theirs
    # Each trip's partial sums climb the chain of r_eff x r PEs: one word passed up per hop,
    # added to the receiving PE's (the array's inter-PE network, priced by `noc_energy`).
    noc_words = layer.output_elems * chunks * (r_eff * r_par - 1)
    out_el = layer.output_elems
    ps_writes = out_el * (chunks - 1) * psb + sizes.outputs_bytes
    ps_reads = out_el * (chunks - 1) * psb
    rf_reads = {Operand.INPUTS: math.ceil(useful * ab), Operand.WEIGHTS: math.ceil(executed * wb),
                Operand.OUTPUTS: math.ceil(executed * psb)}
    rf_writes = {Operand.INPUTS: math.ceil(if_reads), Operand.WEIGHTS: math.ceil(f_reads),
                 Operand.OUTPUTS: math.ceil(executed * psb)}
    plan = None
    if block is not None:
        col_frac = geometry(layer).col_frac
        m_blocks = math.ceil(n_f / block.filters)
        plan = TilePlan(int(round(sizes.inputs_bytes * block.in_factor * col_frac)),
                        sizes.weights_bytes if w_on_chip else math.ceil(f_reads),
                        sizes.outputs_bytes, 0, img_blocks * row_blocks * m_blocks,
                        f"rs-passes(n={block.images},m={block.filters},"
                        f"rows={block.rows})")
    array = ArraySide(reads_bytes={Operand.INPUTS: math.ceil(if_reads),
                                   Operand.WEIGHTS: math.ceil(f_reads)},
                      output_write_bytes=math.ceil(ps_writes),
                      output_read_bytes=math.ceil(ps_reads),
                      rf_read_bytes=rf_reads, rf_write_bytes=rf_writes, home_plan=plan)
    note = (f"rs {unit.rows}x{unit.cols}: set {r}x{e} -> {strips} strip(s) of {width}, "
            f"{sets} set(s) at once, {active} active PEs; p={p} q={q} r={r_par}; "
            f"{rounds} rounds; "
            f"{loads} filter loads")
    extra = {"active_pes": float(active), "sets": float(sets), "q": float(q),
             "r": float(r_par),
             "filter_load_cycles": float(load_cycles), "filter_loads": float(loads),
             "glb_images": float(block.images if block else batch),
             "glb_filters": float(block.filters if block else n_f),
             "glb_rows": float(block.rows if block else e)}
    ops = {gv.op_class: executed, OpClass.ADD: noc_words} if noc_words else \
        {gv.op_class: executed}
    return ComputeResult(cycles, useful, ops, gv.dense_ops, array, note,
                         extra, stream_steps=rounds, noc_words=noc_words)
