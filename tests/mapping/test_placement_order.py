"""Placement: the first unit in spec order that can run a layer, the fallback unit last."""

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
    assert ("linear", "mac_array") in units  # and the classifier
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
