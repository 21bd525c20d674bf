"""One node of the workload IR: a layer with op kind, shapes, precisions and sparsity, and its counts."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from edgesim.errors import WorkloadError
from edgesim.vocab import CONV_OPS, GEMM_OPS, OpKind, Precision, precision

# Vector operations per output element for the non-GEMM ops (compare, add, exp... counted as one).
# Softmax: max, subtract, exp, sum, divide; layer norm: mean, var (2), normalise, scale, shift.
_VECTOR_OPS_PER_OUTPUT = {
    OpKind.ADD: 1, OpKind.MUL: 1, OpKind.RELU: 1, OpKind.ACTIVATION: 4, OpKind.SOFTMAX: 5,
    OpKind.LAYERNORM: 6, OpKind.BATCHNORM: 2, OpKind.UPSAMPLE: 1, OpKind.CONCAT: 0,
    OpKind.EMBEDDING: 0,
}
# Upsampling per output element: nearest copies one input; linear weighs 2 neighbours (2
# multiplies, 1 add), bilinear 4 (4 multiplies, 3 adds), trilinear 8 (8, 7), bicubic 16 (16,
# 15; ONNX's "cubic"); area (adaptive average pooling when enlarging) averages the inputs that
# cover an output, one when upsampling by an integer factor: a copy, as nearest.
CODE_BITS_UNSHARED = "Huffman-coded indices need shared weights (shared_weights > 0)"
_UPSAMPLE_OPS = {"nearest": 1, "nearest-exact": 1, "area": 1, "linear": 3, "bilinear": 7,
                 "trilinear": 15, "bicubic": 31, "cubic": 31}

Shape = tuple[int, ...]
# ``extra`` key of a layer that reads the weights another layer stores (a recurrent step after
# the first): its weights are traffic, not storage, so it counts no parameters.
SHARES_WEIGHTS = "shares_weights"


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
    weight_precision: Precision | None = None  # names are accepted and become Precisions
    act_precision: Precision | None = None
    weight_sparsity: float = 0.0  # fraction of weights that are exactly zero
    act_sparsity: float = 0.0  # expected fraction of zero input activations
    sparsity_pattern: str = "unstructured"  # "unstructured" or "N:M" such as "2:4"
    # Weight sharing (Deep Compression): the distinct nonzero values the weights take (a
    # codebook; 0: not shared), and the mean bits of a stored weight's codebook index once
    # Huffman-coded (0: fixed-width indices). A chip reads them coded only if it decodes them.
    shared_weights: int = 0
    weight_code_bits: float = 0.0
    extra: tuple[tuple[str, str], ...] = ()  # free-form provenance (e.g. ("folded", "bn1"))
    # Positions in ``in_shapes`` past the named inputs that read a fresh model input. A leftover
    # shape otherwise belongs to a named producer of that shape used twice (``add(x, x)``); a
    # part of a model simulated alone names the tensors it reads from outside here.
    fresh_inputs: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.op, OpKind):
            try:
                object.__setattr__(self, "op", OpKind(self.op))
            except ValueError:
                known = ", ".join(o.value for o in OpKind)
                raise WorkloadError(f"unknown op {self.op!r} (known: {known})",
                                    field=f"{self.name}.op") from None
        fresh = tuple(self.fresh_inputs)
        for i in fresh:
            if (isinstance(i, bool) or not isinstance(i, int)
                    or not len(self.inputs) <= i < len(self.in_shapes)):
                raise WorkloadError(f"fresh input {i!r} is not a position past the named inputs "
                                    f"in in_shapes", field=f"{self.name}.fresh_inputs")
        object.__setattr__(self, "fresh_inputs", tuple(sorted(set(fresh))))
        if isinstance(self.shared_weights, bool) or not isinstance(self.shared_weights, int) \
                or self.shared_weights < 0:
            raise WorkloadError(f"expected a count of values >= 0, got {self.shared_weights!r}",
                                field=f"{self.name}.shared_weights")
        code = self.weight_code_bits
        if not (isinstance(code, int | float) and not isinstance(code, bool) and 0 <= code <= 32):
            raise WorkloadError(f"expected mean bits in [0, 32], got {code!r}",
                                field=f"{self.name}.weight_code_bits")
        if code and not self.shared_weights:
            raise WorkloadError(CODE_BITS_UNSHARED, field=f"{self.name}.weight_code_bits")
        for key in ("weight_precision", "act_precision"):
            value = getattr(self, key)
            if value is not None and not isinstance(value, Precision):
                try:
                    object.__setattr__(self, key, precision(value))
                except WorkloadError as exc:
                    raise WorkloadError(exc.detail, field=f"{self.name}.{key}") from None

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
    def weights_from(self) -> str | None:
        """The layer whose stored weights this one reads again, if any (``SHARES_WEIGHTS``)."""
        return next((v for k, v in self.extra if k == SHARES_WEIGHTS), None)

    @property
    def params(self) -> int:
        """Stored parameters: weights plus biases (a folded BatchNorm becomes the bias); none
        for a layer that reads another's weights."""
        if self.weights_from is not None:
            return 0
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
        if self.op in CONV_OPS:
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
        if self.op == OpKind.UPSAMPLE:
            per = _UPSAMPLE_OPS.get(self.variant, per)
        if self.op in (OpKind.ADD, OpKind.MUL):
            per = max(1, len(self.in_shapes) - 1)
        return self.output_elems * per

    def bits(self, native: str) -> tuple[int, int]:
        """(weight bits, activation bits), resolving ``None`` to ``native`` (a precision name)."""
        default = precision(native)
        return ((self.weight_precision or default).bits, (self.act_precision or default).bits)

    def operand_bytes(self, native: str = Precision.INT8) -> dict[str, int]:
        """Dense bytes of each operand (inputs, weights incl. bias, outputs) at the layer's
        precisions, ``None`` resolved to ``native`` (compressed storage: ``compress.storage``)."""
        w_bits, a_bits = self.bits(native)
        return {"inputs": math.ceil(self.input_elems * a_bits / 8),
                "weights": math.ceil(self.params * w_bits / 8),
                "outputs": math.ceil(self.output_elems * a_bits / 8)}


