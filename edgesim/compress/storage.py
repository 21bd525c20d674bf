"""Weight storage as Deep Compression counts it: dense, CSR with relative indices, bitmap,
k-means weight sharing and Huffman coding (Han, Mao and Dally, ICLR 2016)."""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from edgesim.compress._common import check_model, effective_weight, weight_of, weighted_layers
from edgesim.errors import CompressError

FORMATS = ("dense", "csr", "bitmap")
CODEBOOK_ENTRY_BITS = 32  # one float32 per shared value, as in Deep Compression
HUFFMAN_LENGTH_BITS = 8  # a canonical Huffman table: one 8-bit code length per alphabet symbol
_KMEANS_MAX_ITER = 300


@dataclass(frozen=True)
class LayerStorage:
    """Exact storage of one layer's weights, in bits, split by what they hold."""

    name: str
    kind: str  # "conv" or "fc"
    weights: int  # weights in the layer
    nonzeros: int  # weights that are not exactly zero
    stored_values: int  # values written: all (dense), nonzeros + padding zeros (csr), nonzeros (bitmap)
    padding_zeros: int  # CSR filler zeros inserted where a gap overflows the relative index
    value_bits: int  # bits per stored value before Huffman (the shared-index width when shared)
    data_bits: int  # the stored values (or their shared-weight indices; Huffman-coded if asked)
    index_bits: int  # sparse structure: CSR relative indices (Huffman-coded if asked) or bitmap
    codebook_bits: int  # shared-weight codebook plus Huffman tables
    bias_bits: int = 0  # biases, when counted (32 bits each)

    @property
    def total_bits(self) -> int:
        return self.data_bits + self.index_bits + self.codebook_bits + self.bias_bits

    @property
    def total_bytes(self) -> int:
        """Whole bytes of this layer's stored stream."""
        return (self.total_bits + 7) // 8


@dataclass(frozen=True)
class StorageReport:
    """Storage of a model's weights; ``by_layer`` maps layer name to bytes."""

    fmt: str
    total_bytes: int
    by_layer: dict[str, int]
    layers: dict[str, LayerStorage] = field(default_factory=dict)
    dense_fp32_bytes: int = 0  # the same weights dense at 32 bits (the uncompressed baseline)

    @property
    def compression_ratio(self) -> float:
        """Dense fp32 bytes over stored bytes."""
        return self.dense_fp32_bytes / self.total_bytes if self.total_bytes else math.inf


# ---- Huffman ------------------------------------------------------------------------------------
def huffman_code_lengths(freqs: Sequence[int]) -> list[int]:
    """Code length of each symbol of an optimal (Huffman) prefix code; 0 for absent symbols.

    A lone symbol gets one bit. Ties are broken by symbol order, so lengths are deterministic;
    the total ``sum(freq * length)`` is the same for every optimal code.
    """
    present = [(int(f), s) for s, f in enumerate(freqs) if f > 0]
    lengths = [0] * len(freqs)
    if not present:
        return lengths
    if len(present) == 1:
        lengths[present[0][1]] = 1
        return lengths
    # heap items: (weight, order, symbols in the subtree)
    heap: list[tuple[int, int, list[int]]] = [(f, s, [s]) for f, s in present]
    heapq.heapify(heap)
    order = len(freqs)
    while len(heap) > 1:
        f1, _, s1 = heapq.heappop(heap)
        f2, _, s2 = heapq.heappop(heap)
        for s in s1 + s2:
            lengths[s] += 1
        heapq.heappush(heap, (f1 + f2, order, s1 + s2))
        order += 1
    return lengths


def huffman_bits(freqs: Sequence[int]) -> int:
    """Bits of the Huffman-coded stream: ``sum(freq * code length)`` (no table)."""
    return sum(int(f) * n for f, n in zip(freqs, huffman_code_lengths(freqs), strict=True))


def huffman_table_bits(alphabet_size: int) -> int:
    """Bits of the canonical Huffman table for an alphabet (one code length per symbol)."""
    return alphabet_size * HUFFMAN_LENGTH_BITS


