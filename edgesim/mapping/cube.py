"""Cube units (DaVinci-style ``rows x cols x depth`` matrix engine: one M x N x K block per cycle).

A GEMM ``out[M,N] += A[M,K] B[K,N]`` is cut into fractals padded up to the cube edges, so a
16x16x16 cube spends ``ceil(M/16) ceil(N/16) ceil(K/16)`` cycles per GEMM (padding is wasted
work, shown in the utilization), plus one pipeline fill of ``depth`` cycles per GEMM. Groups
(depthwise) are separate GEMMs. A ``packs_narrow`` cube runs ``native_bits // bits`` times the
K depth per cycle for narrow operands (int8 on an fp16 cube: K doubles). Skipped zeros and
supported N:M patterns shrink K as on systolic arrays.

Array-side reads (from the L0 buffers feeding the cube): A fractals are re-read once per N
block, B fractals once per M block; outputs accumulate in place and are written once.
"""

from __future__ import annotations

import math

from edgesim.hardware.model import ComputeUnit, Hardware, Operand
from edgesim.mapping.mapper import ComputeResult, GemmView
from edgesim.mapping.storage import Sizes
from edgesim.mapping.traffic import ArraySide


def map_cube(g: GemmView, unit: ComputeUnit, hw: Hardware, sizes: Sizes) -> ComputeResult:
    """Cycles and array-side traffic of a GEMM layer on a cube unit."""
    del hw
    groups, m, n, k = g.groups, g.m, g.n, g.k
    k_eff = max(1, math.ceil(k * g.cycle_fraction))
    bm, bn, bk = math.ceil(m / unit.rows), math.ceil(n / unit.cols), \
        math.ceil(k_eff / (unit.depth * g.pack))
    cycles = groups * (bm * bn * bk + unit.depth)
    useful = g.useful_ops
    array = ArraySide(
        reads_bytes={Operand.INPUTS: math.ceil(groups * bn * m * k_eff * g.act_bits / 8),
                     Operand.WEIGHTS: math.ceil(groups * bm * k_eff * n * (g.b_bits / 8))},
        output_write_bytes=sizes.outputs_bytes)
    note = (f"cube {unit.rows}x{unit.cols}x{unit.depth}: {groups} GEMM(s) M={m} N={n} K={k}; "
            f"fractals {bm}x{bn}x{bk}")
    return ComputeResult(cycles, useful, {g.op_class: useful}, g.dense_ops, array, note,
                         stream_steps=groups * bm * bn)
