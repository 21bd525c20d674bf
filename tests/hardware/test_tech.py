"""Tests of the technology tables (edgesim.hardware.tech) against the figures they cite."""

from __future__ import annotations

import pytest

from edgesim.hardware import tech
from edgesim.vocab import OpClass

PRECISIONS = ["int1", "int2", "int4", "int8", "int16", "int32", "fp16", "bf16", "fp32"]


def test_int8_mac_is_horowitz_figure() -> None:
    # energy.md: "an int8 MAC ~ 0.23 pJ" (Horowitz 8b mult 0.2 + 8b add 0.03). edgesim accumulates
    # at the 16-bit product width (0.2 + 0.05 = 0.25 pJ), within 10 % of the quoted figure.
    assert tech.op_energy_45_pj(OpClass.MAC, "int8") == pytest.approx(0.23, rel=0.1)


def test_anchor_points_reproduced() -> None:
    # Horowitz ISSCC 2014 (energy.md), 45 nm.
    assert tech.op_energy_45_pj(OpClass.ADD, "int8") == pytest.approx(0.03)
    assert tech.op_energy_45_pj(OpClass.ADD, "int32") == pytest.approx(0.1)
    assert tech.op_energy_45_pj(OpClass.MULT, "int8") == pytest.approx(0.2)
    assert tech.op_energy_45_pj(OpClass.MULT, "int32") == pytest.approx(3.1)
    assert tech.op_energy_45_pj(OpClass.MULT, "fp16") == pytest.approx(1.1)
    assert tech.op_energy_45_pj(OpClass.ADD, "fp32") == pytest.approx(0.9)
    assert tech.op_area_45_um2(OpClass.MULT, "int32") == pytest.approx(3495)


def test_adder_vs_multiplier_ratios() -> None:
    # energy.md: an 8-bit adder is ~6.7x cheaper in energy and ~7.8x smaller than an 8-bit mult.
    e = tech.op_energy_45_pj(OpClass.MULT, "int8") / tech.op_energy_45_pj(OpClass.ADD, "int8")
    a = tech.op_area_45_um2(OpClass.MULT, "int8") / tech.op_area_45_um2(OpClass.ADD, "int8")
    assert e == pytest.approx(6.7, rel=0.01)
    assert a == pytest.approx(7.8, rel=0.01)


def test_addernet_pe_cheaper_than_mac_but_more_than_add() -> None:
    # energy.md: |x - w| accumulate is "roughly two adders' worth versus a multiplier and an adder".
    for p in ("int8", "int16", "fp16", "fp32"):
        adder = tech.op_energy_45_pj(OpClass.ADDER, p)
        assert tech.op_energy_45_pj(OpClass.ADD, p) < adder < tech.op_energy_45_pj(OpClass.MAC, p)
    two_adds = 2 * tech.op_energy_45_pj(OpClass.ADD, "int16")
    assert tech.op_energy_45_pj(OpClass.ADDER, "int8") == pytest.approx(two_adds, rel=0.1)


@pytest.mark.parametrize("op", list(OpClass))
def test_monotone_in_bits(op: OpClass) -> None:
    ints = [tech.op_energy_45_pj(op, f"int{b}") for b in (1, 2, 4, 8, 16, 32)]
    assert ints == sorted(ints) and len(set(ints)) == len(ints)
    areas = [tech.op_area_45_um2(op, f"int{b}") for b in (1, 2, 4, 8, 16, 32)]
    assert areas == sorted(areas)
    assert tech.op_energy_45_pj(op, "fp16") < tech.op_energy_45_pj(op, "fp32")
    assert tech.op_energy_45_pj(op, "bf16") <= tech.op_energy_45_pj(op, "fp16")


def test_multiplier_grows_like_bits_squared_adder_linearly() -> None:
    m = tech.op_energy_45_pj(OpClass.MULT, "int16") / tech.op_energy_45_pj(OpClass.MULT, "int8")
    a = tech.op_energy_45_pj(OpClass.ADD, "int4") / tech.op_energy_45_pj(OpClass.ADD, "int8")
    assert m == pytest.approx(4.0, rel=0.05)
    assert a == pytest.approx(0.5)


