"""Unstructured and N:M magnitude pruning to exact fractions (zeros left in the weights)."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence

import torch
from torch import nn

from edgesim.compress._common import (
    check_fraction,
    check_layer_names,
    check_model,
    weight_of,
    weighted_layers,
)
from edgesim.errors import CompressError
from edgesim.vocab import split_nm


def parse_pattern(pattern: object) -> tuple[int, int] | None:
    """``"unstructured"`` -> None; ``"2:4"`` -> (2, 4); anything else -> CompressError."""
    if pattern == "unstructured":
        return None
    nm = split_nm(pattern) if isinstance(pattern, str) else None
    if nm is None:
        raise CompressError(f"expected 'unstructured' or 'N:M' such as '2:4', got {pattern!r}",
                            field="pattern")
    n, mm = nm
    if not 1 <= n < mm:
        raise CompressError(f"N:M needs 1 <= N < M, got {pattern!r}", field="pattern")
    return n, mm


def input_major(weight: torch.Tensor) -> torch.Tensor:
    """The weight as ``(out, in)`` rows: conv ``(K, C/g*R*S)``, linear ``(out, in)``."""
    return weight.reshape(weight.shape[0], -1)


def smallest_k_mask(values: torch.Tensor, k: int) -> torch.Tensor:
    """Boolean mask of the ``k`` smallest entries of a 1-D tensor; ties go to the lower index."""
    mask = torch.zeros(values.numel(), dtype=torch.bool)
    if k > 0:
        order = torch.sort(values.double(), stable=True).indices
        mask[order[:k]] = True
    return mask


def nm_mask(weight: torch.Tensor, n: int, m: int) -> torch.Tensor:
    """Mask of the weights to zero so that every M consecutive inputs keep their N largest.

    Groups run along the flattened input dimension of each output row; a trailing partial group
    of ``r < M`` weights keeps ``min(N, r)``. Ties go to the lower index.
    """
    rows = input_major(weight.detach().abs().double())
    k_out, j = rows.shape
    mask = torch.zeros_like(rows, dtype=torch.bool)
    full = (j // m) * m
    if full:
        grp = rows[:, :full].reshape(k_out, full // m, m)
        # rank by descending magnitude, stable on index: negate and sort ascending
        order = torch.sort(-grp, dim=2, stable=True).indices
        drop = torch.zeros_like(grp, dtype=torch.bool)
        drop.scatter_(2, order[:, :, n:], True)
        mask[:, :full] = drop.reshape(k_out, full)
    if j > full and j - full > n:
        tail = rows[:, full:]
        order = torch.sort(-tail, dim=1, stable=True).indices
        drop = torch.zeros_like(tail, dtype=torch.bool)
        drop.scatter_(1, order[:, n:], True)
        mask[:, full:] = drop
    return mask.reshape(weight.shape)


def prune_unstructured(model: nn.Module, amount: float = 0.9, pattern: str = "unstructured",
                       scope: str = "layer",
                       layers: Mapping[str, float] | Sequence[str] | None = None) -> nn.Module:
    """Magnitude pruning: set the smallest weights to exactly zero (a new model is returned).

    Args:
        model: any module; conv, linear and adder layers (and their quantized subclasses) are
            pruned, biases never.
        amount: fraction of weights to zero, in ``[0, 1]``. Exactly ``round(amount * n)`` weights
            are zeroed over the scope (``n`` = weights in the scope); magnitude ties are broken
            by position (layer order, then flat index). Ignored for ``N:M`` patterns, whose
            fraction is ``1 - N/M``.
        pattern: ``"unstructured"`` or ``"N:M"`` (e.g. ``"2:4"``, ``"1:4"``): at most N
            nonzeros in every M consecutive weights along the input dimension (``C/g*R*S`` of a
            conv filter, ``in_features`` of a linear row).
        scope: ``"layer"`` (default, as Deep Compression's per-layer thresholds) zeros
            ``amount`` of each layer; ``"global"`` ranks all weights of the selected layers
            together (on an untrained model whose init scale shrinks with fan-in this can
            empty whole layers, which ``es.trace`` then refuses).
        layers: ``None`` (all layers), a list of layer names to restrict to, or
            ``{name: amount}`` for per-layer amounts (then ``scope`` is ``"layer"``).

    Each pruned layer gets a ``sparsity_pattern`` attribute (``"unstructured"`` or ``"N:M"``).
    """
    check_model(model)
    nm = parse_pattern(pattern)
    if scope not in ("global", "layer"):
        raise CompressError(f"expected 'global' or 'layer', got {scope!r}", field="scope")
    per_layer: dict[str, float] | None = None
    selected: list[str] | None = None
    if layers is None:
        pass
    elif isinstance(layers, Mapping):
        check_layer_names(model, layers.keys(), "layers")
        per_layer = {k: check_fraction(v, f"layers.{k}", allow_one=True)
                     for k, v in layers.items()}
    elif isinstance(layers, Sequence) and not isinstance(layers, str):
        check_layer_names(model, layers, "layers")
        selected = list(layers)
    else:
        raise CompressError(f"expected None, a list of layer names or {{name: amount}}, "
                            f"got {layers!r}", field="layers")
    frac = check_fraction(amount, "amount", allow_one=True)

    out = copy.deepcopy(model)
    targets = [(name, mod) for name, mod in weighted_layers(out)
               if (per_layer is None and selected is None)
               or (per_layer is not None and name in per_layer)
               or (selected is not None and name in selected)]
    with torch.no_grad():
        if nm is not None:
            for _name, mod in targets:
                w = weight_of(mod)
                w[nm_mask(w, *nm)] = 0.0
                setattr(mod, "sparsity_pattern", f"{nm[0]}:{nm[1]}")  # noqa: B010  (hint)
            return out
        if per_layer is not None or scope == "layer":
            for name, mod in targets:
                layer_frac = per_layer[name] if per_layer is not None else frac
                w = weight_of(mod)
                mask = smallest_k_mask(w.detach().abs().flatten(), round(layer_frac * w.numel()))
                w.view(-1)[mask] = 0.0
                setattr(mod, "sparsity_pattern", "unstructured")  # noqa: B010
            return out
        weights = [weight_of(mod) for _, mod in targets]
        flat = torch.cat([w.detach().abs().flatten().double() for w in weights]) if weights \
            else torch.zeros(0)
        mask = smallest_k_mask(flat, round(frac * flat.numel()))
        start = 0
        for (_name, mod), w in zip(targets, weights, strict=True):
            w.view(-1)[mask[start:start + w.numel()]] = 0.0
            start += w.numel()
            setattr(mod, "sparsity_pattern", "unstructured")  # noqa: B010
    return out


def zero_fraction(model: nn.Module) -> float:
    """Fraction of conv/linear weights that are exactly zero."""
    zeros = total = 0
    for _, mod in weighted_layers(model):
        w = weight_of(mod)
        zeros += int((w == 0).sum())
        total += w.numel()
    return zeros / total if total else 0.0
