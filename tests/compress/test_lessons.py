"""The lesson of the compression issue (section 6), on one model traced with es.trace:
zeros shrink storage and traffic but not cycles unless the unit skips them; pruned channels
cut latency everywhere; int8 costs less energy than fp16."""

from __future__ import annotations

from typing import Any

import pytest

import edgesim as es
from edgesim.compress import prune_channels, prune_unstructured, quantize, storage


@pytest.fixture(scope="module")
def variants() -> dict[str, Any]:
    module, inputs = es.zoo.get("resnet18")
    module.eval()
    sparse = prune_unstructured(module, amount=0.9)
    pruned = prune_channels(module, inputs, ratio=0.5)
    return {
        "module": module, "sparse_module": sparse,
        "dense": es.trace(module, inputs, name="resnet18"),
        "sparse": es.trace(sparse, inputs, name="resnet18-sparse90"),
        "pruned": es.trace(pruned, inputs, name="resnet18-pruned50"),
        "int8": es.trace(quantize(module, 8, 8), inputs, name="resnet18-int8"),
        "fp16": es.trace(quantize(module, "fp16", "fp16"), inputs, name="resnet18-fp16"),
    }


def _cycles(res: Any) -> int:
    return sum(layer.compute_cycles for layer in res.layers)


def _dram(res: Any) -> int:
    return int(res.dram_read_bytes + res.dram_write_bytes)


def test_trace_reads_the_compression(variants: dict[str, Any]) -> None:
    convs = [lay for lay in variants["sparse"].layers if lay.weight_shape]
    assert all(lay.weight_sparsity == pytest.approx(0.9, abs=1e-3) for lay in convs)
    assert variants["pruned"].macs < 0.35 * variants["dense"].macs
    assert {lay.weight_precision for lay in variants["int8"].layers if lay.weight_shape} == {"int8"}


def test_unstructured_sparsity_on_a_dense_array(variants: dict[str, Any]) -> None:
    hw = es.load_hardware("edge-npu")
    dense, sparse = es.simulate(variants["dense"], hw), es.simulate(variants["sparse"], hw)
    # Latency barely moves: only weight-bound layers gain, from moving compressed weights
    # (measured: -1.1% with activations kept on chip).
    assert 0.95 * dense.latency_s <= sparse.latency_s <= dense.latency_s
    # The array computes the zeros: every layer that runs on the same unit takes the same
    # cycles. (The classifier, whose compressed weights now arrive faster than the array can
    # use them, moves to the vector unit: placement picks the faster pass.)
    same = [(a, b) for a, b in zip(dense.layers, sparse.layers, strict=True) if a.unit == b.unit]
    assert len(same) >= len(dense.layers) - 1
    assert all(a.compute_cycles == b.compute_cycles for a, b in same)
    assert _dram(sparse) < 0.8 * _dram(dense)  # compressed weights move less
    dense_store = storage(variants["module"], fmt="dense", weight_bits=8).total_bytes
    sparse_store = storage(variants["sparse_module"], fmt="csr", weight_bits=8).total_bytes
    assert sparse_store < 0.25 * dense_store  # 10 % of values + 8-bit indices (+ fillers)


def test_unstructured_sparsity_on_a_zero_skipping_array(variants: dict[str, Any]) -> None:
    hw = es.load_hardware("sparse-npu")
    dense, sparse = es.simulate(variants["dense"], hw), es.simulate(variants["sparse"], hw)
    assert _cycles(sparse) < 0.5 * _cycles(dense)
    assert sparse.latency_s < dense.latency_s


@pytest.mark.parametrize("spec", ["edge-npu", "eyeriss", "davinci-npu", "cortex-a76"])
def test_channel_pruning_cuts_latency_on_every_unit_type(variants: dict[str, Any],
                                                         spec: str) -> None:
    hw = es.load_hardware(spec)
    dense, pruned = es.simulate(variants["dense"], hw), es.simulate(variants["pruned"], hw)
    assert pruned.latency_s < 0.8 * dense.latency_s
    assert _cycles(pruned) < _cycles(dense)


@pytest.mark.parametrize("spec", ["davinci-npu", "jetson-nano"])
def test_int8_costs_less_energy_than_fp16(variants: dict[str, Any], spec: str) -> None:
    hw = es.load_hardware(spec)
    int8, fp16 = es.simulate(variants["int8"], hw), es.simulate(variants["fp16"], hw)
    assert int8.energy_j < 0.9 * fp16.energy_j


def test_unit_types_are_the_ones_named() -> None:
    """The four specs above really cover systolic, spatial, cube and SIMD units."""
    types = {spec: {u.type.value if hasattr(u.type, "value") else str(u.type)
                    for u in es.load_hardware(spec).compute}
             for spec in ("edge-npu", "eyeriss", "davinci-npu", "cortex-a76")}
    assert "systolic" in types["edge-npu"] and "spatial" in types["eyeriss"]
    assert "cube" in types["davinci-npu"] and "simd" in types["cortex-a76"]
