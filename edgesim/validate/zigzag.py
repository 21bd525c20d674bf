"""ZigZag (``zigzag-dse`` 3.9.1, the ``peers`` extra) as an oracle: run it on an ONNX workload
and its example TPU-like and Edge-TPU-like accelerators, and tabulate its energy per component
beside edgesim's."""

from __future__ import annotations

import contextlib
import io
import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from edgesim.hardware.model import Hardware


def inputs_dir() -> Path:
    """ZigZag's bundled inputs (hardware, mapping and workload files)."""
    import zigzag

    return Path(zigzag.__file__).parent / "inputs"


def tpu_like_hw() -> Path:
    return inputs_dir() / "hardware" / "tpu_like.yaml"


def tpu_like_mapping() -> Path:
    return inputs_dir() / "mapping" / "tpu_like.yaml"


# ZigZag names one bundled accelerator's mapping file apart from its hardware file.
_MAPPING_OF = {"meta_prototype": "meta_prototype_like"}
# Bundled accelerators ZigZag ships no mapping file for: the default mapping's style (K on D1, C
# on D2) at the array's own size, and its operand links.
_WRITTEN_MAPPING = {"eyeriss_like": {"D1": ["K, 14"], "D2": ["C, 12"]}}


def accelerator(name: str, scratch: Path) -> tuple[Path, Path]:
    """(hardware, mapping) files of one of ZigZag's bundled accelerators (``edge_tpu_like``);
    for one ZigZag bundles no mapping for, the mapping written into ``scratch`` (a folder)."""
    hardware = inputs_dir() / "hardware" / f"{name}.yaml"
    if name in _WRITTEN_MAPPING:
        import yaml

        path = scratch / f"{name}-mapping.yaml"
        path.write_text(yaml.safe_dump([{
            "name": "default", "spatial_mapping": _WRITTEN_MAPPING[name],
            "memory_operand_links": {"O": "O", "W": "I2", "I": "I1"}}]))
        return hardware, path
    mapping = _MAPPING_OF.get(name, name)
    return hardware, inputs_dir() / "mapping" / f"{mapping}.yaml"


def onnx_model(name: str) -> Path:
    """One of ZigZag's bundled ONNX workloads (``resnet18``, ``mobilenetv2``, ...)."""
    return inputs_dir() / "workload" / f"{name}.onnx"


def depthwise_on_rows(onnx_path: Path, mapping: Path, dst: Path, rows: int = 32) -> Path:
    """Write at ``dst`` the mapping file ``mapping`` plus one entry per depthwise convolution
    of ``onnx_path`` (ZigZag picks a layer's entry by name before its operator type) that
    unrolls its filter taps FX x FY on the array's rows (D2) and one output channel on the
    columns (D1): the im2col mapping edgesim uses on a systolic array (K = R x S rows, N = 1).
    ZigZag's tpu_like mapping unrolls only C and K, so a depthwise layer (C = K = 1 per group)
    would otherwise run on one PE. Filters of more than ``rows`` taps, and nodes without a name
    (which ZigZag renames), keep the default."""
    import onnx
    import yaml

    model = onnx.load(str(onnx_path), load_external_data=False)
    dims = {t.name: list(t.dims) for t in model.graph.initializer}
    data = yaml.safe_load(mapping.read_text())
    links = next(e for e in data if e["name"] == "default")["memory_operand_links"]
    entries = []
    for node in model.graph.node:
        attrs = {a.name: a for a in node.attribute}
        group = attrs["group"].i if "group" in attrs else 1
        weight = dims.get(node.input[1]) if node.op_type == "Conv" and len(node.input) > 1 else None
        if group <= 1 or weight is None or weight[1] != 1:
            continue
        r, s = weight[2], weight[3]
        if r * s <= rows:
            entries.append({"name": node.name, "memory_operand_links": dict(links),
                            "spatial_mapping": {"D1": ["K, 1"], "D2": [f"FX, {r}", f"FY, {s}"]}})
    dst.write_text(yaml.safe_dump(entries + data, sort_keys=False))
    return dst

# ZigZag's data directions (zigzag.hardware.architecture.memory_port.DataDirection values).
_RD_TO_LOW = "rd_out_to_low"  # read out of a level towards the array
_WR_BY_LOW = "wr_in_by_low"  # written into a level from below (outputs, partial sums)
_RD_TO_HIGH = "rd_out_to_high"  # read out of a level towards the level above
_WR_BY_HIGH = "wr_in_by_high"  # written into a level from above (fills)


@dataclass(frozen=True)
class ZigZagLayer:
    """ZigZag's figures for one costed layer (Conv, Gemm or MatMul)."""

    name: str
    macs: int
    energy_pj: float
    mac_energy_pj: float
    mem_energy_pj: dict[str, float]  # memory instance name -> pJ (all operands together)
    dram_read_bytes: float  # every byte that leaves DRAM (reads to the level below)
    dram_write_bytes: float  # every byte that enters DRAM (outputs and spilled partial sums)
    latency_cycles: float


