"""Energy roll-up: counted operations and bytes priced with the spec's per-op and per-byte energy.

Dynamic energy of a layer = sum over op classes of ``ops x unit.energy_pj(op_class, precision)``
(charged to the compute unit that ran it) + sum over memory levels of
``bytes_read x read_energy_pj_per_byte + bytes_written x write_energy_pj_per_byte`` (charged to the
level) + words passed between PEs x the unit's ``noc_energy_pj`` (charged to the unit: its
array's inter-PE network is part of it, and the contract's components are the spec's unit and
level names) + the weight decoder's steps x its energy per step (charged to ``"decoder"``). Static
energy = (leakage of every unit and level + the chip's ``static_power_w``) x latency,
charged to the component ``"static"``. Counts come from mapping; nothing is recounted here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from edgesim.errors import SpecError
from edgesim.hardware.model import ComputeUnit, Hardware, WeightDecoder
from edgesim.mapping.counts import LayerCounts
from edgesim.vocab import OpClass, Precision

PJ_TO_J = 1e-12
STATIC = "static"
DECODER = "decoder"  # a chip's weight decoder (``Hardware.weight_decoder``)


def op_energy_pj(unit: ComputeUnit, op_class: OpClass, precision: Precision) -> float:
    """Energy of one ``op_class`` operation at ``precision`` on ``unit`` (pJ), with a clear error."""
    try:
        return unit.energy_pj(op_class, precision)
    except SpecError:
        known = sorted(p.value for p in unit.op_energy_pj.get(op_class, {}))
        raise SpecError(f"no energy for a {op_class.value!r} operation at {precision.value!r} "
                        f"(the unit prices {known or 'none'})",
                        field=f"compute.{unit.name}.op_energy") from None


def component_names(hw: Hardware) -> tuple[str, ...]:
    """Every energy component of a result: compute units, memory levels, the weight decoder
    where the chip has one, then ``static``."""
    decoder = (DECODER,) if hw.weight_decoder != WeightDecoder.NONE else ()
    return (*(u.name for u in hw.compute), *(m.name for m in hw.memory), *decoder, STATIC)


def layer_dynamic_energy_j(lc: LayerCounts, hw: Hardware) -> dict[str, float]:
    """Dynamic energy of one mapped layer by component (J); components with no work are omitted."""
    unit = hw.unit(lc.unit)
    out: dict[str, float] = {}
    op_pj = lc.noc_words * unit.noc_energy_pj  # the array's inter-PE network: part of the unit
    for op_class in sorted(lc.ops):
        count = lc.ops[op_class]
        if count:
            op_pj += count * op_energy_pj(unit, op_class, lc.precision)
    if op_pj:
        out[unit.name] = op_pj * PJ_TO_J
    for level in hw.memory:
        rd = lc.reads_bytes.get(level.name, 0)
        wr = lc.writes_bytes.get(level.name, 0)
        if rd or wr:
            pj = rd * level.read_energy_pj_per_byte + wr * level.write_energy_pj_per_byte
            out[level.name] = out.get(level.name, 0.0) + pj * PJ_TO_J
    if lc.decoder_steps:
        out[DECODER] = lc.decoder_steps * hw.decoder_energy_pj * PJ_TO_J
    unknown = (set(lc.reads_bytes) | set(lc.writes_bytes)) - {m.name for m in hw.memory}
    if unknown:
        raise SpecError(f"layer {lc.layer!r} counts accesses at unknown memory level(s) "
                        f"{sorted(unknown)}", file=hw.source or None, field="memory")
    return out


def static_power_w(hw: Hardware) -> float:
    """Leakage of every unit and memory level plus the chip-level static power (W)."""
    return (math.fsum(u.leakage_w for u in hw.compute) + math.fsum(m.leakage_w for m in hw.memory)
            + hw.static_power_w)


def total_breakdown_j(hw: Hardware, per_layer: list[dict[str, float]], latency_s: float,
                      ) -> dict[str, float]:
    """Whole-run breakdown: every component (zeros kept) plus static power x latency."""
    names = component_names(hw)
    acc: dict[str, list[float]] = {n: [] for n in names}
    for d in per_layer:
        for k, v in d.items():
            acc[k].append(v)
    out = {n: math.fsum(acc[n]) for n in names if n != STATIC}
    out[STATIC] = static_power_w(hw) * latency_s
    return out


def energy_sources(hw: Hardware) -> dict[str, str]:
    """Where each component's energy figures come from (component -> text)."""
    out = {u.name: (u.energy_source or "spec / technology table")
           + (f"; {u.noc_energy_pj:.4g} pJ per partial-sum word passed between its PEs "
              "(noc_energy)" if u.noc_energy_pj else "") for u in hw.compute}
    out.update({m.name: m.energy_source or "spec / technology table" for m in hw.memory})
    if hw.weight_decoder != WeightDecoder.NONE:
        out[DECODER] = (f"{hw.decoder_energy_pj:.4g} pJ per decoder step ({hw.weight_decoder.value}"
                        ": a codebook lookup, or a Huffman symbol decode; the spec's "
                        "decoder_energy, else a register-file codebook lookup)")
    out[STATIC] = (f"leakage of units and levels + static_power ({static_power_w(hw):.4g} W in all)"
                   " x latency")
    return out


def sum_energy_j(breakdown: Mapping[str, float]) -> float:
    """Total of a breakdown (exact summation, so totals do not depend on dict order)."""
    return math.fsum(breakdown.values())
