"""What a unit mapper is given (a GEMM view of the layer, built once) and what it returns.

A GEMM-type layer (conv, linear, matmul, adder conv) is ``groups`` independent GEMMs
``out[M,N] += A[M,K] B[K,N]`` (``Layer.gemm``). Each mapper (``systolic``, ``spatial``, ``cube``,
``simd``) gets that view with the operand widths, the packing of narrow operands and the part of
the reduction the unit performs after skipping zeros (and of its time: lanes in lockstep wait
for the one with the most nonzeros), and returns cycles, operations and the
array's own accesses (``ComputeResult``); ``traffic`` adds the buffer and DRAM traffic.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from statistics import NormalDist

from edgesim.hardware.model import ComputeUnit, Hardware, UnitType, ZeroSkip
from edgesim.mapping.storage import Sizes
from edgesim.mapping.traffic import ArraySide
from edgesim.vocab import OpClass, OpKind, parse_nm
from edgesim.workload.layer import Layer


def nm_work_fraction(pattern: str, supported: tuple[str, ...]) -> float | None:
    """Work fraction of an N:M-sparse layer on a unit supporting some N0:M0 patterns, or None.

    A unit built for N0:M0 runs any N:M with the same M and N <= N0 in its N0:M0 format (weights
    pruned 1:4 satisfy 2:4), so the work is N0/M0 of dense; the best supported pattern wins.
    """
    nm = parse_nm(pattern)
    if nm is None:
        return None
    n_keep, m_block = nm
    fracs = []
    for sup in supported:
        sup_nm = parse_nm(sup)
        if sup_nm is not None and sup_nm[1] == m_block and n_keep <= sup_nm[0]:
            fracs.append(sup_nm[0] / sup_nm[1])
    return min(fracs) if fracs else None


def work_fraction(layer: Layer, unit: ComputeUnit) -> float:
    """Fraction of the reduction a unit actually performs after skipping what it can skip."""
    frac = 1.0
    nm_frac = nm_work_fraction(layer.sparsity_pattern, unit.nm_sparsity)
    if nm_frac is not None:
        frac *= nm_frac
    elif layer.weight_sparsity > 0 and unit.zero_skip in (ZeroSkip.WEIGHTS, ZeroSkip.BOTH):
        frac *= 1.0 - layer.weight_sparsity
    if layer.act_sparsity > 0 and unit.zero_skip in (ZeroSkip.ACTIVATIONS, ZeroSkip.BOTH):
        frac *= 1.0 - layer.act_sparsity
    return frac


def lockstep_lanes(unit: ComputeUnit, m: int, n: int) -> int:
    """Lanes that step through their reductions together, of those a GEMM ``M x N`` uses: an
    array's columns (one filter each), a cube's output tile, a SIMD unit's vector (over N)."""
    if unit.type == UnitType.CUBE:
        return min(unit.rows, m) * min(unit.cols, n)
    if unit.type == UnitType.SIMD:
        return min(unit.vector_lanes, n)
    return min(unit.cols, n)


def lockstep_fraction(density: float, k: int, lanes: int) -> float:
    """Fraction of a dense reduction of ``k`` that ``lanes`` lanes in lockstep take when each
    skips its own randomly placed zeros (``density`` of the values kept): the slowest lane sets
    the pace. Each lane keeps Binomial(k, density) values; the expected maximum of ``lanes`` of
    them is ``mean + sd * z`` with Blom's (1958) estimate of the largest of ``lanes`` normal
    order statistics, ``z = Phi^-1((lanes - 0.375) / (lanes + 0.25))``, capped at dense. The load imbalance sparse accelerators report (SCNN, Parashar et al., ISCA 2017;
    Cambricon-X, Zhang et al., MICRO 2016) follows from it; structured N:M sparsity has none.
    """
    if density >= 1.0 or k <= 0:
        return 1.0
    if density <= 0.0 or lanes <= 1:
        return max(density, 0.0)
    z = NormalDist().inv_cdf((lanes - 0.375) / (lanes + 0.25))
    spread = math.sqrt(density * (1.0 - density) / k) * z
    return min(1.0, density + spread)


