"""Mapping: placement, traffic, compression lessons, determinism and speed."""

from __future__ import annotations

from dataclasses import replace

import pytest

from edgesim.errors import MappingError
from edgesim.hardware.model import (
    ComputeUnit,
    Dataflow,
    Hardware,
    MemoryType,
    Operand,
    Operation,
    UnitType,
    ZeroSkip,
)
from edgesim.mapping import map_layer, map_workload
from edgesim.mapping.spatial import pe_sets
from edgesim.mapping.storage import weight_storage_bits
from edgesim.mapping.systolic import fold_cycles
from edgesim.vocab import OpKind
from edgesim.workload.ir import Layer, Workload
from tests.mapping.hwfactory import conv, level, linear, systolic_hw


def test_fold_formula_by_hand():
    # 8x8 array, ws: 36 output pixels (T), K=144 on rows -> 18 folds of 36 + 16 + 8 - 2 cycles.
    from edgesim.hardware.model import Dataflow
    assert fold_cycles(144, 16, 36, 8, 16, Dataflow.WS) == 18 * (36 + 16 + 16 - 2) - 1


def test_dram_traffic_fits_once_when_buffers_hold_everything():
    hw = systolic_hw(sram=1 << 20)
    lay = conv("c", 16, 32, 14, 3, 1, 1)
    c = map_layer(lay, hw)
    assert c.dram_read_bytes == lay.input_elems + lay.weight_elems  # int8: 1 byte each
    assert c.dram_write_bytes == lay.output_elems
    assert c.dram_read_bytes == c.reads_bytes["dram"]


def test_small_buffers_refetch_and_pay():
    lay = conv("c", 64, 256, 28, 3, 1, 1)
    big = map_layer(lay, systolic_hw(sram=4 << 20))
    small = map_layer(lay, systolic_hw(sram=16 * 1024))
    assert small.dram_read_bytes > 1.5 * big.dram_read_bytes
    assert small.extra["buffer_tiles"] > big.extra["buffer_tiles"]


def test_activation_stays_on_chip_between_consecutive_layers():
    hw = systolic_hw(sram=1 << 20)
    wl = Workload("two", (conv("a", 8, 8, 16, 3, 1, 1), conv("b", 8, 8, 16, 3, 1, 1, inputs=("a",))))
    s = map_workload(wl, hw)
    assert s.layers[0].dram_write_bytes == 0
    assert s.layers[1].dram_read_bytes == wl.layers[1].weight_elems  # weights only
    tiny = map_workload(wl, systolic_hw(sram=1024))
    assert tiny.layers[0].dram_write_bytes == wl.layers[0].output_elems


def test_fallback_counts_transfer_and_errors_name_layer():
    hw = systolic_hw()
    pool = Layer("pool", OpKind.POOL2D, ("c",), ((1, 8, 8, 8),), (1, 8, 4, 4), kernel=(2, 2),
                 stride=(2, 2), variant="max")
    wl = Workload("w", (conv("c", 8, 8, 8, 3, 1, 1), pool))
    s = map_workload(wl, hw)
    assert s.layers[1].unit == "cpu"
    assert s.layers[1].transfer_bytes == 8 * 8 * 8 * 4  # fp32 native on the cpu
    adder = Layer("add", OpKind.ADDER_CONV2D, (), ((1, 8, 8, 8),), (1, 8, 8, 8), kernel=(3, 3),
                  padding=(1, 1), weight_shape=(8, 8, 3, 3))
    assert map_layer(adder, hw).unit == "cpu"  # the programmable fallback emulates |x - w|
    mac_only = Hardware("mac-only", "npu", 28, 1e9, hw.compute[:1], hw.memory)
    with pytest.raises(MappingError, match="add.*adder_conv2d"):
        map_layer(adder, mac_only)


def test_adder_layer_runs_on_adder_unit():
    u = ComputeUnit(name="adders", type=UnitType.SYSTOLIC, operation=Operation.ADDER,
                    precisions=("int8",), rows=8, cols=8)
    hw = Hardware("adder-npu", "npu", 28, 1e9, (u,), (level("dram", MemoryType.DRAM, 1 << 30),))
    lay = Layer("a", OpKind.ADDER_CONV2D, (), ((1, 8, 8, 8),), (1, 8, 8, 8), kernel=(3, 3),
                padding=(1, 1), weight_shape=(8, 8, 3, 3))
    c = map_layer(lay, hw)
    assert c.ops == {"adder": lay.adds} and c.unit == "adders"


