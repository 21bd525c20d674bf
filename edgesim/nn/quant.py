"""Fake-quantized layers (torch modules that really run): conv, linear and adder, with STE gradients."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from edgesim.nn.adder import AdderConv2d
from edgesim.vocab import precision_bits


@dataclass(frozen=True)
class QuantConfig:
    """How one tensor is quantized: precision name and integer scheme."""

    precision: str  # "int1".."int16", "fp16", "bf16", "fp32" (= left in float32)
    symmetric: bool = True
    per_channel: bool = True

    @property
    def bits(self) -> int:
        return precision_bits(self.precision)


def _ste(x: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """Straight-through estimator: value of ``q``, gradient of ``x``."""
    return x + (q - x).detach()


def _reduce_dims(x: torch.Tensor, keep: int | None) -> tuple[int, ...]:
    return tuple(d for d in range(x.dim()) if d != keep) if keep is not None \
        else tuple(range(x.dim()))


def fake_quant_weight(w: torch.Tensor, cfg: QuantConfig) -> torch.Tensor:
    """Quantize-dequantize a weight tensor (output channels on dim 0).

    * ``int1`` (binary, XNOR-Net): ``sign(w) * mean|w|`` (per channel or per tensor).
    * ``int2`` symmetric (ternary, TWN): threshold ``0.7 * mean|w|``, scale = mean of the
      magnitudes above it.
    * other ``intB``: uniform; symmetric uses ``[-(2^(B-1)-1), 2^(B-1)-1] * max|w| / qmax``,
      asymmetric uses ``2^B`` levels over ``[min, max]`` with an integer zero point.
    * ``fp16`` / ``bf16``: rounded to that format; ``fp32``: unchanged.
    """
    p = cfg.precision
    if p == "fp32":
        return w
    if p in ("fp16", "bf16"):
        return _ste(w, w.to(torch.float16 if p == "fp16" else torch.bfloat16).to(w.dtype))
    keep = 0 if cfg.per_channel and w.dim() > 1 else None
    dims = _reduce_dims(w, keep)
    bits = cfg.bits
    a = w.detach().abs()
    if bits == 1:
        alpha = a.mean(dim=dims, keepdim=True)
        sign = torch.where(w.detach() >= 0, 1.0, -1.0).to(w.dtype)
        return _ste(w, sign * alpha)
    if bits == 2 and cfg.symmetric:
        delta = 0.7 * a.mean(dim=dims, keepdim=True)
        big = (a > delta).to(w.dtype)
        alpha = (a * big).sum(dim=dims, keepdim=True) / big.sum(dim=dims, keepdim=True).clamp_min(1)
        return _ste(w, torch.sign(w.detach()) * big * alpha)
    return _ste(w, _uniform(w.detach(), bits, cfg.symmetric, dims, unsigned=False))


def _uniform(x: torch.Tensor, bits: int, symmetric: bool, dims: tuple[int, ...],
             unsigned: bool) -> torch.Tensor:
    """Uniform quantize-dequantize of ``x``, ranges reduced over ``dims``."""
    tiny = torch.finfo(x.dtype).tiny
    if unsigned:
        qmax = 2 ** bits - 1
        scale = (x.amax(dim=dims, keepdim=True) / qmax).clamp_min(tiny)
        return torch.clamp(torch.round(x / scale), 0, qmax) * scale
    if symmetric:
        qmax = 2 ** (bits - 1) - 1
        scale = (x.abs().amax(dim=dims, keepdim=True) / qmax).clamp_min(tiny)
        return torch.clamp(torch.round(x / scale), -qmax, qmax) * scale
    lo = x.amin(dim=dims, keepdim=True).clamp_max(0.0)
    hi = x.amax(dim=dims, keepdim=True).clamp_min(0.0)
    levels = 2 ** bits - 1
    scale = ((hi - lo) / levels).clamp_min(tiny)
    zero = torch.round(-lo / scale)
    return (torch.clamp(torch.round(x / scale) + zero, 0, levels) - zero) * scale


def fake_quant_act(x: torch.Tensor, cfg: QuantConfig) -> torch.Tensor:
    """Quantize-dequantize an activation with a dynamic range per sample (dim 0).

    A sample with no negative value uses the unsigned range ``[0, 2^B - 1]`` (as after a ReLU);
    otherwise the signed symmetric or asymmetric range. ``int1`` is ``sign(x) * mean|x|``.
    Per-sample ranges keep the result independent of how samples are batched.
    """
    p = cfg.precision
    if p == "fp32":
        return x
    if p in ("fp16", "bf16"):
        return _ste(x, x.to(torch.float16 if p == "fp16" else torch.bfloat16).to(x.dtype))
    dims = _reduce_dims(x, 0) if x.dim() > 1 else tuple(range(x.dim()))
    xd = x.detach()
    if cfg.bits == 1:
        alpha = xd.abs().mean(dim=dims, keepdim=True)
        return _ste(x, torch.where(xd >= 0, 1.0, -1.0).to(x.dtype) * alpha)
    nonneg = (xd.amin(dim=dims, keepdim=True) >= 0)
    q_unsigned = _uniform(xd, cfg.bits, cfg.symmetric, dims, unsigned=True)
    q_signed = _uniform(xd, cfg.bits, cfg.symmetric, dims, unsigned=False)
    return _ste(x, torch.where(nonneg, q_unsigned, q_signed))


class QuantMixin:
    """Fields and helpers shared by every quantized layer."""

    weight_precision: str
    act_precision: str
    weight_quant: QuantConfig
    act_quant: QuantConfig

    def _configure(self, weight: QuantConfig, act: QuantConfig) -> None:
        self.weight_quant = weight
        self.act_quant = act
        self.weight_precision = weight.precision
        self.act_precision = act.precision

    def effective_weight(self) -> torch.Tensor:
        """The fake-quantized weight the forward uses."""
        weight = getattr(self, "weight")  # noqa: B009  (set by the nn.Module the mixin joins)
        assert isinstance(weight, torch.Tensor)
        return fake_quant_weight(weight, self.weight_quant)

    def quant_input(self, x: torch.Tensor) -> torch.Tensor:
        """The fake-quantized input the forward uses."""
        return fake_quant_act(x, self.act_quant)

    def quant_repr(self) -> str:
        return f"weight_precision={self.weight_precision}, act_precision={self.act_precision}"


class QuantConv2d(QuantMixin, nn.Conv2d):
    """``nn.Conv2d`` with fake-quantized weights and input activations."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._conv_forward(self.quant_input(x), self.effective_weight(), self.bias)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, {self.quant_repr()}"


