"""Row-stationary spatial arrays (Eyeriss; Chen et al., ISCA 2016 and JSSC 2017).

Mapping rules (no constants fitted to any chip):

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
  Chunks are balanced (``p = ceil(M / ceil(M / p_max))``) as a mapper would choose.
* Time per pass and PE: ``F x S x p x q`` MACs, plus one add per output and filter to accumulate
  the partial sum arriving from the PE below (the vertical accumulation of RS uses the PE's
  adder), plus the pass setup that cannot overlap compute: loading ``p x q x S`` filter weights
  and priming ``q x S`` ifmap values into the scratchpads at one word per cycle. Passes run
  ``sets`` at a time; the last round may be partial.
* Zero gating (``zero_gating`` covering activations): a zero ifmap value skips the filter and
  psum scratchpad reads and the MAC; cycles are unchanged. ``ops["mac"]`` counts executed MACs.
  ``zero_skip`` (Eyeriss v2 style) shortens the MAC time instead.

Traffic: global-buffer reads are the array's deliveries: ifmap rows of each strip (with the halo
of overlapping rows) once per filter chunk that replicas cannot share, filter weights once per set
unit (multicast to the strips that run together), partial sums written once per channel chunk and
read back between chunks. Register-file traffic: per MAC one ifmap, one filter and one psum read
and one psum write. ``extra["noc_bytes"]`` counts the bytes the array network delivers.
"""

from __future__ import annotations

import math

from edgesim.hardware.model import ComputeUnit, Hardware, Operand, ZeroSkip
from edgesim.mapping.base import ComputeResult
from edgesim.mapping.systolic import work_fraction
from edgesim.mapping.traffic import ArraySide, Sizes, per_pe_levels
from edgesim.workload.ir import Layer, OpKind

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


def map_spatial(layer: Layer, unit: ComputeUnit, hw: Hardware, sizes: Sizes, pack: int,
                act_bits: int, weight_bits: int) -> ComputeResult:
    """Cycles and per-level traffic of a GEMM layer on a row-stationary array."""
    g = layer.gemm()
    assert g is not None
    groups, m_rows, n_f, k = g
    if layer.op in (OpKind.CONV2D, OpKind.CONV1D, OpKind.ADDER_CONV2D):
        batch = layer.batch
        r, s = layer.kernel
        c = k // (r * s)
        e, f = layer.out_hw
        u = layer.stride[0]
        w_in = layer.in_hw[1] + 2 * layer.padding[1]
    else:  # linear / matmul / transposed conv: a 1x1 "conv" over GEMM rows
        batch, r, s, c, e, f, u = 1, 1, 1, k, m_rows, 1, 1
        w_in = 1
    active, sets, strips, width, r_pieces = pe_sets(r, e, unit.rows, unit.cols)
    r_eff = math.ceil(r / r_pieces)
    # Scratchpad-limited pass sizes, balanced chunks.
    q_max = max(1, _spad_entries(hw, Operand.INPUTS, act_bits) // s)
    q_chunks = math.ceil(c / min(c, q_max))
    q = math.ceil(c / q_chunks)
    p_max = max(1, min(n_f, _spad_entries(hw, Operand.OUTPUTS, act_bits),
                       _spad_entries(hw, Operand.WEIGHTS, weight_bits) // (q * s)))
    p_chunks = math.ceil(n_f / p_max)
    p = math.ceil(n_f / p_chunks)
    set_units = groups * p_chunks * q_chunks * r_pieces * strips
    sets = max(1, min(sets, set_units))
    rounds = math.ceil(set_units / sets)
    frac = work_fraction(layer, unit)
    mac_cycles = batch * math.ceil(f * s * p * q * frac / pack)
    acc_cycles = batch * f * p
    setup_cycles = p * q * s + batch * q * s
    per_pass = mac_cycles + acc_cycles + setup_cycles
    cycles = rounds * per_pass
    dense = groups * m_rows * n_f * k
    useful = math.ceil(dense * frac)
    gated = unit.zero_gating in (ZeroSkip.ACTIVATIONS, ZeroSkip.BOTH)
    executed = math.ceil(useful * (1.0 - layer.act_sparsity)) if gated else useful
    ab, wb = act_bits / 8, weight_bits / 8
    psb = sizes.psums / max(1, layer.output_elems)
    # Global-buffer (array-side) traffic.
    strip_rows = min(layer.in_hw[0] + 2 * layer.padding[0], (width - 1) * u + r_eff) \
        if layer.op in (OpKind.CONV2D, OpKind.CONV1D, OpKind.ADDER_CONV2D) else width
    replicas_sharing = max(1, min(sets // max(1, min(strips, sets)), p_chunks))
    if_reads = (batch * groups * q_chunks * q * r_pieces * strips * strip_rows * w_in * ab
                * math.ceil(p_chunks / replicas_sharing))
    strips_together = max(1, min(strips, sets))
    f_reads = set_units * p * q * r_eff * s * wb / strips_together
    chunks = q_chunks * r_pieces
    out_el = layer.output_elems
    ps_writes = out_el * (chunks - 1) * psb + sizes.outputs
    ps_reads = out_el * (chunks - 1) * psb
    rf_read_w = executed * wb
    rf_reads = {Operand.INPUTS: math.ceil(useful * ab), Operand.WEIGHTS: math.ceil(rf_read_w),
                Operand.OUTPUTS: math.ceil(executed * psb)}
    rf_writes = {Operand.INPUTS: math.ceil(if_reads), Operand.WEIGHTS: math.ceil(f_reads),
                 Operand.OUTPUTS: math.ceil(executed * psb)}
    array = ArraySide(reads={Operand.INPUTS: math.ceil(if_reads),
                             Operand.WEIGHTS: math.ceil(f_reads)},
                      output_writes=math.ceil(ps_writes), output_reads=math.ceil(ps_reads),
                      rf_reads=rf_reads, rf_writes=rf_writes)
    op_class = "adder" if layer.op == OpKind.ADDER_CONV2D else "mac"
    note = (f"rs {unit.rows}x{unit.cols}: set {r}x{e} -> {strips} strip(s) of {width}, "
            f"{sets} set(s) at once, {active} active PEs; p={p} q={q}; {rounds} rounds")
    extra = {"active_pes": float(active), "sets": float(sets), "p": float(p), "q": float(q),
             "rounds": float(rounds), "stream_steps": float(rounds), "noc_bytes": float(if_reads + f_reads + ps_writes
                                                           + ps_reads),
             "setup_cycles": float(rounds * setup_cycles)}
    return ComputeResult(cycles, useful, {op_class: executed}, dense, array, note, extra)
