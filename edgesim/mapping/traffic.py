"""Per-level traffic of one layer: the reads and writes of every memory level (totals across instances).

* Each operand flows from its home (``topology``: DRAM, or an MCU's SRAM for activations; the
  weights from a level that retains them, ``Residency.weights_retained``) through the buffers that hold it, outer to inner; each buffer level is tiled (``tiling``) and
  moves the chosen plan's bytes from the level above.
* A mapper whose dataflow fixes the loop order above its buffers (row-stationary processing
  passes: ``spatial``) hands its own plan for the outermost buffer level (``ArraySide.home_plan``);
  inner levels are still tiled here.
* Reads from the innermost buffer are what the array itself consumes (``ArraySide``, given by
  each mapper from its dataflow's reuse); operands no buffer holds are read from the level
  above directly. Per-PE register files get the array's register-file accesses.
* Activation residency, per input tensor (``Residency``): bytes a producer left on chip are read
  from the buffer, not from the home (re-fetches hit the buffer too); an output that stays on
  chip is not written home. A layer with several inputs (a residual add) reads from DRAM only
  the inputs that live there.
* Coded activations (``rlc``) shrink or grow only the bytes crossing the activation home.
* Partial sums a mapper cannot keep in the accumulator (``ArraySide.psum_spill_bytes``) are
  evicted to the level above it and read back (``topology.psum_spill_level``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from edgesim.hardware.model import Hardware, MemoryLevel, Operand
from edgesim.mapping.storage import Sizes
from edgesim.mapping.tiling import TilePlan, capacities, geometry, plan_tiles
from edgesim.mapping.topology import (
    IN,
    OUT,
    W,
    accumulator,
    activation_home,
    chain,
    onchip_buffers,
    per_pe_levels,
    psum_spill_level,
    retaining_level,
)
from edgesim.vocab import GEMM_OPS, OpKind
from edgesim.workload.layer import Layer


@dataclass(frozen=True)
class ArraySide:
    """What the array itself moves at the innermost buffer (bytes) and in per-PE files."""

    reads_bytes: Mapping[Operand, int]  # read by the array from its feeding buffer, per operand
    output_write_bytes: int  # written by the array (partial sums included)
    output_read_bytes: int = 0  # partial sums read back by the array
    rf_read_bytes: Mapping[Operand, int] | None = None  # per-PE register files, per operand
    rf_write_bytes: Mapping[Operand, int] | None = None
    # The mapper's own loop order between the homes and the outermost buffers, when its dataflow
    # fixes one (row-stationary processing passes, see ``spatial``); None: the tiler chooses.
    home_plan: TilePlan | None = None
    # Partial sums that do not fit the accumulator: bytes evicted to ``psum_spill_level`` and
    # brought back (each way), on top of the accumulator's own psum writes and reads above.
    psum_spill_bytes: int = 0


@dataclass(frozen=True)
class Residency:
    """A layer's tensors on chip across layer boundaries, and their coding at the home."""

    inputs_resident_bytes: int = 0  # of the inputs, left on chip by their producers
    weights_resident_bytes: int = 0  # of a matmul's second operand, left on chip likewise
    outputs_on_chip: bool = False  # the output stays on chip (no write home)
    inputs_home_ratio: float = 1.0  # stored / raw size of the inputs at the activation home
    outputs_home_ratio: float = 1.0  # likewise of the output
    weights_home_ratio: float = 1.0  # coded / decoded size of the weights at their home
    weights_retained: bool = False  # the weights live in the retaining level (steady state)


@dataclass(frozen=True)
class LevelTraffic:
    """Bytes read and written at every memory level (by name) for one layer."""

    reads_bytes: dict[str, int]
    writes_bytes: dict[str, int]
    tiles: int  # tiles of the outermost buffer level's plan
    note: str  # the loop order chosen at each buffer level, for people
    dram_act_read_bytes: int = 0  # activations (inputs, a matmul's second operand) from DRAM
    home_weight_bytes: int = 0  # weights fetched from their home, as decoded (before coding)


@dataclass(frozen=True)
class _Paths:
    """Where each operand comes from and which buffers it passes, for one layer."""

    homes: dict[Operand, MemoryLevel | None]  # None: the output stays on chip
    chains: dict[Operand, list[MemoryLevel]]  # buffers below the home, outer to inner
    share: dict[Operand, float]  # fraction of the operand already on chip
    park: dict[Operand, MemoryLevel | None]  # where an on-chip operand sits
    act_ops: tuple[Operand, ...]  # operands that are activations (counted as activation reads)


