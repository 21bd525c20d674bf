"""CCG (examples/ccg.py --quick, a narrow CycleGAN pair): two populations co-evolve, each scored
with the other's current best; the best pair meets the MACs target, what it keeps of the latency
is the oracle's, not the MACs kept, and the partner enters each score."""

from __future__ import annotations

from typing import Any

import pytest

from tests.examples.conftest import load_example, quick_summary


@pytest.fixture(scope="module")
def summary(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return quick_summary("ccg", tmp_path_factory)


def test_both_populations_meet_the_target(summary: dict[str, Any]) -> None:
    assert summary["evaluated"] == 2 * summary["pop_size"] * summary["generations"]
    for side in ("A2B", "B2A"):
        best, curve = summary["best"][side], summary["curves"][side]
        assert len(curve) == summary["generations"]
        assert best["genome"] is not None and best["macs_kept"] <= summary["macs_budget"]
        assert best["params_kept"] < 1 and best["distance"] > 0
        # compression is not speed-up: the chip keeps more of the latency than of the MACs
        assert best["latency_kept"] > best["macs_kept"]


def test_the_cycle_term_uses_the_partner() -> None:
    """An unpruned generator scores 0 with the unpruned partner, and more as soon as the
    partner is changed (here: its output layer's weights halved), though its own output is
    untouched."""
    import copy

    import torch

    ex = load_example("ccg")
    gen = ex.generators(quick=True)
    x = torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    a, b = gen["A2B"], gen["B2A"]
    assert ex.distance(a, a, b, b, x) == 0.0
    changed = copy.deepcopy(b)
    last = [m for m in changed.modules() if isinstance(m, torch.nn.Conv2d)][-1]
    with torch.no_grad():
        last.weight.mul_(0.5)
    assert ex.distance(a, a, changed, b, x) > 0


def test_the_report_table(summary: dict[str, Any]) -> None:
    from edgesim.report.seeds import ccg_table

    t = ccg_table(summary)
    assert len(t.rows) == 2 and "latency" in t.note
