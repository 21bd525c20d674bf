"""Search algorithms behind one ask/tell interface: NSGA-II (pymoo), grid, random, MILP.

edgesim owns evaluation, caching and executors: an algorithm only proposes genomes (``ask``)
and learns their objectives and constraint values (``tell``). Each owns its random state, so a
pickled algorithm resumes exactly where it stopped.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from edgesim.errors import SearchError
from edgesim.search.config import AlgorithmConfig
from edgesim.search.problem import Genome

if TYPE_CHECKING:
    from edgesim.search.profile import BlockProfiles


class Algorithm(ABC):
    """Proposes generations of genomes; ``generation`` counts the ones asked so far."""

    generation: int = 0

    @abstractmethod
    def ask(self) -> list[Genome] | None:
        """The next generation's genomes, or ``None`` when the search is over."""

    def tell(self, genomes: Sequence[Genome], f: np.ndarray, g: np.ndarray) -> None:
        """Objectives (minimised, one row per genome) and constraints (<= 0 feasible)."""
        del genomes, f, g


class NSGA2Search(Algorithm):
    """pymoo's NSGA-II, asked and told one generation at a time.

    Integer genes use pymoo's discrete recipe (integer sampling, SBX and polynomial mutation
    with rounding repair); an all-binary genome (TEC's keep-bits) uses two-point crossover and
    bit-flip mutation. Genes with a single value are held fixed outside pymoo.
    """

    def __init__(self, bounds: Sequence[int], n_obj: int, n_constr: int,
                 cfg: AlgorithmConfig) -> None:
        from pymoo.algorithms.moo.nsga2 import NSGA2
        from pymoo.core.problem import Problem

        self.bounds = list(bounds)
        self.free = [i for i, b in enumerate(self.bounds) if b > 0]
        if not self.free:
            raise SearchError("every gene has a single value: nothing to search", field="space")
        xu = np.array([self.bounds[i] for i in self.free], dtype=float)
        problem = Problem(n_var=len(self.free), n_obj=n_obj, n_ieq_constr=n_constr,
                          xl=np.zeros_like(xu), xu=xu, vtype=int)
        binary = bool(np.all(xu == 1))
        if binary:
            from pymoo.operators.crossover.pntx import TwoPointCrossover
            from pymoo.operators.mutation.bitflip import BitflipMutation
            from pymoo.operators.sampling.rnd import BinaryRandomSampling

            ops = {"sampling": BinaryRandomSampling(), "crossover": TwoPointCrossover(),
                   "mutation": BitflipMutation()}
        else:
            from pymoo.operators.crossover.sbx import SBX
            from pymoo.operators.mutation.pm import PM
            from pymoo.operators.repair.rounding import RoundingRepair
            from pymoo.operators.sampling.rnd import IntegerRandomSampling

            ops = {"sampling": IntegerRandomSampling(),
                   "crossover": SBX(prob=1.0, eta=3.0, vtype=float, repair=RoundingRepair()),
                   "mutation": PM(prob=1.0, eta=3.0, vtype=float, repair=RoundingRepair())}
        self.algorithm = NSGA2(pop_size=cfg.pop_size, eliminate_duplicates=True, seed=cfg.seed,
                               **ops)
        self.algorithm.setup(problem, termination=("n_gen", cfg.generations), verbose=False)
        self.generations = cfg.generations
        self._pop: object = None

    def _genome(self, row: np.ndarray) -> Genome:
        genome = [0] * len(self.bounds)
        for i, v in zip(self.free, row, strict=True):
            genome[i] = int(min(max(round(float(v)), 0), self.bounds[i]))
        return tuple(genome)

    def ask(self) -> list[Genome] | None:
        if not self.algorithm.has_next():
            return None
        pop = self.algorithm.ask()
        if pop is None or len(pop) == 0:  # no new candidate (pymoo drops duplicates): a small
            return None                    # space is exhausted before the last generation
        self._pop = pop
        x = pop.get("X")
        return [self._genome(row) for row in np.atleast_2d(x)]

    def tell(self, genomes: Sequence[Genome], f: np.ndarray, g: np.ndarray) -> None:
        from pymoo.core.evaluator import Evaluator
        from pymoo.problems.static import StaticProblem

        static = StaticProblem(self.algorithm.problem, F=f, G=g)
        Evaluator().eval(static, self._pop)
        self.algorithm.tell(infills=self._pop)
        self._pop = None
        self.generation += 1


