"""A memo of layer counts shared across workloads and designs (a search maps thousands of both).

A layer's counts depend on its shape, precisions and sparsity (not its name), the unit that
runs it, its residency context, and the hardware's *counting* fields: array geometry, memory
sizes, words and placement. They do not depend on energies, areas, leakage or names, nor, on a
chip whose mappers do not time streams themselves (every mapper but ``spatial``), on the clock
and the memories' bandwidths. Designs that differ only there share layer counts; a whole
schedule is shared only at the same clock and DRAM bandwidth too, because the unit that runs a
layer is chosen by its estimated time (``schedule.choose_unit``). A test perturbs each field left
out of the signature on every built-in spec and checks the counts do not move.
"""

from __future__ import annotations

import dataclasses
import weakref
from collections.abc import Callable

from edgesim.hardware.model import ComputeUnit, Hardware, UnitType
from edgesim.mapping.counts import LayerCounts, Schedule
from edgesim.workload.ir import Workload
from edgesim.workload.layer import Layer

# Fields no mapper reads (prices, provenance). The clock and bandwidths join them on chips
# without a unit whose mapper times its own streams.
_UNIT_PRICE = ("op_energy_pj", "pe_area_mm2", "leakage_w", "energy_source")
_LEVEL_PRICE = ("read_energy_pj_per_byte", "write_energy_pj_per_byte", "area_mm2", "leakage_w",
                "energy_source", "banks", "dram_type")
_LEVEL_TIME = ("bandwidth_bytes_per_s", "bandwidth_declared")
_HW_PRICE = ("name", "technology_nm", "static_power_w", "area_overhead_fraction", "dvfs",
             "source", "description", "citation")
_HW_TIME = ("clock_hz",)
_STREAM_TIMING_UNITS = frozenset({UnitType.SPATIAL})  # mappers that read bandwidth and clock

_SIGNATURES: dict[int, str] = {}
_MEMO: dict[tuple[object, ...], LayerCounts] = {}
MEMO_SIZE = 16_384


def _canonical(value: object) -> object:
    """Sets in a fixed order: a frozenset's iteration order (and so its repr) depends on how
    it was built, and the signature must be equal for equal hardware."""
    if isinstance(value, set | frozenset):
        return ("set", tuple(sorted(repr(v) for v in value)))
    return value


def _fields(obj: object, skip: tuple[str, ...]) -> tuple[tuple[str, object], ...]:
    return tuple((f.name, _canonical(getattr(obj, f.name)))
                 for f in dataclasses.fields(obj)  # type: ignore[arg-type]
                 if f.name not in skip)


def counting_signature(hw: Hardware) -> str:
    """The hardware as the mappers see it (computed once per Hardware object)."""
    sig = _SIGNATURES.get(id(hw))
    if sig is not None:
        return sig
    timed = any(u.type in _STREAM_TIMING_UNITS for u in hw.compute)
    level_skip = _LEVEL_PRICE if timed else _LEVEL_PRICE + _LEVEL_TIME
    hw_skip = _HW_PRICE if timed else _HW_PRICE + _HW_TIME
    units = tuple(_fields(u, _UNIT_PRICE) for u in hw.compute)
    levels = tuple(_fields(m, level_skip) for m in hw.memory)
    top = tuple(kv for kv in _fields(hw, hw_skip + ("compute", "memory")))
    sig = repr((top, units, levels))
    _SIGNATURES[id(hw)] = sig
    weakref.finalize(hw, _SIGNATURES.pop, id(hw), None)
    return sig


def layer_key(layer: Layer) -> tuple[object, ...]:
    """Everything of a layer its counts depend on: all but its name, producers' names and
    provenance (how many producers it names does matter)."""
    return (layer.op, len(layer.inputs), layer.in_shapes, layer.out_shape, layer.kernel,
            layer.stride, layer.padding, layer.dilation, layer.groups, layer.weight_shape,
            layer.has_bias, layer.variant, layer.weight_precision, layer.act_precision,
            layer.weight_sparsity, layer.act_sparsity, layer.sparsity_pattern)


def memoized(layer: Layer, hw: Hardware, unit: ComputeUnit, context: tuple[object, ...],
             compute: Callable[[], LayerCounts]) -> LayerCounts:
    """``compute()`` (the layer's counts) unless an equal layer was counted in the same context
    on a design that counts the same; then that result under this layer's name."""
    key = (counting_signature(hw), layer_key(layer), unit.name, context)
    hit = _MEMO.get(key)
    if hit is None:
        hit = compute()
        if len(_MEMO) >= MEMO_SIZE:
            _MEMO.pop(next(iter(_MEMO)))
        _MEMO[key] = hit
    if hit.layer != layer.name:  # the same counts under this layer's name (a plain copy)
        renamed = object.__new__(LayerCounts)
        renamed.__dict__.update(hit.__dict__, layer=layer.name)
        hit = renamed
    return hit


_SCHEDULES: dict[tuple[int, str, int | None, float, float], tuple[Workload, Schedule]] = {}
SCHEDULES_SIZE = 64


def memoized_schedule(wl: Workload, hw: Hardware, batch: int | None,
                      compute: Callable[[], Schedule]) -> Schedule:
    """``compute()`` (the workload's schedule on ``hw``) unless the same workload object was
    mapped at this batch on a design that counts the same at the same clock and DRAM bandwidth
    (e.g. one that differs only in energies or on-chip bandwidths); then those counts, scheduled
    on ``hw``."""
    # Which unit runs a layer (``schedule.choose_unit``) weighs compute against DRAM time, so a
    # whole schedule is reused only at the same clock and DRAM bandwidth (its layers' counts are
    # still shared through the layer memo).
    key = (id(wl), counting_signature(hw), batch, hw.clock_hz, hw.outermost.bandwidth_bytes_per_s)
    hit = _SCHEDULES.get(key)
    if hit is not None and hit[0] is wl:
        return dataclasses.replace(hit[1], hardware=hw)
    schedule = compute()
    if len(_SCHEDULES) >= SCHEDULES_SIZE:
        _SCHEDULES.pop(next(iter(_SCHEDULES)))
    _SCHEDULES[key] = (wl, schedule)  # holding wl: its id cannot be reused while listed
    return schedule


def clear() -> None:
    """Forget every memoized count and schedule."""
    _MEMO.clear()
    _SCHEDULES.clear()


__all__ = ["MEMO_SIZE", "SCHEDULES_SIZE", "clear", "counting_signature", "layer_key", "memoized",
           "memoized_schedule"]
