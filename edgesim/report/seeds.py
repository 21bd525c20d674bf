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
    better, worse, diffs = 0, 0, []
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
            worse += r["block_accuracy"] < mg
    agree = sum(r["milp_equals_grid"] for r in d["budgets"])
    best = max(diffs, default=(0.0, 0.0))
    t.note = (f"Of the {len(diffs)} budgets both fit, the block-grained choice measures more "
              f"accurate than the one uniformly pruned model that fits at {better}"
              + (f" (by {best[0] * 100:.1f} points at {best[1]:.0%})" if best[0] > 0 else "")
              + f", less accurate at {worse}, equal at {len(diffs) - better - worse}. The MILP found the exhaustive grid's optimum at {agree} of "
              f"{len(d['budgets'])} budgets. Profiled alone, the blocks overestimate the whole "
              f"model by up to {d['max_abs_latency_gap']:.1%} in latency and "
              f"{d['max_abs_energy_gap']:.1%} in energy (tensors that cross a block boundary "
              f"stay on chip in the whole model); the additive accuracy estimate is off by "
              f"{d['median_abs_accuracy_gap'] * 100:.1f} points median.")
    joint = summary.get("joint")
    if joint and joint["budgets"]:
        r = joint["budgets"][0]
        t.note += (f" Two models co-running ({' and '.join(joint['models'])}), one MILP over "
                   f"both models' profiles at {r['budget_fraction']:.0%} of their predicted "
                   f"time taking turns: the chosen pair finishes in "
                   f"{r['corun_latency_s'] * 1e6:.2f} us co-run in the SimPy model against "
                   f"{r['predicted_latency_s'] * 1e6:.2f} us predicted.")
    return t


def tec_table(summary: dict[str, Any]) -> Table:
    """TEC's search per generation: the best accuracy at <= 60% of the MACs and the fewest
    MACs kept within a point of the parent."""
    d, r = summary["digits"], summary["resnet18"]
    t = Table(f"Seed system: TEC evolutionary filter pruning, {d['model']} ({d['genes']} "
              f"keep-bits, NSGA-II {d['pop_size']} x {d['generations']}, each candidate "
              f"fine-tuned)",
              ["generation", "candidates so far", "best accuracy at <= 60% MACs",
               "fewest MACs kept within a point"])
    for c in d["curve"]:
        acc, few = c["best_accuracy_at_60pct_macs"], c["fewest_macs_kept_within_a_point"]
        t.add([c["generation"], c["evaluated"], "-" if acc is None else f"{acc:.3f}",
               "-" if few is None else f"{few:.1%}"])
    best = d["best_at_target"]
    found = (f"Candidate {best['id']} keeps {best['macs_kept']:.0%} of the MACs at accuracy "
             f"{best['accuracy']:.3f} (parent {d['parent']['accuracy']:.3f})." if best else
             f"No candidate kept <= 60% of the MACs within a point of the parent "
             f"({d['parent']['accuracy']:.3f}).")
    gap = r["largest_latency_minus_macs_kept"]
    t.note = (f"{found} ResNet-18 on edge-npu, cost only: {r['genes']} keep-bits, "
              f"{r['evaluated']} candidates at {r['candidates_per_s']:.0f}/s; "
              + (f"on its latency-energy front a candidate keeps {gap * 100:.0f} points more of "
                 f"the latency than of the MACs." if gap > 0 else
                 "on its latency-energy front latency falls at least as fast as the MACs."))
    return t


def haq_table(summary: dict[str, Any]) -> Table:
    """Each chip's mixed-precision policy evaluated on every chip."""
    lat, int8 = summary["latency_s"], summary["int8_latency_s"]
    chips = list(int8)
    t = Table(f"Seed system: HAQ hardware-aware mixed precision, {summary['model']} (accuracy "
              f">= {summary['accuracy_floor']:.3f}; NSGA-II {summary['pop_size']} x "
              f"{summary['generations']} per chip)",
              ["policy tuned for", "accuracy", *[f"on {c} us" for c in chips],
               *[f"speed-up on {c} vs int8" for c in chips]])
    for target, pol in summary["policies"].items():
        if not pol["found"]:
            t.add([target, "none met the floor", *([""] * (2 * len(chips)))])
            continue
        t.add([target, f"{pol['accuracy']:.3f}",
               *[f"{lat[target][c] * 1e6:.2f}" for c in chips],
               *[f"{int8[c] / lat[target][c]:.2f}x" for c in chips]])
    rep, uni = summary["lesson_reproduced"], summary["universal_penalty"]
    if rep is None:
        t.note = "No search found a policy that keeps the accuracy: the lesson is not tested."
    else:
        t.note = (f"Each chip's policy is the fastest there among the {summary['pool_size']} "
                  f"policies the searches found that keep the accuracy. edgesim "
                  + (f"reproduces HAQ's lesson that a policy tuned for one chip is not the best "
                     f"on another: every policy is more than {summary['material']:.0%} slower "
                     f"than the best on some chip (the closest by {uni - 1:.1%})." if rep else
                     f"does not reproduce HAQ's lesson here: a policy found by the "
                     f"{summary['universal_found_by']} search is within {uni - 1:.2%} of the "
                     f"best on every chip.")
                  + " Speed-ups are against the model at int8 on the same chip.")
    return t


