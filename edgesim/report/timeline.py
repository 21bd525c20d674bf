"""Timeline export: Chrome trace / Perfetto JSON of one DES result or several co-running ones."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from edgesim.results import SimResult


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
            args: dict[str, Any] = {"layer": ev.name, "kind": ev.kind.value}
            if ev.step >= 0:
                args["step"] = ev.step
            if ev.moved_bytes:
                args["bytes"] = ev.moved_bytes
            events.append({"ph": "X", "name": ev.name, "cat": ev.kind.value, "pid": pid,
                           "tid": lanes[ev.lane], "ts": ev.start_s * 1e6,
                           "dur": (ev.end_s - ev.start_s) * 1e6, "args": args})
    return {"traceEvents": events, "displayTimeUnit": "ns"}


def write_chrome_trace(results: Sequence[SimResult] | SimResult, path: str | Path) -> None:
    """Write the Chrome trace / Perfetto JSON of one result or several co-running results."""
    Path(path).write_text(json.dumps(chrome_trace(results)) + "\n")
