"""Latency of a torch module measured on this machine (``es.measure``): median and spread.

What is measured is the eager module under ``torch.inference_mode`` on ``threads`` intra-op
threads (restored afterwards), batch as given by the example inputs: ``warmup`` calls first
(allocations, oneDNN primitive caches), then timed calls (``time.perf_counter`` around each)
until ``repeats`` calls or, when ``repeats`` is None, at least ``min_time_s`` of timed calls
(between ``min_repeats`` and ``max_repeats``). A measurement is not bit-reproducible: searches
that use it (``measured_latency_s``) run it serially in their own process and cache it.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from edgesim.errors import EdgesimError

if TYPE_CHECKING:
    from torch import nn


@dataclass(frozen=True)
class Measurement:
    """Timed calls of one module: ``median_s`` is the figure, the rest its spread."""

    median_s: float
    min_s: float
    p10_s: float
    p90_s: float
    samples_s: tuple[float, ...]
    threads: int

    @property
    def spread(self) -> float:
        """(p90 - p10) / median: how noisy the figure is."""
        return (self.p90_s - self.p10_s) / self.median_s if self.median_s > 0 else math.inf


def _quantile(sorted_s: Sequence[float], q: float) -> float:
    """Linear-interpolated quantile of sorted samples."""
    pos = q * (len(sorted_s) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(sorted_s) - 1)
    return sorted_s[lo] + (sorted_s[hi] - sorted_s[lo]) * (pos - lo)


def _positive_int(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise EdgesimError(f"expected a positive integer, got {value!r}", field=field)
    return value


def measure(module: nn.Module, example_inputs: tuple[Any, ...], threads: int = 1,
            repeats: int | None = None, warmup: int = 2, min_time_s: float = 0.2,
            min_repeats: int = 5, max_repeats: int = 200) -> Measurement:
    """Median and spread of ``module(*example_inputs)``'s latency on this machine.

    Args:
        module: the module, called as it is (call ``.eval()`` first for inference behaviour;
            nothing of it is changed).
        example_inputs: the positional inputs of one call.
        threads: torch intra-op threads while measuring (restored afterwards).
        repeats: timed calls; ``None``: enough for ``min_time_s`` (``min_repeats`` to
            ``max_repeats``).
        warmup: untimed calls first.
    """
    import torch

    threads = _positive_int(threads, "threads")
    if repeats is not None:
        repeats = _positive_int(repeats, "repeats")
    if isinstance(warmup, bool) or not isinstance(warmup, int) or warmup < 0:
        raise EdgesimError(f"expected a number of calls >= 0, got {warmup!r}", field="warmup")
    if not isinstance(example_inputs, tuple):
        raise EdgesimError("expected a tuple of example inputs", field="example_inputs")
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    samples: list[float] = []
    try:
        with torch.inference_mode():
            for _ in range(warmup):
                module(*example_inputs)
            spent = 0.0
            while True:
                t0 = time.perf_counter()
                module(*example_inputs)
                dt = time.perf_counter() - t0
                samples.append(dt)
                spent += dt
                if repeats is not None:
                    if len(samples) >= repeats:
                        break
                elif len(samples) >= max_repeats or (len(samples) >= min_repeats
                                                     and spent >= min_time_s):
                    break
    finally:
        torch.set_num_threads(before)
    s = sorted(samples)
    return Measurement(median_s=statistics.median(s), min_s=s[0], p10_s=_quantile(s, 0.1),
                       p90_s=_quantile(s, 0.9), samples_s=tuple(samples), threads=threads)


def frozen(module: nn.Module, example_inputs: tuple[Any, ...]) -> nn.Module:
    """The frozen TorchScript form of ``module`` (``torch.jit.freeze(torch.jit.trace(...))``:
    BatchNorm folded into convs, constants inlined), as ``edgesim calibrate --form frozen``
    measures it. TorchScript is deprecated in recent torch; its warnings are silenced here."""
    import warnings

    import torch

    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", UserWarning)
        out: nn.Module = torch.jit.freeze(torch.jit.trace(module.eval(), example_inputs))
    return out


__all__ = ["Measurement", "frozen", "measure"]
