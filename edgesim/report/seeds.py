"""The seed systems' saved example outputs (``make examples``) as report tables; never re-run."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from edgesim.report.tables import Table

# examples/results/ of the checkout this package runs from (an installed copy has none)
RESULTS = Path(__file__).resolve().parents[2] / "examples" / "results"


def legodnn_table(summary: dict[str, Any]) -> Table:
    """Block-grained (MILP over block profiles) against model-grained scaling, per budget."""
    d = summary["digits"]
    blocks = d["blocks"]
    t = Table(f"Seed system: LegoDNN block-grained scaling, {d['model']} "
              f"({d['profiled_descendants']} descendants profiled -> "
              f"{d['block_grained_options']} models; model-grained: "
              f"{d['model_grained_options']})",
              ["latency budget", "block keep (" + ", ".join(blocks) + ")",
               "predicted us", "simulated us", "accuracy", "model-grained keep",
               "model-grained accuracy"])
    better, diffs = 0, []
    for r in d["budgets"]:
        choice = ", ".join(f"{r['milp_choice'][b]:.2f}" for b in blocks)
        mg = r["model_accuracy"]
        t.add([f"{r['budget_fraction']:.0%} ({r['latency_budget_s'] * 1e6:.2f} us)",
               choice if r["milp_feasible"] else f"none fits (closest {choice})",
               f"{r['predicted_latency_s'] * 1e6:.2f}", f"{r['simulated_latency_s'] * 1e6:.2f}",
               f"{r['block_accuracy']:.3f}",
               "none fits" if mg is None else f"{r['model_keep']:.2f}",
               "" if mg is None else f"{mg:.3f}"])
        if mg is not None and r["milp_feasible"]:
            diffs.append((r["block_accuracy"] - mg, r["budget_fraction"]))
            better += r["block_accuracy"] > mg
    agree = sum(r["milp_equals_grid"] for r in d["budgets"])
    best = max(diffs, default=(0.0, 0.0))
    t.note = (f"At {better} of {len(diffs)} budgets the block-grained choice measures more "
              f"accurate than the one uniformly pruned model that fits"
              + (f" (by {best[0] * 100:.1f} points at {best[1]:.0%})" if best[0] > 0 else "")
              + f". The MILP found the exhaustive grid's optimum at {agree} of "
              f"{len(d['budgets'])} budgets. Profiled alone, the blocks overestimate the whole "
              f"model by up to {d['max_abs_latency_gap']:.1%} in latency and "
              f"{d['max_abs_energy_gap']:.1%} in energy (tensors that cross a block boundary "
              f"stay on chip in the whole model); the additive accuracy estimate is off by "
              f"{d['median_abs_accuracy_gap'] * 100:.1f} points median.")
    return t


# Example name -> its table (the seed systems with an example so far).
SEEDS: dict[str, Callable[[dict[str, Any]], Table]] = {"legodnn": legodnn_table}


def seed_tables(results: Path = RESULTS) -> list[Table]:
    """One table per seed system whose example has saved a summary under ``results``; a single
    table saying how to produce them when none has."""
    tables = []
    for name, make in SEEDS.items():
        path = results / name / "summary.json"
        if path.is_file():
            tables.append(make(json.loads(path.read_text())))
    if not tables:
        t = Table("Seed systems", ["example", "status"])
        for name in SEEDS:
            t.add([name, "no saved output"])
        t.note = f"Run `make examples` to produce them under {results}."
        tables.append(t)
    return tables


__all__ = ["RESULTS", "SEEDS", "legodnn_table", "seed_tables"]
