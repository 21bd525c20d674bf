"""SimResult.weight_bytes is the storage the chip holds: precision- and sparsity-aware."""

from __future__ import annotations

from dataclasses import replace

import pytest

import edgesim as es
from edgesim.vocab import WEIGHTED_OPS


def test_weight_bytes_follow_precision_and_sparsity() -> None:
    wl = es.load_workload("resnet18")
    hw = es.load_hardware("edge-npu")
    dense = es.simulate(wl, hw)
    assert dense.weight_bytes == wl.params  # int8 native: one byte per weight or bias
    sparse = wl.with_layers([replace(lay, weight_sparsity=0.9) if lay.op in WEIGHTED_OPS else lay
                             for lay in wl.layers])
    s = es.simulate(sparse, hw)
    # 10% of the weights kept, each with a 4-bit CSR index or a 1-bit bitmap entry: ~0.2x dense
    assert 0.15 * dense.weight_bytes < s.weight_bytes < 0.25 * dense.weight_bytes
    int4 = wl.with_layers([replace(lay, weight_precision="int4") for lay in wl.layers])
    assert es.simulate(int4, hw).weight_bytes == pytest.approx(dense.weight_bytes / 2, abs=64)


def test_capacity_warnings_say_what_does_not_fit() -> None:
    mcu = es.load_hardware("cortex-m7")
    big = es.simulate(es.load_workload("resnet18"), mcu)
    assert any("do not fit in flash" in w for w in big.warnings)
    assert any("exceed the largest SRAM" in w for w in big.warnings)
    assert big.to_dict()["warnings"] == list(big.warnings)
    assert es.simulate(es.load_workload("lenet5"), mcu).warnings == ()
    assert es.simulate(es.load_workload("resnet18"), es.load_hardware("edge-npu")).warnings == ()
