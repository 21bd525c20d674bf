"""Fake-quantization: quantized conv/linear/adder subclasses that really run (with STE gradients)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass

import torch
from torch import nn

from edgesim.compress._common import check_layer_names, check_model, weighted_layers
from edgesim.compress.addernet import AdderConv2d
from edgesim.errors import CompressError

BitSpec = int | str | None


@dataclass(frozen=True)
class QuantConfig:
    """How one tensor is quantized: precision name and integer scheme."""

    precision: str  # "int1".."int16", "fp16", "bf16", "fp32" (= left in float32)
    symmetric: bool = True
    per_channel: bool = True

    @property
    def bits(self) -> int:
        return int(self.precision[3:]) if self.precision.startswith("int") else \
            (32 if self.precision == "fp32" else 16)


def parse_bits(spec: BitSpec, field: str) -> str:
    """Normalise a bit spec: ``8 -> "int8"``, ``"binary" -> "int1"``, ``"ternary" -> "int2"``.

    ``None`` means "left in float32" (``"fp32"``).
    """
    if spec is None:
        return "fp32"
    if isinstance(spec, bool):
        raise CompressError(f"expected 1..16 bits, 'fp16', 'bf16', 'binary' or 'ternary', "
                            f"got {spec!r}", field=field)
    if isinstance(spec, int):
        if not 1 <= spec <= 16:
            raise CompressError(f"expected 1..16 bits, got {spec}", field=field)
        return f"int{spec}"
    if isinstance(spec, str):
        s = spec.strip().lower()
        aliases = {"binary": "int1", "ternary": "int2", "fp32": "fp32", "fp16": "fp16",
                   "bf16": "bf16", "float16": "fp16", "bfloat16": "bf16"}
        if s in aliases:
            return aliases[s]
        if s.startswith("int") and s[3:].isdigit() and 1 <= int(s[3:]) <= 16:
            return f"int{int(s[3:])}"
    raise CompressError(f"expected 1..16 bits, 'intN', 'fp16', 'bf16', 'binary' or 'ternary', "
                        f"got {spec!r}", field=field)


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


class _QuantMixin:
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


class QuantConv2d(_QuantMixin, nn.Conv2d):
    """``nn.Conv2d`` with fake-quantized weights and input activations."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._conv_forward(self.quant_input(x), self.effective_weight(), self.bias)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, {self.quant_repr()}"


class QuantConv1d(_QuantMixin, nn.Conv1d):
    """``nn.Conv1d`` with fake-quantized weights and input activations."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._conv_forward(self.quant_input(x), self.effective_weight(), self.bias)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, {self.quant_repr()}"


class QuantLinear(_QuantMixin, nn.Linear):
    """``nn.Linear`` with fake-quantized weights and input activations."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.linear(self.quant_input(x), self.effective_weight(), self.bias)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, {self.quant_repr()}"


class QuantAdderConv2d(_QuantMixin, AdderConv2d):
    """:class:`AdderConv2d` with fake-quantized weights and input activations."""

    def _weight(self) -> torch.Tensor:
        return self.effective_weight()

    def _input(self, x: torch.Tensor) -> torch.Tensor:
        return self.quant_input(x)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, {self.quant_repr()}"


# Checked in order: the most specific base first.
_QUANT_CLASSES: tuple[tuple[type[nn.Module], type[nn.Module]], ...] = (
    (AdderConv2d, QuantAdderConv2d),
    (nn.Conv2d, QuantConv2d),
    (nn.Conv1d, QuantConv1d),
    (nn.Linear, QuantLinear),
)


def _quant_class(module: nn.Module) -> type[nn.Module] | None:
    if isinstance(module, _QuantMixin):
        return type(module)
    for base, quant in _QUANT_CLASSES:
        if type(module) is base:
            return quant
    return None


def _resolve(spec: BitSpec | Mapping[str, BitSpec], name: str, field: str) -> str:
    if isinstance(spec, Mapping):
        return parse_bits(spec.get(name), f"{field}.{name}")
    return parse_bits(spec, field)


def quantize(model: nn.Module, weight_bits: BitSpec | Mapping[str, BitSpec] = 8,
             act_bits: BitSpec | Mapping[str, BitSpec] = 8, symmetric: bool = True,
             per_channel: bool = True) -> nn.Module:
    """Fake-quantize weights and input activations of conv / linear / adder layers.

    Each quantized layer becomes an instance of a subclass of its class (``QuantConv2d``,
    ``QuantLinear``, ``QuantAdderConv2d``...) carrying ``weight_precision`` and
    ``act_precision`` (``"int8"``, ``"int1"`` binary, ``"int2"`` ternary, ``"fp16"``,
    ``"bf16"``, ``"fp32"`` = not quantized); its forward really runs on quantize-dequantized
    values (straight-through gradients, so it can be fine-tuned).

    Args:
        model: the model (not modified).
        weight_bits: 1..16, ``"intN"``, ``"fp16"``, ``"bf16"``, ``"binary"``, ``"ternary"``, or
            ``{layer_name: spec}`` (layers not named keep float32 weights).
        act_bits: the same for the layer's input activation (dynamic per-sample range).
        symmetric: symmetric (zero point 0) or asymmetric integer ranges.
        per_channel: one weight scale per output channel, or one per tensor.

    Layers whose weight and activation both resolve to float32 are left unchanged.
    """
    check_model(model)
    for spec, field in ((weight_bits, "weight_bits"), (act_bits, "act_bits")):
        if isinstance(spec, Mapping):
            check_layer_names(model, spec.keys(), field)
            for k, v in spec.items():
                parse_bits(v, f"{field}.{k}")
        else:
            parse_bits(spec, field)
    for flag, field in ((symmetric, "symmetric"), (per_channel, "per_channel")):
        if not isinstance(flag, bool):
            raise CompressError(f"expected true or false, got {flag!r}", field=field)
    out = copy.deepcopy(model)
    for name, module in list(weighted_layers(out)):
        wp = _resolve(weight_bits, name, "weight_bits")
        ap = _resolve(act_bits, name, "act_bits")
        if wp == "fp32" and ap == "fp32":
            continue
        cls = _quant_class(module)
        if cls is None:
            raise CompressError(f"cannot quantize a {type(module).__name__}",
                                field=f"weight_bits.{name}")
        module.__class__ = cls  # keep parameters, buffers and hooks; only behaviour changes
        assert isinstance(module, _QuantMixin)
        module._configure(QuantConfig(wp, symmetric, per_channel),
                          QuantConfig(ap, symmetric, per_channel))
    return out
