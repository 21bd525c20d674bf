"""IR builders shared by the torch.fx tracer and the ONNX importer, so the two keep agreeing:
recurrent layers (LSTM, GRU) as their matmuls and elementwise ops per time step, einsum as a
batched matmul, and 3-D convolution and pooling lowered onto their 2-D forms.

A recurrent layer's input projection covers every step at once (its inputs are all known), then
each step multiplies the previous hidden state by the recurrent weights: one ``linear`` per step
that reads the same weights again (stored once: the steps after the first carry
``("shares_weights", <first step>)`` and count no parameters), then the gate arithmetic.
"""

from __future__ import annotations

import math
from typing import Any

from edgesim.errors import WorkloadError
from edgesim.vocab import OpKind
from edgesim.workload.layer import SHARES_WEIGHTS, Layer, Shape

# Gates per recurrent cell: LSTM i, f, g, o; GRU r, z, n.
GATES = {"lstm": 4, "gru": 3}


def _ew(name: str, op: OpKind, inputs: tuple[str, ...], shapes: tuple[Shape, ...],
        out: Shape, variant: str = "", fresh: tuple[int, ...] = ()) -> Layer:
    """An elementwise layer; ``shapes`` are what it reads of each input (a gate's slice of its
    producer), then any fresh state (``fresh``: the zero initial state of the first step)."""
    return Layer(name=name, op=op, inputs=inputs, in_shapes=shapes, out_shape=out,
                 variant=variant, fresh_inputs=fresh)


def _cell_ops(p: str, kind: str, n: int, h: int, ih: str, hh: str,
              prev: str | None) -> list[Layer]:
    """The elementwise work of one step after its two projections (``prev``: the previous
    step's prefix, None for the first); the last layer is h_t."""
    g = GATES[kind] * h
    state = (n, h)
    if kind == "lstm":  # gates -> c = f * c_{t-1} + i * g -> h = o * tanh(c)
        c_prev, fresh = ((f"{prev}.c",), ()) if prev else ((), (1,))
        return [
            _ew(f"{p}.gates", OpKind.ADD, (ih, hh), ((n, g), (n, g)), (n, g)),
            _ew(f"{p}.act", OpKind.ACTIVATION, (f"{p}.gates",), ((n, g),), (n, g), "sigmoid"),
            _ew(f"{p}.fc_ig", OpKind.MUL, (f"{p}.act", *c_prev), ((n, 3 * h), state),
                (n, 2 * h), fresh=fresh),
            _ew(f"{p}.c", OpKind.ADD, (f"{p}.fc_ig",), ((n, 2 * h),), state),
            _ew(f"{p}.tanh_c", OpKind.ACTIVATION, (f"{p}.c",), (state,), state, "tanh"),
            _ew(f"{p}.h", OpKind.MUL, (f"{p}.act", f"{p}.tanh_c"), (state, state), state),
        ]
    h_prev, fresh = ((f"{prev}.h",), ()) if prev else ((), (2,))
    return [  # GRU: r, z = sigmoid(.); n = tanh(ih_n + r * hh_n); h = (1 - z) * n + z * h_{t-1}
        _ew(f"{p}.gates", OpKind.ADD, (ih, hh), ((n, 2 * h), (n, 2 * h)), (n, 2 * h)),
        _ew(f"{p}.act", OpKind.ACTIVATION, (f"{p}.gates",), ((n, 2 * h),), (n, 2 * h),
            "sigmoid"),
        _ew(f"{p}.r_hn", OpKind.MUL, (f"{p}.act", hh), (state, state), state),
        _ew(f"{p}.n_pre", OpKind.ADD, (ih, f"{p}.r_hn"), (state, state), state),
        _ew(f"{p}.n", OpKind.ACTIVATION, (f"{p}.n_pre",), (state,), state, "tanh"),
        _ew(f"{p}.zn_zh", OpKind.MUL, (f"{p}.act", f"{p}.n", *h_prev), (state, state, state),
            (n, 2 * h), fresh=fresh),
        _ew(f"{p}.h", OpKind.ADD, (f"{p}.zn_zh",), ((n, 2 * h),), state),
    ]