class QuantConv1d(QuantMixin, nn.Conv1d):
    """``nn.Conv1d`` with fake-quantized weights and input activations."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._conv_forward(self.quant_input(x), self.effective_weight(), self.bias)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, {self.quant_repr()}"


class QuantLinear(QuantMixin, nn.Linear):
    """``nn.Linear`` with fake-quantized weights and input activations."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.linear(self.quant_input(x), self.effective_weight(), self.bias)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, {self.quant_repr()}"


class QuantAdderConv2d(QuantMixin, AdderConv2d):
    """:class:`AdderConv2d` with fake-quantized weights and input activations."""

    def _weight(self) -> torch.Tensor:
        return self.effective_weight()

    def _input(self, x: torch.Tensor) -> torch.Tensor:
        return self.quant_input(x)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, {self.quant_repr()}"


# Checked in order: the most specific base first.
QUANT_CLASSES: tuple[tuple[type[nn.Module], type[nn.Module]], ...] = (
    (AdderConv2d, QuantAdderConv2d),
    (nn.Conv2d, QuantConv2d),
    (nn.Conv1d, QuantConv1d),
    (nn.Linear, QuantLinear),
)


def quant_class(module: nn.Module) -> type[nn.Module] | None:
    """The quantized class a layer becomes (its own class when it is quantized already)."""
    if isinstance(module, QuantMixin):
        return type(module)
    for base, quant in QUANT_CLASSES:
        if type(module) is base:
            return quant
    return None