def cycle_fraction(layer: Layer, unit: ComputeUnit, m: int, n: int, k: int) -> float:
    """Fraction of the dense reduction's *time* a unit takes after skipping: the work fraction,
    widened by the load imbalance of unstructured zero skipping (``lockstep_fraction``)."""
    frac = 1.0
    lanes = lockstep_lanes(unit, m, n)
    nm_frac = nm_work_fraction(layer.sparsity_pattern, unit.nm_sparsity)
    if nm_frac is not None:
        frac *= nm_frac
    elif layer.weight_sparsity > 0 and unit.zero_skip in (ZeroSkip.WEIGHTS, ZeroSkip.BOTH):
        frac *= lockstep_fraction(1.0 - layer.weight_sparsity, k, lanes)
    if layer.act_sparsity > 0 and unit.zero_skip in (ZeroSkip.ACTIVATIONS, ZeroSkip.BOTH):
        frac *= lockstep_fraction(1.0 - layer.act_sparsity, k, lanes)
    return frac


@dataclass(frozen=True)
class GemmView:
    """A GEMM-type layer as every unit mapper sees it (built once per layer and unit)."""

    layer: Layer
    groups: int
    m: int
    n: int
    k: int
    act_bits: int  # bits of an activation (the A operand and the outputs)
    weight_bits: int  # bits of a stored weight at the layer's precision
    pack: int  # operations per PE per cycle (narrow operands packed; 1 otherwise)
    work_fraction: float  # of the reduction the unit performs after skipping zeros / N:M
    op_class: OpClass  # MAC, or ADDER for an adder layer
    cycle_fraction: float = 1.0  # of the reduction's time, load imbalance included
    cold: bool = False  # runs with the caches cold (``kernels.cold_layers``): calibrated units

    @property
    def b_bits(self) -> int:
        """Bits of the B operand: a weight, or an activation for a matmul."""
        return self.act_bits if self.layer.op == OpKind.MATMUL else self.weight_bits

    @property
    def dense_ops(self) -> int:
        """MACs (or adds) before any skipping."""
        return self.groups * self.m * self.n * self.k

    @property
    def useful_ops(self) -> int:
        """Operations the unit performs after skipping."""
        return math.ceil(self.dense_ops * self.work_fraction)


def gemm_view(layer: Layer, unit: ComputeUnit, act_bits: int, weight_bits: int,
              pack: int) -> GemmView:
    """The GEMM view of a GEMM-type ``layer`` on ``unit``."""
    g = layer.gemm()
    if g is None:
        raise ValueError(f"layer {layer.name!r} ({layer.op.value}) is not a GEMM")
    groups, m, n, k = g
    op_class = OpClass.ADDER if layer.op == OpKind.ADDER_CONV2D else OpClass.MAC
    return GemmView(layer, groups, m, n, k, act_bits, weight_bits, pack,
                    work_fraction(layer, unit), op_class, cycle_fraction(layer, unit, m, n, k))


@dataclass(frozen=True)
class ComputeResult:
    """Cycles, operations and array-side accesses of one layer on one unit."""

    compute_cycles: int
    useful_ops: int  # operations that do useful work (for utilization)
    ops: Mapping[OpClass, int]
    dense_ops: int
    array: ArraySide
    note: str = ""
    extra: Mapping[str, float] = field(default_factory=dict)  # diagnostics
    pe_count: int = 0  # 0: the unit's pe_count
    stream_steps: int = 1  # steps the array consumes its data in (folds, passes, fractals)
    noc_words: int = 0  # words passed between PEs (a row-stationary array's partial sums)


MapperFn = Callable[[GemmView, ComputeUnit, Hardware, Sizes], ComputeResult]
"""(gemm view, unit, hardware, operand sizes) -> ComputeResult, for GEMM-type layers."""
