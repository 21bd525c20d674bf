"""``es.search.run``: set a problem up once, then ask, evaluate (cached, on an executor), tell."""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from edgesim.errors import SearchError, SpecError
from edgesim.hardware.load import SpecLoader
from edgesim.search import checkpoint as ckpt
from edgesim.search.algorithm import make_algorithm
from edgesim.search.blocks import BlockScaling
from edgesim.search.codesign import Codesign, Custom
from edgesim.search.config import (
    ACCURACY,
    MEASURED_LATENCY,
    AccuracyConfig,
    SearchConfig,
    load_config,
)
from edgesim.search.executor import Executor, make_executor
from edgesim.search.hardware import HardwareSpace
from edgesim.search.model import ModelSource, resolve_model
from edgesim.search.oracle import Evaluation, Oracle, metric_names, train_parent
from edgesim.search.precision import MixedPrecision
from edgesim.search.problem import Genome, ProblemKind, SearchProblem, digest
from edgesim.search.profile import PREDICTED, BlockProfiles, profile_alone
from edgesim.search.pruning import ChannelPruning
from edgesim.search.result import SearchResult, constraint_values, violation

_BAD = 1e30  # objective of a candidate that could not be simulated (it is also infeasible)


def make_problem(kind: ProblemKind, source: ModelSource, space: Any, hw: Any,
                 loader: SpecLoader | None = None) -> SearchProblem:
    """The problem of ``kind`` over ``space`` (registry keyed by :class:`ProblemKind`)."""
    if kind == ProblemKind.CHANNEL_PRUNING:
        return ChannelPruning(source, space)
    if kind == ProblemKind.MIXED_PRECISION:
        return MixedPrecision(source, space, hw)
    if kind == ProblemKind.HARDWARE:
        assert loader is not None
        return HardwareSpace(source, space, loader)
    if kind == ProblemKind.CODESIGN:
        assert loader is not None
        return Codesign(source, space, loader, hw, make_problem)
    if kind == ProblemKind.BLOCK_SCALING:
        return BlockScaling(source, space)
    if kind == ProblemKind.CUSTOM:
        return Custom(space)
    raise SearchError(f"unknown problem {kind.value!r}", field="problem")


def setup(cfg: SearchConfig) -> Oracle:
    """Resolve the model and spec, build the problem and its oracle (once per search)."""
    try:
        loader = SpecLoader(cfg.hardware)
        base_hw = loader()
    except SpecError as exc:  # the search's own key names where the bad spec came from
        raise SearchError(exc.detail, file=exc.file,
                          field=f"hardware{'.' + exc.field if exc.field else ''}") from None
    if cfg.problem == ProblemKind.CUSTOM:
        if cfg.model is not None:
            raise SearchError("a custom problem builds its models: leave model out",
                              field="model")
        source = None
    else:
        if cfg.model is None:
            raise SearchError("missing required key", field="model")
        source = resolve_model(cfg.model)
    names = metric_names(cfg)
    if ACCURACY in names:
        if cfg.accuracy is None:
            raise SearchError("accuracy is an objective or constraint: say how to measure it "
                              "('digits', a callable or 'pkg.module:function')", field="accuracy")
        if cfg.problem not in (ProblemKind.CHANNEL_PRUNING, ProblemKind.MIXED_PRECISION,
                               ProblemKind.CODESIGN, ProblemKind.CUSTOM,
                               ProblemKind.BLOCK_SCALING):
            raise SearchError(f"a {cfg.problem.value} search does not change the model's "
                              f"accuracy", field="objectives")
        if source is not None and not source.has_module:
            raise SearchError(f"accuracy needs a torch model; {source.ref!r} has no weights",
                              field="accuracy")
        if isinstance(cfg.accuracy, AccuracyConfig) and source is not None:
            source = train_parent(source, cfg.accuracy, cfg.algorithm.seed)
    if MEASURED_LATENCY in names:
        if cfg.problem not in (ProblemKind.CHANNEL_PRUNING, ProblemKind.CODESIGN,
                               ProblemKind.CUSTOM, ProblemKind.BLOCK_SCALING):
            why = ("the host runs fake-quantized modules in float, so their measured latency "
                   "is not the quantized model's" if cfg.problem == ProblemKind.MIXED_PRECISION
                   else "the model's torch module does not change")
            raise SearchError(f"measured_latency_s is not a {cfg.problem.value} objective: "
                              f"{why}", field="objectives")
        if source is not None and not source.has_module:
            raise SearchError(f"measured_latency_s needs a torch model; {source.ref!r} has none",
                              field="objectives")
    if source is None:
        problem: SearchProblem = Custom(cfg.space)
        source = ModelSource("<custom>", problem.decode(tuple(0 for _ in problem.genes))
                             .workload, has_module=False)
    else:
        problem = make_problem(cfg.problem, source, cfg.space, base_hw, loader)
    if cfg.algorithm.name == "milp":
        if not isinstance(problem, BlockScaling):
            raise SearchError("milp chooses block descendants from their profiles: it solves "
                              "block_scaling problems only", field="algorithm.name")
    else:  # its settings are checked before anything runs (a block search profiles first)
        make_algorithm(cfg.algorithm, problem.bounds, len(cfg.objectives),
                       len(cfg.constraints) + 1)
    return Oracle(cfg, problem, loader, source)


