"""``measured_latency_s``: the candidate's torch module timed on this machine, in the search's
own process whatever the executor, cached like every evaluation."""

from __future__ import annotations

import math
import os

import pytest

import edgesim.measurement as measurement
from edgesim.errors import SearchError
from edgesim.search import run

CONFIG = {"problem": "channel_pruning", "model": "lenet5", "hardware": "edge-npu",
          "space": {"granularity": "group", "ratios": [0.0, 0.5]},
          "objectives": ["latency_s", "measured_latency_s"],
          "algorithm": {"name": "nsga2", "pop_size": 4, "generations": 2, "seed": 0}}


@pytest.fixture
def measured_here(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The real es.measure, recording the process each call ran in (a worker process would
    not see this wrapper, so a measurement made there would go unrecorded)."""
    pids: list[int] = []
    real = measurement.measure

    def recording(*args: object, **kwargs: object) -> measurement.Measurement:
        pids.append(os.getpid())
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(measurement, "measure", recording)
    return pids


@pytest.mark.parametrize("executor", ["serial", "processes"])
def test_measured_in_this_process_once_per_distinct_candidate(executor: str,
                                                              measured_here: list[int]) -> None:
    res = run({**CONFIG, "executor": executor}, progress=False)
    h = res.history
    assert h["measured_latency_s"].map(lambda v: math.isfinite(v) and v > 0).all()
    distinct = len({repr(g) for g in h["_genome"]})  # the baseline (None) included
    assert measured_here == [os.getpid()] * distinct  # here, and a repeat is not re-measured
    assert "error" not in h  # no candidate failed


@pytest.mark.parametrize(("problem", "space", "why"), [
    ("mixed_precision", {"weight_bits": [4, 8], "act_bits": [8]}, "fake-quantized"),
    ("hardware", {"memory.dram.bandwidth": ["8 GB/s", "16 GB/s"]}, "does not change")])
def test_problems_whose_module_does_not_change_refuse_it(problem: str, space: dict[str, object],
                                                         why: str) -> None:
    with pytest.raises(SearchError, match=why) as err:
        run({**CONFIG, "problem": problem, "space": space}, progress=False)
    assert err.value.field == "objectives"


def test_a_model_without_weights_refuses_it() -> None:
    with pytest.raises(SearchError, match="needs a torch model"):
        run({**CONFIG, "model": "workloads/small3.yaml"}, progress=False)