def test_depthwise_on_systolic_collapses_utilization():
    hw = systolic_hw(32, 32, "ws", fallback=False)
    dense = map_layer(conv("d", 64, 64, 28, 3, 1, 1), hw)
    dw = map_layer(conv("dw", 64, 64, 28, 3, 1, 1, groups=64), hw)
    assert dw.utilization < 0.05 < dense.utilization
    assert dw.compute_cycles > 64 * 28 * 28  # each group is its own tiny GEMM


def test_lesson_unstructured_sparsity_on_dense_array():
    lay = conv("c", 64, 64, 14, 3, 1, 1)
    sp = replace(lay, weight_sparsity=0.9)
    hw = systolic_hw(16, 16, sram=1 << 20)
    a, b = map_layer(lay, hw), map_layer(sp, hw)
    assert b.compute_cycles == a.compute_cycles
    assert b.dram_read_bytes < a.dram_read_bytes - 0.6 * lay.weight_elems
    skip = systolic_hw(16, 16, sram=1 << 20, zero_skip=ZeroSkip.WEIGHTS)
    assert map_layer(sp, skip).compute_cycles < 0.2 * map_layer(lay, skip).compute_cycles


def test_sparse_storage_never_above_dense_and_picks_cheaper_format():
    lay = conv("c", 64, 64, 14, 3)
    assert weight_storage_bits(replace(lay, weight_sparsity=0.05), 8) == lay.params * 8
    bits90 = weight_storage_bits(replace(lay, weight_sparsity=0.9), 8)
    nnz = round(lay.params * 0.1)
    assert nnz * 12 <= bits90 <= lay.params + nnz * 8  # CSR (12 bits/nnz + padding) or bitmap


def test_lesson_nm_sparsity_needs_support():
    lay = replace(conv("c", 64, 64, 14, 3, 1, 1), sparsity_pattern="2:4", weight_sparsity=0.5)
    plain = map_layer(lay, systolic_hw(16, 16))
    dense = map_layer(replace(lay, sparsity_pattern="unstructured", weight_sparsity=0.0),
                      systolic_hw(16, 16))
    nm = map_layer(lay, systolic_hw(16, 16, nm=("2:4",)))
    assert plain.compute_cycles == dense.compute_cycles
    assert nm.compute_cycles < 0.6 * dense.compute_cycles
    # 2:4 storage: half the weights plus 2 bits of metadata per kept weight.
    assert weight_storage_bits(lay, 8) == lay.params // 2 * 10


def test_lesson_narrow_operands_pack_only_where_unit_packs():
    lay = conv("c", 64, 64, 14, 3, 1, 1)
    int4 = replace(lay, weight_precision="int4", act_precision="int4")
    hw = systolic_hw(16, 16, sram=1 << 20)
    a, b = map_layer(lay, hw), map_layer(int4, hw)
    # int4 operands run on the int8 datapath (the unit lists no int4): same cycles, int8 op energy.
    assert b.compute_cycles == a.compute_cycles and b.precision == "int8"
    assert b.dram_read_bytes == pytest.approx(a.dram_read_bytes / 2, rel=0.01)
    packed = systolic_hw(16, 16, sram=1 << 20, packs_narrow=True, precisions=("int8", "int4"))
    assert map_layer(int4, packed).compute_cycles < 0.6 * map_layer(lay, packed).compute_cycles