def test_sram_fit_through_horowitz_points() -> None:
    # Horowitz: 64-bit access of 8 KB 10 pJ, 32 KB 20 pJ, 1 MB 100 pJ; the fit is within 10 %.
    for size, e in tech.SRAM_POINTS_64B.items():
        assert tech.sram_access_energy_45_pj(size, 8) == pytest.approx(e, rel=0.1)
    assert tech.sram_access_energy_45_pj(4096, 8) < tech.sram_access_energy_45_pj(8192, 8)
    # wider words cost more per access, less per byte
    narrow, wide = (tech.sram_access_energy_45_pj(65536, w) for w in (8, 64))
    assert narrow < wide and wide / 64 < narrow / 8


def test_regfile_cheaper_than_sram() -> None:
    assert (tech.regfile_access_energy_45_pj(512, 2)
            < tech.sram_access_energy_45_pj(8192, 2))


@pytest.mark.parametrize("kind", list(tech.DramType))
def test_dram_word_costs_orders_more_than_a_mac(kind: tech.DramType) -> None:
    # energy.md: a DRAM word costs two to three orders of magnitude more than a MAC.
    word_pj = tech.dram_pj_per_byte(kind) * 8
    assert word_pj >= 100 * tech.op_energy_45_pj(OpClass.MAC, "int8")


def test_dram_types_ordered() -> None:
    # Published trend: DDR4 > LPDDR4 > LPDDR4X > LPDDR5 > HBM2 in pJ/bit.
    order = [tech.DramType.DDR4, tech.DramType.LPDDR4, tech.DramType.LPDDR4X,
             tech.DramType.LPDDR5, tech.DramType.HBM2]
    values = [tech.DRAM_PJ_PER_BIT[k] for k in order]
    assert values == sorted(values, reverse=True)
    assert tech.DRAM_PJ_PER_BIT[tech.DramType.LPDDR4] == pytest.approx(8.0)  # Accelergy


def test_scaling_monotone_and_anchored() -> None:
    nodes = [5, 7, 10, 12, 14, 16, 20, 22, 28, 32, 40, 45, 65, 90, 130, 180]
    e = [tech.energy_scale(n) for n in nodes]
    a = [tech.area_scale(n) for n in nodes]
    assert e == sorted(e) and a == sorted(a)
    assert tech.energy_scale(45) == pytest.approx(1.0)
    assert tech.area_scale(45) == pytest.approx(1.0)
    # 65 nm at 1.1 V: (65/45) * (1.1/0.9)^2
    assert tech.energy_scale(65) == pytest.approx(65 / 45 * (1.1 / 0.9) ** 2)
    assert tech.op_energy_pj(OpClass.MAC, "int8", 7) < tech.op_energy_pj(OpClass.MAC, "int8", 28)


def test_unknown_precision() -> None:
    from edgesim.errors import SpecError

    with pytest.raises(SpecError, match="unknown precision"):
        tech.precision_bits("int64")


def test_odd_integer_widths_accumulate_at_twice_their_bits() -> None:
    # int12 accumulates in 24 bits: its MAC lies between int8's (16-bit add) and int16's (32-bit)
    macs = [tech.op_energy_45_pj(OpClass.MAC, p) for p in ("int8", "int12", "int16")]
    assert macs[0] < macs[1] < macs[2]
    assert tech.accumulator_bits("int12") == 24 and tech.accumulator_bits("int16") == 32
    assert tech.accumulator_bits("int32") == 32 and tech.accumulator_bits("bf16") == 32


def test_a_spec_with_int12_units_loads() -> None:
    from edgesim.hardware import load_hardware

    hw = load_hardware("edge-npu", overrides={"compute.pe_array.precisions": ["int12"]})
    assert hw.main_unit.native_precision.bits == 12
