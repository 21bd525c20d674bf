"""The same seed gives the same history on every executor: serial, worker processes, and a real
Dask cluster (scheduler and workers as separate processes)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from edgesim.search import run

KW: dict[str, Any] = {
    "problem": "channel_pruning", "model": "lenet5", "space": {"granularity": "filter"},
    "objectives": ["accuracy", "latency_s"], "constraints": {"energy_j": 1.0},
    "accuracy": "tests.search.helpers:seeded_noise",  # equal only if seeded per candidate
    "algorithm": {"name": "nsga2", "pop_size": 10, "generations": 3, "seed": 5},
    "progress": False,
}


@pytest.fixture(scope="module")
def serial() -> pd.DataFrame:
    return run(**KW).table()


def test_processes_equal_serial(serial: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(run(**KW, executor="processes").table(), serial)


def test_dask_cluster_equals_serial(serial: pd.DataFrame, dask_cluster: str) -> None:
    pd.testing.assert_frame_equal(run(**KW, executor=dask_cluster).table(), serial)


def test_dask_client_object(dask_cluster: str) -> None:
    from distributed import Client

    kw = {**KW, "problem": "hardware", "space": {"compute.pe_array.rows": [4, 8, 16]},
          "objectives": ["latency_s"], "constraints": {}, "accuracy": None, "algorithm": "grid"}
    with Client(dask_cluster) as client:
        got = run(**kw, executor=client).table()
        assert client.status == "running"  # a Client given by the user stays open
    pd.testing.assert_frame_equal(got, run(**kw).table())


def test_a_worker_scores_cost_without_importing_torch() -> None:
    """The oracle travels to a fresh process; pruning candidates are scored on the IR alone."""
    import pickle
    import subprocess
    import sys

    from edgesim.search.config import load_config
    from edgesim.search.run import setup

    oracle = setup(load_config(problem="channel_pruning", model="resnet18"))
    code = ("import pickle, sys; o = pickle.loads(sys.stdin.buffer.read()); "
            "e = o.evaluate_many([o.problem.baseline_genome, None]); "
            "print(e[0].metrics == e[1].metrics, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], input=pickle.dumps(oracle),
                         capture_output=True, check=True)
    assert out.stdout.decode().split() == ["True", "False"]


def test_digits_accuracy_is_the_same_on_worker_processes() -> None:
    """The real accuracy path (a trained parent, seeded fine-tuning on one thread) gives the
    serial run's numbers on worker processes too."""
    kw: dict[str, Any] = {
        "problem": "channel_pruning", "model": "edgesim.compress.data:digits_model",
        "space": {"granularity": "group", "ratios": [0.0, 0.5]},
        "objectives": ["accuracy", "macs"],
        "accuracy": {"data": "digits", "train_steps": 40, "finetune_steps": 3},
        "algorithm": {"name": "nsga2", "pop_size": 4, "generations": 2, "seed": 0},
        "progress": False}
    serial = run(**kw).table()
    assert serial["accuracy"].nunique() > 1
    pd.testing.assert_frame_equal(run(**kw, executor="processes").table(), serial)
