"""``edgesim calibrate``: measure this machine, fit a spec to it, write both.

Steps: read the machine (:mod:`edgesim.calibrate.machine`, or :mod:`edgesim.calibrate.gpu`);
stream each cache level and DRAM; time every case of the grid
(:mod:`edgesim.calibrate.cases`) with ``es.measure`` in the chosen form, in three rounds (each
case keeps its fastest call over every round, ``best_s``: on a shared machine a neighbour's load
comes and goes in bursts that slow whole rounds, so the fastest call is the steady figure and a
median is not; Python's ``timeit`` documents the same reasoning); fit (:mod:`edgesim.calibrate.fit`); time the cases
around the worst-fitted 5% and fit again; write the spec (:mod:`edgesim.calibrate.spec_text`)
and, beside it, every measurement (``NAME.measurements.json``) so that ``--from`` refits
without measuring. The fit depends only on the stored measurements: the same file gives the
same spec, byte for byte.
"""

from __future__ import annotations

import datetime
import json
import math
import re
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import asdict, dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

from edgesim.calibrate.cases import Case, build, check_case, convolution_block, densify, grid
from edgesim.calibrate.fit import FitResult, Measured, fit, terms_of, unit_base
from edgesim.calibrate.gpu import (
    WARP,
    Gpu,
    cuda_gemm_rate,
    cuda_stream_bandwidth,
    describe_gpu,
)
from edgesim.calibrate.machine import (
    FMA_PIPES,
    Machine,
    describe,
    gemm_rate,
    stream_bandwidth,
)
from edgesim.calibrate.spec_text import Level, render, render_gpu
from edgesim.errors import EdgesimError, SpecError
from edgesim.fileio import write_atomic
from edgesim.hardware.build import build_hardware
from edgesim.hardware.model import Hardware
from edgesim.hardware.spec import validate_spec_dict
from edgesim.measurement import DEVICES, cuda_missing, fp32_exact
from edgesim.version import __version__
from edgesim.vocab import GEMM_OPS
from edgesim.yamlutil import load_yaml

FORMS = ("eager", "frozen")
DENSIFY_SHARE = 0.05
ROUNDS = 3
FORMAT = 1  # of the measurements file


@dataclass(frozen=True)
class Sample:
    """One timed case: its fastest call over every round (``best_s``, what is fitted), its
    fastest round's median and that round's spread ((p90 - p10) / median), and on a CPU its
    fastest call cold (``cold_s``: each call after ``cases.convolution_block``). Measurements
    written before ``best_s`` was kept have only the median (``best_s`` None): the fit reads
    that, and fits no cold classes without ``cold_s``."""

    case: Case
    median_s: float
    spread: float
    best_s: float | None = None
    cold_s: float | None = None  # fastest call after a convolution block (a CPU's cold time)

    @property
    def time_s(self) -> float:
        """The figure fitted: the fastest call, else (an older file) the median."""
        return self.best_s if self.best_s is not None else self.median_s


