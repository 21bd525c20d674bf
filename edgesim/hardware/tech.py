"""Technology tables: energy and area per operation and per memory access, with sources and scaling.

Every figure is at 45 nm, 0.9 V unless said otherwise, and cites where it comes from
(`docs/energy_reference.md` collects the primary numbers):

* [H14] M. Horowitz, "Computing's energy problem (and what we can do about it)", ISSCC 2014
  (45 nm, 0.9 V): integer add 8b 0.03 pJ, 16b 0.05 pJ (check), 32b 0.1 pJ; integer multiply 8b
  0.2 pJ, 32b 3.1 pJ; FP add 16b 0.4 pJ, 32b 0.9 pJ; FP multiply 16b 1.1 pJ, 32b 3.7 pJ;
  SRAM per 64-bit access 8 KB 10 pJ, 32 KB 20 pJ, 1 MB 100 pJ; DRAM 1.3-2.6 nJ per 64 bits.
  Areas (um2, check): add 8b 36, 16b 67, 32b 137; FP add 16b 1360, 32b 4184; mult 8b 282,
  32b 3495; FP mult 16b 1640, 32b 7700.
* [ALD] Aladdin's 40 nm table (Shao et al., ISCA 2014): register 0.009 pJ/bit.
* [ACC] Accelergy Eyeriss-like example (65 nm): LPDDR4 512 pJ per 64-bit access = 8 pJ/bit.
* [OC17] M. O'Connor et al., "Fine-grained DRAM", MICRO 2017: HBM2 3.9 pJ/bit, DDR4-class
  ~15 pJ/bit (device + I/O).
* [MIS07] K. Mistry et al., IEDM 2007 (Intel 45 nm): 6T SRAM cell 0.346 um2.
* [NG45] NanGate 45 nm open cell library: DFF_X1 4.52 um2.

Interpolation rules (documented, used for every precision not in [H14]):
* integer adders: energy and area grow linearly in bits, piecewise-linear through the 8/16/32-bit
  points (proportional to bits below 8 bits);
* integer multipliers: a power law through the 8- and 32-bit points, E = 0.2 pJ (b/8)^1.976
  (the exponent is log(3.1/0.2)/log(4), i.e. ~bits^2); area likewise (exponent 1.82);
* bf16 (no [H14] figure): multiplier scaled from fp16 by the squared mantissa width (8/11)^2,
  adder taken equal to fp16 (alignment and normalisation dominate) -- an estimate;
* a MAC is a multiply at b bits plus an accumulate at the accumulator precision (2b for
  integers, capped at 32; fp32 for every float format);
* an AdderNet PE (|x - w| accumulate) is a subtract at b bits, the absolute value (a conditional
  negate: half an adder for integers, free for floats: the sign bit), and the accumulate;
* compare = one add at b bits.

Technology scaling (a simpler stated rule in place of Stillmaker & Baas 2017): dynamic energy is
C V^2 with capacitance proportional to the node and the nominal supply voltage of the node
(:data:`NOMINAL_VDD`), so ``E(node) = E45 * (node/45) * (V(node)/0.9)^2``; area scales with
``(node/45)^2``. DRAM and flash energies live on other chips and are never scaled.
"""

from __future__ import annotations

import math
from enum import StrEnum

from edgesim.errors import SpecError, WorkloadError
from edgesim.vocab import FLOAT_PRECISIONS, OpClass, Precision
from edgesim.vocab import precision_bits as vocab_precision_bits

REF_NODE_NM = 45.0
REF_VDD_V = 0.9  # [H14]

# Nominal core supply voltage by node (typical foundry/ITRS values; used only for scaling).
NOMINAL_VDD: dict[float, float] = {
    180.0: 1.8, 130.0: 1.3, 90.0: 1.2, 65.0: 1.1, 45.0: 0.9, 40.0: 0.9, 32.0: 0.9, 28.0: 0.9,
    22.0: 0.8, 20.0: 0.8, 16.0: 0.8, 14.0: 0.8, 12.0: 0.8, 10.0: 0.75, 7.0: 0.7, 5.0: 0.7,
    3.0: 0.7,
}

