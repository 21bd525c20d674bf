"""SCALE-Sim v3 (``scalesim``, the ``peers`` extra) as an oracle: run it on small layers through
its Python API, parse its reports, and tabulate edgesim's cycles and SRAM reads against it."""

from __future__ import annotations

import contextlib
import csv
import io
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from edgesim.hardware.model import (
    ComputeUnit,
    Dataflow,
    Hardware,
    HardwareKind,
    MemoryLevel,
    MemoryType,
    Operand,
    Operation,
    UnitType,
)
from edgesim.validate.published import conv_layer
from edgesim.vocab import OpKind, Precision
from edgesim.workload.ir import Layer

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class ScaleSimLayer:
    """One SCALE-Sim topology row: padded input size, filter size, channels, filters, stride."""

    name: str
    ifmap_h: int
    ifmap_w: int
    filter_h: int
    filter_w: int
    channels: int
    filters: int
    stride: int


@dataclass(frozen=True)
class ScaleSimResult:
    """SCALE-Sim figures for one layer (words are 1 byte)."""

    total_cycles: int  # "Total Cycles" of COMPUTE_REPORT.csv: compute cycles without stalls
    ifmap_sram_reads: int
    filter_sram_reads: int
    ofmap_sram_writes: int
    ifmap_dram_reads: int
    filter_dram_reads: int
    ofmap_dram_writes: int


_CONFIG = """[general]
run_name = {run_name}

[architecture_presets]
ArrayHeight = {rows}
ArrayWidth = {cols}
IfmapSramSzkB = {sram_kb}
FilterSramSzkB = {sram_kb}
OfmapSramSzkB = {sram_kb}
IfmapOffset = 0
FilterOffset = 10000000
OfmapOffset = 20000000
Dataflow = {dataflow}
ReadRequestBuffer = 32
WriteRequestBuffer = 32

[layout]
IfmapCustomLayout = False
IfmapSRAMBankBandwidth = 10
IfmapSRAMBankNum = 10
IfmapSRAMBankPort = 2
FilterCustomLayout = False
FilterSRAMBankBandwidth = 10
FilterSRAMBankNum = 10
FilterSRAMBankPort = 2

[sparsity]
SparsitySupport = false
SparseRep = ellpack_block
OptimizedMapping = false
BlockSize = 8
RandomNumberGeneratorSeed = 40

[run_presets]
InterfaceBandwidth = CALC
UseRamulatorTrace = False
"""


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open() as f:
        return [{k.strip(): v.strip() for k, v in row.items() if k is not None}
                for row in csv.DictReader(f)]


def run_scalesim(layers: list[ScaleSimLayer], rows: int, cols: int, dataflow: str,
                 sram_kb: int = 64) -> list[ScaleSimResult]:
    """Run SCALE-Sim once on all ``layers`` (one topology file) and return per-layer results."""
    from scalesim.scale_sim import scalesim

    with tempfile.TemporaryDirectory(prefix="scalesim_") as tmp:
        d = Path(tmp)
        run_name = f"run_{rows}x{cols}_{dataflow}"
        cfg = d / "scale.cfg"
        cfg.write_text(_CONFIG.format(run_name=run_name, rows=rows, cols=cols,
                                      sram_kb=sram_kb, dataflow=dataflow))
        topo = d / "topo.csv"
        lines = ["Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, "
                 "Channels, Num Filter, Strides,"]
        lines += [f"{ly.name}, {ly.ifmap_h}, {ly.ifmap_w}, {ly.filter_h}, {ly.filter_w}, "
                  f"{ly.channels}, {ly.filters}, {ly.stride}," for ly in layers]
        topo.write_text("\n".join(lines) + "\n")
        layout = d / "layout.csv"
        layout.write_text("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, "
                          "Channels, Num Filter, Strides,\n")
        out = d / "out"
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            sim = scalesim(save_disk_space=True, verbose=False, config=str(cfg),
                           topology=str(topo), layout=str(layout), input_type_gemm=False)
            sim.run_scale(top_path=str(out))
        compute = _rows(out / run_name / "COMPUTE_REPORT.csv")
        detail = _rows(out / run_name / "DETAILED_ACCESS_REPORT.csv")
    results = []
    for c, a in zip(compute, detail, strict=True):
        results.append(ScaleSimResult(
            total_cycles=int(float(c["Total Cycles"])),
            ifmap_sram_reads=int(float(a["SRAM IFMAP Reads"])),
            filter_sram_reads=int(float(a["SRAM Filter Reads"])),
            ofmap_sram_writes=int(float(a["SRAM OFMAP Writes"])),
            ifmap_dram_reads=int(float(a["DRAM IFMAP Reads"])),
            filter_dram_reads=int(float(a["DRAM Filter Reads"])),
            ofmap_dram_writes=int(float(a["DRAM OFMAP Writes"])),
        ))
    return results


