"""CCG (examples/ccg.py --quick, a narrow CycleGAN pair): two populations co-evolve, each scored
with the other's current best; the best pair meets the MACs target, and what it keeps of the
latency is the oracle's, not the MACs kept."""

from __future__ import annotations

from typing import Any

import pytest

from tests.examples.conftest import load_example, quick_summary


@pytest.fixture(scope="module")
def summary(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return quick_summary("ccg", tmp_path_factory)


def test_both_populations_evolve_to_the_target(summary: dict[str, Any]) -> None:
    assert summary["evaluated"] == 2 * summary["pop_size"] * summary["generations"]
    for side in ("A2B", "B2A"):
        best, curve = summary["best"][side], summary["curves"][side]
        assert len(curve) == summary["generations"]
        assert best["genome"] is not None and best["macs_kept"] <= summary["macs_budget"]
        # a best only improves: the distance within the budget never rises
        within = [r["best_distance"] for r in curve if r["within_budget"]]
        assert within == sorted(within, reverse=True)
        assert best["params_kept"] < 1 and best["distance"] > 0
        # compression is not speed-up: the chip keeps more of the latency than of the MACs
        assert best["latency_kept"] > best["macs_kept"]


def test_the_cycle_term_uses_the_partner() -> None:
    """The distance of an unpruned generator is 0 only with the unpruned partner."""
    import torch

    ex = load_example("ccg")
    gen = ex.generators(quick=True)
    x = torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    a, b = gen["A2B"], gen["B2A"]
    assert ex.distance(a, a, b, b, x) == 0.0
    assert ex.distance(a, a, gen["A2B"], b, x) > 0  # another partner: the cycle term moves


def test_the_report_table(summary: dict[str, Any]) -> None:
    from edgesim.report.seeds import ccg_table

    t = ccg_table(summary)
    assert len(t.rows) == 2 and "latency" in t.note
