"""Hand-set CPU fidelity check: edgesim's predicted latency on ``epyc-zen5`` vs torch CPU latency here.

Usage: ``.venv/bin/python benchmarks/host_cpu.py [--repeats N] [--models a,b] [--layers-only]``.

Torch runs with ``torch.set_num_threads`` = the spec's cores (``--threads N`` overrides both), in
eval mode under ``no_grad``, after warm-up runs, in steady state as benchmark tools report it (``--cold`` flushes the caches
before every timed call: edgesim starts from weights and inputs in DRAM); the figure is the median of the
repeats (the machine is shared: the ratios of one run are what the docs report). Two torch
modes: ``eager`` (op by op, BN separate, layout reorders per call) and ``deployed`` (traced,
frozen, ``optimize_for_inference``: BN folded as edgesim's zoo graphs are, weights pre-packed). Whole zoo models and single layers (built here as small
modules and traced with ``es.trace``) are printed side by side with ``predicted / measured``.
Not part of the test suite.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import edgesim as es  # noqa: E402

MODELS = ("lenet5", "resnet18", "mobilenet_v2", "resnet50", "vit_tiny", "alexnet")


class _Pool(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.pool = nn.MaxPool2d(3, 2, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(x)


def single_layers() -> list[tuple[str, nn.Module, torch.Tensor]]:
    """(name, module, input) of the single-layer cases."""
    return [
        ("conv3x3 128->128 56x56", nn.Conv2d(128, 128, 3, padding=1, bias=False),
         torch.randn(1, 128, 56, 56)),
        ("conv3x3 256->256 14x14", nn.Conv2d(256, 256, 3, padding=1, bias=False),
         torch.randn(1, 256, 14, 14)),
        ("conv1x1 256->64 56x56", nn.Conv2d(256, 64, 1, bias=False),
         torch.randn(1, 256, 56, 56)),
        ("conv7x7/2 3->64 224x224", nn.Conv2d(3, 64, 7, 2, 3, bias=False),
         torch.randn(1, 3, 224, 224)),
        ("dwconv3x3 144 56x56", nn.Conv2d(144, 144, 3, padding=1, groups=144, bias=False),
         torch.randn(1, 144, 56, 56)),
        ("dwconv3x3 960 7x7", nn.Conv2d(960, 960, 3, padding=1, groups=960, bias=False),
         torch.randn(1, 960, 7, 7)),
        ("linear 2048->1000", nn.Linear(2048, 1000), torch.randn(1, 2048)),
        ("linear 192->768 x197", nn.Linear(192, 768), torch.randn(1, 197, 192)),
        ("maxpool3x3/2 64 112x112", _Pool(), torch.randn(1, 64, 112, 112)),
        ("relu 64x112x112", nn.ReLU(), torch.randn(1, 64, 112, 112)),
        ("batchnorm 64x112x112", nn.BatchNorm2d(64).eval(), torch.randn(1, 64, 112, 112)),
    ]


_FLUSH = torch.zeros(96 * 2**20 // 4)  # 96 MiB: 3x the 32 MiB L3


def flush_caches() -> None:
    """Evict weights and activations from the caches (edgesim starts a layer from DRAM)."""
    _FLUSH.add_(1.0)


def measure_s(fn: Callable[[], object], repeats: int, cold: bool = False,
              min_s: float = 0.2) -> tuple[float, float]:
    """(median, min) seconds of ``fn`` after warm-up (at least 3 calls and ``min_s`` seconds),
    each timed call after a cache flush unless ``cold`` is False."""
    t0 = time.perf_counter()
    warm = 0
    while warm < 3 or time.perf_counter() - t0 < min_s:
        fn()
        warm += 1
    times = []
    for _ in range(repeats):
        if cold:
            flush_caches()
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), min(times)


def predicted_s(wl: es.Workload, hw: es.Hardware) -> tuple[float, str]:
    """edgesim's analytic latency and the dominant bound."""
    res = es.simulate(wl, hw)
    bounds = [lr.bound for lr in res.layers]
    return res.latency_s, max(set(bounds), key=bounds.count)


def deployed(module: nn.Module, inputs: tuple[torch.Tensor, ...]) -> Callable[[], object]:
    """The module as deployed for inference: traced, frozen (BN folded into convs, weights
    pre-packed, conv+ReLU fused, blocked layouts kept between layers)."""
    with torch.no_grad():
        frozen = torch.jit.optimize_for_inference(torch.jit.freeze(torch.jit.trace(module, inputs)))

    def run() -> object:
        with torch.no_grad():
            return frozen(*inputs)
    return run


def eager(module: nn.Module, inputs: tuple[torch.Tensor, ...]) -> Callable[[], object]:
    def run() -> object:
        with torch.no_grad():
            return module(*inputs)
    return run


def row(name: str, pred_s: float, eager_s: float, deployed_s: float, bound: str) -> str:
    return (f"{name:<26} {pred_s * 1e3:>9.3f} {eager_s * 1e3:>9.3f} {pred_s / eager_s:>6.2f} "
            f"{deployed_s * 1e3:>9.3f} {pred_s / deployed_s:>6.2f}  {bound}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--layers-only", action="store_true")
    ap.add_argument("--cold", action="store_true",
                    help="flush the caches before every timed call (default: steady state)")
    ap.add_argument("--models-only", action="store_true")
    ap.add_argument("--threads", type=int, default=0,
                    help="torch threads; the spec's cores are set to match (default: the spec's)")
    args = ap.parse_args(argv)
    overrides = {"compute.avx512.cores": args.threads} if args.threads > 0 else None
    hw = es.load_hardware("epyc-zen5", overrides)
    cores = hw.main_unit.cores
    torch.set_num_threads(cores)
    print(f"epyc-zen5: {cores} threads, torch {torch.__version__}, "
          f"{torch.backends.cpu.get_cpu_capability()}")
    header = (f"{'case':<26} {'pred ms':>9} {'eager ms':>9} {'ratio':>6} {'deployed':>9} "
              f"{'ratio':>6}  bound (most layers)")
    ratios: dict[str, float] = {}
    if not args.layers_only:
        print("\nwhole models (batch 1, fp32)\n" + header)
        for name in [m for m in args.models.split(",") if m]:
            model, inputs = es.zoo.get(name)
            wl = es.trace(model, inputs, name=name)
            pred, bound = predicted_s(wl, hw)
            e_s = measure_s(eager(model, inputs), args.repeats, args.cold)[0]
            d_s = measure_s(deployed(model, inputs), args.repeats, args.cold)[0]
            ratios[name] = pred / e_s
            print(row(name, pred, e_s, d_s, bound), flush=True)
    if not args.models_only:
        print("\nsingle layers (batch 1, fp32)\n" + header)
        for name, module, x in single_layers():
            module = module.eval()
            wl = es.trace(module, (x,), name="layer")
            pred, bound = predicted_s(wl, hw)
            e_s = measure_s(eager(module, (x,)), args.repeats * 3, args.cold)[0]
            d_s = measure_s(deployed(module, (x,)), args.repeats * 3, args.cold)[0]
            ratios[name] = pred / e_s
            print(row(name, pred, e_s, d_s, bound), flush=True)
    if ratios:
        worst = max(ratios, key=lambda k: max(ratios[k], 1 / ratios[k]))
        print(f"\nworst eager ratio: {worst} {ratios[worst]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
