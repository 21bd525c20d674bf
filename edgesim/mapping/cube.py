"""Cube units (DaVinci-style ``rows x cols x depth`` matrix engine: one M x N x K block per cycle).

A GEMM ``out[M,N] += A[M,K] B[K,N]`` is cut into fractals padded up to the cube edges, so a
16x16x16 cube spends ``ceil(M/16) ceil(N/16) ceil(K/16)`` cycles per GEMM (padding is wasted
work, shown in the utilization), plus one pipeline fill per GEMM (``fill_cycles``, default the
K edge ``depth``: an assumption, the fill is not published). Groups are separate GEMMs, except
that a unit that ``packs_channels`` runs a depthwise layer in blocks of ``cols`` channels: one
GEMM per block with block-diagonal weights (K = taps x C0, N = C0), wasting C0 - 1 of every C0
MAC slots but paying one fill per block instead of one per channel. A ``packs_narrow`` cube runs ``native_bits // bits`` times the
K depth per cycle for narrow operands (int8 on an fp16 cube: K doubles). Skipped zeros and
supported N:M patterns shrink K as on systolic arrays.

A cube whose ``depth_unrolls: channels`` reduces over input channels only steps a
convolution's filter taps in time (``taps x ceil(C / depth)`` K steps, ZigZag's C on one array
dimension); one whose rows unroll a ``rows_pixel_tile`` (e.g. 4 x 4 output pixels) covers each
image's output in whole tiles.

Array-side reads (from the L0 buffers feeding the cube): A fractals are re-read once per N
block, B fractals once per M block, each step charged in whole words of its buffer (the
padding of a full-size step, applied to every step: remainders are not padded apart); outputs
accumulate in place and are written once. A spec that gives the cube per-PE register files
(``per_pe`` levels) has them counted as on a systolic array: every MAC reads its operands from
them, each fractal delivered is written once, and a per-PE accumulator is read and written per
MAC at accumulator width, and read once more as its output leaves. A file serving a group of
PEs (``served_dimensions``) is read once per broadcast to the PEs a step uses along those
dimensions; an accumulator served along the depth (an adder tree in front of it) is read and
written once per output and K step.
"""

from __future__ import annotations

import math

from edgesim.hardware.model import ArrayDim, ComputeUnit, DepthUnroll, Hardware, Operand
from edgesim.mapping.mapper import ComputeResult, GemmView
from edgesim.mapping.storage import Sizes
from edgesim.mapping.tiling import word_padded_factor
from edgesim.mapping.topology import array_word_bytes, per_pe_levels
from edgesim.mapping.traffic import ArraySide, register_file_accesses
from edgesim.vocab import CONV_OPS


def _taps(g: GemmView, unit: ComputeUnit) -> int:
    """Filter taps that step in time (``depth_unrolls: channels``), else 1 (img2col K)."""
    if unit.depth_unrolls != DepthUnroll.CHANNELS or g.layer.op not in CONV_OPS:
        return 1
    taps = math.prod(g.layer.kernel)
    return taps if g.k % taps == 0 else 1  # a reduction that is not channels x taps: img2col


def _k_steps(k: int, taps: int, depth: int) -> int:
    """Fractal steps along a reduction of ``k`` (= taps x channels) on a ``depth``-deep cube."""
    return taps * math.ceil(math.ceil(k / taps) / depth)


def _m_steps(g: GemmView, unit: ComputeUnit) -> int:
    """Steps along M (output pixels): whole ``rows_pixel_tile`` tiles of each image's output
    for a convolution on a cube whose rows unroll a pixel tile, else ``rows`` at a time."""
    tile = unit.rows_pixel_tile
    if tile is None or g.layer.op not in CONV_OPS:
        return math.ceil(g.m / unit.rows)
    e, f = g.layer.out_hw
    return g.layer.batch * math.ceil(f / tile[0]) * math.ceil(e / tile[1])


def _words(hw: Hardware, op: Operand, elems: int, bits: int) -> float:
    """Bytes charged per useful byte when one fractal step moves ``elems`` elements of ``op``
    from the buffer feeding the cube: whole words of that buffer."""
    return word_padded_factor(elems, elems, bits / 8, array_word_bytes(hw, op))


