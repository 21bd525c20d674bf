"""``edgesim report --from DIR... --out DIR``: a report over saved outputs, nothing re-simulated.

It reads what the other commands wrote: simulate JSONs (``edgesim simulate --json``), compare
CSVs (``edgesim compare --csv``) and search outputs (a folder with ``pareto.csv`` and
``history.csv``), draws the figures those hold (a compare CSV has totals only: no breakdown,
layers or roofline) and tables them, with every file read named and hashed in the header.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from edgesim.errors import EdgesimError
from edgesim.report.runs import Run, run_from_json
from edgesim.report.tables import Table

TITLE = "edgesim report"
# The columns a compare CSV carries (CONTRACT: hardware, workload, variant, mode, result keys).
_COMPARE_COLUMNS = {"hardware", "workload", "variant", "mode", "latency_s", "energy_j"}
_SIM_KEYS = {"hardware", "workload", "latency_s", "energy_j", "energy_breakdown_j", "layers"}
_OBJECTIVE_COLUMNS = ("latency_s", "energy_j", "area_mm2", "weight_bytes", "accuracy",
                      "dynamic_energy_j", "latency_cycles", "macs", "params", "measured_latency_s")


@dataclass(frozen=True)
class SearchOutput:
    """A search's output folder: its front and history, and its plot if it has one."""

    path: Path
    pareto: Any  # pandas DataFrame
    history: Any
    objectives: tuple[str, ...]


@dataclass
class Gathered:
    """Everything read, and every file read with its SHA-256."""

    runs: list[Run] = field(default_factory=list)
    searches: list[SearchOutput] = field(default_factory=list)
    inputs: dict[str, tuple[str, str]] = field(default_factory=dict)
    skipped: list[Path] = field(default_factory=list)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _read_json(path: Path, into: Gathered) -> None:
    try:
        data = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EdgesimError(f"not valid JSON ({exc})", file=str(path)) from None
    if not isinstance(data, dict) or not set(data) >= _SIM_KEYS:
        into.skipped.append(path)
        return
    try:
        into.runs.append(run_from_json(data, variant="-"))  # a variant it does not say
    except (KeyError, TypeError, ValueError) as exc:
        raise EdgesimError(f"not a simulate result JSON ({exc})", file=str(path)) from None
    into.inputs[str(path)] = (str(path), _sha256(path))


def _read_csv(path: Path, into: Gathered) -> None:
    import pandas as pd

    try:
        frame = pd.read_csv(path)
    except (UnicodeDecodeError, ValueError, pd.errors.ParserError) as exc:
        raise EdgesimError(f"not a readable CSV ({exc})", file=str(path)) from None
    if not set(frame.columns) >= _COMPARE_COLUMNS:
        into.skipped.append(path)
        return
    for i, row in frame.iterrows():
        result = {k: (None if pd.isna(v) else v) for k, v in row.items()}
        for key in ("latency_s", "energy_j", "area_mm2", "weight_bytes"):
            if result.get(key) is None and key in ("latency_s", "energy_j"):
                raise EdgesimError(f"row {i}: {key} is empty", file=str(path), field=key)
        result.setdefault("area_mm2", 0.0)
        result.setdefault("weight_bytes", 0)
        result.update(energy_breakdown_j={}, area_breakdown_mm2={}, layers=[], warnings=[])
        into.runs.append(run_from_json(result, variant=str(row["variant"])))
    into.inputs[str(path)] = (str(path), _sha256(path))


def _read_search(folder: Path, into: Gathered) -> None:
    import pandas as pd

    pareto, history = pd.read_csv(folder / "pareto.csv"), pd.read_csv(folder / "history.csv")
    objectives: tuple[str, ...] = ()
    run_json = folder / "run.json"
    if run_json.is_file():
        cfg = json.loads(run_json.read_text()).get("config", {})
        objectives = tuple(cfg.get("objectives", ()))
    if not objectives:
        objectives = tuple(c for c in _OBJECTIVE_COLUMNS if c in history.columns)[:2]
    into.searches.append(SearchOutput(folder, pareto, history, objectives))
    for name in ("pareto.csv", "history.csv"):
        into.inputs[str(folder / name)] = (str(folder / name), _sha256(folder / name))


