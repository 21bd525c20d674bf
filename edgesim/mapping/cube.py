"""Cube units (DaVinci-style ``rows x cols x depth`` matrix engine: one M x N x K block per cycle).

A GEMM ``out[M,N] += A[M,K] B[K,N]`` is cut into fractals padded up to the cube edges, so a
16x16x16 cube spends ``ceil(M/16) ceil(N/16) ceil(K/16)`` cycles per GEMM (padding is wasted
work, shown in the utilization), plus one pipeline fill per GEMM (``fill_cycles``, default the
K edge ``depth``: an assumption, the fill is not published). Groups are separate GEMMs, except
that a unit that ``packs_channels`` runs a depthwise layer in blocks of ``cols`` channels: one
GEMM per block with block-diagonal weights (K = taps x C0, N = C0), wasting C0 - 1 of every C0
MAC slots but paying one fill per block instead of one per channel. A ``packs_narrow`` cube runs ``native_bits // bits`` times the
K depth per cycle for narrow operands (int8 on an fp16 cube: K doubles). Skipped zeros and
supported N:M patterns shrink K as on systolic arrays.

Array-side reads (from the L0 buffers feeding the cube): A fractals are re-read once per N
block, B fractals once per M block; outputs accumulate in place and are written once. A spec
that gives the cube per-PE register files (``per_pe`` levels) has them counted as on a systolic
array: every MAC reads its operands from them, each fractal delivered is written once, and a
per-PE accumulator is read and written per MAC at accumulator width.
"""

from __future__ import annotations

import math

from edgesim.hardware.model import ComputeUnit, Hardware, Operand
from edgesim.mapping.mapper import ComputeResult, GemmView
from edgesim.mapping.storage import Sizes
from edgesim.mapping.traffic import ArraySide, register_file_accesses


def _array(hw: Hardware, g: GemmView, macs: int, reads: dict[Operand, int], sizes: Sizes
           ) -> ArraySide:
    """Array-side traffic: the fractals read from the L0 buffers, the outputs written once, and
    the per-PE register files (when the spec has them) fed by those fractals."""
    psum_b = sizes.psums_bytes / max(1, g.layer.output_elems)  # accumulator width
    rf_reads, rf_writes = register_file_accesses(hw, macs, g.act_bits / 8, g.b_bits / 8, psum_b,
                                                 reads)
    return ArraySide(reads_bytes=reads, output_write_bytes=sizes.outputs_bytes,
                     rf_read_bytes=rf_reads, rf_write_bytes=rf_writes)


def map_cube(g: GemmView, unit: ComputeUnit, hw: Hardware, sizes: Sizes) -> ComputeResult:
    """Cycles and array-side traffic of a GEMM layer on a cube unit."""
    groups, m, n, k = g.groups, g.m, g.n, g.k
    fill = unit.depth if unit.fill_cycles is None else unit.fill_cycles
    serial = g.act_bits * g.b_bits if unit.bit_serial else 1  # one-bit steps per fractal
    k_eff = max(1, math.ceil(k * g.cycle_fraction))
    useful = g.useful_ops
    if unit.packs_channels and n == 1 and groups > 1:  # depthwise: channel blocks of `cols`
        c0 = unit.cols
        blocks = math.ceil(groups / c0)
        bm, bk = math.ceil(m / unit.rows), math.ceil(k_eff * c0 / (unit.depth * g.pack))
        cycles = blocks * (bm * bk * serial + fill)
        # A fractal of C0 channels: inputs once, block-diagonal weights (C0 x K x C0, mostly
        # zeros) once per M block.
        reads = {Operand.INPUTS: math.ceil(groups * m * k_eff * g.act_bits / 8),
                 Operand.WEIGHTS: math.ceil(blocks * bm * k_eff * c0 * c0 * (g.b_bits / 8))}
        array = _array(hw, g, useful, reads, sizes)
        note = (f"cube {unit.rows}x{unit.cols}x{unit.depth}: depthwise, {groups} channels in "
                f"{blocks} blocks of {c0}; M={m} K={k}; fractals {bm}x1x{bk} per block")
        return ComputeResult(cycles, useful, {g.op_class: useful}, g.dense_ops, array, note,
                             stream_steps=blocks * bm)
    bm, bn, bk = math.ceil(m / unit.rows), math.ceil(n / unit.cols), \
        math.ceil(k_eff / (unit.depth * g.pack))
    cycles = groups * (bm * bn * bk * serial + fill)
    reads = {Operand.INPUTS: math.ceil(groups * bn * m * k_eff * g.act_bits / 8),
             Operand.WEIGHTS: math.ceil(groups * bm * k_eff * n * (g.b_bits / 8))}
    array = _array(hw, g, useful, reads, sizes)
    note = (f"cube {unit.rows}x{unit.cols}x{unit.depth}: {groups} GEMM(s) M={m} N={n} K={k}; "
            f"fractals {bm}x{bn}x{bk}")
    return ComputeResult(cycles, useful, {g.op_class: useful}, g.dense_ops, array, note,
                         stream_steps=groups * bm * bn)