@dataclass(frozen=True)
class ZigZagResult:
    """ZigZag's figures for a whole workload: totals are sums over the costed layers."""

    energy_pj: float
    latency_cycles: float
    layers: tuple[ZigZagLayer, ...]

    @property
    def mac_energy_pj(self) -> float:
        return sum(layer.mac_energy_pj for layer in self.layers)

    @property
    def macs(self) -> int:
        return sum(layer.macs for layer in self.layers)

    @property
    def dram_read_bytes(self) -> float:
        return sum(layer.dram_read_bytes for layer in self.layers)

    @property
    def dram_write_bytes(self) -> float:
        return sum(layer.dram_write_bytes for layer in self.layers)

    def mem_energy_pj(self, memory: str) -> float:
        """Energy of one memory instance (e.g. ``"dram"``, ``"sram_2MB"``) over all layers."""
        return sum(layer.mem_energy_pj.get(memory, 0.0) for layer in self.layers)

    @property
    def memory_names(self) -> tuple[str, ...]:
        names: list[str] = []
        for layer in self.layers:
            names += [n for n in layer.mem_energy_pj if n not in names]
        return tuple(names)


def _layer_figures(cme: Any, dram: str = "dram") -> ZigZagLayer:
    """Read one layer's CostModelEvaluation: energy per memory instance and DRAM traffic.

    ``dram`` names the off-chip memory instance. With ``exploit_data_locality`` ZigZag drops it
    from an operand's hierarchy when the data stays on chip; that operand then moves no DRAM bytes.
    """
    hierarchy = cme.accelerator.memory_hierarchy
    mem_energy: dict[str, float] = {}
    dram_read_bits = 0.0
    dram_write_bits = 0.0
    for layer_op, per_level in cme.mem_energy_breakdown.items():
        mem_op = cme.memory_operand_links.layer_to_mem_op(layer_op)
        levels = hierarchy.get_memory_levels(mem_op=mem_op)
        for level, energy in zip(levels, per_level, strict=False):
            name = level.memory_instance.name
            mem_energy[name] = mem_energy.get(name, 0.0) + float(energy)
        # DRAM word accesses are counted in units of its port width (64 bits, min == max
        # bandwidth) after ZigZag rounds each transfer period up to whole words: what it prices.
        for lvl_id, level in enumerate(levels):
            if level.memory_instance.name != dram:
                continue
            accesses = cme.memory_word_access[layer_op][lvl_id]
            word_bits = max(port.bw_max for port in level.memory_instance.ports)
            dram_read_bits += accesses.get(_RD_TO_LOW) * word_bits
            dram_write_bits += accesses.get(_WR_BY_LOW) * word_bits
    return ZigZagLayer(
        name=str(cme.layer.name),
        macs=int(cme.layer.total_mac_count),
        energy_pj=float(cme.energy_total),
        mac_energy_pj=float(cme.mac_energy),
        mem_energy_pj=mem_energy,
        dram_read_bytes=dram_read_bits / 8,
        dram_write_bytes=dram_write_bits / 8,
        latency_cycles=float(cme.latency_total2),
    )


def run_zigzag(onnx_path: Path | None = None, hardware: Path | None = None,
               mapping: Path | None = None, opt: str = "energy",
               exploit_data_locality: bool = False, lpf_limit: int = 6,
               depthwise_rows: int | None = None) -> ZigZagResult:
    """Run ZigZag's mapping search and cost model; return its per-layer and total figures.

    Args:
        onnx_path: ONNX workload (ZigZag costs only its Conv, Gemm and MatMul nodes); ResNet-18.
        hardware: ZigZag accelerator YAML; its tpu_like example.
        mapping: ZigZag mapping YAML (spatial unrolling and operand links); tpu_like's.
        opt: ZigZag's criterion for choosing each layer's temporal mapping.
        exploit_data_locality: keep a layer's output in the lowest memory that holds the layer's
            input and output (not at branch points) instead of writing every output to DRAM and
            reading every input back, as edgesim does; off is ZigZag's default.
        lpf_limit: ZigZag's loop-prime-factor limit, the size of its temporal-mapping search
            (its default 6; fewer factors search fewer loop orders, much faster).
        depthwise_rows: map each depthwise layer's filter taps on that many rows (D2), one
            output channel on D1 (``depthwise_on_rows``), as edgesim maps it on a systolic
            array; None keeps the mapping file as it is.
    """
    from zigzag.api import get_hardware_performance_zigzag

    onnx_path = onnx_path or onnx_model("resnet18")
    hardware = hardware or tpu_like_hw()
    mapping = mapping or tpu_like_mapping()
    logging.getLogger("zigzag").setLevel(logging.WARNING)
    logging.disable(logging.WARNING)  # its notes on default mappings and reduced unrollings
    try:
        with tempfile.TemporaryDirectory(prefix="zigzag-") as tmp, \
                contextlib.redirect_stdout(io.StringIO()):
            if depthwise_rows is not None:
                mapping = depthwise_on_rows(onnx_path, mapping, Path(tmp) / "depthwise-mapping.yaml",
                                            depthwise_rows)
            out: Any = get_hardware_performance_zigzag(
                workload=str(onnx_path), accelerator=str(hardware), mapping=str(mapping),
                opt=opt, dump_folder=tmp, loma_show_progress_bar=False,
                exploit_data_locality=exploit_data_locality, lpf_limit=lpf_limit)
    finally:
        logging.disable(logging.NOTSET)
    energy_pj, latency_cycles, cmes = out  # (the 5-tuple form is for in-memory compute only)
    per_layer = [_layer_figures(cme) for cme, _ in cmes[0][1]]
    return ZigZagResult(energy_pj=float(energy_pj), latency_cycles=float(latency_cycles),
                        layers=tuple(per_layer))


