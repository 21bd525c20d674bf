"""How operands are stored: weights in the cheapest sparse format, coded activations, partial sums.

* Operand sizes at the layer's bit-widths; weights (and biases: a folded BatchNorm is a bias) as
  the chip stores them: the smaller of dense, CSR with relative indices of the spec's
  ``sparse_index_bits`` (4 by default, with the filler entries a longer gap needs), and a
  1-bit-per-weight bitmap, or N:M values plus ``ceil(log2 M)`` bits of metadata per kept weight;
  never above dense. This is the one definition of stored weight bytes: the traffic and a
  result's ``weight_bytes`` use it, and ``compress.storage`` counts the same forms exactly
  (equal within 2% at the same index width, ``tests/compress/test_storage.py``).
* Compressed activations: a home level with ``compression: rlc`` (Eyeriss) stores activations
  run-length coded (``rlc_ratio``); only the bytes crossing to and from that level shrink or grow,
  buffers hold them decoded. Weights and partial-sum spills are never coded.
* Partial sums are held at accumulator width (``psum_bits``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from edgesim.hardware.model import WeightDecoder
from edgesim.vocab import OpKind, parse_nm
from edgesim.workload.layer import SHARES_WEIGHTS, Layer

CSR_INDEX_BITS = 4  # the default relative-index width (a spec's sparse_index_bits)
RLC_WORD_BITS = 64  # Eyeriss (JSSC 2017): 64-bit words of three (5-bit run, 16-bit level) pairs
RLC_RUN_BITS = 5


def rlc_ratio(zero_fraction: float, bits: int) -> float:
    """Coded / raw size of a tensor of ``bits``-bit values run-length coded as Eyeriss does.

    A word holds ``floor((64 - 1) / (5 + bits))`` (run, level) pairs plus a last-word flag (three
    pairs at 16 bits). Each nonzero value takes a pair (the run of zeros before it, up to 31, and
    its level); a longer run of zeros spends an extra pair (31 zeros and a zero level) per 32
    zeros. With zeros spread at random (fraction z) the expected pairs per value are
    ``(1 - z) / (1 - z**32)``. Dense data grow (64/48 at 16 bits); sparse data shrink.
    """
    z = min(max(zero_fraction, 0.0), 1.0)
    pairs_per_word = max(1, (RLC_WORD_BITS - 1) // (RLC_RUN_BITS + bits))
    pairs = 1.0 / 32 if z >= 1.0 else (1.0 - z) / (1.0 - z ** 32)
    return pairs * RLC_WORD_BITS / pairs_per_word / bits


def psum_bits(act_bits: int, declared: int | None = None) -> int:
    """Partial-sum width: a unit's declared ``psum_bits``, else 32-bit accumulators (wider
    activations keep their width either way)."""
    return max(declared if declared is not None else 32, act_bits)


def coded_value_bits(layer: Layer, weight_bits: int, decoder: WeightDecoder
                     ) -> tuple[float, int]:
    """(bits per stored value, codebook and table bits) as a chip with ``decoder`` reads the
    layer's weights: its shared-weight indices (``ceil(log2(values + 1))`` bits with a zero
    code when the layer has zeros), Huffman-coded to their mean width where the chip decodes
    Huffman; the values themselves otherwise."""
    if decoder == WeightDecoder.NONE or not layer.shared_weights:
        return float(weight_bits), 0
    values = layer.shared_weights + (1 if layer.weight_sparsity > 0 else 0)
    index = max(1, math.ceil(math.log2(values)))
    table = layer.shared_weights * weight_bits  # the codebook
    if decoder == WeightDecoder.HUFFMAN and layer.weight_code_bits:
        return float(layer.weight_code_bits), table + HUFFMAN_TABLE_BITS * values
    return float(index), table


HUFFMAN_TABLE_BITS = 8  # a canonical Huffman table: one 8-bit code length per symbol


def weight_storage_bits(layer: Layer, weight_bits: int, index_bits: int = CSR_INDEX_BITS,
                        decoder: WeightDecoder = WeightDecoder.NONE) -> int:
    """Bits needed to store a layer's parameters in the cheapest sensible format (never > dense);
    ``index_bits``: the CSR relative-index width (the spec's ``sparse_index_bits``); ``decoder``:
    the coded form the chip reads (``coded_value_bits``: shared-weight indices, Huffman)."""
    n = layer.params
    if n == 0:
        return 0
    value, table = coded_value_bits(layer, weight_bits, decoder)
    if table:  # a coded form is stored only where it is smaller than the plain one
        return min(weight_storage_bits(layer, weight_bits, index_bits),
                   _stored_bits(layer, n, weight_bits, index_bits, value, table))
    return _stored_bits(layer, n, weight_bits, index_bits, value, table)


def _stored_bits(layer: Layer, n: int, weight_bits: int, index_bits: int, value: float,
                 table: int) -> int:
    """The cheapest format's bits for ``value`` bits per stored weight (plus ``table`` bits)."""
    dense = n * weight_bits
    nm = parse_nm(layer.sparsity_pattern)
    if nm is not None:
        keep_n, block_m = nm
        kept = math.ceil(n * keep_n / block_m)
        meta = max(1, math.ceil(math.log2(block_m)))
        return min(dense, math.ceil(kept * (value + meta)) + table)
    s = layer.weight_sparsity
    if s <= 0.0:
        return min(dense, math.ceil(n * value) + table)
    nnz = math.ceil(n * (1.0 - s))
    bitmap = math.ceil(n + nnz * value)
    # CSR with relative b-bit indices: a gap longer than 2^b needs a filler entry per 2^b
    # positions. For zeros spread at random (density d) the expected fillers per nonzero are
    # q / (1 - q) with q = (1 - d) ** (2^b) (sum over k >= 1 of P(gap > k 2^b)).
    density = max(1.0 - s, 1e-12)
    q = (1.0 - density) ** (1 << index_bits)
    pads = math.ceil(nnz * q / (1.0 - q)) if q < 1.0 else n
    csr = math.ceil((nnz + pads) * (value + index_bits))
    return min(dense, min(bitmap, csr) + table)


@dataclass(frozen=True)
class Sizes:
    """Bytes of each operand of a layer (weights as stored) and of one partial-sum pass."""

    inputs_bytes: int
    weights_bytes: int
    outputs_bytes: int
    psums_bytes: int  # the outputs held at accumulator width


def layer_sizes(layer: Layer, weight_bits: int, act_bits: int,
                index_bits: int = CSR_INDEX_BITS, psum_width_bits: int | None = None) -> Sizes:
    """Operand bytes of ``layer``; a matmul's second operand is an activation (the 'weights');
    partial sums at ``psum_width_bits`` where the unit declares a width."""
    if layer.op == OpKind.MATMUL:
        a = math.prod(layer.in_shapes[0])
        b = math.prod(layer.in_shapes[1]) if len(layer.in_shapes) > 1 else 0
        return Sizes(math.ceil(a * act_bits / 8), math.ceil(b * act_bits / 8),
                     math.ceil(layer.output_elems * act_bits / 8),
                     math.ceil(layer.output_elems * psum_bits(act_bits, psum_width_bits) / 8))
    if layer.op == OpKind.EMBEDDING:  # a lookup reads the rows its ids name, not the table
        vocab, dim = layer.weight_shape
        rows = min(layer.input_elems, vocab)
        return Sizes(math.ceil(layer.input_elems * act_bits / 8),
                     math.ceil(rows * dim * weight_bits / 8),
                     math.ceil(layer.output_elems * act_bits / 8),
                     math.ceil(layer.output_elems * act_bits / 8))
    if layer.weights_from is not None:  # another layer stores them; this one reads them again
        layer = replace(layer, extra=tuple(kv for kv in layer.extra if kv[0] != SHARES_WEIGHTS))
    return Sizes(math.ceil(layer.input_elems * act_bits / 8),
                 math.ceil(weight_storage_bits(layer, weight_bits, index_bits) / 8),
                 math.ceil(layer.output_elems * act_bits / 8),
                 math.ceil(layer.output_elems * psum_bits(act_bits, psum_width_bits) / 8))
