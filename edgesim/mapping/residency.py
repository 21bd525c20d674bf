"""Where a workload's activations live on a chip: fused output stages and on-chip residency.

**Fusion.** Layer ``j`` runs in the output stage of the unit that computes its producer ``p``
when that unit lists ``j``'s op in ``fuses``, ``p`` is the layer just before ``j`` in execution
order, ``j`` is ``p``'s only consumer, and ``p`` runs on that unit itself or is fused into it
(chains fuse: conv -> add -> relu). The tensor between ``p`` and ``j`` never exists in memory;
``j``'s other inputs (a residual) are read from where they live.

**Residency.** Every tensor that exists in memory (an output not consumed inside a fusion group)
lives from its producer to its last consumer in execution order. It stays on chip when it fits
a parking buffer (``topology.parking_buffers``: the outermost shared buffers holding outputs and
inputs, as its producer's unit sees the chip; a buffer one of its readers' units does not reach,
by the unit's ``reaches``, sends it home: by default every unit reaches every buffer) for that
whole lifetime beside
the tensors already parked there, up to ``topology.parking_capacity_bytes`` of each buffer;
otherwise it is written
to its home (DRAM) once and every consumer reads it back. Tensors are placed first fit in
execution order (the earliest produced first), so residual and concat inputs that live across
several layers stay on chip when the buffers hold them. Model inputs live in the home (the host
writes them) and model outputs are written there. A spec with ``residency: next_layer`` keeps
only a tensor whose one reader is the next layer and that fits a parking buffer's share alone
(ZigZag's rule, for like-for-like checks).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from edgesim.hardware.model import ComputeUnit, Hardware, Residency
from edgesim.mapping import placement
from edgesim.mapping.topology import parking_buffers, parking_capacity_bytes, reaches, unit_view
from edgesim.workload.ir import Workload
from edgesim.workload.layer import Layer


@dataclass(frozen=True)
class ActivationPlan:
    """Per layer (execution order): the unit it runs on, the fusion group it belongs to, and
    whether its output stays on chip."""

    units: tuple[ComputeUnit, ...]  # a fused layer runs on its group head's unit
    fused_into: tuple[int | None, ...]  # the group head whose output stage runs it; None: own pass
    fused_input: tuple[int | None, ...]  # which ``in_shapes`` entry the fused tensor is
    materialized: tuple[bool, ...]  # the output exists in memory (not consumed inside a group)
    resident: tuple[bool, ...]  # the output never goes home (parked, or never materialized)
    parked: tuple[str | None, ...]  # the buffer a parked output occupies


def consumers_of(wl: Workload) -> list[list[int]]:
    """Indices of the layers that read each layer's output (execution order)."""
    index = {layer.name: i for i, layer in enumerate(wl.layers)}
    out: list[list[int]] = [[] for _ in wl.layers]
    for j, layer in enumerate(wl.layers):
        for src in dict.fromkeys(layer.inputs):
            out[index[src]].append(j)
    return out


def input_sources(layer: Layer, producers: Mapping[str, int],
                  out_shapes: Sequence[tuple[int, ...]]) -> list[int | None]:
    """The producing layer's index of each input tensor (``layer.in_shapes`` order).

    Inputs pair with ``in_shapes`` in order; a shape left over (an input named once but used
    twice, as ``add(x, x)``) belongs to a named producer of the same shape, else it is a model
    input or a constant (``None``: it lives in DRAM); ``layer.fresh_inputs`` are model inputs.
    """
    srcs = [producers[s] for s in layer.inputs]
    out: list[int | None] = []
    for i, shape in enumerate(layer.in_shapes):
        if i < len(srcs):
            out.append(srcs[i])
            continue
        if i in layer.fresh_inputs:
            out.append(None)
            continue
        same = [s for s in srcs if tuple(out_shapes[s]) == tuple(shape)]
        out.append(same[0] if same else None)
    return out


def _fusion(wl: Workload, units: list[ComputeUnit], consumers: Sequence[Sequence[int]],
            ) -> tuple[list[int | None], list[int | None]]:
    heads: list[int | None] = [None] * len(wl.layers)
    slot: list[int | None] = [None] * len(wl.layers)
    index = {layer.name: i for i, layer in enumerate(wl.layers)}
    out_shapes = [layer.out_shape for layer in wl.layers]
    for j, layer in enumerate(wl.layers):
        p = j - 1
        if p < 0 or list(consumers[p]) != [j] or len(layer.inputs) > len(layer.in_shapes):
            continue
        # The fused tensor must be one input slot (not ``add(x, x)`` of the producer's output).
        slots = [k for k, s in enumerate(input_sources(layer, index, out_shapes)) if s == p]
        if len(slots) != 1:
            continue
        prev = heads[p]
        head = prev if prev is not None else p
        if layer.op not in units[head].fuses:
            continue
        heads[j] = head
        slot[j] = slots[0]
    return heads, slot


def output_bytes(wl: Workload, units: Sequence[ComputeUnit]) -> list[int]:
    """Bytes of each layer's output at its activation precision on the unit that makes it."""
    return [math.ceil(layer.output_elems
                      * placement.resolved_precisions(layer, units[i])[1].bits / 8)
            for i, layer in enumerate(wl.layers)]


def plan_activations(wl: Workload, hw: Hardware,
                     consumers: Sequence[Sequence[int]] | None = None,
                     units: Sequence[ComputeUnit] | None = None) -> ActivationPlan:
    """Fusion groups and on-chip residency of ``wl`` on ``hw`` (see the module docstring);
    ``units``: the unit of each layer (default: the first that can run it)."""
    consumers = consumers if consumers is not None else consumers_of(wl)
    n = len(wl.layers)
    units = list(units) if units is not None else [placement.place(layer, hw)
                                                   for layer in wl.layers]
    heads, slot = _fusion(wl, units, consumers)
    for j, h in enumerate(heads):
        if h is not None:
            units[j] = units[h]
    materialized = [not (len(consumers[i]) == 1 and heads[consumers[i][0]] is not None
                         and i == consumers[i][0] - 1) for i in range(n)]
    sizes = output_bytes(wl, units)
    buffers = parking_buffers(hw)
    views = {u.name: parking_buffers(unit_view(hw, u)) for u in hw.compute
             if u.reaches is not None}
    occupancy = {m.name: [0] * n for m in (*buffers, *(b for v in views.values() for b in v))}
    resident = [not m for m in materialized]
    parked: list[str | None] = [None] * n
    next_only = hw.residency == Residency.NEXT_LAYER
    for i in range(n):
        if not materialized[i] or not consumers[i]:
            continue
        if next_only:  # ZigZag's rule: the one reader is next, and the tensor fits alone
            resident[i] = list(consumers[i]) == [i + 1] and any(
                sizes[i] <= parking_capacity_bytes(m) and reaches(units[i + 1], m)
                for m in views.get(units[i].name, buffers))
            continue
        last = max(consumers[i])
        # The producer's unit's parking buffers; one a reader's unit does not reach sends the
        # tensor home (the counts keep a parked output where its producer writes it).
        for m in views.get(units[i].name, buffers):
            if not all(reaches(units[j], m) for j in consumers[i]):
                break
            occ = occupancy[m.name]
            if max(occ[i:last + 1]) + sizes[i] <= parking_capacity_bytes(m):
                for k in range(i, last + 1):
                    occ[k] += sizes[i]
                resident[i], parked[i] = True, m.name
                break
    return ActivationPlan(tuple(units), tuple(heads), tuple(slot), tuple(materialized),
                          tuple(resident), tuple(parked))
