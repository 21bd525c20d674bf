"""Where operands live on a chip: the buffers holding each operand, the activation home, budgets.

* Each operand lives in the buffers whose ``holds`` lists it (outer to inner, ``chain``).
* Activations live off the array in their *home*: DRAM, or on an MCU (flash outermost) the first
  SRAM that holds them (``activation_home``). Weights live in the outermost level.
* Activation residency: a tensor that a producer hands to its next layer stays on chip when it
  fits in half of the on-chip capacity that holds activations (``activation_budget_bytes``).
* Word-granular array accesses: an array moves one vector of elements per access to the on-chip
  buffer that feeds it, in whole words of that buffer's ``word`` (``array_word_bytes``); off-chip
  sources are byte-granular.
"""

from __future__ import annotations

from edgesim.hardware.model import Hardware, MemoryLevel, MemoryType, Operand

IN, W, OUT = Operand.INPUTS, Operand.WEIGHTS, Operand.OUTPUTS


def onchip_buffers(hw: Hardware) -> list[MemoryLevel]:
    """Shared on-chip levels (SRAM, caches), outer to inner; per-PE files are excluded."""
    return [m for m in hw.memory[1:] if not m.is_offchip and not m.per_pe]


def per_pe_levels(hw: Hardware) -> list[MemoryLevel]:
    """Register files (and scratchpads) with one instance per PE."""
    return [m for m in hw.memory if m.per_pe]


def chain(hw: Hardware, op: Operand) -> list[MemoryLevel]:
    """Buffers holding ``op``, outer to inner."""
    return [m for m in onchip_buffers(hw) if op in m.holds]


def activation_home(hw: Hardware) -> MemoryLevel | None:
    """Where activations live off the array: DRAM, or on an MCU (flash outermost) the first SRAM."""
    if hw.outermost.type != MemoryType.FLASH:
        return hw.outermost
    for m in onchip_buffers(hw):
        if IN in m.holds or OUT in m.holds:
            return m
    return None


def activation_budget_bytes(hw: Hardware) -> int:
    """On-chip bytes an activation may occupy between layers: half the largest buffer holding
    both inputs and outputs, or half of the input buffer when inputs and outputs are split
    (the output buffer becomes the next layer's input buffer by swapping roles)."""
    best = 0
    for m in onchip_buffers(hw):
        if IN in m.holds and OUT in m.holds:
            best = max(best, m.total_bytes // 2)
    if best == 0:
        ins = [m.total_bytes for m in onchip_buffers(hw) if IN in m.holds]
        outs = [m.total_bytes for m in onchip_buffers(hw) if OUT in m.holds]
        if ins and outs:
            best = min(max(ins), max(outs)) // 2
    return best


def array_word_bytes(hw: Hardware, op: Operand) -> int:
    """Access width of the on-chip buffer feeding the array ``op`` (the innermost shared buffer
    holding it); 1 (byte-granular, no rounding) when it comes from off chip."""
    c = chain(hw, op)
    home = activation_home(hw) if op != W else hw.outermost
    c = [m for m in c if m is not home]
    if not c or c[-1].is_offchip:
        return 1
    return max(1, c[-1].word_bytes)
