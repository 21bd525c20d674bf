"""What a report draws from: one ``Run`` per simulated (model, chip, variant), as plain data.

A run holds the result in its JSON form (``SimResult.to_dict()``), so the demo's fresh results
and the JSON files ``edgesim report --from`` reads are drawn by the same code. Energy and area
components are grouped into kinds (compute, on-chip memory, off-chip memory, static, overhead)
by the spec that produced them; the roofline needs the chip's peak and its DRAM bandwidth.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from edgesim.hardware.model import Hardware
    from edgesim.results import SimResult


class Kind(StrEnum):
    """What an energy or area component is (the stacks of the report's bars)."""

    COMPUTE = "compute"
    ONCHIP = "on-chip memory"
    OFFCHIP = "off-chip memory"
    STATIC = "static"
    OVERHEAD = "control and NoC"  # area only: the spec's area_overhead fraction
    OTHER = "other or not broken down"  # a component no spec describes, or a bare total


KIND_ORDER = (Kind.COMPUTE, Kind.ONCHIP, Kind.OFFCHIP, Kind.STATIC, Kind.OVERHEAD, Kind.OTHER)


@dataclass(frozen=True)
class Roof:
    """The two roofs of a chip's roofline: its main unit's peak and its off-chip bandwidth."""

    peak_ops_per_s: float  # 2 ops per MAC, every PE of the main unit busy
    offchip_bytes_per_s: float
    unit: str


@dataclass(frozen=True)
class Run:
    """One simulated (model, chip, variant): the result's JSON form and how to read it."""

    model: str
    hardware: str
    variant: str
    result: Mapping[str, Any]  # SimResult.to_dict() (``layers`` empty for a compare CSV row)
    kinds: Mapping[str, Kind] = field(default_factory=dict)  # component -> kind
    roof: Roof | None = None
    timeline: tuple[Any, ...] = ()  # TimelineEvent of a DES run

    @property
    def chip_label(self) -> str:
        """The chip, and the variant where it is not the model as given."""
        return self.hardware if self.variant in ("dense", "-") else (
            f"{self.hardware} ({self.variant})")

    @property
    def latency_s(self) -> float:
        return float(self.result["latency_s"])

    @property
    def energy_j(self) -> float:
        return float(self.result["energy_j"])

    @property
    def area_mm2(self) -> float:
        return float(self.result["area_mm2"])

    @property
    def warnings(self) -> tuple[str, ...]:
        return tuple(self.result.get("warnings") or ())

    @property
    def fit_known(self) -> bool:
        """Whether the run says if the chip holds the model (a compare CSV row does not)."""
        return self.result.get("warnings") is not None

    @property
    def fits(self) -> bool:
        """Whether the chip holds the model: no capacity warning (the check ``simulate`` makes;
        a run that does not say is drawn as if it did)."""
        return not self.warnings

    @property
    def layers(self) -> Sequence[Mapping[str, Any]]:
        return list(self.result.get("layers", ()))

    def kind_of(self, component: str) -> Kind:
        if component == "static":
            return Kind.STATIC
        if component == "overhead":
            return Kind.OVERHEAD
        return self.kinds.get(component, Kind.OTHER)

    def by_kind(self, breakdown_key: str) -> dict[Kind, float]:
        """``energy_breakdown_j`` or ``area_breakdown_mm2`` summed per kind (every kind present);
        a total without its breakdown (a compare CSV row) is all "other"."""
        out = dict.fromkeys(KIND_ORDER, 0.0)
        parts = self.result.get(breakdown_key) or {}
        for comp, v in parts.items():
            out[self.kind_of(comp)] += float(v)
        if not parts:
            total_key = {"energy_breakdown_j": "energy_j", "area_breakdown_mm2": "area_mm2"}
            out[Kind.OTHER] = float(self.result.get(total_key.get(breakdown_key, ""), 0.0))
        return out


def component_kinds(hw: Hardware) -> dict[str, Kind]:
    """Each compute unit and memory level of ``hw`` with its kind."""
    kinds = {u.name: Kind.COMPUTE for u in hw.compute}
    kinds.update({m.name: Kind.OFFCHIP if m.is_offchip else Kind.ONCHIP for m in hw.memory})
    return kinds


def roof_of(hw: Hardware) -> Roof:
    unit = hw.main_unit
    return Roof(2.0 * unit.pe_count * hw.clock_hz * unit.efficiency,
                hw.outermost.bandwidth_bytes_per_s, unit.name)


def run_of(result: SimResult, hw: Hardware, model: str | None = None,
           variant: str = "dense") -> Run:
    """The run of a fresh result on the spec that produced it."""
    return Run(model or result.workload, result.hardware, variant, result.to_dict(),
               component_kinds(hw), roof_of(hw), result.timeline)


def run_from_json(data: Mapping[str, Any], variant: str = "dense") -> Run:
    """A run from a saved result JSON (``edgesim simulate --json``). Component kinds and roofs
    come from the JSON's ``component_kinds`` and ``roof`` when it has them, else from the
    built-in spec of that name, else are left unknown (drawn as "other", no roofline)."""
    kinds = {k: Kind(v) for k, v in data.get("component_kinds", {}).items()}
    roof = Roof(**data["roof"]) if isinstance(data.get("roof"), dict) else None
    if not kinds or roof is None:
        from edgesim.errors import EdgesimError
        from edgesim.hardware import list_hardware, load_hardware

        if str(data["hardware"]) in list_hardware():
            try:
                hw = load_hardware(str(data["hardware"]))
            except EdgesimError:  # pragma: no cover - built-in specs load
                hw = None
            if hw is not None:
                kinds = kinds or component_kinds(hw)
                roof = roof or roof_of(hw)
    return Run(str(data["workload"]), str(data["hardware"]), variant, data, kinds, roof)


def extras_for_json(hw: Hardware) -> dict[str, Any]:
    """What ``simulate --json`` adds beside the result so a report can read it alone."""
    r = roof_of(hw)
    return {"component_kinds": {k: v.value for k, v in component_kinds(hw).items()},
            "roof": {"peak_ops_per_s": r.peak_ops_per_s,
                     "offchip_bytes_per_s": r.offchip_bytes_per_s, "unit": r.unit}}


__all__ = ["KIND_ORDER", "Kind", "Roof", "Run", "component_kinds", "extras_for_json",
           "roof_of", "run_from_json", "run_of"]
