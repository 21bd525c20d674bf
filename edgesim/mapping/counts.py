"""What mapping produces for each layer: counts of cycles, operations and accesses (no energy)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from edgesim.hardware.model import Hardware
from edgesim.vocab import OpClass, OpKind, Precision
from edgesim.workload.ir import Workload

MAX_TILE_STEPS = 32  # tile-steps a layer is timed in at most (``sim.timing`` aggregates the rest)


@dataclass(frozen=True)
class LayerCounts:
    """Counts for one layer on the unit that runs it. A count never carries energy."""

    layer: str
    op: OpKind
    unit: str  # compute unit name
    precision: Precision  # compute precision used
    compute_cycles: int  # busy cycles of the unit incl. fill/drain and fold under-use
    utilization: float  # useful ops / (PEs x compute_cycles), 0..1
    ops: Mapping[OpClass, int]  # operations executed, per op class
    reads_bytes: Mapping[str, int]  # memory level name -> bytes read from that level
    writes_bytes: Mapping[str, int]  # memory level name -> bytes written to that level
    tiles: int = 1  # tile-steps the layer streams in (the simulators double-buffer per step)
    dram_read_bytes: int = 0  # == reads_bytes[outermost level]
    dram_write_bytes: int = 0
    dram_act_read_bytes: int = 0  # the activation part of dram_read_bytes (the rest: weights)
    transfer_bytes: int = 0  # bytes moved between units (fallback), already in reads/writes
    decoded_weights: int = 0  # weights the chip's weight decoder decoded (coded in DRAM)
    decoder_steps: int = 0  # its steps: a codebook lookup each, and a Huffman decode where coded
    noc_words: int = 0  # words passed between PEs over the array's network (RS partial sums)
    # Weight bytes fetched from DRAM through a buffer whose half cannot stage one fold of the
    # array's weights: no fold is double-buffered, so the array waits for them (``sim.timing``).
    unbuffered_weight_bytes: int = 0
    dense_ops: int = 0  # MACs or adds before zero skipping (for reports)
    note: str = ""  # the tiling/loop order chosen, for people
    extra: Mapping[str, float] = field(default_factory=dict)  # diagnostics for people and tests

    def __post_init__(self) -> None:
        # Names are accepted where enums are expected (counts built in code), and normalised.
        if not isinstance(self.op, OpKind):
            object.__setattr__(self, "op", OpKind(self.op))
        if not isinstance(self.precision, Precision):
            object.__setattr__(self, "precision", Precision(self.precision))
        if not all(isinstance(k, OpClass) for k in self.ops):
            object.__setattr__(self, "ops", {OpClass(k): v for k, v in self.ops.items()})


@dataclass(frozen=True)
class Schedule:
    """A mapped workload: per-layer counts in execution order plus the graph dependencies."""

    workload: Workload
    hardware: Hardware
    batch: int
    layers: tuple[LayerCounts, ...]
    deps: tuple[tuple[int, ...], ...]  # for each layer, indices of the layers it waits for