class _Ledger:
    """Running byte counts of one layer."""

    def __init__(self, hw: Hardware) -> None:
        self.reads_bytes = {m.name: 0 for m in hw.memory}
        self.writes_bytes = {m.name: 0 for m in hw.memory}
        self.home_weight_bytes = 0
        self.dram_act_read_bytes = 0


def register_file_accesses(hw: Hardware, macs: int, act_b: float, w_b: float, psum_b: float,
                           loaded: dict[Operand, int], drained: int,
                           updates: dict[str, int] | None = None,
                           fed: dict[str, float] | None = None,
                           held: Operand | None = None,
                           ) -> tuple[dict[Operand, int], dict[Operand, int]]:
    """Per-PE file accesses (bytes, all PEs) of an array that feeds each MAC from its PE's
    files: a read per MAC of each operand a file holds, the bytes ``loaded`` into it written
    once; the output register is read and written per MAC (at psum width, up to its size), and
    read once more for each of the ``drained`` values that leave it (outputs, partial sums). A
    file serving ``pes_per_instance`` PEs (``served_dimensions``) is read once per broadcast to
    them (``fed[name]`` of them on average where the mapper knows how many a layer uses), and
    its output register once per reduction of their products (an adder tree), or
    ``updates[name]`` times where the mapper counts those reductions itself. The ``held``
    operand stays at the multiplier's input for the whole stream (each PE holds one element of
    it per pass): its file is read once per element loaded, not once per MAC (ZigZag counts a
    read only when the operand changes)."""
    reads: dict[Operand, int] = {}
    writes: dict[Operand, int] = {}
    for m in per_pe_levels(hw):
        served = max(1.0, (fed or {}).get(m.name, float(m.pes_per_instance)))
        for op in m.holds:
            if op == Operand.OUTPUTS:
                width = min(psum_b, float(m.size_bytes))
                n = (updates or {}).get(m.name)
                writes[op] = math.ceil(macs * width / served if n is None else n * width)
                reads[op] = writes[op] + math.ceil(drained * width)
            else:
                per_mac = math.ceil(macs * (act_b if op == Operand.INPUTS else w_b) / served)
                reads[op] = min(per_mac, loaded[op]) if op == held else per_mac
                writes[op] = loaded[op]
    return reads, writes


def _coded(decoded: int, ratio: float) -> int:
    """Bytes of ``decoded`` weight bytes in the coded form (``ratio`` 1: unchanged, exactly)."""
    return decoded if ratio == 1.0 else math.ceil(decoded * ratio)


def _resident_share(part: int, whole: int) -> float:
    return min(1.0, part / whole) if whole > 0 and part > 0 else 0.0


def _paths(hw: Hardware, layer: Layer, sizes: Sizes, res: Residency) -> _Paths:
    act_home = activation_home(hw)
    keep = retaining_level(hw) if res.weights_retained else None
    homes: dict[Operand, MemoryLevel | None] = {IN: act_home, OUT: act_home,
                                                W: keep if keep is not None else hw.outermost}
    chains = {op: [m for m in chain(hw, op) if m is not homes[op]] for op in (IN, W, OUT)}
    # Where a resident activation sits: the outermost buffer of its chain (an output buffer
    # becomes the next layer's input buffer by swapping roles), or any activation buffer.
    act_bufs = [m for m in onchip_buffers(hw)
                if m is not act_home and (IN in m.holds or OUT in m.holds)]
    share = {IN: _resident_share(res.inputs_resident_bytes, sizes.inputs_bytes),
             W: _resident_share(res.weights_resident_bytes, sizes.weights_bytes)
             if layer.op == OpKind.MATMUL else 0.0}
    park = {op: (chains[op][0] if chains[op] else (act_bufs[0] if act_bufs else None))
            for op in (IN, W)}
    for op in (IN, W):
        if park[op] is None:
            share[op] = 0.0
    if res.outputs_on_chip and chains[OUT]:
        homes[OUT] = None
    act_ops = (IN, W) if layer.op == OpKind.MATMUL else (IN,)
    return _Paths(homes, chains, share, park, act_ops)


