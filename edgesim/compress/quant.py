"""Quantization as a transform: ``quantize`` turns conv / linear / adder layers into their
fake-quantized versions (``edgesim.nn.quant``) at the bit-widths asked for."""

from __future__ import annotations

import copy
from collections.abc import Mapping

from torch import nn

from edgesim.compress._common import check_layer_names, check_model, weighted_layers
from edgesim.errors import CompressError
from edgesim.nn.quant import QuantConfig, QuantMixin, quant_class

BitSpec = int | str | None


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
        cls = quant_class(module)
        if cls is None:
            raise CompressError(f"cannot quantize a {type(module).__name__}",
                                field=f"weight_bits.{name}")
        module.__class__ = cls  # keep parameters, buffers and hooks; only behaviour changes
        assert isinstance(module, QuantMixin)
        module._configure(QuantConfig(wp, symmetric, per_channel),
                          QuantConfig(ap, symmetric, per_channel))
    return out
