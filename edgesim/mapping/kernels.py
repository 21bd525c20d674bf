"""Which calibrated kernel class a layer runs as on a programmable unit, and that class's cost."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from edgesim.hardware.model import BatchnormForm, ComputeUnit
from edgesim.vocab import KernelClass, OpKind
from edgesim.workload.layer import Layer

REGISTER_TILE_ROWS = 4

_VECTOR_CLASS = {
    OpKind.POOL2D: KernelClass.POOL, OpKind.ADD: KernelClass.ELEMENTWISE,
    OpKind.MUL: KernelClass.ELEMENTWISE, OpKind.RELU: KernelClass.ELEMENTWISE,
    OpKind.ACTIVATION: KernelClass.ACTIVATION, OpKind.SOFTMAX: KernelClass.SOFTMAX,
    OpKind.LAYERNORM: KernelClass.LAYERNORM, OpKind.BATCHNORM: KernelClass.BATCHNORM,
    OpKind.CONCAT: KernelClass.CONCAT, OpKind.EMBEDDING: KernelClass.CONCAT,
    OpKind.UPSAMPLE: KernelClass.UPSAMPLE,
}


# Activation functions that are piecewise linear (compares, clamps, a multiply): as cheap as a
# ReLU, unlike the transcendental ones (exp, erf, tanh) of the activation class.
PIECEWISE_LINEAR = frozenset({"hardswish", "hardsigmoid", "hardtanh", "leaky_relu", "prelu"})


def is_channelwise(layer: Layer) -> bool:
    """Whether a grouped layer runs channel-vectorized (depthwise-like: few filters per group)."""
    g = layer.gemm()
    return g is not None and g[0] > 1 and g[2] <= REGISTER_TILE_ROWS


def kernel_class(layer: Layer) -> KernelClass:
    """The kernel class of ``layer``: convs by grouping (one input channel per group: depthwise,
    else grouped) and kernel size (1x1, strided or not; up to 3x3 -> conv3x3, up to 5x5 ->
    conv5x5, larger -> conv7x7), linear, matmul, then the vector ops' classes."""
    op = layer.op
    if op in (OpKind.CONV2D, OpKind.CONV1D, OpKind.ADDER_CONV2D, OpKind.CONV_TRANSPOSE2D):
        if layer.groups > 1:  # one input channel per group: a depthwise kernel (torch's own)
            return (KernelClass.DEPTHWISE if layer.groups == layer.in_channels
                    else KernelClass.GROUPED)
        size = max(layer.kernel)
        if size <= 1:
            return KernelClass.CONV1X1 if max(layer.stride) <= 1 else KernelClass.CONV1X1_STRIDED
        return (KernelClass.CONV3X3 if size <= 3 else KernelClass.CONV5X5 if size <= 5
                else KernelClass.CONV7X7)
    if op == OpKind.LINEAR:
        return KernelClass.LINEAR
    if op == OpKind.MATMUL:
        return KernelClass.MATMUL
    if op == OpKind.ACTIVATION and layer.variant in PIECEWISE_LINEAR:
        return KernelClass.ELEMENTWISE
    if op == OpKind.POOL2D and layer.in_shapes and tuple(layer.kernel) == _in_hw(layer):
        return KernelClass.GLOBAL_POOL
    return _VECTOR_CLASS[op]


def _in_hw(layer: Layer) -> tuple[int, int]:
    shape = layer.in_shapes[0]
    return (shape[-2], shape[-1]) if len(shape) >= 4 else (1, shape[-1])


@dataclass(frozen=True)
class KernelCost:
    """What one call of a layer's kernel class costs on a unit: efficiency and fixed cycles."""

    cls: KernelClass
    efficiency: float
    overhead_cycles: int
    calibrated: bool


# The class whose fit prices a class a unit has none for (it was calibrated without it).
NEAREST_CLASS = {KernelClass.CONV1X1_STRIDED: KernelClass.CONV1X1}

CONVOLUTION_CLASSES = frozenset({KernelClass.CONV1X1, KernelClass.CONV1X1_STRIDED,
                                 KernelClass.CONV3X3, KernelClass.CONV5X5,
                                 KernelClass.CONV7X7, KernelClass.DEPTHWISE,
                                 KernelClass.GROUPED})


