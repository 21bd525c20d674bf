"""The search configuration: the keys of ``es.search.run`` (CONTRACT "Search"), validated once."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from edgesim.errors import SearchError, known_keys, unknown_key
from edgesim.hardware.spec import render_loc
from edgesim.search.problem import ProblemKind
from edgesim.vocab import Mode
from edgesim.yamlutil import load_yaml, read_text

# Numeric SimResult fields an objective or constraint may name (all minimised / upper bounds).
RESULT_METRICS = ("latency_s", "latency_cycles", "energy_j", "dynamic_energy_j", "area_mm2",
                  "macs", "adds", "params", "weight_bytes", "dram_read_bytes",
                  "dram_write_bytes")
ACCURACY = "accuracy"  # maximised; a constraint on it is a lower bound
# The candidate's torch module timed on this machine (es.measure): minimised, measured serially
# in the search's own process whatever the executor, cached; not bit-reproducible.
MEASURED_LATENCY = "measured_latency_s"
METRICS = (*RESULT_METRICS, ACCURACY, MEASURED_LATENCY)


class AlgorithmConfig(BaseModel):
    """``{"name": ..., "pop_size": ..., "generations": ..., "seed": ...}``."""

    model_config = ConfigDict(extra="forbid")

    name: Literal["nsga2", "grid", "random", "milp"] = "nsga2"
    pop_size: int = Field(40, ge=2, le=100_000)  # nsga2, random: candidates per generation
    generations: int = Field(25, ge=1, le=100_000)  # nsga2, random
    seed: int = Field(0, ge=0)
    max_points: int = Field(100_000, ge=1)  # grid: refuse larger grids


class AccuracyConfig(BaseModel):
    """Accuracy on scikit-learn's digits: the parent is trained once, each candidate fine-tuned
    briefly from it (seeded), then measured on the fixed test split."""

    model_config = ConfigDict(extra="forbid")

    data: Literal["digits"] = "digits"
    train_steps: int = Field(300, ge=0)
    finetune_steps: int = Field(40, ge=0)


class SearchConfig(BaseModel):
    """Every key of a search (YAML or Python); ``extra`` keys are errors."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    problem: ProblemKind
    model: Any = None
    hardware: str = "edge-npu"
    space: dict[str, Any] = Field(default_factory=dict)
    objectives: list[str] = Field(default_factory=lambda: ["latency_s", "energy_j"],
                                  min_length=1)
    constraints: dict[str, float] = Field(default_factory=dict)
    accuracy: Any = None
    mode: Mode = Mode.ANALYTIC
    batch: int | None = Field(None, ge=1)
    algorithm: AlgorithmConfig = Field(default_factory=lambda: AlgorithmConfig.model_validate({}))
    executor: Any = "serial"
    checkpoint: str | None = None

    @field_validator("algorithm", mode="before")
    @classmethod
    def _bare_name(cls, v: object) -> object:
        return {"name": v} if isinstance(v, str) else v

    @field_validator("objectives")
    @classmethod
    def _objectives(cls, v: list[str]) -> list[str]:
        for name in v:
            _check_metric(name)
        if len(set(v)) != len(v):
            raise ValueError("an objective is listed twice")
        return v

    @field_validator("constraints")
    @classmethod
    def _constraints(cls, v: dict[str, float]) -> dict[str, float]:
        for name in v:
            _check_metric(name)
        return v

    @field_validator("accuracy", mode="before")
    @classmethod
    def _accuracy(cls, v: object) -> object:
        if v is None or callable(v):
            return v
        if v == "digits":
            return AccuracyConfig.model_validate({})
        if isinstance(v, Mapping):
            return AccuracyConfig.model_validate(dict(v))
        if isinstance(v, str) and ":" in v:
            return v
        raise ValueError(f"expected null, 'digits', {{data: digits, finetune_steps: N}}, a "
                         f"callable or 'pkg.module:function', got {v!r}")

    @property
    def needs_accuracy(self) -> bool:
        return ACCURACY in self.objectives or ACCURACY in self.constraints

    @property
    def needs_measurement(self) -> bool:
        return MEASURED_LATENCY in self.objectives or MEASURED_LATENCY in self.constraints

    def identity(self) -> dict[str, Any]:
        """What the results depend on (not the executor, not where checkpoints go)."""
        acc = self.accuracy
        return {
            "problem": self.problem.value,
            "model": self.model if isinstance(self.model, str) else repr(type(self.model)),
            "hardware": self.hardware, "space": self.space, "objectives": self.objectives,
            "constraints": self.constraints, "mode": self.mode.value, "batch": self.batch,
            "algorithm": self.algorithm.model_dump(),
            "accuracy": acc.model_dump() if isinstance(acc, AccuracyConfig)
            else getattr(acc, "__qualname__", acc),
        }


class _MetricError(ValueError):
    pass


def _check_metric(name: str) -> None:
    if name not in METRICS:
        raise _MetricError(f"unknown metric {name!r} (known: {', '.join(METRICS)})")


def load_config(config: object = None, file: str | None = None,
                **keys: Any) -> SearchConfig:
    """A :class:`SearchConfig` from a dict, a path to a search YAML, or keyword arguments."""
    data: dict[str, Any]
    if config is None:
        data = {}
    elif isinstance(config, SearchConfig):
        data = dict(config)
    elif isinstance(config, str | Path):
        path = Path(config)
        file = str(path)
        raw = load_yaml(read_text(path, SearchError), file, SearchError)
        if not isinstance(raw, dict):
            raise SearchError("expected a mapping of search keys", file=file)
        data = raw
    elif isinstance(config, Mapping):
        data = dict(config)
    else:
        raise SearchError(f"expected a config dict or a path to a search YAML, got "
                          f"{type(config).__name__}")
    data.update({k: v for k, v in keys.items() if v is not None or k not in data})
    try:
        return SearchConfig.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        err = next((e for e in errors if e.get("type") == "extra_forbidden"), errors[0])
        loc = render_loc(tuple(err.get("loc", ())))
        kind = err.get("type", "")
        if kind == "extra_forbidden":
            msg = unknown_key(str(err["loc"][-1]), known_keys(SearchConfig, err["loc"]))
        elif kind == "missing":
            msg = "missing required key"
        elif kind == "value_error":
            msg = str(err.get("ctx", {}).get("error", err.get("msg")))
        else:
            msg = f"{err.get('msg')}, got {err.get('input')!r}"
        raise SearchError(msg, file=file, field=loc or None) from None


__all__ = ["ACCURACY", "MEASURED_LATENCY", "METRICS", "RESULT_METRICS", "AccuracyConfig",
           "AlgorithmConfig", "SearchConfig", "load_config"]
