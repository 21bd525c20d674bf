"""Per-layer time components shared by the analytic and discrete-event simulators.

Both simulators see a layer as ``n`` equal tile-steps (``n = min(tiles, MAX_TILE_STEPS)``), each
of which loads its inputs from DRAM (``l`` seconds), computes (``c``) and stores its outputs (``s``).
DRAM is one channel shared by reads and writes; one DMA engine per layer works through it in a
fixed order, in *DMA stages*: stage ``j`` (``0 <= j <= n+1``) stores step ``j-2``'s outputs (when
``j >= 2``) and then loads step ``j``'s inputs (when ``j < n``); it starts once stage ``j-1`` is done
and step ``j-2``'s compute has finished (that frees the input and output buffer halves: double
buffering). Step ``k`` computes once its load is done and step ``k-1``'s compute has finished.

Definitions (one layer):

* ``compute_s`` = compute_cycles / clock; ``busy_s`` stretches it to the slowest on-chip level whose
  bandwidth the spec declares (``MemoryLevel.bandwidth_declared``; the unit streams from it while
  computing): ``c = busy_s / n``.
* ``dram_s`` = (DRAM reads + writes) / DRAM bandwidth; ``l`` and ``s`` are the per-step shares.
* Transfers a unit does not overlap with compute (``ComputeUnit.dram_overlap``: ``weights`` =
  activation loads and stores stall it, as on Eyeriss v1, JSSC 2017; ``none`` = every transfer
  does; weights fetched through a buffer too small to stage one fold of the array's,
  ``LayerCounts.unbuffered_weight_bytes``, likewise) are the *serial* part of each DMA stage:
  stage ``j`` first moves its overlapped part (from the time above), then waits until the unit
  is idle (step ``j-1`` has computed) and moves its serial part while the unit waits (``ls``
  and ``ss`` per step; ``stall_s`` is their total). The DES runs them through the same shared
  DRAM channel, holding the unit, so under contention a stalled unit waits longer; alone, both
  simulators give the same number. On one channel a compute-bound layer then takes ``compute
  + serial transfers + the first overlapped load`` and with ``none`` exactly ``compute +
  dram_s`` (one step: ``l + c + s``).
* DRAM with a channel per operand (``MemoryLevel.channel_per_operand``: inputs, weights and
  outputs each cross their own channel of the level's bandwidth) moves a stage's parts side by
  side: each part (overlapped, serial) takes its slowest channel, and a stage's store and load
  run together (``parallel``); ``dram_s`` is then the busiest channel's time, ``stall_s`` the
  serial parts' time side by side, and the closed forms below hold per channel (with ``none``,
  one step takes ``busy + max(weights, inputs) + outputs``: its store waits for its compute).
* latency = the end of the last stage in the recurrence above (:func:`pipeline_latency_s`).
  It is ``l + n c + s`` when compute-bound (``c >= l + s``: the first load and the last store are
  exposed, i.e. ``max + min/n``), ``busy + dram`` for one step, and between ``dram`` and
  ``dram + c`` when memory-bound (on one shared channel). The DES runs the same pipeline, so on a chain with no contention
  both give the same number (to rounding).
* ``bound`` is ``memory`` when the memory time (DRAM or the slowest declared on-chip level) exceeds
  the compute time.

Tiles beyond :data:`MAX_TILE_STEPS` are aggregated into that many equal steps (same totals) in both
simulators, so a layer with thousands of tiles costs a bounded number of events; the exposed part
is then one aggregated step (at most 1/32 of the shorter stage) rather than one tile.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

from edgesim.errors import SpecError
from edgesim.hardware.model import DramOverlap, Hardware, MemoryLevel
from edgesim.mapping.counts import MAX_TILE_STEPS, LayerCounts
from edgesim.vocab import Bound


@dataclass(frozen=True)
class LayerTimes:
    """Time components of one layer (seconds) and the tile-steps it is simulated with."""

    compute_s: float  # compute cycles / clock: the unit's busy time without stalls
    busy_s: float  # compute_s stretched to the slowest on-chip level
    onchip_s: float  # slowest on-chip level's transfer time (0 when none declares a bandwidth)
    dram_read_s: float
    dram_write_s: float
    dram_read_bytes: int
    dram_write_bytes: int
    steps: int
    serial_read_bytes: int = 0  # DRAM reads the unit waits for (not overlapped with compute)
    serial_write_bytes: int = 0  # DRAM writes the unit waits for: none or all of them
    # DRAM with a channel per operand: the weights' part of the reads (the rest are inputs), of
    # them the part the unit waits for, and seconds per byte on one channel.
    per_operand: bool = False
    weight_read_bytes: int = 0
    serial_weight_read_bytes: int = 0
    s_per_byte: float = 0.0

    def __post_init__(self) -> None:
        if self.serial_write_bytes not in (0, self.dram_write_bytes):
            # every write is an activation: a unit overlaps all of them or none (the DES's
            # last stages assume it)
            raise ValueError("serial_write_bytes must be 0 or all of dram_write_bytes")
        if self.per_operand:
            w, sw, rd, srd = (self.weight_read_bytes, self.serial_weight_read_bytes,
                              self.dram_read_bytes, self.serial_read_bytes)
            if not (0 <= sw <= w <= rd and sw <= srd and srd - sw <= rd - w
                    and self.s_per_byte > 0):
                raise ValueError("per-operand parts must nest: serial weights <= weights <= "
                                 "reads, serial inputs <= inputs, and s_per_byte > 0")

    @property
    def serial_read_s(self) -> float:
        return self.dram_read_s * (self.serial_read_bytes / self.dram_read_bytes
                                   if self.dram_read_bytes else 0.0)

    @property
    def serial_write_s(self) -> float:
        return self.dram_write_s * (self.serial_write_bytes / self.dram_write_bytes
                                    if self.dram_write_bytes else 0.0)

    @property
    def stall_s(self) -> float:
        """Time the unit waits for transfers it does not overlap (alone on the chip; with a
        channel per operand each stage's serial parts side by side)."""
        if self.per_operand:
            _, (se_w, se_in) = self.channel_parts_bytes()
            n = self.steps
            k = self.s_per_byte / n
            wr, ld = self.serial_write_bytes * k, max(se_w, se_in) * k
            # stages 0..n+1: loads in the first n, stores from the third on
            return sum(max(wr if j >= 2 else 0.0, ld if j < n else 0.0) for j in range(n + 2))
        return self.serial_read_s + self.serial_write_s

    @property
    def dram_s(self) -> float:
        """DRAM time: reads and writes on one channel, or the busiest of one per operand."""
        if self.per_operand:
            w = self.weight_read_bytes
            return max(w, self.dram_read_bytes - w, self.dram_write_bytes) * self.s_per_byte
        return self.dram_read_s + self.dram_write_s

    def channel_parts_bytes(self) -> tuple[tuple[int, int], tuple[int, int]]:
        """Per-operand channels: ((overlapped weight, input) reads, (serial weight, input)
        reads), whole layer."""
        w, sw = self.weight_read_bytes, self.serial_weight_read_bytes
        s_in = self.serial_read_bytes - sw
        return ((w - sw, self.dram_read_bytes - w - s_in), (sw, s_in))

    @property
    def memory_s(self) -> float:
        """Time the memory system needs for this layer (DRAM or the slowest on-chip level)."""
        return max(self.dram_s, self.onchip_s)

    @property
    def latency_s(self) -> float:
        """Double-buffered latency with no contention (see the module docstring)."""
        n = self.steps
        if self.per_operand:
            (ov_w, ov_in), (se_w, se_in) = self.channel_parts_bytes()
            k = self.s_per_byte / n
            return pipeline_latency_s(
                max(ov_w, ov_in) * k, self.busy_s / n,
                (self.dram_write_bytes - self.serial_write_bytes) * k, n,
                max(se_w, se_in) * k, self.serial_write_bytes * k, parallel=True)
        return pipeline_latency_s((self.dram_read_s - self.serial_read_s) / n, self.busy_s / n,
                                  (self.dram_write_s - self.serial_write_s) / n, n,
                                  self.serial_read_s / n, self.serial_write_s / n)

    @property
    def bound(self) -> Bound:
        return Bound.MEMORY if self.memory_s > self.compute_s else Bound.COMPUTE


class HardwareTiming:
    """Precomputed bandwidths of one hardware, to time many layers quickly."""

    def __init__(self, hw: Hardware) -> None:
        self.hw = hw
        self.clock_hz = float(hw.clock_hz)
        if not self.clock_hz > 0:
            raise SpecError(f"clock must be positive, got {hw.clock_hz}", file=hw.source or None,
                            field="clock")
        dram = hw.outermost
        self.dram_name = dram.name
        self.dram_bw = float(dram.bandwidth_bytes_per_s)
        if not (self.dram_bw > 0 and math.isfinite(self.dram_bw)):
            raise SpecError(f"the outermost memory level needs a positive bandwidth, got "
                            f"{dram.bandwidth_bytes_per_s}", file=hw.source or None,
                            field=f"memory.{dram.name}.bandwidth")
        self.onchip_bw: dict[str, float] = {
            m.name: _level_bw(m) for m in hw.memory[1:]
            if _level_bw(m) > 0 and m.bandwidth_declared}
        self.overlap = {u.name: u.dram_overlap for u in hw.compute}
        self.per_operand = dram.channel_per_operand

    def layer(self, lc: LayerCounts) -> LayerTimes:
        """Time components of one mapped layer."""
        rd = int(lc.reads_bytes.get(self.dram_name, lc.dram_read_bytes))
        wr = int(lc.writes_bytes.get(self.dram_name, lc.dram_write_bytes))
        compute_s = lc.compute_cycles / self.clock_hz
        onchip_s = 0.0
        for name, bw in self.onchip_bw.items():
            moved = lc.reads_bytes.get(name, 0) + lc.writes_bytes.get(name, 0)
            if moved:
                onchip_s = max(onchip_s, moved / bw)
        steps = tile_steps(lc.tiles)
        overlap = self.overlap.get(lc.unit, DramOverlap.ALL)
        serial_rd, serial_wr = serial_bytes(overlap, rd, wr, lc.dram_act_read_bytes)
        weights_rd = max(0, rd - lc.dram_act_read_bytes)
        serial_w = weights_rd if overlap == DramOverlap.NONE else 0
        if lc.unbuffered_weight_bytes and overlap != DramOverlap.NONE:  # not already serial
            serial_rd += min(lc.unbuffered_weight_bytes, weights_rd)
            serial_w = min(lc.unbuffered_weight_bytes, weights_rd)
        return LayerTimes(
            compute_s=compute_s,
            busy_s=max(compute_s, onchip_s),
            onchip_s=onchip_s,
            dram_read_s=rd / self.dram_bw,
            dram_write_s=wr / self.dram_bw,
            dram_read_bytes=rd,
            dram_write_bytes=wr,
            steps=steps,
            serial_read_bytes=serial_rd,
            serial_write_bytes=serial_wr,
            per_operand=self.per_operand,
            weight_read_bytes=weights_rd,
            serial_weight_read_bytes=serial_w,
            s_per_byte=1.0 / self.dram_bw,
        )


def serial_bytes(overlap: DramOverlap, read_bytes: int, write_bytes: int,
                 act_read_bytes: int) -> tuple[int, int]:
    """(reads, writes) of a layer's DRAM bytes that its unit does not overlap with compute.

    ``act_read_bytes``: the activation part of the reads (the mapper's ``dram_act_read_bytes``);
    the rest of the reads are weights; every write is an activation (outputs, spilled psums).
    """
    if overlap == DramOverlap.NONE:
        return read_bytes, write_bytes
    if overlap == DramOverlap.WEIGHTS:
        return min(read_bytes, max(0, act_read_bytes)), write_bytes
    return 0, 0


@functools.lru_cache(maxsize=8192)
def pipeline_latency_s(load_s: float, compute_s: float, store_s: float, steps: int,
                       serial_load_s: float = 0.0, serial_store_s: float = 0.0,
                       parallel: bool = False) -> float:
    """End of the last DMA stage of ``steps`` double-buffered tile-steps (per-step times given:
    the overlapped ``load_s`` and ``store_s``, and the ``serial_*`` parts the unit waits for;
    ``parallel``: a stage's store and load cross separate channels side by side).

    The DMA-stage recurrence of the module docstring, exactly as the DES runs it alone
    (memoized: a workload's repeated layers, and designs sharing their counts, ask again).
    """
    n = steps
    cend_prev2 = 0.0  # compute end of step j-2
    cend_prev1 = 0.0  # compute end of step j-1
    dma_end = 0.0
    for j in range(n + 2):
        start = max(dma_end, cend_prev2) if j >= 2 else dma_end
        store, load = (store_s if j >= 2 else 0.0), (load_s if j < n else 0.0)
        dma_end = start + max(store, load) if parallel else start + store + load
        s_store, s_load = (serial_store_s if j >= 2 else 0.0), (serial_load_s if j < n else 0.0)
        serial = max(s_store, s_load) if parallel else s_store + s_load
        if serial > 0.0:  # moved once the unit is idle (step j-1 has computed), while it waits
            dma_end = max(dma_end, cend_prev1) + serial
        if j < n:  # step j computes after its load and after step j-1's compute
            cend = max(dma_end, cend_prev1) + compute_s
            cend_prev2, cend_prev1 = cend_prev1, cend
        else:
            cend_prev2 = cend_prev1
    return dma_end


def tile_steps(tiles: int) -> int:
    """Tile-steps a layer of ``tiles`` tiles is simulated with (1..MAX_TILE_STEPS)."""
    return max(1, min(int(tiles), MAX_TILE_STEPS))


def _level_bw(m: MemoryLevel) -> float:
    """Whole-level bandwidth (per-instance bandwidth x instances); 0 when undeclared/unbounded."""
    bw = float(m.bandwidth_bytes_per_s) * max(1, m.instances)
    return bw if bw > 0 and math.isfinite(bw) else 0.0


__all__ = ["MAX_TILE_STEPS", "HardwareTiming", "LayerTimes", "pipeline_latency_s", "serial_bytes",
           "tile_steps"]