def cars_table(summary: dict[str, Any]) -> Table:
    """The latency front of a CARS-style search, each network's place by MACs beside it."""
    macs_ids = {c["id"] for c in summary["macs_front"]}
    t = Table(f"Seed system: CARS-style NAS on {summary['hardware']} ({summary['evaluated']} "
              f"networks, NSGA-II {summary['pop_size']} x {summary['generations']}): the "
              f"latency front against the MACs front",
              ["network", "kernels", "expansions", "depths", "latency ms", "MMACs",
               "params k", "on the MACs front"])
    for c in summary["latency_front"]:
        g = c["genes"]
        t.add([c["id"], "/".join(str(g[f"kernel{i}"]) for i in range(3)),
               "/".join(str(g[f"expand{i}"]) for i in range(3)),
               "/".join(str(g[f"depth{i}"]) for i in range(3)),
               f"{c['latency_s'] * 1e3:.3f}", f"{c['macs'] / 1e6:.2f}",
               f"{c['params'] / 1e3:.1f}", "yes" if c["id"] in macs_ids else "no"])
    pair = summary["misordered_pair"]
    worst = ("" if pair is None else
             f" Network {pair['fewer_macs']['id']} has "
             f"{pair['fewer_macs']['macs'] / pair['more_macs']['macs']:.0%} of network "
             f"{pair['more_macs']['id']}'s MACs yet takes {pair['slowdown']:.2f}x its latency.")
    t.note = (f"{summary['only_on_macs_front']} of the MACs front's "
              f"{len(summary['macs_front'])} networks are not on the latency front; the rank "
              f"correlation of MACs and latency is {summary['spearman_macs_latency']:.2f}."
              + worst)
    return t


# Example name -> its table (the seed systems with an example so far).
def deep_compression_table(summary: dict[str, Any]) -> Table:
    """Deep Compression's steps on each chip: storage, traffic, energy and where it goes."""
    steps, rows = summary["steps"], summary["rows"]
    arch = summary["archive_bytes"]
    t = Table(f"Seed system: Deep Compression on {summary['model']} (prune -> share -> "
              f"Huffman), on {' and '.join(summary['chips'])}",
              ["chip", "step", "archive x smaller", "paper x smaller", "stored MB", "DRAM MB",
               "energy mJ", "energy x dense", "memory share %", "off-chip share %",
               "latency ms"])
    dense = {r["chip"]: r for r in rows if r["step"] == "dense"}
    for r in rows:
        d = dense[r["chip"]]
        t.add([r["chip"], r["step"], f"{arch['dense'] / arch[r['step']]:.1f}",
               f"{summary['paper_ratios'].get(r['step'], 1.0):.0f}",
               f"{r['weight_bytes'] / 1e6:.2f}", f"{r['dram_bytes'] / 1e6:.2f}",
               f"{r['energy_j'] * 1e3:.3f}", f"{r['energy_j'] / d['energy_j']:.3f}",
               f"{100 * r['memory_energy_share']:.1f}", f"{100 * r['offchip_energy_share']:.1f}",
               f"{r['latency_s'] * 1e3:.3f}"])
    share = min(d["memory_energy_share"] for d in dense.values())
    last = {r["chip"]: r for r in rows if r["step"] == steps[-1]}
    saved = ", ".join(f"{c} {1 - last[c]['energy_j'] / dense[c]['energy_j']:.0%}" for c in dense)
    by = {(r["chip"], r["step"]): r for r in rows}
    ratio, paper = arch["dense"] / arch["huffman"], summary["paper_ratios"].get("huffman", 0.0)
    storage_only = [c for c in dense if by[c, "huffman"]["energy_j"] == by[c, "pruned"]["energy_j"]]
    decoding = [c for c in dense if by[c, "huffman"]["energy_j"] < by[c, "pruned"]["energy_j"]]
    t.note = (f"Memory is at least {share:.0%} of the dense model's energy on every chip; the "
              f"three steps save {saved} of it. The archive shrinks "
              f"{ratio:.1f}x, {'more' if ratio > paper else 'less'} than the paper's "
              f"{paper:.0f}x on trained weights (these are untrained: their shared values, and "
              f"what Huffman coding gains on them, are distributed differently)."
              + (f" On {', '.join(storage_only)} weight sharing and Huffman coding are storage "
                 "only: the chip reads int8 weights, so its traffic and energy are the pruned "
                 "step's." if storage_only else "")
              + "".join(f" On {c}, which decodes them, DRAM traffic falls from "
                        f"{by[c, 'pruned']['dram_bytes'] / 1e6:.2f} MB (pruned) to "
                        f"{by[c, 'shared']['dram_bytes'] / 1e6:.2f} MB (shared) and "
                        f"{by[c, 'huffman']['dram_bytes'] / 1e6:.2f} MB (Huffman), for "
                        f"{by[c, 'huffman']['decoder_j'] * 1e6:.2f} uJ of decoding."
                        for c in decoding))
    return t


