"""Where operands live on a chip: the buffers holding each operand, the activation home, budgets.

* Each operand lives in the buffers whose ``holds`` lists it (outer to inner, ``chain``).
* Activations live off the array in their *home*: DRAM, or on an MCU (flash outermost) the first
  SRAM that holds them (``activation_home``). Weights live in the outermost level, or, on a chip
  with a level that ``retains_weights`` (``retaining_level``) and a model whose weights all fit
  its ``retention_capacity_bytes``, in that level across inferences (steady state).
* Activation residency (``mapping.residency``): tensors kept between layers are parked in the
  outermost buffers holding outputs and inputs (``parking_buffers``), up to half of each.
* Partial sums accumulate in the ``accumulator`` (the innermost buffer holding outputs), up to
  ``psum_capacity_bytes``; the rest go to ``psum_spill_level`` and come back.
* A unit that declares ``reaches`` sees only the outermost level and those buffers
  (``unit_view``); a tensor is kept in its producer's parking buffer only when every reader's
  unit reaches it too.
* A buffer whose half cannot stage one fold of an array's weights (``staged_folds``) passes
  them through unbuffered: the array waits for each fetch (``sim.timing`` stalls it).
* Word-granular array accesses: an array moves one vector of elements per access to the on-chip
  buffer that feeds it, in whole words of that buffer's ``word`` (``array_word_bytes``); off-chip
  sources are byte-granular.
"""

from __future__ import annotations

import dataclasses

from edgesim.hardware.model import ComputeUnit, Hardware, MemoryLevel, MemoryType, Operand

IN, W, OUT = Operand.INPUTS, Operand.WEIGHTS, Operand.OUTPUTS


def unit_view(hw: Hardware, unit: ComputeUnit) -> Hardware:
    """The chip as ``unit`` sees it: the outermost level and the on-chip levels it ``reaches``
    (``hw`` itself when the unit declares none: it reaches every level)."""
    if unit.reaches is None:
        return hw
    return dataclasses.replace(hw, memory=(hw.outermost, *[
        m for m in hw.memory[1:] if m.name in unit.reaches]))


def reaches(unit: ComputeUnit, level: MemoryLevel) -> bool:
    """Whether ``unit`` reads and writes ``level`` (the outermost level: always)."""
    return unit.reaches is None or level.is_offchip or level.name in unit.reaches


def staged_folds(hw: Hardware, unit: ComputeUnit, weight_bits: int) -> bool:
    """Whether every shared buffer on the weights' way to ``unit`` can stage one fold of its
    weights in half its size (the other half double-buffers the next; a latency question, so
    also on a level whose tiles may take all of it, ``double_buffered: false``)."""
    fold = unit.weight_fold_bytes(weight_bits)
    return not fold or all(m.total_bytes // 2 >= fold for m in chain(hw, W))


def onchip_buffers(hw: Hardware) -> list[MemoryLevel]:
    """Shared on-chip levels (SRAM, caches), outer to inner; per-PE files are excluded."""
    return [m for m in hw.memory[1:] if not m.is_offchip and not m.per_pe]


# ``chain`` by the memory tuple's identity (the tuple kept beside, so its id is not reused): the
# mappers ask it several times per layer, of few distinct hierarchies.
_CHAINS: dict[tuple[int, Operand], tuple[tuple[MemoryLevel, ...], tuple[MemoryLevel, ...]]] = {}


def per_pe_levels(hw: Hardware) -> list[MemoryLevel]:
    """Register files (and scratchpads) with one instance per PE."""
    return [m for m in hw.memory if m.per_pe]


def chain(hw: Hardware, op: Operand) -> list[MemoryLevel]:
    """Buffers holding ``op``, outer to inner."""
    hit = _CHAINS.get((id(hw.memory), op))
    if hit is None or hit[0] is not hw.memory:
        hit = (hw.memory, tuple(m for m in onchip_buffers(hw) if op in m.holds))
        if len(_CHAINS) >= 4096:
            _CHAINS.pop(next(iter(_CHAINS)))
        _CHAINS[(id(hw.memory), op)] = hit
    return list(hit[1])


def activation_home(hw: Hardware) -> MemoryLevel | None:
    """Where activations live off the array: DRAM, or on an MCU (flash outermost) the first SRAM."""
    if hw.outermost.type != MemoryType.FLASH:
        return hw.outermost
    for m in onchip_buffers(hw):
        if IN in m.holds or OUT in m.holds:
            return m
    return None


def parking_buffers(hw: Hardware) -> list[MemoryLevel]:
    """Shared on-chip buffers that keep activations between layers: the outermost buffer holding
    outputs, then the outermost holding inputs (below the activation home; one buffer when a
    level holds both). Every unit reaches them unless it declares ``reaches`` (``unit_view``)."""
    home = activation_home(hw)
    out: list[MemoryLevel] = []
    if not [m for m in chain(hw, OUT) if m is not home]:
        return out  # outputs go straight home: nothing can be kept
    for op in (OUT, IN):
        c = [m for m in chain(hw, op) if m is not home]
        if c and c[0] not in out:
            out.append(c[0])
    return out


def retaining_level(hw: Hardware) -> MemoryLevel | None:
    """The level that keeps a model's weights across inferences (``retains_weights``), if the
    chip (as a unit sees it) has one."""
    return next((m for m in hw.memory if m.retains_weights), None)


def retention_capacity_bytes(level: MemoryLevel) -> int:
    """Bytes of weights a retaining level keeps: all of it when it holds only weights, else the
    half that parked activations do not take (``parking_capacity_bytes``)."""
    if level.holds == frozenset({W}):
        return level.total_bytes
    return level.total_bytes - parking_capacity_bytes(level)


def parking_capacity_bytes(level: MemoryLevel) -> int:
    """Bytes of a parking buffer that tensors kept between layers may occupy together: half of
    it (the other half holds the running layer's tiles), single-buffered or not."""
    return level.total_bytes // 2


def accumulator(hw: Hardware) -> MemoryLevel | None:
    """Where an array's partial sums accumulate between passes: the innermost shared buffer
    holding outputs (declare an accumulator as an SRAM level holding only ``outputs``, innermost,
    as DaVinci's L0C or the TPU's accumulators); None when outputs have no on-chip buffer."""
    home = activation_home(hw)
    c = [m for m in chain(hw, OUT) if m is not home]
    return c[-1] if c else None


def psum_spill_level(hw: Hardware) -> MemoryLevel:
    """Where partial sums that do not fit the accumulator go and come back from: the next
    buffer up that holds outputs, else the activation home (DRAM)."""
    home = activation_home(hw)
    c = [m for m in chain(hw, OUT) if m is not home]
    if len(c) >= 2:
        return c[-2]
    return home if home is not None else hw.outermost


def psum_capacity_bytes(level: MemoryLevel) -> int:
    """Bytes of the accumulator that live partial sums may occupy: half (the other half drains
    the previous tile's finished outputs), as the tiler gives a stationary operand; all of a
    single-buffered one that holds only outputs (half when it also holds inputs or weights, as
    the tiler shares it)."""
    if not level.double_buffered and level.holds == frozenset({OUT}):
        return level.total_bytes
    return level.total_bytes // 2


def array_word_bytes(hw: Hardware, op: Operand) -> int:
    """Access width of the on-chip buffer feeding the array ``op`` (the innermost shared buffer
    holding it); 1 (byte-granular, no rounding) when it comes from off chip."""
    c = chain(hw, op)
    home = activation_home(hw) if op != W else hw.outermost
    c = [m for m in c if m is not home]
    if not c or c[-1].is_offchip:
        return 1
    return max(1, c[-1].word_bytes)
