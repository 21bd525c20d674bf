"""The workload IR: layers with op kind, shapes, precisions and sparsity, and their counts."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path

from edgesim.errors import WorkloadError


class OpKind(StrEnum):
    """Every op the IR knows. Values are the names used in workload YAML."""

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


GEMM_OPS = frozenset({OpKind.CONV2D, OpKind.CONV1D, OpKind.CONV_TRANSPOSE2D,
                      OpKind.ADDER_CONV2D, OpKind.LINEAR, OpKind.MATMUL})
WEIGHTED_OPS = frozenset({OpKind.CONV2D, OpKind.CONV1D, OpKind.CONV_TRANSPOSE2D,
                          OpKind.ADDER_CONV2D, OpKind.LINEAR})

# Vector operations per output element for the non-GEMM ops (compare, add, exp... counted as one).
# Softmax: max, subtract, exp, sum, divide; layer norm: mean, var (2), normalise, scale, shift.
_VECTOR_OPS_PER_OUTPUT = {
    OpKind.ADD: 1, OpKind.MUL: 1, OpKind.RELU: 1, OpKind.ACTIVATION: 4, OpKind.SOFTMAX: 5,
    OpKind.LAYERNORM: 6, OpKind.BATCHNORM: 2, OpKind.UPSAMPLE: 1, OpKind.CONCAT: 0,
}

INT_PRECISIONS = {f"int{b}": b for b in (1, 2, 3, 4, 5, 6, 7, 8, 16, 32)} | {
    f"int{b}": b for b in range(9, 16)}
FLOAT_PRECISIONS = {"fp16": 16, "bf16": 16, "fp32": 32}


def precision_bits(precision: str) -> int:
    """Bits of a precision name: ``"int8" -> 8``, ``"fp16" -> 16``."""
    if precision in FLOAT_PRECISIONS:
        return FLOAT_PRECISIONS[precision]
    if precision in INT_PRECISIONS:
        return INT_PRECISIONS[precision]
    raise WorkloadError(f"unknown precision {precision!r} (use int1..int32, fp16, bf16, fp32)")


def is_float(precision: str) -> bool:
    """Whether a precision is a floating-point format."""
    return precision in FLOAT_PRECISIONS


Shape = tuple[int, ...]


@dataclass(frozen=True)
class Layer:
    """One node of the workload graph. Shapes include the batch dimension (NCHW, NL, ...).

    ``weight_precision`` / ``act_precision`` of ``None`` mean "the unit's native precision"
    (the first precision the compute unit lists), i.e. the model is deployed as the chip runs it.
    """

    name: str
    op: OpKind
    inputs: tuple[str, ...]  # producing layers; () reads a fresh model input
    in_shapes: tuple[Shape, ...]  # one per input tensor (a model input counts as one)
    out_shape: Shape
    kernel: tuple[int, int] = (1, 1)
    stride: tuple[int, int] = (1, 1)
    padding: tuple[int, int] = (0, 0)
    dilation: tuple[int, int] = (1, 1)
    groups: int = 1
    weight_shape: Shape = ()  # conv: (K, C/g, R, S); linear: (out, in); () when no weights
    has_bias: bool = False
    variant: str = ""  # pool "max"/"avg", activation function, upsample mode
    weight_precision: str | None = None
    act_precision: str | None = None
    weight_sparsity: float = 0.0  # fraction of weights that are exactly zero
    act_sparsity: float = 0.0  # expected fraction of zero input activations
    sparsity_pattern: str = "unstructured"  # "unstructured" or "N:M" such as "2:4"
    extra: tuple[tuple[str, str], ...] = ()  # free-form provenance (e.g. ("folded", "bn1"))

    # ---- shapes -------------------------------------------------------------------------
    @property
    def batch(self) -> int:
        return self.out_shape[0] if self.out_shape else 1

    @property
    def in_channels(self) -> int:
        return self.in_shapes[0][1] if self.in_shapes and len(self.in_shapes[0]) > 1 else 1

    @property
    def out_channels(self) -> int:
        return self.out_shape[1] if len(self.out_shape) > 1 else 1

    @property
    def in_hw(self) -> tuple[int, int]:
        return _hw(self.in_shapes[0]) if self.in_shapes else (1, 1)

    @property
    def out_hw(self) -> tuple[int, int]:
        return _hw(self.out_shape)

    @property
    def input_elems(self) -> int:
        return sum(math.prod(s) for s in self.in_shapes)

    @property
    def output_elems(self) -> int:
        return math.prod(self.out_shape)

    @property
    def weight_elems(self) -> int:
        return math.prod(self.weight_shape) if self.weight_shape else 0

    @property
    def bias_elems(self) -> int:
        return self.out_channels_for_bias if self.has_bias else 0

    @property
    def out_channels_for_bias(self) -> int:
        if self.op == OpKind.LINEAR:
            return self.weight_shape[0]
        if self.op == OpKind.CONV_TRANSPOSE2D:
            return self.weight_shape[1] * self.groups
        return self.weight_shape[0] if self.weight_shape else 0

    @property
    def params(self) -> int:
        """Stored parameters: weights plus biases (a folded BatchNorm becomes the bias)."""
        return self.weight_elems + self.bias_elems

    # ---- work ---------------------------------------------------------------------------
    def gemm(self) -> tuple[int, int, int, int] | None:
        """The layer as ``groups`` independent GEMMs ``(groups, M, N, K)``: out[M,N] += a[M,K] b[K,N].

        Conv: M = batch * output pixels, N = filters per group, K = (C/g) * R * S (im2col; this is
        how SCALE-Sim maps a conv). Transposed conv: lowered as a stride-1 conv over the
        zero-inserted input (how an NPU without a deconvolution path runs it, and how profilers
        count it: GAN Compression's 56.8G MACs for CycleGAN), M = batch * output pixels,
        N = K_out/g, K = (C_in/g) * R * S; a fraction ``1 - 1/(sh*sw)`` of those MACs multiply
        inserted zeros (see ``inserted_zero_fraction``). ``None`` for ops that are not GEMMs.
        """
        if self.op in (OpKind.CONV2D, OpKind.CONV1D, OpKind.ADDER_CONV2D):
            oh, ow = self.out_hw
            k_out, c_per_g, r, s = self.weight_shape
            g = self.groups
            return g, self.batch * oh * ow, k_out // g, c_per_g * r * s
        if self.op == OpKind.CONV_TRANSPOSE2D:
            oh, ow = self.out_hw
            c_in, k_per_g, r, s = self.weight_shape
            g = self.groups
            return g, self.batch * oh * ow, k_per_g, (c_in // g) * r * s
        if self.op == OpKind.LINEAR:
            out_f, in_f = self.weight_shape
            tokens = self.output_elems // out_f
            return 1, tokens, out_f, in_f
        if self.op == OpKind.MATMUL:
            a, b = self.in_shapes[0], self.in_shapes[1]
            m, k = a[-2], a[-1]
            n = b[-1]
            batch = math.prod(self.out_shape[:-2]) if len(self.out_shape) > 2 else 1
            return batch, m, n, k
        return None

    @property
    def inserted_zero_fraction(self) -> float:
        """Fraction of a transposed conv's lowered MACs that multiply inserted zeros (else 0)."""
        if self.op != OpKind.CONV_TRANSPOSE2D:
            return 0.0
        return 1.0 - 1.0 / (self.stride[0] * self.stride[1])

    @property
    def macs(self) -> int:
        """Multiply-accumulates (dense, before any zero skipping). 0 for adder layers."""
        if self.op == OpKind.ADDER_CONV2D:
            return 0
        g = self.gemm()
        return g[0] * g[1] * g[2] * g[3] if g else 0

    @property
    def adds(self) -> int:
        """|x - w| accumulates of an adder layer (AdderNet); 0 otherwise."""
        if self.op != OpKind.ADDER_CONV2D:
            return 0
        g = self.gemm()
        assert g is not None
        return g[0] * g[1] * g[2] * g[3]

    @property
    def vector_ops(self) -> int:
        """Elementwise / reduction operations of non-GEMM ops (compare, add, exp ...)."""
        if self.op in GEMM_OPS:
            return 0
        if self.op == OpKind.POOL2D:
            return self.output_elems * self.kernel[0] * self.kernel[1]
        per = _VECTOR_OPS_PER_OUTPUT[self.op]
        if self.op in (OpKind.ADD, OpKind.MUL):
            per = max(1, len(self.in_shapes) - 1)
        return self.output_elems * per

    def bits(self, native: str) -> tuple[int, int]:
        """(weight bits, activation bits), resolving ``None`` to ``native``."""
        return (precision_bits(self.weight_precision or native),
                precision_bits(self.act_precision or native))

    def operand_bytes(self, native: str = "int8") -> dict[str, int]:
        """Dense bytes of each operand (inputs, weights incl. bias, outputs) at the layer's
        precisions, ``None`` resolved to ``native`` (compressed storage: ``compress.storage``)."""
        w_bits, a_bits = self.bits(native)
        return {"inputs": math.ceil(self.input_elems * a_bits / 8),
                "weights": math.ceil(self.params * w_bits / 8),
                "outputs": math.ceil(self.output_elems * a_bits / 8)}

    def with_(self, **changes: object) -> Layer:
        """A copy with some fields changed (layers are immutable)."""
        return replace(self, **changes)  # type: ignore[arg-type]


def _hw(shape: Shape) -> tuple[int, int]:
    if len(shape) >= 4:
        return shape[-2], shape[-1]
    if len(shape) == 3:
        return 1, shape[-1]
    return 1, 1


@dataclass(frozen=True)
class Workload:
    """A DAG of layers in execution (topological) order."""

    name: str
    layers: tuple[Layer, ...]
    batch: int = 1
    source: str = ""  # where it came from: "zoo", a file path, "torch.fx"
    _index: dict[str, int] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not self.layers:
            raise WorkloadError("a workload needs at least one layer", file=self.source or None,
                                field="layers")
        index: dict[str, int] = {}
        for i, layer in enumerate(self.layers):
            if layer.name in index:
                raise WorkloadError(f"duplicate layer name {layer.name!r}",
                                    file=self.source or None, field=f"layers[{i}].name")
            for src in layer.inputs:
                if src not in index:
                    raise WorkloadError(
                        f"unknown input layer {src!r} (inputs must name earlier layers)",
                        file=self.source or None, field=f"layers[{i}].inputs")
            index[layer.name] = i
        object.__setattr__(self, "_index", index)

    def __iter__(self) -> Iterator[Layer]:
        return iter(self.layers)

    def __len__(self) -> int:
        return len(self.layers)

    def layer(self, name: str) -> Layer:
        try:
            return self.layers[self._index[name]]
        except KeyError:
            raise WorkloadError(f"no layer named {name!r} in workload {self.name!r}") from None

    def index_of(self, name: str) -> int:
        return self._index[name]

    def consumers(self, name: str) -> list[str]:
        return [lay.name for lay in self.layers if name in lay.inputs]

    @property
    def macs(self) -> int:
        return sum(lay.macs for lay in self.layers)

    @property
    def adds(self) -> int:
        return sum(lay.adds for lay in self.layers)

    @property
    def params(self) -> int:
        return sum(lay.params for lay in self.layers)

    def weight_bytes(self, native: str = "int8") -> int:
        """Dense weight storage in bytes with unspecified precisions resolved to ``native``."""
        total_bits = sum(lay.params * lay.bits(native)[0] for lay in self.layers)
        return math.ceil(total_bits / 8)

    def with_layers(self, layers: Sequence[Layer]) -> Workload:
        return Workload(self.name, tuple(layers), self.batch, self.source)

    def with_batch(self, batch: int) -> Workload:
        """The same graph at another batch size (dimension 0 of every tensor is the batch)."""
        if batch < 1:
            raise WorkloadError(f"batch must be a positive integer, got {batch}", field="batch")
        if batch == self.batch:
            return self

        def rescale(shape: Shape) -> Shape:
            if not shape:
                return shape
            if shape[0] % self.batch:
                raise WorkloadError(f"shape {shape} does not carry batch {self.batch} in dim 0")
            return (shape[0] // self.batch * batch, *shape[1:])

        layers = [lay.with_(in_shapes=tuple(rescale(s) for s in lay.in_shapes),
                            out_shape=rescale(lay.out_shape)) for lay in self.layers]
        return Workload(self.name, tuple(layers), batch, self.source)

    def to_yaml(self, path: str | Path, form: str = "layers") -> None:
        """Write the layer-list (``form="layers"``) or graph YAML that ``load_workload`` reads."""
        from edgesim.workload.yaml_io import write_workload_yaml

        write_workload_yaml(self, Path(path), form=form)


# ---- helpers shared by the ways in (torch.fx trace, ONNX import) -----------------------------
_FOLDABLE = frozenset({OpKind.CONV2D, OpKind.CONV1D, OpKind.CONV_TRANSPOSE2D, OpKind.LINEAR})


def fold_batchnorm(layers: Sequence[Layer], outputs: frozenset[str] = frozenset()) -> list[Layer]:
    """Fold each BatchNorm into the conv/linear producing it when it is that op's only consumer.

    The producer gains a bias (``has_bias``) and an ``("folded", bn_name)`` provenance entry;
    consumers of the BatchNorm read the producer instead. ``outputs`` names layers that are
    model outputs (never folded away). Adder convs keep their BatchNorm (a scale cannot fold
    into ``|x - w|``).
    """
    consumers: dict[str, list[str]] = {}
    for lay in layers:
        for src in lay.inputs:
            consumers.setdefault(src, []).append(lay.name)
    by_name = {lay.name: lay for lay in layers}
    rename: dict[str, str] = {}
    folded: dict[str, Layer] = {}
    for lay in layers:
        if lay.op != OpKind.BATCHNORM or len(lay.inputs) != 1 or len(lay.in_shapes) != 1:
            continue
        prod = by_name[lay.inputs[0]]
        if (prod.op in _FOLDABLE and consumers.get(prod.name) == [lay.name]
                and prod.name not in outputs and prod.out_shape == lay.in_shapes[0]):
            folded[prod.name] = prod.with_(has_bias=True,
                                           extra=(*prod.extra, ("folded", lay.name)))
            rename[lay.name] = prod.name
    out: list[Layer] = []
    for lay in layers:
        if lay.name in rename:
            continue
        lay = folded.get(lay.name, lay)
        if any(s in rename for s in lay.inputs):
            lay = lay.with_(inputs=tuple(dict.fromkeys(rename.get(s, s) for s in lay.inputs)))
        out.append(lay)
    return out


_PATTERN_GROUPS = (4, 8)


def measure_sparsity(weight: object) -> tuple[float, str]:
    """Fraction of exactly-zero weights and their pattern (``"N:M"`` or ``"unstructured"``).

    ``weight`` is array-like with the output dimension first. ``"N:M"`` is reported when every
    group of M consecutive weights along the reduction dimension holds at most N nonzeros, with
    N <= M/2, in the natural (K, C*R*S) layout or the channels-last (K, R*S*C) layout of a conv;
    the tightest such pattern wins (M tried in 4, 8).
    """
    import numpy as np

    w = np.asarray(weight)
    total = int(w.size)
    zeros = int(np.count_nonzero(w == 0))
    if total == 0 or zeros == 0:
        return 0.0, "unstructured"
    rows = w.shape[0]
    layouts = [w.reshape(rows, -1)]
    if w.ndim == 4:
        layouts.append(np.transpose(w, (0, 2, 3, 1)).reshape(rows, -1))
    best: tuple[float, str] | None = None
    for lay in layouts:
        cols = lay.shape[1]
        for m in _PATTERN_GROUPS:
            if cols % m:
                continue
            n = int(np.count_nonzero(lay.reshape(rows, cols // m, m), axis=-1).max())
            if 0 < n <= m // 2 and (best is None or n / m < best[0]):
                best = (n / m, f"{n}:{m}")
            if 0 < n <= m // 2:
                break
    return zeros / total, best[1] if best else "unstructured"