def binary_table(summary: dict[str, Any]) -> Table:
    """Binary against int8 nets by width on the XNOR chip, and the widest binary net within the
    int8 net's latency and energy."""
    a, acc = summary["anchor_width"], summary["accuracy"]
    t = Table(f"Seed system: binary networks and width search on {summary['chip']} (digits, "
              f"XNOR-Net-style CNN, budgets from the int8 net at width {a})",
              ["width", "net", "latency us", "energy nJ", "weights kB", "layers on XNOR array",
               "accuracy"])
    for r in summary["rows"]:
        key = f"{r['kind']}-w{r['width']}"
        t.add([r["width"], r["kind"], f"{r['latency_s'] * 1e6:.2f}",
               f"{r['energy_j'] * 1e9:.1f}", f"{r['weight_bytes'] / 1e3:.2f}", r["xnor_layers"],
               f"{acc[key]:.3f}" if key in acc else ""])
    parts = []
    base = acc[f"int8-w{a}"]
    for metric, b in summary["budgets"].items():
        w = b["widest_binary"]
        what = "latency" if metric == "latency_s" else "energy"
        if w is None:
            parts.append(f"within its {what} no binary net fits")
            continue
        gap = (acc[f"binary-w{w}"] - base) * 100
        parts.append(f"within its {what}, a binary net can be {w / a:.1f}x as wide (width {w}) "
                     f"and measures {abs(gap):.1f} points {'more' if gap > 0 else 'less'} "
                     f"accurate")
    t.note = (f"Against the int8 net at width {a} (accuracy {base:.3f}): {'; '.join(parts)}. "
              f"Binary layers run on the XNOR array only where placement finds it pays.")
    return t


def cnnpack_table(summary: dict[str, Any]) -> Table:
    """CNNpack's frequency-domain form: compression ratio beside simulated speed-up per chip."""
    t = Table(f"Seed system: CNNpack, {summary['model']}'s conv layers in the DCT domain "
              "(depthwise DCT responses, then a sparse coefficient sum)",
              ["coefficients kept", "chip", "conv compression", "conv speed-up",
               "whole-net speed-up", "MACs vs plain", "energy vs plain"])
    best: dict[str, list[float]] = {}
    for r in summary["rows"]:
        t.add([f"{r['keep']:.2%}", r["chip"], f"{r['compression']:.1f}x",
               f"{r['conv_speedup']:.2f}x", f"{r['speedup']:.2f}x",
               f"{r['macs'] / r['plain_macs']:.2f}x",
               f"{r['energy_j'] / r['plain_energy_j']:.2f}x"])
        b = best.setdefault(r["chip"], [0.0, 0.0])
        b[0], b[1] = max(b[0], r["compression"]), max(b[1], r["conv_speedup"])
    t.note = ("Compression is not speed-up: the packed conv layers run at " + "; ".join(
        f"{b[1]:.2f}x on {chip}" for chip, b in best.items())
        + f" at best, for up to {max(b[0] for b in best.values()):.0f}x compression (the paper "
        f"compresses AlexNet {summary['paper']['compression']:.0f}x).")
    return t


