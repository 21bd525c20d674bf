"""Binary networks and a width search: the widest binary net within an int8 net's budget.

Binary (1-bit) weights and activations turn multiply-accumulates into XNOR and popcount, which
are far cheaper in area and energy; the price is accuracy, which binary nets buy back with width.
The question a designer asks: under the latency (or energy) one int8 net costs, how wide can a
binary net be, and is it then as accurate? This example answers it on one chip,
``examples/binary/xnor-npu.yaml`` (edge-npu with an XNOR-popcount array of about the MAC array's
area beside it; ``operation: xnor``, precision ``int1``), for an XNOR-Net-style CNN on
scikit-learn's digits at width multipliers 4..128:

1. Every width is built twice: int8 throughout, and binary inside (the first conv and the
   classifier stay int8, as XNOR-Net does); both are simulated on the chip (placement puts each
   layer on the unit that runs it best: binary layers on the XNOR array where it pays).
2. The budgets are the int8 net's latency and energy at one width (16; 8 in ``--quick``); the
   widest binary net within each budget is found from the simulations.
3. The int8 net and those binary nets are trained on digits (seeded, 300 Adam steps) and their
   held-out accuracy measured: the lesson is computed from these numbers, whichever way it goes.

Choices (stated): the model is BN then hardtanh before each binarized layer (binarizing a ReLU's
output would see one sign only); binarization is ``es.compress.quantize(..., "binary")``
(sign with a straight-through gradient, per-channel scale); accuracy is measured on the same
held-out split for every net (450 images, 0.22 points per image).

Run: ``python examples/binary.py [--quick] [--out DIR]`` (``make examples`` runs it in full and
saves ``examples/results/binary/``; ``--quick`` is the reduced run the test uses).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import torch
from torch import nn

HERE = Path(__file__).resolve().parent
CHIP = HERE / "binary" / "xnor-npu.yaml"
BINARY_LAYERS = ("conv2", "conv3", "fc1")  # XNOR-Net keeps the first and last layers wide
INT8_LAYERS = ("conv1", "fc2")
STEPS = 300  # Adam steps of training per net (150 in --quick)


class BinaryDigits(nn.Module):
    """An XNOR-Net-style CNN for 1x8x8 digits: BN then hardtanh before each binarized layer."""

    def __init__(self, width: int) -> None:
        super().__init__()
        w = width
        self.conv1 = nn.Conv2d(1, w, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(w)
        self.conv2 = nn.Conv2d(w, 2 * w, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(2 * w)
        self.conv3 = nn.Conv2d(2 * w, 4 * w, 3, padding=1, bias=False)
        self.bn3 = nn.BatchNorm2d(4 * w)
        self.pool, self.act = nn.MaxPool2d(2), nn.Hardtanh()
        self.fc1 = nn.Linear(16 * w, 4 * w, bias=False)
        self.bn4 = nn.BatchNorm1d(4 * w)
        self.fc2 = nn.Linear(4 * w, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.act(self.bn1(self.conv1(x)))
        x = self.pool(self.act(self.bn2(self.conv2(x))))
        x = self.pool(self.act(self.bn3(self.conv3(x))))
        x = self.act(self.bn4(self.fc1(x.flatten(1))))
        return self.fc2(x)


def variants(width: int) -> dict[str, nn.Module]:
    """The int8 and the binary net of one width, from the same seeded initialisation."""
    import edgesim as es

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = BinaryDigits(width).eval()
    bits: dict[str, Any] = {**dict.fromkeys(BINARY_LAYERS, "binary"),
                            **dict.fromkeys(INT8_LAYERS, 8)}
    return {"int8": es.compress.quantize(model, weight_bits=8, act_bits=8),
            "binary": es.compress.quantize(model, weight_bits=bits, act_bits=bits)}


def run(quick: bool) -> dict[str, Any]:
    import edgesim as es
    from edgesim.compress.data import accuracy, train

    widths = (4, 8, 16) if quick else (4, 8, 16, 32, 64, 128)
    anchor = 8 if quick else 16
    hw = es.load_hardware(CHIP)
    x = torch.zeros(1, 1, 8, 8)
    rows, models = [], {}
    for w in widths:
        for kind, module in variants(w).items():
            res = es.simulate(es.trace(module, x, name=f"{kind}-w{w}"), hw)
            models[kind, w] = module
            rows.append({"width": w, "kind": kind, "latency_s": res.latency_s,
                         "energy_j": res.energy_j, "weight_bytes": res.weight_bytes,
                         "xnor_layers": sum(lay.unit == "xnor_array" for lay in res.layers)})
    by = {(r["kind"], r["width"]): r for r in rows}
    budgets = {}
    for metric in ("latency_s", "energy_j"):
        limit = by["int8", anchor][metric]
        fits = [w for w in widths if by["binary", w][metric] <= limit]
        budgets[metric] = {"limit": limit, "widest_binary": max(fits) if fits else None}
    trained = {("int8", anchor)} | {("binary", anchor)} | {
        ("binary", b["widest_binary"]) for b in budgets.values() if b["widest_binary"]}
    steps = STEPS // 2 if quick else STEPS
    acc = {f"{kind}-w{w}": accuracy(train(models[kind, w], "digits", steps=steps, seed=0))
           for kind, w in sorted(trained)}
    return {"quick": quick, "chip": str(CHIP.relative_to(HERE.parent)), "widths": list(widths),
            "anchor_width": anchor, "rows": rows, "budgets": budgets, "accuracy": acc,
            "train_steps": steps}


def lessons(summary: dict[str, Any]) -> dict[str, Any]:
    """Per budget: the widest binary net, its width against the int8 net's, and the accuracy
    gap (binary minus int8, in points)."""
    anchor, acc = summary["anchor_width"], summary["accuracy"]
    base = acc[f"int8-w{anchor}"]
    out: dict[str, Any] = {}
    for metric, b in summary["budgets"].items():
        w = b["widest_binary"]
        out[metric] = {"widest_binary": w, "width_ratio": (w / anchor) if w else 0.0,
                       "accuracy_gap_points": (acc[f"binary-w{w}"] - base) * 100 if w else None}
    return out


def report(summary: dict[str, Any]) -> str:
    les = lessons(summary)
    a = summary["anchor_width"]
    lines = [f"int8 width {a}: accuracy {summary['accuracy'][f'int8-w{a}']:.3f}"]
    for metric, d in les.items():
        if d["widest_binary"] is None:
            lines.append(f"  within its {metric}: no binary net fits")
            continue
        w = d["widest_binary"]
        lines.append(f"  within its {metric}: binary up to width {w} "
                     f"({d['width_ratio']:.1f}x), accuracy "
                     f"{summary['accuracy'][f'binary-w{w}']:.3f} "
                     f"({d['accuracy_gap_points']:+.1f} points)")
    for r in summary["rows"]:
        lines.append(f"  w{r['width']:<4} {r['kind']:<6} {r['latency_s'] * 1e6:8.2f} us "
                     f"{r['energy_j'] * 1e9:9.1f} nJ  layers on the XNOR array: "
                     f"{r['xnor_layers']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the reduced run the test uses")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "binary")
    args = parser.parse_args(argv)
    summary = run(args.quick)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "summary.json").write_text(json.dumps(summary, indent=1, sort_keys=True) + "\n")
    print(report(summary))
    print(f"wrote {args.out / 'summary.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
