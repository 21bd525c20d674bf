"""Simulation results: ``SimResult``, ``LayerResult`` (the CONTRACT's result JSON) and the
timeline events of a discrete-event run."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from edgesim.units import Dimension, format_quantity
from edgesim.vocab import Bound, Mode, OpKind, Precision

if TYPE_CHECKING:
    import pandas as pd


class EventKind(StrEnum):
    """Lanes of a timeline: a compute unit's busy spans (computing, or stalled while transfers it
    does not overlap cross the DRAM channel), a DMA engine's transfers (through the DRAM channel),
    and one span per layer from its start to its end."""

    COMPUTE = "compute"
    STALL = "stall"
    DMA_IN = "dma_in"
    DMA_OUT = "dma_out"
    LAYER = "layer"


@dataclass(frozen=True)
class TimelineEvent:
    """One span: ``lane`` is a unit name, ``<unit>.dma_in``/``.dma_out`` or ``layers``."""

    workload: str
    lane: str
    kind: EventKind
    name: str  # the layer's name
    start_s: float
    end_s: float
    step: int = -1  # tile-step index within the layer (-1 for a layer span)
    moved_bytes: int = 0  # bytes moved (DMA spans)

    def __post_init__(self) -> None:
        if not isinstance(self.kind, EventKind):  # a name from code is fine
            object.__setattr__(self, "kind", EventKind(self.kind))

    @property
    def dur_s(self) -> float:
        return self.end_s - self.start_s


@dataclass(frozen=True)
class LayerResult:
    """One layer's cost. ``compute_cycles`` excludes stalls; ``latency_cycles`` includes them."""

    name: str
    op: OpKind
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
    bound: Bound
    # extras (not in the contract's minimum; kept in to_dict)
    latency_s: float = 0.0
    start_s: float = 0.0  # when the layer started (analytic: the running sum of its chain)
    end_s: float = 0.0
    compute_s: float = 0.0
    memory_s: float = 0.0
    tiles: int = 1
    precision: Precision | None = None  # the precision the unit computed at

    def __post_init__(self) -> None:
        # Names are accepted where enums are expected (a result built in code), and normalised.
        if not isinstance(self.op, OpKind):
            object.__setattr__(self, "op", OpKind(self.op))
        if not isinstance(self.bound, Bound):
            object.__setattr__(self, "bound", Bound(self.bound))
        if self.precision is not None and not isinstance(self.precision, Precision):
            object.__setattr__(self, "precision", Precision(self.precision))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict with the CONTRACT's layer keys (and a few extras)."""
        return {
            "name": self.name, "op": self.op.value, "unit": self.unit,
            "macs": self.macs, "adds": self.adds,
            "compute_cycles": self.compute_cycles, "latency_cycles": self.latency_cycles,
            "utilization": self.utilization,
            "dram_read_bytes": self.dram_read_bytes, "dram_write_bytes": self.dram_write_bytes,
            "energy_j": self.energy_j, "energy_breakdown_j": dict(self.energy_breakdown_j),
            "bound": self.bound.value,
            "latency_s": self.latency_s, "start_s": self.start_s, "end_s": self.end_s,
            "compute_s": self.compute_s, "memory_s": self.memory_s, "tiles": self.tiles,
            "precision": self.precision.value if self.precision is not None else "",
        }


@dataclass(frozen=True)
class SimResult:
    """The cost of one workload on one hardware, whole-run and per layer (SI units, areas mm2)."""

    hardware: str
    workload: str
    mode: Mode
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

    def __post_init__(self) -> None:
        if not isinstance(self.mode, Mode):  # a name from code is fine
            object.__setattr__(self, "mode", Mode(self.mode))

    @property
    def dynamic_energy_j(self) -> float:
        return self.energy_j - self.energy_breakdown_j.get("static", 0.0)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: exactly what ``edgesim simulate --json`` writes (CONTRACT)."""
        return {
            "hardware": self.hardware, "workload": self.workload, "mode": self.mode.value,
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
        mem_s = sum(lay.latency_s for lay in self.layers if lay.bound == Bound.MEMORY)
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
            f"  bound    {bounds.get(Bound.COMPUTE, 0)} compute-bound, "
            f"{bounds.get(Bound.MEMORY, 0)} "
            f"memory-bound layers ({mem_s / total_layer_s:.0%} of layer time memory-bound)",
            *(f"  warning  {w}" for w in self.warnings),
        ])


def union_time_s(spans: Iterable[tuple[float, float]]) -> float:
    """Length of the union of [start, end) intervals (e.g. the time the DRAM channel was busy)."""
    total = 0.0
    cur_s = cur_e = None
    for s, e in sorted(spans):
        if e <= s:
            continue
        if cur_e is None or s > cur_e:
            if cur_e is not None and cur_s is not None:
                total += cur_e - cur_s
            cur_s, cur_e = s, e
        else:
            cur_e = max(cur_e, e)
    if cur_e is not None and cur_s is not None:
        total += cur_e - cur_s
    return total


def dram_busy_s(results: Sequence[SimResult] | SimResult) -> float:
    """Time the DRAM had at least one transfer in flight (on any of its channels, where it has
    one per operand), over the given results."""
    rs = [results] if not isinstance(results, Sequence) else list(results)
    return union_time_s((ev.start_s, ev.end_s) for r in rs for ev in r.timeline
                        if ev.kind in (EventKind.DMA_IN, EventKind.DMA_OUT))
