"""Builders for the simulator tests: small hardware made in code and hand-counted schedules.

The simulators consume counts (``LayerCounts``); these tests build them directly with a simple,
explicit counting rule so the composition of time (analytic vs DES) is tested on its own.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from edgesim.hardware.model import (
    ComputeUnit,
    Dataflow,
    Hardware,
    MemoryLevel,
    MemoryType,
    Operation,
    UnitType,
)
from edgesim.mapping.counts import LayerCounts, Schedule
from edgesim.vocab import OpKind
from edgesim.workload.ir import Layer, Workload

# Horowitz ISSCC 2014 (45 nm): int8 add 0.03 pJ, int8 mult 0.2 pJ -> MAC ~0.23 pJ; an adder PE
# (|x - w| accumulate) ~2 adds = 0.06 pJ.
OP_ENERGY_PJ = {"mac": {"int8": 0.23}, "adder": {"int8": 0.06}, "add": {"int8": 0.03},
                "mult": {"int8": 0.2}}


def make_unit(name: str = "pe_array", rows: int = 16, cols: int = 16,
              operation: Operation = Operation.MAC, unit_type: UnitType = UnitType.SYSTOLIC,
              leakage_w: float = 0.002) -> ComputeUnit:
    return ComputeUnit(name=name, type=unit_type, operation=operation, precisions=("int8",),
                       rows=rows, cols=cols,
                       dataflow=Dataflow.WS if unit_type == UnitType.SYSTOLIC else Dataflow.NONE,
                       op_energy_pj=OP_ENERGY_PJ, pe_area_mm2=3e-4, leakage_w=leakage_w,
                       energy_source="test table (Horowitz 45 nm)")


def make_hw(rows: int = 16, cols: int = 16, sram_bytes: int = 64 * 1024,
            dram_bw: float = 8e9, clock_hz: float = 1e9, units: Sequence[ComputeUnit] = (),
            static_power_w: float = 0.01) -> Hardware:
    compute = tuple(units) or (make_unit(rows=rows, cols=cols),)
    memory = (
        MemoryLevel("dram", MemoryType.DRAM, 1 << 30, dram_bw, 80.0, 80.0, 0.0, 0.0,
                    energy_source="test: LPDDR4 10 pJ/bit"),
        MemoryLevel("sram", MemoryType.SRAM, sram_bytes, 0.0, 1.5, 1.7, 0.2, 0.003,
                    energy_source="test SRAM"),
    )
    return Hardware(name="test-npu", kind="npu", technology_nm=45, clock_hz=clock_hz,
                    compute=compute, memory=memory, static_power_w=static_power_w,
                    area_overhead_fraction=0.1)


def count_layer(layer: Layer, hw: Hardware, unit_name: str | None = None) -> LayerCounts:
    """A simple explicit counting rule (int8, 1 B per element) for GEMM-like and vector layers."""
    unit = hw.unit(unit_name) if unit_name else hw.compute[0]
    sram = hw.memory[1].size_bytes
    work = layer.macs or layer.adds or layer.vector_ops
    pes = unit.pe_count
    cycles = math.ceil(work / pes) + unit.rows + unit.cols
    w_b, in_b, out_b = layer.params, layer.input_elems, layer.output_elems
    half = sram // 2
    refetch = max(1, math.ceil(w_b / half))  # inputs re-read once per weight block
    dram_rd = w_b + in_b * refetch
    tiles = max(1, math.ceil((w_b + in_b + out_b) / half))
    op_class = "mac" if layer.macs else ("adder" if layer.adds else "add")
    return LayerCounts(
        layer=layer.name, op=layer.op, unit=unit.name, precision="int8", compute_cycles=cycles,
        utilization=work / (pes * cycles), ops={op_class: work},
        reads_bytes={"dram": dram_rd, "sram": 2 * work // max(1, unit.rows)},
        writes_bytes={"dram": out_b, "sram": dram_rd + out_b},
        tiles=tiles, dram_read_bytes=dram_rd, dram_write_bytes=out_b, dense_ops=work)


def conv(name: str, c: int, k: int, hw_px: int, r: int = 3, stride: int = 1,
         inputs: tuple[str, ...] | None = None, prev: str | None = None,
         op: OpKind = OpKind.CONV2D) -> Layer:
    pad = r // 2
    out = (hw_px + 2 * pad - r) // stride + 1
    ins = inputs if inputs is not None else ((prev,) if prev else ())
    return Layer(name=name, op=op, inputs=ins, in_shapes=((1, c, hw_px, hw_px),),
                 out_shape=(1, k, out, out), kernel=(r, r), stride=(stride, stride),
                 padding=(pad, pad), weight_shape=(k, c, r, r))


def linear(name: str, fin: int, fout: int, prev: str | None = None) -> Layer:
    return Layer(name=name, op=OpKind.LINEAR, inputs=(prev,) if prev else (),
                 in_shapes=((1, fin),), out_shape=(1, fout), weight_shape=(fout, fin))


def schedule_of(wl: Workload, hw: Hardware, units: dict[str, str] | None = None) -> Schedule:
    units = units or {}
    counts = tuple(count_layer(lay, hw, units.get(lay.name)) for lay in wl.layers)
    deps = tuple(tuple(wl.index_of(src) for src in lay.inputs) for lay in wl.layers)
    return Schedule(workload=wl, hardware=hw, batch=wl.batch, layers=counts, deps=deps)