def ccg_table(summary: dict[str, Any]) -> Table:
    """CCG's co-evolved CycleGAN pair: what each generator's best keeps, and its curve."""
    t = Table(f"Seed system: CCG, a CycleGAN pair pruned by co-evolution ({summary['hardware']}, "
              f"NSGA-II {summary['pop_size']} x {summary['generations']} per generator, MACs "
              f"target {summary['macs_budget']:.0%})",
              ["generator", "MACs kept", "params kept", "latency kept", "energy kept",
               "distance", "best distance per generation"])
    for side, b in summary["best"].items():
        curve = ", ".join(f"{r['best_distance']:.3f}" if r["within_budget"] else "-"
                          for r in summary["curves"][side])
        t.add([side, f"{b['macs_kept']:.1%}", f"{b['params_kept']:.1%}",
               f"{b['latency_kept']:.1%}", f"{b['energy_kept']:.1%}", f"{b['distance']:.3f}",
               curve])
    t.note = ("Distance: the pruned generator's output against the unpruned one's, plus the "
              "cycle through the partner's current best, on seeded 64x64 inputs (untrained "
              "weights: how far pruning moves the function, not image quality). The MACs kept "
              "are not the latency kept: " + "; ".join(
                  f"{side} keeps {b['macs_kept']:.0%} of the MACs and {b['latency_kept']:.0%} "
                  f"of the latency" for side, b in summary["best"].items()) + ".")
    return t


def atlas_table(summary: dict[str, Any]) -> Table:
    """The Atlas case: latency after each step of the chain, with and without the AI CPU."""
    chips = summary["chips"]
    t = Table(f"Seed system: the Atlas case, a U-Net segmenter at {summary['input'][2]}x"
              f"{summary['input'][3]} (distillation, filter pruning, operator selection)",
              ["step", "GMACs", *(f"{c} latency" for c in chips), f"{chips[0]} on the AI CPU"])
    steps = [*summary["chain"], summary["operator_selection_alone"]]
    for s in steps:
        d = s[chips[0]]
        t.add([s["step"], f"{s['macs'] / 1e9:.2f}",
               *(f"{s[c]['latency_s'] * 1e3:.2f} ms" for c in chips),
               f"{d['fallback_s'] * 1e3:.2f} ms ({d['fallback_layers']} ops)"])
    chain, alone = summary["chain"], summary["operator_selection_alone"]

    def lat(i: int, chip: str) -> float:
        return float(chain[i][chip]["latency_s"])

    parts = [f"on {c} the chain is {lat(0, c) / lat(-1, c):.1f}x faster and operator selection "
             f"{lat(-2, c) / lat(-1, c):.2f}x after pruning, {lat(0, c) / alone[c]['latency_s']:.2f}x "
             f"on the teacher" for c in chips]
    share = [chain[i][chips[0]]["fallback_s"] / lat(i, chips[0]) for i in (0, 2)]
    macs = chain[-1]["macs"] / chain[-2]["macs"]
    sel = lat(-2, chips[0]) / lat(-1, chips[0])  # operator selection's speed-up
    t.note = (f"{'; '.join(parts)}. On {chips[0]} the ops that fall back to the AI CPU take "
              f"{share[0]:.0%} of the teacher's latency and {share[1]:.0%} of the pruned "
              f"student's{': compressing the rest makes them the bottleneck' if share[1] > share[0] else ''}. "
              f"Operator selection multiplies the MACs by {macs:.2f} and the latency on "
              f"{chips[0]} by {1 / sel:.2f}"
              f"{': MACs are not latency' if (macs > 1) == (sel > 1) else ''}. The talk: "
              f"{summary['talk']['before_s'] * 1e3:.0f} ms -> "
              f"{summary['talk']['after_s'] * 1e3:.0f} ms, on its own model.")
    return t


SEEDS: dict[str, Callable[[dict[str, Any]], Table]] = {
    "tec": tec_table, "haq": haq_table, "legodnn": legodnn_table, "cars": cars_table,
    "deep_compression": deep_compression_table, "binary": binary_table,
    "cnnpack": cnnpack_table, "ccg": ccg_table, "atlas": atlas_table}


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


__all__ = ["RESULTS", "SEEDS", "atlas_table", "binary_table", "cars_table", "ccg_table", "cnnpack_table",
           "deep_compression_table",
           "haq_table",
           "legodnn_table", "seed_tables", "tec_table"]
