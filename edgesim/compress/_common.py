"""Shared helpers of the compression toolkit: weighted-layer discovery and argument checks."""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import nn

from edgesim.errors import CompressError
from edgesim.nn.adder import AdderConv2d

# Modules whose weights the toolkit prunes, quantizes and sizes (subclasses included).
WEIGHTED_TYPES: tuple[type[nn.Module], ...] = (nn.Conv1d, nn.Conv2d, nn.ConvTranspose2d,
                                               nn.Linear, AdderConv2d)


def weighted_layers(model: nn.Module) -> Iterator[tuple[str, nn.Module]]:
    """Yield ``(name, module)`` for every conv / linear / adder layer, in registration order."""
    for name, module in model.named_modules():
        if isinstance(module, WEIGHTED_TYPES) and isinstance(getattr(module, "weight", None),
                                                              torch.Tensor):
            yield name, module


def weight_of(module: nn.Module) -> torch.Tensor:
    """The ``weight`` tensor of a conv / linear / adder layer."""
    weight = module.weight
    assert isinstance(weight, torch.Tensor)
    return weight


def effective_weight(module: nn.Module) -> torch.Tensor:
    """The weight a layer really computes with (fake-quantized for quantized layers)."""
    fn = getattr(module, "effective_weight", None)
    if callable(fn):
        w = fn()
        assert isinstance(w, torch.Tensor)
        return w.detach()
    weight = module.weight
    assert isinstance(weight, torch.Tensor)
    return weight.detach()


def check_model(model: object, field: str = "model") -> nn.Module:
    """Raise :class:`CompressError` unless ``model`` is a torch module."""
    if not isinstance(model, nn.Module):
        raise CompressError(f"expected a torch.nn.Module, got {type(model).__name__}", field=field)
    return model


def check_layer_names(model: nn.Module, names: object, field: str) -> None:
    """Raise :class:`CompressError` naming the first key of ``names`` that is no weighted layer."""
    known = {n for n, _ in weighted_layers(model)}
    for name in names:  # type: ignore[attr-defined]
        if name not in known:
            raise CompressError(f"no conv/linear layer named {name!r} (known: "
                                f"{', '.join(sorted(known)) or 'none'})", field=f"{field}.{name}")


def check_fraction(value: object, field: str, *, allow_one: bool = False) -> float:
    """A float in ``[0, 1)`` (or ``[0, 1]``), else :class:`CompressError`."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CompressError(f"expected a number in [0, 1), got {value!r}", field=field)
    v = float(value)
    ok = 0.0 <= v <= 1.0 if allow_one else 0.0 <= v < 1.0
    if not ok:
        bound = "[0, 1]" if allow_one else "[0, 1)"
        raise CompressError(f"expected a number in {bound}, got {value!r}", field=field)
    return v


def training_flags(model: nn.Module) -> list[bool]:
    """Each submodule's ``training`` flag, in ``modules()`` order."""
    return [m.training for m in model.modules()]


def restore_training_flags(model: nn.Module, flags: list[bool]) -> None:
    """Undo ``model.eval()`` / ``model.train()`` module by module."""
    for mod, flag in zip(model.modules(), flags, strict=True):
        mod.training = flag


def set_submodule(model: nn.Module, name: str, new: nn.Module) -> None:
    """Replace the submodule called ``name`` (dotted path) by ``new``."""
    parent_name, _, attr = name.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    setattr(parent, attr, new)
