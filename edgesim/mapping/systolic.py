"""Systolic arrays (TPU-like), dataflows os / ws / is, with SCALE-Sim v3's fold arithmetic.

A layer is ``groups`` GEMMs ``out[M,N] += A[M,K] B[K,N]`` (im2col; M = batch x output pixels,
N = filters per group, K = channels per group x R x S), run one after another (a depthwise conv
is C tiny GEMMs with K = R*S, N = 1: the array is almost idle, as on real arrays). Per dataflow,
with an array of ``rows x cols`` (SCALE-Sim's ``Sr``/``Sc`` are mapped on rows/cols and ``T`` is
streamed in time):

=====  ============  ============  ======
df     Sr (rows)     Sc (cols)     T
=====  ============  ============  ======
os     M             N             K
ws     K             N             M
is     K             M             N
=====  ============  ============  ======

folds = ceil(Sr / rows) x ceil(Sc / cols); each fold takes ``T + 2 rows + cols - 2`` cycles under
ws / is (weights or inputs are preloaded: ``rows`` cycles, outputs skewed out) and
``T + rows + cols - 2`` under os; SCALE-Sim's "Total Cycles" of a GEMM is
``folds x per_fold - 1`` (its last output is written in the cycle before). This matches
COMPUTE_REPORT.csv exactly for conv and fc layers (tests/peers/test_scalesim.py).

Narrow operands on a ``packs_narrow`` array, skipped zeros (``zero_skip``) and supported N:M
patterns shrink the reduction ``K`` that is streamed or laid out (compacted as sparse arrays do);
nothing else changes cycles. Skipping unstructured zeros is paced by the densest column
(``mapper.cycle_fraction``), and an array that skips weights decodes their indices: one add per
weight loaded (step indexing, Cambricon-X), priced as an ``add``.

SRAM reads follow the dataflow's reuse (SCALE-Sim's access counts): under os the inputs are
re-read once per column fold and the weights once per row fold; under ws the weights are read
once, the inputs once per column fold and partial sums written once per row fold (read back
between folds); under is the inputs are read once, the weights once per column fold and partial
sums written once per row fold.

Per-PE register files (``per_pe`` memory levels, as ZigZag's TPU-like: a 128-byte weight file
and a 16-bit output register in every PE). Under ws (is), a PE whose file holds
``w = floor(file bytes / element bytes)`` weights (inputs) and that has an output register
accumulates ``w`` reduction steps in time before its partial sum moves on: the reduction spans
``rows x w`` of K per pass, so partial sums leave the array ``ceil(K / (rows x w))`` times
instead of ``ceil(K / rows)`` (spills to the output buffer drop accordingly), and the skew
fill/drain (``rows + cols - 2``) is paid once per pass instead of once per row fold; the
preload of ``rows`` cycles per weight row and the streaming of ``T`` per weight row stay, so a
pass with ``p`` weights per PE takes ``p (T + rows) + rows + cols - 2`` cycles (``w = 1`` is
SCALE-Sim's fold). Files are counted where declared: a read per MAC of each operand a per-PE
file holds (the output register: a read and a write per MAC, at the partial-sum width bounded by
the register's size) and a write per element loaded into it. A file shared by several operands
is split evenly between them. Two reads follow the dataflow, as ZigZag counts them: a PE that
holds a single stationary element per pass (the reduction fits the rows: a 1x1 layer of at most
``rows`` channels, a depthwise filter; every fold when the PE has no output register) keeps it
at the multiplier and reads its file once per element loaded, not per MAC; and the output
registers are read once more as partial sums leave (ws / is: each active row's once per output
and pass; os: each output once). Without per-PE levels nothing changes.

Partial sums (``psum_fit``): under ws / is a column fold's partial sums live in the accumulator
(``topology.accumulator``, the innermost buffer holding outputs) from the first reduction pass to
the last. When they do not fit half of it, the excess goes to the level above and comes back
every pass, or the stream is split into chunks that fit (each re-loading the stationary operand
and paying fill and drain again), whichever moves fewer DRAM bytes; so a small output buffer
costs what it costs. SCALE-Sim does not model this (its cases fit).

Word-granular buffer accesses (``tiling.word_padded_factor``): every cycle the array moves a
vector of one element per row or column it uses to or from its feeding buffer, and a buffer
with ``word``-byte words is accessed in whole words. The streamed operand's vectors run along
the rows (os: inputs; ws: inputs; is: weights), the preloaded operand's and the outputs' along
the columns (os: weights). A dimension that fills the array with vectors a multiple of the word
costs nothing extra; a depthwise layer (K = R*S = 9 rows, N = 1 column) reads 9-byte input
vectors as two 8-byte words and writes each output as a whole word. Off-chip sources and 1-byte
words are byte-granular (SCALE-Sim's counts), and cycles never change.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from edgesim.hardware.model import ComputeUnit, Dataflow, Hardware, Operand, ZeroSkip
from edgesim.mapping.mapper import ComputeResult, GemmView, nm_work_fraction
from edgesim.mapping.storage import Sizes
from edgesim.mapping.tiling import word_padded_factor
from edgesim.mapping.topology import (
    accumulator,
    activation_home,
    array_word_bytes,
    chain,
    per_pe_levels,
    psum_capacity_bytes,
    psum_spill_level,
)
from edgesim.mapping.traffic import ArraySide, register_file_accesses
from edgesim.vocab import OpClass, OpKind


def fold_cycles(sr: int, sc: int, t: int, rows: int, cols: int, dataflow: Dataflow,
                per_pe: int = 1) -> int:
    """SCALE-Sim "Total Cycles" of one GEMM mapped as (Sr, Sc, T).

    ``per_pe`` > 1 (ws / is only): each PE holds that many stationary elements in a register
    file and accumulates over them in time, so the reduction passes are ``ceil(Sr / (rows x
    per_pe))`` and fill/drain is paid once per pass (``per_pe`` = 1 is SCALE-Sim's fold).
    """
    row_folds, col_folds = math.ceil(sr / rows), math.ceil(sc / cols)
    if dataflow == Dataflow.OS:
        return row_folds * col_folds * (t + rows + cols - 2) - 1
    passes = math.ceil(sr / (rows * max(1, per_pe)))
    return col_folds * (row_folds * (t + rows) + passes * (rows + cols - 2)) - 1


def _per_pe_bytes(hw: Hardware, op: Operand) -> int | None:
    """Bytes of a per-PE file available to ``op`` (an even share of a shared file), or None."""
    for m in per_pe_levels(hw):
        if op in m.holds:
            return m.size_bytes // len(m.holds)
    return None


def stationary_per_pe(hw: Hardware, dataflow: Dataflow, elem_bits: int) -> int:
    """Reduction steps a PE accumulates in time: stationary elements its file holds (ws:
    weights, is: inputs), when it also has an output register to accumulate in; else 1."""
    if dataflow not in (Dataflow.WS, Dataflow.IS) or _per_pe_bytes(hw, Operand.OUTPUTS) is None:
        return 1
    op = Operand.WEIGHTS if dataflow == Dataflow.WS else Operand.INPUTS
    size = _per_pe_bytes(hw, op)
    if not size:
        return 1
    return max(1, size * 8 // max(1, elem_bits))


def gemm_dims(m: int, n: int, k: int, dataflow: Dataflow) -> tuple[int, int, int]:
    """(Sr, Sc, T) of a GEMM under a dataflow."""
    if dataflow == Dataflow.OS:
        return m, n, k
    if dataflow == Dataflow.WS:
        return k, n, m
    return k, m, n


def map_systolic(g: GemmView, unit: ComputeUnit, hw: Hardware, sizes: Sizes) -> ComputeResult:
    """Cycles and array-side traffic of a GEMM layer on a systolic array."""
    groups, m, n, k, pack = g.groups, g.m, g.n, g.k, g.pack
    k_eff = max(1, math.ceil(math.ceil(k * g.cycle_fraction) / pack))
    df = unit.dataflow if unit.dataflow in (Dataflow.OS, Dataflow.WS, Dataflow.IS) else Dataflow.WS
    sr, sc, t = gemm_dims(m, n, k_eff, df)
    rows, cols = unit.rows, unit.cols
    per_pe = stationary_per_pe(hw, df, (g.b_bits if df == Dataflow.WS else g.act_bits) * pack)
    row_fold, col_fold = math.ceil(sr / rows), math.ceil(sc / cols)
    passes = math.ceil(sr / (rows * per_pe))  # partial sums leave the array once per pass
    out_elems = max(1, g.layer.output_elems)
    psum_b = sizes.psums_bytes / out_elems
    stationary_b = (k_eff * n * g.b_bits / 8 if df == Dataflow.WS
                    else m * k_eff * g.act_bits / 8) * pack
    fit = psum_fit(hw, df, sc, t, cols, passes, psum_b,
                   round_trip_bytes=(passes - 1) * m * n * psum_b,
                   stationary_bytes=stationary_b)
    # Bit-serial PEs (bit_serial): each element of the stream takes w x a one-bit steps; the
    # fill and drain of a fold do not.
    serial = g.act_bits * g.b_bits if unit.bit_serial else 1
    cycles = groups * (chunked_cycles(sr, sc, t, rows, cols, df, per_pe, fit.chunks)
                       + (serial - 1) * t * row_fold * col_fold)
    # Array-side element counts per group (SCALE-Sim's SRAM access counts).
    if df == Dataflow.OS:
        in_el, w_el = col_fold * m * k_eff, row_fold * k_eff * n
        out_w_el, out_r_el = m * n, 0
    elif df == Dataflow.WS:  # weights preloaded once per stream chunk
        in_el, w_el = col_fold * m * k_eff, k_eff * n * fit.chunks
        out_w_el, out_r_el = passes * m * n, (passes - 1) * m * n
    else:  # inputs preloaded once per stream chunk
        in_el, w_el = m * k_eff * fit.chunks, col_fold * k_eff * n
        out_w_el, out_r_el = passes * m * n, (passes - 1) * m * n
    useful = g.useful_ops
    w_bytes_per_el = g.b_bits / 8
    out_b = sizes.outputs_bytes / out_elems
    final_w = groups * m * n * out_b
    partial_w = groups * (out_w_el - m * n) * psum_b
    in_bytes = math.ceil(groups * in_el * pack * g.act_bits / 8)
    w_bytes = math.ceil(groups * w_el * pack * w_bytes_per_el)
    rf_reads, rf_writes = register_file_accesses(
        hw, useful, g.act_bits / 8, w_bytes_per_el, psum_b,
        {Operand.INPUTS: in_bytes, Operand.WEIGHTS: w_bytes},
        _drained(df, groups, m, n, sr, rows, passes, per_pe), held=_held(df, sr, rows, passes))
    pad = _word_padding(hw, df, sr, sc, rows, cols, pack * g.act_bits / 8,
                        pack * w_bytes_per_el, out_b, psum_b)
    array = ArraySide(
        reads_bytes={Operand.INPUTS: math.ceil(in_bytes * pad["in"]),
                     Operand.WEIGHTS: math.ceil(w_bytes * pad["w"])},
        output_write_bytes=math.ceil(final_w * pad["out"] + partial_w * pad["psum"]),
        output_read_bytes=math.ceil(groups * out_r_el * psum_b * pad["psum"]),
        rf_read_bytes=rf_reads, rf_write_bytes=rf_writes,
        psum_spill_bytes=math.ceil(groups * fit.spilled_bytes * pad["psum"]))
    note = (f"systolic {df.value} {rows}x{cols}: {groups} GEMM(s) M={m} N={n} K={k}"
            f"{f' (K_eff={k_eff})' if k_eff != k else ''}; folds {row_fold}x{col_fold}"
            f"{f'; {per_pe} per PE, {passes} pass(es)' if per_pe > 1 else ''}{fit.note}")
    ops = {g.op_class: useful}
    if _skips_weights(g, unit):  # step indexing: one add per weight loaded turns its relative
        ops[OpClass.ADD] = groups * w_el * pack  # index into a position (Cambricon-X, MICRO 2016)
    return ComputeResult(cycles, useful, ops, g.dense_ops, array, note,
                         stream_steps=groups * row_fold * col_fold * fit.chunks)


def _drained(df: Dataflow, groups: int, m: int, n: int, sr: int, rows: int,
             passes: int, per_pe: int) -> int:
    """Values read out of the PEs' output registers as partial sums leave the array: under os
    each output once (from the PE that made it); under ws / is each active row's register once
    per output and pass (the column's partial sums reduced as they leave, as ZigZag reads each
    row's register once per output), the reduction balanced over the passes (each covers
    ``ceil(Sr / passes)`` of it, on as many rows, up to ``rows``); one element per PE
    (``per_pe`` 1): row folds filled rows-first, ``Sr`` rows in all."""
    if df == Dataflow.OS:
        return groups * m * n
    if per_pe <= 1:
        return groups * m * n * sr
    return groups * m * n * passes * min(rows, math.ceil(sr / passes))


def _held(df: Dataflow, sr: int, rows: int, passes: int) -> Operand | None:
    """The stationary operand when each PE holds one element of it per pass (the reduction fits
    the rows: a 1x1 layer of at most ``rows`` channels, a depthwise filter; or, with no output
    register to accumulate in, every fold, SCALE-Sim's): it stays at the multiplier for the
    whole stream, so its file is read once per element loaded."""
    if df == Dataflow.OS or math.ceil(sr / (rows * passes)) > 1:
        return None
    return Operand.WEIGHTS if df == Dataflow.WS else Operand.INPUTS


def _skips_weights(g: GemmView, unit: ComputeUnit) -> bool:
    """Whether the array decodes sparse weights' indices (it skips their zeros or N:M)."""
    layer = g.layer
    if layer.op == OpKind.MATMUL:
        return False
    skip = unit.zero_skip in (ZeroSkip.WEIGHTS, ZeroSkip.BOTH) and layer.weight_sparsity > 0
    return skip or nm_work_fraction(layer.sparsity_pattern, unit.nm_sparsity) is not None


@dataclass(frozen=True)
class PsumFit:
    """How a GEMM's partial sums meet the accumulator: the stream split into ``chunks`` (each
    re-loading the stationary operand), or ``spilled_bytes`` of round trips to the level above."""

    chunks: int = 1
    spilled_bytes: float = 0.0
    note: str = ""


def psum_fit(hw: Hardware, df: Dataflow, sc: int, t: int, cols: int, passes: int,
             psum_b: float, *, round_trip_bytes: float, stationary_bytes: float) -> PsumFit:
    """Partial sums that outgrow the accumulator (per GEMM of a group).

    Under ws / is a column fold's partial sums (``min(Sc, cols) x T`` at accumulator width) live
    in the accumulator from the first pass to the last. When they exceed its capacity
    (``topology.psum_capacity_bytes``) either the excess goes to the level above and comes back
    each pass (a fraction ``1 - capacity / live`` of the round trips), or the stream ``T`` is
    split into chunks that fit, each re-loading the stationary operand (its buffer, or DRAM where
    no buffer holds it) and paying its folds' fill and drain again. The choice moving fewer DRAM
    bytes wins, a tie goes to spilling when the level above is on chip (no cycles added) and to
    splitting otherwise. When even one row of the stream's partial sums does not fit, they spill.
    """
    acc = accumulator(hw)
    if df == Dataflow.OS or passes <= 1 or acc is None:
        return PsumFit()
    live = min(sc, cols) * t * psum_b
    cap = psum_capacity_bytes(acc)
    if live <= cap:
        return PsumFit()
    spilled = round_trip_bytes * (1.0 - cap / live)
    up = psum_spill_level(hw)
    row_bytes = min(sc, cols) * psum_b
    splittable = row_bytes <= cap  # one stream row's psums fit
    chunks = math.ceil(t / max(1, int(cap // row_bytes))) if splittable else 1
    chunks = math.ceil(t / math.ceil(t / chunks))  # the runs a split into equal parts makes
    op = Operand.WEIGHTS if df == Dataflow.WS else Operand.INPUTS
    home = hw.outermost if op == Operand.WEIGHTS else activation_home(hw)
    buffered = any(m is not home for m in chain(hw, op))
    spill_dram = 0.0 if not up.is_offchip else 2 * spilled
    split_dram = 0.0 if buffered else (chunks - 1) * stationary_bytes
    if not splittable or spill_dram < split_dram or (spill_dram == split_dram
                                                     and not up.is_offchip):
        return PsumFit(spilled_bytes=spilled,
                       note=f"; psums {live / 1024:.0f} KiB > {acc.name} {cap / 1024:.0f} KiB: "
                            f"{1 - cap / live:.0%} spilled to {up.name}")
    return PsumFit(chunks=chunks,
                   note=f"; psums {live / 1024:.0f} KiB > {acc.name} {cap / 1024:.0f} KiB: "
                        f"stream split in {chunks}")


def chunked_cycles(sr: int, sc: int, t: int, rows: int, cols: int, dataflow: Dataflow,
                   per_pe: int, chunks: int) -> int:
    """Cycles of one GEMM whose stream ``T`` runs in ``chunks`` parts, one after another."""
    if chunks <= 1:
        return fold_cycles(sr, sc, t, rows, cols, dataflow, per_pe)
    t_c = math.ceil(t / chunks)
    full, rem = divmod(t, t_c)
    cycles = full * fold_cycles(sr, sc, t_c, rows, cols, dataflow, per_pe)
    return cycles + (fold_cycles(sr, sc, rem, rows, cols, dataflow, per_pe) if rem else 0)


def _word_padding(hw: Hardware, df: Dataflow, sr: int, sc: int, rows: int, cols: int,
                  in_b: float, w_b: float, out_b: float, psum_b: float) -> dict[str, float]:
    """Bytes charged per useful byte at the feeding buffers (whole words per array vector):
    keys ``in``, ``w``, ``out`` (final outputs) and ``psum`` (partial sums written and read)."""
    in_dim, w_dim = {Dataflow.OS: ((sr, rows), (sc, cols)),
                     Dataflow.WS: ((sr, rows), (sc, cols)),
                     Dataflow.IS: ((sc, cols), (sr, rows))}[df]
    w_word = array_word_bytes(hw, Operand.WEIGHTS)
    o_word = array_word_bytes(hw, Operand.OUTPUTS)
    return {"in": word_padded_factor(*in_dim, in_b, array_word_bytes(hw, Operand.INPUTS)),
            "w": word_padded_factor(*w_dim, w_b, w_word),
            "out": word_padded_factor(sc, cols, out_b, o_word),
            "psum": word_padded_factor(sc, cols, psum_b, o_word)}
