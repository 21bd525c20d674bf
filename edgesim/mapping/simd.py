"""SIMD units (CPU NEON/AVX, GPU CUDA cores, MCU DSP): vector lanes x cores at a sustained efficiency.

Efficiency model of a GEMM layer (conv, linear, matmul as ``groups`` GEMMs ``M x N x K``; see
``docs/validation_cpu.md`` for the measurements behind it):

* Peak is ``lanes x cores`` MACs per cycle at the native precision (``lanes`` = FMA pipes x
  ``vector_width``, the elements of one vector ``v``, default ``lanes``); narrow operands pack ``native_bits // bits`` per lane only where the unit
  ``packs_narrow``. A tuned GEMM/conv kernel sustains the spec's ``efficiency`` of it (issue
  slots lost to loads, shuffles, loop control): that holds for layers whose vector axis is full.
* Vector axis. A dense conv/linear vectorizes along the output channels ``N`` (a register tile of
  ``REGISTER_TILE_ROWS`` output pixels x one vector of filters, as oneDNN/XNNPACK/ruy kernels
  do): ``N`` not a multiple of the vector wastes lanes, ``N / (ceil(N / v) v)``. A depthwise or
  narrow grouped conv (``N`` per group below a vector) vectorizes across the channels of all
  groups instead (channels-last layout), so its lanes are used as ``C / (ceil(C / v) v)``, but it
  has no register reuse: every MAC loads its input from L1 (``K`` loads per input element), which
  makes it bound by cache bandwidth rather than by FMA throughput.
* Cores split the output tiles (``groups x ceil(M / rows) x ceil(N / v)``); fewer tiles than
  cores leave cores idle (a batch-1 linear with a small ``N``).
* A small ``M`` (batch-1 linear: ``M = 1``) cannot fill the register tile: weights are read once
  per output row from L1 instead of once per ``REGISTER_TILE_ROWS`` rows, and stream from the
  outer levels (the traffic model): such layers are bound by weight bandwidth.
* Fixed per-layer cost: ``layer_overhead_cycles`` of the unit (library call, packing setup and
  thread fork/join on a CPU, a kernel launch on a GPU, interpreter dispatch on an MCU) is added
  to every GEMM layer; it dominates small layers.
* A calibrated class may pack an operand on every call (``pack_bandwidth``): oneDNN under torch
  eager reorders a convolution's weights into its blocked layout, torch's native convolution
  unfolds its input into the K x M im2col matrix; that pass takes its bytes over the rate, before
  the kernel computes (priced as time; its bytes are not added to the cache traffic).

A calibrated unit (``kernels:``, written by ``edgesim calibrate``) replaces ``efficiency`` and
``layer_overhead_cycles`` per kernel class (``mapping/kernels.py``: the layer's class, its
efficiency at the layer's K or M, its overhead per call), and with ``batchnorm: separate`` adds the
pass of a BatchNorm folded into the layer (torch eager runs it on its own).

Adder layers (AdderNet) on a MAC SIMD unit: ``|x - w|`` accumulate takes
``ADDER_INSTRUCTIONS_ON_MAC`` = 2 vector instructions where a MAC takes one FMA (an
absolute-difference and an add: NEON ``vabd`` + ``vadd``, AVX ``vsubps`` + ``vandps``-abs folded
into the add is still two issue slots), so it runs at half the MAC rate; its energy is the
technology table's adder operation.

Skipped zeros cut work only where ``zero_skip`` says so (``work_fraction``). Memory-bound
behaviour comes from the traffic counted per cache level (caches are memory levels of the spec)
and their bandwidths, composed by the simulators: elementwise ops (``base.vector_op``) and
depthwise convs end up bound by the cache or DRAM bandwidth, large convs by the FMA rate.
"""

from __future__ import annotations

import math

from edgesim.hardware.model import ComputeUnit, Hardware, Operand, Operation
from edgesim.mapping.kernels import (
    REGISTER_TILE_ROWS,
    is_channelwise,
    kernel_cost,
    packed_bytes,
    separate_batchnorm_cycles,
)
from edgesim.mapping.mapper import ComputeResult, GemmView
from edgesim.mapping.storage import Sizes
from edgesim.mapping.traffic import ArraySide
from edgesim.vocab import PACKED_OPERAND, KernelClass, OpKind

