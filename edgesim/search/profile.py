"""Block profiles (LegoDNN): each descendant's metrics, and the additive prediction they make."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from edgesim.errors import EdgesimError, SearchError
from edgesim.search.config import ACCURACY, RESULT_METRICS
from edgesim.search.oracle import Evaluation, Metrics
from edgesim.search.problem import Genome

if TYPE_CHECKING:
    from edgesim.search.blocks import BlockScaling
    from edgesim.search.oracle import Oracle

PREDICTED = "predicted."  # prefix of the history columns holding a profile prediction
# Metrics a model's parts add up to when each part is simulated alone (the chip's area does not)
ALONE_METRICS = frozenset(RESULT_METRICS) - {"area_mm2"}
Table = tuple[tuple[Mapping[str, float] | None, ...], ...]


@dataclass(frozen=True)
class BlockProfiles:
    """What each descendant costs, and the additive prediction of a combination.

    ``base`` and ``table[b][r]``: the metrics of the unmodified model and of the model with only
    block ``b`` at ratio ``r``, simulated whole (``None``: it could not be). ``alone``: cost
    metrics of each descendant simulated as a model of its own, and ``fixed`` those of the runs
    of layers between blocks; ``None`` when the blocks are profiled in place.

    Profiled alone (LegoDNN's way), a combination's cost is the sum of its parts: what it misses
    is what crosses block boundaries (tensors kept on chip, fused ops, overlap). Profiled in
    place, it is the parent plus each scaled block's change: exact for one scaled block, and
    missing only what scaled blocks do to each other. Accuracy is always predicted in place.
    """

    names: tuple[str, ...]
    zero: int  # the ratio index of the original block
    base: Mapping[str, float]
    table: Table
    fixed: Mapping[str, float] | None = None
    alone: Table | None = None

    @classmethod
    def build(cls, names: Sequence[str], zero: int, n_blocks: int, n_ratios: int,
              base: Evaluation, genomes: Sequence[Genome], evals: Sequence[Evaluation],
              fixed_and_alone: tuple[Mapping[str, float], Table] | None = None
              ) -> BlockProfiles:
        rows: list[list[Mapping[str, float] | None]] = [
            [dict(base.metrics) if r == zero else None for r in range(n_ratios)]
            for _ in range(n_blocks)]
        for genome, ev in zip(genomes, evals, strict=True):
            (b, r), = [(i, v) for i, v in enumerate(genome) if v != zero]
            ok = not ev.error and all(not math.isnan(ev.metrics[n]) for n in names)
            rows[b][r] = dict(ev.metrics) if ok else None
        fixed, table = fixed_and_alone if fixed_and_alone is not None else (None, None)
        return cls(tuple(names), zero, dict(base.metrics), tuple(tuple(r) for r in rows),
                   fixed, table)

    @classmethod
    def joint(cls, parts: Sequence[BlockProfiles]) -> BlockProfiles:
        """The profiles of models that run together, as one: the blocks of each in turn, and
        every metric the sum of the models' (latency as if they took turns on the chip;
        accuracy the sum of theirs). A genome is the models' genomes joined."""
        first = parts[0]
        if any(p.names != first.names or p.zero != first.zero
               or (p.alone is None) != (first.alone is None) for p in parts):
            raise SearchError("joint profiles need the same metrics, ratios and profiling")
        base = {n: sum(p.base[n] for p in parts) for n in first.names}

        def rebased(p: BlockProfiles) -> Table:
            # in-place entries keep their change against their own model's base
            return tuple(tuple(None if e is None else {n: e[n] - p.base[n] + base[n]
                                                       for n in first.names} for e in row)
                         for row in p.table)

        table = tuple(row for p in parts for row in rebased(p))
        if first.alone is None:
            return cls(first.names, first.zero, base, table)
        fixed = {n: sum(p.fixed[n] for p in parts if p.fixed is not None)
                 for n in (first.fixed or {})}
        alone = tuple(row for p in parts for row in (p.alone or ()))
        return cls(first.names, first.zero, base, table, fixed, alone)

    def _alone(self, name: str) -> bool:
        return self.alone is not None and name in ALONE_METRICS

    def start(self, name: str) -> float:
        """The prediction of ``name`` for the unmodified model."""
        if self._alone(name):
            assert self.alone is not None and self.fixed is not None
            parts = [row[self.zero] for row in self.alone]
            if any(p is None for p in parts):
                return math.nan
            return self.fixed[name] + sum(p[name] for p in parts if p is not None)
        return self.base[name]

    def delta(self, block: int, ratio: int, name: str) -> float:
        """The change in ``name`` when ``block`` runs descendant ``ratio`` (NaN: unknown)."""
        if self._alone(name):
            assert self.alone is not None
            entry, zero = self.alone[block][ratio], self.alone[block][self.zero]
            return math.nan if entry is None or zero is None else entry[name] - zero[name]
        entry = self.table[block][ratio]
        return math.nan if entry is None else entry[name] - self.base[name]

    def usable(self, block: int, ratio: int) -> bool:
        """Whether the descendant has every profile (a failed simulation has none)."""
        return all(not math.isnan(self.delta(block, ratio, n)) for n in self.names)

    def predict(self, genome: Genome) -> Metrics:
        """The additive prediction of every metric for ``genome``."""
        return {n: self.start(n) + sum(self.delta(b, r, n) for b, r in enumerate(genome)
                                       if r != self.zero)
                for n in self.names}


