"""CARS-style hardware-in-the-loop NAS (CVPR 2020): a front by latency, not by FLOPs.

CARS evolves network architectures with the cost on the target device as an objective. Here a
``custom`` search problem picks a small inverted-residual network's kernel size, expansion ratio
and depth per stage (the builder below is ordinary user code returning a torch module), with
edgesim's latency on ``edge-npu`` and a capacity proxy as objectives, NSGA-II. Then, over the
same evaluated candidates, the front by MACs (what a FLOP counter ranks by) is set against the
front by latency: which candidates each keeps, and how far MACs misorder latency.

Choices the paper leaves open or that differ here (a careful engineer's, stated):
- Nothing is trained (CARS trains a supernet), so accuracy has a proxy: the network's capacity,
  its parameter count, maximised (the ``accuracy`` objective is ``capacity`` below). The fronts
  are latency (or MACs) against capacity: the most capacity for the cost.
- The space: three stages (24, 40, 80 channels, each starting at stride 2) with per stage a
  depthwise kernel of 3, 5 or 7, an expansion of 2, 4 or 6 and a depth of 1, 2 or 3 blocks
  (3^9 = 19,683 networks) on 3x96x96 inputs; a 3x3 stem, a 1x1 head of 128 and a classifier.

Run: ``python examples/cars.py [--quick] [--out DIR]`` (``make examples`` runs it in full and
saves ``examples/results/cars/``; ``--quick`` is the reduced run the test uses).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

HARDWARE = "edge-npu"
STAGES = (24, 40, 80)
GENES = {**{f"kernel{i}": [3, 5, 7] for i in range(3)},
         **{f"expand{i}": [2, 4, 6] for i in range(3)},
         **{f"depth{i}": [1, 2, 3] for i in range(3)}}


def build(genes: dict[str, int]) -> tuple[Any, tuple[Any, ...]]:
    """The network of ``genes`` and its example input (seeded weights: only shapes matter)."""
    import torch
    from torch import nn

    class Block(nn.Module):
        def __init__(self, cin: int, cout: int, kernel: int, expand: int, stride: int) -> None:
            super().__init__()
            mid = cin * expand
            self.body = nn.Sequential(
                nn.Conv2d(cin, mid, 1, bias=False), nn.ReLU(),
                nn.Conv2d(mid, mid, kernel, stride=stride, padding=kernel // 2, groups=mid,
                          bias=False), nn.ReLU(),
                nn.Conv2d(mid, cout, 1, bias=False))
            self.skip = stride == 1 and cin == cout

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            y = self.body(x)
            return x + y if self.skip else y

    torch.manual_seed(0)
    layers: list[nn.Module] = [nn.Conv2d(3, 16, 3, stride=2, padding=1, bias=False), nn.ReLU()]
    cin = 16
    for i, cout in enumerate(STAGES):
        for d in range(genes[f"depth{i}"]):
            layers.append(Block(cin, cout, genes[f"kernel{i}"], genes[f"expand{i}"],
                                2 if d == 0 else 1))
            cin = cout
    layers += [nn.Conv2d(cin, 128, 1, bias=False), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
               nn.Flatten(), nn.Linear(128, 10)]
    return nn.Sequential(*layers).eval(), (torch.zeros(1, 3, 96, 96),)


def capacity(module: Any, example_inputs: Any) -> float:
    """The accuracy proxy: parameters (more capacity, maximised as ``accuracy``)."""
    del example_inputs
    return float(sum(p.numel() for p in module.parameters()))


def _front(points: list[tuple[float, float]]) -> set[int]:
    import numpy as np

    from edgesim.search.result import non_dominated

    return set(non_dominated(np.array(points, dtype=float)))


def run(quick: bool = False) -> dict[str, Any]:
    from scipy.stats import spearmanr

    import edgesim as es

    pop, gens = (8, 2) if quick else (24, 10)
    res = es.search.run(problem="custom", hardware=HARDWARE,
                        space={"builder": f"{__name__}:build", "genes": GENES},
                        objectives=["latency_s", "accuracy"],
                        accuracy=f"{__name__}:capacity",
                        algorithm={"name": "nsga2", "pop_size": pop, "generations": gens,
                                   "seed": 0}, progress=False)
    h = res.table().drop_duplicates([f"gene.{g}" for g in GENES]).reset_index(drop=True)
    macs = [float(res.candidate(int(i)).result.macs) for i in h["id"]]
    lat = h["latency_s"].astype(float).tolist()
    params = h["accuracy"].astype(float).tolist()  # the capacity proxy: parameters
    by_latency = _front([(a, -p) for a, p in zip(lat, params, strict=True)])
    by_macs = _front([(m, -p) for m, p in zip(macs, params, strict=True)])
    rho = float(spearmanr(macs, lat).statistic)
    # the pair MACs misorder most: fewer MACs, yet the slower of the two by the widest margin
    worst = max(((lat[i] / lat[j], i, j) for i in range(len(h)) for j in range(len(h))
                 if macs[i] < macs[j] and lat[i] > lat[j]), default=None)

    def cand(i: int) -> dict[str, Any]:
        return {"id": int(h["id"][i]), "latency_s": lat[i], "macs": macs[i],
                "params": params[i],
                "genes": {g: int(h[f"gene.{g}"][i]) for g in GENES}}

    return {"example": "cars", "quick": quick, "hardware": HARDWARE, "pop_size": pop,
            "generations": gens, "evaluated": len(h), "spearman_macs_latency": rho,
            "latency_front": [cand(i) for i in sorted(by_latency, key=lambda i: lat[i])],
            "macs_front": [cand(i) for i in sorted(by_macs, key=lambda i: macs[i])],
            "only_on_macs_front": len(by_macs - by_latency),
            "only_on_latency_front": len(by_latency - by_macs),
            "misordered_pair": None if worst is None else {
                "fewer_macs": cand(worst[1]), "more_macs": cand(worst[2]),
                "slowdown": worst[0]}}


def report(summary: dict[str, Any]) -> str:
    s = summary
    lines = [f"CARS-style NAS on {s['hardware']}: {s['evaluated']} distinct networks "
             f"(NSGA-II {s['pop_size']} x {s['generations']}, latency and capacity)",
             f"  latency front {len(s['latency_front'])} networks, MACs front "
             f"{len(s['macs_front'])}; {s['only_on_macs_front']} on the MACs front only, "
             f"{s['only_on_latency_front']} on the latency front only",
             f"  Spearman rank correlation of MACs and latency: {s['spearman_macs_latency']:.2f}"]
    pair = s["misordered_pair"]
    if pair:
        a, b = pair["fewer_macs"], pair["more_macs"]
        lines.append(f"  network {a['id']} has {a['macs'] / b['macs']:.0%} of network "
                     f"{b['id']}'s MACs yet takes {pair['slowdown']:.2f}x its latency "
                     f"({a['latency_s'] * 1e3:.3f} vs {b['latency_s'] * 1e3:.3f} ms)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the reduced run the test uses")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "cars")
    args = parser.parse_args(argv)
    summary = run(args.quick)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "summary.json").write_text(json.dumps(summary, indent=1, sort_keys=True) + "\n")
    print(report(summary))
    print(f"wrote {args.out / 'summary.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
