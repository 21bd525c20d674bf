"""AdderNet as a transform: ``to_addernet`` (conv -> AdderConv2d) and the paper's adaptive
learning-rate scale for training adder layers."""

from __future__ import annotations

import copy
import math

from torch import nn

from edgesim.compress._common import check_model, set_submodule, weighted_layers
from edgesim.errors import CompressError
from edgesim.nn.adder import AdderConv2d
from edgesim.nn.quant import QuantAdderConv2d


def adder_lr_scale(model: nn.Module, eta: float = 0.1) -> None:
    """Apply AdderNet's adaptive learning-rate scale to every adder layer's weight gradient.

    Multiplies ``weight.grad`` of each :class:`AdderConv2d` in place by
    ``eta * sqrt(k) / ||grad||_2`` with ``k`` the number of weights of the layer (paper eq. 13).
    Call between ``loss.backward()`` and ``optimizer.step()``.
    """
    for module in model.modules():
        if isinstance(module, AdderConv2d) and module.weight.grad is not None:
            grad = module.weight.grad
            norm = float(grad.norm(p=2))
            if norm > 0.0:
                grad.mul_(eta * math.sqrt(grad.numel()) / norm)


def to_addernet(model: nn.Module, keep_first_last: bool = True) -> nn.Module:
    """Replace ``nn.Conv2d`` layers by :class:`AdderConv2d` with the same shapes and weights.

    Args:
        model: the model (not modified).
        keep_first_last: keep the first conv (in registration order) multiplicative, and the
            last conv too when it is the model's final weighted layer (linear layers always stay
            multiplicative), as AdderNet does.

    Quantized convs (``QuantConv2d``) become ``QuantAdderConv2d`` with the same precisions.
    """
    check_model(model)
    if not isinstance(keep_first_last, bool):
        raise CompressError(f"expected true or false, got {keep_first_last!r}",
                            field="keep_first_last")
    out = copy.deepcopy(model)
    layers = list(weighted_layers(out))
    convs = [name for name, mod in layers if isinstance(mod, nn.Conv2d)]
    keep: set[str] = set()
    if keep_first_last and convs:
        keep.add(convs[0])
        if layers and layers[-1][0] == convs[-1]:
            keep.add(convs[-1])
    for name, mod in layers:
        if not isinstance(mod, nn.Conv2d) or name in keep:
            continue
        if mod.padding_mode != "zeros":
            raise CompressError(f"padding_mode {mod.padding_mode!r} is not supported by adder "
                                f"layers (zeros only)", field=f"model.{name}")
        try:
            adder = AdderConv2d.from_conv(mod)
        except ValueError as exc:
            raise CompressError(str(exc), field=f"model.{name}") from exc
        precision = getattr(mod, "weight_quant", None), getattr(mod, "act_quant", None)
        if precision[0] is not None and precision[1] is not None:
            adder.__class__ = QuantAdderConv2d
            assert isinstance(adder, QuantAdderConv2d)
            adder._configure(precision[0], precision[1])
        adder.train(mod.training)
        set_submodule(out, name, adder)
    return out