def test_cube_fractals_and_int8_packing():
    cube = ComputeUnit(name="cube", type=UnitType.CUBE, operation=Operation.MAC,
                       precisions=("fp16", "int8"), rows=16, cols=16, depth=16,
                       packs_narrow=True)
    hw = Hardware("cube", "npu", 7, 1e9, (cube,), (
        level("dram", MemoryType.DRAM, 1 << 30), level("l1", MemoryType.SRAM, 1 << 20)))
    fc = linear("fc", 100, 40, batch=20)
    c = map_layer(fc, hw)
    assert c.compute_cycles == 2 * 3 * 7 + 16  # ceil(20/16) ceil(40/16) ceil(100/16) + fill
    c8 = map_layer(replace(fc, weight_precision="int8", act_precision="int8"), hw)
    assert c8.compute_cycles == 2 * 3 * 4 + 16
    # The fill is a spec parameter (fill_cycles), paid once per GEMM.
    quick = replace(hw, compute=(replace(cube, fill_cycles=4),))
    assert map_layer(fc, quick).compute_cycles == 2 * 3 * 7 + 4


def test_cube_depthwise_per_channel_or_packed_in_channel_blocks():
    cube = ComputeUnit(name="cube", type=UnitType.CUBE, operation=Operation.MAC,
                       precisions=("fp16",), rows=16, cols=16, depth=16)
    mem = (level("dram", MemoryType.DRAM, 1 << 30), level("l1", MemoryType.SRAM, 1 << 20))
    dw = conv("dw", 40, 40, 28, 3, 1, 1, groups=40)  # M = 784 pixels: 49 M fractals; K = 9
    one = map_layer(dw, Hardware("c", "npu", 7, 1e9, (cube,), mem))
    assert one.compute_cycles == 40 * (49 * 1 * 1 + 16)  # a tiny GEMM and a fill per channel
    packed_unit = replace(cube, packs_channels=True)
    packed = map_layer(dw, Hardware("c", "npu", 7, 1e9, (packed_unit,), mem))
    # 3 blocks of 16 channels; K = 9 taps x 16 channels = 9 fractals deep; one fill per block.
    assert packed.compute_cycles == 3 * (49 * 9 + 16) < one.compute_cycles
    assert packed.ops == one.ops  # the same useful MACs (the block-diagonal zeros are waste)
    assert packed.utilization < 1 / 16 + 1e-9


def test_cube_counts_its_register_files_when_the_spec_has_them():
    """Per-PE files on a cube: a read per MAC of each operand, the fractals delivered written
    once, the accumulator read and written per MAC at accumulator width (and read once more as
    each output leaves it); none without them."""
    cube = ComputeUnit(name="cube", type=UnitType.CUBE, operation=Operation.MAC,
                       precisions=("fp16",), rows=16, cols=16, depth=16)
    mem = (level("dram", MemoryType.DRAM, 1 << 30), level("l0", MemoryType.SRAM, 1 << 20))
    fc = linear("fc", 100, 40, batch=20)
    plain = map_layer(fc, Hardware("c", "npu", 7, 1e9, (cube,), mem))
    assert set(plain.reads_bytes) == {"dram", "l0"}
    rf = (level("rf_in", MemoryType.REGFILE, 2, (Operand.INPUTS,), True, 4096),
          level("rf_w", MemoryType.REGFILE, 2, (Operand.WEIGHTS,), True, 4096),
          level("rf_acc", MemoryType.REGFILE, 4, (Operand.OUTPUTS,), True, 4096))
    got = map_layer(fc, Hardware("c", "npu", 7, 1e9, (cube,), (*mem, *rf)))
    macs = 20 * 40 * 100
    assert got.reads_bytes["rf_in"] == macs * 2 and got.reads_bytes["rf_w"] == macs * 2
    assert got.writes_bytes["rf_acc"] == macs * 4  # fp32 accumulator
    assert got.reads_bytes["rf_acc"] == macs * 4 + 20 * 40 * 4  # + the 800 outputs drained
    # written once per fractal delivered from L0: A re-read per N block (3), B per M block (2)
    assert got.writes_bytes["rf_in"] == 3 * 20 * 100 * 2
    assert got.writes_bytes["rf_w"] == 2 * 100 * 40 * 2
    assert got.compute_cycles == plain.compute_cycles


