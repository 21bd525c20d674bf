"""Shared weights and Huffman coding shrink DRAM traffic only on a chip that decodes them
(``weight_decoder``): the coded form is what it stores in DRAM and fetches, its buffers hold the
decoded weights, and each decoded weight costs the decoder's energy."""

from __future__ import annotations

import dataclasses
import math

import pytest

from edgesim.cost.energy import DECODER, layer_dynamic_energy_j
from edgesim.errors import WorkloadError
from edgesim.hardware.model import Hardware, WeightDecoder
from edgesim.mapping import map_layer, map_workload
from edgesim.mapping.storage import coded_value_bits, weight_storage_bits
from edgesim.workload.ir import Workload
from tests.mapping.hwfactory import conv, systolic_hw


def _decoding(hw: Hardware, decoder: WeightDecoder, pj: float = 0.5) -> Hardware:
    return dataclasses.replace(hw, weight_decoder=decoder, decoder_energy_pj=pj)


def _shared(values: int = 15, code_bits: float = 0.0, sparsity: float = 0.0):
    return conv("c", 64, 64, 16, 3, 1, 1, shared_weights=values, weight_code_bits=code_bits,
                weight_sparsity=sparsity)


def test_coded_widths() -> None:
    plain = _shared(0)
    assert coded_value_bits(plain, 8, WeightDecoder.HUFFMAN) == (8.0, 0)  # nothing shared
    dense = _shared(16)
    assert coded_value_bits(dense, 8, WeightDecoder.NONE) == (8.0, 0)  # the chip cannot decode
    assert coded_value_bits(dense, 8, WeightDecoder.CODEBOOK) == (4.0, 16 * 8)
    sparse = _shared(15, 2.5, sparsity=0.5)  # 15 values and a zero: 4-bit indices
    assert coded_value_bits(sparse, 8, WeightDecoder.CODEBOOK) == (4.0, 15 * 8)
    assert coded_value_bits(sparse, 8, WeightDecoder.HUFFMAN) == (2.5, 15 * 8 + 8 * 16)
    n = dense.params
    assert weight_storage_bits(dense, 8) == n * 8
    assert weight_storage_bits(dense, 8, decoder=WeightDecoder.CODEBOOK) == n * 4 + 16 * 8


@pytest.mark.parametrize("decoder", [WeightDecoder.CODEBOOK, WeightDecoder.HUFFMAN])
def test_a_decoder_shrinks_dram_weight_reads_only(decoder: WeightDecoder) -> None:
    layer = _shared(15, 2.5, sparsity=0.5)
    base = systolic_hw(sram=1 << 20)
    plain, coded = map_layer(layer, base), map_layer(layer, _decoding(base, decoder))
    ratio = (weight_storage_bits(layer, 8, base.sparse_index_bits, decoder)
             / weight_storage_bits(layer, 8, base.sparse_index_bits))
    assert ratio < 0.7
    w_plain = plain.dram_read_bytes - plain.dram_act_read_bytes
    w_coded = coded.dram_read_bytes - coded.dram_act_read_bytes
    assert w_coded == math.ceil(w_plain * ratio)
    # the buffers hold decoded weights: on-chip traffic is the plain chip's
    for name in ("filter_buf", "ifmap_buf", "ofmap_buf"):
        assert coded.reads_bytes[name] == plain.reads_bytes[name]
        assert coded.writes_bytes[name] == plain.writes_bytes[name]
    # every kept weight fetched is decoded once: a lookup, after a Huffman decode if coded so
    assert coded.decoded_weights == math.ceil(layer.weight_elems * 0.5)
    assert coded.decoder_steps == coded.decoded_weights * (
        2 if decoder == WeightDecoder.HUFFMAN else 1)
    assert plain.decoded_weights == plain.decoder_steps == 0


def test_a_coded_form_larger_than_the_plain_one_is_not_used() -> None:
    """A small layer whose codebook and Huffman table outweigh what the indices save is stored
    and fetched plain, and nothing is decoded."""
    small = conv("c", 3, 4, 6, 3, shared_weights=99, weight_code_bits=6.5, weight_sparsity=0.3)
    base = systolic_hw(sram=1 << 20)
    plain = weight_storage_bits(small, 8, 4)
    for decoder in (WeightDecoder.CODEBOOK, WeightDecoder.HUFFMAN):
        assert weight_storage_bits(small, 8, 4, decoder) == plain
        counts = map_layer(small, _decoding(base, decoder))
        assert counts.decoded_weights == 0
        assert counts.dram_read_bytes == map_layer(small, base).dram_read_bytes


def test_unshared_weights_and_chips_without_a_decoder_are_unchanged() -> None:
    base = systolic_hw(sram=1 << 20)
    unshared = conv("c", 64, 64, 16, 3, 1, 1)
    assert map_layer(unshared, _decoding(base, WeightDecoder.HUFFMAN)) == map_layer(unshared, base)
    shared = _shared(15)
    plain = map_layer(unshared, base)
    assert dataclasses.replace(map_layer(shared, base), layer="c") == plain


def test_the_chip_stores_the_coded_form_and_pays_the_decoder() -> None:
    import edgesim as es

    wl = Workload("w", (_shared(15, 2.5, sparsity=0.5),))
    base = es.load_hardware("sparse-npu")
    hw = es.load_hardware("sparse-npu", {"weight_decoder": "huffman", "decoder_energy": "0.5 pJ"})
    plain, coded = es.simulate(wl, base), es.simulate(wl, hw)
    assert coded.weight_bytes < plain.weight_bytes
    assert coded.dram_read_bytes < plain.dram_read_bytes
    counts = map_workload(wl, hw).layers[0]
    assert counts.decoder_steps == 2 * counts.decoded_weights > 0  # Huffman decode + lookup
    assert layer_dynamic_energy_j(counts, hw)[DECODER] == pytest.approx(
        counts.decoder_steps * 0.5e-12)
    assert coded.energy_breakdown_j[DECODER] == pytest.approx(counts.decoder_steps * 0.5e-12)
    assert "static" in coded.energy_breakdown_j and DECODER not in plain.energy_breakdown_j
    assert "decoder" in coded.energy_sources


def test_sharing_needs_weights_and_valid_widths() -> None:
    with pytest.raises(WorkloadError, match="weight_code_bits"):
        conv("c", 4, 4, 8, 3, weight_code_bits=3.0)  # Huffman codes of nothing shared
    with pytest.raises(WorkloadError, match="shared_weights"):
        conv("c", 4, 4, 8, 3, shared_weights=-1)