# ---- k-means weight sharing ---------------------------------------------------------------------
def kmeans_1d(values: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Deterministic 1-D k-means (Lloyd) with Deep Compression's linear initialisation.

    Centroids start evenly spaced over ``[min, max]``; a centroid whose cluster empties stays
    where it is. Returns ``(centroids (k,), assignment per value)``.
    """
    v = np.asarray(values, dtype=np.float64).ravel()
    if v.size == 0:
        return np.zeros(k), np.zeros(0, dtype=np.int64)
    centroids = np.linspace(v.min(), v.max(), k) if k > 1 else np.array([v.mean()])
    assign = np.full(v.size, -1, dtype=np.int64)
    for _ in range(_KMEANS_MAX_ITER):
        order = np.argsort(centroids, kind="stable")
        sorted_c = centroids[order]
        mids = (sorted_c[1:] + sorted_c[:-1]) / 2.0
        new_assign = order[np.searchsorted(mids, v, side="left")]
        if np.array_equal(new_assign, assign):
            break
        assign = new_assign
        sums = np.bincount(assign, weights=v, minlength=k)
        counts = np.bincount(assign, minlength=k)
        filled = counts > 0
        centroids = centroids.copy()
        centroids[filled] = sums[filled] / counts[filled]
    return centroids, assign


def share_weights(model: nn.Module, bits: int) -> nn.Module:
    """A copy of ``model`` whose conv/linear weights are replaced by their k-means centroids.

    Each layer's nonzero weights share ``2^bits - 1`` values (zeros stay zero, as in a pruned
    Deep Compression model); a layer with no zero shares ``2^bits`` values. Each shared layer
    carries, for ``es.trace``, ``shared_weights`` (the distinct values its weights now take) and
    ``weight_code_bits`` (the mean bits of a nonzero weight's index once Huffman-coded).
    """
    import copy

    check_model(model)
    _check_bits(bits, "bits", 1, 16)
    out = copy.deepcopy(model)
    with torch.no_grad():
        for _, mod in weighted_layers(out):
            w = weight_of(mod)
            flat = w.detach().double().flatten().numpy()
            nz = flat != 0
            k = 2 ** bits - (1 if not nz.all() else 0)
            if nz.any() and k > 0:
                cents, assign = kmeans_1d(flat[nz], k)
                shared = flat.copy()
                shared[nz] = cents[assign]
                w.copy_(torch.from_numpy(shared).reshape(w.shape).to(w.dtype))
                stored = w.detach().double().flatten().numpy()
                values, counts = np.unique(stored[stored != 0], return_counts=True)
                # read by es.trace (weight sharing); plain attributes, not parameters
                object.__setattr__(mod, "shared_weights", int(values.size))
                object.__setattr__(mod, "weight_code_bits",
                                   huffman_bits(counts.tolist()) / max(1, int(counts.sum())))
    return out


# ---- sparse index encodings ---------------------------------------------------------------------
def csr_relative_indices(flat_nonzero: np.ndarray, index_bits: int) -> tuple[np.ndarray, int]:
    """Deep Compression's relative indices of a flattened layer.

    Each stored entry records its gap to the previous stored entry (the first counts from just
    before position 0) as ``gap - 1`` in ``index_bits`` bits, so gaps up to ``2^index_bits``
    fit. A longer gap is bridged by filler zeros every ``2^index_bits`` positions (Han et al.,
    fig. 2), stored like values. Returns (histogram of index symbols, padding zeros).
    """
    span = 2 ** index_bits
    positions = np.flatnonzero(flat_nonzero)
    hist = np.zeros(span, dtype=np.int64)
    if positions.size == 0:
        return hist, 0
    gaps = np.diff(np.concatenate(([-1], positions)))
    fillers = (gaps - 1) // span
    hist += np.bincount((gaps - 1) % span, minlength=span)
    padding = int(fillers.sum())
    hist[span - 1] += padding
    return hist, padding


def _check_bits(value: object, fld: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise CompressError(f"expected an integer number of bits in [{lo}, {hi}], got {value!r}",
                            field=fld)
    return value


def _value_bits(module: nn.Module, weight_bits: int | None) -> int:
    if weight_bits is not None:
        return weight_bits
    precision = getattr(module, "weight_precision", None)
    if isinstance(precision, str):
        if precision.startswith("int") and precision[3:].isdigit():
            return int(precision[3:])
        if precision in ("fp16", "bf16"):
            return 16
    return 32


def layer_storage(name: str, weight: torch.Tensor, kind: str, fmt: str, value_bits: int,
                  index_bits: int, share_bits: int | None, huffman: bool) -> LayerStorage:
    """Exact storage of one weight tensor (flattened row-major: one filter after another)."""
    flat = weight.detach().double().flatten().numpy()
    n = int(flat.size)
    nz_mask = flat != 0
    nnz = int(nz_mask.sum())
    padding = 0
    index = 0
    symbols_hist: np.ndarray | None = None
    if fmt == "csr":
        hist, padding = csr_relative_indices(nz_mask, index_bits)
        stored = nnz + padding
        if huffman:
            index = huffman_bits(hist.tolist()) + huffman_table_bits(hist.size)
        else:
            index = stored * index_bits
    elif fmt == "bitmap":
        stored = nnz
        index = n
    else:
        stored = n
    codebook = 0
    if share_bits is None:
        per_value = value_bits
        data = stored * value_bits
    else:
        per_value = share_bits
        k = 2 ** share_bits
        codebook = k * CODEBOOK_ENTRY_BITS
        if fmt == "csr":  # symbol 0 is reserved for the filler zero; nonzeros share k - 1 values
            symbols_hist = np.zeros(k, dtype=np.int64)
            symbols_hist[0] = padding
            if k > 1 and nnz:
                _, assign = kmeans_1d(flat[nz_mask], k - 1)
                symbols_hist[1:] += np.bincount(assign, minlength=k - 1)
            elif nnz:
                symbols_hist[0] += nnz
        else:
            values = flat[nz_mask] if fmt == "bitmap" else flat
            _, assign = kmeans_1d(values, k)
            symbols_hist = np.bincount(assign, minlength=k).astype(np.int64)
        data = stored * share_bits
        if huffman:
            data = huffman_bits(symbols_hist.tolist())
            codebook += huffman_table_bits(k)
    return LayerStorage(name=name, kind=kind, weights=n, nonzeros=nnz, stored_values=stored,
                        padding_zeros=padding, value_bits=per_value, data_bits=data,
                        index_bits=index, codebook_bits=codebook)


def storage(model: nn.Module, fmt: str = "dense", share_bits: int | None = None,
            huffman: bool = False, weight_bits: int | None = None, conv_index_bits: int = 8,
            fc_index_bits: int = 5, include_bias: bool = False) -> StorageReport:
    """Exact bytes to store a model's conv/linear weights, per layer and in total.

    Args:
        model: the model (zeros, shapes and quantized precisions are read; nothing changes).
        fmt: ``"dense"`` (every weight), ``"csr"`` (nonzeros plus Deep Compression's relative
            indices with filler zeros, one flattened stream per layer, no row pointers) or
            ``"bitmap"`` (one bit per weight plus the nonzero values).
        share_bits: k-means weight sharing with ``2^b`` shared values per layer (linear init,
            deterministic): values become ``b``-bit indices and the codebook costs 32 bits per
            entry. In CSR one entry is reserved for the filler zero.
        huffman: Huffman-code the shared-weight indices (with ``share_bits``) and the CSR
            relative indices, counting ``sum(freq x code length)`` plus a canonical table of
            one 8-bit code length per alphabet symbol.
        weight_bits: bits per stored (unshared) value; default: the layer's quantized precision
            (``int8`` -> 8, ``fp16`` -> 16), else 32.
        conv_index_bits: CSR relative-index bits of conv layers (Deep Compression: 8).
        fc_index_bits: CSR relative-index bits of linear layers (Deep Compression: 5).
        include_bias: also count biases (32 bits each); Deep Compression does not.

    Each layer is padded to whole bytes; ``total_bytes`` is the sum over layers.
    """
    check_model(model)
    if fmt not in FORMATS:
        raise CompressError(f"expected one of {', '.join(FORMATS)}, got {fmt!r}", field="fmt")
    if share_bits is not None:
        _check_bits(share_bits, "share_bits", 1, 16)
    if weight_bits is not None:
        _check_bits(weight_bits, "weight_bits", 1, 32)
    _check_bits(conv_index_bits, "conv_index_bits", 1, 16)
    _check_bits(fc_index_bits, "fc_index_bits", 1, 16)
    for flag, fld in ((huffman, "huffman"), (include_bias, "include_bias")):
        if not isinstance(flag, bool):
            raise CompressError(f"expected true or false, got {flag!r}", field=fld)
    layers: dict[str, LayerStorage] = {}
    dense_bits_total = 0
    for name, mod in weighted_layers(model):
        kind = "fc" if isinstance(mod, nn.Linear) else "conv"
        w = effective_weight(mod)
        rep = layer_storage(name, w, kind, fmt, _value_bits(mod, weight_bits),
                            fc_index_bits if kind == "fc" else conv_index_bits, share_bits,
                            huffman)
        bias = getattr(mod, "bias", None)
        bias_bits = 0
        if include_bias and isinstance(bias, torch.Tensor):
            bias_bits = bias.numel() * 32
            rep = LayerStorage(**{**rep.__dict__, "bias_bits": bias_bits})
        layers[name] = rep
        dense_bits_total += (w.numel() * 32 + bias_bits + 7) // 8 * 8
    by_layer = {name: rep.total_bytes for name, rep in layers.items()}
    return StorageReport(fmt=fmt, total_bytes=sum(by_layer.values()), by_layer=by_layer,
                         layers=layers, dense_fp32_bytes=dense_bits_total // 8)
