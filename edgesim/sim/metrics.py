"""A result's headline figures without its per-layer records: what a search's oracle reads.

``analytic_figures(schedule)`` gives the whole-run numbers of ``run_analytic(schedule)`` (the
same arithmetic in the same order, so the same floats bit for bit) without building a
``LayerResult`` per layer: a search scores thousands of designs and reads only these.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from edgesim.cost.area import area_breakdown_mm2
from edgesim.cost.energy import STATIC, sum_energy_j, total_breakdown_j
from edgesim.mapping.counts import Schedule
from edgesim.sim.compose import priced, workload_at_batch
from edgesim.sim.timing import HardwareTiming


@dataclass(frozen=True)
class Figures:
    """The numeric whole-run fields of a ``SimResult`` (same names, same values)."""

    latency_s: float
    latency_cycles: int
    energy_j: float
    dynamic_energy_j: float
    area_mm2: float
    macs: int
    adds: int
    params: int
    weight_bytes: int
    dram_read_bytes: int
    dram_write_bytes: int


def analytic_figures(schedule: Schedule) -> Figures:
    """``run_analytic(schedule)``'s whole-run figures, computed as it computes them."""
    hw = schedule.hardware
    timing = HardwareTiming(hw)
    t = 0.0
    rd = wr = 0
    for lc in schedule.layers:
        times = timing.layer(lc)
        t = t + times.latency_s
        rd += times.dram_read_bytes
        wr += times.dram_write_bytes
    wl = workload_at_batch(schedule)
    parts = priced(schedule, wl)
    clock = float(hw.clock_hz)
    total = total_breakdown_j(hw, list(parts.dynamic_j), t)
    energy = sum_energy_j(total)
    return Figures(
        latency_s=t, latency_cycles=int(round(t * clock)), energy_j=energy,
        dynamic_energy_j=energy - total.get(STATIC, 0.0),
        area_mm2=math.fsum(area_breakdown_mm2(hw).values()), macs=wl.macs, adds=wl.adds,
        params=wl.params, weight_bytes=parts.stored_bytes, dram_read_bytes=rd,
        dram_write_bytes=wr)


__all__ = ["Figures", "analytic_figures"]