def with_weights(layer: Layer, *, weight_precision: Precision | None = None,
                 act_precision: Precision | None = None, sparsity: float | None = None,
                 pattern: str | None = None) -> Layer:
    """``layer`` with its weights requantized (``weight_precision``, and ``act_precision``) or
    re-pruned (``sparsity``, a
    ``pattern``): a new layer whose shared-weight marks stay true. Weights at ``b`` integer bits
    take at most ``2^b`` values and a layer keeps at most its nonzero weights' count of them, so
    ``shared_weights`` is clamped to both; when that changes the values, their Huffman-coded
    index width (``weight_code_bits``, measured on the old distribution) is dropped."""
    changes: dict[str, object] = {}
    if weight_precision is not None:
        changes["weight_precision"] = weight_precision
    if act_precision is not None:
        changes["act_precision"] = act_precision
    if sparsity is not None:
        changes["weight_sparsity"] = sparsity
    if pattern is not None:
        changes["sparsity_pattern"] = pattern
    out = replace(layer, **changes)  # type: ignore[arg-type]
    if not out.shared_weights:
        return out
    values = out.shared_weights
    w = out.weight_precision
    if w is not None and not w.is_float:
        values = min(values, 2 ** w.bits - (1 if out.weight_sparsity > 0 else 0))
    kept = out.weight_elems - round(out.weight_elems * out.weight_sparsity)
    values = max(1, min(values, kept))
    if values == out.shared_weights:
        return out
    return replace(out, shared_weights=values, weight_code_bits=0.0)


def _hw(shape: Shape) -> tuple[int, int]:
    if len(shape) >= 4:
        return shape[-2], shape[-1]
    if len(shape) == 3:
        return 1, shape[-1]
    return 1, 1


