"""Least-squares fit of a simd unit's kernel classes to measured microbenchmarks.

Each measured case is priced by edgesim itself on the machine's base spec (every kernel class
at efficiency 1 and no overhead): per layer, its compute time, the slowest on-chip level's
transfer time and its DRAM transfers. With a class's efficiency ``e(K)`` and per-call overhead
``o``, a layer then takes what edgesim's timing says (``sim.timing``): a double-buffered
pipeline of DRAM loads and stores around ``max(compute / e(K) + o, on-chip)``. The case was
timed warm (the same call repeated), so a case whose weights and peak live activations fit half
the last cache level (as a model's weights must to be kept there, ``retains_weights``) has no
DRAM transfers. ``e`` is piecewise linear in the log2 of one dimension through up to three knots
spanning the class's cases: the reduction length ``K`` or the output rows ``M`` of a GEMM (the
output elements of a vector op, whose ``K`` is 1), whichever fits the class better.
The same measurements give the same fit, bit for bit, with the same torch and scipy (cases are
priced from their torch.fx traces).

First the on-chip level bandwidths: each within a factor of 4 of what streaming measured,
fitted together with one efficiency and overhead on the elementwise and copy cases (the cases
that move the most bytes per operation), so that they mean what edgesim's traffic counts need.
Then the classes, one at a time, minimising the log ratios of predicted to measured time with
``scipy.optimize.least_squares`` (bounded, deterministic; squared up to a 10% error, soft-L1
beyond, so that a case a neighbour's load slowed pulls less; the axis whose fit costs less
wins): the vector classes first,
then the GEMM classes, matmul last (its cases are fused attention, whose softmax is priced with
the already fitted softmax class). Then, where the cases were also timed cold (after a
convolution block: a CPU), each class's cold cost on those times, with a case's first layer
cold and the rest of its chain warm: its warm curve times one factor (at most 1) and an overhead
of at least the warm one, so cold is never the cheaper.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from edgesim.calibrate.cases import Case
from edgesim.hardware.model import ConvDispatch, Hardware, KernelFit
from edgesim.mapping.kernels import kernel_class, packed_bytes
from edgesim.sim import schedule_for
from edgesim.sim.timing import HardwareTiming, pipeline_latency_s
from edgesim.vocab import GEMM_OPS, PACKED_OPERAND, KernelClass
from edgesim.workload.ir import Workload

K = KernelClass
VECTOR_CLASSES = (K.ELEMENTWISE, K.ACTIVATION, K.BATCHNORM, K.LAYERNORM, K.SOFTMAX, K.POOL,
                  K.GLOBAL_POOL, K.CONCAT, K.UPSAMPLE)
FIT_ORDER = (*VECTOR_CLASSES, K.CONV1X1, K.CONV1X1_STRIDED, K.CONV3X3, K.CONV5X5, K.CONV7X7,
             K.CONV_IM2COL, K.DEPTHWISE, K.GROUPED, K.LINEAR, K.MATMUL)
EFFICIENCY_BOUNDS = (0.002, 1.0)
ROBUST_SCALE = 0.1  # soft-L1 loss beyond a 10% log error: a noisy case pulls less
MEMORY_PROBES = (K.ELEMENTWISE, K.CONCAT)  # the cases the on-chip bandwidths are fitted on
BANDWIDTH_FACTOR = 4.0  # a fitted bandwidth stays within this factor of the streamed one
OVERHEAD_BOUNDS_S = (0.0, 2e-3)
COLD_FACTOR_MIN = 0.1  # a cold class runs at no less than this share of its warm efficiency
PACK_S_PER_BYTE_BOUNDS = (0.0, 1e-8)  # a packing pass between free and 0.1 GB/s
PACK_S_PER_BYTE_MIN = 1e-14  # below this (100 TB/s) a fitted packing pass is none



@dataclass(frozen=True)
class LayerTerm:
    """One layer of a case priced at efficiency 1 and no overhead (seconds)."""

    cls: KernelClass
    k: int
    m: int
    compute_s: float
    level_bytes: tuple[tuple[str, int], ...]  # bytes moved at each on-chip level
    dram_read_s: float
    dram_write_s: float
    steps: int
    packed_bytes: int = 0  # the bytes its class packs every call (mapping.kernels)

    def time_s(self, efficiency: float, overhead_s: float, bandwidths: dict[str, float],
               pack_s_per_byte: float = 0.0) -> float:
        """The layer's time at ``efficiency`` with ``overhead_s`` per call, its packing at
        ``pack_s_per_byte`` and these on-chip level bandwidths (bytes/s)."""
        onchip = max((b / bandwidths[name] for name, b in self.level_bytes), default=0.0)
        busy = max(self.compute_s / efficiency + overhead_s + self.packed_bytes * pack_s_per_byte,
                   onchip)
        n = self.steps  # a CPU's transfers all overlap (dram_overlap: all): no serial parts
        return pipeline_latency_s(self.dram_read_s / n, busy / n, self.dram_write_s / n, n)


@dataclass(frozen=True)
class Measured:
    """A case, its measured time (warm: the same call repeated), its time cold (each call after
    a convolution block; None where not measured), and its layers priced on the base spec."""

    case: Case
    measured_s: float
    terms: tuple[LayerTerm, ...]
    cold_s: float | None = None

    @property
    def cls(self) -> KernelClass:
        """The class the case measures: its GEMM layer's, else its first layer's."""
        gemm = [t.cls for t in self.terms if t.cls not in VECTOR_CLASSES]
        return gemm[0] if gemm else self.terms[0].cls


def unit_base(hw: Hardware) -> Hardware:
    """``hw`` with every kernel class of its main unit at efficiency 1 and no overhead."""
    unit = hw.main_unit
    ideal = tuple((c, KernelFit(((1, 1.0),), 0)) for c in KernelClass)
    units = tuple(replace(u, kernels=ideal) if u.name == unit.name else u for u in hw.compute)
    return replace(hw, compute=units)


def terms_of(wl: Workload, base: Hardware, warm_bytes: float) -> tuple[LayerTerm, ...]:
    """The layer terms of ``wl`` on ``base`` (from :func:`unit_base`); DRAM transfers are
    dropped when the case's operands fit in ``warm_bytes`` (timed warm, they stay cached)."""
    sched = schedule_for(wl, base)
    timing = HardwareTiming(base)
    by_name = {lay.name: lay for lay in wl.layers}
    native = base.main_unit.native_precision.value
    per_layer = [lay.operand_bytes(native) for lay in wl.layers]
    # What a repeated call touches: every weight, and the live activations at their peak (the
    # allocator hands a freed tensor's memory to the next one: a chain reuses its buffers).
    footprint = (sum(b["weights"] for b in per_layer)
                 + max(b["inputs"] + b["outputs"] for b in per_layer))
    warm = footprint <= warm_bytes
    out = []
    for lc in sched.layers:
        lay = by_name[lc.layer]
        t = timing.layer(lc)
        g = lay.gemm() if lay.op in GEMM_OPS else None
        moved = tuple((name, lc.reads_bytes.get(name, 0) + lc.writes_bytes.get(name, 0))
                      for name in timing.onchip_bw)
        cls = kernel_class(lay, base.main_unit)
        packed = (packed_bytes(lay, cls, base.main_unit.native_precision.bits)
                  if base.main_unit.conv_dispatch == ConvDispatch.TORCH_CPU else 0)
        out.append(LayerTerm(cls, g[3] if g else 1,
                             g[1] if g else lay.output_elems, t.compute_s,
                             tuple(m for m in moved if m[1]),
                             0.0 if warm else t.dram_read_s, 0.0 if warm else t.dram_write_s,
                             t.steps, packed))
    return tuple(out)


