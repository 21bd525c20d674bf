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
nothing else changes cycles.

SRAM reads follow the dataflow's reuse (SCALE-Sim's access counts): under os the inputs are
re-read once per column fold and the weights once per row fold; under ws the weights are read
once, the inputs once per column fold and partial sums written once per row fold (read back
between folds); under is the inputs are read once, the weights once per column fold and partial
sums written once per row fold.
"""

from __future__ import annotations

import math

from edgesim.hardware.model import ComputeUnit, Dataflow, Hardware, Operand, ZeroSkip
from edgesim.mapping.base import ComputeResult
from edgesim.mapping.traffic import ArraySide, Sizes
from edgesim.workload.ir import Layer, OpKind


def fold_cycles(sr: int, sc: int, t: int, rows: int, cols: int, dataflow: Dataflow) -> int:
    """SCALE-Sim "Total Cycles" of one GEMM mapped as (Sr, Sc, T)."""
    folds = math.ceil(sr / rows) * math.ceil(sc / cols)
    per_fold = t + rows + cols - 2 if dataflow == Dataflow.OS else t + 2 * rows + cols - 2
    return folds * per_fold - 1


def gemm_dims(m: int, n: int, k: int, dataflow: Dataflow) -> tuple[int, int, int]:
    """(Sr, Sc, T) of a GEMM under a dataflow."""
    if dataflow == Dataflow.OS:
        return m, n, k
    if dataflow == Dataflow.WS:
        return k, n, m
    return k, m, n


def work_fraction(layer: Layer, unit: ComputeUnit) -> float:
    """Fraction of the reduction a unit actually performs after skipping what it can skip."""
    frac = 1.0
    pattern = layer.sparsity_pattern
    nm = pattern not in ("", "unstructured") and ":" in pattern
    if nm and pattern in unit.nm_sparsity:
        n_keep, m_block = (int(x) for x in pattern.split(":"))
        frac *= n_keep / m_block
    elif layer.weight_sparsity > 0 and unit.zero_skip in (ZeroSkip.WEIGHTS, ZeroSkip.BOTH):
        frac *= 1.0 - layer.weight_sparsity
    if layer.act_sparsity > 0 and unit.zero_skip in (ZeroSkip.ACTIVATIONS, ZeroSkip.BOTH):
        frac *= 1.0 - layer.act_sparsity
    return frac


def map_systolic(layer: Layer, unit: ComputeUnit, hw: Hardware, sizes: Sizes, pack: int,
                 act_bits: int, weight_bits: int) -> ComputeResult:
    """Cycles and array-side traffic of a GEMM layer on a systolic array."""
    del hw
    g = layer.gemm()
    assert g is not None
    groups, m, n, k = g
    frac = work_fraction(layer, unit)
    k_eff = max(1, math.ceil(math.ceil(k * frac) / pack))
    df = unit.dataflow if unit.dataflow in (Dataflow.OS, Dataflow.WS, Dataflow.IS) else Dataflow.WS
    sr, sc, t = gemm_dims(m, n, k_eff, df)
    rows, cols = unit.rows, unit.cols
    cycles = groups * fold_cycles(sr, sc, t, rows, cols, df)
    row_fold, col_fold = math.ceil(sr / rows), math.ceil(sc / cols)
    # Array-side element counts per group (SCALE-Sim's SRAM access counts).
    if df == Dataflow.OS:
        in_el, w_el = col_fold * m * k_eff, row_fold * k_eff * n
        out_w_el, out_r_el = m * n, 0
    elif df == Dataflow.WS:
        in_el, w_el = col_fold * m * k_eff, k_eff * n
        out_w_el, out_r_el = row_fold * m * n, (row_fold - 1) * m * n
    else:
        in_el, w_el = m * k_eff, col_fold * k_eff * n
        out_w_el, out_r_el = row_fold * m * n, (row_fold - 1) * m * n
    dense = groups * m * n * k
    useful = math.ceil(dense * frac)
    w_bytes_per_el = (act_bits if layer.op == OpKind.MATMUL else weight_bits) / 8
    psum_b = sizes.psums / max(1, layer.output_elems)
    out_b = sizes.outputs / max(1, layer.output_elems)
    final_w = groups * m * n * out_b
    partial_w = groups * (out_w_el - m * n) * psum_b
    array = ArraySide(
        reads={Operand.INPUTS: math.ceil(groups * in_el * pack * act_bits / 8),
               Operand.WEIGHTS: math.ceil(groups * w_el * pack * w_bytes_per_el)},
        output_writes=math.ceil(final_w + partial_w),
        output_reads=math.ceil(groups * out_r_el * psum_b))
    util = useful / (unit.pe_count * pack * max(1, cycles))
    note = (f"systolic {df.value} {rows}x{cols}: {groups} GEMM(s) M={m} N={n} K={k}"
            f"{f' (K_eff={k_eff})' if k_eff != k else ''}; folds {row_fold}x{col_fold}")
    op_class = "adder" if layer.op == OpKind.ADDER_CONV2D else "mac"
    return ComputeResult(cycles, useful, {op_class: useful}, dense, array, note,
                         {"row_folds": float(row_fold), "col_folds": float(col_fold),
                          "stream_steps": float(groups * row_fold * col_fold),
                          "pack": float(pack), "utilization_peak": util})