def _fill_buffers(hw: Hardware, layer: Layer, sizes: Sizes, array: ArraySide, paths: _Paths,
                  res: Residency, led: _Ledger) -> tuple[int, list[str]]:
    """Traffic between the homes and the buffers and between buffer levels; (tiles, notes)."""
    geo = geometry(layer)
    weighted = layer.op in GEMM_OPS
    chains, homes = paths.chains, paths.homes
    depth = max(len(c) for c in chains.values())
    tiles = 1
    notes = []
    for d in range(depth):
        level_of = {op: c[min(d, len(c) - 1)] for op, c in chains.items() if c}
        plan = array.home_plan if d == 0 and array.home_plan is not None \
            else plan_tiles(geo, sizes, capacities(level_of), weighted)
        if d == 0:
            tiles = plan.tiles
        notes.append(f"{'/'.join(sorted({m.name for m in level_of.values()}))}:{plan.order}")
        fills = {IN: plan.inputs_bytes, W: plan.weights_bytes}
        for op in (IN, W):
            c = chains[op]
            if not c or d >= len(c):
                continue
            fill = fills[op]
            if d > 0:
                led.reads_bytes[c[d - 1].name] += fill
                led.writes_bytes[c[d].name] += fill
                continue
            on_chip = int(round(fill * paths.share[op]))  # re-fetches read the buffer itself
            led.reads_bytes[c[0].name] += on_chip
            fill -= on_chip
            src = homes[op]
            if src is None:
                continue
            led.writes_bytes[c[0].name] += fill
            if op == IN:
                fill = int(round(fill * res.inputs_home_ratio))
            elif op not in paths.act_ops:  # weights: coded at home where the chip decodes them
                led.home_weight_bytes += fill
                fill = _coded(fill, res.weights_home_ratio)
            if src is hw.outermost and op in paths.act_ops:
                led.dram_act_read_bytes += fill
            led.reads_bytes[src.name] += fill
        c = chains[OUT]
        if c and d < len(c):
            dst = homes[OUT] if d == 0 else c[d - 1]
            if dst is not None:
                ratio = res.outputs_home_ratio if d == 0 else 1.0
                written = plan.outputs_written_bytes
                coded = int(round(min(written, sizes.outputs_bytes) * ratio))
                led.writes_bytes[dst.name] += coded + max(0, written - sizes.outputs_bytes)
                led.reads_bytes[dst.name] += plan.outputs_read_bytes
                led.reads_bytes[c[d].name] += written
                led.writes_bytes[c[d].name] += plan.outputs_read_bytes
    return tiles, notes


def _array_accesses(hw: Hardware, sizes: Sizes, array: ArraySide, paths: _Paths,
                    res: Residency, led: _Ledger) -> None:
    """The array's own accesses at the innermost buffer (or straight from home without one)."""
    for op in (IN, W):
        c = paths.chains[op]
        amount = array.reads_bytes.get(op, 0)
        if c:
            led.reads_bytes[c[-1].name] += amount
            continue
        parked = paths.park[op]
        on_chip = int(round(amount * paths.share[op]))
        if parked is not None and on_chip:
            led.reads_bytes[parked.name] += on_chip
        src = paths.homes[op]
        if src is not None:
            off = amount - on_chip
            if op == IN:
                off = int(round(off * res.inputs_home_ratio))
            elif op not in paths.act_ops:
                led.home_weight_bytes += off
                off = _coded(off, res.weights_home_ratio)
            led.reads_bytes[src.name] += off
            if src is hw.outermost and op in paths.act_ops:
                led.dram_act_read_bytes += off
    c = paths.chains[OUT]
    if c:
        led.writes_bytes[c[-1].name] += array.output_write_bytes
        led.reads_bytes[c[-1].name] += array.output_read_bytes
    elif (out_home := paths.homes[OUT]) is not None:
        final = min(array.output_write_bytes, sizes.outputs_bytes)
        led.writes_bytes[out_home.name] += (int(round(final * res.outputs_home_ratio))
                                      + array.output_write_bytes - final)
        led.reads_bytes[out_home.name] += array.output_read_bytes
    acc = accumulator(hw)
    if array.psum_spill_bytes and acc is not None:
        s, up = array.psum_spill_bytes, psum_spill_level(hw)
        led.reads_bytes[acc.name] += s  # evicted...
        led.writes_bytes[up.name] += s
        led.reads_bytes[up.name] += s  # ...and brought back for the next pass
        led.writes_bytes[acc.name] += s
        if up is hw.outermost:
            led.dram_act_read_bytes += s
    for m in per_pe_levels(hw):
        for op in m.holds:
            led.reads_bytes[m.name] += (array.rf_read_bytes or {}).get(op, 0)
            led.writes_bytes[m.name] += (array.rf_write_bytes or {}).get(op, 0)


def level_traffic(hw: Hardware, layer: Layer, sizes: Sizes, array: ArraySide,
                  res: Residency = Residency()) -> LevelTraffic:
    """Reads and writes of every memory level for one layer (totals across instances)."""
    paths = _paths(hw, layer, sizes, res)
    led = _Ledger(hw)
    tiles, notes = _fill_buffers(hw, layer, sizes, array, paths, res, led)
    _array_accesses(hw, sizes, array, paths, res, led)
    return LevelTraffic(led.reads_bytes, led.writes_bytes, tiles, "; ".join(notes),
                        led.dram_act_read_bytes, led.home_weight_bytes)