def recurrent_layers(name: str, kind: str, src: tuple[str, ...], *, steps: int, batch: int,
                     input_size: int, hidden: int, num_layers: int = 1,
                     bidirectional: bool = False, has_bias: bool = True,
                     h0: tuple[str, ...] = ()) -> list[Layer]:
    """An LSTM or GRU (``kind``) of ``num_layers`` reading ``src``'s (batch, steps, input_size)
    sequence: per layer and direction an input projection over every step, then per step the
    recurrent projection and the gate arithmetic, then the steps' hidden states concatenated
    (and both directions', when bidirectional). The last layer is the output sequence. ``h0``:
    the producer of the initial hidden state, when a layer computes it (else it is zero)."""
    if kind not in GATES:
        raise WorkloadError(f"unknown recurrent cell {kind!r} (known: lstm, gru)")
    n, t_len, h = batch, steps, hidden
    gates = GATES[kind] * h
    dirs = 2 if bidirectional else 1
    in_features = input_size
    layers: list[Layer] = []
    for li in range(num_layers):
        outs = []
        for d in range(dirs):
            p = f"{name}.l{li}" + ("_reverse" if d else "")
            layers.append(Layer(name=f"{p}.ih", op=OpKind.LINEAR, inputs=src,
                                in_shapes=((n, t_len, in_features),),
                                out_shape=(n, t_len, gates), weight_shape=(gates, in_features),
                                has_bias=has_bias))
            prev: str | None = None
            order = range(t_len - 1, -1, -1) if d else range(t_len)
            hs = []
            for t in order:
                q = f"{p}.t{t}"
                extra = ((SHARES_WEIGHTS, f"{p}.t{order[0]}.hh"),) if prev else ()
                first = h0 if li == 0 else ()
                layers.append(Layer(name=f"{q}.hh", op=OpKind.LINEAR,
                                    inputs=(f"{prev}.h",) if prev else first,
                                    in_shapes=((n, h),), out_shape=(n, gates),
                                    weight_shape=(gates, h), has_bias=has_bias, extra=extra))
                layers += _cell_ops(q, kind, n, h, f"{p}.ih", f"{q}.hh", prev)
                prev = q
                hs.append(f"{q}.h")
            if d:
                hs.reverse()
            outs.append(Layer(name=f"{p}.hs", op=OpKind.CONCAT, inputs=tuple(hs),
                              in_shapes=tuple((n, 1, h) for _ in hs), out_shape=(n, t_len, h)))
        layers += outs
        if dirs == 2:
            layers.append(Layer(name=f"{name}.l{li}.out", op=OpKind.CONCAT,
                                inputs=tuple(o.name for o in outs),
                                in_shapes=tuple(o.out_shape for o in outs),
                                out_shape=(n, t_len, 2 * h)))
        src, in_features = (layers[-1].name,), dirs * h
    return layers


def _einsum_letters(eq: str, shapes: tuple[Shape, ...]) -> tuple[list[str], str]:
    """Each operand's index letters and the output's, with ``...`` spelt out as letters."""
    lhs, arrow, rhs = eq.replace(" ", "").partition("->")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise WorkloadError(f"einsum {eq!r} names {len(terms)} operands, got {len(shapes)}")
    used = set(eq)
    spare = iter(c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                 if c not in used)
    ell = ""
    out_terms = []
    for term, shape in zip(terms, shapes, strict=True):
        if "..." in term:
            n = len(shape) - len(term.replace("...", ""))
            if n < 0:
                raise WorkloadError(f"einsum {eq!r}: {term!r} names more dimensions than the "
                                    f"operand's {len(shape)}")
            while len(ell) < n:
                ell = next(spare) + ell
            term = term.replace("...", ell[len(ell) - n:] if n else "")
        if len(term) != len(shape):
            raise WorkloadError(f"einsum {eq!r}: {term!r} does not match an operand of "
                                f"{len(shape)} dimensions")
        out_terms.append(term)
    if arrow:
        rhs = rhs.replace("...", ell)
    else:  # implicit output: the letters used once, in alphabetical order, after the ellipsis
        counts = "".join(out_terms)
        rhs = ell + "".join(sorted(c for c in set(counts) if counts.count(c) == 1 and c not in ell))
    return out_terms, rhs


