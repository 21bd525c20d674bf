"""Analytic composition: per layer, double-buffered overlap of compute and memory; layers summed.

Each layer's latency is the tile pipeline's (:mod:`edgesim.sim.timing`: ``max(busy, dram) +
min(busy, dram) / steps`` when every transfer overlaps compute, plus the transfers the unit
waits for where it does not); the layers run one after another in the schedule's order (a chain:
the analytic model does not overlap independent branches; the DES does). Fast: no events, one
pass over the layers.
"""

from __future__ import annotations

from edgesim.mapping.counts import Schedule
from edgesim.results import SimResult
from edgesim.sim.compose import LayerSpan, build_result
from edgesim.sim.timing import HardwareTiming
from edgesim.vocab import Mode


def run_analytic(schedule: Schedule) -> SimResult:
    """Cost of a mapped workload, composing layer times in closed form."""
    timing = HardwareTiming(schedule.hardware)
    spans: list[LayerSpan] = []
    t = 0.0
    for lc in schedule.layers:
        times = timing.layer(lc)
        end = t + times.latency_s
        spans.append(LayerSpan(start_s=t, end_s=end, times=times))
        t = end
    return build_result(schedule, Mode.ANALYTIC, spans, t)