# ---- [H14] anchor points, 45 nm -------------------------------------------------------------
INT_ADD_PJ = {8: 0.03, 16: 0.05, 32: 0.1}  # [H14] (16b marked "check" in energy.md)
INT_MULT_PJ = {8: 0.2, 32: 3.1}  # [H14]
FP_ADD_PJ = {"fp16": 0.4, "fp32": 0.9, "bf16": 0.4}  # [H14]; bf16 = fp16 (estimate)
FP_MULT_PJ = {"fp16": 1.1, "fp32": 3.7, "bf16": 1.1 * (8 / 11) ** 2}  # [H14]; bf16 estimate
INT_ADD_UM2 = {8: 36.0, 16: 67.0, 32: 137.0}  # [H14] (check)
INT_MULT_UM2 = {8: 282.0, 32: 3495.0}  # [H14] (check)
FP_ADD_UM2 = {"fp16": 1360.0, "fp32": 4184.0, "bf16": 1360.0}  # [H14] (check); bf16 = fp16
FP_MULT_UM2 = {"fp16": 1640.0, "fp32": 7700.0, "bf16": 1640.0 * (8 / 11) ** 2}  # [H14]
DFF_UM2_PER_BIT = 4.52  # [NG45] one flip-flop per stored bit (PE pipeline/accumulator regs)

_MULT_EXP_E = math.log(INT_MULT_PJ[32] / INT_MULT_PJ[8]) / math.log(4.0)  # ~1.976
_MULT_EXP_A = math.log(INT_MULT_UM2[32] / INT_MULT_UM2[8]) / math.log(4.0)  # ~1.82


def precision_bits(precision: str) -> int:
    """Bits of ``precision`` (``int1``..``int32``, ``fp16``, ``bf16``, ``fp32``)."""
    try:
        return vocab_precision_bits(precision)
    except WorkloadError as exc:  # the vocabulary's rule, reported as a spec problem
        raise SpecError(exc.detail) from None


def _piecewise_linear(points: dict[int, float], bits: int) -> float:
    keys = sorted(points)
    if bits <= keys[0]:
        return points[keys[0]] * bits / keys[0]
    for lo, hi in zip(keys, keys[1:], strict=False):
        if bits <= hi:
            t = (bits - lo) / (hi - lo)
            return points[lo] + t * (points[hi] - points[lo])
    return points[keys[-1]] * bits / keys[-1]


def _int_add(bits: int, area: bool) -> float:
    return _piecewise_linear(INT_ADD_UM2 if area else INT_ADD_PJ, bits)


def _int_mult(bits: int, area: bool) -> float:
    if area:
        return INT_MULT_UM2[8] * (bits / 8) ** _MULT_EXP_A
    return INT_MULT_PJ[8] * (bits / 8) ** _MULT_EXP_E


def accumulator_bits(precision: str) -> int:
    """Width a MAC accumulates in: 2b for integers (at most 32 bits), fp32 for floats."""
    if precision in FLOAT_PRECISIONS:
        return Precision.FP32.bits
    return min(32, 2 * precision_bits(precision))


def _accumulate(precision: str, area: bool) -> float:
    """The accumulator's add: fp32 for float formats, an integer adder of accumulator width."""
    if precision in FLOAT_PRECISIONS:
        return _add(Precision.FP32, area)
    return _int_add(accumulator_bits(precision), area)


def _add(precision: str, area: bool) -> float:
    if precision in FLOAT_PRECISIONS:
        return (FP_ADD_UM2 if area else FP_ADD_PJ)[precision]
    return _int_add(precision_bits(precision), area)


def _mult(precision: str, area: bool) -> float:
    if precision in FLOAT_PRECISIONS:
        return (FP_MULT_UM2 if area else FP_MULT_PJ)[precision]
    return _int_mult(precision_bits(precision), area)


