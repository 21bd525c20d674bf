"""Presenting hardware: the one-line summary and the resolved spec as YAML, units included."""

from __future__ import annotations

from typing import Any

import yaml

from edgesim.hardware.model import (
    ComputeUnit,
    Hardware,
    KernelFit,
    MemoryLevel,
    Operand,
    Operation,
    UnitType,
    WeightDecoder,
)
from edgesim.units import Dimension, format_quantity, parse_quantity


def _fmt(si: float, dim: Dimension) -> str:
    text = format_quantity(si, dim, digits=6)
    if dim == Dimension.SIZE and parse_quantity(text, dim) != si:
        return f"{int(si)} B"  # a size no unit writes exactly in 6 digits: in bytes
    return text


def _onchip_bytes(hw: Hardware) -> int:
    return sum(m.total_bytes for m in hw.memory if not m.is_offchip)


def summary(hw: Hardware) -> str:
    """One line: kind, PEs x type, precision, clock, on-chip SRAM total, DRAM bandwidth, node."""
    u = hw.main_unit
    shape = {UnitType.SYSTOLIC: f"{u.rows}x{u.cols}", UnitType.SPATIAL: f"{u.rows}x{u.cols}",
             UnitType.CUBE: f"{u.rows}x{u.cols}x{u.depth}",
             UnitType.SIMD: f"{u.cores} core x {u.lanes} lanes"}[u.type]
    op = "" if u.operation == Operation.MAC else f" {u.operation.value}"
    outer = hw.outermost
    if u.zero_skip.value != "none":
        op += f", skips zero {u.zero_skip.value}"
    if u.nm_sparsity:
        op += f", {'/'.join(u.nm_sparsity)} sparsity"
    return (f"{hw.kind}: {u.pe_count} PEs ({shape} {u.type.value}{op}), "
            f"{'/'.join(u.precisions)}, {format_quantity(hw.clock_hz, Dimension.FREQUENCY)}, "
            f"on-chip {format_quantity(_onchip_bytes(hw), Dimension.SIZE)}, "
            f"{outer.type.value} "
            f"{format_quantity(outer.bandwidth_bytes_per_s, Dimension.BANDWIDTH)}"
            f", {hw.technology_nm:g} nm")


def _unit_dict(u: ComputeUnit) -> dict[str, Any]:
    d: dict[str, Any] = {"name": u.name, "type": u.type.value}
    if u.type in (UnitType.SYSTOLIC, UnitType.SPATIAL, UnitType.CUBE):
        d["rows"], d["cols"] = u.rows, u.cols
    if u.type == UnitType.CUBE:
        d["depth"] = u.depth
        if u.fill_cycles is not None:
            d["fill_cycles"] = u.fill_cycles
        d["packs_channels"] = u.packs_channels
        d["depth_unrolls"] = u.depth_unrolls.value
        if u.rows_pixel_tile is not None:
            d["rows_pixel_tile"] = list(u.rows_pixel_tile)
    if u.type == UnitType.SIMD:
        d["lanes"], d["cores"] = u.lanes, u.cores
        if u.vector_width is not None:
            d["vector_width"] = u.vector_width
        d["efficiency"] = u.efficiency
        d["layer_overhead_cycles"] = u.layer_overhead_cycles
        d["batchnorm"] = u.batchnorm.value
        d["conv_dispatch"] = u.conv_dispatch.value
        if u.kernels:
            d["kernels"] = {cls.value: _kernel_dict(fit) for cls, fit in u.kernels}
    if u.type in (UnitType.SYSTOLIC, UnitType.SPATIAL):
        d["dataflow"] = u.dataflow.value
    if u.noc_energy_pj:
        d["noc_energy"] = _fmt(u.noc_energy_pj * 1e-12, Dimension.ENERGY)
    d["operation"] = u.operation.value
    d["precisions"] = [p.value for p in u.precisions]
    d["zero_skip"] = u.zero_skip.value
    d["zero_gating"] = u.zero_gating.value
    d["nm_sparsity"] = list(u.nm_sparsity)
    if u.ops is not None:
        d["ops"] = [o.value for o in u.ops]
    d["fuses"] = [o.value for o in u.fuses]
    if u.reaches is not None:
        d["reaches"] = list(u.reaches)
    d["dram_overlap"] = u.dram_overlap.value
    if u.mapping_dram_weight is not None:
        d["mapping_dram_weight"] = u.mapping_dram_weight
    if u.psum_bits is not None:
        d["psum_bits"] = u.psum_bits
    d["packs_narrow"] = u.packs_narrow
    if u.bit_serial:
        d["bit_serial"] = True
    d["op_energy"] = {op.value: {p.value: _fmt(e * 1e-12, Dimension.ENERGY)
                                 for p, e in table.items()}
                      for op, table in u.op_energy_pj.items()}
    d["pe_area"] = _fmt(u.pe_area_mm2, Dimension.AREA)
    d["leakage"] = _fmt(u.leakage_w, Dimension.POWER)
    d["energy_source"] = u.energy_source
    return d


def _kernel_dict(fit: KernelFit) -> dict[str, Any]:
    d: dict[str, Any] = {"efficiency": (fit.points[0][1] if len(fit.points) == 1
                                        else [[k, e] for k, e in fit.points]),
                         "axis": fit.axis, "overhead_cycles": fit.overhead_cycles}
    if fit.pack_bytes_per_s is not None:
        d["pack_bandwidth"] = _fmt(fit.pack_bytes_per_s, Dimension.BANDWIDTH)
    if fit.cold is not None:
        d["cold"] = _kernel_dict(fit.cold)
    return d