class GridSearch(Algorithm):
    """Every combination of gene values, in order (first gene slowest), ``chunk`` at a time."""

    def __init__(self, bounds: Sequence[int], cfg: AlgorithmConfig) -> None:
        self.sizes = [b + 1 for b in bounds]
        self.total = math.prod(self.sizes)
        if self.total > cfg.max_points:
            raise SearchError(f"the grid has {self.total:,} points (more than max_points "
                              f"{cfg.max_points:,}); use nsga2 or random, or fewer values",
                              field="algorithm")
        self.chunk = cfg.pop_size
        self.next = 0

    def ask(self) -> list[Genome] | None:
        if self.next >= self.total:
            return None
        stop = min(self.total, self.next + self.chunk)
        idx = np.unravel_index(np.arange(self.next, stop), self.sizes)
        self.next = stop
        return [tuple(int(a[j]) for a in idx) for j in range(len(idx[0]))]

    def tell(self, genomes: Sequence[Genome], f: np.ndarray, g: np.ndarray) -> None:
        self.generation += 1


class RandomSearch(Algorithm):
    """``generations`` batches of ``pop_size`` uniformly drawn genomes (seeded)."""

    def __init__(self, bounds: Sequence[int], cfg: AlgorithmConfig) -> None:
        self.high = np.array(bounds, dtype=np.int64) + 1
        self.rng = np.random.default_rng(cfg.seed)
        self.pop_size = cfg.pop_size
        self.generations = cfg.generations
        self.asked = 0

    def ask(self) -> list[Genome] | None:
        if self.asked >= self.generations:
            return None
        self.asked += 1
        x = self.rng.integers(0, self.high, size=(self.pop_size, len(self.high)))
        return [tuple(int(v) for v in row) for row in x]

    def tell(self, genomes: Sequence[Genome], f: np.ndarray, g: np.ndarray) -> None:
        self.generation += 1


class MilpSearch(Algorithm):
    """LegoDNN's choice: one descendant per block by a MILP over the additive block profiles
    (``scipy.optimize.milp``), asked once. ``feasible`` False: nothing met the predicted
    budgets, and the genome is the one that misses them least."""

    def __init__(self, profiles: BlockProfiles, objective: str,
                 constraints: Mapping[str, float]) -> None:
        self.profiles = profiles
        self.objective = objective
        self.constraints = dict(constraints)
        self.total = 1
        self.asked = False
        self.feasible: bool | None = None

    def ask(self) -> list[Genome] | None:
        if self.asked:
            return None
        from edgesim.search.profile import solve_milp

        self.asked = True
        genome, self.feasible = solve_milp(self.profiles, self.objective, self.constraints)
        return [genome]

    def tell(self, genomes: Sequence[Genome], f: np.ndarray, g: np.ndarray) -> None:
        self.generation += 1


def make_algorithm(cfg: AlgorithmConfig, bounds: Sequence[int], n_obj: int,
                   n_constr: int, profiles: BlockProfiles | None = None,
                   objective: str = "", constraints: Mapping[str, float] | None = None
                   ) -> Algorithm:
    """The algorithm of ``cfg`` (registry keyed by name); ``milp`` needs block profiles."""
    if cfg.name == "nsga2":
        return NSGA2Search(bounds, n_obj, n_constr, cfg)
    if cfg.name == "grid":
        return GridSearch(bounds, cfg)
    if cfg.name == "random":
        return RandomSearch(bounds, cfg)
    if profiles is None:
        raise SearchError("milp chooses block descendants from their profiles: it solves "
                          "block_scaling problems only", field="algorithm.name")
    return MilpSearch(profiles, objective, constraints or {})


__all__ = ["Algorithm", "GridSearch", "MilpSearch", "NSGA2Search", "RandomSearch",
           "make_algorithm"]
