"""Placement: the first unit in spec order that can run a layer, the fallback unit last."""

from __future__ import annotations

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
