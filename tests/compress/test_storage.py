"""storage: exact bit counts on hand-computable tensors, and Deep Compression's pipeline."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from edgesim.compress import prune_unstructured, quantize, share_weights, storage
from edgesim.compress.storage import huffman_bits, huffman_code_lengths, kmeans_1d
from edgesim.errors import CompressError
from tests.compress.conftest import assert_same_state, state_copy


def _row(values: list[float]) -> nn.Linear:
    lin = nn.Linear(len(values), 1, bias=False)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([values]))
    return lin


SPARSE = [0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 5]  # nonzeros at 2 and 11


def test_dense_any_bit_width() -> None:
    conv = nn.Conv2d(2, 3, 3)  # 54 weights
    assert storage(conv, weight_bits=4).total_bytes == 27  # 54 * 4 bits
    assert storage(conv, weight_bits=3).total_bytes == 21  # 162 bits -> 20.25 -> 21 bytes
    assert storage(conv).total_bytes == 216  # fp32 by default
    assert storage(quantize(conv, 4, 8)).total_bytes == 27  # the quantized precision is read
    assert storage(conv, include_bias=True).total_bytes == 216 + 3 * 4


def test_csr_relative_index_with_padding_zeros() -> None:
    """2-bit relative indices reach a gap of 4: the gap of 9 before position 11 needs filler zeros
    at positions 6 and 10 (Han et al. 2016, fig. 2). Stored: 2 values + 2 fillers."""
    rep = storage(_row(SPARSE), fmt="csr", weight_bits=8, fc_index_bits=2)
    layer = rep.layers[""]
    assert (layer.nonzeros, layer.padding_zeros, layer.stored_values) == (2, 2, 4)
    assert (layer.data_bits, layer.index_bits, layer.codebook_bits) == (32, 8, 0)
    assert rep.total_bytes == 5 and rep.by_layer == {"": 5}
    # with 4-bit indices (gap up to 16) no filler is needed: 2 x (8 + 4) bits = 3 bytes
    assert storage(_row(SPARSE), fmt="csr", weight_bits=8, fc_index_bits=4).total_bytes == 3


def test_bitmap() -> None:
    rep = storage(_row(SPARSE), fmt="bitmap", weight_bits=8)
    assert rep.layers[""].total_bits == 12 + 2 * 8  # one bit per weight plus two values


def test_default_index_bits_are_deep_compressions() -> None:
    conv = nn.Conv2d(1, 1, (1, 300), bias=False)
    fc = _row([0.0] * 299 + [1.0])
    with torch.no_grad():
        conv.weight.zero_()
        conv.weight[0, 0, 0, 299] = 1.0
    # conv: 8-bit index, gap 300 -> one filler at 256; fc: 5-bit, gap 300 -> 9 fillers (32 each)
    assert storage(conv, fmt="csr", weight_bits=8).layers[""].padding_zeros == 1
    assert storage(fc, fmt="csr", weight_bits=8).layers[""].padding_zeros == 9


def test_weight_sharing_and_huffman_dense() -> None:
    """[0,0,1,1,1,10], 1-bit sharing: centroids start at {0, 10}; clusters {0,0,1,1,1} and {10}."""
    lin = _row([0, 0, 1, 1, 1, 10])
    shared = storage(lin, share_bits=1).layers[""]
    assert (shared.data_bits, shared.codebook_bits) == (6, 64)  # 6 x 1 bit; 2 x 32-bit entries
    coded = storage(lin, share_bits=1, huffman=True).layers[""]
    # histogram (5, 1): both codes 1 bit -> 6 bits, plus a 2-symbol table of 8-bit lengths
    assert (coded.data_bits, coded.codebook_bits) == (6, 64 + 16)
    assert storage(lin, share_bits=1, huffman=True).total_bytes == 11  # 86 bits


def test_csr_sharing_huffman_exact() -> None:
    """Hand count: nonzeros {3, 5} share 3 values (symbol 0 reserved for fillers): symbols
    {1, 3}; value histogram (2, 1, 0, 1) -> Huffman 2x1 + 1x2 + 1x2 = 6 bits; relative-index
    symbols: gap 3 -> 2, gap 9 -> 0 after fillers 3, 3: histogram (1, 0, 1, 2) -> 6 bits."""
    plain = storage(_row(SPARSE), fmt="csr", share_bits=2, fc_index_bits=2).layers[""]
    assert (plain.data_bits, plain.index_bits, plain.codebook_bits) == (8, 8, 128)
    coded = storage(_row(SPARSE), fmt="csr", share_bits=2, huffman=True, fc_index_bits=2)
    layer = coded.layers[""]
    assert layer.data_bits == 6
    assert layer.index_bits == 6 + 4 * 8
    assert layer.codebook_bits == 4 * 32 + 4 * 8
    assert coded.total_bytes == 26  # 204 bits


def test_huffman_textbook_example() -> None:
    # CLRS 16.3: frequencies a..f = 45, 13, 12, 16, 9, 5 -> 224 bits (in thousands)
    freqs = [45, 13, 12, 16, 9, 5]
    assert huffman_bits(freqs) == 224
    assert huffman_code_lengths(freqs) == [1, 3, 3, 3, 4, 4]
    assert huffman_code_lengths([0, 7, 0]) == [0, 1, 0]


def test_kmeans_linear_init_is_deterministic() -> None:
    values = np.array([0.0, 0.1, 0.2, 5.0, 5.2, 9.9, 10.0])
    cents, assign = kmeans_1d(values, 3)
    assert cents.tolist() == pytest.approx([0.1, 5.1, 9.95])
    assert assign.tolist() == [0, 0, 0, 1, 1, 2, 2]
    again = kmeans_1d(values, 3)
    assert np.array_equal(again[0], cents) and np.array_equal(again[1], assign)


def _lenet_300_100() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 300), nn.ReLU(), nn.Linear(300, 100),
                         nn.ReLU(), nn.Linear(100, 10))


def test_deep_compression_pipeline_structure() -> None:
    """Han et al. 2016, table 1: LeNet-300-100 pruned to 8 % of its weights, 6-bit shared weights,
    Huffman-coded: 1070 KB -> 27 KB (40x). Each stage must shrink the model and the end ratio be
    in the tens (our weights are random, so the Huffman gain is smaller than on trained ones)."""
    model = _lenet_300_100()
    before = state_copy(model)
    dense = storage(model)
    assert dense.total_bytes == (784 * 300 + 300 * 100 + 100 * 10) * 4  # 1066.4 KB
    pruned = prune_unstructured(model, amount=0.92)
    csr = storage(pruned, fmt="csr")
    shared = storage(pruned, fmt="csr", share_bits=6)
    coded = storage(pruned, fmt="csr", share_bits=6, huffman=True)
    assert_same_state(model, before)
    assert dense.total_bytes > csr.total_bytes > shared.total_bytes > coded.total_bytes
    assert 20 <= coded.compression_ratio <= 80
    assert coded.dense_fp32_bytes == dense.total_bytes
    # pruning alone with 32-bit values and 5-bit indices gives about 1 / (0.08 x 37/32) ~ 10x
    assert 8 <= csr.compression_ratio <= 12
    assert set(coded.by_layer) == {"1", "3", "5"}
    assert sum(coded.by_layer.values()) == coded.total_bytes


def test_share_weights_uses_2_pow_b_values() -> None:
    pruned = prune_unstructured(_lenet_300_100(), amount=0.9)
    shared = share_weights(pruned, 4)
    for name in ("1", "3", "5"):
        w = shared.get_submodule(name).weight
        assert torch.unique(w[w != 0]).numel() <= 15  # 2^4 - 1 for the nonzeros
        assert torch.equal(w == 0, pruned.get_submodule(name).weight == 0)


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"fmt": "coo"}, "fmt"), ({"share_bits": 0}, "share_bits"), ({"weight_bits": 40},
                                                                   "weight_bits"),
    ({"fc_index_bits": 0}, "fc_index_bits"), ({"huffman": 1}, "huffman"),
])
def test_bad_arguments(kwargs: dict, field: str) -> None:
    with pytest.raises(CompressError) as info:
        storage(_row([1.0, 2.0]), **kwargs)
    assert info.value.field == field


@pytest.mark.parametrize(("amount", "index_bits"), [(0.9, 4), (0.9, 6), (0.6, 4), (0.0, 4)])
def test_one_stored_bytes_definition(amount: float, index_bits: int) -> None:
    """A result's ``weight_bytes`` (the chip's stored form: cheapest of dense, bitmap and CSR
    with the spec's ``sparse_index_bits``, expected over random zeros) is what ``storage``
    counts exactly on the same weights in that form, within 2%."""
    import edgesim as es

    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(32, 64, 3, bias=False), nn.ReLU(), nn.Flatten(),
                          nn.Linear(64 * 6 * 6, 100, bias=False)).eval()
    inputs = (torch.randn(1, 32, 8, 8),)
    pruned = prune_unstructured(model, amount=amount) if amount else model
    hw = es.load_hardware("edge-npu", {"sparse_index_bits": index_bits})
    got = es.simulate(es.trace(pruned, inputs), hw).weight_bytes
    reps = [storage(pruned, fmt=fmt, weight_bits=8, conv_index_bits=index_bits,
                    fc_index_bits=index_bits).by_layer for fmt in ("dense", "csr", "bitmap")]
    exact = sum(min(rep[name] for rep in reps) for name in reps[0])  # per layer, as the chip
    assert got == pytest.approx(exact, rel=0.02)
    if amount == 0.9:  # and the spec's index width matters (fillers at 4 bits, wider entries at 6)
        other = es.load_hardware("edge-npu", {"sparse_index_bits": 10 - index_bits})
        assert es.simulate(es.trace(pruned, inputs), other).weight_bytes != got
