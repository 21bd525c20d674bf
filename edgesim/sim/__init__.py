"""Simulation: ``simulate(workload(s), hardware, mode)`` maps, then composes time analytically
or as a SimPy discrete-event model (``simulate_schedule``)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import overload

from edgesim.errors import EdgesimError
from edgesim.hardware.model import Hardware
from edgesim.mapping.counts import Schedule
from edgesim.mapping.schedule import map_workload
from edgesim.results import SimResult
from edgesim.sim.analytic import run_analytic
from edgesim.sim.des import run_des
from edgesim.vocab import Mode
from edgesim.workload.ir import Workload

MODES = tuple(m.value for m in Mode)
_CACHE_SIZE = 64
# (id(workload), id(hardware), batch) -> (workload, hardware, schedule). Keyed by identity (the
# objects are immutable), holding them so an id cannot be reused while its entry lives.
_SCHEDULES: OrderedDict[tuple[int, int, int | None], tuple[Workload, Hardware, Schedule]] = (
    OrderedDict())


def schedule_for(wl: Workload, hw: Hardware, batch: int | None = None) -> Schedule:
    """The mapped schedule of ``wl`` on ``hw`` at ``batch``, cached per (workload, hardware, batch)."""
    key = (id(wl), id(hw), batch)
    hit = _SCHEDULES.get(key)
    if hit is not None and hit[0] is wl and hit[1] is hw:
        _SCHEDULES.move_to_end(key)
        return hit[2]
    schedule = map_workload(wl, hw, batch=batch)
    _SCHEDULES[key] = (wl, hw, schedule)
    while len(_SCHEDULES) > _CACHE_SIZE:
        _SCHEDULES.popitem(last=False)
    return schedule


def clear_cache() -> None:
    """Forget every cached schedule."""
    _SCHEDULES.clear()


def _mode(mode: str | Mode) -> Mode:
    try:
        return Mode(mode)
    except ValueError:
        raise EdgesimError(f"unknown mode {mode!r} (use {' or '.join(MODES)})",
                           field="mode") from None


def _as_workload(wl: Workload | str | Path) -> Workload:
    """A workload given as one, or as a zoo name or a file path (as ``load_workload`` takes)."""
    if isinstance(wl, Workload):
        return wl
    from edgesim.workload.load import load_workload

    return load_workload(wl)


@overload
def simulate(workload: Workload | str | Path, hw: Hardware | str | Path,
             mode: str | Mode = ..., batch: int | None = ...) -> SimResult: ...
@overload
def simulate(workload: Sequence[Workload], hw: Hardware | str | Path,
             mode: str | Mode = ..., batch: int | None = ...) -> list[SimResult]: ...
def simulate(workload: Workload | str | Path | Sequence[Workload],
             hw: Hardware | str | Path,
             mode: str | Mode = Mode.ANALYTIC, batch: int | None = None
             ) -> SimResult | list[SimResult]:
    """Latency, energy and area of a workload (or co-running workloads) on a hardware.

    Args:
        workload: one workload (or a zoo name or workload file, as ``load_workload`` takes),
            or a list of workloads released together at t=0.
        hw: the hardware (``load_hardware``, or a spec name or path it takes).
        mode: ``"analytic"`` (closed form, fast) or ``"des"`` (SimPy events: overlap of
            independent branches, contention for DRAM and units between co-running workloads).
        batch: batch size to map at (``None``: the workload's own).

    Returns:
        A :class:`SimResult` for one workload; for a list, a list of results in the same order.
        In ``des`` mode the listed workloads contend for DRAM bandwidth, SRAM and compute units;
        in ``analytic`` mode each is costed alone (no contention).
    """
    mode = _mode(mode)
    if not isinstance(hw, Hardware):
        from edgesim.hardware.load import load_hardware

        hw = load_hardware(hw)
    if isinstance(workload, Workload | str | Path):
        return simulate_schedule(schedule_for(_as_workload(workload), hw, batch), mode)
    wls = list(workload)
    if not wls:
        raise EdgesimError("no workload to simulate", field="workload")
    return simulate_schedule([schedule_for(w, hw, batch) for w in wls], mode)


@overload
def simulate_schedule(schedules: Schedule, mode: str | Mode = ...) -> SimResult: ...
@overload
def simulate_schedule(schedules: Sequence[Schedule], mode: str | Mode = ...
                      ) -> list[SimResult]: ...
def simulate_schedule(schedules: Schedule | Sequence[Schedule], mode: str | Mode = Mode.ANALYTIC,
                      ) -> SimResult | list[SimResult]:
    """Simulate already-mapped schedules (what :func:`simulate` does after mapping)."""
    mode = _mode(mode)
    single = isinstance(schedules, Schedule)
    ss: list[Schedule] = [schedules] if isinstance(schedules, Schedule) else list(schedules)
    results = [run_analytic(s) for s in ss] if mode == Mode.ANALYTIC else run_des(ss)
    return results[0] if single else results


__all__ = ["MODES", "clear_cache", "schedule_for", "simulate", "simulate_schedule"]
