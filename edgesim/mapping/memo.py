"""A memo of layer counts shared across workloads and designs (a search maps thousands of both).

A layer's counts depend on its shape, precisions and sparsity (not its name), the unit that
runs it, its residency context, and the hardware's *counting* fields: array geometry, memory
sizes, words and placement. They do not depend on energies, areas, leakage or names, nor, on a
chip whose mappers do not time streams themselves (every mapper but ``spatial``, and a simd
unit whose calibrated kernels pack an operand at a rate in bytes per second), on the clock and
the memories' bandwidths. Designs that differ only there share layer counts, and a whole
schedule when every layer runs on the same unit (the unit is chosen by its estimated time,
``schedule.choose_unit``, from estimates that are counts and so shared too). A test perturbs each field left
out of the signature on every built-in spec and checks the counts do not move.
"""

from __future__ import annotations

import dataclasses
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

from edgesim.hardware.model import ComputeUnit, Hardware, UnitType
from edgesim.mapping.counts import LayerCounts, Schedule
from edgesim.workload.ir import Workload
from edgesim.workload.layer import Layer

# Fields no mapper reads (prices, provenance). The clock and bandwidths join them on chips
# without a unit whose mapper times its own streams.
_UNIT_PRICE = ("op_energy_pj", "pe_area_mm2", "leakage_w", "energy_source", "noc_energy_pj")
_LEVEL_PRICE = ("read_energy_pj_per_byte", "write_energy_pj_per_byte", "area_mm2", "leakage_w",
                "energy_source", "dram_type")  # (banks count: the rs mapper splits by them)
_LEVEL_TIME = ("bandwidth_bytes_per_s", "bandwidth_declared")
_HW_PRICE = ("name", "technology_nm", "static_power_w", "area_overhead_fraction", "dvfs",
             "source", "description", "citation", "decoder_energy_pj")
_HW_TIME = ("clock_hz",)
_STREAM_TIMING_UNITS = frozenset({UnitType.SPATIAL})  # mappers that read bandwidth and clock

T = TypeVar("T")

_SIGNATURES: dict[int, dict[str | None, str]] = {}
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


# The repr of a part (a unit or a memory level) by identity: designs built from one spec share
# their unchanged parts (``hardware.build``), so a search reprs each part once. The part is kept
# beside its repr so that its id is not reused.
_PART_REPRS: dict[tuple[int, tuple[str, ...]], tuple[object, str]] = {}


def _part_repr(part: object, skip: tuple[str, ...]) -> str:
    hit = _PART_REPRS.get((id(part), skip))
    if hit is not None and hit[0] is part:
        return hit[1]
    text = repr(_fields(part, skip))
    if len(_PART_REPRS) >= MEMO_SIZE:
        _PART_REPRS.pop(next(iter(_PART_REPRS)))
    _PART_REPRS[(id(part), skip)] = (part, text)
    return text


def _signatures(hw: Hardware) -> dict[str | None, str]:
    """Every signature of ``hw`` (``None``: the whole chip; a unit's name: that unit's), built
    once per Hardware object from one repr of each part."""
    sigs = _SIGNATURES.get(id(hw))
    if sigs is not None:
        return sigs
    timed = reads_clock(hw)
    level_skip = _LEVEL_PRICE if timed else _LEVEL_PRICE + _LEVEL_TIME
    hw_skip = _HW_PRICE if timed else _HW_PRICE + _HW_TIME
    top = repr(_fields(hw, hw_skip + ("compute", "memory")))
    levels = "(" + ", ".join(_part_repr(m, level_skip) for m in hw.memory) + ")"
    units = [(u.name, _part_repr(u, _UNIT_PRICE)) for u in hw.compute]
    sigs = {None: "\x00".join((top, *(u for _, u in units), levels))}
    sigs.update({name: "\x00".join((top, u, levels)) for name, u in units})  # no NUL in a repr
    _SIGNATURES[id(hw)] = sigs
    weakref.finalize(hw, _SIGNATURES.pop, id(hw), None)
    return sigs


def reads_clock(hw: Hardware) -> bool:
    """Whether a mapper of ``hw`` reads its clock (and so, conservatively, its bandwidths):
    a spatial unit times its own streams; a calibrated kernel's packing pass runs at a rate
    in bytes per second, which its cycles depend on."""
    return any(u.type in _STREAM_TIMING_UNITS
               or any(f.pack_bytes_per_s is not None
                      for _, fit in u.kernels for f in (fit, fit.cold) if f is not None)
               for u in hw.compute)


