"""compressed_variants: the demo's five versions of one model, each traceable."""

from __future__ import annotations

import torch
from torch import nn

import edgesim as es
from edgesim.compress import AdderConv2d, QuantConv2d, compressed_variants, storage, zero_fraction
from tests.compress.conftest import assert_same_state, state_copy


def test_variants_of_a_zoo_model() -> None:
    module, inputs = es.zoo.get("lenet5")
    module.eval()
    before = state_copy(module)
    variants = compressed_variants(module, inputs)
    assert_same_state(module, before)
    assert list(variants) == ["dense", "channel_pruned_50", "sparse_90", "int8", "addernet"]
    with torch.no_grad():
        ref = module(*inputs)
        for name, model in variants.items():
            assert model(*inputs).shape == ref.shape, name
    assert zero_fraction(variants["sparse_90"]) > 0.89
    assert any(isinstance(m, QuantConv2d) for m in variants["int8"].modules())
    assert any(isinstance(m, AdderConv2d) for m in variants["addernet"].modules())
    params = {n: sum(p.numel() for p in m.parameters()) for n, m in variants.items()}
    assert params["channel_pruned_50"] < 0.4 * params["dense"]
    deep = storage(variants["sparse_90"], fmt="csr", share_bits=5, huffman=True)
    assert deep.compression_ratio > 10
    for name, model in variants.items():
        wl = es.trace(model, inputs, name=f"lenet5-{name}")
        assert wl.layers, name
    adder_wl = es.trace(variants["addernet"], inputs, name="adder")
    assert adder_wl.adds > 0 and adder_wl.macs < es.trace(module, inputs, name="d").macs
    assert isinstance(variants["dense"], nn.Module) and variants["dense"] is not module
