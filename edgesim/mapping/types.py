"""What mapping produces for each layer: counts of cycles, operations and accesses (no energy)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from edgesim.hardware.model import Hardware
from edgesim.workload.ir import OpKind, Workload


@dataclass(frozen=True)
class LayerCounts:
    """Counts for one layer on the unit that runs it. A count never carries energy."""

    layer: str
    op: OpKind
    unit: str  # compute unit name
    precision: str  # compute precision used (e.g. "int8")
    compute_cycles: int  # busy cycles of the unit incl. fill/drain and fold under-use
    utilization: float  # useful ops / (PEs x compute_cycles), 0..1
    ops: Mapping[str, int]  # op class ("mac" | "adder" | "add" | "mult") -> operations executed
    reads_bytes: Mapping[str, int]  # memory level name -> bytes read from that level
    writes_bytes: Mapping[str, int]  # memory level name -> bytes written to that level
    tiles: int = 1  # tiles the layer is split into (DES double-buffers per tile)
    dram_read_bytes: int = 0  # == reads_bytes[outermost level]
    dram_write_bytes: int = 0
    transfer_bytes: int = 0  # bytes moved between units (fallback), already in reads/writes
    dense_ops: int = 0  # MACs or adds before zero skipping (for reports)
    note: str = ""  # the tiling/loop order chosen, for people
    extra: Mapping[str, float] = field(default_factory=dict)  # per-mapper diagnostics


@dataclass(frozen=True)
class Schedule:
    """A mapped workload: per-layer counts in execution order plus the graph dependencies."""

    workload: Workload
    hardware: Hardware
    batch: int
    layers: tuple[LayerCounts, ...]
    deps: tuple[tuple[int, ...], ...]  # for each layer, indices of the layers it waits for
