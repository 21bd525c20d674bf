"""The energy comparison demo (`edgesim demo`): zoo models on built-in specs, and compressed variants."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from edgesim.report.tables import Table
from edgesim.vocab import Bound, Precision

# Several zoo models of different character: a plain CNN, a depthwise CNN, a deep CNN, a transformer.
DEMO_MODELS = ("resnet18", "mobilenet_v2", "resnet50", "vit_tiny")
# One spec per unit type and class of device: systolic NPU, row-stationary NPU, cube NPU, phone CPU,
# embedded GPU, microcontroller.
DEMO_SPECS = ("edge-npu", "eyeriss", "davinci-npu", "cortex-a76", "jetson-nano", "cortex-m7")
VARIANTS_MODEL = "resnet18"


@dataclass(frozen=True)
class DemoOutput:
    """What the demo wrote."""

    out_dir: Path
    files: tuple[Path, ...]


def _mb(n_bytes: float) -> str:
    return f"{n_bytes / 1e6:.2f}"


def zoo_table() -> Table:
    """MACs, parameters and dense int8 weight bytes of every zoo model (a property of the model;
    what a chip stores is a result's ``weight_bytes``)."""
    from edgesim.workload import load_workload, zoo

    t = Table("Model zoo", ["model", "layers", "GMACs", "M adds", "M params",
                            "weights MB (dense int8)"])
    for name in zoo.names():
        wl = load_workload(name)
        t.add([name, len(wl.layers), f"{wl.macs / 1e9:.3f}", f"{wl.adds / 1e6:.2f}",
               f"{wl.params / 1e6:.3f}", _mb(wl.weight_bytes(Precision.INT8))])
    return t


def specs_table() -> Table:
    """One line per built-in spec: its summary and silicon area."""
    from edgesim.hardware import list_hardware, load_hardware, summary

    t = Table("Built-in hardware specs", ["spec", "summary"])
    for name in list_hardware():
        t.add([name, summary(load_hardware(name))])
    return t


def comparison_table() -> tuple[Table, list[dict[str, object]]]:
    """Latency, energy and area of the demo models on the demo specs (analytic mode)."""
    from edgesim.hardware import load_hardware
    from edgesim.sim import simulate
    from edgesim.workload import load_workload

    t = Table("Latency, energy and area (batch 1, analytic)",
              ["model", "spec", "latency ms", "energy mJ", "area mm2", "DRAM MB", "memory-bound layers",
               "top energy component"])
    records: list[dict[str, object]] = []
    for model in DEMO_MODELS:
        wl = load_workload(model)
        for spec in DEMO_SPECS:
            hw = load_hardware(spec)
            res = simulate(wl, hw)
            outer = hw.outermost
            if res.weight_bytes > outer.size_bytes:  # the weights as the chip stores them
                t.add([model, spec, "-", "-", "-", "-", "-",
                       f"does not fit: {_mb(res.weight_bytes)} MB of weights stored > "
                       f"{_mb(outer.size_bytes)} MB {outer.name}"])
                continue
            n_mem = sum(1 for lay in res.layers if lay.bound == Bound.MEMORY)
            top = max(res.energy_breakdown_j.items(), key=lambda kv: kv[1])
            t.add([model, spec, f"{res.latency_s * 1e3:.3f}", f"{res.energy_j * 1e3:.3f}",
                   f"{res.area_mm2:.2f}", _mb(res.dram_read_bytes + res.dram_write_bytes),
                   f"{n_mem}/{len(res.layers)}", f"{top[0]} ({top[1] / res.energy_j:.0%})"])
            records.append({"model": model, "spec": spec, "result": res, "hw": hw})
    return t, records


def run_demo(out_dir: Path | None = None) -> DemoOutput:
    """Run the demo: print the tables and write the report (Markdown, CSV, PNG, HTML) to ``out_dir``."""
    from edgesim.report.html import write_report
    from edgesim.report.search import demo_dse, demo_search, dse_table, search_table
    from edgesim.report.seeds import seed_tables
    from edgesim.report.variants import variants_table
    from edgesim.search.files import plot_front

    out = Path(out_dir) if out_dir is not None else Path("reports")
    tables = [zoo_table(), specs_table()]
    comp, records = comparison_table()
    tables.append(comp)
    var_table, var_records = variants_table(VARIANTS_MODEL)
    tables.append(var_table)
    found, designs = demo_search(), demo_dse()
    tables += [search_table(found), dse_table(designs), *seed_tables()]
    for t in tables:
        print(t.to_text())
        print()
    # Write everything into a scratch folder first: a failure leaves no partial report behind.
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out, prefix=".demo-") as tmp:
        files = write_report(Path(tmp), tables, records, var_records,
                             figures=[("search_pruning.png", partial(plot_front, found)),
                                      ("search_designs.png", partial(plot_front, designs))])
        final = []
        for f in files:
            dest = out / f.name
            shutil.move(str(f), dest)
            final.append(dest)
    print(f"report: {out / 'index.html'}")
    return DemoOutput(out, tuple(final))