def test_simd_efficiency_and_pooling_memory_bound():
    cpu = ComputeUnit(name="neon", type=UnitType.SIMD, operation=Operation.MAC,
                      precisions=("fp32", "int8"), lanes=4, cores=4, efficiency=0.5)
    hw = Hardware("cpu", "cpu", 7, 2e9, (cpu,), (
        level("dram", MemoryType.DRAM, 1 << 32), level("l2", MemoryType.CACHE, 1 << 20),
        level("l1", MemoryType.CACHE, 32 * 1024)))
    lay = conv("c", 32, 32, 16, 3, 1, 1)
    c = map_layer(lay, hw)
    assert c.compute_cycles == pytest.approx(lay.macs / (16 * 0.5), rel=1e-6)
    assert c.reads_bytes["l1"] > c.reads_bytes["l2"] > 0
    pool = Layer("p", OpKind.POOL2D, (), ((1, 32, 16, 16),), (1, 32, 8, 8), kernel=(2, 2),
                 stride=(2, 2), variant="max")
    p = map_layer(pool, hw)
    assert p.dram_read_bytes == 32 * 16 * 16 * 4 and p.dram_write_bytes == 32 * 8 * 8 * 4


def test_rs_pe_sets_from_rules():
    assert pe_sets(11, 55, 12, 14)[0] == 154
    assert pe_sets(5, 27, 12, 14)[0] == 135
    assert pe_sets(3, 13, 12, 14)[0] == 156
    assert pe_sets(13, 10, 12, 14)[4] == 2  # filter rows fold over the array height


def test_deterministic():
    """Mapping a deep workload twice gives the same counts (its speed is a benchmark's
    question, ``benchmarks/run.py``: no wall-clock assertion in a unit test)."""
    hw = systolic_hw(32, 32, "ws", sram=256 * 1024)
    layers = []
    prev: tuple[str, ...] = ()
    for i in range(70):
        c = 64 * (1 + i % 4)
        layers.append(conv(f"c{i}", c, c, 28, 3, 1, 1, inputs=prev))
        prev = (f"c{i}",)
    wl = Workload("deep", tuple(layers))
    a = map_workload(wl, hw)
    assert map_workload(wl, hw).layers == a.layers
    assert map_workload(wl, hw, batch=2).layers[0].compute_cycles > a.layers[0].compute_cycles


def test_per_pe_levels_count_totals():
    hw = systolic_hw()
    hw2 = Hardware(hw.name, hw.kind, 28, 1e9, hw.compute, (*hw.memory, level(
        "rf", MemoryType.REGFILE, 64, (Operand.WEIGHTS,), True, 64)))
    assert set(map_layer(conv("c", 8, 8, 8, 3), hw2).reads_bytes) == {
        "dram", "ifmap_buf", "filter_buf", "ofmap_buf", "rf"}


def test_nm_support_covers_sparser_patterns_of_the_same_block() -> None:
    from edgesim.mapping.mapper import nm_work_fraction

    assert nm_work_fraction("2:4", ("2:4",)) == 0.5
    assert nm_work_fraction("1:4", ("2:4",)) == 0.5  # 1:4 weights fit the 2:4 format
    assert nm_work_fraction("3:4", ("2:4",)) is None  # denser than the unit's format
    assert nm_work_fraction("2:8", ("2:4",)) is None  # another block size
    assert nm_work_fraction("unstructured", ("2:4",)) is None
    lay = replace(conv("c", 64, 64, 14, 3, 1, 1), sparsity_pattern="1:4", weight_sparsity=0.75)
    dense = map_layer(replace(lay, sparsity_pattern="unstructured", weight_sparsity=0.0),
                      systolic_hw(16, 16))
    nm = map_layer(lay, systolic_hw(16, 16, nm=("2:4",)))
    assert nm.compute_cycles < 0.6 * dense.compute_cycles