class _Progress:
    """A progress bar on stderr (candidates/s, best so far, ETA); silent off a terminal."""

    def __init__(self, total: int | None, objective: str, enabled: bool | None = None) -> None:
        self.bar: Any = None
        self.objective = objective
        self.best = math.inf
        if enabled is None:
            enabled = sys.stderr.isatty()
        if enabled:
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="cand", file=sys.stderr, dynamic_ncols=True,
                            desc="search", mininterval=0.2)

    def update(self, rows: Sequence[dict[str, Any]]) -> None:
        if self.bar is None:
            return
        for r in rows:
            v = r.get(self.objective, math.nan)
            if r["feasible"] and not math.isnan(v):
                v = -v if self.objective == ACCURACY else v
                self.best = min(self.best, v)
        self.bar.update(len(rows))
        if math.isfinite(self.best):
            shown = -self.best if self.objective == ACCURACY else self.best
            self.bar.set_postfix_str(f"best {self.objective} {shown:.4g}")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _expected(cfg: SearchConfig, grid_points: int) -> int | None:
    a = cfg.algorithm
    if a.name in ("nsga2", "random"):
        return a.pop_size * a.generations
    if a.name == "milp":
        return 1
    return grid_points


def run(config: object = None, *, progress: bool | None = None, **keys: Any) -> SearchResult:
    """Run a search; see the CONTRACT's "Search" section for the keys.

    Args:
        config: a dict of the keys, or a path to a search YAML (keywords override it).
        progress: show a progress bar on stderr (default: when stderr is a terminal).
        **keys: ``problem``, ``model``, ``hardware``, ``space``, ``objectives``,
            ``constraints``, ``accuracy``, ``mode``, ``batch``, ``algorithm``, ``executor``,
            ``checkpoint``.
    """
    return run_config(load_config(config, **keys), progress=progress)


def run_config(cfg: SearchConfig, *, progress: bool | None = None,
               prepare: Callable[[], None] | None = None) -> SearchResult:
    """Run a validated configuration; ``prepare`` runs once everything has been checked (the
    CLI creates its output directory there, so bad input leaves nothing behind)."""
    oracle = setup(cfg)
    executor = make_executor(cfg.executor)
    try:
        if prepare is not None:
            prepare()
        return _search(cfg, oracle, executor, progress)
    finally:
        executor.close()


def config_hash(cfg: SearchConfig, oracle: Oracle) -> str:
    return digest(cfg.identity(), oracle.fingerprint)


def provenance(cfg: SearchConfig, oracle: Oracle) -> dict[str, Any]:
    """What a search's results came from: versions, the configuration and its hash, the hash
    of what is evaluated (model, resolved spec, settings). No clock: same inputs, same file."""
    import pymoo

    from edgesim.version import __version__

    return {"edgesim": __version__, "pymoo": str(pymoo.__version__),
            "config_hash": config_hash(cfg, oracle), "oracle_hash": oracle.fingerprint,
            "spec_file": oracle.loader.file, "config": cfg.identity()}