def knots(ks: Sequence[int], cls: KernelClass) -> tuple[int, ...]:
    """Where a class's efficiency curve has knots: up to three K values spanning its cases."""
    del cls
    if not ks:
        return (1,)
    lo, hi = min(ks), max(ks)
    if hi < 4 * lo:
        return (lo,)
    if hi < 32 * lo:
        return (lo, hi)
    return (lo, round(math.sqrt(lo * hi)), hi)


def _fit_of(x: Sequence[float], ks: tuple[int, ...], axis: str = "k", packs: bool = False
            ) -> tuple[KernelFit, float]:
    """The fit of parameters ``x``: efficiencies at ``ks``, then the overhead, then (a class
    that ``packs``) the packing seconds per byte (0: none)."""
    effs = x[:len(ks)]
    pack = float(x[len(ks) + 1]) if packs else 0.0
    return (KernelFit(tuple(zip(ks, (float(v) for v in effs), strict=True)), 0, axis,
                      pack_bytes_per_s=1.0 / pack if pack > PACK_S_PER_BYTE_MIN else None),
            float(x[len(ks)]))


def predict_s(m: Measured, fits: dict[KernelClass, tuple[KernelFit, float]],
              default: tuple[KernelFit, float], bandwidths: dict[str, float],
              cold: dict[KernelClass, tuple[KernelFit, float]] | None = None) -> float:
    """A case's predicted time with per-class (efficiency curve, overhead seconds); with
    ``cold`` fits, its first layer runs cold (after the convolution block) and the rest warm
    (their class has just run: the simulator's rule, ``mapping.kernels.cold_layers``)."""
    total = 0.0
    for i, t in enumerate(m.terms):
        fit, over = fits.get(t.cls, default)
        if cold is not None and i == 0:
            fit, over = cold.get(t.cls, (fit, over))
        pack = 1.0 / fit.pack_bytes_per_s if fit.pack_bytes_per_s else 0.0
        total += t.time_s(fit.efficiency_at(t.k, t.m), over, bandwidths, pack)
    return total


