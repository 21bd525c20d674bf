"""The shared vocabulary of workloads, hardware and results: op kinds and classes, precisions, modes."""

from __future__ import annotations

from enum import StrEnum

from edgesim.errors import WorkloadError


class OpKind(StrEnum):
    """Every op the IR knows. Values are the names used in workload YAML and in spec ``ops``."""

    CONV2D = "conv2d"  # depthwise is conv2d with groups == in_channels
    CONV1D = "conv1d"  # stored as conv2d-like with H == 1 (kernel (1, k))
    CONV_TRANSPOSE2D = "conv_transpose2d"
    ADDER_CONV2D = "adder_conv2d"  # AdderNet: y = -sum |x - w|
    LINEAR = "linear"
    MATMUL = "matmul"  # batched GEMM between two activations (or activation x constant)
    POOL2D = "pool2d"  # variant "max" | "avg"; global pooling has kernel == input size
    ADD = "add"
    MUL = "mul"
    CONCAT = "concat"
    RELU = "relu"
    ACTIVATION = "activation"  # variant names the function: gelu, sigmoid, hardswish, tanh, silu...
    SOFTMAX = "softmax"
    LAYERNORM = "layernorm"
    BATCHNORM = "batchnorm"  # only when it could not be folded into a producing conv
    UPSAMPLE = "upsample"  # variant "nearest" | "bilinear"
    EMBEDDING = "embedding"  # a table lookup: the rows of a (vocab, dim) table its ids index


CONV_OPS = frozenset({OpKind.CONV2D, OpKind.CONV1D, OpKind.ADDER_CONV2D})
GEMM_OPS = frozenset({*CONV_OPS, OpKind.CONV_TRANSPOSE2D, OpKind.LINEAR, OpKind.MATMUL})
WEIGHTED_OPS = frozenset({*CONV_OPS, OpKind.CONV_TRANSPOSE2D, OpKind.LINEAR})


class KernelClass(StrEnum):
    """Classes of library kernel a programmable unit runs, each with its own calibrated
    efficiency and per-call overhead (a simd unit's ``kernels``; ``edgesim calibrate`` fits them)."""

    CONV1X1 = "conv1x1"
    CONV1X1_STRIDED = "conv1x1_strided"  # a strided 1x1 (a downsampling shortcut): torch's
    # strided path costs a fixed ~70-90 us more on an AVX2 core than the 1x1 of its output;
    # under `conv_dispatch: torch_cpu`, every 1x1 torch sends to oneDNN
    CONV3X3 = "conv3x3"  # kernels of up to 3x3 (2x2 included)
    CONV5X5 = "conv5x5"
    CONV7X7 = "conv7x7"  # 7x7 and larger
    CONV_IM2COL = "conv_im2col"  # under `conv_dispatch: torch_cpu`: a conv torch runs natively
    # (unfold + GEMM, slow_conv2d) instead of through oneDNN, other than a plain 1x1 GEMM
    DEPTHWISE = "depthwise"  # grouped convs of one input channel per group
    GROUPED = "grouped"  # other grouped convs
    LINEAR = "linear"
    MATMUL = "matmul"  # batched GEMM between activations (attention)
    ELEMENTWISE = "elementwise"  # relu, add, mul, piecewise-linear activations (hardswish ...)
    ACTIVATION = "activation"  # transcendental activations: gelu, sigmoid, tanh, silu ...
    POOL = "pool"  # windowed max / average pooling
    GLOBAL_POOL = "global_pool"  # pooling over the whole feature map (a reduction)
    SOFTMAX = "softmax"
    LAYERNORM = "layernorm"
    BATCHNORM = "batchnorm"  # a BatchNorm left in the graph, or a folded one run on its own
    CONCAT = "concat"  # copies: concat, embedding rows
    UPSAMPLE = "upsample"


class PackedOperand(StrEnum):
    """What a kernel class rewrites into its own layout on every call, before it computes."""

    WEIGHTS = "weights"  # oneDNN under torch eager: the weights, reordered into a blocked layout
    UNFOLDED_INPUT = "unfolded_input"  # torch's native conv: the K x M im2col matrix


