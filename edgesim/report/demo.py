"""The energy comparison demo (`edgesim demo`): zoo models on built-in specs, and compressed variants."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from edgesim.report.runs import Run
from edgesim.report.search import SEARCH_MODEL, SEARCH_SPEC
from edgesim.report.tables import Table
from edgesim.vocab import Bound, Precision

if TYPE_CHECKING:
    from edgesim.report.html import Plan
    from edgesim.search.result import SearchResult

# Several zoo models of different character: one small enough for a microcontroller, a depthwise
# CNN, a plain CNN, a deep CNN, a transformer.
DEMO_MODELS = ("lenet5", "mobilenet_v2", "resnet18", "resnet50", "vit_tiny")
# One spec per unit type and class of device: systolic NPU, row-stationary NPU, cube NPU, phone CPU,
# embedded GPU, microcontroller.
DEMO_SPECS = ("edge-npu", "eyeriss", "davinci-npu", "cortex-a76", "jetson-nano", "cortex-m7")
VARIANTS_MODEL = "resnet18"
# The run whose layers, roofline and DES timeline the report shows.
DETAIL = ("resnet18", "edge-npu")
TITLE = "edgesim energy comparison"


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


def comparison_runs(inputs: dict[str, tuple[str, str]] | None = None) -> list[Run]:
    """The demo models on the demo specs (analytic mode). ``inputs`` collects each model's and
    spec's provenance (reference, sha256)."""
    from edgesim.hardware import load_hardware
    from edgesim.hardware.load import SpecLoader
    from edgesim.report.runs import run_of
    from edgesim.sim import simulate
    from edgesim.workload import load_workload

    runs = []
    hws = {spec: load_hardware(spec) for spec in DEMO_SPECS}
    for model in DEMO_MODELS:
        wl = load_workload(model)
        if inputs is not None:
            inputs[f"model {model}"] = (model, wl.sha256())
        for hw in hws.values():
            runs.append(run_of(simulate(wl, hw), hw, model))
    if inputs is not None:
        inputs.update({f"spec {s}": (s, SpecLoader(s).sha256()) for s in DEMO_SPECS})
    return runs


def comparison_table(runs: list[Run]) -> Table:
    """Latency, energy and area of each run, numeric columns only; a run whose chip cannot hold
    the model (the capacity check ``simulate`` reports) has ``fits`` no and its reason."""
    t = Table("Latency, energy and area (batch 1, analytic)",
              ["model", "spec", "fits", "latency ms", "energy mJ", "area mm2", "DRAM MB",
               "memory-bound layers", "layers", "top energy component", "top energy share %",
               "why it does not fit"])
    for r in runs:
        res = r.result
        top = max(res["energy_breakdown_j"].items(), key=lambda kv: kv[1])
        n_mem = sum(1 for lay in r.layers if lay["bound"] == Bound.MEMORY.value)
        if not r.fits:
            t.add([r.model, r.hardware, "no", "", "", f"{r.area_mm2:.2f}", "", "", len(r.layers),
                   "", "", "; ".join(r.warnings)])
            continue
        t.add([r.model, r.hardware, "yes", f"{r.latency_s * 1e3:.3f}",
               f"{r.energy_j * 1e3:.3f}", f"{r.area_mm2:.2f}",
               _mb(res["dram_read_bytes"] + res["dram_write_bytes"]), n_mem, len(r.layers),
               top[0], f"{100 * top[1] / r.energy_j:.1f}", ""])
    return t


def _plan(runs: list[Run], var_runs: list[Run], found: SearchResult, designs: SearchResult,
          notes: tuple[str, str]) -> Plan:
    """Every figure of the demo, in reading order (those with nothing to show are left out)."""
    from edgesim.report import figures as fg
    from edgesim.report import figures_compress as fc
    from edgesim.report.variants import ADDER_PAIR
    from edgesim.search.files import plot_front

    detail = next(r for r in runs if (r.model, r.hardware) == DETAIL)
    model_runs = [r for r in runs if r.model == DETAIL[0]]

    def front(res: SearchResult, note: str) -> Callable[[Path], str]:
        def make(path: Path) -> str:
            plot_front(res, path)
            return note
        return make

    des = _des_run()
    return [
        ("energy.png", "Energy per inference, by where it is spent",
         partial(fg.energy_by_kind, runs)),
        ("latency_energy.png", "Latency against energy, chip area as marker size",
         partial(fg.latency_energy_area, runs)),
        ("variants.png", f"Compressed variants of {VARIANTS_MODEL} on each chip",
         partial(fc.variants_on_chips, var_runs)),
        ("addernet.png", "AdderNet like for like: the adder chip against its MAC twin",
         partial(fc.adder_vs_twin, var_runs, adder=ADDER_PAIR[0], twin=ADDER_PAIR[1])),
        ("layers.png", f"Where {DETAIL[0]}'s time goes on {DETAIL[1]}",
         partial(fg.top_layers, detail)),
        ("rooflines.png", f"Rooflines with {DETAIL[0]}'s layers, one per chip that holds it",
         partial(fg.rooflines, model_runs)),
        ("area.png", "Silicon area of each chip", partial(fg.area_by_kind, runs)),
        ("timeline.png", f"{DETAIL[0]} on {DETAIL[1]} in time (discrete-event model)",
         partial(fc.gantt, des)),
        ("search_pruning.png", f"Search: {SEARCH_MODEL} channel pruning, latency against energy",
         front(found, notes[0])),
        ("search_designs.png", f"Search: {SEARCH_MODEL} on {SEARCH_SPEC} designs, latency "
         f"against area", front(designs, notes[1])),
    ]


def _des_run() -> Run:
    from edgesim.hardware import load_hardware
    from edgesim.report.runs import run_of
    from edgesim.sim import simulate
    from edgesim.workload import load_workload

    hw = load_hardware(DETAIL[1])
    return run_of(simulate(load_workload(DETAIL[0]), hw, mode="des"), hw, DETAIL[0])


def run_demo(out_dir: Path | None = None) -> DemoOutput:
    """Run the demo: print the tables and write the report (HTML, Markdown, CSV, PNG) to
    ``out_dir``."""
    from tqdm import tqdm

    from edgesim.report.glance import at_a_glance
    from edgesim.report.html import publish
    from edgesim.report.search import demo_dse, demo_search, dse_table, search_table
    from edgesim.report.seeds import seed_tables
    from edgesim.report.variants import ADDER_PAIR, variant_runs, variants_table

    out = Path(out_dir) if out_dir is not None else Path("reports")
    inputs: dict[str, tuple[str, str]] = {}
    steps = tqdm(total=5, desc="demo", unit="step", file=sys.stderr,
                 disable=not sys.stderr.isatty())
    runs = comparison_runs(inputs)
    steps.update()
    var_runs = variant_runs(VARIANTS_MODEL)
    steps.update()
    found, designs = demo_search(), demo_dse()
    steps.update()
    search_t, dse_t = search_table(found), dse_table(designs)
    tables = [comparison_table(runs), variants_table(VARIANTS_MODEL, var_runs), search_t, dse_t,
              *seed_tables(), zoo_table(), specs_table()]
    for t in tables:
        print(t.to_text())
        print()
    steps.update()
    glance = at_a_glance(runs, var_runs, ADDER_PAIR)
    print("At a glance:")
    print("\n".join(f"- {line}" for line in glance))
    final = publish(out, TITLE, inputs, _plan(runs, var_runs, found, designs,
                                              (search_t.note, dse_t.note)), tables, glance)
    steps.update()
    steps.close()
    print(f"report: {out / 'index.html'}")
    return DemoOutput(out, tuple(final))