@dataclass(frozen=True)
class FitResult:
    """Fitted classes (efficiency curve; overhead in seconds) and every case's prediction."""

    fits: dict[KernelClass, tuple[KernelFit, float]]
    bandwidths: dict[str, float]  # effective on-chip level bandwidths (bytes/s)
    rows: tuple[tuple[Case, KernelClass, float, float], ...]  # case, class, measured, predicted
    cold: dict[KernelClass, tuple[KernelFit, float]] = field(default_factory=dict)
    cold_rows: tuple[tuple[Case, KernelClass, float, float], ...] = ()  # the cold times likewise

    def errors(self, cls: KernelClass | None = None, cold: bool = False) -> list[float]:
        """|predicted / measured - 1| of the cases (of one class; ``cold``: of the cold times)."""
        return [abs(p / m - 1.0) for _, k, m, p in (self.cold_rows if cold else self.rows)
                if cls is None or k == cls]

    def summary(self, cold: bool = False) -> list[dict[str, float | str | int]]:
        """Per class: cases, median and 90th-percentile error, share within 10% and 20% (of
        the warm times, or ``cold``)."""
        out: list[dict[str, float | str | int]] = []
        for cls in FIT_ORDER:
            errs = sorted(self.errors(cls, cold))
            if not errs:
                continue
            out.append({"class": cls.value, "cases": len(errs),
                        "median_error": statistics.median(errs),
                        "p90_error": errs[max(0, math.ceil(0.9 * len(errs)) - 1)],
                        "within_10": sum(e <= 0.1 for e in errs) / len(errs),
                        "within_20": sum(e <= 0.2 for e in errs) / len(errs)})
        return out

    def worst(self, share: float) -> list[Case]:
        """The worst-predicted ``share`` of the cases (at least one case)."""
        ranked = sorted(self.rows, key=lambda r: -abs(math.log(r[3] / r[2])))
        n = max(1, round(share * len(ranked)))
        return [r[0] for r in ranked[:n]]


def _solve(residuals: Callable[[Sequence[float]], list[float]], x0: list[float],
           lo: list[float], hi: list[float]) -> tuple[list[float], float]:
    """The bounded soft-L1 least-squares solution and its cost (what it minimised)."""
    from scipy.optimize import least_squares

    sol = least_squares(residuals, x0, bounds=(lo, hi), method="trf", x_scale="jac",
                        loss="soft_l1", f_scale=ROBUST_SCALE)
    return [float(v) for v in sol.x], float(sol.cost)


def fit(measured: Sequence[Measured], streamed: dict[str, float],
        default_efficiency: float = 0.5) -> FitResult:
    """Fit the on-chip bandwidths, then every class that has cases, warm, then cold where the
    cases were timed cold too (module docstring)."""
    default = (KernelFit(((1, default_efficiency),), 0), 0.0)
    levels = sorted(streamed)
    probes = [m for m in measured if m.cls in MEMORY_PROBES]
    bandwidths = dict(streamed)
    if probes:  # elementwise and copy cases, with one efficiency and overhead of their own

        def memory(x: Sequence[float]) -> list[float]:
            bw = {n: streamed[n] * math.exp(v) for n, v in zip(levels, x, strict=False)}
            trial = dict.fromkeys(MEMORY_PROBES, _fit_of(x[len(levels):], (1,)))
            return [math.log(predict_s(m, trial, default, bw) / m.measured_s) for m in probes]

        span = math.log(BANDWIDTH_FACTOR)
        x, _ = _solve(memory, [0.0] * len(levels) + [0.5, 1e-6],
                   [-span] * len(levels) + [EFFICIENCY_BOUNDS[0], OVERHEAD_BOUNDS_S[0]],
                   [span] * len(levels) + [EFFICIENCY_BOUNDS[1], OVERHEAD_BOUNDS_S[1]])
        bandwidths = {n: streamed[n] * math.exp(v) for n, v in zip(levels, x, strict=False)}
    fits: dict[KernelClass, tuple[KernelFit, float]] = {}
    for cls in FIT_ORDER:
        mine = [m for m in measured if m.cls == cls]
        if mine:
            fits[cls] = _fit_class(cls, mine, lambda trial: _predictor(
                {**fits, **trial}, default, bandwidths))
    timed_cold = [m for m in measured if m.cold_s is not None]
    cold: dict[KernelClass, tuple[KernelFit, float]] = {}
    for cls in FIT_ORDER:
        mine = [m for m in timed_cold if m.cls == cls]
        if mine and cls in fits:
            cold[cls] = _fit_cold(cls, mine, fits[cls], lambda trial: _predictor(
                fits, default, bandwidths, {**cold, **trial}))
    rows = tuple((m.case, m.cls, m.measured_s, predict_s(m, fits, default, bandwidths))
                 for m in measured)
    cold_rows = tuple((m.case, m.cls, float(m.cold_s or 0.0),
                       predict_s(m, fits, default, bandwidths, cold)) for m in timed_cold)
    return FitResult(fits, bandwidths, rows, cold, cold_rows)


