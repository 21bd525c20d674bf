"""Cost roll-up: energy and area pricing of mapped counts, and the SimResult/LayerResult types."""

from edgesim.cost.area import area_breakdown_mm2, area_sources, total_area_mm2
from edgesim.cost.energy import energy_sources, layer_dynamic_energy_j, static_power_w
from edgesim.cost.result import LayerResult, SimResult

__all__ = [
    "LayerResult",
    "SimResult",
    "area_breakdown_mm2",
    "area_sources",
    "energy_sources",
    "layer_dynamic_energy_j",
    "static_power_w",
    "total_area_mm2",
]
