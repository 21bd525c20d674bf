"""What ``edgesim calibrate`` reads and measures of this machine beyond its kernels: the CPU's
name, vector width and caches (``/proc/cpuinfo``, sysfs), streaming bandwidth per cache level,
the peak GEMM rate, and whether RAPL energy counters can be read."""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

SYSFS_CPU = Path("/sys/devices/system/cpu/cpu0/cache")
POWERCAP = Path("/sys/class/powercap")
FMA_PIPES = 2  # assumption: two vector FMA pipes per core (Zen 2-5, Skylake-SP and later,
# Cortex-A76/A78); the fitted efficiencies are relative to the peak this implies


@dataclass(frozen=True)
class Machine:
    """The machine a calibration ran on (recorded in the spec's header and measurements)."""

    cpu: str
    arch: str
    cores: int  # logical CPUs the OS reports
    flags: tuple[str, ...]
    vector_fp32: int  # fp32 elements per vector register
    isa: str
    mhz_reported: float
    cache_bytes: tuple[tuple[int, int, int], ...]  # (level, bytes per instance, instances)
    memory_bytes: int
    torch: str
    rapl: str  # "readable: <zones>" or why not

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Machine:
        d = dict(d)
        d["flags"] = tuple(d["flags"])
        d["cache_bytes"] = tuple(tuple(int(x) for x in c) for c in d["cache_bytes"])
        return cls(**d)


def _cpuinfo() -> dict[str, str]:
    out: dict[str, str] = {}
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return out
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() not in out:
            out[key.strip()] = value.strip()
    return out


def _size(text: str) -> int:
    text = text.strip().upper()
    for suffix, mult in (("K", 1024), ("M", 1024**2), ("G", 1024**3)):
        if text.endswith(suffix):
            return int(float(text[:-1]) * mult)
    return int(text)


def _caches(cores: int) -> tuple[tuple[int, int, int], ...]:
    """(level, bytes, instances) of the data/unified caches sysfs lists for cpu0."""
    found: dict[int, tuple[int, int]] = {}
    for idx in sorted(SYSFS_CPU.glob("index*")):
        try:
            if (idx / "type").read_text().strip() == "Instruction":
                continue
            level = int((idx / "level").read_text())
            size = _size((idx / "size").read_text())
            sharing = 0
            for part in (idx / "shared_cpu_list").read_text().strip().split(","):
                a, _, b = part.partition("-")
                sharing += int(b) - int(a) + 1 if b else 1
        except (OSError, ValueError):
            continue
        found[level] = (size, max(1, cores // max(1, sharing)))
    if not found:  # no sysfs (a container without it): a typical hierarchy (fallback_caches)
        return fallback_caches(cores)
    return tuple((lvl, size, n) for lvl, (size, n) in sorted(found.items()))


def fallback_caches(cores: int) -> tuple[tuple[int, int, int], ...]:
    """The cache hierarchy assumed where sysfs lists none (the spec's header says so)."""
    return ((1, 32 * 1024, cores), (2, 512 * 1024, cores), (3, 8 * 1024**2, 1))


def _rapl() -> str:
    if not POWERCAP.is_dir():
        return f"not readable: {POWERCAP} does not exist (a virtual machine or container)"
    zones = sorted(p for p in POWERCAP.glob("intel-rapl:*") if (p / "energy_uj").exists())
    if not zones:
        return f"not readable: no RAPL zone under {POWERCAP}"
    try:
        (zones[0] / "energy_uj").read_text()
    except OSError as exc:
        return f"not readable: {zones[0] / 'energy_uj'}: {exc.strerror}"
    return "readable: " + ", ".join(z.name for z in zones)


def describe() -> Machine:
    """This machine, as far as the OS tells."""
    import torch

    info = _cpuinfo()
    flags = tuple(sorted((info.get("flags") or info.get("Features") or "").split()))
    arch = platform.machine()
    if "avx512f" in flags:
        width, isa = 16, "avx512"
    elif "avx2" in flags and "fma" in flags:
        width, isa = 8, "avx2"
    elif "avx" in flags:
        width, isa = 8, "avx"
    elif arch in ("aarch64", "arm64") or "asimd" in flags:
        width, isa = 4, "neon"
    else:
        width, isa = 4, "sse"
    cores = os.cpu_count() or 1
    try:
        mem = int(Path("/proc/meminfo").read_text().split("MemTotal:")[1].split()[0]) * 1024
    except (OSError, IndexError, ValueError):
        mem = 8 * 1024**3
    return Machine(cpu=info.get("model name") or platform.processor() or arch, arch=arch,
                   cores=cores, flags=flags, vector_fp32=width, isa=isa,
                   mhz_reported=float(info.get("cpu MHz", "0") or 0), cache_bytes=_caches(cores),
                   memory_bytes=mem, torch=torch.__version__, rapl=_rapl())


def _best_rate(fn: Callable[[], object], work: float, min_time_s: float) -> float:
    """Best of repeated timings of ``fn`` as ``work`` per second (after one warm-up call)."""
    fn()
    best = float("inf")
    spent = 0.0
    calls = 0
    while spent < min_time_s or calls < 3:
        t0 = time.perf_counter()
        fn()
        dt = time.perf_counter() - t0
        best = min(best, dt)
        spent += dt
        calls += 1
    return work / best


def stream_bandwidth(size_bytes: int, threads: int, min_time_s: float = 0.1,
                     per_call_bytes: int = 64 * 1024**2) -> float:
    """Bytes per second ``torch.sum`` reads from a ``size_bytes`` fp32 buffer on ``threads``
    threads: the buffer is summed as a stride-0 view repeating it to about ``per_call_bytes``
    per call (so it stays in the cache level it fits, and the call's fixed cost is amortised),
    best of repeated calls."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        n = max(16, size_bytes // 4)
        reps = max(1, per_call_bytes // (n * 4))
        view = torch.ones(n).expand(reps, n)
        with torch.inference_mode():
            return _best_rate(lambda: view.sum(), reps * n * 4.0, min_time_s)
    finally:
        torch.set_num_threads(before)


def gemm_rate(threads: int, n: int = 512, min_time_s: float = 0.2) -> float:
    """Best fp32 multiply-accumulates per second of an ``n``-cubed ``torch.mm``."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        a, b = torch.randn(n, n), torch.randn(n, n)
        with torch.inference_mode():
            return _best_rate(lambda: torch.mm(a, b), float(n) ** 3, min_time_s)
    finally:
        torch.set_num_threads(before)


__all__ = ["FMA_PIPES", "Machine", "describe", "fallback_caches", "gemm_rate", "stream_bandwidth"]
