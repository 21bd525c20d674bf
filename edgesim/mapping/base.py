"""What a unit mapper returns, and the pricing of non-GEMM (vector) ops shared by all mappers.

Non-GEMM ops are priced for what they cost, not as FLOPs: each output element needs its vector
operations (``Layer.vector_ops``) issued on the unit's vector lanes; a matrix engine (systolic,
spatial, cube) runs them on the vector/post-processing path along one array edge (``cols``
lanes), a SIMD unit on ``lanes x cores`` lanes times its ``efficiency``. Concat computes nothing:
it is a copy, one element per lane per cycle. Their memory traffic is one read of every input and
one write of the output at each level, so they are usually memory-bound; the utilization they
report is against the whole unit, which shows how poorly they use a matrix engine. A
programmable unit adds its ``layer_overhead_cycles`` (a library call or kernel launch per op).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from edgesim.hardware.model import ComputeUnit, Operand, UnitType
from edgesim.mapping.traffic import ArraySide, Sizes
from edgesim.workload.ir import Layer, OpKind, precision_bits


@dataclass(frozen=True)
class ComputeResult:
    """Cycles, operations and array-side accesses of one layer on one unit."""

    compute_cycles: int
    useful_ops: int  # operations that do useful work (for utilization)
    ops: Mapping[str, int]
    dense_ops: int
    array: ArraySide
    note: str = ""
    extra: Mapping[str, float] = field(default_factory=dict)
    pe_count: int = 0  # 0: the unit's pe_count


def vector_lanes(unit: ComputeUnit) -> float:
    """Elements per cycle a unit's vector path processes at its native precision."""
    if unit.type == UnitType.SIMD:
        return unit.lanes * unit.cores * unit.efficiency
    return float(unit.cols)


def vector_op(layer: Layer, unit: ComputeUnit, sizes: Sizes, act_bits: int) -> ComputeResult:
    """Pooling, elementwise, activation, softmax, norm, upsample and concat on any unit."""
    pack = 1
    native = precision_bits(unit.native_precision)
    if unit.packs_narrow and act_bits < native:
        pack = native // act_bits
    lanes = vector_lanes(unit) * pack
    if layer.op == OpKind.CONCAT:
        work = layer.output_elems  # a copy: one element moved per lane per cycle
        ops = {"add": 0}
    else:
        work = layer.vector_ops
        ops = {"add": work}
    # A programmable unit pays its fixed per-layer cost (library call, kernel launch) here too.
    cycles = max(1, math.ceil(work / lanes)) + unit.layer_overhead_cycles
    reads = {Operand.INPUTS: sizes.inputs}
    array = ArraySide(reads=reads, output_writes=sizes.outputs)
    return ComputeResult(cycles, work, ops, work, array,
                         note=f"vector path {lanes:g} elem/cycle")
