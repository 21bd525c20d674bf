"""Which compute unit runs a layer, and at which precision.

Rule: the main unit (``hw.compute[0]``) runs a layer when it lists the op (``unit.supports``)
and its operation matches the layer's arithmetic: an ``adder_conv2d`` needs an adder unit (or a
programmable SIMD unit, which emulates ``|x - w|`` accumulate with two instructions), every
other GEMM (conv, linear, matmul) needs a MAC unit, and an adder unit runs no MACs. Non-GEMM ops
(pooling, elementwise, softmax, ...) need only ``supports``. Otherwise the spec's
``hw.fallback_unit`` runs it under the same rule; if it cannot either, ``MappingError`` names the
layer and the op. In a workload, a GEMM layer that several units can run goes to the one whose
pass is estimated to end first (``schedule.choose_unit``; ties to spec order), as a compiler
picks the fastest kernel: a depthwise conv on a vector unit rather than a mostly idle array.
"""

from __future__ import annotations

from edgesim.errors import MappingError
from edgesim.hardware.model import ComputeUnit, Hardware, Operation, UnitType
from edgesim.vocab import GEMM_OPS, OpKind, Precision
from edgesim.workload.layer import Layer


def can_run(unit: ComputeUnit, layer: Layer) -> bool:
    """Whether ``unit`` can execute ``layer`` (op listed and arithmetic matching)."""
    if not unit.supports(layer.op):
        return False
    if layer.op == OpKind.ADDER_CONV2D:  # a programmable SIMD unit emulates |x - w| (see simd)
        return unit.operation == Operation.ADDER or unit.type == UnitType.SIMD
    if layer.op in GEMM_OPS:
        if unit.operation == Operation.XNOR:  # binary layers only: both operands int1
            return (layer.op != OpKind.MATMUL and layer.weight_precision == Precision.INT1
                    and layer.act_precision == Precision.INT1)
        return unit.operation == Operation.MAC
    return True


def capable_units(layer: Layer, hw: Hardware) -> list[ComputeUnit]:
    """Units of ``hw`` that can run ``layer``, in spec order (the main unit first) with the
    spec's fallback unit last; ``MappingError`` naming the layer when none can."""
    order = [u for u in hw.compute if u.name != hw.fallback_unit]
    if hw.fallback_unit:
        order.append(hw.unit(hw.fallback_unit))
    found = [unit for unit in order if can_run(unit, layer)]
    if found:
        return found
    need = ("an adder unit or a SIMD unit" if layer.op == OpKind.ADDER_CONV2D
            else "a MAC unit (or an xnor unit, for int1 weights and activations)"
            if layer.op in GEMM_OPS else "a unit listing it")
    raise MappingError(
        f"no compute unit of {hw.name!r} can run layer {layer.name!r} (op {layer.op.value}); "
        f"it needs {need}", file=hw.source or None, field=f"layers.{layer.name}")


def place(layer: Layer, hw: Hardware) -> ComputeUnit:
    """The first unit that can run ``layer`` (``capable_units``); a workload's GEMM layers go to
    the fastest of them instead (``schedule.choose_unit``)."""
    return capable_units(layer, hw)[0]


def resolved_precisions(layer: Layer, unit: ComputeUnit) -> tuple[Precision, Precision]:
    """(weight precision, activation precision) with ``None`` resolved to the unit's native one."""
    native = unit.native_precision
    return layer.weight_precision or native, layer.act_precision or native


def op_precision(layer: Layer, unit: ComputeUnit) -> Precision:
    """The precision the unit computes at: the narrowest it supports that holds the operands.

    The operands' precision is the wider of weight and activation precisions. A unit computes at a
    precision it lists: int4 operands on an int8-only array run on its int8 datapath (traffic still
    shrinks, see ``resolved_precisions``); float operands prefer a float datapath, integer operands
    an integer one. Operands wider than anything the unit has run at its widest precision (the
    model is taken to be quantized for deployment, as its toolchain would).
    """
    w, a = resolved_precisions(layer, unit)
    want = a if layer.op not in GEMM_OPS else (w if w.bits > a.bits else a)
    if want in unit.precisions:
        return want
    bits = want.bits
    same = [p for p in unit.precisions if p.is_float == want.is_float and p.bits >= bits]
    wider = [p for p in unit.precisions if p.bits >= bits]
    for pool in (same, wider):
        if pool:
            return min(pool, key=lambda p: (p.bits, unit.precisions.index(p)))
    return max(unit.precisions, key=lambda p: (p.bits, -unit.precisions.index(p)))


def pack_factor(layer: Layer, unit: ComputeUnit) -> int:
    """Operations per PE per cycle: ``native_bits // bits`` when the unit packs narrow operands."""
    if not unit.packs_narrow:
        return 1
    return max(1, unit.native_precision.bits // op_precision(layer, unit).bits)