# The classes that pack, and what (a spec's `pack_bandwidth` applies to these only).
PACKED_OPERAND = {
    KernelClass.CONV1X1_STRIDED: PackedOperand.WEIGHTS, KernelClass.CONV3X3: PackedOperand.WEIGHTS,
    KernelClass.CONV5X5: PackedOperand.WEIGHTS, KernelClass.CONV7X7: PackedOperand.WEIGHTS,
    KernelClass.DEPTHWISE: PackedOperand.WEIGHTS, KernelClass.GROUPED: PackedOperand.WEIGHTS,
    KernelClass.CONV_IM2COL: PackedOperand.UNFOLDED_INPUT,
}


class OpClass(StrEnum):
    """Classes of arithmetic operation a unit executes and the technology tables price."""

    MAC = "mac"  # multiply-accumulate
    ADDER = "adder"  # |x - w| accumulate (AdderNet: subtract, absolute value, add)
    ADD = "add"  # add / compare / elementwise vector op
    MULT = "mult"  # multiply alone


class Precision(StrEnum):
    """Number formats: integers of 1..16 and 32 bits, and three floating-point formats."""

    INT1 = "int1"
    INT2 = "int2"
    INT3 = "int3"
    INT4 = "int4"
    INT5 = "int5"
    INT6 = "int6"
    INT7 = "int7"
    INT8 = "int8"
    INT9 = "int9"
    INT10 = "int10"
    INT11 = "int11"
    INT12 = "int12"
    INT13 = "int13"
    INT14 = "int14"
    INT15 = "int15"
    INT16 = "int16"
    INT32 = "int32"
    FP16 = "fp16"
    BF16 = "bf16"
    FP32 = "fp32"

    @property
    def bits(self) -> int:
        """Bits of one value: ``int8 -> 8``, ``fp16 -> 16``."""
        return _BITS[self]

    @property
    def is_float(self) -> bool:
        """Whether this is a floating-point format."""
        return self in FLOAT_PRECISIONS


FLOAT_PRECISIONS = frozenset({Precision.FP16, Precision.BF16, Precision.FP32})
_BITS = {p: (16 if p != Precision.FP32 else 32) if p in FLOAT_PRECISIONS else int(p.value[3:])
         for p in Precision}


def precision(name: str) -> Precision:
    """The precision called ``name``; an unknown name is a :class:`WorkloadError`."""
    try:
        return Precision(name)
    except ValueError:
        raise WorkloadError(f"unknown precision {name!r} (use int1..int32, fp16, bf16, fp32)"
                            ) from None


def precision_bits(name: str) -> int:
    """Bits of a precision name: ``"int8" -> 8``, ``"fp16" -> 16``."""
    return precision(name).bits


def split_nm(pattern: str) -> tuple[int, int] | None:
    """``"2:4" -> (2, 4)``: the two numbers of an ``N:M`` text (unchecked); None if it is none."""
    n, sep, m = pattern.partition(":")
    if not (sep and n.isascii() and n.isdigit() and m.isascii() and m.isdigit()):
        return None
    return int(n), int(m)


def parse_nm(pattern: str) -> tuple[int, int] | None:
    """``"2:4" -> (2, 4)``; ``None`` for ``"unstructured"`` (or empty) and for anything that is
    not ``N:M`` with ``0 < N < M``."""
    nm = split_nm(pattern)
    return nm if nm is not None and 0 < nm[0] < nm[1] else None


class Mode(StrEnum):
    """How a simulation composes time."""

    ANALYTIC = "analytic"  # closed form per layer, layers summed along the chain
    DES = "des"  # SimPy discrete events: overlap of branches, contention of co-running workloads


class Bound(StrEnum):
    """What limits a layer's time."""

    COMPUTE = "compute"
    MEMORY = "memory"


def pair(v: int | tuple[int, ...] | list[int]) -> tuple[int, int]:
    """``3 -> (3, 3)``, ``[3] -> (3, 3)``, ``(3, 5) -> (3, 5)``: a 2-D kernel/stride/padding."""
    if isinstance(v, int):
        return (v, v)
    t = tuple(int(x) for x in v)
    return (t[0], t[0]) if len(t) == 1 else (t[0], t[1])
