"""The counts memo: designs that differ only in fields mapping never reads share counts, and
those fields really do not move any count (checked on every built-in spec)."""

from __future__ import annotations

import dataclasses

import pytest

from edgesim.hardware import list_hardware, load_hardware
from edgesim.hardware.model import Hardware, UnitType
from edgesim.mapping import memo
from edgesim.mapping.placement import capable_units
from edgesim.mapping.schedule import map_layer, map_workload
from edgesim.workload import load_workload


def _map_workload(wl: object, hw: Hardware, batch: None) -> object:
    """A schedule mapped from scratch (nothing memoized)."""
    memo.clear()
    return map_workload(wl, hw, batch)  # type: ignore[arg-type]


def _perturbed(hw: Hardware, timed: bool) -> Hardware:
    """Every field outside the counting signature changed."""
    units = tuple(dataclasses.replace(
        u, op_energy_pj={k: {p: 2 * e + 1 for p, e in v.items()} for k, v in u.op_energy_pj.items()},
        pe_area_mm2=u.pe_area_mm2 * 3 + 1, leakage_w=u.leakage_w + 1, energy_source="x")
        for u in hw.compute)
    levels = []
    for m in hw.memory:
        changes: dict[str, object] = {
            "read_energy_pj_per_byte": m.read_energy_pj_per_byte * 2 + 1,
            "write_energy_pj_per_byte": m.write_energy_pj_per_byte * 3 + 1,
            "area_mm2": m.area_mm2 + 1, "leakage_w": m.leakage_w + 1, "energy_source": "x",
            "dram_type": None}  # (banks: the rs mapper splits its buffer by them)
        if not timed:
            changes.update(bandwidth_bytes_per_s=m.bandwidth_bytes_per_s * 0.37,
                           bandwidth_declared=not m.bandwidth_declared)
        levels.append(dataclasses.replace(m, **changes))
    top: dict[str, object] = {"name": "other", "technology_nm": hw.technology_nm * 2,
                              "static_power_w": hw.static_power_w + 1,
                              "area_overhead_fraction": 0.5, "source": "y", "description": "z",
                              "citation": "w"}
    if not timed:
        top["clock_hz"] = hw.clock_hz * 0.61
        top["dvfs"] = ()
    return dataclasses.replace(hw, compute=units, memory=tuple(levels), **top)


@pytest.mark.parametrize("name", list_hardware())
def test_fields_outside_the_signature_move_no_count(name: str) -> None:
    hw = load_hardware(name)
    timed = memo.reads_clock(hw)
    assert timed == any(u.type == UnitType.SPATIAL for u in hw.compute) or name == "host-cpu"
    other = _perturbed(hw, timed)
    assert memo.counting_signature(other) == memo.counting_signature(hw)
    for model in ("resnet18", "mobilenet_v2"):
        wl = load_workload(model)
        assert _map_workload(wl, other, None).layers == _map_workload(wl, hw, None).layers


def test_a_spatial_chip_keeps_its_clock_and_bandwidths_in_the_signature() -> None:
    hw = load_hardware("eyeriss")
    slower = dataclasses.replace(hw, clock_hz=hw.clock_hz / 2)
    assert memo.counting_signature(slower) != memo.counting_signature(hw)
    wl = load_workload("alexnet")
    assert _map_workload(wl, slower, None).layers != _map_workload(wl, hw, None).layers


def test_memo_serves_renamed_layers_and_other_designs() -> None:
    memo.clear()
    wl = load_workload("resnet18")
    hw = load_hardware("edge-npu")
    fresh = _map_workload(wl, hw, None)
    again = map_workload(wl, hw)
    assert again.layers == fresh.layers  # names restored on shared counts (repeated blocks)
    leaky = load_hardware("edge-npu", overrides={"static_power": "300 mW"})
    shared = map_workload(wl, leaky)  # the same counts: only a price differs
    assert shared.hardware is leaky and shared.layers == fresh.layers
    # Faster DRAM may move a layer to another unit (the choice weighs DRAM time): its own
    # schedule, equal to one mapped from scratch.
    faster = load_hardware("edge-npu", overrides={"memory.dram.bandwidth": "40 GB/s"})
    assert map_workload(wl, faster).layers == _map_workload(wl, faster, None).layers


def test_a_unit_s_counts_do_not_read_the_other_units() -> None:
    """The layer memo is keyed by the unit's own signature: designs that differ only in another
    unit (here the array's size) share the vector unit's counts, and those equal fresh ones."""
    small = load_hardware("edge-npu", {"compute.pe_array.rows": 8, "compute.pe_array.cols": 8})
    big = load_hardware("edge-npu")
    vec_small, vec_big = small.unit("vector"), big.unit("vector")
    assert memo.unit_signature(small, vec_small) == memo.unit_signature(big, vec_big)
    assert memo.unit_signature(small, small.main_unit) != memo.unit_signature(big, big.main_unit)
    wl = load_workload("resnet18")
    checked = 0
    for layer in wl.layers:
        if any(u.name == "vector" for u in capable_units(layer, big)):
            assert map_layer(layer, small, vec_small) == map_layer(layer, big, vec_big)
            checked += 1
    assert checked > 20


def test_a_schedule_is_reused_across_dram_bandwidth_when_every_unit_stays() -> None:
    """Designs that count the same and choose the same units share one schedule whatever their
    DRAM bandwidth; each result still equals one computed from scratch."""
    from edgesim.sim import clear_cache, simulate

    wl = load_workload("resnet18")
    memo.clear()
    clear_cache()
    first = map_workload(wl, load_hardware("edge-npu"))
    near = load_hardware("edge-npu", {"memory.dram.bandwidth": "12.9 GB/s"})
    shared = map_workload(wl, near)
    assert shared.layers is first.layers and shared.hardware is near
    got = simulate(wl, near)
    memo.clear()
    clear_cache()
    assert simulate(wl, near) == got


def test_a_schedule_is_not_reused_across_clock_or_dram_bandwidth() -> None:
    """Which unit runs a layer weighs compute against DRAM time: a design with another clock
    or DRAM bandwidth gets its own choice, not a cached one (simulated in either order)."""
    from edgesim.hardware import load_hardware
    from edgesim.mapping import memo
    from edgesim.sim import simulate
    from edgesim.workload import load_workload

    wl = load_workload("lenet5")
    slow = load_hardware("edge-npu", {"clock": "50 MHz"})
    memo.clear()
    fresh = simulate(wl, slow)
    memo.clear()
    simulate(wl, load_hardware("edge-npu"))
    after = simulate(wl, slow)
    assert after.latency_s == fresh.latency_s
    assert [x.unit for x in after.layers] == [x.unit for x in fresh.layers]


def test_a_unit_that_packs_at_a_rate_keeps_the_clock_in_its_signature() -> None:
    """host-cpu's oneDNN kernels reorder their weights at so many bytes per second: at another
    clock those are other cycles, so the clock is part of what its counts depend on."""
    hw = load_hardware("host-cpu")
    assert memo.reads_clock(hw)
    faster = dataclasses.replace(hw, clock_hz=hw.clock_hz * 2)
    assert memo.counting_signature(faster) != memo.counting_signature(hw)
    wl = load_workload("resnet18")
    assert _map_workload(wl, faster, None).layers != _map_workload(wl, hw, None).layers
