"""prune_unstructured: exact fractions, deterministic ties, N:M along the input dimension."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from edgesim.compress import prune_unstructured, zero_fraction
from edgesim.errors import CompressError
from tests.compress.conftest import assert_same_state, state_copy


def _weights(model: nn.Module) -> list[torch.Tensor]:
    return [m.weight.detach() for m in model.modules() if isinstance(m, nn.Conv2d | nn.Linear)]


@pytest.mark.parametrize("amount", [0.0, 0.3, 0.5, 0.9, 0.95])
def test_global_fraction_is_exact(resnet_like: tuple[nn.Module, torch.Tensor],
                                  amount: float) -> None:
    model, x = resnet_like
    before = state_copy(model)
    pruned = prune_unstructured(model, amount=amount, scope="global")
    assert_same_state(model, before)
    total = sum(w.numel() for w in _weights(model))
    zeros = sum(int((w == 0).sum()) for w in _weights(pruned))
    assert zeros == round(amount * total)
    assert pruned(x).shape == model(x).shape
    # the survivors are the largest magnitudes: every kept |w| >= every pruned |w|
    kept = torch.cat([w[w != 0].abs() for w in _weights(pruned)])
    removed = torch.cat([o[p == 0].abs() for o, p in zip(_weights(model), _weights(pruned),
                                                         strict=True)])
    if amount > 0:
        assert float(kept.min()) >= float(removed.max())


def test_layer_scope_and_per_layer_amounts(resnet_like: tuple[nn.Module, torch.Tensor]) -> None:
    model, _ = resnet_like
    pruned = prune_unstructured(model, amount=0.7)  # per layer by default
    for w in _weights(pruned):
        assert int((w == 0).sum()) == round(0.7 * w.numel())
    partial = prune_unstructured(model, layers={"c2": 0.5, "fc1": 0.25})
    assert int((partial.c2.weight == 0).sum()) == round(0.5 * partial.c2.weight.numel())
    assert int((partial.fc1.weight == 0).sum()) == round(0.25 * partial.fc1.weight.numel())
    assert torch.equal(partial.c1.weight, model.c1.weight)
    assert partial.c2.sparsity_pattern == "unstructured"
    only = prune_unstructured(model, amount=0.5, layers=["c3"])
    assert int((only.c3.weight == 0).sum()) == round(0.5 * only.c3.weight.numel())
    assert torch.equal(only.fc1.weight, model.fc1.weight)


def test_ties_broken_by_position() -> None:
    lin = nn.Linear(6, 1, bias=False)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[1.0, -1.0, 1.0, 2.0, -1.0, 3.0]]))
    pruned = prune_unstructured(lin, amount=0.5, scope="global")
    # four weights tie at |1|; the three lowest positions go
    assert pruned.weight.tolist() == [[0.0, 0.0, 0.0, 2.0, -1.0, 3.0]]


@pytest.mark.parametrize(("pattern", "n", "m"), [("2:4", 2, 4), ("1:4", 1, 4), ("3:8", 3, 8)])
def test_n_m_pattern_along_input_dim(resnet_like: tuple[nn.Module, torch.Tensor], pattern: str,
                                     n: int, m: int) -> None:
    model, x = resnet_like
    pruned = prune_unstructured(model, pattern=pattern)
    for mod_before, mod in zip(_weights(model), _weights(pruned), strict=True):
        rows = mod.reshape(mod.shape[0], -1)  # (K, C/g*R*S)
        j = rows.shape[1]
        full = j // m * m
        groups = rows[:, :full].reshape(rows.shape[0], -1, m)
        assert bool(((groups != 0).sum(-1) <= n).all())
        # and exactly N kept per group (random weights have no zeros to begin with)
        assert bool(((groups != 0).sum(-1) == n).all())
        # the kept ones are the group's largest
        orig = mod_before.detach().reshape(mod.shape[0], -1)[:, :full].reshape(groups.shape)
        kept_min = torch.where(groups != 0, orig.abs(), torch.inf).amin(-1)
        dropped_max = torch.where(groups == 0, orig.abs(), -torch.inf).amax(-1)
        assert bool((kept_min >= dropped_max).all())
        if j > full:
            assert bool(((rows[:, full:] != 0).sum(-1) <= n).all())
    assert pruned.c2.sparsity_pattern == pattern
    assert zero_fraction(pruned) == pytest.approx(1 - n / m, abs=0.05)
    assert pruned(x).shape == (2, 5)


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"amount": 1.5}, "amount"), ({"amount": -0.1}, "amount"), ({"pattern": "4:2"}, "pattern"),
    ({"pattern": "block"}, "pattern"), ({"scope": "net"}, "scope"),
    ({"layers": {"nope": 0.5}}, "layers.nope"), ({"layers": {"c1": 2.0}}, "layers.c1"),
])
def test_bad_arguments(resnet_like: tuple[nn.Module, torch.Tensor], kwargs: dict,
                       field: str) -> None:
    model, _ = resnet_like
    with pytest.raises(CompressError) as info:
        prune_unstructured(model, **kwargs)
    assert info.value.field == field