Fits = dict[KernelClass, tuple[KernelFit, float]]


def _predictor(warm: Fits, default: tuple[KernelFit, float], bandwidths: dict[str, float],
               cold: Fits | None = None) -> Callable[[Measured], float]:
    """:func:`predict_s` with these fits, as a function of the case."""
    return lambda m: predict_s(m, warm, default, bandwidths, cold)


def _scaled(fit: KernelFit, factor: float) -> KernelFit:
    """``fit``'s efficiency curve times ``factor`` (kept within the efficiency bounds)."""
    return replace(fit, points=tuple((k, min(EFFICIENCY_BOUNDS[1],
                                             max(EFFICIENCY_BOUNDS[0], e * factor)))
                                      for k, e in fit.points))


def _fit_cold(cls: KernelClass, mine: list[Measured], warm: tuple[KernelFit, float],
              predictor: Callable[[Fits], Callable[[Measured], float]]
              ) -> tuple[KernelFit, float]:
    """A class's cold cost: its warm curve times one factor (at most 1) and an overhead at
    least the warm one; never cheaper than warm, and two parameters only (in a memory-bound
    range the cold times cannot tell a curve apart)."""
    fit, over = warm

    def residuals(x: Sequence[float]) -> list[float]:
        predict = predictor({cls: (_scaled(fit, x[0]), x[1])})
        return [math.log(predict(m) / float(m.cold_s or m.measured_s)) for m in mine]

    top = max(over, OVERHEAD_BOUNDS_S[1])
    x, _ = _solve(residuals, [0.9, min(over * 1.5 + 1e-6, top)], [COLD_FACTOR_MIN, over],
                  [1.0, top + 1e-9])
    return _scaled(fit, x[0]), x[1]


def _fit_class(cls: KernelClass, mine: list[Measured],
               predictor: Callable[[Fits], Callable[[Measured], float]]
               ) -> tuple[KernelFit, float]:
    """One class's efficiency curve and overhead: on axis k and on axis m, the cheaper."""
    fastest = min(m.measured_s for m in mine)
    packs = cls in PACKED_OPERAND and any(t.packed_bytes for m in mine for t in m.terms)
    best: tuple[float, tuple[KernelFit, float]] | None = None
    for axis in ("k", "m"):
        sizes = sorted({getattr(t, axis) for m in mine for t in m.terms if t.cls == cls})
        ks = knots(sizes, cls)

        def residuals(x: Sequence[float], ks: tuple[int, ...] = ks, axis: str = axis
                      ) -> list[float]:
            predict = predictor({cls: _fit_of(x, ks, axis, packs)})
            return [math.log(predict(m) / m.measured_s) for m in mine]

        x0 = [0.5] * len(ks) + [min(0.5 * fastest, OVERHEAD_BOUNDS_S[1] / 2)]
        lo = [EFFICIENCY_BOUNDS[0]] * len(ks) + [OVERHEAD_BOUNDS_S[0]]
        hi = [EFFICIENCY_BOUNDS[1]] * len(ks) + [OVERHEAD_BOUNDS_S[1]]
        if packs:
            x0.append(1e-10)
            lo.append(PACK_S_PER_BYTE_BOUNDS[0])
            hi.append(PACK_S_PER_BYTE_BOUNDS[1])
        x, cost = _solve(residuals, x0, lo, hi)
        if best is None or cost < best[0] * (1 - 1e-9):
            best = (cost, _fit_of(x, ks, axis, packs))
    assert best is not None
    return best[1]


__all__ = ["FIT_ORDER", "FitResult", "LayerTerm", "Measured", "fit", "knots", "predict_s",
           "terms_of", "unit_base"]
