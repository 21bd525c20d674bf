"""Composing a result: a schedule's counts priced (``cost``) and timed (per-layer spans) into a
``SimResult``; shared by the analytic and the discrete-event simulator."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from edgesim.cost.area import area_breakdown_mm2, area_sources
from edgesim.cost.energy import (
    STATIC,
    energy_sources,
    layer_dynamic_energy_j,
    static_power_w,
    sum_energy_j,
    total_breakdown_j,
)
from edgesim.errors import WorkloadError
from edgesim.hardware.model import Hardware
from edgesim.mapping.counts import LayerCounts, Schedule
from edgesim.mapping.footprint import capacity_warnings, stored_weight_bytes
from edgesim.mapping.memo import counting_signature
from edgesim.results import LayerResult, SimResult, TimelineEvent
from edgesim.sim.timing import LayerTimes
from edgesim.vocab import Mode, OpClass
from edgesim.workload.ir import Workload


@dataclass(frozen=True)
class LayerSpan:
    """When a layer ran (seconds from the workload's release) and its time components."""

    start_s: float
    end_s: float
    times: LayerTimes

    @property
    def latency_s(self) -> float:
        return self.end_s - self.start_s


def workload_at_batch(schedule: Schedule) -> Workload:
    """The schedule's workload at the batch it was mapped at."""
    wl = schedule.workload
    return wl if wl.batch == schedule.batch else wl.with_batch(schedule.batch)


@dataclass(frozen=True)
class Priced:
    """What a result takes from a schedule's counts and the spec's prices alone (no time):
    shared by designs that count and price the same (e.g. differ only in DRAM bandwidth)."""

    layers: tuple[LayerCounts, ...]  # held, so the id in the cache key is not reused
    dynamic_j: tuple[dict[str, float], ...]
    work: tuple[tuple[int, int], ...]  # (macs, adds) per layer
    stored_bytes: int
    warnings: tuple[str, ...]


_PRICED: dict[tuple[object, ...], Priced] = {}
_PRICED_SIZE = 64


def _price_key(hw: Hardware) -> tuple[object, ...]:
    """Every field a layer's dynamic energy reads (``cost.energy.layer_dynamic_energy_j``)."""
    return (tuple((u.name, tuple((k, tuple(sorted(v.items()))) for k, v in
                                 sorted(u.op_energy_pj.items())), u.noc_energy_pj)
                  for u in hw.compute),
            tuple((m.name, m.read_energy_pj_per_byte, m.write_energy_pj_per_byte)
                  for m in hw.memory), hw.decoder_energy_pj)


def priced(schedule: Schedule, wl: Workload) -> Priced:
    """The schedule's time-free parts, cached per schedule, counting signature and prices."""
    hw = schedule.hardware
    key = (id(schedule.layers), id(wl), counting_signature(hw), _price_key(hw))
    hit = _PRICED.get(key)
    if hit is not None and hit.layers is schedule.layers:
        return hit
    work = []
    for lc in schedule.layers:
        try:
            layer = wl.layer(lc.layer)
            work.append((layer.macs, layer.adds))
        except WorkloadError:  # a mapper-made layer (e.g. a transfer) the workload does not list
            work.append((int(lc.ops.get(OpClass.MAC, 0)), int(lc.ops.get(OpClass.ADDER, 0))))
    stored = stored_weight_bytes(schedule)
    parts = Priced(schedule.layers, tuple(layer_dynamic_energy_j(lc, hw) for lc in schedule.layers),
                   tuple(work), stored, tuple(capacity_warnings(schedule, stored)))
    if wl is schedule.workload:  # a workload made here at another batch dies with this call
        if len(_PRICED) >= _PRICED_SIZE:
            _PRICED.pop(next(iter(_PRICED)))
        _PRICED[key] = parts
    return parts


def build_result(schedule: Schedule, mode: Mode, spans: Sequence[LayerSpan], latency_s: float,
                 timeline: tuple[TimelineEvent, ...] = (),
                 static_s: float | None = None) -> SimResult:
    """Price a schedule's counts and compose them with the given per-layer spans.

    ``static_s``: the time the chip's static power is charged to this result (its latency
    unless it shares the chip with co-running workloads)."""
    hw = schedule.hardware
    wl = workload_at_batch(schedule)
    parts = priced(schedule, wl)
    clock = float(hw.clock_hz)
    p_static_w = static_power_w(hw)
    layers: list[LayerResult] = []
    for lc, span, dyn, (macs, adds) in zip(schedule.layers, spans, parts.dynamic_j, parts.work,
                                           strict=True):
        breakdown = dict(dyn)
        breakdown[STATIC] = p_static_w * span.latency_s
        t = span.times
        layers.append(LayerResult(
            name=lc.layer, op=lc.op,
            unit=lc.unit, macs=macs, adds=adds, compute_cycles=int(lc.compute_cycles),
            latency_cycles=int(round(span.latency_s * clock)), utilization=float(lc.utilization),
            dram_read_bytes=t.dram_read_bytes, dram_write_bytes=t.dram_write_bytes,
            energy_j=sum_energy_j(breakdown), energy_breakdown_j=breakdown, bound=t.bound,
            latency_s=span.latency_s, start_s=span.start_s, end_s=span.end_s,
            compute_s=t.compute_s, memory_s=t.memory_s, tiles=int(lc.tiles),
            precision=lc.precision,
        ))
    total = total_breakdown_j(hw, list(parts.dynamic_j),
                              latency_s if static_s is None else static_s)
    area = area_breakdown_mm2(hw)
    return SimResult(
        hardware=hw.name, workload=wl.name, mode=mode, batch=int(schedule.batch), clock_hz=clock,
        latency_s=latency_s, latency_cycles=int(round(latency_s * clock)),
        energy_j=sum_energy_j(total), energy_breakdown_j=total,
        area_mm2=math.fsum(area.values()), area_breakdown_mm2=area,
        macs=wl.macs, adds=wl.adds, params=wl.params, weight_bytes=parts.stored_bytes,
        dram_read_bytes=sum(lay.dram_read_bytes for lay in layers),
        dram_write_bytes=sum(lay.dram_write_bytes for lay in layers),
        layers=tuple(layers), timeline=timeline,
        energy_sources=energy_sources(hw), area_sources=area_sources(hw),
        warnings=parts.warnings,
    )
