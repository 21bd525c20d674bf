"""LegoDNN (MobiCom 2021): block-grained scaling of a DNN under latency and memory budgets.

LegoDNN cuts a model into blocks, makes descendants of each block (here: its own channels pruned
at several ratios, its input and output widths kept, so any descendants compose), profiles each
descendant once, and at run time picks one descendant per block with a MILP that maximises the
predicted accuracy under the budgets. This example does that with edgesim as the profiler:

1. A small ResNet for scikit-learn's digits (three stages = three blocks), trained once, each
   model's accuracy measured on the held-out split. For each latency budget: the MILP's choice
   (``problem="block_scaling"``, ``algorithm="milp"``), the exhaustive grid over the same
   profiles (it must find the same optimum), the chosen model simulated whole against its
   profile prediction, and model-grained scaling (one uniformly pruned model per budget, the
   least pruned that meets it) beside it.
2. ResNet-18 and MobileNet-v2 on ``edge-npu``, cost only: how many options the profiles give
   against model-grained scaling, and how far the additive prediction is from the whole
   simulation on random combinations of descendants.
3. Multi-DNN: two digits ResNets co-running on one chip under one budget on the time to finish
   both: one MILP over both models' profiles (their latencies summed, as if they took turns),
   then the chosen pair co-run in the SimPy model (contention and overlap) against that
   prediction.

Choices the paper leaves open or that differ here (a careful engineer's, stated):
- Descendants are filter-pruned (L1 norm) at fixed ratios.
- A descendant's cost is profiled alone, as LegoDNN profiles blocks on the device: the block
  as a model of its own (its input read from DRAM, its output written there), and a model's
  cost is the sum of its blocks' and of the layers between them. What that misses is what
  crosses block boundaries in the whole model (tensors kept on chip, fused ops, overlap): the
  report says by how much. (``profile: in_place``, the whole model with one block scaled, adds
  up exactly in edgesim's analytic model, so it would show no gap.) Accuracy is profiled in
  place: the whole model with only that block pruned.
- Descendants are not retrained: a pruned block keeps the parent's remaining filters and the
  accuracy is measured as is. LegoDNN retrains each descendant. Measured once with a brief
  fine-tune instead (20 steps per model, ratios up to 0.875): a single-block descendant came
  back to within about a point of the parent, so the additive estimate was mostly fine-tuning
  noise (the 450-image test split moves 0.22 points per image), and the MILP's choice measured
  below the uniformly pruned model at two of five budgets and above it at two.
- The accuracy of a combination is predicted by adding the profiled blocks' accuracy changes
  (LegoDNN's additive estimate); every model's accuracy is then measured, and the report says
  how far the estimate was.

Run: ``python examples/legodnn.py [--quick] [--out DIR]`` (``make examples`` runs it in full
and saves ``examples/results/legodnn/``; ``--quick`` is the reduced run the test uses).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

HARDWARE = "edge-npu"
RATIOS = [0.0, 0.25, 0.5, 0.75]  # the descendants of a full-size model's blocks


def _keep_columns(frame: Any) -> list[str]:
    return [c for c in frame.columns if c.startswith("keep.")]


def digits_case(quick: bool) -> dict[str, Any]:
    """Block-grained against model-grained scaling of a trained digits ResNet."""
    import torch

    import edgesim as es
    from edgesim.compress.data import digits_resnet, train

    width, train_steps, finetune = (8, 120, 0) if quick else (16, 300, 0)
    ratios = [0.0, 0.25, 0.5] if quick else [0.0, 0.25, 0.5, 0.75]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        module, inputs = digits_resnet(width, seed=0)
        parent = train(module, steps=train_steps, seed=0)  # trained once, reused by every run
    finally:
        torch.set_num_threads(threads)
    parent.eval()
    common: dict[str, Any] = {
        "problem": "block_scaling", "model": (parent, inputs), "hardware": HARDWARE,
        "space": {"blocks": "auto", "ratios": ratios},
        "accuracy": {"data": "digits", "train_steps": 0, "finetune_steps": finetune},
        "algorithm": {"name": "milp"}}
    metrics = ["accuracy", "latency_s", "energy_j", "weight_bytes"]
    grid = es.search.run({**common, "objectives": metrics, "algorithm": "grid"},
                         progress=False)
    h = grid.table()
    base = h.iloc[0]
    options = h[h["generation"] > 0].reset_index(drop=True)
    keep = _keep_columns(options)
    uniform = options[options[keep].nunique(axis=1) == 1].sort_values(
        "latency_s", ascending=False)
    fractions = (0.95,) if quick else (0.95, 0.9, 0.85, 0.8, 0.75, 0.7)
    rows = []
    for frac in fractions:
        budget = {"latency_s": float(base["latency_s"]) * frac,
                  "weight_bytes": float(base["weight_bytes"])}
        res = es.search.run({**common, "objectives": ["accuracy", "energy_j"], "constraints": budget},
                            progress=False)
        chosen = res.table().iloc[-1]
        ok = options[(options["predicted.latency_s"] <= budget["latency_s"])
                     & (options["predicted.weight_bytes"] <= budget["weight_bytes"])]
        grid_best = float(ok["predicted.accuracy"].max()) if len(ok) else float("nan")
        model_grained = uniform[uniform["latency_s"] <= budget["latency_s"]]
        mg = model_grained.iloc[0] if len(model_grained) else None
        rows.append({
            "budget_fraction": frac, "latency_budget_s": budget["latency_s"],
            "milp_choice": {k.removeprefix("keep."): float(chosen[k]) for k in keep},
            "milp_predicted_accuracy": float(chosen["predicted.accuracy"]),
            "grid_best_predicted_accuracy": grid_best,
            "milp_feasible": bool(chosen["predicted_feasible"]),
            "milp_equals_grid": bool(abs(grid_best - float(chosen["predicted.accuracy"]))
                                     <= 1e-12) if len(ok) else not chosen["predicted_feasible"],
            "predicted_latency_s": float(chosen["predicted.latency_s"]),
            "simulated_latency_s": float(chosen["latency_s"]),
            "latency_gap": float(chosen["latency_s"] / chosen["predicted.latency_s"] - 1),
            "meets_budget_simulated": bool(chosen["latency_s"] <= budget["latency_s"]),
            "block_accuracy": float(chosen["accuracy"]),
            "block_energy_j": float(chosen["energy_j"]),
            "model_keep": float(mg[keep[0]]) if mg is not None else None,
            "model_accuracy": float(mg["accuracy"]) if mg is not None else None,
            "model_latency_s": float(mg["latency_s"]) if mg is not None else None,
        })
    gap = (options["latency_s"] / options["predicted.latency_s"] - 1).abs()
    egap = (options["energy_j"] / options["predicted.energy_j"] - 1).abs()
    agap = (options["accuracy"] - options["predicted.accuracy"]).abs()
    return {
        "model": f"digits ResNet (width {width}), {HARDWARE}",
        "blocks": [k.removeprefix("keep.") for k in keep], "ratios": ratios,
        "parent": {"accuracy": float(base["accuracy"]), "latency_s": float(base["latency_s"]),
                   "energy_j": float(base["energy_j"]),
                   "weight_bytes": float(base["weight_bytes"])},
        "profiled_descendants": int((h["generation"] == 0).sum()) - 1,
        "block_grained_options": len(options), "model_grained_options": len(uniform),
        "max_abs_latency_gap": float(gap.max()), "max_abs_energy_gap": float(egap.max()),
        "max_abs_accuracy_gap": float(agap.max()), "median_abs_accuracy_gap": float(agap.median()),
        "weight_bytes_exact": bool((options["weight_bytes"]
                                    == options["predicted.weight_bytes"]).all()),
        "budgets": rows, "grid": options.to_dict(orient="list"),
    }


def scale_case(model: str, quick: bool) -> dict[str, Any]:
    """Options and prediction error of block-grained scaling on a full-size model."""
    import edgesim as es

    n = 8 if quick else 50
    t0 = time.perf_counter()
    res = es.search.run(problem="block_scaling", model=model, hardware=HARDWARE,
                        space={"blocks": "auto", "ratios": RATIOS},
                        objectives=["latency_s", "energy_j", "weight_bytes"],
                        algorithm={"name": "random", "pop_size": n, "generations": 1,
                                   "seed": 0}, progress=False)
    seconds = time.perf_counter() - t0
    h = res.table()
    blocks = _keep_columns(h)
    sampled = h[h["generation"] > 0]
    lat = sampled["latency_s"] / sampled["predicted.latency_s"] - 1
    energy = sampled["energy_j"] / sampled["predicted.energy_j"] - 1
    return {
        "model": model, "blocks": [b.removeprefix("keep.") for b in blocks],
        "profiled_descendants": int((h["generation"] == 0).sum()) - 1,
        "block_grained_options": len(RATIOS) ** len(blocks),
        "model_grained_options": len(RATIOS),
        "sampled": len(sampled), "seconds": seconds,
        "latency_gap_median": float(lat.abs().median()), "latency_gap_max": float(lat.abs().max()),
        "latency_gap_signed_mean": float(lat.mean()),
        "energy_gap_median": float(energy.abs().median()),
        "energy_gap_max": float(energy.abs().max()),
    }


def _trained_resnet(width: int, steps: int, seed: int) -> tuple[Any, tuple[Any, ...]]:
    import torch

    from edgesim.compress.data import digits_resnet, train

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        module, inputs = digits_resnet(width, seed=seed)
        parent = train(module, steps=steps, seed=seed)
    finally:
        torch.set_num_threads(threads)
    return parent.eval(), inputs


def joint_case(quick: bool) -> dict[str, Any]:
    """Two models co-running on one chip under one budget on the time to finish both: one
    MILP over both models' block profiles (joined: the blocks of each, metrics summed, so the
    prediction is the two taking turns), then the chosen pair co-run in the SimPy model, where
    they contend for the array, the vector unit and DRAM but also overlap."""
    import edgesim as es
    from edgesim.compress.data import accuracy
    from edgesim.search.profile import BlockProfiles, solve_milp

    ratios = [0.0, 0.25, 0.5] if quick else RATIOS
    widths = (8, 8) if quick else (16, 8)
    apps = {f"digits ResNet w{w} (seed {seed})": (w, 120 if quick else 300, seed)
            for seed, w in enumerate(widths)}
    runs = []
    for width, steps, seed in apps.values():
        model = _trained_resnet(width, steps, seed)
        runs.append(es.search.run(
            problem="block_scaling", model=model, hardware=HARDWARE,
            space={"blocks": "auto", "ratios": ratios}, objectives=["accuracy", "latency_s"],
            accuracy={"data": "digits", "train_steps": 0, "finetune_steps": 0},
            algorithm="milp", progress=False))
    profiles = [r.profiles for r in runs]
    assert all(p is not None for p in profiles)
    joint = BlockProfiles.joint([p for p in profiles if p is not None])
    hw = es.load_hardware(HARDWARE)
    sizes = [len(r.oracle.problem.genes) for r in runs]

    def evaluate(genome: tuple[int, ...]) -> dict[str, Any]:
        parts, at = [], 0
        for n in sizes:
            parts.append(genome[at:at + n])
            at += n
        workloads = [r.oracle.problem.decode(g).workload for r, g in zip(runs, parts,
                                                                          strict=True)]
        together = es.simulate(workloads, hw, mode="des")
        pred = joint.predict(genome)
        return {"keep": [[round(1 - ratios[i], 3) for i in g] for g in parts],
                "predicted_latency_s": pred["latency_s"],
                "turns_latency_s": sum(es.simulate(w, hw).latency_s for w in workloads),
                "corun_latency_s": max(x.latency_s for x in together),
                "predicted_accuracy": pred["accuracy"] / len(runs),
                "accuracy": sum(accuracy(r.oracle.problem.module(g)[0])
                                for r, g in zip(runs, parts, strict=True)) / len(runs)}

    parents = evaluate(tuple(0 for _ in range(sum(sizes))))
    rows = []
    for frac in ((0.8,) if quick else (0.9, 0.8, 0.7)):
        budget = parents["predicted_latency_s"] * frac
        genome, feasible = solve_milp(joint, "accuracy", {"latency_s": budget})
        rows.append({"budget_fraction": frac, "latency_budget_s": budget,
                     "feasible": feasible, **evaluate(genome)})
    return {"models": list(apps), "hardware": HARDWARE, "ratios": ratios,
            "joint_options": len(ratios) ** sum(sizes), "parents": parents, "budgets": rows}


def run(quick: bool = False) -> dict[str, Any]:
    return {"example": "legodnn", "quick": quick, "digits": digits_case(quick),
            "scale": [scale_case(m, quick) for m in ("resnet18", "mobilenet_v2")],
            "joint": joint_case(quick)}


def write(summary: dict[str, Any], out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    path = out / "summary.json"
    path.write_text(json.dumps(summary, indent=1, sort_keys=True) + "\n")
    return path


def report(summary: dict[str, Any]) -> str:
    """The example's findings as text (every figure from the summary)."""
    d = summary["digits"]
    lines = [f"LegoDNN block-grained scaling: {d['model']}",
             f"  blocks {', '.join(d['blocks'])}; ratios {d['ratios']}; "
             f"{d['profiled_descendants']} descendants profiled give "
             f"{d['block_grained_options']} models (model-grained: "
             f"{d['model_grained_options']})",
             f"  parent: accuracy {d['parent']['accuracy']:.3f}, latency "
             f"{d['parent']['latency_s'] * 1e6:.2f} us",
             "  budget  MILP=grid  block-grained acc (lat us, gap)   model-grained acc (keep)"]
    for r in d["budgets"]:
        mg = ("none meets it" if r["model_accuracy"] is None
              else f"{r['model_accuracy']:.3f} ({r['model_keep']:.3f})")
        if not r["milp_feasible"]:
            lines.append(f"  {r['budget_fraction']:>5.2f}   {str(r['milp_equals_grid']):<9}  "
                         f"no choice meets it (closest: {r['simulated_latency_s'] * 1e6:.2f} us)"
                         f"      {mg}")
            continue
        lines.append(f"  {r['budget_fraction']:>5.2f}   {str(r['milp_equals_grid']):<9}  "
                     f"{r['block_accuracy']:.3f} ({r['simulated_latency_s'] * 1e6:.2f}, "
                     f"{r['latency_gap']:+.2%}){'' if r['meets_budget_simulated'] else ' !'}"
                     f"      {mg}")
    lines.append(f"  additive prediction vs whole simulation over all {d['block_grained_options']}"
                 f" models: latency within {d['max_abs_latency_gap']:.2%}, energy within "
                 f"{d['max_abs_energy_gap']:.2%}; weights exact: {d['weight_bytes_exact']}; "
                 f"accuracy off by {d['median_abs_accuracy_gap']:.3f} median, "
                 f"{d['max_abs_accuracy_gap']:.3f} max")
    for s in summary["scale"]:
        lines.append(f"{s['model']} on {HARDWARE}: {len(s['blocks'])} blocks, "
                     f"{s['profiled_descendants']} descendants profiled -> "
                     f"{s['block_grained_options']} models (model-grained "
                     f"{s['model_grained_options']}); on "
                     f"{s['sampled']} random models the prediction misses latency by "
                     f"{s['latency_gap_median']:.2%} median, {s['latency_gap_max']:.2%} max, "
                     f"energy by {s['energy_gap_median']:.2%} median ({s['seconds']:.1f} s)")
    j = summary["joint"]
    p = j["parents"]
    lines.append(f"{' + '.join(j['models'])} co-running on {j['hardware']} "
                 f"({j['joint_options']} joint choices): parents take "
                 f"{p['corun_latency_s'] * 1e6:.2f} us together (predicted by turns "
                 f"{p['predicted_latency_s'] * 1e6:.2f} us), mean accuracy {p['accuracy']:.3f}")
    for r in j["budgets"]:
        lines.append(f"  budget {r['budget_fraction']:.0%} of the predicted turns: keep "
                     f"{r['keep']} -> co-run {r['corun_latency_s'] * 1e6:.2f} us (predicted "
                     f"{r['predicted_latency_s'] * 1e6:.2f}, by turns simulated "
                     f"{r['turns_latency_s'] * 1e6:.2f}), mean accuracy {r['accuracy']:.3f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the reduced run the test uses")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "legodnn")
    args = parser.parse_args(argv)
    summary = run(args.quick)
    path = write(summary, args.out)
    print(report(summary))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
