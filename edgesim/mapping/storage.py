"""How operands are stored: weights in the cheapest sparse format, coded activations, partial sums.

* Operand sizes at the layer's bit-widths; weights as stored: the smaller of dense, CSR with 4-bit
  relative indices (with the padding entries a gap longer than 15 needs), and a 1-bit-per-weight
  bitmap, or N:M values plus ``ceil(log2 M)`` bits of metadata per kept weight; never above dense.
* Compressed activations: a home level with ``compression: rlc`` (Eyeriss) stores activations
  run-length coded (``rlc_ratio``); only the bytes crossing to and from that level shrink or grow,
  buffers hold them decoded. Weights and partial-sum spills are never coded.
* Partial sums are held at accumulator width (``psum_bits``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from edgesim.vocab import OpKind, parse_nm
from edgesim.workload.layer import Layer

CSR_INDEX_BITS = 4
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


def psum_bits(act_bits: int) -> int:
    """Partial-sum width: 32-bit accumulators (wider activations keep their width)."""
    return max(32, act_bits)


def weight_storage_bits(layer: Layer, weight_bits: int) -> int:
    """Bits needed to store a layer's parameters in the cheapest sensible format (never > dense)."""
    n = layer.params
    dense = n * weight_bits
    if n == 0:
        return 0
    nm = parse_nm(layer.sparsity_pattern)
    if nm is not None:
        keep_n, block_m = nm
        kept = math.ceil(n * keep_n / block_m)
        meta = max(1, math.ceil(math.log2(block_m)))
        return min(dense, kept * (weight_bits + meta))
    s = layer.weight_sparsity
    if s <= 0.0:
        return dense
    nnz = math.ceil(n * (1.0 - s))
    bitmap = n + nnz * weight_bits
    # CSR with relative 4-bit indices: a gap of 16 or more needs a padding entry per 16 positions.
    # For zeros spread at random (density d) the expected padding per nonzero is q / (1 - q) with
    # q = (1 - d) ** 16 (sum over k >= 1 of P(gap >= 16 k)).
    density = max(1.0 - s, 1e-12)
    q = (1.0 - density) ** (1 << CSR_INDEX_BITS)
    pads = math.ceil(nnz * q / (1.0 - q)) if q < 1.0 else n
    csr = (nnz + pads) * (weight_bits + CSR_INDEX_BITS)
    return min(dense, bitmap, csr)


@dataclass(frozen=True)
class Sizes:
    """Bytes of each operand of a layer (weights as stored) and of one partial-sum pass."""

    inputs_bytes: int
    weights_bytes: int
    outputs_bytes: int
    psums_bytes: int  # the outputs held at accumulator width


def layer_sizes(layer: Layer, weight_bits: int, act_bits: int) -> Sizes:
    """Operand bytes of ``layer``; a matmul's second operand is an activation (the 'weights')."""
    if layer.op == OpKind.MATMUL:
        a = math.prod(layer.in_shapes[0])
        b = math.prod(layer.in_shapes[1]) if len(layer.in_shapes) > 1 else 0
        return Sizes(math.ceil(a * act_bits / 8), math.ceil(b * act_bits / 8),
                     math.ceil(layer.output_elems * act_bits / 8),
                     math.ceil(layer.output_elems * psum_bits(act_bits) / 8))
    return Sizes(math.ceil(layer.input_elems * act_bits / 8),
                 math.ceil(weight_storage_bits(layer, weight_bits) / 8),
                 math.ceil(layer.output_elems * act_bits / 8),
                 math.ceil(layer.output_elems * psum_bits(act_bits) / 8))
