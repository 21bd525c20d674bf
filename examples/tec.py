"""TEC, Towards Evolutionary Compression (SIGKDD 2018): one keep-bit per filter, evolved.

TEC encodes a pruned CNN as one 0/1 gene per filter and evolves a population with selection,
crossover and mutation, scoring each individual by accuracy and compactness. This example runs
that search through ``es.search.run`` (``problem="channel_pruning"``, ``granularity: filter``):

1. A CNN for scikit-learn's digits (``edgesim.compress.data.trained_digits_model``), trained
   once; each candidate is fine-tuned briefly from the parent (seeded) and its accuracy
   measured on the held-out split (450 images; the same split selects and reports, so the
   figures are optimistic). Objectives: accuracy (maximised) and MACs (minimised). The front, and per
   generation the best accuracy among candidates that keep at most 60% of the MACs and the
   fewest MACs kept within one point of the parent (the paper's fitness-per-generation figure).
2. The same search on ResNet-18, cost only (latency and energy on ``edge-npu``), to show scale:
   thousands of genes, and a front where MACs kept and latency kept part ways.

Choices the paper leaves open or that differ here (a careful engineer's, stated):
- NSGA-II (pymoo: two-point crossover and bit-flip mutation on the binary genome) replaces
  TEC's scalarised fitness and its own selection; the two objectives are kept apart, and the
  per-generation curves are read off the two objectives.
- Filters coupled by a residual add are one gene per channel of the coupled group (they must go
  together); a group keeps at least one filter.
- Fine-tuning is brief (40 Adam steps) and seeded per candidate, so the history is reproducible.
  The parent's accuracy is its own after the same fine-tune (0.991 here; 0.993 untuned).
- On digits, a random half of the filters already keeps a point of accuracy at about a quarter
  of the MACs: the initial population meets the 60% target, and evolution's work shows in the
  fewest MACs kept within a point falling over the generations.

Run: ``python examples/tec.py [--quick] [--out DIR]`` (``make examples`` runs it in full and saves
``examples/results/tec/``; ``--quick`` is the reduced run the test uses).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

HARDWARE = "edge-npu"
MACS_LIMIT = 0.60  # "keeps at most 60% of the MACs"
POINT = 0.01  # "within about a point of the parent's accuracy"


def digits_case(quick: bool) -> tuple[dict[str, Any], Any]:
    import edgesim as es
    from edgesim.compress.data import trained_digits_model

    pop, gens, finetune = (6, 2, 40) if quick else (24, 15, 40)
    parent = trained_digits_model(16, steps=300, seed=0)  # trained once, as TEC's parent
    res = es.search.run(
        problem="channel_pruning", model=parent,
        hardware=HARDWARE, space={"granularity": "filter"}, objectives=["accuracy", "macs"],
        accuracy={"data": "digits", "train_steps": 0, "finetune_steps": finetune},
        algorithm={"name": "nsga2", "pop_size": pop, "generations": gens, "seed": 0},
        progress=False)
    h = res.table()
    base = h.iloc[0]
    h = h.assign(macs_kept=h["macs"] / base["macs"])
    curve = []
    for g in sorted(set(h["generation"])):
        seen = h[(h["generation"] <= g) & ~h["baseline"]]
        small = seen[seen["macs_kept"] <= MACS_LIMIT]
        close = seen[seen["accuracy"] >= base["accuracy"] - POINT]
        curve.append({"generation": int(g), "evaluated": len(seen),
                      "best_accuracy_at_60pct_macs":
                          float(small["accuracy"].max()) if len(small) else None,
                      "fewest_macs_kept_within_a_point":
                          float(close["macs_kept"].min()) if len(close) else None})
    front = res.pareto.assign(macs_kept=lambda f: f["macs"] / base["macs"]).sort_values(
        "macs_kept")
    hit = front[(front["macs_kept"] <= MACS_LIMIT)
                & (front["accuracy"] >= base["accuracy"] - POINT)]
    summary = {
        "model": "digits CNN (edgesim.compress.data:trained_digits_model)",
        "genes": res.oracle.problem
        .n_genes, "pop_size": pop, "generations": gens, "evaluated": len(h),
        "parent": {"accuracy": float(base["accuracy"]), "macs": float(base["macs"])},
        "front": [{"id": int(r["id"]), "accuracy": float(r["accuracy"]),
                   "macs_kept": float(r["macs_kept"])} for _, r in front.iterrows()],
        "curve": curve,
        "meets_the_target": bool(len(hit)),
        "best_at_target": ({"id": int(hit.iloc[0]["id"]),
                            "accuracy": float(hit.iloc[0]["accuracy"]),
                            "macs_kept": float(hit.iloc[0]["macs_kept"])} if len(hit) else None),
    }
    return summary, res


def resnet_case(quick: bool) -> dict[str, Any]:
    import edgesim as es

    pop, gens = (6, 2) if quick else (32, 10)
    t0 = time.perf_counter()
    res = es.search.run(problem="channel_pruning", model="resnet18", hardware=HARDWARE,
                        space={"granularity": "filter"}, objectives=["latency_s", "energy_j"],
                        algorithm={"name": "nsga2", "pop_size": pop, "generations": gens,
                                   "seed": 0}, progress=False)
    seconds = time.perf_counter() - t0
    h = res.table()
    base = h.iloc[0]
    front = res.pareto.sort_values("latency_s")
    rows = []
    for _, r in front.iterrows():
        c = res.candidate(int(r["id"]))
        rows.append({"id": int(r["id"]), "macs_kept": c.result.macs / base_macs(res),
                     "latency_kept": float(r["latency_s"] / base["latency_s"]),
                     "energy_kept": float(r["energy_j"] / base["energy_j"])})
    gap = max((r["latency_kept"] - r["macs_kept"] for r in rows), default=0.0)
    return {"model": "resnet18", "genes": res.oracle.problem.n_genes, "pop_size": pop,
            "generations": gens, "evaluated": len(h), "seconds": seconds,
            "candidates_per_s": len(h) / seconds, "front": rows,
            "largest_latency_minus_macs_kept": gap}


def base_macs(res: Any) -> float:
    return float(res.candidate(0).result.macs)


def figures(summary: dict[str, Any], out: Path) -> list[Path]:
    """The digits front and the per-generation curves (the paper's figure)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    d = summary["digits"]
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    a.plot([p["macs_kept"] * 100 for p in d["front"]], [p["accuracy"] * 100 for p in d["front"]],
           "o-", color="#0072B2", label="front")
    a.plot([100], [d["parent"]["accuracy"] * 100], "s", color="#D55E00", label="parent")
    a.axvline(MACS_LIMIT * 100, ls=":", color="#555")
    a.set_xlabel("MACs kept (%)")
    a.set_ylabel("accuracy (%)")
    a.set_title("TEC on digits: the front")
    a.legend(title="candidates")
    gens = [c["generation"] for c in d["curve"]]
    b.plot(gens, [None if c["best_accuracy_at_60pct_macs"] is None
                  else c["best_accuracy_at_60pct_macs"] * 100 for c in d["curve"]], "o-",
           color="#0072B2", label="best accuracy at <= 60% MACs (%)")
    b.plot(gens, [None if c["fewest_macs_kept_within_a_point"] is None
                  else c["fewest_macs_kept_within_a_point"] * 100 for c in d["curve"]], "s-",
           color="#009E73", label="fewest MACs kept within a point (%)")
    b.set_xlabel("generation")
    b.set_ylabel("%")
    b.set_title("Best so far, per generation")
    b.legend(title="measure", fontsize=8)
    fig.tight_layout()
    path = out / "tec.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return [path]


def run(quick: bool = False) -> dict[str, Any]:
    digits, _ = digits_case(quick)
    return {"example": "tec", "quick": quick, "digits": digits, "resnet18": resnet_case(quick)}


def report(summary: dict[str, Any]) -> str:
    d, r = summary["digits"], summary["resnet18"]
    best = d["best_at_target"]
    lines = [f"TEC on {d['model']}: {d['genes']} keep-bits, NSGA-II {d['pop_size']} x "
             f"{d['generations']} generations ({d['evaluated']} candidates, each fine-tuned)",
             f"  parent accuracy {d['parent']['accuracy']:.3f}; "
             + (f"candidate {best['id']} keeps {best['macs_kept']:.1%} of the MACs at accuracy "
                f"{best['accuracy']:.3f}" if best else
                f"no candidate keeps <= {MACS_LIMIT:.0%} of the MACs within a point")]
    for c in d["curve"]:
        acc = c["best_accuracy_at_60pct_macs"]
        few = c["fewest_macs_kept_within_a_point"]
        lines.append(f"  generation {c['generation']:>2}: best accuracy at <= 60% MACs "
                     f"{'-' if acc is None else f'{acc:.3f}'}, fewest MACs within a point "
                     f"{'-' if few is None else f'{few:.1%}'}")
    lines.append(f"ResNet-18 on {HARDWARE}, cost only: {r['genes']} keep-bits, {r['evaluated']} "
                 f"candidates in {r['seconds']:.1f} s ({r['candidates_per_s']:.0f}/s); on the "
                 f"latency-energy front a candidate keeps up to "
                 f"{r['largest_latency_minus_macs_kept'] * 100:.0f} points more of the latency "
                 f"than of the MACs")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the reduced run the test uses")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "tec")
    args = parser.parse_args(argv)
    summary = run(args.quick)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "summary.json").write_text(json.dumps(summary, indent=1, sort_keys=True) + "\n")
    figures(summary, args.out)
    print(report(summary))
    print(f"wrote {args.out / 'summary.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
