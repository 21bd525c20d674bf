"""The layers the benchmark gives both edgesim and SCALE-Sim, and SCALE-Sim as a whole process."""

from __future__ import annotations

import math
import subprocess
import sys
import time
from pathlib import Path

from edgesim.validate.scalesim import ScaleSimLayer
from edgesim.vocab import OpKind
from edgesim.workload.ir import Workload

ROOT = Path(__file__).resolve().parents[1]

# Small conv / fc layers (input sizes already padded: SCALE-Sim has no padding field).
# Typical small-CNN layer shapes (28x28 / 14x14 feature maps, tens of channels).
SMALL_LAYERS = [
    ScaleSimLayer("conv3x3", 30, 30, 3, 3, 32, 32, 1),
    ScaleSimLayer("pw", 28, 28, 1, 1, 32, 64, 1),
    ScaleSimLayer("conv_s2", 29, 29, 3, 3, 64, 64, 2),
    ScaleSimLayer("conv5x5", 18, 18, 5, 5, 16, 32, 1),
    ScaleSimLayer("fc", 1, 1, 1, 1, 512, 256, 1),
]


def write_layer_yaml(layers: list[ScaleSimLayer], path: Path, name: str) -> Path:
    """The same layers as an edgesim layer-list workload (no padding: inputs are pre-padded)."""
    lines = [f"name: {name}", "batch: 1", "defaults: {weight_bits: 8, act_bits: 8}", "layers:"]
    for ly in layers:
        lines.append(
            f"  - {{name: {ly.name}, op: conv2d, in_channels: {ly.channels}, "
            f"out_channels: {ly.filters}, in_size: [{ly.ifmap_h}, {ly.ifmap_w}], "
            f"kernel: [{ly.filter_h}, {ly.filter_w}], stride: [{ly.stride}, {ly.stride}], "
            f"padding: [0, 0], inputs: []}}")
    path.write_text("\n".join(lines) + "\n")
    return path


def scalesim_layers_of(wl: Workload) -> list[ScaleSimLayer]:
    """The conv and fc layers of a workload as SCALE-Sim rows (padded input sized so that
    SCALE-Sim's ``ceil((H - R + S) / S)`` equals the layer's output size)."""
    out = []
    for lay in wl.layers:
        if lay.op == OpKind.CONV2D and lay.groups == 1:
            (oh, ow), (r, s), st = lay.out_hw, lay.kernel, lay.stride[0]
            out.append(ScaleSimLayer(lay.name.replace(".", "_"), (oh - 1) * st + r,
                                     (ow - 1) * st + s, r, s, lay.in_channels,
                                     lay.out_channels, st))
        elif lay.op == OpKind.LINEAR:
            out_f, in_f = lay.weight_shape
            out.append(ScaleSimLayer(lay.name.replace(".", "_"), 1, 1, 1, 1, in_f, out_f, 1))
    return out


def ws_cycles(ly: ScaleSimLayer, rows: int, cols: int) -> int:
    """Weight-stationary array cycles (folds x (fill + stream + drain)), a cost proxy."""
    oh = math.ceil((ly.ifmap_h - ly.filter_h + ly.stride) / ly.stride)
    ow = math.ceil((ly.ifmap_w - ly.filter_w + ly.stride) / ly.stride)
    k = ly.filter_h * ly.filter_w * ly.channels
    folds = math.ceil(k / rows) * math.ceil(ly.filters / cols)
    return folds * (2 * rows + cols + oh * ow - 2)


def scalesim_import_s() -> float:
    """Wall time of a fresh Python process that only imports SCALE-Sim (its fixed overhead)."""
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import scalesim.scale_sim"], check=True, cwd=ROOT)
    return time.perf_counter() - t0


def scalesim_process_s(layers: list[ScaleSimLayer], rows: int, cols: int, dataflow: str) -> float:
    """Wall time of a fresh Python process that runs SCALE-Sim on ``layers``."""
    spec = ", ".join(repr(ly) for ly in layers)
    code = ("from edgesim.validate.scalesim import ScaleSimLayer, run_scalesim; "
            f"run_scalesim([{spec}], {rows}, {cols}, {dataflow!r})")
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
    return time.perf_counter() - t0