# (name, channels, filters, input size, kernel, stride, padding): SCALE-Sim gets the padded size;
# every shape has ceil((H - R + S) / S) == PyTorch's floor((H + 2P - R) / S) + 1.
CONVS = (
    ("c3s1", 16, 16, 8, 3, 1, 0),
    ("c3s1p1", 16, 8, 6, 3, 1, 1),
    ("c3s2", 5, 7, 9, 3, 2, 0),
    ("c1x1", 20, 12, 6, 1, 1, 0),
    ("c5s1", 3, 10, 8, 5, 1, 0),
    ("c5s2p2", 6, 9, 9, 5, 2, 2),
    ("c3odd", 7, 13, 7, 3, 1, 1),
    ("c2s2", 8, 24, 8, 2, 2, 0),
    ("c7s1", 1, 6, 9, 7, 1, 0),
)
FCS = (("fc40x10", 40, 10), ("fc17x33", 17, 33), ("fc64x9", 64, 9))
ARRAYS = ((8, 8), (8, 16), (16, 4))
DATAFLOWS = ("os", "ws", "is")


def scalesim_layers() -> list[ScaleSimLayer]:
    """The cases as SCALE-Sim topology rows (padded inputs; an FC layer is a 1x1 conv)."""
    out = [ScaleSimLayer(n, h + 2 * p, h + 2 * p, r, r, c, k, s) for n, c, k, h, r, s, p in CONVS]
    out += [ScaleSimLayer(n, 1, 1, 1, 1, i, o, 1) for n, i, o in FCS]
    return out


def edgesim_layers() -> dict[str, Layer]:
    """The same cases as edgesim layers (int8, batch 1)."""
    out = {n: conv_layer(n, c, k, h, r, s, p, bits="int8") for n, c, k, h, r, s, p in CONVS}
    out.update({n: Layer(n, OpKind.LINEAR, (), ((1, i),), (1, o), weight_shape=(o, i),
                         weight_precision=Precision.INT8, act_precision=Precision.INT8)
                for n, i, o in FCS})
    return out


def systolic_hardware(rows: int, cols: int, dataflow: str, sram_kb: int = 64) -> Hardware:
    """SCALE-Sim's architecture as an edgesim chip: one array, three SRAMs of ``sram_kb``."""
    def level(name: str, mtype: MemoryType, size: int,
              holds: tuple[Operand, ...] = tuple(Operand)) -> MemoryLevel:
        return MemoryLevel(name=name, type=mtype, size_bytes=size, bandwidth_bytes_per_s=16e9,
                           read_energy_pj_per_byte=1.0, write_energy_pj_per_byte=1.0,
                           area_mm2=0.0, leakage_w=0.0, holds=frozenset(holds))

    unit = ComputeUnit(name="pe_array", type=UnitType.SYSTOLIC, operation=Operation.MAC,
                       precisions=(Precision.INT8,), rows=rows, cols=cols, dataflow=Dataflow(dataflow))
    kb = sram_kb * 1024
    return Hardware(name=f"scalesim-{rows}x{cols}-{dataflow}", kind=HardwareKind.NPU, technology_nm=28,
                    clock_hz=1e9, compute=(unit,),
                    memory=(level("dram", MemoryType.DRAM, 1 << 32),
                            level("ifmap_buf", MemoryType.SRAM, kb, (Operand.INPUTS,)),
                            level("filter_buf", MemoryType.SRAM, kb, (Operand.WEIGHTS,)),
                            level("ofmap_buf", MemoryType.SRAM, kb, (Operand.OUTPUTS,))))


def table() -> pd.DataFrame:
    """Every case on every array and dataflow: cycles and SRAM reads, SCALE-Sim and edgesim."""
    import pandas as pd

    from edgesim.mapping import map_layer

    ours = edgesim_layers()
    layers = scalesim_layers()
    rows = []
    for r, c in ARRAYS:
        for df in DATAFLOWS:
            hw = systolic_hardware(r, c, df)
            for ly, ref in zip(layers, run_scalesim(layers, r, c, df), strict=True):
                got = map_layer(ours[ly.name], hw)
                rows.append({
                    "layer": ly.name, "array": f"{r}x{c}", "dataflow": df,
                    "scalesim_cycles": ref.total_cycles, "edgesim_cycles": got.compute_cycles,
                    "cycles_ratio": got.compute_cycles / ref.total_cycles,
                    "scalesim_ifmap_sram_reads": ref.ifmap_sram_reads,
                    "edgesim_ifmap_sram_reads": got.reads_bytes["ifmap_buf"],
                    "scalesim_filter_sram_reads": ref.filter_sram_reads,
                    "edgesim_filter_sram_reads": got.reads_bytes["filter_buf"]})
    return pd.DataFrame(rows)
