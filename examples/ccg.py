"""CCG, co-evolutionary compression of a CycleGAN pair (Shu et al., ICCV 2019), on edgesim's oracle.

CCG prunes the two generators of an unpaired image translator together: one population of
pruned versions per generator, each individual scored with the other population's current best,
because a pruned A-to-B generator is only as good as what the B-to-A generator can make of its
output (the cycle). This example runs that loop on edgesim's search engine, through its
ask-and-tell interface (``edgesim.search.algorithm``: NSGA-II from pymoo, one per population):

- Genomes: ``channel_pruning`` with one pruning ratio per coupled channel group (the residual
  trunk is one group: its channels go together), decoded on the IR; the cost of each individual
  is the oracle's, at the zoo's 256x256 input: MACs, parameters, and latency and energy on
  ``edge-npu``.
- Quality (a documented proxy: no image data ships here): on fixed seeded inputs at 64x64, the
  relative L2 distance of the pruned generator's output to the unpruned one's, plus the cycle
  term: the partner's current best applied to that output, against the unpruned partner applied
  to the unpruned output. Lower is better.
- Each population minimises (MACs kept, distance) with NSGA-II. CCG compresses to a target:
  a population's current best, handed to the other, is its individual with the smallest
  distance among those that keep at most ``MACS_BUDGET`` (50%) of the generator's MACs (the
  fewest MACs kept while none does): a stated choice. Before a population's turn its best is
  scored again against the partner it now has, so that it competes with the new individuals on
  equal terms; the final pair is scored against each other. What that buys on the chip,
  latency and energy kept, is reported beside it (it is not the MACs kept).
- The proxy saturates on untrained weights: a pruned generator's output is nearly uncorrelated
  with the unpruned one's (a relative distance near 1 per term), so it separates candidates
  only weakly and the MACs target does most of the selecting; with trained generators and
  real images (the paper's) it would carry more.
- The two generators are the zoo's CycleGAN generator twice, with different seeded weights
  (untrained: no data here), so the distances measure how far pruning moves the function, not
  image quality.

Reported: MACs and parameters kept per generator for the final best pair, and per generation
each population's best fitness (the co-evolution curves).

Run: ``python examples/ccg.py [--quick] [--out DIR]`` (``make examples`` runs it in full and saves
``examples/results/ccg/``; ``--quick`` is the reduced run the test uses: a narrow generator
priced at 64x64).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

HARDWARE = "edge-npu"
SIDES = ("A2B", "B2A")
METRICS = ("macs", "params", "latency_s", "energy_j")
MACS_BUDGET = 0.5  # the compression target: MACs kept by a generator's best


def fitness(distance: float, macs_kept: float) -> float:
    """Lower is better: the distance within the budget; beyond it, worse than any that fits."""
    return distance if macs_kept <= MACS_BUDGET else 1e3 + macs_kept


def generators(quick: bool) -> dict[str, Any]:
    """The two generators (the zoo's architecture; seeded, untrained weights)."""
    import torch

    from edgesim.workload.zoo.beyond_cnn import CycleGANGenerator

    out = {}
    for i, side in enumerate(SIDES):
        torch.manual_seed(i)
        out[side] = (CycleGANGenerator(ngf=8, n_blocks=2) if quick
                     else CycleGANGenerator()).eval()
    return out


def _rel(a: Any, b: Any) -> float:
    return float((a - b).norm() / b.norm())


def distance(pruned: Any, original: Any, partner: Any, partner_original: Any, x: Any) -> float:
    """The quality proxy: output distance plus the cycle term through the partner."""
    import torch

    with torch.no_grad():
        y, y_ref = pruned(x), original(x)
        return _rel(y, y_ref) + _rel(partner(y), partner_original(y_ref))


def _rescore(best: dict[str, dict[str, Any]], side: str, other: str, gen: dict[str, Any],
             probe: Any) -> None:
    """The side's best scored again with the other side's current best as its partner (a
    distance is only comparable under the same partner)."""
    b = best[side]
    b["distance"] = distance(b["module"], gen[side], best[other]["module"], gen[other], probe)
    b["fitness"] = fitness(b["distance"], b["macs_kept"])


def run(quick: bool) -> dict[str, Any]:
    import numpy as np
    import torch

    from edgesim.search.algorithm import make_algorithm
    from edgesim.search.config import load_config
    from edgesim.search.run import setup

    pop, gens = (4, 2) if quick else (8, 5)
    gen = generators(quick)
    side_px = 64 if quick else 256  # the quick run prices the narrow pair at 64x64
    cost_input = (torch.randn(1, 3, side_px, side_px,
                              generator=torch.Generator().manual_seed(7)),)
    probe = torch.randn(2 if quick else 4, 3, 64, 64, generator=torch.Generator().manual_seed(11))
    oracles, algos, base = {}, {}, {}
    for side in SIDES:
        cfg = load_config(problem="channel_pruning", model=(gen[side], cost_input),
                          hardware=HARDWARE, space={"granularity": "group",
                                                    "ratios": [0.0, 0.25, 0.5, 0.75]},
                          objectives=["macs", "params", "latency_s", "energy_j"],
                          algorithm={"name": "nsga2", "pop_size": pop, "generations": gens,
                                     "seed": SIDES.index(side)})
        oracles[side] = setup(cfg)
        algos[side] = make_algorithm(cfg.algorithm, oracles[side].problem.bounds, 2, 0)
        base[side] = oracles[side].evaluate(None).metrics
    best: dict[str, dict[str, Any]] = {
        s: {"genome": None, "module": gen[s], "fitness": fitness(0.0, 1.0), "distance": 0.0,
            "latency_kept": 1.0, "energy_kept": 1.0, "macs_kept": 1.0, "params_kept": 1.0}
        for s in SIDES}
    curves: dict[str, list[dict[str, Any]]] = {s: [] for s in SIDES}
    evaluated = 0
    for g in range(gens):
        for side in SIDES:
            other = SIDES[1 - SIDES.index(side)]
            genomes = algos[side].ask()
            if not genomes:
                continue
            _rescore(best, side, other, gen, probe)  # against the partner it now has
            f = []
            for genome in genomes:
                ev = oracles[side].evaluate(genome)
                module = oracles[side].problem.module(genome)[0].eval()
                d = distance(module, gen[side], best[other]["module"], gen[other], probe)
                kept = {k: ev.metrics[k] / base[side][k] for k in METRICS}
                f.append([kept["macs"], d])
                fit = fitness(d, kept["macs"])
                evaluated += 1
                if fit < best[side]["fitness"]:
                    best[side] = {"genome": list(genome), "module": module, "fitness": fit,
                                  "distance": d, "latency_kept": kept["latency_s"],
                                  "energy_kept": kept["energy_j"], "macs_kept": kept["macs"],
                                  "params_kept": kept["params"]}
            algos[side].tell(genomes, np.array(f), np.zeros((len(genomes), 0)))
            curves[side].append({"generation": g, "best_distance": best[side]["distance"],
                                 "best_macs_kept": best[side]["macs_kept"],
                                 "within_budget": best[side]["macs_kept"] <= MACS_BUDGET})
    for side in SIDES:  # the final pair, each scored against the other's final best
        _rescore(best, side, SIDES[1 - SIDES.index(side)], gen, probe)
    return {"example": "ccg", "quick": quick, "hardware": HARDWARE, "pop_size": pop,
            "macs_budget": MACS_BUDGET,
            "generations": gens, "evaluated": evaluated,
            "genes": {s: oracles[s].problem.n_genes for s in SIDES},
            "baseline": {s: {k: base[s][k] for k in METRICS}
                         for s in SIDES},
            "best": {s: {k: v for k, v in best[s].items() if k != "module"} for s in SIDES},
            "curves": curves}


def report(summary: dict[str, Any]) -> str:
    lines = [f"CCG on a CycleGAN pair ({summary['hardware']}; NSGA-II {summary['pop_size']} x "
             f"{summary['generations']} per generator, {summary['evaluated']} pruned generators "
             "scored)"]
    for side in SIDES:
        b, c = summary["best"][side], summary["curves"][side]
        lines.append(f"  {side}: best keeps {b['macs_kept']:.1%} of the MACs, "
                     f"{b['params_kept']:.1%} of the parameters, {b['latency_kept']:.1%} of the "
                     f"latency and {b['energy_kept']:.1%} of the energy, distance "
                     f"{b['distance']:.3f}; best distance within {summary['macs_budget']:.0%} "
                     "of the MACs per generation "
                     + ", ".join(f"{r['best_distance']:.3f}" if r["within_budget"] else "-"
                                 for r in c))
    return "\n".join(lines)


def figures(summary: dict[str, Any], out: Path) -> list[Path]:
    """The co-evolution curves: each population's best distance within the budget."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.5))
    for side, color in zip(SIDES, ("#0072B2", "#D55E00"), strict=True):
        c = summary["curves"][side]
        ax.plot([r["generation"] for r in c],
                [r["best_distance"] if r["within_budget"] else None for r in c], "o-",
                color=color, label=side)
    ax.set_xlabel("generation")
    ax.set_ylabel(f"best distance (MACs kept <= {summary['macs_budget']:.0%})")
    ax.set_title("CCG: co-evolution of two generators")
    ax.legend(title="generator")
    fig.tight_layout()
    path = out / "ccg.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return [path]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the reduced run the test uses")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "ccg")
    args = parser.parse_args(argv)
    import warnings

    with warnings.catch_warnings():  # torch: a pruned InstanceNorm's unused num_features
        warnings.simplefilter("ignore", UserWarning)
        summary = run(args.quick)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "summary.json").write_text(json.dumps(summary, indent=1, sort_keys=True) + "\n")
    figures(summary, args.out)
    print(report(summary))
    print(f"wrote {args.out / 'summary.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