def test_bit_serial_cycles_scale_with_both_operands_bits():
    """BISMO-style PEs: a w-bit x a-bit MAC is w * a one-bit steps; traffic and MACs unchanged;
    only systolic and cube MAC units can be bit-serial."""
    serial_unit = ComputeUnit(name="pe_array", type=UnitType.SYSTOLIC, operation=Operation.MAC,
                              precisions=("int8", "int4", "int2"), rows=16, cols=16,
                              dataflow=Dataflow.WS, bit_serial=True)
    mem = (level("dram", MemoryType.DRAM, 1 << 30), level("buf", MemoryType.SRAM, 1 << 20))
    serial = Hardware("bs", "npu", 28, 1e9, (serial_unit,), mem)
    plain = replace(serial, compute=(replace(serial_unit, bit_serial=False),))
    lay = conv("c", 32, 32, 14, 3, pad=1)
    base = map_layer(lay, plain)

    def at(w: str, a: str) -> object:
        return map_layer(replace(lay, weight_precision=w, act_precision=a), serial)

    c8, c4, c24 = at("int8", "int8"), at("int4", "int4"), at("int2", "int4")
    b = base.compute_cycles
    # each streamed element takes w x a steps, a fold's fill and drain do not: the extra cycles
    # are (w a - 1) x the stream steps, so 63 : 15 : 7 for int8, int4, int2 x int4
    assert (c8.compute_cycles - b) * 15 == (c4.compute_cycles - b) * 63
    assert (c24.compute_cycles - b) * 15 == (c4.compute_cycles - b) * 7
    assert c8.compute_cycles > 40 * b  # mostly streaming on this layer
    assert c8.ops == base.ops and c8.reads_bytes == base.reads_bytes
    from edgesim.errors import SpecError
    from edgesim.hardware import load_hardware

    with pytest.raises(SpecError, match="systolic and cube"):
        load_hardware("cortex-a76", {"compute[0].bit_serial": True,
                                     "compute[0].precisions": ["int8"]})


def test_xnor_units_run_binary_layers_only():
    """operation: xnor (XNOR-popcount PEs): a conv with int1 weights and activations runs on it,
    priced as a 1-bit MAC; anything wider goes to the next capable unit."""
    from edgesim.errors import SpecError
    from edgesim.hardware import load_hardware

    xnor = ComputeUnit(name="xnor", type=UnitType.SYSTOLIC, operation=Operation.XNOR,
                       precisions=("int1",), rows=16, cols=16, dataflow=Dataflow.WS)
    mac = ComputeUnit(name="mac", type=UnitType.SYSTOLIC, operation=Operation.MAC,
                      precisions=("int8",), rows=16, cols=16, dataflow=Dataflow.WS)
    mem = (level("dram", MemoryType.DRAM, 1 << 30), level("buf", MemoryType.SRAM, 1 << 20))
    hw = Hardware("bnn", "npu", 28, 1e9, (xnor, mac), mem)
    binary = replace(conv("b", 32, 32, 14, 3, pad=1), weight_precision="int1",
                     act_precision="int1")
    wider = replace(binary, weight_precision="int1", act_precision="int8")
    assert map_layer(binary, hw).unit == "xnor" and map_layer(wider, hw).unit == "mac"
    only = Hardware("bnn", "npu", 28, 1e9, (xnor,), mem)
    with pytest.raises(MappingError, match="xnor unit"):
        map_layer(wider, only)
    with pytest.raises(SpecError, match=r"precisions: \[int1\]"):
        load_hardware("edge-npu", {"compute.pe_array.operation": "xnor"})


def test_a_weight_buffer_too_small_for_a_fold_stalls_the_array() -> None:
    """edge-npu's 64x64 int8 array holds 4 KiB of weights per fold: a weight buffer whose half
    cannot stage one fold double-buffers nothing, so every weight fetch stalls the array (a
    64 B buffer used to cost nothing and look cheapest to a search); one that can is as before."""
    import edgesim as es
    from edgesim.sim.timing import HardwareTiming

    wl = es.load_workload("resnet18")
    lat, stalls = {}, {}
    for size in ("64 B", "4 KiB", "8 KiB", "4 MiB"):
        hw = es.load_hardware("edge-npu", {"memory.weight_buf.size": size})
        sched = map_workload(wl, hw)
        timing = HardwareTiming(hw)
        stalls[size] = sum(timing.layer(lc).stall_s for lc in sched.layers)
        lat[size] = es.simulate(wl, hw).latency_s
        unbuffered = sum(lc.unbuffered_weight_bytes for lc in sched.layers)
        weights = sum(lc.dram_read_bytes - lc.dram_act_read_bytes for lc in sched.layers
                      if lc.unit == "pe_array")  # the vector unit holds no fold
        assert all(lc.unbuffered_weight_bytes == 0 for lc in sched.layers
                   if lc.unit != "pe_array")
        assert unbuffered == (weights if size in ("64 B", "4 KiB") else 0), size
    assert stalls["8 KiB"] == stalls["4 MiB"] == 0 < stalls["4 KiB"] <= stalls["64 B"]
    assert lat["64 B"] > 1.2 * lat["8 KiB"] and lat["4 KiB"] > 1.2 * lat["4 MiB"]


