"""Run SCALE-Sim v3 on small conv layers through its Python API and parse its reports."""

from __future__ import annotations

import contextlib
import csv
import io
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path


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
