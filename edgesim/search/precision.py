"""``mixed_precision``: weight and activation bits per layer, drawn from what its unit supports."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from edgesim.errors import SearchError
from edgesim.hardware.model import Hardware
from edgesim.mapping.placement import place
from edgesim.search.model import ModelSource
from edgesim.search.problem import Decoded, Gene, Genome, ProblemKind, SearchProblem, digest
from edgesim.vocab import WEIGHTED_OPS, Precision
from edgesim.workload.layer import with_weights

if TYPE_CHECKING:
    from torch import nn

DEFAULT_BITS = (2, 4, 8, 16)


def _bits_list(value: object, field: str) -> tuple[int, ...]:
    if (not isinstance(value, list | tuple) or not value
            or any(isinstance(b, bool) or not isinstance(b, int) or not 1 <= b <= 16
                   for b in value)):
        raise SearchError(f"expected a list of integer bit-widths in 1..16, got {value!r}",
                          field=field)
    return tuple(sorted(set(value)))


class MixedPrecision(SearchProblem):
    """Per-layer bits of the weighted layers (HAQ's hardware-aware space).

    A layer's choices are the requested widths its unit lists as integer precisions: a width
    the unit does not have would run on a wider datapath, which is not what the search is
    asked to explore. A layer gets genes only where both its weight and its activation lists
    are non-empty (the torch path quantizes both); the others keep their precision.
    """

    kind = ProblemKind.MIXED_PRECISION

    def __init__(self, source: ModelSource, space: Mapping[str, Any], hw: Hardware) -> None:
        self.source = source
        for key in space:
            if key not in ("weight_bits", "act_bits"):
                raise SearchError(f"unknown key {key!r} (known: act_bits, weight_bits)",
                                  field=f"space.{key}")
        w_req = _bits_list(space.get("weight_bits", list(DEFAULT_BITS)), "space.weight_bits")
        a_req = _bits_list(space.get("act_bits", list(DEFAULT_BITS)), "space.act_bits")
        self.layers: list[str] = []
        genes: list[Gene] = []
        self._w: dict[str, tuple[int, ...]] = {}
        self._a: dict[str, tuple[int, ...]] = {}
        units: set[str] = set()
        quantizable = quantizable_layers(source) if source.has_module else None
        for layer in source.workload.layers:
            if layer.op not in WEIGHTED_OPS:
                continue
            if quantizable is not None and layer.name not in quantizable:
                continue  # the torch path cannot quantize it (e.g. a transposed conv)
            unit = place(layer, hw)
            ints = {p.bits for p in unit.precisions if not p.is_float}
            units.add(f"{unit.name} ({', '.join(p.value for p in unit.precisions)})")
            w = tuple(b for b in w_req if b in ints)
            a = tuple(b for b in a_req if b in ints)
            if not w or not a:
                continue
            self.layers.append(layer.name)
            self._w[layer.name], self._a[layer.name] = w, a
            genes += [Gene(f"wbits.{layer.name}", w), Gene(f"abits.{layer.name}", a)]
        if not genes:
            raise SearchError(f"no weighted layer of {source.ref!r} runs at any of these widths "
                              f"on {hw.name!r}: its units support {'; '.join(sorted(units))}",
                              field="space")
        if all(len(g.choices) == 1 for g in genes):  # every candidate would be the same
            raise SearchError(f"nothing to search: every weighted layer of {source.ref!r} runs "
                              f"at one of these widths on {hw.name!r} (its units support "
                              f"{'; '.join(sorted(units))})", field="space")
        self.genes = tuple(genes)
        self.hw_name = hw.name

    def baseline(self) -> Decoded:
        return Decoded(self.source.workload)

    def bits(self, genome: Genome) -> dict[str, tuple[int, int]]:
        """``{layer: (weight bits, activation bits)}`` of a genome."""
        return {name: (self._w[name][genome[2 * i]], self._a[name][genome[2 * i + 1]])
                for i, name in enumerate(self.layers)}

    def decode(self, genome: Genome) -> Decoded:
        bits = self.bits(genome)
        layers = [with_weights(la, weight_precision=Precision(f"int{bits[la.name][0]}"),
                               act_precision=Precision(f"int{bits[la.name][1]}"))
                  if la.name in bits else la for la in self.source.workload.layers]
        return Decoded(self.source.workload.with_layers(layers))

    def summary(self, genome: Genome | None) -> dict[str, float | str]:
        out: dict[str, float | str] = {}
        wl = self.source.workload
        for name in self.layers:
            if genome is None:
                la = wl.layer(name)
                w = la.weight_precision.bits if la.weight_precision else float("nan")
                a = la.act_precision.bits if la.act_precision else float("nan")
            else:
                w, a = self.bits(genome)[name]
            out[f"wbits.{name}"] = w
            out[f"abits.{name}"] = a
        return out

    def module(self, genome: Genome) -> tuple[nn.Module, tuple[Any, ...]]:
        from edgesim.compress.quant import quantize

        module, inputs = self.source.module()
        bits = self.bits(genome)
        return quantize(module, weight_bits={k: v[0] for k, v in bits.items()},
                        act_bits={k: v[1] for k, v in bits.items()}), inputs

    def fingerprint(self) -> str:
        return digest(self.kind.value, self.source.fingerprint(weights=False), self.hw_name,
                      sorted(self._w.items()), sorted(self._a.items()))




def quantizable_layers(source: ModelSource) -> set[str]:
    """Names of the layers ``compress.quantize`` can quantize in the source's torch module."""
    from edgesim.compress._common import weighted_layers
    from edgesim.nn.quant import quant_class

    module, _ = source.module()
    return {name for name, mod in weighted_layers(module) if quant_class(mod) is not None}


__all__ = ["DEFAULT_BITS", "MixedPrecision", "quantizable_layers"]
