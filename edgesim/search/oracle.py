"""The fitness oracle: a genome's objectives and constraint metrics, from the IR (fast path) and,
for accuracy, from its torch module."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from edgesim.errors import EdgesimError, SearchError
from edgesim.hardware.load import SpecLoader
from edgesim.hardware.model import Hardware
from edgesim.results import SimResult
from edgesim.search.config import ACCURACY, MEASURED_LATENCY, AccuracyConfig, SearchConfig
from edgesim.search.model import ModelSource, import_object
from edgesim.search.problem import Decoded, Genome, SearchProblem, digest
from edgesim.sim import schedule_for, simulate
from edgesim.sim.metrics import Figures, analytic_figures
from edgesim.vocab import Mode

if TYPE_CHECKING:
    from torch import nn

Metrics = dict[str, float]  # metric name -> value; "error" is a key only in `errors`
AccuracyFn = Callable[..., float]


def metric_names(cfg: SearchConfig) -> list[str]:
    """Objectives, then constraint metrics not already objectives (each once)."""
    return [*cfg.objectives, *[c for c in cfg.constraints if c not in cfg.objectives]]


@dataclass
class Evaluation:
    """What one evaluation produced: the metrics, or the one-line reason it could not run."""

    metrics: Metrics
    error: str = ""


class Oracle:
    """Scores genomes of one problem on one base spec (picklable: it travels to workers)."""

    def __init__(self, cfg: SearchConfig, problem: SearchProblem, loader: SpecLoader,
                 source: ModelSource) -> None:
        self.problem = problem
        self.loader = loader
        self.source = source
        self.mode = cfg.mode
        self.batch = cfg.batch
        self.names = metric_names(cfg)
        self.accuracy: AccuracyConfig | str | AccuracyFn | None = (
            cfg.accuracy if ACCURACY in self.names else None)
        self.seed = cfg.algorithm.seed
        self.measures = MEASURED_LATENCY in self.names
        weights = source.fingerprint() if self.accuracy is not None else ""
        self.fingerprint = digest(problem.fingerprint(), weights, loader.file, loader.raw,
                                  cfg.mode.value, cfg.batch, self.names,
                                  _accuracy_id(self.accuracy), cfg.constraints, _version())

    def key(self, genome: Genome | None) -> str:
        """The evaluation cache key: genome + everything the result depends on."""
        return digest(self.fingerprint, genome)

    def hardware(self, decoded: Decoded) -> Hardware:
        return self.loader(dict(decoded.overrides) if decoded.overrides else None)

    def decode(self, genome: Genome | None) -> Decoded:
        if genome is None:
            base = self.problem.baseline()
            if base is None:
                raise SearchError(f"a {self.problem.kind.value} search has no baseline")
            return base
        return self.problem.decode(genome)

    def simulate(self, genome: Genome | None) -> tuple[Decoded, Hardware, SimResult]:
        decoded = self.decode(genome)
        hw = self.hardware(decoded)
        return decoded, hw, simulate(decoded.workload, hw, mode=self.mode, batch=self.batch)

    def figures(self, genome: Genome | None) -> Figures | SimResult:
        """The candidate's whole-run figures: in analytic mode without per-layer records
        (``sim.metrics``, the same numbers), else the full result."""
        decoded = self.decode(genome)
        hw = self.hardware(decoded)
        if self.mode == Mode.ANALYTIC:
            return analytic_figures(schedule_for(decoded.workload, hw, self.batch))
        return simulate(decoded.workload, hw, mode=self.mode, batch=self.batch)

    def evaluate(self, genome: Genome | None) -> Evaluation:
        """Score one genome (``None``: the baseline); an invalid design is an error row.

        ``measured_latency_s`` is left NaN here (this may run in a worker): the search measures
        it in its own process afterwards (:meth:`measure_into`)."""
        try:
            res = self.figures(genome)
            metrics: Metrics = {}
            for name in self.names:
                if name == ACCURACY:
                    metrics[name] = self._accuracy(genome)
                elif name == MEASURED_LATENCY:
                    metrics[name] = math.nan
                else:
                    metrics[name] = float(getattr(res, name))
            return Evaluation(metrics)
        except EdgesimError as exc:
            return Evaluation({n: math.nan for n in self.names}, str(exc))

    def measure_into(self, genome: Genome | None, ev: Evaluation) -> Evaluation:
        """``ev`` with the candidate's torch module timed on this machine (one thread, eval
        mode, median of the timed calls: ``es.measure``); an error row if it cannot run."""
        if not self.measures or ev.error:
            return ev
        from edgesim.measurement import measure

        try:
            if genome is None:  # the parent itself: measured on a copy (eval() sets a mode)
                import copy

                module, inputs = self.source.module()
                module = copy.deepcopy(module)
            else:
                module, inputs = self.problem.module(genome)
            module.eval()
            median = measure(module, inputs, threads=1).median_s
        except EdgesimError as exc:
            return Evaluation({n: math.nan for n in self.names}, str(exc))
        except Exception as exc:  # the candidate's module failed to run: an error row, reported
            return Evaluation({n: math.nan for n in self.names},
                              f"measuring the candidate failed: {type(exc).__name__}: {exc}")
        return Evaluation({**ev.metrics, MEASURED_LATENCY: median})

    def evaluate_many(self, genomes: Sequence[Genome | None]) -> list[Evaluation]:
        return [self.evaluate(g) for g in genomes]

    # ---- accuracy (torch) ------------------------------------------------------------------
    def _accuracy(self, genome: Genome | None) -> float:
        import torch

        if genome is None:
            module, inputs = self.source.module()
        else:
            module, inputs = self.problem.module(genome)
        seed = int(digest(self.seed, genome)[:8], 16)
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            torch.manual_seed(seed)
            return float(self._measure(module, inputs, seed))
        finally:
            torch.set_num_threads(threads)

    def _measure(self, module: nn.Module, inputs: tuple[Any, ...], seed: int) -> float:
        acc = self.accuracy
        if isinstance(acc, AccuracyConfig):
            from edgesim.compress.data import evaluate

            side = int(inputs[0].shape[-1])
            return evaluate(module, acc.data, finetune_steps=acc.finetune_steps, seed=seed,
                            input_size=None if side == 8 else side)
        fn = import_object(acc, "accuracy") if isinstance(acc, str) else acc
        assert fn is not None
        try:
            value = fn(module, inputs)
        except EdgesimError:
            raise
        except Exception as exc:  # the user's function failed: a bug in it, reported plainly
            raise SearchError(f"the accuracy function failed: {type(exc).__name__}: {exc}",
                              field="accuracy") from exc
        if isinstance(value, bool) or not isinstance(value, int | float | np.floating):
            raise SearchError(f"the accuracy function must return a number, got {value!r}",
                              field="accuracy")
        return float(value)


def train_parent(source: ModelSource, acc: AccuracyConfig, seed: int) -> ModelSource:
    """The model trained once on the data set (the parent every candidate starts from), on one
    thread like every evaluation (float sums differ between thread counts)."""
    import torch

    from edgesim.compress.data import train
    from edgesim.workload.trace import trace

    if not source.has_module:
        raise SearchError("accuracy needs a torch model", field="accuracy")
    module, inputs = source.module()
    side = int(inputs[0].shape[-1])
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        trained = train(module, acc.data, steps=acc.train_steps, seed=seed,
                        input_size=None if side == 8 else side) if acc.train_steps else module
    finally:
        torch.set_num_threads(threads)
    trained.eval()
    wl = trace(trained, inputs, name=source.workload.name)
    return ModelSource(source.ref, wl, has_module=True, _module=(trained, inputs))


def _accuracy_id(acc: object) -> object:
    if isinstance(acc, AccuracyConfig):
        return acc.model_dump()
    if callable(acc):
        return f"{getattr(acc, '__module__', '')}:{getattr(acc, '__qualname__', repr(acc))}"
    return acc


def _version() -> str:
    from edgesim.version import __version__

    return __version__


__all__ = ["Evaluation", "Metrics", "Oracle", "metric_names", "train_parent"]