def _search(cfg: SearchConfig, oracle: Oracle, executor: Executor,
            progress: bool | None) -> SearchResult:
    names = oracle.names
    problem = oracle.problem
    cpath = Path(cfg.checkpoint) if cfg.checkpoint else None
    chash = config_hash(cfg, oracle)
    blocks = problem if isinstance(problem, BlockScaling) else None
    if cpath is not None and cpath.exists():
        state = ckpt.load(cpath, chash)
    else:
        state = ckpt.SearchState(None)

    def new_algorithm() -> Any:
        return make_algorithm(cfg.algorithm, problem.bounds, len(cfg.objectives),
                              len(cfg.constraints) + 1, state.profiles, cfg.objectives[0],
                              cfg.constraints)

    if state.algorithm is None and blocks is None:
        state.algorithm = new_algorithm()
    total = _expected(cfg, math.prod(b + 1 for b in problem.bounds))
    if total is not None and problem.baseline() is not None:
        total += 1  # id 0, the unmodified model
    if total is not None and blocks is not None:
        total += len(blocks.profile_genomes())
    bar = _Progress(total, cfg.objectives[0], progress)
    bar.update(state.rows)

    def evaluate(items: Sequence[Genome | None]) -> list[Evaluation]:
        keys = [oracle.key(g) for g in items]
        todo: dict[str, Genome | None] = {}
        for k, g in zip(keys, items, strict=True):
            if k not in state.cache and k not in todo:
                todo[k] = g
        for (k, g), ev in zip(todo.items(), executor.map(oracle, list(todo.values())),
                              strict=True):
            # measured here, one candidate at a time, whatever ran the rest (a measurement
            # needs this machine to itself and is not reproducible: it is cached like the rest)
            state.cache[k] = oracle.measure_into(g, ev)
        return [state.cache[k] for k in keys]

    def record(items: Sequence[Genome | None], evals: Sequence[Evaluation], generation: int
               ) -> list[dict[str, Any]]:
        rows = []
        for g, ev in zip(items, evals, strict=True):
            cid = len(state.rows)
            row: dict[str, Any] = {"id": cid, "generation": generation,
                                   "baseline": g is None, "feasible": False}
            row.update(ev.metrics)
            row["feasible"] = not ev.error and violation(ev.metrics, cfg.constraints) == 0.0
            if state.profiles is not None:
                assert blocks is not None
                pred = state.profiles.predict(g if g is not None else blocks.baseline_genome)
                row.update({f"{PREDICTED}{n}": v for n, v in pred.items()})
                row["predicted_feasible"] = violation(pred, cfg.constraints) == 0.0
            row.update(problem.summary(g))
            row["error"] = ev.error
            row["_genome"] = g
            state.rows.append(row)
            state.genomes[cid] = g
            rows.append(row)
        return rows

    try:
        if blocks is not None and state.profiles is None:
            # LegoDNN's profiling: each descendant in the otherwise unmodified model
            profiled = blocks.profile_genomes()
            evals = evaluate([None, *profiled])
            state.profiles = BlockProfiles.build(
                names, blocks.zero, len(blocks.blocks), len(blocks.ratios), evals[0],
                profiled, evals[1:],
                profile_alone(oracle, blocks) if blocks.profile == "alone" else None)
            bar.update(record([None, *profiled], evals, 0))
            if cpath is not None:
                ckpt.save(cpath, state, chash)
        if state.algorithm is None:
            state.algorithm = new_algorithm()
        if not state.rows and problem.baseline() is not None:
            bar.update(record([None], evaluate([None]), 0))
        while not state.done:
            asked = state.algorithm.ask()
            if asked is None:
                state.done = True
                break
            # block_scaling: generation 0 is the profiling, the algorithm's come after it
            generation = state.algorithm.generation + (blocks is not None)
            evals = evaluate(asked)
            bar.update(record(asked, evals, generation))
            if state.profiles is not None:  # block_scaling scores by the profiles
                predicted = [state.profiles.predict(gn) for gn in asked]
                evals = [Evaluation(p) if not ev.error
                         and not any(math.isnan(v) for v in p.values())
                         else Evaluation(ev.metrics, ev.error or "no profile")
                         for p, ev in zip(predicted, evals, strict=True)]
            f = np.array([[_BAD if ev.error else (-ev.metrics[o] if o == ACCURACY
                                                   else ev.metrics[o])
                           for o in cfg.objectives] for ev in evals], dtype=float)
            g = np.array([[(_BAD if ev.error else v) for v in
                           (constraint_values(ev.metrics, cfg.constraints) if not ev.error
                            else [0.0] * len(cfg.constraints))] + [1.0 if ev.error else 0.0]
                          for ev in evals], dtype=float)
            state.algorithm.tell(asked, f, g)
            if cpath is not None:
                ckpt.save(cpath, state, chash)
        if cpath is not None:
            ckpt.save(cpath, state, chash)
    finally:
        bar.close()
    return _result(cfg, oracle, state, names)


def _result(cfg: SearchConfig, oracle: Oracle, state: ckpt.SearchState,
            names: list[str]) -> SearchResult:
    import pandas as pd

    rows = [dict(r) for r in state.rows]
    has_error = any(r["error"] for r in rows)
    for r in rows:
        if not has_error:
            del r["error"]
    history = pd.DataFrame(rows)
    if not history.empty:
        history["_genome"] = history["_genome"].map(lambda g: g if g is None else tuple(g))
        lead = ["id", "generation", "baseline", "feasible", *names]
        history = history[[*lead, *[c for c in history.columns if c not in lead]]]
    res = SearchResult(history, list(cfg.objectives), dict(cfg.constraints),
                       dict(state.genomes), oracle, profiles=state.profiles)
    if cfg.constraints and not history.empty and not history["feasible"].any():
        scores = [violation(r, cfg.constraints) for r in rows]
        res.closest = int(rows[int(np.argmin(scores))]["id"])
    return res


__all__ = ["config_hash", "make_problem", "provenance", "run", "run_config", "setup"]
