"""Area roll-up: compute units (PE area x PE count), on-chip memories and a documented overhead.

* each compute unit: ``pe_area_mm2 x pe_count`` (PEs, lanes or cube cells);
* each memory level: its ``area_mm2`` (all instances; the builder prices it by capacity and type);
  off-chip DRAM is another die and its built area is 0, so it adds nothing;
* ``"overhead"``: ``hw.area_overhead_fraction x (compute + memory)`` for control, NoC and I/O.
"""

from __future__ import annotations

import math

from edgesim.hardware.model import Hardware

OVERHEAD = "overhead"


def area_breakdown_mm2(hw: Hardware) -> dict[str, float]:
    """Area by component (mm2): units, memory levels and ``overhead``; sums to the chip area."""
    out: dict[str, float] = {u.name: u.pe_area_mm2 * u.pe_count for u in hw.compute}
    for m in hw.memory:
        out[m.name] = out.get(m.name, 0.0) + m.area_mm2
    out[OVERHEAD] = hw.area_overhead_fraction * math.fsum(out.values())
    return out


def total_area_mm2(hw: Hardware) -> float:
    """Chip area (mm2)."""
    return math.fsum(area_breakdown_mm2(hw).values())


def area_sources(hw: Hardware) -> dict[str, str]:
    """Where each area figure comes from (component -> text)."""
    out = {u.name: f"pe_area {u.pe_area_mm2:.4g} mm2 x {u.pe_count} PEs ({u.energy_source})"
           for u in hw.compute}
    for m in hw.memory:
        out[m.name] = (f"{m.area_mm2:.4g} mm2 for {m.instances} x {m.size_bytes} B {m.type.value}"
                       f" (spec area or technology table by capacity and type)")
    out[OVERHEAD] = f"area_overhead {hw.area_overhead_fraction:g} x (compute + memory), from the spec"
    return out
