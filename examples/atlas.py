"""The Atlas 200 case (Ascend 310: 630 ms -> 40 ms): distillation, filter pruning and operator
selection, priced step by step on a DaVinci-class NPU whose AI CPU runs what the AI Core lacks.

Yunhe Wang's "AI on the Edge" talk tells of a model brought from 630 ms to 40 ms on an Atlas 200
(Ascend 310) by a chain: knowledge distillation into a smaller student, filter pruning of the
student, and operator selection, replacing ops the AI Core does not run (they fall back to the
AI CPU, with their tensors crossing through DRAM both ways) by ones it does. This example prices
each step of such a chain on ``examples/atlas/atlas-200.yaml`` (``davinci-npu`` plus an AI CPU
unit that reaches only DRAM, ``reaches: []``, and is the spec's ``fallback``), and on
``davinci-npu`` itself, where the vector unit runs every op (the same chain with no fallback):

1. Teacher: a U-Net-style encoder-decoder for segmentation whose decoder upsamples by bilinear
   resizing (``nn.Upsample``), an op the atlas-200 spec's AI Core units do not list.
2. Distillation: the student architecture, half as wide (its training is out of scope: the
   architecture is what is priced).
3. Filter pruning: half of the student's filters in every prunable group removed
   (``es.compress.prune_channels``, L1 importance, Torch-Pruning's dependency groups).
4. Operator selection: each bilinear resize replaced by a 2x2 stride-2 transposed convolution
   of the same channels (``select_ops``), which the cube runs: more MACs, fewer fallbacks.

The row "operator selection alone" applies step 4 to the teacher: which step pays depends on
where the time goes, the talk's point (find the bottleneck before choosing a compression).

Choices (a careful engineer's, stated): the talk does not publish its model, so the model is
this example's; which ops the AI Core lacks, and the AI CPU's cores, efficiency and per-op
handoff, are this example's assumptions (stated in the spec's header), so the numbers are
edgesim's for this chip model, not Ascend measurements; the weights are untrained (seeded), so
pruning keeps filters by norm of untrained weights (cost does not depend on which filters go);
inputs are 256 x 256 RGB images at batch 1, fp16 (the chip's native precision).

Run: ``python examples/atlas.py [--quick] [--out DIR]`` (``make examples`` runs it in full and
saves ``examples/results/atlas/``; ``--quick`` is the reduced run the test uses).
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
ATLAS = HERE / "atlas" / "atlas-200.yaml"
CHIPS = {"atlas-200": str(ATLAS), "davinci-npu": "davinci-npu"}
FALLBACK_UNIT = "aicpu"
TEACHER_WIDTHS = (64, 128, 256, 512)
PRUNE_RATIO = 0.5


def _double_conv(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(),
        nn.Conv2d(c_out, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU())


class UNet(nn.Module):
    """A U-Net-style segmenter: an encoder of ``widths`` (max-pooled between stages), a decoder
    that upsamples 2x (bilinear resize), concatenates the encoder's skip and convolves."""

    def __init__(self, widths: tuple[int, ...], classes: int = 8) -> None:
        super().__init__()
        self.down = nn.ModuleList()
        c_in = 3
        for w in widths:
            self.down.append(_double_conv(c_in, w))
            c_in = w
        self.pool = nn.MaxPool2d(2)
        self.up = nn.ModuleList()
        self.fuse = nn.ModuleList()
        for skip in reversed(widths[:-1]):
            self.up.append(nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False))
            self.fuse.append(_double_conv(c_in + skip, skip))
            c_in = skip
        self.head = nn.Conv2d(c_in, classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for i, stage in enumerate(self.down):
            x = stage(x if i == 0 else self.pool(x))
            skips.append(x)
        for up, fuse, skip in zip(self.up, self.fuse, reversed(skips[:-1]), strict=True):
            x = fuse(torch.cat([up(x), skip], dim=1))
        out: torch.Tensor = self.head(x)
        return out


def select_ops(model: nn.Module, inputs: tuple[torch.Tensor, ...]) -> nn.Module:
    """Operator selection: a copy of ``model`` with every bilinear ``nn.Upsample`` of factor 2
    replaced by a 2x2 stride-2 transposed convolution of the channels it receives (the cube runs
    it; its weights start as a copy of each channel into its 2x2 block, nearest-neighbour
    upsampling, and would be fine-tuned)."""
    import copy

    out = copy.deepcopy(model).eval()
    channels: dict[str, int] = {}
    hooks = [sub.register_forward_hook(
        lambda mod, args, res, name=name: channels.__setitem__(name, int(args[0].shape[1])))
        for name, sub in out.named_modules()
        if isinstance(sub, nn.Upsample) and sub.mode == "bilinear"]
    with torch.no_grad():
        out(*inputs)
    for h in hooks:
        h.remove()
    for name, c in channels.items():
        parent = out.get_submodule(name.rpartition(".")[0]) if "." in name else out
        deconv = nn.ConvTranspose2d(c, c, 2, stride=2, bias=False)
        with torch.no_grad():
            deconv.weight.zero_()
            deconv.weight[range(c), range(c)] = 1.0  # each channel copied to its 2x2 block
        setattr(parent, name.rpartition(".")[2], deconv)
    return out


def _price(model: nn.Module, inputs: tuple[torch.Tensor, ...], name: str) -> dict[str, Any]:
    import edgesim as es

    wl = es.trace(model.eval(), inputs, name=name)
    rows: dict[str, Any] = {"macs": wl.macs, "params": wl.params}
    for chip, spec in CHIPS.items():
        r = es.simulate(wl, spec)
        on_cpu = [lay for lay in r.layers if lay.unit == FALLBACK_UNIT]
        rows[chip] = {
            "latency_s": r.latency_s, "energy_j": r.energy_j,
            "dram_bytes": sum(lay.dram_read_bytes + lay.dram_write_bytes for lay in r.layers),
            "fallback_layers": len(on_cpu),
            "fallback_s": sum(lay.latency_s for lay in on_cpu),
            "by_unit_s": {u: sum(lay.latency_s for lay in r.layers if lay.unit == u)
                          for u in sorted({lay.unit for lay in r.layers})}}
    return rows


def run(quick: bool) -> dict[str, Any]:
    import edgesim as es

    side = 64 if quick else 256
    teacher_widths = tuple(w // 4 for w in TEACHER_WIDTHS) if quick else TEACHER_WIDTHS
    student_widths = tuple(w // 2 for w in teacher_widths)
    torch.manual_seed(0)
    inputs = (torch.randn(1, 3, side, side),)
    teacher = UNet(teacher_widths).eval()
    student = UNet(student_widths).eval()
    pruned = es.compress.prune_channels(student, inputs, ratio=PRUNE_RATIO).eval()
    steps = [("teacher", teacher), ("distillation (student)", student),
             ("filter pruning", pruned), ("operator selection", select_ops(pruned, inputs))]
    chain = []
    for label, model in steps:
        chain.append({"step": label, **_price(model, inputs, label.split()[0])})
    alone = {"step": "operator selection alone (teacher)",
             **_price(select_ops(teacher, inputs), inputs, "teacher-ops")}
    return {"example": "atlas", "quick": quick, "input": [1, 3, side, side],
            "teacher_widths": list(teacher_widths), "student_widths": list(student_widths),
            "prune_ratio": PRUNE_RATIO, "chips": list(CHIPS), "chain": chain,
            "operator_selection_alone": alone,
            # the talk's figures (Atlas 200, the talk's own model): not comparable one to one
            "talk": {"before_s": 0.630, "after_s": 0.040}}


def lessons(summary: dict[str, Any]) -> dict[str, Any]:
    """Per chip: each step's speed-up over the one before, the whole chain's, and the share of
    the pruned student's latency spent on the fallback unit; and what the MACs did."""
    chain, out = summary["chain"], {}
    for chip in summary["chips"]:
        lat = [s[chip]["latency_s"] for s in chain]
        out[chip] = {
            "step_speedup": {chain[i]["step"]: lat[i - 1] / lat[i] for i in range(1, len(chain))},
            "chain_speedup": lat[0] / lat[-1],
            "teacher_fallback_share": chain[0][chip]["fallback_s"] / lat[0],
            "pruned_fallback_share": chain[2][chip]["fallback_s"] / lat[2],
            "alone_speedup": lat[0] / summary["operator_selection_alone"][chip]["latency_s"]}
    out["selection_macs_ratio"] = chain[3]["macs"] / chain[2]["macs"]
    return out


def report(summary: dict[str, Any]) -> str:
    lines = [f"The Atlas case: a U-Net segmenter at {summary['input'][2]}x{summary['input'][3]}, "
             f"teacher widths {summary['teacher_widths']}, student {summary['student_widths']}",
             "  step                                 GMACs   chip          latency ms  "
             "AI CPU ms  AI CPU ops  DRAM MB"]
    for s in [*summary["chain"], summary["operator_selection_alone"]]:
        for chip in summary["chips"]:
            d = s[chip]
            lines.append(f"  {s['step']:<36} {s['macs'] / 1e9:6.2f}   {chip:<12} "
                         f"{d['latency_s'] * 1e3:10.3f}  {d['fallback_s'] * 1e3:9.3f}  "
                         f"{d['fallback_layers']:10d}  {d['dram_bytes'] / 1e6:7.1f}")
    les = lessons(summary)
    for chip in summary["chips"]:
        d = les[chip]
        steps = ", ".join(f"{k} {v:.2f}x" for k, v in d["step_speedup"].items())
        lines.append(f"  {chip}: chain {d['chain_speedup']:.1f}x ({steps}); operator selection "
                     f"alone {d['alone_speedup']:.2f}x")
    lines.append(f"  operator selection keeps {les['selection_macs_ratio']:.3f}x the pruned "
                 f"student's MACs (the talk: {summary['talk']['before_s'] * 1e3:.0f} ms -> "
                 f"{summary['talk']['after_s'] * 1e3:.0f} ms, on its own model)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the reduced run the test uses")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "atlas")
    args = parser.parse_args(argv)
    summary = run(args.quick)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "summary.json").write_text(json.dumps(summary, indent=1, sort_keys=True) + "\n")
    print(report(summary))
    print(f"wrote {args.out / 'summary.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