def test_systolic_register_files_follow_the_dataflow():
    """ws with per-PE files (ZigZag's TPU-like): the weight file is read once per MAC, or once per
    weight where each PE holds one weight for the whole pass (the reduction fits the rows: it
    stays at the multiplier); each used row's output register is read once more per output as
    the column's partial sums leave (at the register's 16 bits)."""
    base = systolic_hw(32, 32, "ws", sram=1 << 20)
    hw = Hardware(base.name, base.kind, 28, 1e9, base.compute, (
        *base.memory, level("rf_w", MemoryType.REGFILE, 128, (Operand.WEIGHTS,), True, 1024),
        level("rf_o", MemoryType.REGFILE, 2, (Operand.OUTPUTS,), True, 1024)))
    for c, r, groups, held in [(16, 1, 1, True), (64, 1, 1, False), (32, 3, 32, True),
                               (8, 3, 1, False)]:
        lay = conv("c", c, 32, 14, r, 1, 0, groups=groups)
        got = map_layer(lay, hw)
        rows = min(32, c // groups * r * r)
        assert got.writes_bytes["rf_w"] == lay.weight_elems
        assert got.reads_bytes["rf_w"] == (lay.weight_elems if held else lay.macs), (c, r)
        assert got.writes_bytes["rf_o"] == 2 * lay.macs
        assert got.reads_bytes["rf_o"] == 2 * lay.macs + 2 * lay.output_elems * rows, (c, r)


def test_systolic_drains_and_holds_over_several_passes():
    """A 4-weight file per PE: a 3x3 layer of 16 channels (K = 144) takes two passes on 32 rows
    (72 of K each, balanced), draining 32 rows per output each; each PE cycles through its
    weights, so the file is read per MAC. With a weight file and no output register
    (SCALE-Sim's fold: one weight per PE per fold) the weight stays at the multiplier."""
    base = systolic_hw(32, 32, "ws", sram=1 << 20)
    rf_w = level("rf_w", MemoryType.REGFILE, 4, (Operand.WEIGHTS,), True, 1024)
    rf_o = level("rf_o", MemoryType.REGFILE, 2, (Operand.OUTPUTS,), True, 1024)
    lay = conv("c", 16, 32, 14, 3)
    got = map_layer(lay, Hardware("h", "npu", 28, 1e9, base.compute, (*base.memory, rf_w, rf_o)))
    assert got.reads_bytes["rf_o"] == 2 * lay.macs + 2 * lay.output_elems * (32 + 32)
    assert got.reads_bytes["rf_w"] == lay.macs
    only_w = map_layer(lay, Hardware("h", "npu", 28, 1e9, base.compute, (*base.memory, rf_w)))
    assert only_w.reads_bytes["rf_w"] == only_w.writes_bytes["rf_w"] < lay.macs


def test_single_buffered_levels_give_a_tile_all_of_their_share():
    """The tiler's capacities: half of a buffer of one operand, half and a quarter of a shared
    one (the rest double-buffers the next tile); on a level that is not double-buffered
    (ZigZag's tiles), all of it for one operand and half each for two."""
    from edgesim.mapping.tiling import capacities

    own = level("own", MemoryType.SRAM, 1024, (Operand.INPUTS,))
    shared = level("shared", MemoryType.SRAM, 1024, (Operand.INPUTS, Operand.WEIGHTS))
    assert capacities({Operand.INPUTS: own}) == {Operand.INPUTS: (512, 512)}
    assert capacities({Operand.INPUTS: replace(own, double_buffered=False)}) == {
        Operand.INPUTS: (1024, 1024)}
    both = {Operand.INPUTS: shared, Operand.WEIGHTS: shared}
    assert set(capacities(both).values()) == {(512, 256)}
    single = replace(shared, double_buffered=False)
    assert set(capacities({Operand.INPUTS: single, Operand.WEIGHTS: single}).values()) == {
        (512, 512)}