def profile_alone(oracle: Oracle, problem: BlockScaling) -> tuple[dict[str, float], Table]:
    """Cost metrics of every descendant simulated as a model of its own, and the summed cost
    of the runs of layers between blocks (each run alone too)."""
    from edgesim.search.blocks import sub_workload
    from edgesim.sim import simulate

    names = [n for n in oracle.names if n in ALONE_METRICS]
    base = oracle.decode(None)
    hw = oracle.hardware(base)

    def cost(wl_name: str, layers: Sequence[str], genome: Genome | None,
             required: bool = False) -> dict[str, float] | None:
        wl = oracle.decode(genome).workload
        try:
            res = simulate(sub_workload(wl, layers, wl_name), hw, mode=oracle.mode,
                           batch=oracle.batch)
        except EdgesimError as exc:
            if required:  # without the unmodified parts nothing can be predicted
                raise SearchError(f"{wl_name} ({layers[0]} .. {layers[-1]}) cannot be "
                                  f"simulated alone: {exc}", field="space.profile") from None
            return None  # this descendant is left out of the choices
        return {n: float(getattr(res, n)) for n in names}

    fixed = dict.fromkeys(names, 0.0)
    segments = problem.segments()
    for i, (block, layers) in enumerate(segments):
        if block is None:
            part = cost(f"{base.workload.name}:part{i}", layers, None, required=True)
            assert part is not None
            for n in names:
                fixed[n] += part[n]
    table: list[tuple[dict[str, float] | None, ...]] = []
    for b, block_ in enumerate(problem.blocks):
        row = []
        for r in range(len(problem.ratios)):
            genome = list(problem.baseline_genome)
            genome[b] = r
            row.append(cost(f"{base.workload.name}:{block_.name}", block_.layers,
                            None if r == problem.zero else tuple(genome),
                            required=r == problem.zero))
        table.append(tuple(row))
    return fixed, tuple(table)


def solve_milp(profiles: BlockProfiles, objective: str,
               constraints: Mapping[str, float]) -> tuple[Genome, bool]:
    """One descendant per block that optimises the predicted ``objective`` (accuracy maximised,
    the rest minimised) under the predicted ``constraints`` (upper bounds; accuracy a lower
    bound), with ``scipy.optimize.milp`` over one binary per (block, descendant).

    Returns the genome and whether it meets the constraints; when nothing does, the genome
    with the least total relative violation (each constraint scaled by its bound)."""
    import numpy as np
    from scipy.optimize import Bounds, LinearConstraint, milp

    n_blocks = len(profiles.table)
    n_ratios = len(profiles.table[0])
    n = n_blocks * n_ratios

    def var(b: int, r: int) -> int:
        return b * n_ratios + r

    usable = np.array([profiles.usable(b, r) for b in range(n_blocks) for r in range(n_ratios)])

    def coeffs(name: str) -> np.ndarray:
        return np.array([profiles.delta(b, r, name) if usable[var(b, r)] else 0.0
                         for b in range(n_blocks) for r in range(n_ratios)])

    one = np.zeros((n_blocks, n))
    for b in range(n_blocks):
        one[b, var(b, 0):var(b, 0) + n_ratios] = 1.0
    rows, upper = [], []
    for name, bound in constraints.items():
        sign = -1.0 if name == ACCURACY else 1.0  # accuracy >= bound  <=>  -acc <= -bound
        scale = abs(bound) or 1.0
        rows.append(sign * coeffs(name) / scale)
        upper.append(sign * (bound - profiles.start(name)) / scale)
    sense = -1.0 if objective == ACCURACY else 1.0
    c = sense * coeffs(objective)
    scale_c = float(np.max(np.abs(c))) if c.size else 0.0
    c = c / scale_c if scale_c > 0 else c  # costs of ~1e-6 s would sit inside HiGHS's gaps
    bounds = Bounds(np.zeros(n), np.where(usable, 1.0, 0.0))

    def decode(x: np.ndarray) -> Genome:
        return tuple(int(np.argmax(x[var(b, 0):var(b, 0) + n_ratios]))
                     for b in range(n_blocks))

    cons = [LinearConstraint(one, 1.0, 1.0)]
    if rows:
        cons.append(LinearConstraint(np.array(rows), -np.inf, np.array(upper)))
    exact = {"mip_rel_gap": 0.0}
    res = milp(c, constraints=cons, integrality=np.ones(n), bounds=bounds, options=exact)
    if res.status == 0 and res.x is not None:
        return decode(np.round(res.x)), True
    # nothing meets the budgets: the least violation (slack per constraint, summed)
    k = len(rows)
    a = np.hstack([np.array(rows), -np.eye(k)]) if rows else np.zeros((0, n))
    c2 = np.concatenate([np.zeros(n), np.ones(k)])
    cons2 = [LinearConstraint(np.hstack([one, np.zeros((n_blocks, k))]), 1.0, 1.0)]
    if rows:
        cons2.append(LinearConstraint(a, -np.inf, np.array(upper)))
    bounds2 = Bounds(np.concatenate([np.zeros(n), np.zeros(k)]),
                     np.concatenate([np.where(usable, 1.0, 0.0), np.full(k, np.inf)]))
    res2 = milp(c2, constraints=cons2, integrality=np.concatenate([np.ones(n), np.zeros(k)]),
                bounds=bounds2, options=exact)
    x = res2.x if res2.x is not None else np.eye(n_ratios)[[profiles.zero] * n_blocks].ravel()
    return decode(np.round(x[:n])), False


__all__ = ["ALONE_METRICS", "PREDICTED", "BlockProfiles", "profile_alone", "solve_milp"]