def _array(hw: Hardware, g: GemmView, macs: int, loaded: dict[Operand, int],
           pad: dict[Operand, float], sizes: Sizes, accumulations: int,
           used: dict[ArrayDim, float]) -> ArraySide:
    """Array-side traffic: the fractals read from the L0 buffers (``loaded`` bytes, charged in
    whole words: ``pad``), the outputs written once, and the per-PE register files (when the
    spec has them) fed by those fractals. An output file served along the depth (an adder tree
    in front of it) is updated once per output and K step (``accumulations``); a read of a file
    served along some dimensions feeds the PEs the layer uses along them (``used``: the mean
    extent per fractal step)."""
    psum_b = sizes.psums_bytes / max(1, g.layer.output_elems)  # accumulator width
    levels = per_pe_levels(hw)
    updates = {m.name: accumulations for m in levels if ArrayDim.DEPTH in m.served_dimensions}
    fed = {m.name: math.prod(used[d] for d in m.served_dimensions) for m in levels}
    rf_reads, rf_writes = register_file_accesses(hw, macs, g.act_bits / 8, g.b_bits / 8, psum_b,
                                                 loaded, g.layer.output_elems, updates, fed)
    reads = {op: math.ceil(b * pad.get(op, 1.0)) for op, b in loaded.items()}
    return ArraySide(reads_bytes=reads, output_write_bytes=sizes.outputs_bytes,
                     rf_read_bytes=rf_reads, rf_write_bytes=rf_writes)


def map_cube(g: GemmView, unit: ComputeUnit, hw: Hardware, sizes: Sizes) -> ComputeResult:
    """Cycles and array-side traffic of a GEMM layer on a cube unit."""
    groups, m, n, k = g.groups, g.m, g.n, g.k
    fill = unit.depth if unit.fill_cycles is None else unit.fill_cycles
    serial = g.act_bits * g.b_bits if unit.bit_serial else 1  # one-bit steps per fractal
    taps = _taps(g, unit)
    k_eff = max(taps, taps * math.ceil(k / taps * g.cycle_fraction))
    useful = g.useful_ops
    if unit.packs_channels and n == 1 and groups > 1:  # depthwise: channel blocks of `cols`
        c0 = unit.cols
        blocks = math.ceil(groups / c0)
        bm, bk = _m_steps(g, unit), _k_steps(k_eff * c0, taps, unit.depth * g.pack)
        cycles = blocks * (bm * bk * serial + fill)
        # A fractal of C0 channels: inputs once, block-diagonal weights (C0 x K x C0, mostly
        # zeros) once per M block.
        kc = min(math.ceil(k_eff * c0 / taps), unit.depth * g.pack)  # K per step
        pad_a = _words(hw, Operand.INPUTS, min(m, unit.rows) * kc, g.act_bits)
        reads = {Operand.INPUTS: math.ceil(groups * m * k_eff * g.act_bits / 8),
                 Operand.WEIGHTS: math.ceil(blocks * bm * k_eff * c0 * c0 * (g.b_bits / 8))}
        used = {ArrayDim.ROWS: m / bm, ArrayDim.COLS: float(c0),
                ArrayDim.DEPTH: k_eff * c0 / bk}
        array = _array(hw, g, useful, reads, {Operand.INPUTS: pad_a}, sizes, groups * m * bk, used)
        note = (f"cube {unit.rows}x{unit.cols}x{unit.depth}: depthwise, {groups} channels in "
                f"{blocks} blocks of {c0}; M={m} K={k}; fractals {bm}x1x{bk} per block")
        return ComputeResult(cycles, useful, {g.op_class: useful}, g.dense_ops, array, note,
                             stream_steps=blocks * bm)
    bm, bn = _m_steps(g, unit), math.ceil(n / unit.cols)
    bk = _k_steps(k_eff, taps, unit.depth * g.pack)
    cycles = groups * (bm * bn * bk * serial + fill)
    kc = min(math.ceil(k_eff / taps), unit.depth * g.pack)  # K per fractal step
    pad_a = _words(hw, Operand.INPUTS, min(m, unit.rows) * kc, g.act_bits)
    pad_b = _words(hw, Operand.WEIGHTS, kc * min(n, unit.cols), g.b_bits)
    reads = {Operand.INPUTS: math.ceil(groups * bn * m * k_eff * g.act_bits / 8),
             Operand.WEIGHTS: math.ceil(groups * bm * k_eff * n * (g.b_bits / 8))}
    used = {ArrayDim.ROWS: m / bm, ArrayDim.COLS: n / bn, ArrayDim.DEPTH: k_eff / bk}
    array = _array(hw, g, useful, reads, {Operand.INPUTS: pad_a, Operand.WEIGHTS: pad_b},
                   sizes, groups * m * n * bk, used)
    note = (f"cube {unit.rows}x{unit.cols}x{unit.depth}: {groups} GEMM(s) M={m} N={n} K={k}; "
            f"fractals {bm}x{bn}x{bk}")
    return ComputeResult(cycles, useful, {g.op_class: useful}, g.dense_ops, array, note,
                         stream_steps=groups * bm * bn)
