"""What a mapped workload occupies: its weights as the chip stores them, and what does not fit."""

from __future__ import annotations

import math

from edgesim.errors import WorkloadError
from edgesim.hardware.model import MemoryType
from edgesim.mapping.counts import Schedule
from edgesim.mapping.placement import resolved_precisions
from edgesim.mapping.storage import weight_storage_bits
from edgesim.units import Dimension, format_quantity


def stored_weight_bytes(schedule: Schedule) -> int:
    """Weight storage as the chip holds it: each layer at its resolved weight precision, in the
    cheapest format mapping would use (dense, bitmap, CSR or N:M with metadata), coded as the
    chip's weight decoder reads it (shared-weight indices, Huffman)."""
    hw, wl, total_bits = schedule.hardware, schedule.workload, 0
    for lc in schedule.layers:
        try:
            layer = wl.layer(lc.layer)
        except WorkloadError:  # a mapper-made step holds no weights
            continue
        w_prec = resolved_precisions(layer, hw.unit(lc.unit))[0]
        total_bits += weight_storage_bits(layer, w_prec.bits, hw.sparse_index_bits,
                                          hw.weight_decoder)
    return math.ceil(total_bits / 8)


def _act_bytes(schedule: Schedule, i: int) -> float:
    """Input plus output activation bytes of layer ``i`` at its resolved precision."""
    lc = schedule.layers[i]
    try:
        layer = schedule.workload.layer(lc.layer)
    except WorkloadError:
        return 0.0
    bits = resolved_precisions(layer, schedule.hardware.unit(lc.unit))[1].bits
    return (layer.input_elems + layer.output_elems) * bits / 8


def capacity_warnings(schedule: Schedule, stored: int | None = None) -> tuple[str, ...]:
    """What the figures assume away: weights that the outermost level cannot hold (an MCU's
    flash), or a layer's activations that no on-chip level of an off-chip-less chip can hold.
    ``stored``: :func:`stored_weight_bytes` when the caller has it already."""
    hw = schedule.hardware
    outer = hw.outermost
    out: list[str] = []
    stored = stored_weight_bytes(schedule) if stored is None else stored
    if stored > outer.size_bytes:
        out.append(f"the weights ({format_quantity(stored, Dimension.SIZE)}) do not fit in "
                   f"{outer.name} ({format_quantity(outer.size_bytes, Dimension.SIZE)})")
    if outer.type == MemoryType.FLASH:
        sram = max((m.total_bytes for m in hw.memory[1:] if not m.per_pe), default=0)
        peak = max(_act_bytes(schedule, i) for i in range(len(schedule.layers)))
        if peak > sram:
            out.append(f"a layer's activations ({format_quantity(peak, Dimension.SIZE)}) exceed "
                       f"the largest SRAM ({format_quantity(sram, Dimension.SIZE)})")
    return tuple(out)
