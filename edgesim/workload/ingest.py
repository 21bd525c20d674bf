"""Helpers shared by the ways into the IR (torch.fx trace, ONNX import): BatchNorm folding, sparsity."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

from edgesim.vocab import OpKind
from edgesim.workload.layer import Layer

_FOLDABLE = frozenset({OpKind.CONV2D, OpKind.CONV1D, OpKind.CONV_TRANSPOSE2D, OpKind.LINEAR})


def _same_tensor(prod: Layer, bn_in: tuple[int, ...]) -> bool:
    """Whether a BatchNorm reads its producer's output channel by channel: the same shape, or
    a lowered 3-D convolution's (N*D, K, H, W) output read as (N, K, D, H, W)."""
    out = prod.out_shape
    if out == bn_in:
        return True
    return (len(bn_in) == 5 and len(out) == 4 and bn_in[1] == out[1]
            and math.prod(bn_in) == math.prod(out))


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
                and prod.name not in outputs and _same_tensor(prod, lay.in_shapes[0])):
            folded[prod.name] = replace(prod, has_bias=True,
                                        extra=(*prod.extra, ("folded", lay.name)))
            rename[lay.name] = prod.name
    out: list[Layer] = []
    for lay in layers:
        if lay.name in rename:
            continue
        lay = folded.get(lay.name, lay)
        if any(s in rename for s in lay.inputs):
            lay = replace(lay, inputs=tuple(dict.fromkeys(rename.get(s, s) for s in lay.inputs)))
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
