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
