"""Cost: energy and area pricing of mapped counts (a price never recounts)."""

from edgesim.cost.area import area_breakdown_mm2, area_sources, total_area_mm2
from edgesim.cost.energy import energy_sources, layer_dynamic_energy_j, static_power_w

__all__ = [
    "area_breakdown_mm2",
    "area_sources",
    "energy_sources",
    "layer_dynamic_energy_j",
    "static_power_w",
    "total_area_mm2",
]