def counting_signature(hw: Hardware) -> str:
    """The hardware as the mappers see it (computed once per Hardware object)."""
    return _signatures(hw)[None]


def unit_signature(hw: Hardware, unit: ComputeUnit) -> str:
    """The hardware as one unit's mapper sees it: ``counting_signature`` without the other
    units (counting a layer on a given unit never reads another unit), so designs that differ
    only in another unit (e.g. the array's size, for the vector unit) share its counts."""
    return _signatures(hw)[unit.name]


def layer_key(layer: Layer) -> tuple[object, ...]:
    """Everything of a layer its counts depend on: all but its name, producers' names and
    provenance (how many producers it names does matter), except whether a BatchNorm was
    folded into it (a unit that runs BatchNorm separately prices that pass)."""
    return (layer.op, len(layer.inputs), layer.in_shapes, layer.out_shape, layer.kernel,
            layer.stride, layer.padding, layer.dilation, layer.groups, layer.weight_shape,
            layer.has_bias, layer.variant, layer.weight_precision, layer.act_precision,
            layer.weight_sparsity, layer.act_sparsity, layer.sparsity_pattern,
            layer.shared_weights, layer.weight_code_bits,
            layer.fresh_inputs, any(k == "folded" for k, _ in layer.extra))


def memoized(layer: Layer, hw: Hardware, unit: ComputeUnit, context: tuple[object, ...],
             compute: Callable[[], LayerCounts]) -> LayerCounts:
    """``compute()`` (the layer's counts) unless an equal layer was counted in the same context
    on ``unit`` of a design that counts the same for it (``unit_signature``); then that result
    under this layer's name."""
    key = (unit_signature(hw, unit), layer_key(layer), unit.name, context)
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


_ESTIMATES: dict[tuple[int, str, int | None], tuple[Workload, tuple[object, ...]]] = {}
_SCHEDULES: dict[tuple[int, str, int | None, tuple[str, ...]], tuple[Workload, Schedule]] = {}
SCHEDULES_SIZE = 64


def _remember(cache: dict[Any, Any], key: object, value: object) -> None:
    if len(cache) >= SCHEDULES_SIZE:
        cache.pop(next(iter(cache)))
    cache[key] = value


def memoized_estimates(wl: Workload, hw: Hardware, batch: int | None,
                       compute: Callable[[], tuple[T, ...]]) -> tuple[T, ...]:
    """``compute()`` (each layer's candidate units with their counts, ``schedule.unit_estimates``)
    unless the same workload object was estimated at this batch on a design that counts the
    same."""
    key = (id(wl), counting_signature(hw), batch)
    hit = _ESTIMATES.get(key)
    if hit is not None and hit[0] is wl:
        return hit[1]  # type: ignore[return-value]
    estimates = compute()
    _remember(_ESTIMATES, key, (wl, estimates))  # holding wl: its id is not reused while listed
    return estimates


def memoized_schedule(wl: Workload, hw: Hardware, batch: int | None, choice: tuple[str, ...],
                      compute: Callable[[], Schedule]) -> Schedule:
    """``compute()`` (the workload's schedule on ``hw``, each layer on the unit named in
    ``choice``) unless the same workload object was mapped at this batch with the same choice
    on a design that counts the same (e.g. one that differs only in energies, bandwidths or
    clock); then those counts, scheduled on ``hw``."""
    key = (id(wl), counting_signature(hw), batch, choice)
    hit = _SCHEDULES.get(key)
    if hit is not None and hit[0] is wl:
        return dataclasses.replace(hit[1], hardware=hw)
    schedule = compute()
    _remember(_SCHEDULES, key, (wl, schedule))
    return schedule


def clear() -> None:
    """Forget every memoized count and schedule."""
    _MEMO.clear()
    _ESTIMATES.clear()
    _SCHEDULES.clear()


__all__ = ["MEMO_SIZE", "SCHEDULES_SIZE", "clear", "counting_signature", "layer_key", "memoized",
           "memoized_estimates", "memoized_schedule", "reads_clock", "unit_signature"]
