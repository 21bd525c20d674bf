"""Tiling: loop orders over the buffers and the bytes each moves from the level above.

* A tile must fit half a buffer (the other half double-buffers the next tile); a buffer shared
  by several operands gives half to the stationary operand and a quarter to each streamed one.
  A single-buffered level (``double_buffered: false``) gives twice that: the whole buffer to
  its one operand, half to each of a stationary and a streamed one.
* Two loop orders are tried at every buffer level and the one moving fewer bytes from the level
  above is kept (a real mapper would):
  ``weights-outer``: filter tiles stay, inputs stream in row bands (with the halo of overlapping
  windows) once per filter tile of a group; a filter whose reduction does not fit splits the
  reduction and spills partial sums (write + read back per extra split);
  ``inputs-outer``: input row bands stay, all weights stream once per band unless they fit.
* Outputs are written once per level (plus partial-sum spills).
* Input footprint: a window smaller than its stride (a stride-2 1x1 conv) touches only some
  input rows and columns; only those are fetched (rows are skipped per band, columns by a
  strided transfer), so such a layer reads ``ceil(E*R/ H)`` of the rows and likewise of the
  columns (a quarter of a stride-2 1x1 conv's input).
* Word-granular array accesses (``word_padded_factor``): a vector narrower than a buffer word,
  or one that ends part-way into a word, costs the bytes of the whole words it touches (a
  depthwise layer's 9-element vectors cost 16 bytes of an 8-byte-word buffer). Bulk transfers
  between levels (tiles, contiguous) and off-chip levels (burst-accessed) are not rounded.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from edgesim.hardware.model import MemoryLevel, Operand
from edgesim.mapping.storage import Sizes
from edgesim.mapping.topology import IN, W
from edgesim.vocab import CONV_OPS, OpKind
from edgesim.workload.layer import Layer


@dataclass(frozen=True)
class Geometry:
    """What the tiler needs of a GEMM-like layer: groups, filters, rows for input banding."""

    batch: int
    groups: int
    n_per_group: int  # filters (output channels) per group
    out_rows: int  # output rows per image (conv E; GEMM rows for linear)
    in_rows: int  # padded input rows per image
    stride: int
    kernel_rows: int
    col_frac: float = 1.0  # fraction of each input row's columns the windows touch


def touched(n_out: int, stride: int, kernel: int, n_in: int) -> int:
    """Input positions touched by ``n_out`` windows of ``kernel`` at ``stride`` (of ``n_in``).

    Overlapping or abutting windows touch a contiguous span; windows smaller than their stride
    leave gaps that are not fetched.
    """
    span = (n_out - 1) * stride + kernel if n_out > 0 else 0
    return min(n_in, span, n_out * kernel)


def geometry(layer: Layer) -> Geometry:
    """Tiling geometry of a layer (conv: image rows; linear/matmul: token rows)."""
    g = layer.gemm()
    if g is None:
        rows = max(1, layer.output_elems // max(1, layer.batch))
        return Geometry(layer.batch, 1, 1, rows, rows, 1, 1)
    groups, m, n, _ = g
    if layer.op in CONV_OPS:
        e, f = layer.out_hw
        h, w = layer.in_hw
        kc = (layer.kernel[1] - 1) * layer.dilation[1] + 1
        w_pad = w + 2 * layer.padding[1]
        col_frac = touched(f, layer.stride[1], kc, w_pad) / w_pad if kc < layer.stride[1] \
            else 1.0
        return Geometry(layer.batch, groups, n, e, h + 2 * layer.padding[0], layer.stride[0],
                        (layer.kernel[0] - 1) * layer.dilation[0] + 1, col_frac)
    if layer.op == OpKind.CONV_TRANSPOSE2D:
        h, _w = layer.in_hw
        return Geometry(layer.batch, groups, n, h, h, 1, 1)
    if layer.op == OpKind.MATMUL:
        return Geometry(1, groups, n, m, m, 1, 1)
    return Geometry(1, 1, n, m, m, 1, 1)


def _stream_inputs(geo: Geometry, inputs: int, cap: float) -> tuple[int, int]:
    """(bytes read, row bands) to stream all inputs once through a buffer of ``cap`` bytes."""
    if inputs == 0:
        return 0, 1
    per_img = inputs / geo.batch
    row_b = per_img / max(1, geo.in_rows) * geo.col_frac  # bytes of the touched part of a row
    if cap >= per_img or geo.out_rows <= 1:
        imgs = geo.batch if (per_img <= 0 or math.isinf(cap)) else max(1, int(cap // per_img))
        if geo.kernel_rows < geo.stride or geo.col_frac < 1.0:
            n_touched = touched(geo.out_rows, geo.stride, geo.kernel_rows, geo.in_rows)
            inputs = int(round(geo.batch * n_touched * row_b))
        return inputs, max(1, math.ceil(geo.batch / imgs))
    rows_fit = geo.in_rows if (row_b <= 0 or math.isinf(cap)) else int(cap // row_b)
    e_t = max(1, (rows_fit - geo.kernel_rows) // geo.stride + 1) if rows_fit >= geo.kernel_rows \
        else 1
    e_t = min(e_t, geo.out_rows)
    full, rem = divmod(geo.out_rows, e_t)
    span = touched(e_t, geo.stride, geo.kernel_rows, geo.in_rows)
    rows = full * span + (touched(rem, geo.stride, geo.kernel_rows, geo.in_rows) if rem else 0)
    bands = full + (1 if rem else 0)
    return int(round(geo.batch * rows * row_b)), geo.batch * bands


@dataclass(frozen=True)
class TilePlan:
    """Bytes moved from the level above into one buffer level, for the chosen loop order."""

    inputs_bytes: int
    weights_bytes: int
    outputs_written_bytes: int
    outputs_read_bytes: int  # partial sums read back
    tiles: int
    order: str

    @property
    def total_bytes(self) -> int:
        return (self.inputs_bytes + self.weights_bytes + self.outputs_written_bytes
                + self.outputs_read_bytes)


def plan_tiles(geo: Geometry, sizes: Sizes, caps: Mapping[Operand, tuple[float, float]],
               weighted: bool) -> TilePlan:
    """Choose the loop order that moves fewest bytes into buffers of the given capacities.

    ``caps[op] = (stationary_bytes, streamed_bytes)``; a missing operand has no buffer and is
    read through (its traffic is the plain operand size here; mappers charge array reads).
    """
    i_stat, i_str = caps.get(IN, (math.inf, math.inf))
    w_stat, w_str = caps.get(W, (math.inf, math.inf))
    out_w, out_r = sizes.outputs_bytes, 0
    if not weighted or sizes.weights_bytes == 0:
        rd, bands = _stream_inputs(geo, sizes.inputs_bytes, i_str)
        return TilePlan(rd, 0, out_w, out_r, bands, "stream")
    filters = geo.groups * geo.n_per_group
    per_filter = sizes.weights_bytes / filters
    # Order A: weights outer.
    n_t = filters if (per_filter <= 0 or math.isinf(w_stat)) else int(w_stat // per_filter)
    stream, bands = _stream_inputs(geo, sizes.inputs_bytes, i_str)
    if n_t >= 1:
        n_t = min(n_t, filters)
        t_w = math.ceil(filters / n_t)
        passes = math.ceil(geo.n_per_group / n_t) if n_t < geo.n_per_group else 1
        spill_w = spill_r = 0
    else:
        k_split = math.ceil(per_filter / max(w_stat, 1.0))
        t_w = filters * k_split
        passes = geo.n_per_group * k_split
        spill_w = spill_r = (k_split - 1) * sizes.psums_bytes
    plan_a = TilePlan(stream * passes, sizes.weights_bytes, out_w + spill_w, out_r + spill_r,
                      t_w * bands, "weights-outer")
    # Order B: inputs outer.
    stat, t_i = _stream_inputs(geo, sizes.inputs_bytes, i_stat)
    w_reads = sizes.weights_bytes if sizes.weights_bytes <= w_stat else sizes.weights_bytes * t_i
    w_chunks = max(1, math.ceil(sizes.weights_bytes / max(w_str, 1.0)))
    plan_b = TilePlan(stat, w_reads, out_w, out_r, t_i * w_chunks, "inputs-outer")
    return plan_a if plan_a.total_bytes <= plan_b.total_bytes else plan_b


def word_padded_factor(extent: int, lanes: int, elem_bytes: float, word_bytes: int) -> float:
    """Bytes charged per useful byte when ``extent`` elements cross to or from a buffer in
    vectors of at most ``lanes`` elements (full vectors, then the remainder), each vector an
    access of whole ``word_bytes`` words.

    ``word_padded_factor(9, 32, 1, 8)`` is 16 / 9 (a 9-byte vector touches two 8-byte words);
    a dimension that fills the lanes with vectors a multiple of the word gives 1.
    """
    if extent <= 0 or lanes <= 0 or elem_bytes <= 0 or word_bytes <= 1:
        return 1.0
    full, rem = divmod(extent, lanes)

    def words(n: int) -> int:
        return math.ceil(n * elem_bytes / word_bytes - 1e-9)

    charged = (full * words(lanes) + (words(rem) if rem else 0)) * word_bytes
    return max(1.0, charged / (extent * elem_bytes))


def capacities(level_of: Mapping[Operand, MemoryLevel]) -> dict[Operand, tuple[float, float]]:
    """(stationary, streamed) bytes each operand may use of the buffer holding it: half and half
    of a buffer of its own; half and a quarter of a buffer shared with other operands. A
    single-buffered level gives all of itself to its one operand and half to each of a
    stationary and a streamed one."""
    caps: dict[Operand, tuple[float, float]] = {}
    for op, lvl in level_of.items():
        sharing = sum(1 for o in level_of.values() if o is lvl)
        size = float(lvl.total_bytes)
        if not lvl.double_buffered:
            caps[op] = (size, size) if sharing == 1 else (size / 2, size / 2)
        else:
            caps[op] = (size / 2, size / 2) if sharing == 1 else (size / 2, size / 4)
    return caps