@dataclass(frozen=True)
class Measurements:
    """Everything a fit needs, as stored beside the spec."""

    machine: Machine
    threads: int
    form: str
    date: str
    version: str
    levels: tuple[Level, ...]
    gemm_macs_per_s: float
    samples: tuple[Sample, ...]
    device: str = "cpu"  # or "cuda": then ``gpu`` says which, ``machine`` is its host
    gpu: Gpu | None = None

    def to_json(self) -> str:
        d: dict[str, Any] = {
            "format": FORMAT, "machine": self.machine.to_dict(), "threads": self.threads,
            "form": self.form, "date": self.date, "edgesim_version": self.version,
            "levels": [asdict(lv) for lv in self.levels],
            "gemm_macs_per_s": self.gemm_macs_per_s,
            "samples": [{**s.case.to_dict(), "median_s": s.median_s, "spread": s.spread,
                         **({"best_s": s.best_s} if s.best_s is not None else {}),
                         **({"cold_s": s.cold_s} if s.cold_s is not None else {})}
                        for s in self.samples]}
        if self.device != "cpu":  # a CPU file reads as it did before GPUs were measured
            d["device"] = self.device
            d["gpu"] = self.gpu.to_dict() if self.gpu is not None else None
        return json.dumps(d, indent=1, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str, file: str) -> Measurements:
        try:
            d = json.loads(text)
            if d.get("format") != FORMAT:
                raise EdgesimError(f"not a measurements file of this edgesim (format "
                                   f"{d.get('format')!r}, expected {FORMAT})", file=file,
                                   field="format")
            meas = cls(machine=Machine.from_dict(d["machine"]), threads=int(d["threads"]),
                       form=str(d["form"]), date=str(d["date"]),
                       version=str(d["edgesim_version"]),
                       levels=tuple(Level(str(lv["name"]), int(lv["size_bytes"]),
                                          float(lv["bandwidth_bytes_per_s"]),
                                          int(lv["buffer_bytes"])) for lv in d["levels"]),
                       gemm_macs_per_s=float(d["gemm_macs_per_s"]),
                       samples=tuple(Sample(Case.from_dict(s), float(s["median_s"]),
                                            float(s["spread"]),
                                            float(s["best_s"]) if "best_s" in s else None,
                                            float(s["cold_s"]) if "cold_s" in s else None)
                                     for s in d["samples"]),
                       device=str(d.get("device", "cpu")),
                       gpu=Gpu.from_dict(d["gpu"]) if d.get("gpu") is not None else None)
        except EdgesimError:
            raise
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise EdgesimError(f"not a readable measurements file: {type(exc).__name__}: {exc}",
                               file=file) from None
        meas.check(file)
        return meas

    def check(self, file: str) -> None:
        """Refuse measurements no fit can use, naming the field (one error line)."""
        def bad(field: str, why: str) -> EdgesimError:
            return EdgesimError(why, file=file, field=field)

        if self.form not in FORMS:
            raise bad("form", f"unknown form {self.form!r} (use {' or '.join(FORMS)})")
        if self.device not in DEVICES:
            raise bad("device", f"unknown device {self.device!r} (use {' or '.join(DEVICES)})")
        if self.device == "cuda" and (self.gpu is None or self.gpu.sms < 1
                                      or self.gpu.l2_bytes < 1):
            raise bad("gpu", "a cuda measurement needs its GPU (multiprocessors, L2 size)")
        if self.threads < 1:
            raise bad("threads", f"expected a positive number of threads, got {self.threads}")
        m = self.machine
        if m.vector_fp32 < 1 or not (math.isfinite(m.mhz_reported) and m.mhz_reported >= 0):
            raise bad("machine", "expected a positive vector width and a clock >= 0")
        if not any(lv.name != "dram" for lv in self.levels) or not any(
                lv.name == "dram" for lv in self.levels):
            raise bad("levels", "expected a dram level and at least one cache level")
        for i, lv in enumerate(self.levels):
            if not (lv.size_bytes > 0 and lv.bandwidth_bytes_per_s > 0
                    and math.isfinite(lv.bandwidth_bytes_per_s)):
                raise bad(f"levels[{i}]", "expected a positive size and bandwidth")
        if not (self.gemm_macs_per_s > 0 and math.isfinite(self.gemm_macs_per_s)):
            raise bad("gemm_macs_per_s", f"expected a positive rate, got {self.gemm_macs_per_s}")
        if not self.samples:
            raise bad("samples", "no measured case")
        for i, smp in enumerate(self.samples):
            why = check_case(smp.case)
            if why:
                raise bad(f"samples[{i}]", why)
            for key in ("median_s", "best_s", "cold_s"):
                t = getattr(smp, key)
                if t is not None and not (t > 0 and math.isfinite(t)):
                    raise bad(f"samples[{i}].{key}", f"expected a positive time, got {t}")


def measurements_path(spec_path: Path) -> Path:
    """Where the measurements of ``spec_path`` are stored: ``NAME.measurements.json``."""
    return spec_path.with_name(spec_path.stem + ".measurements.json")


