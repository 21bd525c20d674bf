"""The LegoDNN example, reduced (``--quick``): its lessons asserted on what it computed."""

from __future__ import annotations

from typing import Any

import pytest

from tests.examples.conftest import load_example, quick_summary


@pytest.fixture(scope="module")
def summary(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return quick_summary("legodnn", tmp_path_factory)


def test_milp_and_grid_agree_at_every_budget(summary: dict[str, Any]) -> None:
    rows = summary["digits"]["budgets"]
    assert rows and all(r["milp_equals_grid"] for r in rows)


def test_blocks_give_many_more_options_than_whole_models(summary: dict[str, Any]) -> None:
    d = summary["digits"]
    n_blocks, n_ratios = len(d["blocks"]), len(d["ratios"])
    assert d["block_grained_options"] == n_ratios ** n_blocks
    assert d["model_grained_options"] == n_ratios
    assert d["profiled_descendants"] == n_blocks * (n_ratios - 1)
    mbv2 = next(s for s in summary["scale"] if s["model"] == "mobilenet_v2")
    assert mbv2["block_grained_options"] == 4 ** 6 and mbv2["profiled_descendants"] == 18


def test_the_choice_meets_its_budget_and_the_profiles_overestimate(
        summary: dict[str, Any]) -> None:
    d = summary["digits"]
    assert d["weight_bytes_exact"]
    assert any(r["milp_feasible"] for r in d["budgets"])
    for r in d["budgets"]:
        # the blocks alone cost more than the model they make: a choice meets its budget
        assert r["latency_gap"] < 0
        if r["milp_feasible"]:
            assert r["predicted_latency_s"] <= r["latency_budget_s"]
            assert r["meets_budget_simulated"]
    for s in summary["scale"]:
        assert 0 < s["latency_gap_median"] < 0.25 and s["latency_gap_signed_mean"] < 0


def test_the_report_is_computed_from_the_summary(summary: dict[str, Any]) -> None:
    text = load_example("legodnn").report(summary)
    d = summary["digits"]
    assert f"{d['block_grained_options']} models" in text
    assert f"{d['max_abs_latency_gap']:.2%}" in text


def test_the_report_table_counts_what_the_summary_holds(summary: dict[str, Any]) -> None:
    from edgesim.report.seeds import legodnn_table

    d = summary["digits"]
    table = legodnn_table(summary)
    assert len(table.rows) == len(d["budgets"])
    agree = sum(r["milp_equals_grid"] for r in d["budgets"])
    assert f"grid's optimum at {agree} of {len(d['budgets'])} budgets" in table.note
    assert f"{d['max_abs_latency_gap']:.1%} in latency" in table.note


def test_two_models_share_one_budget(summary: dict[str, Any]) -> None:
    j = summary["joint"]
    assert j["joint_options"] == len(j["ratios"]) ** 6  # three blocks each
    assert j["budgets"]
    for r in j["budgets"]:
        if r["feasible"]:
            assert r["predicted_latency_s"] <= r["latency_budget_s"]
        # by turns, the pair costs what the profiles add up to, less what stays on chip
        assert r["turns_latency_s"] <= r["predicted_latency_s"]
    # co-running is not taking turns: the SimPy model overlaps and contends
    p = j["parents"]
    assert p["corun_latency_s"] != pytest.approx(p["turns_latency_s"], rel=1e-6)
