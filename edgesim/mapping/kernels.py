"""Which calibrated kernel class a layer runs as on a programmable unit, and that class's cost."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from edgesim.hardware.model import BatchnormForm, ComputeUnit, ConvDispatch
from edgesim.vocab import PACKED_OPERAND, KernelClass, OpKind, PackedOperand
from edgesim.workload.layer import Layer

REGISTER_TILE_ROWS = 4
# torch's native convolution wins below this many input elements (batch x channels x pixels):
# ``ConvParams::use_mkldnn`` in aten/src/ATen/native/Convolution.cpp ("for some case, native is
# faster"), torch 1.x to 2.13 alike.
TORCH_NATIVE_CONV_MAX_INPUT_ELEMS = 20480
_CONV_OPS = (OpKind.CONV2D, OpKind.CONV1D, OpKind.ADDER_CONV2D, OpKind.CONV_TRANSPOSE2D)
_TORCH_CONV_OPS = (OpKind.CONV2D, OpKind.CONV1D)  # the convs torch_cpu dispatch covers

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


def torch_cpu_onednn(layer: Layer, threads: int) -> bool:
    """Whether torch on a CPU runs the fp32 convolution ``layer`` (conv2d, or conv1d, which
    torch views as 2-D) through oneDNN at ``threads`` threads, else its native kernels. torch's
    own rule (``ConvParams::use_mkldnn``, aten/src/ATen/native/Convolution.cpp; the choice
    ``torch._C._select_conv_backend`` reports): oneDNN needs (a) a stride or dilation above 1, a
    batch of 16 or more, a kernel other than 1x1, or more than one thread, and (b) groups, a
    kernel larger than 3 in both dimensions (a 1x7 is not), a batch over 1, or an input of more
    than 20480 elements. Other ops: False (the rule does not cover them)."""
    if layer.op not in _TORCH_CONV_OPS:
        return False
    shape = layer.in_shapes[0] if layer.in_shapes else ()
    batch = shape[0] if len(shape) >= 3 else 1
    elements = math.prod(shape)
    kh, kw = layer.kernel
    may = (max(layer.stride) > 1 or max(layer.dilation) > 1 or batch >= 16
           or (kh, kw) != (1, 1) or threads > 1)
    wins = (layer.groups > 1 or (kh > 3 and kw > 3) or batch > 1
            or elements > TORCH_NATIVE_CONV_MAX_INPUT_ELEMS)
    return may and wins


def _shape_class(layer: Layer) -> KernelClass:
    """A convolution's class by its shape alone (one library)."""
    if layer.groups > 1:  # one input channel per group: a depthwise kernel (torch's own)
        return (KernelClass.DEPTHWISE if layer.groups == layer.in_channels
                else KernelClass.GROUPED)
    size = max(layer.kernel)
    if size <= 1:
        return KernelClass.CONV1X1 if max(layer.stride) <= 1 else KernelClass.CONV1X1_STRIDED
    return (KernelClass.CONV3X3 if size <= 3 else KernelClass.CONV5X5 if size <= 5
            else KernelClass.CONV7X7)


def kernel_class(layer: Layer, unit: ComputeUnit | None = None) -> KernelClass:
    """The kernel class of ``layer`` (on ``unit``: its ``conv_dispatch``): convs by grouping
    (one input channel per group: depthwise, else grouped) and kernel size (1x1, strided or
    not; up to 3x3 -> conv3x3, up to 5x5 -> conv5x5, larger -> conv7x7), linear, matmul, then
    the vector ops' classes. Under ``torch_cpu`` dispatch (:func:`torch_cpu_onednn`, the
    unit's cores as threads) a conv torch runs natively is ``conv1x1`` where it is a plain GEMM
    per group (1x1, stride 1, no padding) and ``conv_im2col`` otherwise (unfold + GEMM); a
    dense 1x1 oneDNN runs is ``conv1x1_strided``; the rest keep their shape's class."""
    op = layer.op
    if op in _CONV_OPS:
        if (unit is not None and unit.conv_dispatch == ConvDispatch.TORCH_CPU
                and op in _TORCH_CONV_OPS):
            if not torch_cpu_onednn(layer, unit.cores):
                plain = (max(layer.kernel) <= 1 and max(layer.stride) <= 1
                         and max(layer.padding) == 0)
                return KernelClass.CONV1X1 if plain else KernelClass.CONV_IM2COL
            if layer.groups == 1 and max(layer.kernel) <= 1:
                return KernelClass.CONV1X1_STRIDED
        return _shape_class(layer)
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


