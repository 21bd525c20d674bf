"""The TEC example, reduced (``--quick``): its lessons asserted on what it computed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.examples.conftest import quick_summary


@pytest.fixture(scope="module")
def summary(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    summary = quick_summary("tec", tmp_path_factory)
    assert (Path(summary["_out"]) / "tec.png").stat().st_size > 0
    return summary


def test_a_front_candidate_keeps_60_percent_of_the_macs_within_a_point(
        summary: dict[str, Any]) -> None:
    d = summary["digits"]
    best = d["best_at_target"]
    assert d["meets_the_target"] and best is not None
    assert best["macs_kept"] <= 0.60
    assert best["accuracy"] >= d["parent"]["accuracy"] - 0.01
    assert any(p["id"] == best["id"] for p in d["front"])


def test_the_curve_has_one_point_per_generation(summary: dict[str, Any]) -> None:
    d = summary["digits"]
    assert [c["generation"] for c in d["curve"]] == list(range(d["generations"]))
    assert d["curve"][-1]["evaluated"] == d["evaluated"] - 1  # all but the parent


def test_resnet18_genes_are_its_filters_and_latency_is_not_macs(
        summary: dict[str, Any]) -> None:
    r = summary["resnet18"]
    # one bit per filter of every prunable group (the last conv and the classifier are kept)
    assert r["genes"] == 2880
    # compression is not speed-up: some front candidate keeps more latency than MACs
    assert r["largest_latency_minus_macs_kept"] > 0


def test_the_report_table_is_computed_from_the_summary(summary: dict[str, Any]) -> None:
    from edgesim.report.seeds import tec_table

    d = summary["digits"]
    table = tec_table(summary)
    assert len(table.rows) == len(d["curve"])
    best = d["best_at_target"]
    assert f"{best['macs_kept']:.0%} of the MACs" in table.note