def cold_layers(layers: Sequence[Layer], units: Sequence[ComputeUnit] | None = None
                ) -> tuple[bool, ...]:
    """Per layer (execution order, one inference after another): whether it runs cold, i.e.
    whether a convolution of another layer on its unit ran since the last layer that ran its
    kernel class (the previous inference's, for a class that runs once). In torch eager a
    convolution leaves a CPU's private caches to its own reordered tensors, so the next op of
    another class starts with its code and data out of them (``calibrate.cases.
    convolution_block`` measures it); a class running again before any convolution, as the
    linears and norms of a transformer block do, finds them warm. ``units``: each layer's unit
    (default: one unit for all); a conv's BatchNorm run on its own (``batchnorm: separate``)
    runs the batchnorm class right after it."""
    n = len(layers)
    names = [u.name for u in units] if units is not None else [""] * n
    runs: list[set[KernelClass]] = []
    for i, layer in enumerate(layers):
        classes = {kernel_class(layer)}
        if units is not None and units[i].batchnorm == BatchnormForm.SEPARATE \
                and any(k == "folded" for k, _ in layer.extra):
            classes.add(KernelClass.BATCHNORM)
        runs.append(classes)
    out = []
    for i, layer in enumerate(layers):
        cls = kernel_class(layer)
        cold = False
        for d in range(1, n + 1):
            j = (i - d) % n
            if cls in runs[j]:
                break
            if names[j] == names[i] and runs[j] & CONVOLUTION_CLASSES:
                cold = True
                break
        out.append(cold)
    return tuple(out)


def kernel_cost(layer: Layer, unit: ComputeUnit, k: int = 1, m: int = 1, cold: bool = False
                ) -> KernelCost:
    """The unit's calibrated cost of ``layer``'s class for a GEMM of reduction length ``k`` and
    ``m`` output rows (a vector op: ``k`` 1, ``m`` its output elements), run ``cold`` where
    the class has a cold fit (:func:`cold_layers`); a class the unit was not calibrated for
    costs the unit's ``efficiency`` and ``layer_overhead_cycles``."""
    cls = kernel_class(layer)
    fit = unit.kernel(cls)
    if fit is None and cls in NEAREST_CLASS:  # a spec calibrated before the class existed
        fit = unit.kernel(NEAREST_CLASS[cls])
    if fit is None:
        return KernelCost(cls, unit.efficiency, unit.layer_overhead_cycles, False)
    if cold and fit.cold is not None:
        fit = fit.cold
    return KernelCost(cls, fit.efficiency_at(k, m), fit.overhead_cycles, True)


def runs_cold(unit: ComputeUnit) -> bool:
    """Whether any of the unit's kernel classes has a cold fit (then :func:`cold_layers`
    matters to its layers)."""
    return any(fit.cold is not None for _, fit in unit.kernels)


def separate_batchnorm_cycles(layer: Layer, unit: ComputeUnit) -> int:
    """Cycles of the BatchNorm folded into ``layer`` when the unit runs it on its own
    (``batchnorm: separate``, torch eager): one scale-and-shift per output element on the
    ``batchnorm`` kernel (or the unit's own efficiency and overhead), 0 otherwise. It runs
    right after its convolution: cold, where the class has a cold fit."""
    if unit.batchnorm != BatchnormForm.SEPARATE or not any(k == "folded" for k, _ in layer.extra):
        return 0
    fit = unit.kernel(KernelClass.BATCHNORM)
    if fit is not None and fit.cold is not None and kernel_class(layer) in CONVOLUTION_CLASSES:
        fit = fit.cold
    eff, over = ((fit.efficiency_at(1, layer.output_elems), fit.overhead_cycles)
                 if fit is not None
                 else (unit.efficiency, unit.layer_overhead_cycles))
    ops = 2 * layer.output_elems  # scale and shift
    return int(-(-ops // max(1.0, unit.lanes * unit.cores * eff))) + over


__all__ = ["CONVOLUTION_CLASSES", "NEAREST_CLASS", "REGISTER_TILE_ROWS", "KernelCost", "cold_layers",
           "is_channelwise", "kernel_class", "kernel_cost", "runs_cold",
           "separate_batchnorm_cycles"]