def _op45(op: OpClass, precision: str, area: bool) -> float:
    if op == OpClass.MULT:
        return _mult(precision, area)
    if op == OpClass.ADD:  # also a compare: one add at b bits
        return _add(precision, area)
    if op == OpClass.MAC:
        return _mult(precision, area) + _accumulate(precision, area)
    # ADDER: subtract + |.| + accumulate; |.| is half an adder for integers, free for floats.
    absolute = 0.0 if precision in FLOAT_PRECISIONS else 0.5 * _add(precision, area)
    return _add(precision, area) + absolute + _accumulate(precision, area)


def op_energy_45_pj(op: OpClass, precision: str) -> float:
    """Energy of one ``op`` at ``precision`` at 45 nm, 0.9 V, from [H14] and the stated rules."""
    return _op45(op, precision, area=False)


def op_area_45_um2(op: OpClass, precision: str) -> float:
    """Datapath area of one ``op`` unit at ``precision`` at 45 nm (um2), [H14] and the rules."""
    return _op45(op, precision, area=True)


def nominal_vdd_v(node_nm: float) -> float:
    """Nominal supply voltage of a node: the table value, log-linear between table nodes."""
    nodes = sorted(NOMINAL_VDD)
    if node_nm <= nodes[0]:
        return NOMINAL_VDD[nodes[0]]
    if node_nm >= nodes[-1]:
        return NOMINAL_VDD[nodes[-1]]
    for lo, hi in zip(nodes, nodes[1:], strict=False):
        if lo <= node_nm <= hi:
            t = (math.log(node_nm) - math.log(lo)) / (math.log(hi) - math.log(lo))
            return NOMINAL_VDD[lo] + t * (NOMINAL_VDD[hi] - NOMINAL_VDD[lo])
    raise AssertionError("unreachable")


def energy_scale(node_nm: float) -> float:
    """Factor moving a 45 nm dynamic energy to ``node_nm``: (node/45) * (V(node)/0.9)^2."""
    return (node_nm / REF_NODE_NM) * (nominal_vdd_v(node_nm) / REF_VDD_V) ** 2


def area_scale(node_nm: float) -> float:
    """Factor moving a 45 nm area to ``node_nm``: (node/45)^2."""
    return (node_nm / REF_NODE_NM) ** 2


def op_energy_pj(op: OpClass, precision: str, node_nm: float) -> float:
    """Energy of one ``op`` at ``precision`` scaled to ``node_nm`` (pJ)."""
    return op_energy_45_pj(op, precision) * energy_scale(node_nm)


def pe_area_mm2(op: OpClass, precision: str, node_nm: float) -> float:
    """Area of one PE at ``node_nm``: the datapath plus flip-flops for two operands and the
    accumulator (b + b + accumulator bits, [NG45]) -- control and NoC go in ``area_overhead``."""
    bits = precision_bits(precision)
    acc_bits = accumulator_bits(precision)
    regs_um2 = DFF_UM2_PER_BIT * (2 * bits + acc_bits)
    return (op_area_45_um2(op, precision) + regs_um2) * area_scale(node_nm) * 1e-6


# ---- on-chip memories -----------------------------------------------------------------------
# [H14] SRAM energy per 64-bit access: 8 KB 10 pJ, 32 KB 20 pJ, 1 MB 100 pJ. Fit: a power law
# E64(C) = A * (C / 8 KB)^K, least squares in log-log through the three points.
SRAM_POINTS_64B = {8 * 1024: 10.0, 32 * 1024: 20.0, 1024 * 1024: 100.0}


def _fit_sram() -> tuple[float, float]:
    xs = [math.log(c / 8192) for c in SRAM_POINTS_64B]
    ys = [math.log(e) for e in SRAM_POINTS_64B.values()]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    k = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mx) ** 2 for x in xs)
    return math.exp(my - k * mx), k


SRAM_FIT_A_PJ, SRAM_FIT_K = _fit_sram()  # ~10.2 pJ, ~0.473
# Per-access energy versus width: a fixed 20 % for decode/wordline plus 80 % proportional to the
# bits read (bitlines and sense amplifiers), normalised at the 64-bit access of [H14] (assumption).
SRAM_FIXED_SHARE = 0.2
CACHE_FACTOR = 1.3  # a cache also reads its tag array and compares: +30 % (assumption)
REGFILE_PJ_PER_BIT = 0.009  # [ALD] register, 40 nm (taken as 45 nm)
REGFILE_REF_BYTES = 64.0  # [ALD]'s figure is for a small register; grows as sqrt(size) above
SRAM_CELL_UM2_PER_BIT = 0.346 / 0.7  # [MIS07] 6T cell over a 70 % array efficiency (assumption)


