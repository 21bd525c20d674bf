"""The runtime hardware is self-sufficient: the same objects built in code simulate the same."""

from __future__ import annotations

import dataclasses

import pytest

from edgesim.hardware import list_hardware, load_hardware
from edgesim.hardware.model import (
    Compression,
    ComputeUnit,
    Hardware,
    MemoryLevel,
    MemoryType,
    Operand,
    Operation,
    UnitType,
)
from edgesim.sim import simulate
from edgesim.vocab import OpClass, OpKind, Precision
from edgesim.workload import load_workload


def _in_code(hw: Hardware) -> Hardware:
    """``hw`` rebuilt field by field through the constructors, as a user building it in code."""
    def copy(obj: object) -> object:
        return type(obj)(**{f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)})

    fields = {f.name: getattr(hw, f.name) for f in dataclasses.fields(hw)}
    fields["compute"] = tuple(copy(u) for u in hw.compute)
    fields["memory"] = tuple(copy(m) for m in hw.memory)
    return Hardware(**fields)


@pytest.mark.parametrize("spec", list_hardware())
def test_hardware_built_in_code_simulates_as_loaded(spec: str) -> None:
    hw = load_hardware(spec)
    built = _in_code(hw)
    assert built == hw and built is not hw
    wl = load_workload("lenet5")
    assert simulate(wl, built).to_dict() == simulate(wl, hw).to_dict()


def test_undeclared_onchip_bandwidth_does_not_limit_time() -> None:
    hw = load_hardware("edge-npu")  # its buffers state no bandwidth: word x clock for reports
    assert all(not m.bandwidth_declared for m in hw.memory[1:])
    assert hw.outermost.bandwidth_declared
    slow = dataclasses.replace(hw, memory=(hw.memory[0], *(
        dataclasses.replace(m, bandwidth_bytes_per_s=1e6) for m in hw.memory[1:])))
    wl = load_workload("lenet5")
    assert simulate(wl, slow).latency_s == simulate(wl, hw).latency_s
    stated = dataclasses.replace(slow, memory=(slow.memory[0], *(
        dataclasses.replace(m, bandwidth_declared=True) for m in slow.memory[1:])))
    assert simulate(wl, stated).latency_s > 10 * simulate(wl, hw).latency_s


def test_unit_built_in_code_takes_names() -> None:
    u = ComputeUnit(name="pe", type="simd", operation="mac", precisions=("int8", "fp16"),
                    ops=("conv2d", "linear"), op_energy_pj={"mac": {"int8": 0.2}})
    assert u.precisions == (Precision.INT8, Precision.FP16)
    assert u.native_precision is Precision.INT8
    assert u.ops == (OpKind.CONV2D, OpKind.LINEAR) and u.supports(OpKind.LINEAR)
    assert u.energy_pj(OpClass.MAC, Precision.INT8) == 0.2
    assert u.operation is Operation.MAC and u.type is UnitType.SIMD


def test_level_built_in_code_takes_names() -> None:
    m = MemoryLevel(name="buf", type="sram", size_bytes=1024, bandwidth_bytes_per_s=1e9,
                    read_energy_pj_per_byte=1.0, write_energy_pj_per_byte=1.0, area_mm2=0.0,
                    leakage_w=0.0, holds=frozenset({"inputs", "outputs"}), compression="rlc")
    assert m.type is MemoryType.SRAM and m.compression is Compression.RLC
    assert m.holds == {Operand.INPUTS, Operand.OUTPUTS} and not m.is_offchip
