"""Partial sums against the accumulator: split the stream, or spill to the level above."""

from __future__ import annotations

import pytest

from edgesim.hardware.model import (
    ComputeUnit,
    Dataflow,
    Hardware,
    MemoryLevel,
    MemoryType,
    Operand,
    Operation,
    UnitType,
)
from edgesim.mapping import map_layer
from tests.mapping.hwfactory import conv, level, linear

IN, W, OUT = Operand.INPUTS, Operand.WEIGHTS, Operand.OUTPUTS
KIB, MIB = 1024, 1 << 20
# C=16 3x3 -> K=144 on 8 rows: 18 reduction passes; M = 32x32 = 1024 pixels, N = 8 filters:
# a column fold's int32 partial sums are 1024 x 8 x 4 B = 32 KiB, live across all 18 passes.
LAYER = conv("c", 16, 8, 32, 3, 1, 1)
LIVE = 1024 * 8 * 4


def _hw(levels: list[MemoryLevel], dataflow: str = "ws") -> Hardware:
    unit = ComputeUnit(name="pe_array", type=UnitType.SYSTOLIC, operation=Operation.MAC,
                       precisions=("int8",), rows=8, cols=8, dataflow=Dataflow(dataflow))
    return Hardware(name="psum", kind="npu", technology_nm=28, clock_hz=1e9, compute=(unit,),
                    memory=(level("dram", MemoryType.DRAM, 1 << 32), *levels))


def _buffers(ofmap: int, weights: bool = True) -> list[MemoryLevel]:
    out = [level("ifmap_buf", MemoryType.SRAM, MIB, (IN,))]
    if weights:
        out.append(level("filter_buf", MemoryType.SRAM, MIB, (W,)))
    return [*out, level("ofmap_buf", MemoryType.SRAM, ofmap, (OUT,))]


def test_psums_that_fit_change_nothing():
    c = map_layer(LAYER, _hw(_buffers(2 * LIVE)))
    assert "psums" not in c.note


def test_single_buffered_accumulator_gives_psums_all_of_it():
    """A double-buffered accumulator lends live partial sums half of itself, a single-buffered
    one (``double_buffered: false``, as ZigZag sizes tiles) all of it: 32 KiB of live psums
    split the stream in 4 in a 16 KiB buffer, in 2 without its double buffer."""
    from dataclasses import replace

    *rest, ofmap = _buffers(16 * KIB)
    assert "split in 4" in map_layer(LAYER, _hw([*rest, ofmap])).note
    single = map_layer(LAYER, _hw([*rest, replace(ofmap, double_buffered=False)]))
    assert "split in 2" in single.note
    assert "psums" not in map_layer(LAYER, _hw([*rest, replace(
        ofmap, size_bytes=LIVE, double_buffered=False)])).note


def test_declared_psum_width_sizes_the_live_partial_sums():
    """A unit's ``psum_bits`` (ZigZag's 16-bit partial sums for 8-bit operands) halves the live
    psums of the default 32-bit accumulators: 16 KiB split in 2 where 32 KiB split in 4."""
    from dataclasses import replace

    hw = _hw(_buffers(16 * KIB))
    narrow = replace(hw, compute=(replace(hw.compute[0], psum_bits=16),))
    assert "split in 4" in map_layer(LAYER, hw).note
    assert "split in 2" in map_layer(LAYER, narrow).note


def test_small_output_buffer_splits_the_stream_when_weights_are_buffered():
    big = map_layer(LAYER, _hw(_buffers(MIB)))
    small = map_layer(LAYER, _hw(_buffers(16 * KIB)))  # 8 KiB for psums: 4 chunks
    assert "split in 4" in small.note
    assert small.reads_bytes["filter_buf"] == pytest.approx(4 * big.reads_bytes["filter_buf"],
                                                            rel=0.01)
    assert small.compute_cycles > big.compute_cycles  # fill and drain per chunk
    assert small.dram_read_bytes == big.dram_read_bytes  # weights re-read on chip only
    assert small.dram_write_bytes == big.dram_write_bytes


def test_declared_accumulator_spills_to_the_buffer_above():
    roomy = _hw([*_buffers(MIB), level("acc", MemoryType.SRAM, 2 * LIVE, (OUT,))])
    tight = _hw([*_buffers(MIB), level("acc", MemoryType.SRAM, 16 * KIB, (OUT,))])
    a, b = map_layer(LAYER, roomy), map_layer(LAYER, tight)
    assert "spilled to ofmap_buf" in b.note
    # A quarter of the live psums stay (8 of 32 KiB): 3/4 of the 17 round trips go up and back.
    spilled = round(17 * LIVE * 0.75)
    assert b.writes_bytes["ofmap_buf"] - a.writes_bytes["ofmap_buf"] == pytest.approx(spilled, 1)
    assert b.reads_bytes["ofmap_buf"] - a.reads_bytes["ofmap_buf"] == pytest.approx(spilled, 1)
    assert b.reads_bytes["acc"] - a.reads_bytes["acc"] == pytest.approx(spilled, 1)
    assert b.compute_cycles == a.compute_cycles and b.dram_read_bytes == a.dram_read_bytes


def test_unbuffered_weights_choose_the_cheaper_dram_traffic():
    # Weights straight from DRAM: splitting re-reads them (3 x 1152 B), spilling moves psums
    # (2 x 3/4 x 17 x 32 KiB): the split wins.
    big = map_layer(LAYER, _hw(_buffers(MIB, weights=False)))
    small = map_layer(LAYER, _hw(_buffers(16 * KIB, weights=False)))
    assert "split in 4" in small.note
    assert small.dram_read_bytes - big.dram_read_bytes == 3 * LAYER.params
    # An FC layer at batch 1: one stream row (8 int32 psums, 32 B) does not fit a 32-byte
    # buffer's half, so no split helps: the psums spill to DRAM and come back.
    fc = linear("fc", 512, 8)  # K=512: 64 passes
    hw = _hw([level("ifmap_buf", MemoryType.SRAM, MIB, (IN,)),
              level("ofmap_buf", MemoryType.SRAM, 32, (OUT,))])
    c = map_layer(fc, hw)
    assert "spilled to dram" in c.note
    # Spilled psums are written to DRAM and read back byte for byte.
    base = map_layer(fc, _hw([level("ifmap_buf", MemoryType.SRAM, MIB, (IN,)),
                              level("ofmap_buf", MemoryType.SRAM, MIB, (OUT,))]))
    extra_w = c.dram_write_bytes - base.dram_write_bytes
    assert extra_w > 0 and c.dram_read_bytes - base.dram_read_bytes == extra_w


def test_output_stationary_keeps_psums_in_the_pes():
    c = map_layer(LAYER, _hw(_buffers(512), dataflow="os"))
    assert "psums" not in c.note
