"""Mapping: each layer of a workload on the unit that runs it, as counts (cycles, ops, accesses).

``map_workload(wl, hw)`` places every layer (``placement``), asks the mapper registered for the
unit's type (``systolic``, ``spatial``, ``cube``, ``simd``) for cycles, operations and the
array's own accesses, and lets ``traffic`` tile the layer over the buffers for the reads and
writes of every memory level. Counts only; pricing and time composition live elsewhere.

Activations between layers (see ``traffic`` for the capacity rule): a producer's output stays on
chip when it fits the activation budget and every consumer is the next layer in execution order
on the same unit; otherwise it is written to DRAM (activation home) and each consumer reads it
back. A tensor crossing units (a fallback layer) goes through the shared home level and its
bytes are reported as ``transfer_bytes`` of the layer that runs on the fallback unit.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from edgesim.errors import MappingError
from edgesim.hardware.model import ComputeUnit, Hardware, UnitType
from edgesim.mapping import placement, traffic
from edgesim.mapping.base import ComputeResult, vector_op
from edgesim.mapping.types import LayerCounts, Schedule
from edgesim.workload.ir import GEMM_OPS, Layer, Workload, precision_bits

MapperFn = Callable[[Layer, ComputeUnit, Hardware, traffic.Sizes, int, int, int], ComputeResult]
"""(layer, unit, hw, sizes, pack, act_bits, weight_bits) -> ComputeResult, for GEMM layers."""

_MAPPERS: dict[UnitType, MapperFn] = {}


def register_mapper(unit_type: UnitType, fn: MapperFn) -> None:
    """Register (or replace) the GEMM mapper of a unit type."""
    _MAPPERS[UnitType(unit_type)] = fn


def _mapper(unit: ComputeUnit) -> MapperFn:
    try:
        return _MAPPERS[unit.type]
    except KeyError:
        raise MappingError(f"no mapper registered for unit type {unit.type.value!r}",
                           field=f"compute.{unit.name}.type") from None


def map_layer(layer: Layer, hw: Hardware, unit: ComputeUnit | None = None, *,
              inputs_on_chip: bool = False, outputs_on_chip: bool = False,
              transfer_bytes: int = 0) -> LayerCounts:
    """Counts of one layer on ``hw`` (on ``unit``, or where ``placement.place`` puts it)."""
    unit = unit or placement.place(layer, hw)
    w_prec, a_prec = placement.resolved_precisions(layer, unit)
    w_bits, a_bits = precision_bits(w_prec), precision_bits(a_prec)
    sizes = traffic.layer_sizes(layer, w_bits, a_bits)
    pack = placement.pack_factor(layer, unit)
    if layer.op in GEMM_OPS:
        res = _mapper(unit)(layer, unit, hw, sizes, pack, a_bits, w_bits)
    else:
        res = vector_op(layer, unit, sizes, a_bits)
    lt = traffic.level_traffic(hw, layer, sizes, res.array, inputs_on_chip, outputs_on_chip)
    cycles = max(1, int(res.compute_cycles))
    pes = res.pe_count or unit.pe_count
    util = min(1.0, res.useful_ops / (pes * max(1, pack) * cycles))
    dram = hw.dram.name
    # Streaming granularity: data arrive per fold/pass of the array (a DMA engine feeds the array
    # fold by fold), so a layer that fits its buffers still overlaps loads with compute.
    tiles = max(1, lt.tiles, int(res.extra.get("stream_steps", 1)))
    note = f"{res.note}; tiling {lt.note}" if lt.note else res.note
    return LayerCounts(
        layer=layer.name, op=layer.op, unit=unit.name,
        precision=placement.op_precision(layer, unit), compute_cycles=cycles, utilization=util,
        ops={k: int(v) for k, v in res.ops.items()}, reads_bytes=lt.reads,
        writes_bytes=lt.writes, tiles=tiles, dram_read_bytes=lt.reads[dram],
        dram_write_bytes=lt.writes[dram], transfer_bytes=transfer_bytes,
        dense_ops=int(res.dense_ops), note=note,
        extra={**res.extra, "buffer_tiles": float(lt.tiles)})


def map_workload(wl: Workload, hw: Hardware, batch: int | None = None) -> Schedule:
    """Map every layer of ``wl`` on ``hw`` (``batch`` overrides the workload's batch)."""
    if batch is not None:
        wl = wl.with_batch(batch)
    units = [placement.place(layer, hw) for layer in wl.layers]
    index = {layer.name: i for i, layer in enumerate(wl.layers)}
    consumers: list[list[int]] = [[] for _ in wl.layers]
    for j, layer in enumerate(wl.layers):
        for src in layer.inputs:
            consumers[index[src]].append(j)
    budget = traffic.activation_budget_bytes(hw)
    resident: list[bool] = []
    for i, layer in enumerate(wl.layers):
        a_bits = precision_bits(placement.resolved_precisions(layer, units[i])[1])
        out_bytes = math.ceil(layer.output_elems * a_bits / 8)
        cons = consumers[i]
        resident.append(bool(cons) and out_bytes <= budget
                        and all(j == i + 1 and units[j] is units[i] for j in cons))
    counts = []
    for i, layer in enumerate(wl.layers):
        srcs = [index[s] for s in layer.inputs]
        inputs_on_chip = bool(srcs) and all(resident[s] for s in srcs)
        transfer = 0
        if units[i] is not hw.main_unit:
            a_bits = precision_bits(placement.resolved_precisions(layer, units[i])[1])
            if any(units[s] is not units[i] for s in srcs):
                transfer += math.ceil(layer.input_elems * a_bits / 8)
            if any(units[j] is not units[i] for j in consumers[i]):
                transfer += math.ceil(layer.output_elems * a_bits / 8)
        counts.append(map_layer(layer, hw, units[i], inputs_on_chip=inputs_on_chip,
                                outputs_on_chip=resident[i], transfer_bytes=transfer))
    deps = tuple(tuple(index[s] for s in layer.inputs) for layer in wl.layers)
    return Schedule(workload=wl, hardware=hw, batch=wl.batch, layers=tuple(counts), deps=deps)


def _register_builtin() -> None:
    from edgesim.mapping.cube import map_cube
    from edgesim.mapping.simd import map_simd
    from edgesim.mapping.spatial import map_spatial
    from edgesim.mapping.systolic import map_systolic

    register_mapper(UnitType.SYSTOLIC, map_systolic)
    register_mapper(UnitType.SPATIAL, map_spatial)
    register_mapper(UnitType.CUBE, map_cube)
    register_mapper(UnitType.SIMD, map_simd)


_register_builtin()

__all__ = ["LayerCounts", "MapperFn", "Schedule", "map_layer", "map_workload",
           "register_mapper"]
