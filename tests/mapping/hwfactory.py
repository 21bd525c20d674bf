"""Small Hardware / Layer builders for the mapping tests (specs built directly, no YAML)."""

from __future__ import annotations

from edgesim.hardware.model import (
    ComputeUnit,
    Dataflow,
    Hardware,
    MemoryLevel,
    MemoryType,
    Operand,
    Operation,
    UnitType,
    ZeroSkip,
)
from edgesim.vocab import OpKind
from edgesim.workload.ir import Layer


def level(name: str, mtype: MemoryType, size: int, holds: tuple[Operand, ...] = tuple(Operand),
          per_pe: bool = False, instances: int = 1, bw: float = 16e9) -> MemoryLevel:
    return MemoryLevel(name=name, type=mtype, size_bytes=size, bandwidth_bytes_per_s=bw,
                       read_energy_pj_per_byte=1.0, write_energy_pj_per_byte=1.0, area_mm2=0.0,
                       leakage_w=0.0, holds=frozenset(holds), per_pe=per_pe,
                       instances=instances)


def systolic_hw(rows: int = 8, cols: int = 8, dataflow: str = "ws", sram: int = 64 * 1024,
                zero_skip: ZeroSkip = ZeroSkip.NONE, nm: tuple[str, ...] = (),
                packs_narrow: bool = False, precisions: tuple[str, ...] = ("int8",),
                fallback: bool = True, all_ops: bool = False) -> Hardware:
    units = [ComputeUnit(name="pe_array", type=UnitType.SYSTOLIC, operation=Operation.MAC,
                         precisions=precisions, rows=rows, cols=cols,
                         dataflow=Dataflow(dataflow), zero_skip=zero_skip, nm_sparsity=nm,
                         packs_narrow=packs_narrow,
                         ops=None if all_ops else
                         frozenset({OpKind.CONV2D, OpKind.LINEAR, OpKind.MATMUL}))]
    if fallback:
        units.append(ComputeUnit(name="cpu", type=UnitType.SIMD, operation=Operation.MAC,
                                 precisions=("fp32", "int8"), lanes=4, cores=2,
                                 efficiency=0.5))
    mem = (level("dram", MemoryType.DRAM, 1 << 32),
           level("ifmap_buf", MemoryType.SRAM, sram, (Operand.INPUTS,)),
           level("filter_buf", MemoryType.SRAM, sram, (Operand.WEIGHTS,)),
           level("ofmap_buf", MemoryType.SRAM, sram, (Operand.OUTPUTS,)))
    return Hardware(name="test-npu", kind="npu", technology_nm=28, clock_hz=1e9,
                    compute=tuple(units), memory=mem,
                    fallback_unit="cpu" if fallback else None)


def conv(name: str, c: int, k: int, hw_in: int, r: int, stride: int = 1, pad: int = 0,
         groups: int = 1, batch: int = 1, inputs: tuple[str, ...] = (),
         **kw: object) -> Layer:
    e = (hw_in + 2 * pad - r) // stride + 1
    return Layer(name=name, op=OpKind.CONV2D, inputs=inputs,
                 in_shapes=((batch, c, hw_in, hw_in),), out_shape=(batch, k, e, e),
                 kernel=(r, r), stride=(stride, stride), padding=(pad, pad), groups=groups,
                 weight_shape=(k, c // groups, r, r), **kw)  # type: ignore[arg-type]


def linear(name: str, n_in: int, n_out: int, batch: int = 1,
           inputs: tuple[str, ...] = (), **kw: object) -> Layer:
    return Layer(name=name, op=OpKind.LINEAR, inputs=inputs, in_shapes=((batch, n_in),),
                 out_shape=(batch, n_out), weight_shape=(n_out, n_in),
                 **kw)  # type: ignore[arg-type]
