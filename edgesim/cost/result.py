"""Simulation results: ``SimResult`` and ``LayerResult``, as the CONTRACT's result JSON."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from edgesim.units import Dimension, format_quantity

if TYPE_CHECKING:
    import pandas as pd

    from edgesim.sim.timeline import TimelineEvent


@dataclass(frozen=True)
class LayerResult:
    """One layer's cost. ``compute_cycles`` excludes stalls; ``latency_cycles`` includes them."""

    name: str
    op: str
    unit: str
    macs: int
    adds: int
    compute_cycles: int
    latency_cycles: int
    utilization: float
    dram_read_bytes: int
    dram_write_bytes: int
    energy_j: float
    energy_breakdown_j: Mapping[str, float]
    bound: str  # "compute" | "memory"
    # extras (not in the contract's minimum; kept in to_dict)
    latency_s: float = 0.0
    start_s: float = 0.0  # when the layer started (analytic: the running sum of its chain)
    end_s: float = 0.0
    compute_s: float = 0.0
    memory_s: float = 0.0
    tiles: int = 1
    precision: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict with the CONTRACT's layer keys (and a few extras)."""
        return {
            "name": self.name, "op": self.op, "unit": self.unit,
            "macs": self.macs, "adds": self.adds,
            "compute_cycles": self.compute_cycles, "latency_cycles": self.latency_cycles,
            "utilization": self.utilization,
            "dram_read_bytes": self.dram_read_bytes, "dram_write_bytes": self.dram_write_bytes,
            "energy_j": self.energy_j, "energy_breakdown_j": dict(self.energy_breakdown_j),
            "bound": self.bound,
            "latency_s": self.latency_s, "start_s": self.start_s, "end_s": self.end_s,
            "compute_s": self.compute_s, "memory_s": self.memory_s, "tiles": self.tiles,
            "precision": self.precision,
        }


@dataclass(frozen=True)
class SimResult:
    """The cost of one workload on one hardware, whole-run and per layer (SI units, areas mm2)."""

    hardware: str
    workload: str
    mode: str  # "analytic" | "des"
    batch: int
    clock_hz: float
    latency_s: float
    latency_cycles: int
    energy_j: float
    energy_breakdown_j: Mapping[str, float]  # component -> J; sums to energy_j
    area_mm2: float
    area_breakdown_mm2: Mapping[str, float]
    macs: int
    adds: int
    params: int
    weight_bytes: int
    dram_read_bytes: int
    dram_write_bytes: int
    layers: tuple[LayerResult, ...]
    timeline: tuple[TimelineEvent, ...] = ()  # DES events; empty for analytic
    energy_sources: Mapping[str, str] = field(default_factory=dict)  # component -> provenance
    area_sources: Mapping[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()  # capacity problems the figures assume away (e.g. no fit)

    @property
    def dynamic_energy_j(self) -> float:
        return self.energy_j - self.energy_breakdown_j.get("static", 0.0)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: exactly what ``edgesim simulate --json`` writes (CONTRACT)."""
        return {
            "hardware": self.hardware, "workload": self.workload, "mode": self.mode,
            "batch": self.batch, "clock_hz": self.clock_hz,
            "latency_s": self.latency_s, "latency_cycles": self.latency_cycles,
            "energy_j": self.energy_j, "energy_breakdown_j": dict(self.energy_breakdown_j),
            "area_mm2": self.area_mm2, "area_breakdown_mm2": dict(self.area_breakdown_mm2),
            "macs": self.macs, "adds": self.adds, "params": self.params,
            "weight_bytes": self.weight_bytes,
            "dram_read_bytes": self.dram_read_bytes, "dram_write_bytes": self.dram_write_bytes,
            "layers": [lay.to_dict() for lay in self.layers],
            "energy_sources": dict(self.energy_sources),
            "area_sources": dict(self.area_sources),
            "warnings": list(self.warnings),
        }

    def to_frame(self) -> pd.DataFrame:
        """The layers as a pandas DataFrame (one row per layer, in execution order)."""
        import pandas as pd

        rows = []
        for lay in self.layers:
            row = lay.to_dict()
            del row["energy_breakdown_j"]
            row.update({f"energy_{k}_j": v for k, v in lay.energy_breakdown_j.items()})
            rows.append(row)
        return pd.DataFrame(rows).fillna({c: 0.0 for c in self._component_columns(rows)})

    @staticmethod
    def _component_columns(rows: list[dict[str, Any]]) -> list[str]:
        cols: dict[str, None] = {}
        for r in rows:
            cols.update({k: None for k in r if k.startswith("energy_") and k != "energy_j"})
        return list(cols)

    def summary(self) -> str:
        """A few human-readable lines: latency, energy, area and the bound mix."""
        bounds = Counter(lay.bound for lay in self.layers)
        mem_s = sum(lay.latency_s for lay in self.layers if lay.bound == "memory")
        total_layer_s = sum(lay.latency_s for lay in self.layers) or 1.0
        top = sorted(((v, k) for k, v in self.energy_breakdown_j.items() if v > 0), reverse=True)
        share = ", ".join(f"{k} {v / self.energy_j:.0%}" for v, k in top[:4]) if self.energy_j else ""
        return "\n".join([
            f"{self.workload} on {self.hardware} ({self.mode}, batch {self.batch})",
            f"  latency  {format_quantity(self.latency_s, Dimension.TIME)}  "
            f"({self.latency_cycles:,} cycles at {format_quantity(self.clock_hz, Dimension.FREQUENCY)})",
            f"  energy   {format_quantity(self.energy_j, Dimension.ENERGY)}  ({share})",
            f"  area     {self.area_mm2:.3g} mm2",
            f"  work     {self.macs:,} MACs, {self.adds:,} adds; DRAM "
            f"{format_quantity(self.dram_read_bytes, Dimension.SIZE)} read, "
            f"{format_quantity(self.dram_write_bytes, Dimension.SIZE)} written",
            f"  bound    {bounds.get('compute', 0)} compute-bound, {bounds.get('memory', 0)} "
            f"memory-bound layers ({mem_s / total_layer_s:.0%} of layer time memory-bound)",
            *(f"  warning  {w}" for w in self.warnings),
        ])
