"""``hardware``: spec fields by dotted key, each with a list of values; keys joined by a comma move
together (one gene whose values are tuples)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from edgesim.errors import EdgesimError, SearchError
from edgesim.hardware.load import SpecLoader
from edgesim.search.model import ModelSource
from edgesim.search.problem import Decoded, Gene, Genome, ProblemKind, SearchProblem, digest
from edgesim.units import Dimension, parse_quantity

_NUMERIC_DIMS = (Dimension.SIZE, Dimension.BANDWIDTH, Dimension.FREQUENCY, Dimension.ENERGY,
                 Dimension.ENERGY_PER_BYTE, Dimension.POWER, Dimension.TIME, Dimension.AREA,
                 Dimension.VOLTAGE)


def numeric(value: object) -> float | str:
    """A spec value as a number for a table: SI for quantities (``"8 GB/s"`` -> 8e9), else
    the number, else the text (e.g. a dataflow name)."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        for dim in _NUMERIC_DIMS:
            try:
                return parse_quantity(value, dim, allow_zero=True)
            except EdgesimError:
                continue
    return str(value)


def hardware_genes(space: Mapping[str, Any], loader: SpecLoader, prefix: str = "space"
                   ) -> tuple[tuple[Gene, ...], tuple[tuple[str, ...], ...]]:
    """Genes of a hardware space and the keys each sets; every value is tried on the base spec
    (an unknown key or a bad value is reported here, naming it, before anything runs)."""
    if not isinstance(space, Mapping) or not space:
        raise SearchError("expected a mapping of dotted spec keys to lists of values",
                          field=prefix)
    genes: list[Gene] = []
    keys: list[tuple[str, ...]] = []
    for gene_key, values in space.items():
        field = f"{prefix}.{gene_key}"
        parts = tuple(k.strip() for k in str(gene_key).split(","))
        if not all(parts):
            raise SearchError("empty key in a linked gene", field=field)
        if not isinstance(values, list | tuple) or not values:
            raise SearchError(f"expected a list of values, got {values!r}", field=field)
        choices: list[Any] = []
        for i, v in enumerate(values):
            if len(parts) > 1:
                if not isinstance(v, list | tuple) or len(v) != len(parts):
                    raise SearchError(f"keys {', '.join(parts)} move together: each value is a "
                                      f"list of {len(parts)}, got {v!r}", field=f"{field}[{i}]")
                choice: Any = tuple(v)
            else:
                choice = v
            overrides = dict(zip(parts, choice if len(parts) > 1 else (choice,), strict=True))
            try:
                loader(overrides)
            except EdgesimError as exc:
                raise SearchError(f"{exc.field + ': ' if exc.field else ''}{exc.detail}",
                                  field=f"{field}[{i}]") from None
            choices.append(choice)
        genes.append(Gene(str(gene_key), tuple(choices)))
        keys.append(parts)
    return tuple(genes), tuple(keys)


def overrides_of(genes: tuple[Gene, ...], keys: tuple[tuple[str, ...], ...],
                 genome: Genome) -> dict[str, Any]:
    """The dotted overrides a hardware genome sets."""
    out: dict[str, Any] = {}
    for gene, parts, idx in zip(genes, keys, genome, strict=True):
        value = gene.choices[idx]
        out.update(zip(parts, value if len(parts) > 1 else (value,), strict=True))
    return out


class HardwareSpace(SearchProblem):
    """Design-space exploration: the model fixed, the spec's fields varied."""

    kind = ProblemKind.HARDWARE

    def __init__(self, source: ModelSource, space: Mapping[str, Any], loader: SpecLoader) -> None:
        self.source = source
        self.loader_file = loader.file
        self.genes, self.keys = hardware_genes(space, loader)

    def decode(self, genome: Genome) -> Decoded:
        return Decoded(self.source.workload, overrides_of(self.genes, self.keys, genome))

    def summary(self, genome: Genome | None) -> dict[str, float | str]:
        if genome is None:
            return {}
        return {k: numeric(v) for k, v in overrides_of(self.genes, self.keys, genome).items()}

    def fingerprint(self) -> str:
        return digest(self.kind.value, self.source.fingerprint(weights=False),
                      [(g.name, g.choices) for g in self.genes])


__all__ = ["HardwareSpace", "hardware_genes", "numeric", "overrides_of"]
