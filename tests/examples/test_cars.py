"""The CARS example, reduced (``--quick``): latency, not FLOPs, orders the front."""

from __future__ import annotations

from typing import Any

import pytest

from tests.examples.conftest import quick_summary


@pytest.fixture(scope="module")
def summary(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return quick_summary("cars", tmp_path_factory)


def test_macs_misorder_latency(summary: dict[str, Any]) -> None:
    # a FLOP counter would rank the candidates exactly as their latency
    assert summary["spearman_macs_latency"] < 0.98
    pair = summary["misordered_pair"]
    assert pair is not None
    assert pair["fewer_macs"]["macs"] < pair["more_macs"]["macs"]
    assert pair["fewer_macs"]["latency_s"] > pair["more_macs"]["latency_s"]


def test_the_fronts_keep_different_networks(summary: dict[str, Any]) -> None:
    latency = {c["id"] for c in summary["latency_front"]}
    macs = {c["id"] for c in summary["macs_front"]}
    assert latency != macs
    assert summary["only_on_macs_front"] == len(macs - latency)


def test_the_report_table_is_computed_from_the_summary(summary: dict[str, Any]) -> None:
    from edgesim.report.seeds import cars_table

    table = cars_table(summary)
    assert len(table.rows) == len(summary["latency_front"])
    assert f"{summary['spearman_macs_latency']:.2f}" in table.note