def packed_bytes(layer: Layer, cls: KernelClass, bits: int) -> int:
    """Bytes of the operand ``cls`` packs on each call of ``layer`` (``vocab.PACKED_OPERAND``)
    at ``bits`` per element; 0 for a class that packs nothing or a layer that is no torch conv
    (transposed and adder convs run other code)."""
    operand = PACKED_OPERAND.get(cls)
    g = layer.gemm()
    if operand is None or g is None or layer.op not in _TORCH_CONV_OPS:
        return 0
    groups, m, n, k = g
    elements = groups * k * (n if operand == PackedOperand.WEIGHTS else m)
    return math.ceil(elements * bits / 8)


@dataclass(frozen=True)
class KernelCost:
    """What one call of a layer's kernel class costs on a unit: efficiency, fixed cycles and
    the rate of its packing pass (None: none priced)."""

    cls: KernelClass
    efficiency: float
    overhead_cycles: int
    calibrated: bool
    pack_bytes_per_s: float | None = None


# The class whose fit prices a class a unit has none for (it was calibrated without it).
NEAREST_CLASS = {KernelClass.CONV1X1_STRIDED: KernelClass.CONV1X1,
                 KernelClass.CONV_IM2COL: KernelClass.CONV3X3}

CONVOLUTION_CLASSES = frozenset({KernelClass.CONV1X1, KernelClass.CONV1X1_STRIDED,
                                 KernelClass.CONV3X3, KernelClass.CONV5X5,
                                 KernelClass.CONV7X7, KernelClass.CONV_IM2COL,
                                 KernelClass.DEPTHWISE,
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
    own = [kernel_class(layer, units[i] if units is not None else None)
           for i, layer in enumerate(layers)]
    runs: list[set[KernelClass]] = []
    for i, layer in enumerate(layers):
        classes = {own[i]}
        if units is not None and units[i].batchnorm == BatchnormForm.SEPARATE \
                and any(k == "folded" for k, _ in layer.extra):
            classes.add(KernelClass.BATCHNORM)
        runs.append(classes)
    out = []
    for i, cls in enumerate(own):
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
    cls = kernel_class(layer, unit)
    fit = unit.kernel(cls)
    if fit is None and cls in NEAREST_CLASS:  # a spec calibrated before the class existed
        fit = unit.kernel(NEAREST_CLASS[cls])
        if fit is not None and PACKED_OPERAND.get(cls) != PACKED_OPERAND.get(NEAREST_CLASS[cls]):
            # its rate was fitted on another operand's bytes: no packing priced
            fit = replace(fit, pack_bytes_per_s=None,
                          cold=replace(fit.cold, pack_bytes_per_s=None) if fit.cold else None)
    if fit is None:
        return KernelCost(cls, unit.efficiency, unit.layer_overhead_cycles, False)
    if cold and fit.cold is not None:
        fit = fit.cold
    return KernelCost(cls, fit.efficiency_at(k, m), fit.overhead_cycles, True,
                      fit.pack_bytes_per_s)


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
    if fit is not None and fit.cold is not None and kernel_class(layer, unit) in CONVOLUTION_CLASSES:
        fit = fit.cold
    eff, over = ((fit.efficiency_at(1, layer.output_elems), fit.overhead_cycles)
                 if fit is not None
                 else (unit.efficiency, unit.layer_overhead_cycles))
    ops = 2 * layer.output_elems  # scale and shift
    return int(-(-ops // max(1.0, unit.lanes * unit.cores * eff))) + over


__all__ = ["CONVOLUTION_CLASSES", "NEAREST_CLASS", "REGISTER_TILE_ROWS",
           "TORCH_NATIVE_CONV_MAX_INPUT_ELEMS", "KernelCost", "packed_bytes", "cold_layers",
           "is_channelwise", "kernel_class", "kernel_cost", "runs_cold",
           "separate_batchnorm_cycles", "torch_cpu_onednn"]