def _level_dict(m: MemoryLevel) -> dict[str, Any]:
    d: dict[str, Any] = {"name": m.name, "type": m.type.value,
                         "size": _fmt(m.size_bytes, Dimension.SIZE)}
    d["bandwidth"] = _fmt(m.bandwidth_bytes_per_s, Dimension.BANDWIDTH)
    d["word"] = _fmt(m.word_bytes, Dimension.SIZE)
    d["read_energy"] = _fmt(m.read_energy_pj_per_byte * 1e-12, Dimension.ENERGY_PER_BYTE)
    d["write_energy"] = _fmt(m.write_energy_pj_per_byte * 1e-12, Dimension.ENERGY_PER_BYTE)
    d["area"] = _fmt(m.area_mm2, Dimension.AREA)
    d["leakage"] = _fmt(m.leakage_w, Dimension.POWER)
    d["holds"] = [o.value for o in Operand if o in m.holds]
    d["per_pe"] = m.per_pe
    d["instances"] = m.instances
    if m.served_dimensions:
        d["served_dimensions"] = [dim.value for dim in m.served_dimensions]
    if m.banks > 1:
        d["banks"] = m.banks
    d["energy_source"] = m.energy_source
    if m.dram_type is not None:
        d["dram_type"] = m.dram_type.value
    if m.compression.value != "none":
        d["compression"] = m.compression.value
    if m.retains_weights:
        d["retains_weights"] = True
    if not m.double_buffered:
        d["double_buffered"] = False
    if m.channel_per_operand:
        d["channel_per_operand"] = True
    return d


def spec_to_yaml(hw: Hardware) -> str:
    """The resolved spec as YAML, units included, with every energy and area the tech tables
    supplied; the output loads back with :func:`load_hardware` to the same numbers."""
    node: float | int = int(hw.technology_nm) if hw.technology_nm.is_integer() else hw.technology_nm
    out: dict[str, Any] = {"name": hw.name, "kind": hw.kind.value, "technology_nm": node,
                           "clock": _fmt(hw.clock_hz, Dimension.FREQUENCY)}
    if hw.description:
        out["description"] = hw.description
    if hw.citation:
        out["source"] = hw.citation
    out["compute"] = [_unit_dict(u) for u in hw.compute]
    out["memory"] = [_level_dict(m) for m in hw.memory]
    out["static_power"] = _fmt(hw.static_power_w, Dimension.POWER)
    if hw.fallback_unit is not None:
        out["fallback"] = hw.fallback_unit
    out["residency"] = hw.residency.value
    out["sparse_index_bits"] = hw.sparse_index_bits
    if hw.weight_decoder != WeightDecoder.NONE:
        out["weight_decoder"] = hw.weight_decoder.value
        out["decoder_energy"] = _fmt(hw.decoder_energy_pj * 1e-12, Dimension.ENERGY)
    out["area_overhead"] = hw.area_overhead_fraction
    if hw.dvfs:
        out["dvfs"] = [{"clock": _fmt(p.clock_hz, Dimension.FREQUENCY),
                        "voltage": _fmt(p.voltage_v, Dimension.VOLTAGE)} for p in hw.dvfs]
    return yaml.safe_dump(out, sort_keys=False, allow_unicode=True, width=100)


# A buffer whose access word is this many times wider than an array's row of operands fetches,
# on every access, data the array cannot take in that cycle.
WIDE_WORD_RATIO = 4


def spec_warnings(hw: Hardware) -> tuple[str, ...]:
    """What a valid spec most likely did not mean: no on-chip level holding outputs (every
    output then goes off chip), an on-chip buffer whose word is much wider than the row of the
    array it feeds, or a weight buffer smaller than one fold of an array's weights."""
    out: list[str] = []
    onchip = [m for m in hw.memory if not m.is_offchip]
    if onchip and not any(Operand.OUTPUTS in m.holds for m in onchip):
        out.append("memory: no on-chip level holds outputs, so every output goes to "
                   f"{hw.outermost.name} and back (add outputs to a level's holds)")
    arrays = [u for u in hw.compute if u.type in (UnitType.SYSTOLIC, UnitType.SPATIAL)]
    for i, m in enumerate(hw.memory):
        if m.is_offchip or m.per_pe or not arrays:
            continue
        row = max(u.cols * u.native_precision.bits // 8 for u in arrays)
        if row and m.word_bytes > WIDE_WORD_RATIO * row:
            out.append(f"memory[{i}].word: {m.name}'s {m.word_bytes} B word is "
                       f"{m.word_bytes / row:g}x the widest array row ({row} B)")
    out.extend(_small_weight_buffers(hw))
    return tuple(out)


def _small_weight_buffers(hw: Hardware) -> list[str]:
    """A shared buffer holding weights whose half (the other half would stage the next fold) is
    smaller than one fold of an array's weights: no fold is double-buffered, so the array waits
    for every weight fetch (``mapping.topology.staged_folds``)."""
    out = []
    for u in hw.compute:
        fold = u.weight_fold_bytes(u.native_precision.bits)
        if not fold:
            continue
        edge = u.depth if u.type == UnitType.CUBE else u.rows
        for i, m in enumerate(hw.memory):
            if m.is_offchip or m.per_pe or Operand.WEIGHTS not in m.holds:
                continue
            if m.total_bytes // 2 < fold:
                out.append(f"memory[{i}].size: half of {m.name} ({m.total_bytes // 2} B) holds "
                           f"less than one fold of {u.name}'s weights ({edge}x{u.cols} "
                           f"{u.native_precision.value} = {fold} B): no fold is double-buffered, "
                           "so the array waits for every weight fetch")
    return out