def gather(paths: Sequence[str | Path]) -> Gathered:
    """Read every simulate JSON, compare CSV and search folder under ``paths`` (folders are
    walked; other files are skipped and listed in ``skipped``)."""
    into = Gathered()
    for given in paths:
        root = Path(given)
        if not root.exists():
            raise EdgesimError("no such file or directory", file=str(root), field="--from")
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        searches = {p.parent for p in files if p.name == "pareto.csv"
                    and (p.parent / "history.csv").is_file()}
        for folder in sorted(searches):
            _read_search(folder, into)
        for path in files:
            if path.parent in searches and path.suffix in (".csv", ".json"):
                continue  # a search's own files: read above
            if path.suffix == ".json":
                _read_json(path, into)
            elif path.suffix == ".csv":
                _read_csv(path, into)
            else:
                into.skipped.append(path)
    if not into.runs and not into.searches:
        raise EdgesimError("found no simulate JSON, compare CSV or search output under "
                           f"{', '.join(str(p) for p in paths)}", field="--from")
    return into


def runs_table(runs: Sequence[Run]) -> Table:
    t = Table("Runs read", ["model", "hardware", "variant", "mode", "fits", "latency ms",
                            "energy mJ", "area mm2", "weights MB stored"])
    for r in runs:
        t.add([r.model, r.hardware, r.variant, r.result.get("mode", ""),
               "yes" if r.fits else "no", f"{r.latency_s * 1e3:.4g}", f"{r.energy_j * 1e3:.4g}",
               f"{r.area_mm2:.3g}", f"{float(r.result.get('weight_bytes') or 0) / 1e6:.3g}"])
    return t


def _front_caption(s: SearchOutput) -> str:
    parts = []
    for obj in s.objectives:
        if obj in s.pareto.columns and len(s.pareto):
            best = s.pareto.loc[s.pareto[obj].idxmax() if obj == "accuracy"
                                else s.pareto[obj].idxmin()]
            parts.append(f"best {obj} {best[obj]:.4g} (candidate {int(best['id'])})")
    return (f"{len(s.history)} candidates evaluated, {len(s.pareto)} on the front of "
            f"{' and '.join(s.objectives)}: {'; '.join(parts)}.")


def _copy_front(s: SearchOutput, path: Path) -> str | None:
    png = s.path / "pareto.png"
    if not png.is_file():
        return None
    shutil.copyfile(png, path)
    return _front_caption(s)


def search_table(s: SearchOutput) -> Table:
    cols = ["id", *[c for c in s.objectives if c in s.pareto.columns]]
    t = Table(f"Search front: {s.path.name}", cols)
    for _, row in s.pareto.sort_values(cols[1] if len(cols) > 1 else "id").iterrows():
        t.add([int(row["id"]), *[f"{row[c]:.6g}" for c in cols[1:]]])
    t.note = _front_caption(s)
    return t


def report_from(paths: Sequence[str | Path], out: Path) -> list[Path]:
    """Read ``paths`` and write the report into ``out``; return the files written."""
    from edgesim.report import figures as fg
    from edgesim.report import figures_compress as fc
    from edgesim.report.html import publish

    got = gather(paths)
    runs = got.runs
    plan: list[tuple[str, str, Callable[[Path], str | None]]] = []
    if runs:
        plan += [("energy.png", "Energy per inference, by where it is spent",
                  partial(fg.energy_by_kind, runs)),
                 ("latency_energy.png", "Latency against energy, chip area as marker size",
                  partial(fg.latency_energy_area, runs)),
                 ("variants.png", "Compressed variants on each chip",
                  partial(fc.variants_on_chips, runs))]
        detailed = [r for r in runs if r.layers]
        if detailed:
            first = detailed[0]
            plan += [("layers.png", f"Where {first.model}'s time goes on {first.hardware}",
                      partial(fg.top_layers, first)),
                     ("rooflines.png", f"Rooflines with {first.model}'s layers",
                      partial(fg.rooflines, [r for r in detailed if r.model == first.model]))]
        plan.append(("area.png", "Silicon area of each chip",
                     partial(fg.area_by_kind, [r for r in runs if r.result.get(
                         "area_breakdown_mm2")])))
    for i, s in enumerate(got.searches):
        plan.append((f"search_{i}.png", f"Search: {s.path.name}", partial(_copy_front, s)))
    tables = ([runs_table(runs)] if runs else []) + [search_table(s) for s in got.searches]
    from edgesim.report.glance import at_a_glance

    return publish(out, TITLE, got.inputs, plan, tables, at_a_glance(runs, runs))


__all__ = ["Gathered", "SearchOutput", "gather", "report_from", "runs_table"]