def sram_access_energy_45_pj(size_bytes: float, word_bytes: float) -> float:
    """Energy of one ``word_bytes`` read from an SRAM of ``size_bytes`` at 45 nm (pJ)."""
    e64 = SRAM_FIT_A_PJ * (size_bytes / 8192.0) ** SRAM_FIT_K
    return e64 * (SRAM_FIXED_SHARE + (1 - SRAM_FIXED_SHARE) * (word_bytes * 8) / 64.0)


def regfile_access_energy_45_pj(size_bytes: float, word_bytes: float) -> float:
    """Energy of one ``word_bytes`` access of a register file of ``size_bytes`` at 45 nm (pJ):
    [ALD]'s 0.009 pJ/bit, growing as sqrt(size / 64 B) for larger files (assumption)."""
    growth = max(1.0, size_bytes / REGFILE_REF_BYTES) ** 0.5
    return REGFILE_PJ_PER_BIT * word_bytes * 8 * growth


def sram_area_mm2(size_bytes: float, node_nm: float) -> float:
    """Area of an SRAM of ``size_bytes`` at ``node_nm`` (mm2), [MIS07] cell over 70 % efficiency."""
    return size_bytes * 8 * SRAM_CELL_UM2_PER_BIT * area_scale(node_nm) * 1e-6


def regfile_area_mm2(size_bytes: float, node_nm: float) -> float:
    """Area of a flip-flop register file of ``size_bytes`` at ``node_nm`` (mm2), [NG45]."""
    return size_bytes * 8 * DFF_UM2_PER_BIT * area_scale(node_nm) * 1e-6


# ---- off-chip memories (not scaled with the logic node) -------------------------------------
class DramType(StrEnum):
    LPDDR4 = "lpddr4"
    LPDDR4X = "lpddr4x"
    LPDDR5 = "lpddr5"
    DDR4 = "ddr4"
    HBM2 = "hbm2"


DRAM_PJ_PER_BIT: dict[DramType, float] = {
    DramType.LPDDR4: 8.0,  # [ACC] 512 pJ per 64-bit access
    DramType.LPDDR4X: 6.5,  # uncertain: LPDDR4 with 0.6 V I/O (vs 1.1 V); vendors claim ~-20 %
    DramType.LPDDR5: 5.0,  # uncertain: vendor claims ~-30 % vs LPDDR4X
    DramType.DDR4: 15.0,  # [OC17] DDR4-class device + I/O (check)
    DramType.HBM2: 3.9,  # [OC17]
}
DRAM_SOURCE: dict[DramType, str] = {
    DramType.LPDDR4: "Accelergy Eyeriss-like example: LPDDR4 8 pJ/bit",
    DramType.LPDDR4X: "estimate (uncertain): LPDDR4 8 pJ/bit less ~20% for 0.6 V I/O",
    DramType.LPDDR5: "estimate (uncertain): ~30% below LPDDR4X",
    DramType.DDR4: "O'Connor et al. MICRO 2017: DDR4-class ~15 pJ/bit (check)",
    DramType.HBM2: "O'Connor et al. MICRO 2017: HBM2 3.9 pJ/bit",
}
# Embedded NOR flash read: ~1 pJ/bit (uncertain; eFlash macros at 40 nm report 0.3-2 pJ/bit).
FLASH_READ_PJ_PER_BIT = 1.0
# Flash is not written at inference time; a program costs orders more (~100 pJ/bit, uncertain).
FLASH_WRITE_PJ_PER_BIT = 100.0


def dram_pj_per_byte(dram_type: DramType) -> float:
    """DRAM access energy per byte (pJ/B) of ``dram_type`` (device + I/O)."""
    return DRAM_PJ_PER_BIT[dram_type] * 8