ADDER_INSTRUCTIONS_ON_MAC = 2


def vector_fill(width: int, vector: int) -> float:
    """Fraction of lanes doing useful work when ``width`` elements run in vectors of ``vector``."""
    if width <= 0 or vector <= 0:
        return 1.0
    return width / (math.ceil(width / vector) * vector)


def _packing_note(cycles: int, cls: KernelClass) -> str:
    """The note of a packing pass (empty without one)."""
    return f", +{cycles} cycles packing its {PACKED_OPERAND[cls].value}" if cycles else ""


def map_simd(g: GemmView, unit: ComputeUnit, hw: Hardware, sizes: Sizes) -> ComputeResult:
    """Cycles and cache-side traffic of a GEMM layer on a SIMD unit (module docstring)."""
    groups, m, n, k = g.groups, g.m, g.n, g.k
    useful = g.useful_ops
    per_cycle = unit.lanes * g.pack  # operations per cycle per core (all FMA pipes)
    vec = unit.vector_lanes * g.pack  # elements of one vector: the axis fills in these steps
    emulated = g.layer.op == OpKind.ADDER_CONV2D and unit.operation != Operation.ADDER
    channelwise = is_channelwise(g.layer)
    if channelwise:  # vector across groups' channels; output tiles over pixels only
        lane_use = vector_fill(groups * n, vec)
        tiles = math.ceil(m / REGISTER_TILE_ROWS) * math.ceil(groups * n / vec)
    else:
        lane_use = vector_fill(n, vec)
        tiles = groups * math.ceil(m / REGISTER_TILE_ROWS) * math.ceil(n / vec)
    cores_used = min(unit.cores, max(1, tiles))
    cost = kernel_cost(g.layer, unit, k, m, g.cold)
    rate = per_cycle * cores_used * cost.efficiency * lane_use
    if emulated:
        rate /= ADDER_INSTRUCTIONS_ON_MAC
    paced = math.ceil(g.dense_ops * g.cycle_fraction)  # useful ops, slowest lane's pace
    bn_cycles = separate_batchnorm_cycles(g.layer, unit)
    pack_cycles = (math.ceil(packed_bytes(g.layer, cost.cls, unit.native_precision.bits)
                             / cost.pack_bytes_per_s * hw.clock_hz)
                   if cost.pack_bytes_per_s else 0)
    cycles = max(1, math.ceil(paced / rate)) + cost.overhead_cycles + pack_cycles + bn_cycles
    w_b = g.b_bits / 8
    a_b = g.act_bits / 8
    if channelwise:  # each MAC loads its input; the K weights of a channel stay in registers
        in_reads = groups * n * m * k * a_b
        w_reads = groups * n * k * math.ceil(m / REGISTER_TILE_ROWS) * w_b
    else:  # inputs re-read once per vector of filters, weights once per register tile of rows
        in_reads = groups * m * k * math.ceil(n / vec) * a_b
        w_reads = groups * k * n * math.ceil(m / REGISTER_TILE_ROWS) * w_b
    array = ArraySide(reads_bytes={Operand.INPUTS: math.ceil(in_reads),
                                   Operand.WEIGHTS: math.ceil(w_reads)},
                      output_write_bytes=sizes.outputs_bytes)
    note = (f"simd {cores_used}/{unit.cores} cores x {unit.lanes} lanes x{g.pack} pack, "
            f"{cost.cls.value + ' ' if cost.calibrated else ''}efficiency {cost.efficiency:.3g}, "
            f"lane use {lane_use:.2f}"
            f"{', channel-vectorized' if channelwise else ''}"
            f"{', |x-w| emulated in 2 instructions' if emulated else ''}"
            f"{', cold' if g.cold and cost.calibrated else ''}"
            f"{f', +{cost.overhead_cycles} overhead cycles' if cost.overhead_cycles else ''}"
            f"{_packing_note(pack_cycles, cost.cls)}"
            f"{f', +{bn_cycles} cycles of its BatchNorm run separately' if bn_cycles else ''}")
    return ComputeResult(cycles, useful, {g.op_class: useful}, g.dense_ops, array, note,
                         {"lane_use": lane_use})
