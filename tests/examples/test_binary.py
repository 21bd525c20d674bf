"""Binary width search (examples/binary.py --quick): binary layers run as XNOR-popcount where it
pays, the widest binary net within an int8 net's budget is found from the simulations, and the
lesson is the trained nets' measured accuracies."""

from __future__ import annotations

from typing import Any

import pytest

from tests.examples.conftest import load_example, quick_summary


@pytest.fixture(scope="module")
def summary(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return quick_summary("binary", tmp_path_factory)


def test_binary_is_cheaper_at_every_width(summary: dict[str, Any]) -> None:
    by = {(r["kind"], r["width"]): r for r in summary["rows"]}
    for w in summary["widths"]:
        assert by["binary", w]["energy_j"] < by["int8", w]["energy_j"]
        assert by["binary", w]["weight_bytes"] < by["int8", w]["weight_bytes"]


def test_widest_binary_within_each_budget(summary: dict[str, Any]) -> None:
    by = {(r["kind"], r["width"]): r for r in summary["rows"]}
    for metric, b in summary["budgets"].items():
        fits = [w for w in summary["widths"] if by["binary", w][metric] <= b["limit"]]
        assert b["widest_binary"] == max(fits)  # the anchor width itself always fits
    les = load_example("binary").lessons(summary)
    for d in les.values():
        assert d["accuracy_gap_points"] is not None and d["width_ratio"] >= 1


def test_the_report_table(summary: dict[str, Any]) -> None:
    from edgesim.report.seeds import binary_table

    t = binary_table(summary)
    assert len(t.rows) == len(summary["rows"]) and "points" in t.note