# The like-for-like specs (hardware_specs/zigzag-*.yaml) of ZigZag's accelerators, and the models
# both tools run.
SPEC = "zigzag-tpu-like"
SPECS = (("tpu_like", "zigzag-tpu-like"), ("edge_tpu_like", "zigzag-edge-tpu-like"))
# Accelerators whose mapping file leaves a depthwise layer on one PE: given edgesim's systolic
# depthwise mapping (``depthwise_on_rows``, their array's rows), so both tools run the same one.
DEPTHWISE_ROWS = {"tpu_like": 32, "eyeriss_like": 12}
MODELS = (("resnet18", "resnet18"), ("mobilenet_v2", "mobilenetv2"))  # (edgesim, ZigZag) names


def table(progress: Callable[[str], None] | None = None) -> pd.DataFrame:
    """Energy per component (MAC and each memory level) of whole models, ZigZag (locality mode,
    energy-optimal mappings) beside edgesim on ``zigzag-tpu-like`` and ``zigzag-edge-tpu-like``,
    summed over the layers ZigZag prices (conv, linear, matmul). Minutes: ZigZag searches every
    layer's temporal mapping."""
    import pandas as pd

    rows = []
    for theirs_hw, spec in SPECS:
        rows += _rows(theirs_hw, spec, progress)
    return pd.DataFrame(rows)


def _rows(theirs_hw: str, spec: str, progress: Callable[[str], None] | None
          ) -> list[dict[str, object]]:
    from edgesim.hardware import load_hardware

    hw = load_hardware(spec)
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as tmp:
        hw_file, mapping_file = accelerator(theirs_hw, Path(tmp))
        for ours_name, theirs_name in MODELS:
            rows += _model_rows(theirs_hw, hw, hw_file, mapping_file, ours_name, theirs_name,
                                progress)
    return rows


def _model_rows(theirs_hw: str, hw: Hardware, hw_file: Path, mapping_file: Path,
                ours_name: str, theirs_name: str, progress: Callable[[str], None] | None
                ) -> list[dict[str, object]]:
    """One model's rows of :func:`_rows`."""
    from edgesim.sim import simulate
    from edgesim.workload import load_workload

    rows: list[dict[str, object]] = []
    if progress:
        progress(f"ZigZag on {theirs_name}, {theirs_hw} (minutes)")
    path = onnx_model(theirs_name)
    zz = run_zigzag(path, hw_file, mapping_file, opt="energy", exploit_data_locality=True,
                    depthwise_rows=DEPTHWISE_ROWS.get(theirs_hw))
    res = simulate(load_workload(str(path)), hw)
    costed = [layer for layer in res.layers if layer.macs > 0]
    ours = {name: 1e12 * sum(layer.energy_breakdown_j.get(name, 0.0) for layer in costed)
            for name in (hw.main_unit.name, *zz.memory_names)}
    theirs = {hw.main_unit.name: zz.mac_energy_pj,
              **{name: zz.mem_energy_pj(name) for name in zz.memory_names}}
    for name, pj in theirs.items():
        rows.append({"accelerator": theirs_hw, "model": ours_name, "component": name,
                     "zigzag_uj": pj * 1e-6, "edgesim_uj": ours[name] * 1e-6,
                     "ratio": ours[name] / pj if pj else float("nan")})
    rows.append({"accelerator": theirs_hw, "model": ours_name, "component": "total",
                 "zigzag_uj": zz.energy_pj * 1e-6, "edgesim_uj": sum(ours.values()) * 1e-6,
                 "ratio": sum(ours.values()) / zz.energy_pj})
    return rows


def main(argv: list[str] | None = None) -> int:
    """``python -m edgesim.validate.zigzag ACCELERATOR SPEC``: the per-component table of one
    of ZigZag's bundled accelerators against an edgesim spec (ResNet-18 and MobileNet-v2,
    minutes), e.g. ``meta_prototype zigzag-meta-prototype-like``."""
    import argparse

    p = argparse.ArgumentParser(description=(main.__doc__ or "").splitlines()[0])
    p.add_argument("accelerator", help="ZigZag's name (a file of zigzag/inputs/hardware)")
    p.add_argument("spec", help="the edgesim spec describing it")
    args = p.parse_args(argv)
    import pandas as pd

    table_ = pd.DataFrame(_rows(args.accelerator, args.spec, None))
    print(table_.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
