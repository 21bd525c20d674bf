"""Non-GEMM (vector) ops on any unit: pooling, elementwise, activations, norms, softmax, concat.

Non-GEMM ops are priced for what they cost, not as FLOPs: each output element needs its vector
operations (``Layer.vector_ops``) issued on the unit's vector lanes; a matrix engine (systolic,
spatial, cube) runs them on the vector/post-processing path along one array edge (``cols``
lanes), a SIMD unit on ``lanes x cores`` lanes times its ``efficiency``. Concat computes nothing:
it is a copy, one element per lane per cycle; an embedding lookup copies the table rows its ids
name (read as weights). Their memory traffic is one read of every input and
one write of the output at each level, so they are usually memory-bound; the utilization they
report is against the whole unit, which shows how poorly they use a matrix engine. A
programmable unit adds its ``layer_overhead_cycles`` (a library call or kernel launch per op).
"""

from __future__ import annotations

import math

from edgesim.hardware.model import ComputeUnit, Operand, UnitType
from edgesim.mapping.kernels import kernel_cost
from edgesim.mapping.mapper import ComputeResult
from edgesim.mapping.storage import Sizes
from edgesim.mapping.traffic import ArraySide
from edgesim.vocab import OpClass, OpKind
from edgesim.workload.layer import Layer


def vector_lanes(unit: ComputeUnit, efficiency: float | None = None) -> float:
    """Elements per cycle a unit's vector path processes at its native precision (a simd unit
    at ``efficiency``, by default its own)."""
    if unit.type == UnitType.SIMD:
        return unit.lanes * unit.cores * (unit.efficiency if efficiency is None else efficiency)
    return float(unit.cols)


def packed_vector_lanes(unit: ComputeUnit, act_bits: int, efficiency: float | None = None
                        ) -> float:
    """Elements per cycle of the vector path at ``act_bits`` (narrow operands packed where the
    unit packs them)."""
    native = unit.native_precision.bits
    pack = native // act_bits if unit.packs_narrow and act_bits < native else 1
    return vector_lanes(unit, efficiency) * pack


def vector_op(layer: Layer, unit: ComputeUnit, sizes: Sizes, act_bits: int, cold: bool = False
              ) -> ComputeResult:
    """Pooling, elementwise, activation, softmax, norm, upsample and concat on any unit
    (``cold``: with the caches cold, ``kernels.cold_layers``)."""
    cost = kernel_cost(layer, unit, 1, layer.output_elems, cold)
    lanes = packed_vector_lanes(unit, act_bits, cost.efficiency)
    reads = {Operand.INPUTS: sizes.inputs_bytes}
    if layer.op in (OpKind.CONCAT, OpKind.EMBEDDING):
        work = layer.output_elems  # a copy: one element moved per lane per cycle
        ops = {OpClass.ADD: 0}
        if layer.op == OpKind.EMBEDDING:  # the rows the ids name
            reads[Operand.WEIGHTS] = sizes.weights_bytes
    else:
        work = layer.vector_ops
        ops = {OpClass.ADD: work}
    # A programmable unit pays its fixed per-layer cost (library call, kernel launch) here too.
    overhead = cost.overhead_cycles if unit.type == UnitType.SIMD else 0
    cycles = max(1, math.ceil(work / lanes)) + overhead
    array = ArraySide(reads_bytes=reads, output_write_bytes=sizes.outputs_bytes)
    label = f"{cost.cls.value}{' cold' if cold else ''} " if cost.calibrated else ""
    return ComputeResult(cycles, work, ops, work, array,
                         note=f"vector path {label}{lanes:g} elem/cycle")
