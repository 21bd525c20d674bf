"""A search's results: the history and Pareto front as DataFrames, candidates, files and a plot."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from edgesim.errors import SearchError
from edgesim.hardware.model import Hardware
from edgesim.results import SimResult
from edgesim.search.config import ACCURACY
from edgesim.search.files import write_outputs
from edgesim.search.oracle import Oracle
from edgesim.search.problem import Genome
from edgesim.workload.ir import Workload

if TYPE_CHECKING:
    import pandas as pd
    from torch import nn

    from edgesim.search.profile import BlockProfiles

@dataclass
class Candidate:
    """One evaluated candidate, re-simulated on demand from its genome (fast path)."""

    id: int
    genome: Genome | None  # None: the unmodified baseline
    workload: Workload
    hardware: Hardware
    overrides: Mapping[str, Any]
    result: SimResult
    _oracle: Oracle = field(repr=False)

    def module(self) -> tuple[nn.Module, tuple[Any, ...]]:
        """The compressed torch module and its example inputs (``SearchError`` where the model
        is not torch or the problem changes only hardware)."""
        if self.genome is None:
            import copy

            module, inputs = self._oracle.source.module()
            return copy.deepcopy(module), inputs
        return self._oracle.problem.module(self.genome)


@dataclass
class SearchResult:
    """What ``es.search.run`` returns."""

    history: pd.DataFrame
    objectives: list[str]
    constraints: dict[str, float]
    genomes: dict[int, Genome | None]
    oracle: Oracle
    closest: int | None = None  # the least-violating candidate when nothing is feasible
    profiles: BlockProfiles | None = None  # block_scaling: what generation 0 profiled

    @property
    def pareto(self) -> pd.DataFrame:
        """The non-dominated feasible rows of the history (one row per distinct genome)."""
        h = self.history
        if h.empty:
            return h
        feasible = h[h["feasible"]]
        feasible = feasible.loc[~feasible["_genome"].duplicated()] if "_genome" in feasible \
            else feasible
        if feasible.empty:
            return feasible.drop(columns=["_genome"], errors="ignore")
        f = np.column_stack([-feasible[o].to_numpy(float) if o == ACCURACY
                             else feasible[o].to_numpy(float) for o in self.objectives])
        keep = non_dominated(f)
        return feasible.iloc[keep].drop(columns=["_genome"], errors="ignore")

    def table(self) -> pd.DataFrame:
        """The history without internal columns."""
        return self.history.drop(columns=["_genome"], errors="ignore")

    def candidate(self, cid: int) -> Candidate:
        if cid not in self.genomes:
            raise SearchError(f"no candidate {cid} (ids 0..{len(self.genomes) - 1})",
                              field="id")
        genome = self.genomes[cid]
        decoded, hw, res = self.oracle.simulate(genome)
        return Candidate(cid, genome, decoded.workload, hw, dict(decoded.overrides), res,
                         self.oracle)

    # ---- files -------------------------------------------------------------------------------
    def write(self, out: str | Path) -> list[Path]:
        """``pareto.csv``, ``history.csv``, ``pareto.png`` and ``front/<id>.yaml`` (the
        workload; ``front/<id>.overrides.yaml`` holds the spec overrides) under ``out``."""
        return write_outputs(self, Path(out))


def non_dominated(f: np.ndarray) -> list[int]:
    """Row indices of ``f`` (minimised) that no other row dominates, in their order."""
    if len(f) == 0:
        return []
    from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting

    front = NonDominatedSorting().do(np.asarray(f, dtype=float), only_non_dominated_front=True)
    return sorted(int(i) for i in front)


def violation(row: Mapping[str, Any], constraints: Mapping[str, float]) -> float:
    """Sum of the relative amounts by which a row misses its constraints (0: feasible)."""
    total = 0.0
    for name, bound in constraints.items():
        value = float(row[name])
        if math.isnan(value):
            return math.inf
        scale = abs(bound) or 1.0
        total += max(0.0, (bound - value) / scale if name == ACCURACY
                     else (value - bound) / scale)
    return total


def constraint_values(metrics: Mapping[str, float], constraints: Mapping[str, float]
                      ) -> list[float]:
    """pymoo inequality constraints (<= 0 feasible), each relative to its bound."""
    out = []
    for name, bound in constraints.items():
        value = metrics[name]
        scale = abs(bound) or 1.0
        out.append((bound - value) / scale if name == ACCURACY else (value - bound) / scale)
    return out


__all__ = ["Candidate", "SearchResult", "constraint_values", "non_dominated",
           "violation"]
