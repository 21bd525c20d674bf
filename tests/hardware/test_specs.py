"""Tests of loading, building and overriding hardware specs (built-in library included)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml

from edgesim.errors import SpecError
from edgesim.hardware import (
    builtin_specs_dir,
    list_hardware,
    load_hardware,
    parse_override_value,
    spec_to_yaml,
    summary,
    tech,
    validate_spec_file,
)
from edgesim.hardware.model import Dataflow, MemoryType, Operand, Operation, UnitType, ZeroSkip
from edgesim.vocab import OpClass, OpKind

REQUIRED = {"eyeriss", "edge-npu", "sparse-npu", "adder-npu", "davinci-npu", "cortex-a76",
            "jetson-nano", "cortex-m7"}


def test_library_complete() -> None:
    names = list_hardware()
    assert set(names) >= REQUIRED
    assert names == sorted(names)


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_builtin_loads_and_is_consistent(name: str) -> None:
    hw = load_hardware(name)
    assert hw.name == name
    text = (builtin_specs_dir() / f"{name}.yaml").read_text()
    assert text.startswith("#"), "each built-in spec is headed by a comment citing its figures"
    assert hw.memory[0].is_offchip
    for u in hw.compute:
        for op in OpClass:
            assert set(u.op_energy_pj[op]) == set(u.precisions)
            assert all(e > 0 for e in u.op_energy_pj[op].values())
        assert u.energy_source
        assert u.pe_area_mm2 > 0
    for m in hw.memory:
        assert m.read_energy_pj_per_byte > 0 and m.bandwidth_bytes_per_s > 0
        assert m.energy_source
    # the outermost level costs more per byte than every on-chip level
    assert all(hw.outermost.read_energy_pj_per_byte > m.read_energy_pj_per_byte
               for m in hw.memory[1:])
    line = summary(hw)
    assert "\n" not in line and f"{hw.technology_nm:g} nm" in line
    assert validate_spec_file(builtin_specs_dir() / f"{name}.yaml").name == name


def test_eyeriss_matches_paper() -> None:
    hw = load_hardware("eyeriss")
    u = hw.main_unit
    # JSSC 2017: 12x14 PEs, row stationary, 16-bit, 65 nm, 200 MHz, zero-gating of activations
    assert (u.rows, u.cols, u.pe_count) == (12, 14, 168)
    assert u.type == UnitType.SPATIAL and u.dataflow == Dataflow.RS
    assert u.native_precision == "int16"
    assert u.zero_gating == ZeroSkip.ACTIVATIONS and u.zero_skip == ZeroSkip.NONE
    assert hw.technology_nm == 65 and hw.clock_hz == pytest.approx(200e6)
    glb = hw.level("glb")
    assert glb.size_bytes == 108 * 1024 and glb.holds == {Operand.INPUTS, Operand.OUTPUTS}
    spad = hw.level("spad")
    assert spad.per_pe and spad.instances == 168 and spad.size_bytes == (12 + 224 + 24) * 2
    assert hw.outermost.bandwidth_bytes_per_s == pytest.approx(8 * 60e6)  # 64-bit link at 60 MHz
    # ISCA 2016 normalised energies per 16-bit access: RF 1x, GLB 6x, DRAM 200x of a MAC
    mac = u.energy_pj("mac", "int16")
    assert spad.read_energy_pj_per_byte * 2 == pytest.approx(mac, rel=0.01)
    assert glb.read_energy_pj_per_byte * 2 == pytest.approx(6 * mac, rel=0.01)
    assert hw.outermost.read_energy_pj_per_byte * 2 == pytest.approx(200 * mac, rel=0.01)


def test_eyeriss_area_near_the_chip() -> None:
    # Held-out check of the area tables: the Eyeriss core is 3.5 mm x 3.5 mm = 12.25 mm2
    # (JSSC 2017); PEs + scratchpads + GLB, plus the 30 % overhead, land within 25 %.
    hw = load_hardware("eyeriss")
    area = (sum(u.pe_area_mm2 * u.pe_count for u in hw.compute)
            + sum(m.area_mm2 for m in hw.memory)) * (1 + hw.area_overhead_fraction)
    assert area == pytest.approx(12.25, rel=0.25)


def test_edge_npu_shape() -> None:
    hw = load_hardware("edge-npu")
    u = hw.main_unit
    assert u.type == UnitType.SYSTOLIC and (u.rows, u.cols) == (64, 64)
    assert u.native_precision == "int8" and u.dataflow == Dataflow.WS
    assert u.supports(OpKind.CONV2D) and not u.supports(OpKind.SOFTMAX)
    assert hw.fallback_unit == "vector" and hw.unit("vector").supports(OpKind.SOFTMAX)
    # 2 x 4096 MACs x 500 MHz = 4.1 TOPS, the Edge TPU's 4 TOPS
    assert 2 * u.pe_count * hw.clock_hz == pytest.approx(4e12, rel=0.05)
    onchip = sum(m.total_bytes for m in hw.memory if not m.is_offchip)
    assert onchip == 8 * 2**20
    for op in Operand:
        assert sum(op in m.holds for m in hw.memory[1:]) == 1  # buffers split by operand


def test_sparse_and_adder_variants_differ_only_where_declared() -> None:
    base, sparse, adder = (load_hardware(n) for n in ("edge-npu", "sparse-npu", "adder-npu"))
    assert sparse.main_unit.zero_skip == ZeroSkip.WEIGHTS
    assert sparse.main_unit.nm_sparsity == ("2:4",)
    assert base.main_unit.zero_skip == ZeroSkip.NONE and base.main_unit.nm_sparsity == ()
    assert sparse.memory == base.memory and sparse.clock_hz == base.clock_hz
    assert adder.main_unit.operation == Operation.ADDER
    assert adder.main_unit.supports(OpKind.ADDER_CONV2D)
    assert not adder.main_unit.supports(OpKind.CONV2D)
    # adder PEs are cheaper and smaller than MAC PEs of the same precision
    assert adder.main_unit.pe_area_mm2 < base.main_unit.pe_area_mm2
    assert (adder.main_unit.energy_pj("adder", "int8") < base.main_unit.energy_pj("mac", "int8"))


def test_cpu_gpu_mcu_specs() -> None:
    a76, nano, m7, dav = (load_hardware(n) for n in
                          ("cortex-a76", "jetson-nano", "cortex-m7", "davinci-npu"))
    assert a76.kind == "cpu" and a76.main_unit.lanes == 8 and a76.main_unit.packs_narrow
    assert [m.type for m in a76.memory[1:]] == [MemoryType.CACHE] * 3
    assert 0 < a76.main_unit.efficiency < 1
    assert nano.main_unit.pe_count == 128 and nano.outermost.bandwidth_bytes_per_s == 25.6e9
    assert m7.outermost.type == MemoryType.FLASH
    assert not any(m.type == MemoryType.DRAM for m in m7.memory)
    assert m7.outermost.holds == {Operand.WEIGHTS}
    cube = dav.main_unit
    assert cube.type == UnitType.CUBE and cube.pe_count == 16 ** 3
    assert {"l0a", "l0b", "l0c", "l1", "ub"} <= {m.name for m in dav.memory}
    assert dav.dvfs and dav.dvfs[0].voltage_v == pytest.approx(0.8)
    # a programmable core's op pays its instruction overhead: far above the datapath's
    datapath = tech.op_energy_pj(tech.OpClass.MAC, "fp32", a76.technology_nm)
    assert a76.main_unit.energy_pj("mac", "fp32") > 3 * datapath
    assert "op_overhead_energy" in a76.main_unit.energy_source


@pytest.mark.parametrize(("overrides", "check"), [
    ({"compute.pe_array.rows": 16}, lambda hw: hw.main_unit.rows == 16),
    ({"compute.pe_array.rows": "16"}, lambda hw: hw.main_unit.rows == 16),  # CLI string form
    ({"compute[0].cols": "8"}, lambda hw: hw.main_unit.cols == 8),
    ({"memory.dram.bandwidth": "8 GB/s"}, lambda hw: hw.outermost.bandwidth_bytes_per_s == 8e9),
    ({"memory[1].size": "1 MiB"}, lambda hw: hw.memory[1].size_bytes == 2**20),
    ({"clock": "800 MHz"}, lambda hw: hw.clock_hz == 800e6),
    ({"technology_nm": "16"}, lambda hw: hw.technology_nm == 16),
    ({"compute.pe_array.dataflow": "os"}, lambda hw: hw.main_unit.dataflow == Dataflow.OS),
    ({"compute.pe_array.nm_sparsity": "[2:4]"}, lambda hw: hw.main_unit.nm_sparsity == ("2:4",)),
    ({"compute.pe_array.zero_skip": "both"}, lambda hw: hw.main_unit.zero_skip == ZeroSkip.BOTH),
    ({"compute.pe_array.mac_energy": "0.1 pJ"},
     lambda hw: hw.main_unit.energy_pj("mac", "int8") == pytest.approx(0.1)),
])
def test_overrides(overrides: dict[str, object], check: object) -> None:
    hw = load_hardware("edge-npu", overrides=overrides)
    assert check(hw)  # type: ignore[operator]
    assert not check(load_hardware("edge-npu"))  # type: ignore[operator]


def test_override_changes_derived_numbers() -> None:
    small = load_hardware("edge-npu", {"memory.weight_buf.size": "256 KiB"})
    big = load_hardware("edge-npu")
    # smaller SRAM: cheaper per byte and smaller (the capacity fit), same DRAM
    assert small.level("weight_buf").read_energy_pj_per_byte < \
        big.level("weight_buf").read_energy_pj_per_byte
    assert small.level("weight_buf").area_mm2 == pytest.approx(
        big.level("weight_buf").area_mm2 / 16)
    old = load_hardware("edge-npu", {"technology_nm": 45})
    assert old.main_unit.energy_pj("mac", "int8") == pytest.approx(0.25)  # Horowitz at 45 nm


@pytest.mark.parametrize("key", ["compute.pe_array.colour", "compute.nope.rows", "memory.dram.bw",
                                 "foo", "compute[7].rows", "clock.hz", "a..b"])
def test_unknown_override_key(key: str) -> None:
    with pytest.raises(SpecError) as info:
        load_hardware("edge-npu", {key: 1})
    assert key in str(info.value) and "edge-npu.yaml" in str(info.value)


def test_bad_override_value_names_field() -> None:
    with pytest.raises(SpecError, match=r"clock: expected a frequency"):
        load_hardware("edge-npu", {"clock": "fast"})


def test_parse_override_value() -> None:
    assert parse_override_value("16") == 16
    assert parse_override_value("0.5") == 0.5
    assert parse_override_value("8 GB/s") == "8 GB/s"
    assert parse_override_value("2:4") == "2:4"  # not YAML 1.1 base-60 (124)
    assert parse_override_value("[int8, int4]") == ["int8", "int4"]
    assert parse_override_value("true") is True


def test_explicit_energy_scales_other_precisions() -> None:
    hw = load_hardware("eyeriss", {"compute.pe_array.mac_energy": "1 pJ"})
    table = load_hardware("eyeriss").main_unit
    u = hw.main_unit
    assert u.energy_pj("mac", "int16") == pytest.approx(1.0)
    ratio = table.energy_pj("mac", "int8") / table.energy_pj("mac", "int16")
    assert u.energy_pj("mac", "int8") == pytest.approx(ratio)
    assert "spec" in u.energy_source


def test_per_access_energy_converted_per_byte(tmp_path: Path) -> None:
    spec = yaml.safe_load((builtin_specs_dir() / "edge-npu.yaml").read_text())
    spec["memory"][1].update(read_energy="64 pJ", word="16 B")  # per 16-B access
    spec["memory"][2].update(read_energy="1 pJ/bit")
    p = tmp_path / "x.yaml"
    p.write_text(yaml.safe_dump(spec))
    hw = load_hardware(p)
    assert hw.memory[1].read_energy_pj_per_byte == pytest.approx(4.0)
    assert hw.memory[1].write_energy_pj_per_byte == pytest.approx(4.0)  # defaults to read
    assert hw.memory[2].read_energy_pj_per_byte == pytest.approx(8.0)


def test_file_overrides_and_base(tmp_path: Path) -> None:
    p = tmp_path / "mine.yaml"
    p.write_text("base: edge-npu\nname: mine\noverrides:\n  compute.pe_array.rows: 32\n"
                 "  memory.dram.dram_type: lpddr5\n")
    hw = load_hardware(p)
    assert hw.name == "mine" and hw.main_unit.rows == 32
    assert hw.outermost.read_energy_pj_per_byte < load_hardware("edge-npu").outermost.read_energy_pj_per_byte
    # call-site overrides apply after the file's own
    assert load_hardware(p, {"compute.pe_array.rows": 8}).main_unit.rows == 8
    loop = tmp_path / "loop.yaml"
    loop.write_text("base: loop.yaml\nname: loop\n")
    with pytest.raises(SpecError, match="base"):
        load_hardware(loop)


@pytest.mark.parametrize("name", sorted(REQUIRED | {"host-cpu", "h200", "zigzag-edge-tpu-like", "zigzag-ascend-like"}))
def test_show_round_trips(name: str, tmp_path: Path) -> None:
    hw = load_hardware(name)
    text = spec_to_yaml(hw)
    assert "pJ" in text and "GB/s" in text and "mm2" in text
    p = tmp_path / f"{name}.yaml"
    p.write_text(text)
    back = load_hardware(p)
    for a, b in zip(hw.compute, back.compute, strict=True):
        assert a.pe_count == b.pe_count and a.precisions == b.precisions and a.ops == b.ops
        assert (a.fuses, a.dram_overlap) == (b.fuses, b.dram_overlap)
        assert (a.fill_cycles, a.packs_channels) == (b.fill_cycles, b.packs_channels)
        assert (a.depth_unrolls, a.rows_pixel_tile) == (b.depth_unrolls, b.rows_pixel_tile)
        assert (a.mapping_dram_weight, a.psum_bits) == (b.mapping_dram_weight, b.psum_bits)
        assert (a.kernels, a.batchnorm) == (b.kernels, b.batchnorm)  # calibrated classes, cold
        assert (a.conv_dispatch, a.vector_width) == (b.conv_dispatch, b.vector_width)
        assert b.noc_energy_pj == pytest.approx(a.noc_energy_pj, rel=1e-5)
        for op in OpClass:
            for prec in a.precisions:
                assert b.energy_pj(op, prec) == pytest.approx(a.energy_pj(op, prec), rel=1e-5)
        assert b.pe_area_mm2 == pytest.approx(a.pe_area_mm2, rel=1e-5)
    for a2, b2 in zip(hw.memory, back.memory, strict=True):
        assert (a2.name, a2.size_bytes, a2.holds, a2.instances, a2.compression,
                a2.retains_weights) == (b2.name, b2.size_bytes, b2.holds, b2.instances,
                                        b2.compression, b2.retains_weights)
        assert (a2.served_dimensions, a2.pes_per_instance, a2.banks, a2.double_buffered,
                a2.channel_per_operand) == (b2.served_dimensions, b2.pes_per_instance, b2.banks,
                                            b2.double_buffered, b2.channel_per_operand)
        assert b2.read_energy_pj_per_byte == pytest.approx(a2.read_energy_pj_per_byte, rel=1e-5)
        assert b2.area_mm2 == pytest.approx(a2.area_mm2, rel=1e-5)
    assert back.clock_hz == pytest.approx(hw.clock_hz) and back.fallback_unit == hw.fallback_unit
    assert back.residency == hw.residency


def test_unknown_name() -> None:
    with pytest.raises(SpecError, match="unknown hardware 'nope'.*edge-npu"):
        load_hardware("nope")
    with pytest.raises(SpecError, match="no such file"):
        load_hardware("missing/file.yaml")


def test_dvfs_point_scales_on_chip_energy_only() -> None:
    fast = load_hardware("davinci-npu")
    slow = load_hardware("davinci-npu", {"clock": "500 MHz"})
    k = (0.65 / 0.8) ** 2  # the spec's DVFS voltages, (V/Vtop)^2
    assert slow.clock_hz == 500e6
    assert slow.main_unit.energy_pj("mac", "fp16") == pytest.approx(
        k * fast.main_unit.energy_pj("mac", "fp16"))
    assert slow.level("l1").read_energy_pj_per_byte == pytest.approx(
        k * fast.level("l1").read_energy_pj_per_byte)
    assert slow.outermost.read_energy_pj_per_byte == fast.outermost.read_energy_pj_per_byte


def test_summary_mentions_sparsity() -> None:
    assert "2:4" in summary(load_hardware("sparse-npu"))
    assert "2:4" not in summary(load_hardware("edge-npu"))


def test_unchecked_citations_say_so_where_users_see_them() -> None:
    """No spec leaves a bare "check" marker in its comments: a figure is cited, or the spec's
    `source` (printed by `edgesim specs show`) names it as unverified."""
    import re

    from edgesim.hardware.show import spec_to_yaml

    specs = Path(__file__).resolve().parents[2] / "hardware_specs"
    for path in sorted(specs.glob("*.yaml")):
        assert not re.search(r"[(;]\s*check\)", path.read_text()), path.name
    assert "Unverified: the buffer sizes" in spec_to_yaml(load_hardware("davinci-npu"))


def test_overrides_copy_only_their_path_and_never_change_the_base() -> None:
    """A design point shares the base spec's untouched entries and changes none of them (a
    search builds thousands of designs from one read)."""
    import copy

    from edgesim.hardware.load import SpecLoader, apply_overrides

    loader = SpecLoader("edge-npu")
    base = loader._raw
    before = copy.deepcopy(base)
    out = apply_overrides(base, {"memory.weight_buf.size": "1 MiB", "compute[0].rows": 8,
                                 "memory.dram.bandwidth": "4 GB/s"})
    assert base == before
    mem = {m["name"]: m for m in out["memory"]}
    assert mem["weight_buf"]["size"] == "1 MiB" and out["compute"][0]["rows"] == 8
    untouched = next(m for m in base["memory"] if m["name"] == "ifmap_buf")
    assert mem["ifmap_buf"] is untouched  # shared, not copied
    assert loader({"memory.weight_buf.size": "1 MiB"}).memory != loader().memory


@pytest.mark.parametrize("key", ["compute[0]", "compute.pe_array", "memory.dram"])
def test_an_override_naming_a_whole_entry_is_an_error(key: str) -> None:
    """Before: silently ignored (the design point was the base spec)."""
    with pytest.raises(SpecError, match="names a whole entry"):
        load_hardware("edge-npu", overrides={key: "8"})


def test_sparse_index_bits_is_a_spec_field() -> None:
    """The relative-index width of the sparse weight format: one definition of stored bytes."""
    assert load_hardware("edge-npu").sparse_index_bits == 4
    assert load_hardware("edge-npu", {"sparse_index_bits": 6}).sparse_index_bits == 6
    with pytest.raises(SpecError, match="sparse_index_bits"):
        load_hardware("edge-npu", {"sparse_index_bits": 0})


def test_bit_serial_is_a_unit_field_with_its_constraints(tmp_path: Path) -> None:
    hw = load_hardware("edge-npu", {"compute.pe_array.bit_serial": True,
                                    "compute.pe_array.precisions": ["int8", "int4", "int2"]})
    assert hw.main_unit.bit_serial and not load_hardware("edge-npu").main_unit.bit_serial
    with pytest.raises(SpecError, match="bit_serial"):
        load_hardware("edge-npu", {"compute.pe_array.bit_serial": True,
                                   "compute.pe_array.precisions": ["fp16", "int8"]})
    with pytest.raises(SpecError, match="packs_narrow"):
        load_hardware("edge-npu", {"compute.pe_array.bit_serial": True,
                                   "compute.pe_array.packs_narrow": True})


@pytest.mark.parametrize("spec", ["edge-npu", "davinci-npu", "cortex-m7", "eyeriss"])
def test_a_loader_design_equals_a_fresh_load(spec: str) -> None:
    """``SpecLoader`` validates only the entries an override changed (the others are the base's
    validated entries) and reuses built parts: the design is the one ``load_hardware`` builds,
    field for field, and a bad override is the same error."""
    import random

    from edgesim.hardware.load import SpecLoader

    loader = SpecLoader(spec)
    raw = loader.raw
    rng = random.Random(0)
    for _ in range(6):
        level = rng.choice(raw["memory"][1:])
        overrides: dict[str, object] = {
            f"memory.{level['name']}.size": rng.choice(["16 KiB", "64 KiB", "1 MiB"]),
            "clock": rng.choice(["200 MHz", "1 GHz"]) if spec != "davinci-npu" else "1 GHz",
            f"memory.{raw['memory'][0]['name']}.bandwidth": rng.choice(["4 GB/s", "9.6 GB/s"])}
        built = loader(overrides)
        fresh = load_hardware(spec, overrides)
        assert dataclasses.replace(built, source="") == dataclasses.replace(fresh, source="")
    bad = {f"memory.{raw['memory'][1]['name']}.size": "-3 KiB"}
    with pytest.raises(SpecError) as a:
        loader(bad)
    with pytest.raises(SpecError) as b:
        load_hardware(spec, bad)
    assert str(a.value) == str(b.value)
