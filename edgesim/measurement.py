"""Latency of a torch module measured on this machine (``es.measure``): median and spread.

What is measured is the eager module under ``torch.inference_mode`` on ``threads`` intra-op
threads (restored afterwards), batch as given by the example inputs: ``warmup`` calls first
(allocations, oneDNN primitive caches), then timed calls (``time.perf_counter`` around each)
until ``repeats`` calls or, when ``repeats`` is None, at least ``min_time_s`` of timed calls
(between ``min_repeats`` and ``max_repeats``). With ``device="cuda"`` a copy of the module and
the inputs go to the GPU and each call is timed by a pair of CUDA events (``torch.cuda.Event``:
from the first kernel's queueing to the last one's end, launch gaps included), synchronised
after each call. A measurement is not bit-reproducible: searches that use it
(``measured_latency_s``) run it serially in their own process and cache it.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
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
    device: str = "cpu"

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


DEVICES = ("cpu", "cuda")


def cuda_missing() -> str | None:
    """Why this machine cannot measure on a CUDA GPU, or None when it can."""
    import torch

    if not torch.cuda.is_available():
        return ("no CUDA GPU here (torch.cuda.is_available() is False"
                + (f"; torch {torch.__version__} is a CPU build" if torch.version.cuda is None
                   else "") + ")")
    return None


def on_device(module: nn.Module, example_inputs: tuple[Any, ...], device: str
              ) -> tuple[nn.Module, tuple[Any, ...]]:
    """``module`` and its inputs on ``device``: a copy of the module when it moves; when every
    tensor input is there already, the module is taken to be there too (a frozen graph made
    on the device has no parameters to move)."""
    import copy

    import torch

    tensors = [x for x in example_inputs if isinstance(x, torch.Tensor)]
    if device == "cpu" or (tensors and all(x.device.type == device for x in tensors)):
        return module, example_inputs
    moved = copy.deepcopy(module).to(device)
    return moved, tuple(x.to(device) if hasattr(x, "to") else x for x in example_inputs)


def measure(module: nn.Module, example_inputs: tuple[Any, ...], threads: int = 1,
            repeats: int | None = None, warmup: int = 2, min_time_s: float = 0.2,
            min_repeats: int = 5, max_repeats: int = 200, device: str = "cpu",
            before_each: Callable[[], object] | None = None) -> Measurement:
    """Median and spread of ``module(*example_inputs)``'s latency on this machine.

    Args:
        module: the module, called as it is (call ``.eval()`` first for inference behaviour;
            nothing of it is changed).
        example_inputs: the positional inputs of one call.
        threads: torch intra-op threads while measuring (restored afterwards).
        repeats: timed calls; ``None``: enough for ``min_time_s`` (``min_repeats`` to
            ``max_repeats``).
        warmup: untimed calls first.
        device: ``cpu`` (wall clock) or ``cuda`` (CUDA events; the module is copied there
            unless the inputs are there already). torch's TF32 settings apply as they are:
            inside ``fp32_exact()`` fp32 layers run fp32 math, as calibration measures them.
        before_each: called, untimed, before every call (warm-up calls included): what runs
            between two calls (calibration's cold cases run a convolution block there).
    """
    import torch

    threads = _positive_int(threads, "threads")
    if repeats is not None:
        repeats = _positive_int(repeats, "repeats")
    if isinstance(warmup, bool) or not isinstance(warmup, int) or warmup < 0:
        raise EdgesimError(f"expected a number of calls >= 0, got {warmup!r}", field="warmup")
    if not isinstance(example_inputs, tuple):
        raise EdgesimError("expected a tuple of example inputs", field="example_inputs")
    if device not in DEVICES:
        raise EdgesimError(f"unknown device {device!r} (use {' or '.join(DEVICES)})",
                           field="device")
    if device == "cuda":
        missing = cuda_missing()
        if missing:
            raise EdgesimError(missing, field="device")
    if device == "cuda" and isinstance(module, torch.jit.ScriptModule) and any(
            isinstance(x, torch.Tensor) and x.device.type != "cuda" for x in example_inputs):
        raise EdgesimError("a TorchScript module made on the CPU cannot move to the GPU (a "
                           "frozen graph inlines its weights): move the module and inputs "
                           "first (es.measurement.on_device), then freeze", field="module")
    module, example_inputs = on_device(module, example_inputs, device)
    call = _timer(module, example_inputs, device)
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    samples: list[float] = []
    try:
        with torch.inference_mode():
            for _ in range(warmup):
                if before_each is not None:
                    before_each()
                call()
            spent = 0.0
            while True:
                if before_each is not None:
                    before_each()
                dt = call()
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
                       p90_s=_quantile(s, 0.9), samples_s=tuple(samples), threads=threads,
                       device=device)


def _timer(module: nn.Module, example_inputs: tuple[Any, ...], device: str
           ) -> Callable[[], float]:
    """A function that calls the module once and returns the seconds it took."""
    import torch

    if device == "cuda":
        start = torch.cuda.Event(enable_timing=True)
        end = torch.cuda.Event(enable_timing=True)

        def timed_cuda() -> float:
            start.record()
            module(*example_inputs)
            end.record()
            end.synchronize()
            return float(start.elapsed_time(end)) / 1e3

        torch.cuda.synchronize()
        return timed_cuda

    def timed() -> float:
        t0 = time.perf_counter()
        module(*example_inputs)
        return time.perf_counter() - t0

    return timed


@contextmanager
def fp32_exact() -> Iterator[None]:
    """TF32 off for cuDNN and cuBLAS inside (restored after): fp32 layers run fp32 math on a
    GPU, where torch lets cuDNN convolutions use TF32 tensor cores by default."""
    import torch

    before = (torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32)
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    try:
        yield
    finally:
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = before


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


__all__ = ["DEVICES", "Measurement", "cuda_missing", "fp32_exact", "frozen", "measure",
           "on_device"]
