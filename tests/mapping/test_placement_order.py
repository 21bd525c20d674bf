"""Placement: the first unit in spec order that can run a layer (the fallback unit last); in a
workload, a GEMM layer goes to the capable unit whose pass ends first."""

from __future__ import annotations

from dataclasses import replace

import pytest

import edgesim as es
from edgesim.mapping import map_workload


def test_adder_npu_places_each_op_on_the_unit_built_for_it() -> None:
    module, inputs = es.zoo.get("resnet18")
    wl = es.trace(es.compress.to_addernet(module), inputs, name="r18-adder")
    sched = map_workload(wl, es.load_hardware("adder-npu"))
    units = {(lc.op.value, lc.unit) for lc in sched.layers}
    assert ("adder_conv2d", "pe_array") in units
    assert ("conv2d", "mac_array") in units  # the multiplicative first conv
    # The batch-1 classifier is a matrix-vector product: the 64-lane vector unit ends it before
    # the 16x16 MAC array (one row of 16 busy); placement picks the faster.
    assert ("linear", "vector") in units and ("linear", "mac_array") not in units
    assert ("batchnorm", "vector") in units  # cannot fold into |x - w|: the fallback runs it
    assert not any(u == "pe_array" and op != "adder_conv2d" for op, u in units)


def test_adder_layers_fall_back_to_programmable_units_at_half_rate() -> None:
    from edgesim.mapping import map_layer
    from edgesim.vocab import OpKind

    wl = es.load_workload("addernet_resnet20")
    # a MAC-only NPU sends adder layers to its SIMD vector unit; a CPU emulates them
    sched = map_workload(wl, es.load_hardware("edge-npu"))
    assert {lc.unit for lc in sched.layers if lc.op == OpKind.ADDER_CONV2D} == {"vector"}
    cpu = es.load_hardware("cortex-a76")
    adder = next(lay for lay in wl.layers if lay.op == OpKind.ADDER_CONV2D)
    as_mac = replace(adder, op=OpKind.CONV2D)
    a, m = map_layer(adder, cpu), map_layer(as_mac, cpu)
    overhead = cpu.main_unit.layer_overhead_cycles
    assert a.compute_cycles - overhead == pytest.approx(2 * (m.compute_cycles - overhead), rel=0.01)
    assert a.ops == {"adder": m.ops["mac"]}


def test_gemm_layers_go_to_the_unit_whose_pass_ends_first() -> None:
    """edge-npu's vector unit can run any op: a depthwise conv (K = 9 rows of a 64x64 array, one
    column busy) is faster there; pointwise convs keep the array."""
    from edgesim.hardware import load_hardware
    from edgesim.mapping import map_layer
    from edgesim.mapping.schedule import choose_unit
    from edgesim.workload import load_workload

    hw = load_hardware("edge-npu")
    wl = load_workload("mobilenet_v2")
    sched = map_workload(wl, hw)
    by = {lc.layer: lc for lc in sched.layers}
    dw = [lay for lay in wl.layers if lay.groups > 1]
    pw = [lay for lay in wl.layers if lay.weight_shape and lay.groups == 1 and lay.kernel == (1, 1)]
    assert dw and all(by[lay.name].unit == "vector" for lay in dw)
    assert pw and all(by[lay.name].unit == "pe_array" for lay in pw)
    layer = dw[0]
    on_array, alone = map_layer(layer, hw, hw.unit("pe_array")), map_layer(layer, hw)
    assert alone.unit == "pe_array"  # alone, map_layer keeps the first capable unit
    assert choose_unit(layer, hw).name == "vector"
    assert map_layer(layer, hw, hw.unit("vector")).compute_cycles < on_array.compute_cycles


def test_the_unit_choice_times_dram_on_a_channel_per_operand_where_the_chip_has_them() -> None:
    """One pass moves 300 B of each operand, the other 600 B of inputs alone: on one channel
    the second moves less; on a channel per operand the first's busiest channel moves less."""
    from edgesim.mapping.schedule import UnitEstimate, fastest

    spread = UnitEstimate("a", 1000, 900, 1, (300, 300, 300))
    inputs = UnitEstimate("b", 1200, 600, 1, (600, 0, 0))
    assert fastest([spread, inputs], clock_hz=1.0, dram_bw_bytes_per_s=1.0) == "b"
    assert fastest([spread, inputs], 1.0, 1.0, per_operand=True) == "a"
