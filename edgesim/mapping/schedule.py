"""Mapping a workload: each layer on the unit that runs it, as counts (cycles, ops, accesses).

``map_workload(wl, hw)`` places every layer (``placement``), hands its GEMM view (``mapper``)
to the mapper registered for the unit's type (``registry``) for cycles, operations and the
array's own accesses (``vector`` for non-GEMM ops), and lets ``traffic`` tile the layer over
the buffers for the reads and writes of every memory level. Counts only.

Activations between layers (``residency``): a layer whose op the producer's unit ``fuses``
runs in that unit's output stage (``fused_layer_counts``: no pass and no traffic of its own for
the fused tensor); every other tensor stays on chip while it fits a parking buffer over its whole
lifetime, else it is written to the activation home once and each consumer reads it back.
Residency is per tensor: a layer with several inputs (a residual add) reads from the home only
those that live there (and model inputs), so every activation byte read from DRAM was written
there first. A tensor crossing units (a fallback layer) moves through the shared buffers, or the
home when it is not kept on chip; its bytes are reported as ``transfer_bytes`` of the layer that
runs on the fallback unit.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

from edgesim.hardware.model import Compression, ComputeUnit, Hardware, WeightDecoder
from edgesim.mapping import placement
from edgesim.mapping.counts import MAX_TILE_STEPS, LayerCounts, Schedule
from edgesim.mapping.kernels import cold_layers, runs_cold
from edgesim.mapping.mapper import gemm_view
from edgesim.mapping.memo import memoized, memoized_estimates, memoized_schedule
from edgesim.mapping.registry import mapper_for
from edgesim.mapping.residency import consumers_of, input_sources, plan_activations
from edgesim.mapping.storage import layer_sizes, rlc_ratio, weight_storage_bits
from edgesim.mapping.topology import (
    IN,
    OUT,
    activation_home,
    chain,
    retaining_level,
    retention_capacity_bytes,
    staged_folds,
    unit_view,
)
from edgesim.mapping.traffic import Residency, level_traffic
from edgesim.mapping.vector import packed_vector_lanes, vector_op
from edgesim.vocab import GEMM_OPS, WEIGHTED_OPS, OpClass, OpKind, parse_nm
from edgesim.workload.ir import Workload
from edgesim.workload.layer import Layer


def _tensor_bytes(shape: tuple[int, ...], bits: int) -> int:
    return math.ceil(math.prod(shape) * bits / 8)


def _resident_bytes(layer: Layer, flags: Sequence[bool], act_bits: int) -> tuple[int, int]:
    """(resident bytes of the input operand, of a matmul's second operand) from per-tensor flags."""
    shapes = layer.in_shapes
    on = [bool(flags[i]) if i < len(flags) else False for i in range(len(shapes))]
    if layer.op == OpKind.MATMUL:
        first = _tensor_bytes(shapes[0], act_bits) if shapes and on[0] else 0
        second = _tensor_bytes(shapes[1], act_bits) if len(shapes) > 1 and on[1] else 0
        return first, second
    return sum(_tensor_bytes(sh, act_bits) for sh, o in zip(shapes, on, strict=True) if o), 0


def _model_inputs(layer: Layer) -> list[bool]:
    """Per ``in_shapes`` entry: whether it is a model input (no producer; stored by the host)."""
    n_named = len(layer.inputs)
    named = layer.in_shapes[:n_named]
    return [i >= n_named and (i in layer.fresh_inputs or shape not in named)
            for i, shape in enumerate(layer.in_shapes)]


def _home_ratios(layer: Layer, hw: Hardware, flags: Sequence[bool], a_bits: int,
                 output_zero_fraction: float) -> tuple[float, float]:
    """(inputs, output) stored / raw size at the activation home (1.0 when it does not code)."""
    home = activation_home(hw)
    if home is None or home.compression == Compression.NONE:
        return 1.0, 1.0
    shapes = layer.in_shapes[:1] if layer.op == OpKind.MATMUL else layer.in_shapes
    coded = rlc_ratio(layer.act_sparsity, a_bits)
    raw = stored = 0.0
    for i, (shape, host) in enumerate(zip(shapes, _model_inputs(layer), strict=False)):
        if i < len(flags) and flags[i]:
            continue  # on chip: not read from the home
        n = float(_tensor_bytes(shape, a_bits))
        raw += n
        stored += n if host else n * coded  # the host writes model inputs raw
    return (stored / raw if raw else 1.0), rlc_ratio(output_zero_fraction, a_bits)


def _weights_home_ratio(layer: Layer, hw: Hardware, w_bits: int) -> float:
    """Coded / decoded size of the layer's weights where the chip decodes a coded form (its
    ``weight_decoder`` and the layer's shared weights); 1 otherwise."""
    if hw.weight_decoder == WeightDecoder.NONE or not layer.shared_weights \
            or layer.op not in WEIGHTED_OPS:
        return 1.0
    plain = weight_storage_bits(layer, w_bits, hw.sparse_index_bits)
    coded = weight_storage_bits(layer, w_bits, hw.sparse_index_bits, hw.weight_decoder)
    return coded / plain if plain else 1.0


def _kept_weights(layer: Layer) -> int:
    """The weights a layer stores coded: its weights (not its biases) less the zeros."""
    nm = parse_nm(layer.sparsity_pattern)
    if nm is not None:
        return math.ceil(layer.weight_elems * nm[0] / nm[1])
    return math.ceil(layer.weight_elems * (1.0 - layer.weight_sparsity))


def _every_level(levels: Sequence[str], by_level: dict[str, int]) -> dict[str, int]:
    """Bytes per level of the whole chip (0 at the levels the unit does not reach)."""
    if len(by_level) == len(levels):
        return by_level
    return {name: by_level.get(name, 0) for name in levels}


def map_layer(layer: Layer, hw: Hardware, unit: ComputeUnit | None = None, *,
              inputs_on_chip: bool | Sequence[bool] = False, outputs_on_chip: bool = False,
              transfer_bytes: int = 0, output_zero_fraction: float = 0.0,
              weights_retained: bool = False, cold: bool = False) -> LayerCounts:
    """Counts of one layer on ``hw`` (on ``unit``, or where ``placement.place`` puts it).

    ``inputs_on_chip``: whether the input tensors are already on chip, one flag for all of them
    or one per ``layer.in_shapes`` entry; ``outputs_on_chip``: the output stays on chip.
    ``output_zero_fraction``: zeros in the output as its consumers see them (their
    ``act_sparsity``), for activation compression. ``weights_retained``: the weights live in
    the level that retains them (``weights_retained_by``), not in DRAM.
    """
    unit = unit or placement.place(layer, hw)
    levels = [m.name for m in hw.memory]
    hw = unit_view(hw, unit)  # the levels this unit reaches
    w_prec, a_prec = placement.resolved_precisions(layer, unit)
    w_bits, a_bits = w_prec.bits, a_prec.bits
    sizes = layer_sizes(layer, w_bits, a_bits, hw.sparse_index_bits, unit.psum_bits)
    pack = placement.pack_factor(layer, unit)
    if layer.op in GEMM_OPS:
        view = gemm_view(layer, unit, a_bits, w_bits, pack)
        if cold:
            view = dataclasses.replace(view, cold=True)
        res = mapper_for(unit)(view, unit, hw, sizes)
    else:
        res = vector_op(layer, unit, sizes, a_bits, cold)
    flags = ([inputs_on_chip] * len(layer.in_shapes) if isinstance(inputs_on_chip, bool)
             else list(inputs_on_chip))
    in_res, w_res = _resident_bytes(layer, flags, a_bits)
    in_ratio, out_ratio = _home_ratios(layer, hw, flags, a_bits, output_zero_fraction)
    w_ratio = _weights_home_ratio(layer, hw, w_bits)
    lt = level_traffic(hw, layer, sizes, res.array,
                       Residency(inputs_resident_bytes=in_res, weights_resident_bytes=w_res,
                                 outputs_on_chip=outputs_on_chip, inputs_home_ratio=in_ratio,
                                 outputs_home_ratio=out_ratio, weights_home_ratio=w_ratio,
                                 weights_retained=weights_retained))
    # Each kept weight fetched coded is looked up in the codebook, after a Huffman decode
    # where its indices arrive Huffman-coded: one decoder step each.
    decoded = (math.ceil(lt.home_weight_bytes * _kept_weights(layer) / sizes.weights_bytes)
               if w_ratio < 1.0 and sizes.weights_bytes else 0)
    steps = 2 if hw.weight_decoder == WeightDecoder.HUFFMAN and layer.weight_code_bits else 1
    unbuffered = (lt.reads_bytes[hw.outermost.name] - lt.dram_act_read_bytes
                  if layer.op in WEIGHTED_OPS and not staged_folds(hw, unit, w_bits) else 0)
    # A bit-serial unit's mapper streams each operand pair in w * a one-bit steps: a PE busy
    # on those steps is fully used.
    serial = w_bits * a_bits if unit.bit_serial and layer.op in GEMM_OPS else 1
    cycles = max(1, int(res.compute_cycles))
    pes = res.pe_count or unit.pe_count
    util = min(1.0, res.useful_ops * serial / (pes * max(1, pack) * cycles))
    outer = hw.outermost.name
    # Streaming granularity: data arrive per fold/pass of the array (a DMA engine feeds the array
    # fold by fold), so a layer that fits its buffers still overlaps loads with compute.
    tiles = max(1, lt.tiles, res.stream_steps)
    note = f"{res.note}; tiling {lt.note}" if lt.note else res.note
    return LayerCounts(
        layer=layer.name, op=layer.op, unit=unit.name,
        precision=placement.op_precision(layer, unit), compute_cycles=cycles, utilization=util,
        ops={k: int(v) for k, v in res.ops.items()},
        reads_bytes=_every_level(levels, lt.reads_bytes),
        writes_bytes=_every_level(levels, lt.writes_bytes), tiles=tiles,
        dram_read_bytes=lt.reads_bytes[outer],
        dram_write_bytes=lt.writes_bytes[outer], dram_act_read_bytes=lt.dram_act_read_bytes,
        transfer_bytes=transfer_bytes, decoded_weights=decoded, decoder_steps=decoded * steps,
        unbuffered_weight_bytes=max(0, unbuffered), noc_words=res.noc_words,
        dense_ops=int(res.dense_ops),
        note=note, extra={**res.extra, "buffer_tiles": float(lt.tiles)})


def map_workload(wl: Workload, hw: Hardware, batch: int | None = None) -> Schedule:
    """Map every layer of ``wl`` on ``hw`` (``batch`` overrides the workload's batch).

    Counts are memoized (:mod:`edgesim.mapping.memo`): per layer across workloads and designs,
    and per workload across designs that count the same and put every layer on the same unit
    (``choose_unit``: the estimates are shared, only the choice weighs clock and bandwidth)."""
    estimates = memoized_estimates(wl, hw, batch, partial(_workload_estimates, wl, hw, batch))
    clock, dram_bw = float(hw.clock_hz), float(hw.outermost.bandwidth_bytes_per_s)
    per_operand = hw.outermost.channel_per_operand
    choice = tuple(fastest(e, clock, dram_bw, per_operand) for e in estimates)
    return memoized_schedule(wl, hw, batch, choice, partial(_map_workload, wl, hw, batch, choice))


def fused_layer_counts(layer: Layer, hw: Hardware, unit: ComputeUnit, *, fused_input: int,
                       inputs_on_chip: Sequence[bool], outputs_on_chip: bool,
                       output_zero_fraction: float = 0.0, head_cycles: int = 0,
                       transfer_bytes: int = 0) -> LayerCounts:
    """Counts of a layer run in the output stage of ``unit`` (``residency``'s fusion).

    The fused tensor (``in_shapes[fused_input]``) comes straight from the stage: no traffic.
    Other inputs are read where they live (the parking buffer, or the home through the input
    buffer); the output is drained from the output buffer to the home unless it stays on chip
    (the group head wrote it to the buffer). The stage processes ``vector_lanes`` elements per
    cycle (more for narrow operands on a ``packs_narrow`` unit) beside the head's compute: only
    work beyond ``head_cycles`` adds cycles. Each op of a fused chain is a stage of its own, so
    each is compared with the head alone.
    """
    a_bits = placement.resolved_precisions(layer, unit)[1].bits
    work = layer.vector_ops
    cycles = max(0, math.ceil(work / packed_vector_lanes(unit, a_bits)) - head_cycles)
    reads = {m.name: 0 for m in hw.memory}
    writes = {m.name: 0 for m in hw.memory}
    hw = unit_view(hw, unit)  # the levels this unit reaches
    home = activation_home(hw)
    in_chain = [m for m in chain(hw, IN) if m is not home]
    out_chain = [m for m in chain(hw, OUT) if m is not home]
    flags = [bool(inputs_on_chip[k]) if k < len(inputs_on_chip) else False
             for k in range(len(layer.in_shapes))]
    flags[fused_input] = True
    in_ratio, out_ratio = _home_ratios(layer, hw, flags, a_bits, output_zero_fraction)
    act_read = 0
    for k, shape in enumerate(layer.in_shapes):
        if k == fused_input:
            continue
        b = _tensor_bytes(shape, a_bits)
        if not flags[k] and home is not None:
            coded = int(round(b * in_ratio))
            reads[home.name] += coded
            act_read += coded if home is hw.outermost else 0
            if in_chain:
                writes[in_chain[0].name] += b
        if in_chain:
            reads[in_chain[0].name] += b
    if not outputs_on_chip and home is not None:
        b = _tensor_bytes(layer.out_shape, a_bits)
        if out_chain:
            reads[out_chain[0].name] += b
        writes[home.name] += int(round(b * out_ratio))
    outer = hw.outermost.name
    return LayerCounts(
        layer=layer.name, op=layer.op, unit=unit.name,
        precision=placement.op_precision(layer, unit), compute_cycles=cycles,
        utilization=min(1.0, work / (unit.pe_count * cycles)) if cycles else 0.0,
        ops={OpClass.ADD: work}, reads_bytes=reads, writes_bytes=writes, tiles=1,
        dram_read_bytes=reads[outer], dram_write_bytes=writes[outer], dram_act_read_bytes=act_read,
        transfer_bytes=transfer_bytes, dense_ops=work, note=f"fused into the output stage of {unit.name}",
        extra={"fused": 1.0})


@dataclass(frozen=True)
class UnitEstimate:
    """A unit's pass of one layer as counts alone: what ``choose_unit`` weighs."""

    unit: str
    compute_cycles: int
    dram_bytes: int
    steps: int  # tile-steps the pass is pipelined over (1..MAX_TILE_STEPS)
    dram_operand_bytes: tuple[int, int, int] = (0, 0, 0)  # inputs, weights, outputs read/written

    def dram_s(self, bandwidth_bytes_per_s: float, per_operand: bool) -> float:
        """Its DRAM time: all bytes over one channel, or (``per_operand``: a channel per
        operand, ``MemoryLevel.channel_per_operand``) the busiest operand's channel."""
        moved = max(self.dram_operand_bytes) if per_operand else self.dram_bytes
        return moved / bandwidth_bytes_per_s


def unit_estimates(layer: Layer, hw: Hardware) -> tuple[UnitEstimate, ...]:
    """Each unit that could run ``layer`` in a workload, with its pass's counts: every capable
    unit for a GEMM layer, else the first that can run it (``placement.place``). Counts only, so
    designs that count the same share them whatever their clock and DRAM bandwidth."""
    units = placement.capable_units(layer, hw)
    if len(units) == 1 or layer.op not in GEMM_OPS:
        return (UnitEstimate(units[0].name, 0, 0, 1),)
    flags = (False,) * len(layer.in_shapes)
    out = []
    for u in units:
        c = memoized(layer, hw, u, (flags, False, 0, 0.0, False, False),  # as a workload's
                     partial(map_layer, layer, hw, u))
        out.append(UnitEstimate(u.name, c.compute_cycles, c.dram_read_bytes + c.dram_write_bytes,
                                min(max(1, c.tiles), MAX_TILE_STEPS),
                                (c.dram_act_read_bytes, c.dram_read_bytes - c.dram_act_read_bytes,
                                 c.dram_write_bytes)))
    return tuple(out)


def fastest(estimates: Sequence[UnitEstimate], clock_hz: float, dram_bw_bytes_per_s: float,
            per_operand: bool = False) -> str:
    """The unit whose estimated pass ends first (ties: the earlier one, i.e. spec order);
    ``per_operand``: the DRAM has a channel per operand."""
    if len(estimates) == 1:
        return estimates[0].unit
    times = []
    for e in estimates:
        compute_s = e.compute_cycles / clock_hz
        dram_s = e.dram_s(dram_bw_bytes_per_s, per_operand)
        times.append(max(compute_s, dram_s) + min(compute_s, dram_s) / e.steps)
    return estimates[times.index(min(times))].unit


def choose_unit(layer: Layer, hw: Hardware) -> ComputeUnit:
    """The unit that runs ``layer`` in a workload: for a GEMM layer several units can run, the
    one whose pass would end first (ties: spec order, the main unit first); else the first that
    can run it (``placement.place``). A pass is estimated from its counts alone: the longer of
    compute and DRAM time (a DRAM with a channel per operand: its busiest channel's) plus the
    shorter one's share of a tile step (the double-buffered pipeline of ``sim.timing``, without
    its stalls and on-chip bandwidth limits)."""
    return hw.unit(fastest(unit_estimates(layer, hw), float(hw.clock_hz),
                           float(hw.outermost.bandwidth_bytes_per_s),
                           hw.outermost.channel_per_operand))


def _workload_estimates(wl: Workload, hw: Hardware, batch: int | None
                        ) -> tuple[tuple[UnitEstimate, ...], ...]:
    if batch is not None:
        wl = wl.with_batch(batch)
    return tuple(unit_estimates(layer, hw) for layer in wl.layers)


def weights_retained_by(wl: Workload, hw: Hardware, units: Sequence[ComputeUnit]) -> str | None:
    """The level that keeps ``wl``'s weights across inferences on ``hw`` (``retains_weights``),
    when every layer's stored weights (at the precision its unit runs) fit its
    ``retention_capacity_bytes``; None when the chip has none or they do not fit."""
    keep = retaining_level(hw)
    if keep is None:
        return None
    total = 0
    for layer, unit in zip(wl.layers, units, strict=True):
        if layer.op in WEIGHTED_OPS:
            w_bits, a_bits = (p.bits for p in placement.resolved_precisions(layer, unit))
            total += layer_sizes(layer, w_bits, a_bits, hw.sparse_index_bits).weights_bytes
    return keep.name if total <= retention_capacity_bytes(keep) else None


def _map_workload(wl: Workload, hw: Hardware, batch: int | None, choice: Sequence[str]
                  ) -> Schedule:
    if batch is not None:
        wl = wl.with_batch(batch)
    index = {layer.name: i for i, layer in enumerate(wl.layers)}
    consumers = consumers_of(wl)
    plan = plan_activations(wl, hw, consumers, [hw.unit(name) for name in choice])
    units, resident = plan.units, plan.resident
    keep = weights_retained_by(wl, hw, units)
    colds = (cold_layers(wl.layers, units) if any(runs_cold(u) for u in hw.compute)
             else (False,) * len(wl.layers))
    out_shapes = [layer.out_shape for layer in wl.layers]
    counts: list[LayerCounts] = []
    for i, layer in enumerate(wl.layers):
        srcs = [index[s] for s in layer.inputs]
        tensor_srcs = input_sources(layer, index, out_shapes)
        if len(srcs) > len(layer.in_shapes):  # more producers than tensors: one tensor of all
            flags = [all(resident[s] for s in srcs)] * len(layer.in_shapes)
        else:
            flags = [s is not None and resident[s] for s in tensor_srcs]
        zeros = min((wl.layers[j].act_sparsity for j in consumers[i]), default=0.0)
        head, slot = plan.fused_into[i], plan.fused_input[i]
        transfer = 0
        if units[i] is not hw.main_unit:  # bytes crossing to or from the fallback unit
            a_bits = placement.resolved_precisions(layer, units[i])[1].bits
            if slot is not None:  # fused: the other inputs (the fused one is the unit's own)
                transfer += sum(_tensor_bytes(shape, a_bits) for k, (shape, s) in
                                enumerate(zip(layer.in_shapes, tensor_srcs, strict=True))
                                if k != slot and s is not None and units[s] is not units[i])
            elif any(units[s] is not units[i] for s in srcs):
                transfer += math.ceil(layer.input_elems * a_bits / 8)
            if any(units[j] is not units[i] for j in consumers[i]):
                transfer += math.ceil(layer.output_elems * a_bits / 8)
        if head is not None and slot is not None:
            head_cycles = counts[head].compute_cycles
            counts.append(memoized(
                layer, hw, units[i],
                ("fused", slot, tuple(flags), resident[i], zeros, head_cycles, transfer),
                partial(fused_layer_counts, layer, hw, units[i], fused_input=slot,
                        inputs_on_chip=flags, outputs_on_chip=resident[i],
                        output_zero_fraction=zeros, head_cycles=head_cycles,
                        transfer_bytes=transfer)))
            continue
        kept = (keep is not None and layer.op in WEIGHTED_OPS
                and any(m.name == keep for m in unit_view(hw, units[i]).memory))
        cold = colds[i] and runs_cold(units[i])
        counts.append(memoized(
            layer, hw, units[i], (tuple(flags), resident[i], transfer, zeros, kept, cold),
            partial(map_layer, layer, hw, units[i], inputs_on_chip=flags,
                    outputs_on_chip=resident[i], transfer_bytes=transfer,
                    output_zero_fraction=zeros, weights_retained=kept, cold=cold)))
    deps = tuple(tuple(index[s] for s in layer.inputs) for layer in wl.layers)
    return Schedule(workload=wl, hardware=hw, batch=wl.batch, layers=tuple(counts), deps=deps)