def _levels(machine: Machine, threads: int, quick: bool) -> tuple[Level, ...]:
    caches = {lvl: (size, n) for lvl, size, n in machine.cache_bytes}
    out = []
    llc = max(caches)
    llc_bytes = caches[llc][0] * caches[llc][1]
    dram_buf = 64 * 1024**2 if quick else max(256 * 1024**2, 4 * llc_bytes)
    out.append(Level("dram", machine.memory_bytes,
                     stream_bandwidth(dram_buf, threads, 0.05 if quick else 0.3), dram_buf))
    for lvl in sorted(caches, reverse=True):
        size, n = caches[lvl]
        total = size * (min(n, threads) if n > 1 else 1)
        buf = max(4096, total // 4)
        out.append(Level(f"l{lvl}", total, stream_bandwidth(buf, threads,
                                                            0.02 if quick else 0.1), buf))
    return tuple(out)


def _levels_cuda(gpu: Gpu, quick: bool) -> tuple[Level, ...]:
    dram_buf = 256 * 1024**2 if quick else max(1024**3, 4 * gpu.l2_bytes)
    l2_buf = max(4096, gpu.l2_bytes // 4)
    return (Level("dram", gpu.memory_bytes,
                  cuda_stream_bandwidth(dram_buf, 0.05 if quick else 0.3), dram_buf),
            Level("l2", gpu.l2_bytes, cuda_stream_bandwidth(l2_buf, 0.02 if quick else 0.1),
                  l2_buf))


def _time_case(case: Case, threads: int, form: str, quick: bool, device: str = "cpu"
               ) -> Sample:
    """One round of a case: warm (the call repeated), then on a CPU cold (each call after its
    convolution block)."""
    from edgesim.measurement import frozen, measure, on_device

    module, inputs = on_device(*build(case), device)
    if form == "frozen":
        module = frozen(module, inputs)
    timing = partial(measure, module, inputs, threads=threads, warmup=3,
                     min_time_s=0.02 if quick else 0.06, min_repeats=5,
                     max_repeats=60 if quick else 200, device=device)
    m = timing()
    context = _context(case, form, device)
    cold = timing(before_each=context).min_s if context is not None else None
    return Sample(case, m.median_s, m.spread if math.isfinite(m.spread) else 0.0, m.min_s, cold)


def _context(case: Case, form: str, device: str) -> Callable[[], object] | None:
    """What ``case`` timed cold runs before each call: its convolution block, in the form
    measured (none on a GPU: its kernels do not share a CPU's private caches)."""
    if device != "cpu":
        return None
    from edgesim.measurement import frozen

    module, x = convolution_block(case)
    if form == "frozen":
        module = frozen(module, x)
    return lambda: module(*x)


def _macs(case: Case) -> int:
    from edgesim.workload.trace import trace

    module, inputs = build(case)
    total = 0
    for lay in trace(module, inputs, name=case.id).layers:
        g = lay.gemm() if lay.op in GEMM_OPS else None
        if g is not None:
            total += g[0] * g[1] * g[2] * g[3]
    return total


def clock_of(meas: Measurements) -> tuple[float, str]:
    """The spec's clock: what /proc/cpuinfo (a GPU: nvidia-smi's maximum SM clock) reports,
    raised to the clock the fastest GEMM implies at the full FMA peak (a virtual machine
    reports its TSC, not the running clock)."""
    gpu = meas.gpu if meas.device == "cuda" else None
    lanes = (WARP * gpu.warps_per_clock if gpu is not None
             else FMA_PIPES * meas.machine.vector_fp32 * meas.threads)
    source = "nvidia-smi clocks.max.sm" if gpu is not None else "/proc/cpuinfo"
    best = meas.gemm_macs_per_s
    for s in meas.samples:
        if s.case.op in ("conv", "linear") and s.case.groups == 1:
            best = max(best, _macs(s.case) / s.time_s)
    implied = best / lanes
    reported = (gpu.max_sm_mhz if gpu is not None else meas.machine.mhz_reported) * 1e6
    if gpu is not None and reported > 0:  # a GPU reports its real clock: kept
        above = (f"; the fastest kernel ran {best / 1e12:.1f} T MAC/s = {implied / reported:.2f}x"
                 " the fp32 peak at it (Winograd or FFT convolutions multiply less than the MACs"
                 " counted; they fit at efficiency 1)" if implied > reported else "")
        return reported, f"{source}{above}"
    if implied > reported:
        why = "" if gpu is not None else " (a guest reports its TSC)"
        said = (f"above the {reported / 1e9:.3f} GHz {source} reports{why}" if reported > 0
                else f"{source} reports no clock")
        return implied, (f"the fastest kernel ran {best / 1e9:.1f} G MAC/s = {lanes} lanes x "
                         f"{implied / 1e9:.3f} GHz, {said}: a lower bound of the running clock")
    return reported, "/proc/cpuinfo cpu MHz (above what the fastest kernel implies)"


def spec_name(path: Path) -> str:
    """A spec name from a file name: ``mine.yaml -> mine`` (characters a name cannot hold
    become ``-``)."""
    name = re.sub(r"[^A-Za-z0-9_\-]", "-", path.stem)[:64] or "calibrated"
    return name if re.match(r"[A-Za-z_]", name) else f"cpu-{name}"[:64]


def base_hardware(meas: Measurements, clock: tuple[float, str]) -> Hardware:
    """The machine's spec without kernel classes, every class at efficiency 1, no overhead."""
    text = _render(meas, clock, None, "calibrated")
    return unit_base(build_hardware(validate_spec_dict(load_yaml(text, None, SpecError))))


def fit_measurements(meas: Measurements, progress: Callable[[str], None] | None = None,
                     name: str = "host-cpu") -> tuple[str, FitResult]:
    """The spec text and fit of stored measurements (deterministic)."""
    from edgesim.workload.trace import trace

    clock = clock_of(meas)
    base = base_hardware(meas, clock)
    llc = max(lv.size_bytes for lv in meas.levels if lv.name != "dram")
    measured = []
    for i, s in enumerate(meas.samples):
        if progress is not None and i % 50 == 0:
            progress(f"calibrate: pricing case {i + 1}/{len(meas.samples)}")
        module, inputs = build(s.case)
        wl = trace(module, inputs, name=s.case.id)
        measured.append(Measured(s.case, s.time_s, terms_of(wl, base, llc / 2), s.cold_s))
    result = fit(measured, {lv.name: lv.bandwidth_bytes_per_s for lv in meas.levels
                            if lv.name != "dram"})
    return _render(meas, clock, result, name), result


def _render(meas: Measurements, clock: tuple[float, str], result: FitResult | None,
            name: str) -> str:
    if meas.device == "cuda" and meas.gpu is not None:
        return render_gpu(meas.gpu, meas.machine, meas.form, clock[0], clock[1], meas.levels,
                          result, meas.date, meas.version, meas.gemm_macs_per_s, name=name)
    return render(meas.machine, meas.threads, meas.form, clock[0], clock[1], meas.levels, result,
                  meas.date, meas.version, meas.gemm_macs_per_s, name=name)


def measure_machine(threads: int, form: str, quick: bool,
                    progress: Callable[[str], None], cases: Sequence[Case] | None = None,
                    densify_share: float = DENSIFY_SHARE, device: str = "cpu") -> Measurements:
    """Measure this machine (``device="cuda"``: its GPU, TF32 off): streams, the peak GEMM,
    the grid, then cases around the worst."""
    with fp32_exact() if device == "cuda" else nullcontext():
        return _measure(threads, form, quick, progress, cases, densify_share, device)


def _measure(threads: int, form: str, quick: bool, progress: Callable[[str], None],
             cases: Sequence[Case] | None, densify_share: float, device: str) -> Measurements:
    machine = describe()
    gpu = describe_gpu() if device == "cuda" else None
    progress("calibrate: streaming each memory level")
    if gpu is not None:
        levels = _levels_cuda(gpu, quick)
        gemm = cuda_gemm_rate(min_time_s=0.05 if quick else 0.2)
    else:
        levels = _levels(machine, threads, quick)
        gemm = gemm_rate(threads, min_time_s=0.05 if quick else 0.2)
    date = datetime.date.today().isoformat()
    todo = list(cases) if cases is not None else grid(quick)
    rounds = 1 if quick else ROUNDS
    timing = partial(_time_all, threads=threads, form=form, quick=quick, rounds=rounds,
                     progress=progress, device=device)
    samples = timing(todo, what="timing")
    meas = Measurements(machine, threads, form, date, __version__, levels, gemm, tuple(samples),
                        device, gpu)
    if densify_share <= 0:
        return meas
    _, first = fit_measurements(meas)
    extra = densify(first.worst(densify_share), {s.case for s in samples})
    samples += timing(extra, what="densifying around the worst fits")
    return replace(meas, samples=tuple(samples))


def _time_all(cases: Sequence[Case], threads: int, form: str, quick: bool, rounds: int,
              progress: Callable[[str], None], what: str, device: str = "cpu") -> list[Sample]:
    """Each case timed once per round, rounds one after the other; a case keeps its fastest
    call over every round and its fastest round's median (a neighbour's burst of load slows
    one round, not all), and on a CPU its fastest call cold."""
    best: dict[Case, Sample] = {}
    for r in range(rounds):
        for i, case in enumerate(cases):
            progress(f"calibrate: {what}, round {r + 1}/{rounds}, {case.id} "
                     f"({i + 1}/{len(cases)})")
            s = _time_case(case, threads, form, quick, device)
            if case in best:
                old = best[case]
                colds = [c for c in (s.cold_s, old.cold_s) if c is not None]
                s = replace(s if s.median_s < old.median_s else old,
                            best_s=min(s.time_s, old.time_s),
                            cold_s=min(colds) if colds else None)
            best[case] = s
    return [best[c] for c in cases]


def calibrate(out: Path, threads: int = 1, form: str = "eager", quick: bool = False,
              from_path: Path | None = None, progress: Callable[[str], None] | None = None,
              device: str = "cpu") -> FitResult:
    """Measure (or read ``from_path``), fit, and write ``out`` and its measurements file;
    ``device="cuda"`` measures the CUDA GPU (a ``gpu`` spec)."""
    say = progress or (lambda _msg: None)
    if device not in DEVICES:
        raise EdgesimError(f"unknown device {device!r} (use {' or '.join(DEVICES)})",
                           field="--device")
    if device == "cuda" and from_path is None:
        missing = cuda_missing()
        if missing:
            raise EdgesimError(missing, field="--device")
    if form not in FORMS:
        raise EdgesimError(f"unknown form {form!r} (use {' or '.join(FORMS)})", field="--form")
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise EdgesimError(f"expected a positive number of threads, got {threads!r}",
                           field="--threads")
    if from_path is not None:
        try:
            text = Path(from_path).read_text()
        except OSError as exc:
            raise EdgesimError(f"cannot read: {exc.strerror}", file=str(from_path)) from None
        meas = Measurements.from_json(text, str(from_path))
    else:
        meas = measure_machine(threads, form, quick, say, device=device)
    out = Path(out)
    try:
        spec_text, result = fit_measurements(meas, say, spec_name(out))
    except EdgesimError:
        raise
    except (ValueError, RuntimeError, ZeroDivisionError) as exc:  # torch or scipy refusing a case
        raise EdgesimError(f"the measurements cannot be fitted: {type(exc).__name__}: {exc}",
                           file=str(from_path) if from_path else None) from None
    if from_path is None or Path(from_path).resolve() != measurements_path(out).resolve():
        write_atomic(measurements_path(out), partial(_write, meas.to_json()))
    write_atomic(out, partial(_write, spec_text))
    return result


def _write(text: str, path: Path) -> None:
    path.write_text(text)


def summary_lines(result: FitResult) -> list[str]:
    """The fit's error per class, as the command prints it."""
    lines = []
    for cold in (False, True) if result.cold else (False,):
        lines.append(f"{'cold: ' if cold else ''}class{' ' * (8 if cold else 9)}cases  median "
                     "error  p90 error  within 10%  within 20%")
        for r in result.summary(cold):
            lines.append(f"{r['class']:<13} {r['cases']:>5}  {float(r['median_error']):11.1%}  "
                         f"{float(r['p90_error']):9.1%}  {float(r['within_10']):9.0%}  "
                         f"{float(r['within_20']):9.0%}")
    return lines


__all__ = ["FORMS", "Measurements", "Sample", "calibrate", "clock_of", "fit_measurements",
           "measure_machine", "measurements_path", "summary_lines"]
