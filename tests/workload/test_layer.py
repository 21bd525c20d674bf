"""Layer transforms keep a layer's shared-weight marks true (``workload.layer.with_weights``)."""

from __future__ import annotations

import dataclasses

from edgesim.vocab import OpKind, Precision
from edgesim.workload.layer import Layer, with_weights


def _conv(shared: int = 0, code_bits: float = 0.0, sparsity: float = 0.0) -> Layer:
    return Layer(name="c", op=OpKind.CONV2D, inputs=(), in_shapes=((1, 16, 8, 8),), out_shape=(1, 16, 8, 8),
                 kernel=(3, 3), padding=(1, 1), weight_shape=(16, 16, 3, 3),
                 weight_precision=Precision.INT8, weight_sparsity=sparsity,
                 shared_weights=shared, weight_code_bits=code_bits)


def test_a_layer_without_shared_weights_is_a_plain_replace() -> None:
    layer = _conv()
    assert with_weights(layer, weight_precision=Precision.INT4, sparsity=0.5) == \
        dataclasses.replace(layer, weight_precision=Precision.INT4, weight_sparsity=0.5)


def test_requantizing_bounds_the_shared_values_by_the_new_width() -> None:
    layer = _conv(shared=200, code_bits=6.5, sparsity=0.5)
    int4 = with_weights(layer, weight_precision=Precision.INT4)
    assert int4.shared_weights == 15  # 16 codes, one kept for zero in a layer with zeros
    assert int4.weight_code_bits == 0.0  # the Huffman width was measured on 200 values
    same = with_weights(layer, weight_precision=Precision.INT16)  # 200 values still fit
    assert (same.shared_weights, same.weight_code_bits) == (200, 6.5)
    fp16 = with_weights(layer, weight_precision=Precision.FP16)  # a float keeps them
    assert fp16.shared_weights == 200


def test_pruning_bounds_the_shared_values_by_the_weights_kept() -> None:
    layer = _conv(shared=200, code_bits=6.5)  # 2304 weights
    pruned = with_weights(layer, sparsity=0.95)  # 115 kept (round(2304 * 0.95) = 2189 zeros)
    assert pruned.shared_weights == 2304 - 2189 == 115
    assert pruned.weight_code_bits == 0.0