def einsum_matmul(eq: str, shapes: tuple[Shape, ...]) -> tuple[tuple[Shape, Shape], Shape] | None:
    """An einsum as one batched matmul: ``((batch, M, K), (batch, K, N))`` and its output
    ``(batch, M, N)`` (batch letters in both operands and the output, contracted letters in
    both but not the output); None for a permutation of one operand (a zero-cost view)."""
    terms, out = _einsum_letters(eq, shapes)
    if len(terms) == 1 and sorted(terms[0]) == sorted(out):
        return None
    if len(terms) != 2 or any(len(set(t)) != len(t) for t in terms):
        raise WorkloadError(f"einsum {eq!r} is not supported (one permutation or two operands "
                            f"without repeated letters): split it into pairwise einsums or "
                            f"matmuls")
    a, b = terms
    size: dict[str, int] = {}
    for t, s in zip(terms, shapes, strict=True):
        for c, d in zip(t, s, strict=True):
            size[c] = max(size.get(c, 1), d)  # a size-1 dimension broadcasts
    if any(c not in out and c not in b for c in a) or any(c not in out and c not in a for c in b):
        raise WorkloadError(f"einsum {eq!r} sums a letter of one operand alone: sum it first")
    batch = math.prod(size[c] for c in a if c in b and c in out)
    k = math.prod(size[c] for c in a if c in b and c not in out)
    m = math.prod(size[c] for c in a if c not in b)
    n = math.prod(size[c] for c in b if c not in a)
    return ((batch, m, k), (batch, k, n)), (batch, m, n)


Triple = tuple[int, int, int]


def _out(size: int, k: int, s: int, p: int, d: int) -> int:
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


def conv3d_as_conv2d(x: Shape, weight: Shape, stride: Triple, padding: Triple,
                     dilation: Triple) -> dict[str, Any]:
    """A 3-D convolution as the 2-D one every mapper runs: for each output depth, the ``kd``
    input slices it reads stacked as channels (``C * kd``), so the batch is ``N * D_out`` and
    the weights ``(K, C/g * kd, kh, kw)``. MACs and parameters are the 3-D layer's exactly;
    the input is read once per output depth, as an NPU without a depth loop reads it. Returns
    the layer fields (``in_shapes``, ``out_shape``, ``weight_shape``, ``kernel``, ``stride``,
    ``padding``, ``dilation``)."""
    if len(x) != 5:
        raise WorkloadError(f"a 3-D convolution needs a batched (N, C, D, H, W) input, got "
                            f"{list(x)}")
    n, c, d, h, w = x
    k_out, c_g, kd, kh, kw = weight
    do = _out(d, kd, stride[0], padding[0], dilation[0])
    ho = _out(h, kh, stride[1], padding[1], dilation[1])
    wo = _out(w, kw, stride[2], padding[2], dilation[2])
    if min(do, ho, wo) < 1:
        raise WorkloadError(f"a 3-D convolution of {list(weight)} on {list(x)} has no output")
    return {"in_shapes": ((n * do, c * kd, h, w),), "out_shape": (n * do, k_out, ho, wo),
            "weight_shape": (k_out, c_g * kd, kh, kw), "kernel": (kh, kw),
            "stride": (stride[1], stride[2]), "padding": (padding[1], padding[2]),
            "dilation": (dilation[1], dilation[2])}


def pool3d_as_pool2d(x: Shape, out: Shape, kernel: Triple) -> dict[str, Any]:
    """A 3-D pooling as a 2-D one over (depth x height) rows: the same inputs, outputs and
    operations per output (``kd * kh * kw``)."""
    if len(x) != 5 or len(out) != 5:
        raise WorkloadError(f"a 3-D pooling needs a batched (N, C, D, H, W) input, got {list(x)}")
    n, c, d, h, w = x
    _, _, do, ho, wo = out
    k = (kernel[0] * kernel[1], kernel[2])
    return {"in_shapes": ((n, c, d * h, w),), "out_shape": (n, c, do * ho, wo), "kernel": k,
            "stride": k, "padding": (0, 0)}


__all__ = ["GATES", "conv3d_as_conv2d", "einsum_matmul", "pool3d_as_pool2d",
           "recurrent_layers"]
