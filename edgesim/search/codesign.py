"""``codesign`` (hardware x compression in one genome) and ``custom`` (a user's builder of genes)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from edgesim.errors import EdgesimError, SearchError
from edgesim.hardware.load import SpecLoader
from edgesim.hardware.model import Hardware
from edgesim.search.hardware import hardware_genes, numeric, overrides_of
from edgesim.search.model import ModelSource, import_object
from edgesim.search.problem import Decoded, Gene, Genome, ProblemKind, SearchProblem, digest
from edgesim.workload.ir import Workload

if TYPE_CHECKING:
    from torch import nn


class Codesign(SearchProblem):
    """Hardware genes first, then the genes of a compression problem (pruning or precision)."""

    kind = ProblemKind.CODESIGN

    def __init__(self, source: ModelSource, space: Mapping[str, Any], loader: SpecLoader,
                 base_hw: Hardware,
                 make: Callable[[ProblemKind, ModelSource, Mapping[str, Any], Hardware],
                                SearchProblem]) -> None:
        for key in space:
            if key not in ("hardware", "compression"):
                raise SearchError(f"unknown key {key!r} (known: compression, hardware)",
                                  field=f"space.{key}")
        if "hardware" not in space or "compression" not in space:
            raise SearchError("codesign needs both hardware and compression", field="space")
        self.hw_genes, self.keys = hardware_genes(space["hardware"], loader, "space.hardware")
        comp = space["compression"]
        if not isinstance(comp, Mapping):
            raise SearchError("expected {problem: ..., space: {...}}", field="space.compression")
        for key in comp:
            if key not in ("problem", "space"):
                raise SearchError(f"unknown key {key!r} (known: problem, space)",
                                  field=f"space.compression.{key}")
        kinds = (ProblemKind.CHANNEL_PRUNING, ProblemKind.MIXED_PRECISION)
        try:
            kind: ProblemKind | None = ProblemKind(str(comp.get("problem")))
        except ValueError:
            kind = None
        if kind not in kinds:
            raise SearchError(f"expected one of {', '.join(k.value for k in kinds)}, got "
                              f"{comp.get('problem')!r}", field="space.compression.problem")
        assert kind is not None
        sub_space = comp.get("space", {})
        if not isinstance(sub_space, Mapping):
            raise SearchError("expected a mapping", field="space.compression.space")
        try:
            self.compression = make(kind, source, sub_space, base_hw)
        except SearchError as exc:
            raise SearchError(exc.detail, field=f"space.compression.{exc.field}"
                              if exc.field else "space.compression") from None
        self.source = source
        self.genes = (*self.hw_genes, *self.compression.genes)

    def _split(self, genome: Genome) -> tuple[Genome, Genome]:
        n = len(self.hw_genes)
        return genome[:n], genome[n:]

    def baseline(self) -> Decoded | None:
        return None  # the baseline hardware is not one of the designs in general

    def decode(self, genome: Genome) -> Decoded:
        hw_part, comp_part = self._split(genome)
        return Decoded(self.compression.decode(comp_part).workload,
                       overrides_of(self.hw_genes, self.keys, hw_part))

    def summary(self, genome: Genome | None) -> dict[str, float | str]:
        if genome is None:
            return self.compression.summary(None)
        hw_part, comp_part = self._split(genome)
        out: dict[str, float | str] = {
            k: numeric(v) for k, v in overrides_of(self.hw_genes, self.keys, hw_part).items()}
        out.update(self.compression.summary(comp_part))
        return out

    def module(self, genome: Genome) -> tuple[nn.Module, tuple[Any, ...]]:
        return self.compression.module(self._split(genome)[1])

    def fingerprint(self) -> str:
        return digest(self.kind.value, [(g.name, g.choices) for g in self.hw_genes],
                      self.compression.fingerprint())


class Custom(SearchProblem):
    """A user's builder: ``build({gene: value}) -> (torch_module, example_inputs) | Workload``."""

    kind = ProblemKind.CUSTOM

    def __init__(self, space: Mapping[str, Any]) -> None:
        for key in space:
            if key not in ("builder", "genes"):
                raise SearchError(f"unknown key {key!r} (known: builder, genes)",
                                  field=f"space.{key}")
        builder = space.get("builder")
        if not isinstance(builder, str):
            raise SearchError("expected 'pkg.module:function'", field="space.builder")
        self.builder_ref = builder
        self.build = import_object(builder, "space.builder")
        if not callable(self.build):
            raise SearchError(f"{builder} is not callable", field="space.builder")
        genes = space.get("genes")
        if not isinstance(genes, Mapping) or not genes:
            raise SearchError("expected a mapping of gene names to lists of values",
                              field="space.genes")
        out: list[Gene] = []
        for name, values in genes.items():
            if not isinstance(values, list | tuple) or not values:
                raise SearchError(f"expected a list of values, got {values!r}",
                                  field=f"space.genes.{name}")
            out.append(Gene(str(name), tuple(values)))
        self.genes = tuple(out)

    def values(self, genome: Genome) -> dict[str, Any]:
        return {g.name: g.choices[i] for g, i in zip(self.genes, genome, strict=True)}

    def _built(self, genome: Genome) -> object:
        try:
            return self.build(self.values(genome))
        except EdgesimError:
            raise
        except Exception as exc:  # the user's builder failed on these genes
            raise SearchError(f"{self.builder_ref} failed on {self.values(genome)}: "
                              f"{type(exc).__name__}: {exc}", field="space.builder") from exc

    def decode(self, genome: Genome) -> Decoded:
        out = self._built(genome)
        if isinstance(out, Workload):
            return Decoded(out)
        from edgesim.search.model import _as_module_pair
        from edgesim.workload.trace import trace

        module, inputs = _as_module_pair(out, self.builder_ref)
        return Decoded(trace(module, inputs, name=self.builder_ref.rpartition(":")[2]))

    def summary(self, genome: Genome | None) -> dict[str, float | str]:
        if genome is None:
            return {}
        return {f"gene.{k}": numeric(v) for k, v in self.values(genome).items()}

    def module(self, genome: Genome) -> tuple[nn.Module, tuple[Any, ...]]:
        from edgesim.search.model import _as_module_pair

        out = self._built(genome)
        if isinstance(out, Workload):
            return super().module(genome)
        return _as_module_pair(out, self.builder_ref)

    def fingerprint(self) -> str:
        return digest(self.kind.value, self.builder_ref, [(g.name, g.choices) for g in self.genes])


__all__ = ["Codesign", "Custom"]
