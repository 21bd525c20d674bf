"""What a candidate is: a problem encodes candidates as genomes of discrete genes and decodes them."""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from edgesim.errors import SearchError
from edgesim.workload.ir import Workload

if TYPE_CHECKING:
    from torch import nn

Genome = tuple[int, ...]  # one choice index per gene


class ProblemKind(StrEnum):
    """The problems ``es.search.run`` knows (CONTRACT "Search")."""

    CHANNEL_PRUNING = "channel_pruning"
    MIXED_PRECISION = "mixed_precision"
    HARDWARE = "hardware"
    CODESIGN = "codesign"
    BLOCK_SCALING = "block_scaling"
    CUSTOM = "custom"


@dataclass(frozen=True)
class Gene:
    """One discrete decision: its name and the values it may take (a genome holds indices)."""

    name: str
    choices: tuple[Any, ...]

    def __post_init__(self) -> None:
        if not self.choices:
            raise SearchError("a gene needs at least one value", field=f"space.{self.name}")


@dataclass(frozen=True)
class Decoded:
    """A genome made concrete: the workload to simulate and the hardware overrides to apply."""

    workload: Workload
    overrides: Mapping[str, Any] = field(default_factory=dict)


class SearchProblem(ABC):
    """A search problem: genes, a baseline, and decoding of a genome to what is simulated.

    Subclasses are small: they build their genes from the space once, then ``decode`` is pure and
    fast (it never touches torch); ``module`` builds the torch module only when asked.
    """

    kind: ProblemKind
    genes: tuple[Gene, ...]

    @property
    def n_genes(self) -> int:
        return len(self.genes)

    @property
    def bounds(self) -> list[int]:
        """The largest choice index of each gene."""
        return [len(g.choices) - 1 for g in self.genes]

    def baseline(self) -> Decoded | None:
        """The unmodified model on the base hardware (id 0 of a compression search), or None."""
        return None

    @abstractmethod
    def decode(self, genome: Genome) -> Decoded:
        """The workload and hardware overrides of ``genome`` (pure, no torch)."""

    @abstractmethod
    def summary(self, genome: Genome | None) -> dict[str, float | str]:
        """The gene-summary columns of a history row (``None``: the baseline)."""

    def module(self, genome: Genome) -> tuple[nn.Module, tuple[Any, ...]]:
        """The compressed torch module of ``genome`` and its example inputs."""
        raise SearchError(f"a {self.kind.value} candidate has no torch module (the model is not a "
                          f"torch module, or the problem changes only hardware)", field="model")

    @abstractmethod
    def fingerprint(self) -> str:
        """A content hash of what decoding depends on (model, space)."""


def digest(*parts: object) -> str:
    """A short, stable content hash of ``parts`` (their ``repr``)."""
    h = hashlib.sha256()
    for p in parts:
        h.update(repr(p).encode())
        h.update(b"\0")
    return h.hexdigest()[:32]


__all__ = ["Decoded", "Gene", "Genome", "ProblemKind", "SearchProblem", "digest"]
