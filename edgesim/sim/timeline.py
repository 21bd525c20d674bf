"""Timeline events of a DES run and their export as Chrome trace / Perfetto JSON."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from edgesim.cost.result import SimResult

# Lane kinds: a compute unit's busy spans, a DMA engine's transfers (through the DRAM channel),
# and one span per layer from its start to its end.
KIND_COMPUTE = "compute"
KIND_DMA_IN = "dma_in"
KIND_DMA_OUT = "dma_out"
KIND_LAYER = "layer"


@dataclass(frozen=True)
class TimelineEvent:
    """One span: ``lane`` is a unit name, ``<unit>.dma_in``/``.dma_out`` or ``layers``."""

    workload: str
    lane: str
    kind: str  # compute | dma_in | dma_out | layer
    name: str  # the layer's name
    start_s: float
    end_s: float
    step: int = -1  # tile-step index within the layer (-1 for a layer span)
    nbytes: int = 0  # bytes moved (DMA spans)

    @property
    def dur_s(self) -> float:
        return self.end_s - self.start_s


def union_time_s(spans: Iterable[tuple[float, float]]) -> float:
    """Length of the union of [start, end) intervals (e.g. the time the DRAM channel was busy)."""
    total = 0.0
    cur_s = cur_e = None
    for s, e in sorted(spans):
        if e <= s:
            continue
        if cur_e is None or s > cur_e:
            if cur_e is not None and cur_s is not None:
                total += cur_e - cur_s
            cur_s, cur_e = s, e
        else:
            cur_e = max(cur_e, e)
    if cur_e is not None and cur_s is not None:
        total += cur_e - cur_s
    return total


def dram_busy_s(results: Sequence[SimResult] | SimResult) -> float:
    """Time the shared DRAM channel had at least one transfer in flight, over the given results."""
    rs = [results] if not isinstance(results, Sequence) else list(results)
    return union_time_s((ev.start_s, ev.end_s) for r in rs for ev in r.timeline
                        if ev.kind in (KIND_DMA_IN, KIND_DMA_OUT))


def chrome_trace(results: Sequence[SimResult] | SimResult) -> dict[str, Any]:
    """Chrome trace / Perfetto JSON object: ph "X" spans, ts/dur in microseconds.

    One process (pid) per workload, one thread (tid) per lane (compute unit, DMA engine, layers).
    """
    rs = [results] if not isinstance(results, Sequence) else list(results)
    events: list[dict[str, Any]] = []
    for pid, res in enumerate(rs, start=1):
        label = f"{res.workload} on {res.hardware} ({res.mode})"
        events.append({"ph": "M", "name": "process_name", "pid": pid, "tid": 0,
                       "args": {"name": label}})
        lanes: dict[str, int] = {}
        for ev in res.timeline:
            if ev.lane not in lanes:
                lanes[ev.lane] = len(lanes) + 1
                events.append({"ph": "M", "name": "thread_name", "pid": pid,
                               "tid": lanes[ev.lane], "args": {"name": ev.lane}})
        for ev in res.timeline:
            args: dict[str, Any] = {"layer": ev.name, "kind": ev.kind}
            if ev.step >= 0:
                args["step"] = ev.step
            if ev.nbytes:
                args["bytes"] = ev.nbytes
            events.append({"ph": "X", "name": ev.name, "cat": ev.kind, "pid": pid,
                           "tid": lanes[ev.lane], "ts": ev.start_s * 1e6,
                           "dur": (ev.end_s - ev.start_s) * 1e6, "args": args})
    return {"traceEvents": events, "displayTimeUnit": "ns"}


def write_chrome_trace(results: Sequence[SimResult] | SimResult, path: str | Path) -> None:
    """Write the Chrome trace / Perfetto JSON of one result or several co-running results."""
    Path(path).write_text(json.dumps(chrome_trace(results)) + "\n")
