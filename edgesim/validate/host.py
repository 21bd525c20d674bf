"""Predicted against measured on this machine (``edgesim validate --device host``, or its GPU).

Every model is run by torch here (``es.measure``: eval mode, ``inference_mode``; the figure is
its fastest call over every round, as calibration's cases are: on a shared machine a
neighbour's load comes in bursts that slow whole rounds, so medians move between runs and the
fastest call does not) and predicted by ``simulate`` on the ``host-cpu`` spec with as many cores as torch
has threads. Three groups: zoo models; models generated from a seed that nothing in the spec
was fitted on (conv stacks over widths, depths and kernel sizes, strided, depthwise and grouped
convolutions, residual and concat joins, MLPs, attention blocks); channel-pruned variants of one
model, whose rank agreement (Spearman) is what a pruning search needs. The summary rows give the
share of zoo and generated models within +-10% and +-20%, the median error and the Spearman
correlation. With ``--device cuda`` the same models run on the GPU (CUDA events, TF32 off)
against a spec written by ``edgesim calibrate --device cuda``. Measurements are not reproducible
to the bit; the predictions are.
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    import torch
    from torch import nn

    from edgesim.measurement import Measurement

Case = tuple[str, "nn.Module", tuple[Any, ...]]
ZOO = ("lenet5", "resnet18", "mobilenet_v2", "vit_tiny")
ROUNDS = 8  # measurement rounds; a model keeps its fastest call over them, and the fastest
# of the odd and of the even rounds apart (``repeat``: how well the machine repeats itself)
KINDS = ("conv", "residual", "concat", "depthwise", "grouped", "mlp", "attention")


def _seq(*mods: nn.Module) -> nn.Module:
    from torch import nn

    return nn.Sequential(*mods)


def _conv_bn_relu(cin: int, cout: int, k: int, stride: int = 1, groups: int = 1) -> nn.Module:
    from torch import nn

    return _seq(nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False),
                nn.BatchNorm2d(cout), nn.ReLU())


def _head(c: int, classes: int = 10) -> nn.Module:
    from torch import nn

    return _seq(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, classes))


def _generated(kind: str, rng: random.Random) -> tuple[nn.Module, tuple[torch.Tensor, ...]]:
    """One model of ``kind`` with shapes drawn from ``rng``."""
    import torch
    from torch import nn

    from edgesim.workload.zoo.beyond_cnn import TransformerBlock

    size = rng.choice([28, 32, 56, 64])
    c = rng.choice([16, 32, 48, 64, 96, 128])
    x = (torch.randn(1, 3, size, size),)
    if kind == "conv":
        layers: list[nn.Module] = [_conv_bn_relu(3, c, rng.choice([3, 5, 7]), 2)]
        for _ in range(rng.randint(2, 5)):
            nc = rng.choice([16, 32, 64, 96, 128])
            layers.append(_conv_bn_relu(c, nc, rng.choice([1, 3, 5]), rng.choice([1, 1, 2])))
            c = nc
        return _seq(*layers, _head(c)), x
    if kind == "residual":
        class Res(nn.Module):
            def __init__(self, ch: int, k: int) -> None:
                super().__init__()
                self.a, self.b = _conv_bn_relu(ch, ch, k), _conv_bn_relu(ch, ch, k)

            def forward(self, t: torch.Tensor) -> torch.Tensor:
                return t + self.b(self.a(t))

        k = rng.choice([1, 3])
        return _seq(_conv_bn_relu(3, c, 3, 2), *[Res(c, k) for _ in range(rng.randint(1, 3))],
                    _head(c)), x
    if kind == "concat":
        class Cat(nn.Module):
            def __init__(self, ch: int) -> None:
                super().__init__()
                self.p, self.q = _conv_bn_relu(ch, ch // 2, 1), _conv_bn_relu(ch, ch // 2, 3)

            def forward(self, t: torch.Tensor) -> torch.Tensor:
                return torch.cat([self.p(t), self.q(t)], dim=1)

        return _seq(_conv_bn_relu(3, c, 3, 2), Cat(c), Cat(c), _head(c)), x
    if kind == "depthwise":
        layers = [_conv_bn_relu(3, c, 3, 2)]
        for _ in range(rng.randint(2, 4)):
            nc = rng.choice([32, 64, 96, 128])
            layers += [_conv_bn_relu(c, c, rng.choice([3, 5]), rng.choice([1, 2]), groups=c),
                       _conv_bn_relu(c, nc, 1)]
            c = nc
        return _seq(*layers, _head(c)), x
    if kind == "grouped":
        g = rng.choice([2, 4, 8])
        c = max(g, c // g * g)
        return _seq(_conv_bn_relu(3, c, 3, 2), _conv_bn_relu(c, c, 3, 1, groups=g),
                    _conv_bn_relu(c, c, 3, 2, groups=g), _head(c)), x
    if kind == "mlp":
        width = [rng.choice([64, 128, 256, 512, 1024]) for _ in range(rng.randint(2, 4))]
        dims = [rng.choice([64, 256, 784]), *width]
        mods: list[nn.Module] = []
        for a, b in zip(dims, dims[1:], strict=False):
            mods += [nn.Linear(a, b), nn.ReLU()]
        return _seq(*mods, nn.Linear(dims[-1], 10)), (torch.randn(rng.choice([1, 8]), dims[0]),)
    if kind == "attention":
        dim = rng.choice([64, 128, 192])
        blocks = [TransformerBlock(dim, rng.choice([2, 4])) for _ in range(rng.randint(1, 2))]
        return _seq(*blocks), (torch.randn(1, rng.choice([49, 64, 197]), dim),)
    raise ValueError(kind)


def generated_cases(seed: int = 0, count: int = 14) -> list[Case]:
    """``count`` models generated from ``seed``, cycling through every kind."""
    import torch

    rng = random.Random(seed)
    torch.manual_seed(seed)
    out = []
    for i in range(count):
        kind = KINDS[i % len(KINDS)]
        module, inputs = _generated(kind, rng)
        out.append((f"gen{i:02d}-{kind}", module.eval(), inputs))
    return out


def zoo_cases(names: Sequence[str] = ZOO) -> list[Case]:
    from edgesim.workload import zoo

    out = []
    for name in names:
        module, inputs = zoo.get(name)
        out.append((name, module.eval(), inputs))
    return out


def pruned_cases(base: Case, ratios: Sequence[float] = (0.0, 0.25, 0.5, 0.75)) -> list[Case]:
    """Channel-pruned variants of one model (Torch-Pruning's groups, L1 importance)."""
    from edgesim.compress import prune_channels

    name, module, inputs = base
    return [(f"{name}-pruned{int(r * 100)}",
             (prune_channels(module, inputs, ratio=r) if r else module).eval(), inputs)
            for r in ratios]


def form_of(spec: str) -> str:
    """What torch form a spec prices: ``frozen`` for a calibrated spec whose unit runs
    BatchNorm folded, else ``eager``."""
    from edgesim.hardware import load_hardware
    from edgesim.hardware.model import BatchnormForm

    unit = load_hardware(spec).main_unit
    return "frozen" if unit.kernels and unit.batchnorm == BatchnormForm.FOLDED else "eager"


def _predicted_s(case: Case, threads: int, spec: str, device: str) -> float:
    from edgesim.hardware import load_hardware
    from edgesim.sim import simulate
    from edgesim.workload.trace import trace

    name, module, inputs = case
    main = load_hardware(spec).main_unit.name
    hw = load_hardware(spec, {f"compute.{main}.cores": threads} if device == "cpu" else None)
    return simulate(trace(module, inputs, name=name), hw).latency_s


def _measured(case: Case, threads: int, repeats: int | None, form: str, device: str
              ) -> Measurement:
    from edgesim.measurement import frozen, measure, on_device

    _, module, inputs = case
    module, inputs = on_device(module, inputs, device)
    if form == "frozen":
        module = frozen(module, inputs)
    return measure(module, inputs, threads=threads, repeats=repeats, device=device)


def spearman(a: Sequence[float], b: Sequence[float]) -> float:
    """Spearman's rank correlation (scipy's, ties averaged)."""
    from scipy.stats import spearmanr

    return float(spearmanr(a, b).statistic)


def summary_rows(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Share within +-10% / +-20% and median error of the zoo and generated rows per thread
    count, and the Spearman correlation of the pruned variants' predicted and measured times."""
    out = []
    for threads in sorted({r["threads"] for r in rows}):
        for group in ("zoo", "generated"):
            errs = [abs(r["ratio"] - 1.0) for r in rows
                    if r["group"] == group and r["threads"] == threads]
            if not errs:
                continue
            metrics = [("share within 10%", sum(e <= 0.10 for e in errs) / len(errs)),
                       ("share within 20%", sum(e <= 0.20 for e in errs) / len(errs)),
                       ("median error", statistics.median(errs))]
            repeats = [abs(r["repeat"] - 1.0) for r in rows if r["group"] == group
                       and r["threads"] == threads and math.isfinite(r.get("repeat", math.nan))]
            if repeats:  # the same models measured again: the best a prediction can agree
                metrics += [("repeat within 10%", sum(e <= 0.10 for e in repeats) / len(repeats)),
                            ("repeat within 20%", sum(e <= 0.20 for e in repeats) / len(repeats))]
            for metric, value in metrics:
                out.append({"group": "summary", "model": f"{group}: {metric}",
                            "threads": threads, "value": value})
        pruned = [r for r in rows if r["group"] == "pruned" and r["threads"] == threads]
        if len(pruned) >= 3:
            out.append({"group": "summary", "model": "pruned: Spearman rank correlation",
                        "threads": threads,
                        "value": spearman([r["predicted_ms"] for r in pruned],
                                          [r["measured_ms"] for r in pruned])})
    return out


def table(progress: Callable[[str], None], threads: Sequence[int] | None = None,
          zoo: Sequence[str] = ZOO, generated: int = 14, pruned_base: str = "resnet18",
          repeats: int | None = None, seed: int = 0, spec: str = "host-cpu",
          device: str = "cpu", rounds: int = ROUNDS,
          measured: pd.DataFrame | None = None) -> pd.DataFrame:
    """The host check: one row per model and thread count, then the summary rows. ``spec`` is
    the spec predicted with (its ``cores`` set to the thread count); the torch form measured is
    the one it prices (:func:`form_of`). Every model is measured once per round, rounds one
    after the other, and keeps its fastest call over them (``measured_ms``; as calibration's
    cases do: a burst of load from a neighbour slows whole rounds) and its fastest round's
    median and spread (``median_ms``, ``spread``); ``repeat`` is the fastest call of the even
    rounds over that of the odd ones (two measurements of the same model: the summary's
    "repeat within" shares bound how well any prediction can agree on this machine). ``device="cuda"``: the GPU check,
    measured with CUDA events and TF32 off, the spec's cores as they are (``threads`` are
    torch's CPU threads dispatching the kernels, default 1). ``measured``: a table this function
    wrote before (the same models: zoo, ``seed`` and ``generated``, threads), whose measurements
    are taken instead of measuring again; only the predictions are made with ``spec`` (to judge
    a refitted spec against the same held-out measurements, offline)."""
    import os
    from contextlib import nullcontext

    import pandas as pd

    from edgesim.measurement import fp32_exact

    if isinstance(rounds, bool) or not isinstance(rounds, int) or rounds < 1:
        from edgesim.errors import EdgesimError

        raise EdgesimError(f"expected a positive number of rounds, got {rounds!r}",
                           field="rounds")
    if threads is None:
        threads = [1] if device == "cuda" else sorted({1, os.cpu_count() or 1})
    cases = ([("zoo", c) for c in zoo_cases(zoo)]
             + [("generated", c) for c in generated_cases(seed, generated)]
             + [("pruned", c) for c in pruned_cases(zoo_cases([pruned_base])[0])])
    form = form_of(spec)
    where = "host" if device == "cpu" else device
    best: dict[tuple[int, int], Measurement] = {}
    halves: dict[tuple[int, int, int], float] = {}  # fastest call of the odd / even rounds
    figures: dict[tuple[int, int], tuple[float, float, float]] = {}  # fastest, median, spread
    if measured is not None:
        figures, halves = _stored(measured, cases, threads)
        rounds = 0
    with fp32_exact() if device == "cuda" else nullcontext():
        for r in range(rounds):
            for n in threads:
                for i, (_, case) in enumerate(cases):
                    progress(f"validate: {where}, round {r + 1}/{rounds}, {n} thread(s), "
                             f"{case[0]} ({i + 1}/{len(cases)})")
                    m = _measured(case, n, repeats, form, device)
                    halves[n, i, r % 2] = min(halves.get((n, i, r % 2), math.inf), m.min_s)
                    if (n, i) in best:
                        old = best[n, i]
                        fastest = min(m.min_s, old.min_s)
                        m = replace(m if m.median_s < old.median_s else old, min_s=fastest)
                    best[n, i] = m
    figures.update({k: (m.min_s, m.median_s, m.spread) for k, m in best.items()})
    rows = []
    for n in threads:
        for i, (group, case) in enumerate(cases):
            predicted = _predicted_s(case, n, spec, device)
            fastest, median, spread = figures[n, i]
            rows.append({"group": group, "model": case[0], "threads": n,
                         "predicted_ms": predicted * 1e3, "measured_ms": fastest * 1e3,
                         "ratio": predicted / fastest, "median_ms": median * 1e3,
                         "spread": spread,
                         "repeat": halves.get((n, i, 1), math.nan) / halves[n, i, 0]})
    df = pd.DataFrame([*rows, *summary_rows(rows)])
    return df[["group", "model", "threads", "predicted_ms", "measured_ms", "ratio", "median_ms",
               "spread", "repeat", "value"]] if "value" in df else df


def _stored(measured: pd.DataFrame, cases: Sequence[tuple[str, Case]], threads: Sequence[int]
            ) -> tuple[dict[tuple[int, int], tuple[float, float, float]],
                       dict[tuple[int, int, int], float]]:
    """The measurements of a stored table (fastest call, median, spread; the repeat ratio as
    odd and even halves), keyed as :func:`table` keys its own."""
    from edgesim.errors import EdgesimError

    rows = {(str(r["model"]), int(r["threads"])): r
            for r in measured.to_dict("records") if r["group"] != "summary"}
    figures: dict[tuple[int, int], tuple[float, float, float]] = {}
    halves: dict[tuple[int, int, int], float] = {}
    for n in threads:
        for i, (_, case) in enumerate(cases):
            r = rows.get((case[0], n))
            if r is None:
                raise EdgesimError(f"the stored table has no measurement of {case[0]!r} at {n} "
                                   "thread(s) (same --seed, --generated and --threads?)",
                                   field="measured")
            figures[n, i] = (float(r["measured_ms"]) * 1e-3, float(r["median_ms"]) * 1e-3,
                             float(r["spread"]))
            halves[n, i, 0] = 1.0
            halves[n, i, 1] = float(r["repeat"])
    return figures, halves


__all__ = ["KINDS", "ROUNDS", "ZOO", "form_of", "generated_cases", "pruned_cases", "spearman", "summary_rows",
           "table", "zoo_cases"]
