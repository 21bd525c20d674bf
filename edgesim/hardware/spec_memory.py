"""Pydantic schema of one memory level of a hardware spec, with its cross-field checks."""

from __future__ import annotations

from pydantic import Field, model_validator

from edgesim.hardware.model import ArrayDim, Compression, MemoryType, Operand
from edgesim.hardware.spec_types import (
    Area,
    Bandwidth,
    FieldError,
    MemEnergy,
    Name,
    PositiveInt,
    Power,
    Size,
    _Frozen,
)
from edgesim.hardware.tech import DramType


class MemoryLevelSpec(_Frozen):
    """One memory level of the spec (outermost first in the list)."""

    name: Name
    """Level name, unique in the spec; energy and area components carry it."""
    type: MemoryType
    """`dram`, `flash`, `sram`, `cache` or `regfile`; exactly one off-chip level (dram or flash), first."""
    size: Size
    """Capacity per instance, in bytes units ("64 KiB", "2 MiB"; KB/MB/GB and bits are refused as ambiguous)."""
    bandwidth: Bandwidth | None = None
    """Bytes per second ("25.6 GB/s", "6.4 Gbps"): the most the level moves, reads and writes together (its ports' maximum widths per cycle summed x clock, per instance: ZigZag's `bandwidth_max`); needed off chip; on chip it limits time only where stated."""
    read_energy: MemEnergy | None = None
    """Energy per byte ("1.2 pJ/B", "0.15 pJ/bit") or per access of `word` bytes ("10 pJ"); default: the technology tables by type and size."""
    write_energy: MemEnergy | None = None
    """As `read_energy`, for writes."""
    word: Size = 8.0
    """Access width in bytes, the port's minimum (energy tables are per access of it; an array's access to the buffer feeding it is rounded up to whole words, ZigZag's `bandwidth_min`)."""
    area: Area | None = None
    """Area of all instances together (default: the SRAM area model; 0 off chip)."""
    leakage: Power | None = None
    """Leakage power of all instances together (default 0 W)."""
    holds: list[Operand] = Field(default_factory=lambda: list(Operand), min_length=1)
    """Operands the level holds: inputs, weights, outputs (default all)."""
    per_pe: bool = False
    """One instance per PE (a register file or scratchpad), regfile and sram only."""
    instances: PositiveInt | None = None
    """Instances of a per-PE level (default: one per PE of the main unit, or per group of PEs it serves)."""
    served_dimensions: list[ArrayDim] = Field(default_factory=list)
    """Array dimensions along which one instance of a per-PE level serves every PE (ZigZag's `served_dimensions`; a cube main unit's `rows`, `cols`, `depth`): one read is broadcast to them, or, for outputs, an adder tree reduces them into one access."""
    banks: PositiveInt = 1
    """On-chip SRAM or cache split into this many macros: energy per access is that of one bank of size/banks (the default energy), and a row-stationary mapper with a `mapping_dram_weight` splits the buffer between ifmaps and psums in whole banks."""
    dram_type: DramType | None = None
    """DRAM technology (lpddr4, lpddr4x, lpddr5, ddr4, hbm2), for the default energy per byte."""
    energy_source: str | None = None
    """Where the level's energies come from (shown by `specs show`)."""
    compression: Compression = Compression.NONE
    """Encoding of the activations stored here: `none` or `rlc` (run-length coding of zeros)."""
    channel_per_operand: bool = False
    """DRAM only: inputs, weights and outputs each cross their own channel of `bandwidth` (a chip with a memory interface per operand), so a layer's transfers of different operands run side by side; default: one channel shared by every transfer."""
    double_buffered: bool = True
    """An on-chip buffer double-buffers its tiles: a tile may take half of it (the other half loads the next tile while the array works); `false`: a tile may take all of it (one tile at a time, as ZigZag's cost model sizes tiles). Applies to the tiles' and live partial sums' share of the buffer: traffic and energy, and the cycles of a stream split to fit the partial sums; whether weight folds are staged behind compute (a latency question) still asks for half."""
    retains_weights: bool = False
    """Keeps the model's weights across inferences when they all fit (in half the level when it also holds activations): a CPU's last-level cache under repeated inference, a parameter cache. Steady-state weight reads then come from here, not from the level above. One shared on-chip level holding weights."""

    @model_validator(mode="after")
    def _check(self) -> MemoryLevelSpec:
        if self.per_pe and self.type not in (MemoryType.REGFILE, MemoryType.SRAM):
            raise FieldError("per_pe", f"per_pe applies only to regfile and sram levels, not {self.type.value}")
        if self.served_dimensions and not self.per_pe:
            raise FieldError("served_dimensions", "`served_dimensions` applies only to per_pe levels")
        if Operand.OUTPUTS in self.holds and set(self.served_dimensions) - {ArrayDim.DEPTH}:
            raise FieldError("served_dimensions", "a level holding outputs is served only along "
                             "`depth` (an adder tree reduces the products into it; other "
                             "dimensions hold other outputs)")
        if len(set(self.served_dimensions)) != len(self.served_dimensions):
            raise FieldError("served_dimensions", "`served_dimensions` repeats a dimension")
        if self.dram_type is not None and self.type != MemoryType.DRAM:
            raise FieldError("dram_type", "`dram_type` applies only to dram levels")
        if self.type in (MemoryType.DRAM, MemoryType.FLASH) and self.bandwidth is None:
            raise FieldError("bandwidth", f"a {self.type.value} level needs `bandwidth`")
        if len(set(self.holds)) != len(self.holds):
            raise FieldError("holds", "`holds` repeats an operand")
        if self.word != int(self.word) or self.word < 1:
            raise FieldError("word", f"`word` must be a whole number of bytes, got {self.word} B")
        if self.channel_per_operand and self.type != MemoryType.DRAM:
            raise FieldError("channel_per_operand", "`channel_per_operand` applies only to dram "
                             "levels")
        if not self.double_buffered and (self.per_pe or self.type in (MemoryType.DRAM,
                                                                       MemoryType.FLASH)):
            raise FieldError("double_buffered", "`double_buffered` applies to shared on-chip "
                             "levels")
        if self.banks > 1 and self.type not in (MemoryType.SRAM, MemoryType.CACHE):
            raise FieldError("banks", "`banks` applies only to sram and cache levels")
        if self.word > self.size / self.banks:
            raise FieldError("word", "`word` is larger than `size`")
        if self.retains_weights and (self.per_pe or self.type in (MemoryType.DRAM, MemoryType.FLASH)
                                     or Operand.WEIGHTS not in self.holds):
            raise FieldError("retains_weights", "`retains_weights` applies to a shared on-chip "
                             "level that holds weights")
        if self.compression != Compression.NONE and (self.per_pe or not (
                {Operand.INPUTS, Operand.OUTPUTS} & set(self.holds))):
            raise FieldError("compression", "`compression` applies to a shared level that holds "
                             "activations (inputs or outputs)")
        return self


__all__ = ["MemoryLevelSpec"]
