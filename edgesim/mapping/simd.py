"""SIMD units (CPU NEON, GPU CUDA cores, MCU DSP): lanes x cores at a sustained efficiency.

Efficiency model: peak is ``lanes x cores`` operations per cycle at the native precision; narrow
operands pack ``native_bits // bits`` per lane only where the unit ``packs_narrow``; sustained
GEMM throughput is peak times the spec's ``efficiency`` (the fraction a tuned kernel reaches:
issue slots lost to loads, shuffles and loop overhead). Depthwise and small grouped convs reach
less: their reduction ``K = R*S`` is shorter than a lane vector, so lanes idle in proportion
``min(1, K / lanes)`` (the vector runs along K). Skipped zeros cut work only where ``zero_skip``
says so. Memory-bound behaviour comes from the traffic counted per cache level (caches are
memory levels of the spec) and their bandwidth, composed by the simulators.

Array-side (register-level) reuse: each core keeps a register tile of 4 output rows x ``lanes``
output columns of accumulators, so inputs are re-read once per ``lanes`` filters and weights once
per 4 output rows from the innermost cache.
"""

from __future__ import annotations

import math

from edgesim.hardware.model import ComputeUnit, Hardware, Operand
from edgesim.mapping.base import ComputeResult
from edgesim.mapping.systolic import work_fraction
from edgesim.mapping.traffic import ArraySide, Sizes
from edgesim.workload.ir import Layer, OpKind

REGISTER_TILE_ROWS = 4


def map_simd(layer: Layer, unit: ComputeUnit, hw: Hardware, sizes: Sizes, pack: int,
             act_bits: int, weight_bits: int) -> ComputeResult:
    """Cycles and cache-side traffic of a GEMM layer on a SIMD unit."""
    del hw
    g = layer.gemm()
    assert g is not None
    groups, m, n, k = g
    frac = work_fraction(layer, unit)
    dense = groups * m * n * k
    useful = math.ceil(dense * frac)
    lanes = unit.lanes * pack
    lane_use = min(1.0, k / lanes) if groups > 1 and n <= 4 else 1.0
    rate = unit.lanes * unit.cores * pack * unit.efficiency * lane_use
    cycles = max(1, math.ceil(useful / rate))
    w_b = (act_bits if layer.op == OpKind.MATMUL else weight_bits) / 8
    in_reads = groups * m * k * math.ceil(n / lanes) * act_bits / 8
    w_reads = groups * k * n * math.ceil(m / REGISTER_TILE_ROWS) * w_b
    array = ArraySide(reads={Operand.INPUTS: math.ceil(in_reads),
                             Operand.WEIGHTS: math.ceil(w_reads)},
                      output_writes=sizes.outputs)
    op_class = "adder" if layer.op == OpKind.ADDER_CONV2D else "mac"
    note = (f"simd {unit.cores}x{unit.lanes} lanes x{pack} pack, efficiency "
            f"{unit.efficiency:g}, lane use {lane_use:.2f}")
    return ComputeResult(cycles, useful, {op_class: useful}, dense, array, note,
                         {"pack": float(pack), "lane_use": lane_use})
