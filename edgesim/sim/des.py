"""Discrete-event simulation (SimPy) of one or several workloads sharing a chip.

The model:

* **Compute units**: one ``simpy.Resource`` (capacity 1) per unit; a layer holds its unit for the
  compute of one tile-step at a time, so co-running workloads interleave on a unit step by step.
* **DRAM channel**: one channel shared by every read and write (three with
  ``channel_per_operand``, below), modelled as *processor sharing*:
  the ``k`` transfers in flight each get ``bandwidth / k`` (equal sharing between concurrent
  streams; work-conserving, so the channel's busy time is the total bytes / bandwidth whatever the
  interleaving). See :class:`DramChannel`. DRAM with a channel per operand
  (``channel_per_operand``) has three such channels, for inputs, weights and outputs, and a
  stage's transfers of different operands cross them side by side.
* **DMA engines**: per layer, one DMA process works through DMA stages in order: stage j stores
  step j-2's outputs, then loads step j's inputs (:mod:`edgesim.sim.timing`), through the channel.
  The part of a stage the unit does not overlap with compute (``dram_overlap``) moves through
  the same channel once step j-1 has computed, while the layer holds its unit (the compute
  process moves it just before computing step j), so contention on the channel stalls the unit.
* **Double-buffered SRAM**: the on-chip buffers (levels that are neither off-chip nor per-PE) are a
  ``simpy.Container`` of their capacity; a tile-step reserves ``min(its DRAM input bytes,
  capacity / 2)`` from the start of its load to the end of its compute. Each layer keeps at most two
  input and two output tiles in flight (load of step i+1 overlaps compute of step i; compute of
  step i+2 waits for the store of step i). On one chain this never blocks; co-running workloads
  may wait for buffer space.
* **Dependencies**: a layer starts when every layer of ``Schedule.deps`` has finished, so
  independent branches mapped to different units run at the same time.
* **Tile-steps**: a layer of ``tiles`` tiles is simulated as ``min(tiles, MAX_TILE_STEPS)`` equal
  steps with the same totals (:mod:`edgesim.sim.timing`), which bounds the events per layer.

On a chain with no contention this runs exactly the pipeline recurrence the analytic model
evaluates in closed loop (:func:`edgesim.sim.timing.pipeline_latency_s`), so the two agree to
rounding; they differ where layers overlap (independent branches) or contend (co-running).

Static energy: the chip leaks once. A workload alone is charged the static power over its
latency; co-running workloads share it, each charged ``1/k`` of the time while ``k`` of them run
(:func:`static_shares_s`), so their static energies sum to the static power over the makespan.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from typing import Any

import simpy

from edgesim.errors import EdgesimError
from edgesim.hardware.model import Hardware, MemoryType, Operand
from edgesim.mapping.counts import Schedule
from edgesim.results import EventKind, SimResult, TimelineEvent
from edgesim.sim.compose import LayerSpan, build_result
from edgesim.sim.timing import HardwareTiming, LayerTimes
from edgesim.vocab import Mode

_Proc = Generator[simpy.Event, Any, None]


class DramChannel:
    """A shared channel of fixed bandwidth, processor-shared equally among transfers in flight."""

    def __init__(self, env: simpy.Environment, bandwidth_bytes_per_s: float) -> None:
        self.env = env
        self.bw = bandwidth_bytes_per_s
        self._active: dict[int, list[Any]] = {}  # seq -> [remaining bytes, tolerance, event]
        self._seq = 0
        self._last_s = 0.0
        self._wake = env.event()
        env.process(self._serve())

    def transfer(self, nbytes: float) -> simpy.Event:
        """An event that succeeds when ``nbytes`` have moved through the channel."""
        ev = self.env.event()
        if nbytes <= 0:
            ev.succeed()
            return ev
        self._advance()
        self._active[self._seq] = [float(nbytes), 1e-9 * nbytes + 1e-6, ev]
        self._seq += 1
        if not self._wake.triggered:
            self._wake.succeed()
        return ev

    def _advance(self) -> None:
        now = self.env.now
        if self._active and now > self._last_s:
            share = (now - self._last_s) * self.bw / len(self._active)
            for item in self._active.values():
                item[0] -= share
        self._last_s = now

    def _serve(self) -> _Proc:
        env = self.env
        while True:
            if not self._active:
                yield self._wake
                self._wake = env.event()
                continue
            n = len(self._active)
            rem = min(item[0] for item in self._active.values())
            yield env.timeout(max(rem, 0.0) * n / self.bw) | self._wake
            if self._wake.triggered:
                self._wake = env.event()
            self._advance()
            # bytes the channel moves in a time below the clock's float resolution count as done
            floor = self.bw * max(env.now, 1e-12) * 1e-14
            done = [k for k, item in self._active.items() if item[0] <= max(item[1], floor)]
            for k in done:
                self._active.pop(k)[2].succeed()


def _sram_capacity_bytes(hw: Hardware) -> int:
    shared = [m.total_bytes for m in hw.memory[1:]
              if not m.per_pe and m.type not in (MemoryType.DRAM, MemoryType.FLASH)]
    return int(sum(shared))


class _Chip:
    """The shared resources of one DES run."""

    def __init__(self, env: simpy.Environment, hw: Hardware) -> None:
        self.env = env
        self.hw = hw
        self.timing = HardwareTiming(hw)
        self.units = {u.name: simpy.Resource(env, capacity=1) for u in hw.compute}
        shared = DramChannel(env, self.timing.dram_bw)
        self.dram = {op: (DramChannel(env, self.timing.dram_bw) if self.timing.per_operand
                          else shared) for op in Operand}
        cap = _sram_capacity_bytes(hw)
        self.sram = simpy.Container(env, capacity=cap, init=cap) if cap > 0 else None
        self.sram_half = cap // 2
        # units that reach no on-chip level (``reaches: []``) stage nothing in the chip's SRAM
        self.offchip_only = {u.name for u in hw.compute if u.reaches == ()}


class _WorkloadRun:
    """One workload's layers as SimPy processes on a shared chip."""

    def __init__(self, chip: _Chip, schedule: Schedule) -> None:
        self.chip = chip
        self.schedule = schedule
        self.name = schedule.workload.name
        env = chip.env
        self.times: list[LayerTimes] = [chip.timing.layer(lc) for lc in schedule.layers]
        self.done = [env.event() for _ in schedule.layers]
        self.start_s = [0.0] * len(schedule.layers)
        self.end_s = [0.0] * len(schedule.layers)
        self.events: list[TimelineEvent] = []
        if len(schedule.deps) != len(schedule.layers):
            raise EdgesimError("schedule has one dependency list per layer", field="deps")
        for i in range(len(schedule.layers)):
            env.process(self._layer(i))

    def _layer(self, i: int) -> _Proc:
        env = self.chip.env
        deps = self.schedule.deps[i]
        if deps:
            yield env.all_of([self.done[d] for d in deps])
        start = env.now
        lc = self.schedule.layers[i]
        t = self.times[i]
        n = t.steps
        loaded = [env.event() for _ in range(n)]
        computed = [env.event() for _ in range(n)]
        stored = [env.event() for _ in range(n)]
        serial_done = [env.event() for _ in range(n)]
        # whole bytes, so the Container's level stays exact however gets and puts interleave
        reserve = (min(-(-t.dram_read_bytes // n), self.chip.sram_half)
                   if self.chip.sram and lc.unit not in self.chip.offchip_only else 0)
        env.process(self._dma(lc.layer, lc.unit, t, reserve, loaded, computed, stored,
                              serial_done))
        env.process(self._compute(lc.layer, lc.unit, t, reserve, loaded, computed, stored,
                                  serial_done))
        yield stored[-1]
        self.start_s[i], self.end_s[i] = start, env.now
        self.events.append(TimelineEvent(self.name, "layers", EventKind.LAYER, lc.layer, start,
                                         env.now))
        self.done[i].succeed()

    def _move(self, layer: str, unit: str, nbytes: float, kind: EventKind, step: int,
              operand: Operand) -> _Proc:
        """One transfer of ``operand`` through its DRAM channel, on the layer's DMA lane."""
        env = self.chip.env
        t0 = env.now
        yield self.chip.dram[operand].transfer(nbytes)
        lane = f"{unit}.dma_in" if kind == EventKind.DMA_IN else f"{unit}.dma_out"
        self.events.append(TimelineEvent(self.name, lane, kind, layer, t0, env.now, step,
                                         round(nbytes)))

    def _side_by_side(self, layer: str, unit: str, parts: list[tuple[float, EventKind, int,
                                                                      Operand]]) -> simpy.Event:
        """Transfers on separate channels at once (a channel per operand): done when all are."""
        env = self.chip.env
        return env.all_of([env.process(self._move(layer, unit, b, kind, step, op))
                           for b, kind, step, op in parts if b > 0])

    def _dma(self, layer: str, unit: str, t: LayerTimes, reserve: int,
             loaded: list[simpy.Event], computed: list[simpy.Event],
             stored: list[simpy.Event], serial_done: list[simpy.Event]) -> _Proc:
        """The layer's DMA engine: stage j stores step j-2, then loads step j (see timing), side
        by side on a channel per operand; the serial parts (moved by the compute process) keep
        their place in its order."""
        env, chip = self.chip.env, self.chip
        n = t.steps
        rd_step = (t.dram_read_bytes - t.serial_read_bytes) / n
        wr_step = (t.dram_write_bytes - t.serial_write_bytes) / n
        (ov_w, ov_in), _ = t.channel_parts_bytes()
        par = t.per_operand
        serial = t.serial_read_bytes > 0 or t.serial_write_bytes > 0
        for j in range(n + 2):
            if serial and 1 <= j <= n:
                yield serial_done[j - 1]  # stage j-1's serial part: the engine's order
            if j >= 2:
                yield computed[j - 2]  # frees a buffer half and makes step j-2's outputs ready
                if wr_step > 0 and not par:
                    yield env.process(self._move(layer, unit, wr_step, EventKind.DMA_OUT, j - 2,
                                                 Operand.OUTPUTS))
                if t.serial_write_bytes == 0 and not par:
                    stored[j - 2].succeed()
            store = None
            if par and j >= 2:  # the store needs no buffer space: it starts at once
                store = self._side_by_side(layer, unit, [(wr_step, EventKind.DMA_OUT, j - 2,
                                                          Operand.OUTPUTS)])
            if j < n:
                if reserve > 0 and chip.sram is not None:
                    yield chip.sram.get(reserve)
                if rd_step > 0 and not par:
                    yield env.process(self._move(layer, unit, rd_step, EventKind.DMA_IN, j,
                                                 Operand.INPUTS))
            if par:
                parts = ([(ov_w / n, EventKind.DMA_IN, j, Operand.WEIGHTS),
                          (ov_in / n, EventKind.DMA_IN, j, Operand.INPUTS)] if j < n else [])
                yield self._side_by_side(layer, unit, parts)
                if store is not None:
                    yield store
                if j >= 2 and t.serial_write_bytes == 0:
                    stored[j - 2].succeed()
            if j < n:
                loaded[j].succeed()

    def _compute(self, layer: str, unit: str, t: LayerTimes, reserve: int,
                 loaded: list[simpy.Event], computed: list[simpy.Event],
                 stored: list[simpy.Event], serial_done: list[simpy.Event]) -> _Proc:
        """Step k: stage k's serial part (step k-2's stores, step k's loads the unit does not
        overlap), then its compute, both holding the unit; the last stages' serial stores after."""
        env, chip = self.chip.env, self.chip
        n = t.steps
        step_s = t.busy_s / n
        rd_serial = t.serial_read_bytes / n
        wr_serial = t.serial_write_bytes / n
        _, (se_w, se_in) = t.channel_parts_bytes()
        res = chip.units[unit]
        for k in range(n):
            yield loaded[k]
            if k >= 2 and wr_serial == 0:
                yield stored[k - 2]  # output double buffer (already true: stored before load k)
            serial = (wr_serial if k >= 2 else 0.0) + rd_serial
            if step_s > 0 or serial > 0:
                with res.request() as req:
                    yield req
                    t0 = env.now
                    if t.per_operand:
                        yield self._side_by_side(layer, unit, [
                            (wr_serial if k >= 2 else 0.0, EventKind.DMA_OUT, k - 2,
                             Operand.OUTPUTS), (se_w / n, EventKind.DMA_IN, k, Operand.WEIGHTS),
                            (se_in / n, EventKind.DMA_IN, k, Operand.INPUTS)])
                        if k >= 2 and wr_serial > 0:
                            stored[k - 2].succeed()
                    else:
                        if k >= 2 and wr_serial > 0:
                            yield env.process(self._move(layer, unit, wr_serial,
                                                         EventKind.DMA_OUT, k - 2,
                                                         Operand.OUTPUTS))
                            stored[k - 2].succeed()
                        if rd_serial > 0:
                            yield env.process(self._move(layer, unit, rd_serial,
                                                         EventKind.DMA_IN, k, Operand.INPUTS))
                    serial_done[k].succeed()
                    if env.now > t0:
                        self.events.append(TimelineEvent(self.name, unit, EventKind.STALL, layer,
                                                         t0, env.now, k))
                    t0 = env.now
                    if step_s > 0:
                        yield env.timeout(step_s)
                if step_s > 0:
                    self.events.append(TimelineEvent(self.name, unit, EventKind.COMPUTE, layer,
                                                     t0, env.now, k))
            else:
                serial_done[k].succeed()
            if reserve > 0 and chip.sram is not None:
                yield chip.sram.put(reserve)
            computed[k].succeed()
        if wr_serial > 0:  # stages n and n+1: the last two steps' stores, the unit waiting
            with res.request() as req:
                yield req
                t0 = env.now
                for k in range(max(0, n - 2), n):
                    yield env.process(self._move(layer, unit, wr_serial, EventKind.DMA_OUT, k,
                                                 Operand.OUTPUTS))
                    stored[k].succeed()
                self.events.append(TimelineEvent(self.name, unit, EventKind.STALL, layer, t0,
                                                 env.now, n - 1))

    @property
    def latency_s(self) -> float:
        return max(self.end_s) if self.end_s else 0.0

    def result(self, static_s: float | None = None) -> SimResult:
        spans = [LayerSpan(s, e, t) for s, e, t in zip(self.start_s, self.end_s, self.times,
                                                       strict=True)]
        timeline = tuple(sorted(self.events, key=lambda ev: (ev.start_s, ev.end_s, ev.lane)))
        return build_result(self.schedule, Mode.DES, spans, self.latency_s, timeline, static_s)


def static_shares_s(latencies_s: Sequence[float]) -> list[float]:
    """Time of the chip's static power charged to each of several workloads released together.

    While ``k`` workloads run, each is charged ``1/k`` of the time, so the shares sum to the
    longest latency (the chip leaks once) and a workload alone is charged its own latency.
    """
    order = sorted(range(len(latencies_s)), key=lambda i: latencies_s[i])
    shares = [0.0] * len(latencies_s)
    prev, acc = 0.0, 0.0
    for rank, i in enumerate(order):
        running = len(order) - rank
        acc += (latencies_s[i] - prev) / running
        prev = latencies_s[i]
        shares[i] = acc
    return shares


def run_des(schedules: Sequence[Schedule]) -> list[SimResult]:
    """Simulate mapped workloads together on one chip, all released at t=0; results in order."""
    if not schedules:
        raise EdgesimError("no workload to simulate", field="workload")
    hw = schedules[0].hardware
    for s in schedules[1:]:
        if s.hardware is not hw and s.hardware != hw:
            raise EdgesimError("co-running workloads must be mapped to the same hardware",
                               field="hardware")
    env = simpy.Environment()
    chip = _Chip(env, hw)
    runs = [_WorkloadRun(chip, s) for s in schedules]
    env.run()
    for r in runs:
        if not all(ev.triggered for ev in r.done):
            raise EdgesimError(f"workload {r.name!r} deadlocked in the DES (a dependency cycle?)",
                               field="deps")
    shares: list[float | None] = (list(static_shares_s([r.latency_s for r in runs]))
                                  if len(runs) > 1 else [None])
    return [r.result(s) for r, s in zip(runs, shares, strict=True)]
