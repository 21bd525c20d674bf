"""``edgesim report --from DIR... --out DIR``: a report over saved outputs, nothing re-simulated.

It reads what the other commands wrote: simulate JSONs (``edgesim simulate --json``), compare
CSVs (``edgesim compare --csv``) and search outputs (a folder with ``pareto.csv`` and
``history.csv``), draws the figures those hold (a compare CSV has totals only: no breakdown,
layers or roofline) and tables them, with every file read named and hashed in the header.
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from edgesim.errors import EdgesimError
from edgesim.report.runs import Kind, Run, run_from_json
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


def _number(value: Any, file: Path, where: str, default: float | None = None) -> float:
    """``value`` as a finite, non-negative number (``default`` when absent); else bad input."""
    if value is None and default is not None:
        return default
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise EdgesimError(f"expected a number, got {value!r}", file=str(file),
                           field=where) from None
    if not math.isfinite(x) or x < 0:
        raise EdgesimError(f"expected a finite number >= 0, got {value!r}", file=str(file),
                           field=where)
    return x


_LAYER_NUMBERS = ("latency_s", "energy_j", "macs", "adds", "dram_read_bytes", "dram_write_bytes",
                  "compute_cycles", "latency_cycles")


def _clean_result(data: dict[str, Any], file: Path) -> dict[str, Any]:
    """A simulate JSON checked where the report reads it: numbers are numbers, breakdowns are
    tables of numbers, layers carry what the figures draw."""
    out = dict(data)
    for key in ("latency_s", "energy_j"):
        out[key] = _number(data.get(key), file, key)
    for key in ("area_mm2", "weight_bytes", "dram_read_bytes", "dram_write_bytes", "macs",
                "adds", "params"):
        out[key] = _number(data.get(key), file, key, 0.0)
    for key in ("energy_breakdown_j", "area_breakdown_mm2"):
        table = data.get(key) or {}
        if not isinstance(table, dict):
            raise EdgesimError("expected a table of component: number", file=str(file),
                               field=key)
        out[key] = {str(k): _number(v, file, f"{key}.{k}") for k, v in table.items()}
    layers = data.get("layers") or []
    if not isinstance(layers, list):
        raise EdgesimError("expected a list of layers", file=str(file), field="layers")
    clean = []
    for i, lay in enumerate(layers):
        if not isinstance(lay, dict):
            raise EdgesimError("expected a layer object", file=str(file), field=f"layers[{i}]")
        row = dict(lay)
        for key in _LAYER_NUMBERS:
            row[key] = _number(lay.get(key), file, f"layers[{i}].{key}", 0.0)
        row.setdefault("name", f"layer{i}")
        row.setdefault("op", "?")
        row.setdefault("unit", "?")
        if row.get("bound") not in ("compute", "memory"):
            raise EdgesimError(f"expected 'compute' or 'memory', got {row.get('bound')!r}",
                               file=str(file), field=f"layers[{i}].bound")
        clean.append(row)
    out["layers"] = clean
    roof = data.get("roof")
    if roof is not None:
        if not isinstance(roof, dict):
            raise EdgesimError("expected the chip's roofs as a table", file=str(file),
                               field="roof")
        out["roof"] = {"peak_ops_per_s": _number(roof.get("peak_ops_per_s"), file, "roof"),
                       "offchip_bytes_per_s": _number(roof.get("offchip_bytes_per_s"), file,
                                                      "roof"),
                       "unit": str(roof.get("unit", "?"))}
        if not out["roof"]["peak_ops_per_s"] or not out["roof"]["offchip_bytes_per_s"]:
            out.pop("roof")
    kinds = data.get("component_kinds")
    if kinds is not None and not (isinstance(kinds, dict) and all(
            v in {k.value for k in Kind} for v in kinds.values())):
        raise EdgesimError("expected component: kind", file=str(file), field="component_kinds")
    warnings = data.get("warnings", [])
    out["warnings"] = [str(w) for w in warnings] if isinstance(warnings, list) else [str(warnings)]
    return out


def _read_json(path: Path, into: Gathered) -> None:
    try:
        data = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EdgesimError(f"not valid JSON ({exc})", file=str(path)) from None
    if not isinstance(data, dict) or not set(data) >= _SIM_KEYS:
        into.skipped.append(path)
        return
    into.runs.append(run_from_json(_clean_result(data, path), variant="-"))  # no variant said
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
        raw = {str(k): (None if pd.isna(v) else v) for k, v in row.items()}
        result = dict(raw)
        for key in ("latency_s", "energy_j"):
            result[key] = _number(raw.get(key), path, f"row {i}.{key}")
        for key in ("area_mm2", "weight_bytes"):
            result[key] = _number(raw.get(key), path, f"row {i}.{key}", 0.0)
        # Totals only; whether the chip holds the model is not in a compare row (unknown).
        result.update(energy_breakdown_j={}, area_breakdown_mm2={}, layers=[], warnings=None)
        into.runs.append(run_from_json(result, variant=str(row["variant"])))
    into.inputs[str(path)] = (str(path), _sha256(path))


def _read_search(folder: Path, into: Gathered) -> None:
    import pandas as pd

    frames = []
    for name in ("pareto.csv", "history.csv"):
        try:
            frames.append(pd.read_csv(folder / name))
        except (UnicodeDecodeError, ValueError, pd.errors.ParserError) as exc:
            raise EdgesimError(f"not a readable CSV ({exc})", file=str(folder / name)) from None
        if "id" not in frames[-1].columns:
            raise EdgesimError("a search table needs its 'id' column", file=str(folder / name))
    pareto, history = frames
    objectives: tuple[str, ...] = ()
    run_json = folder / "run.json"
    if run_json.is_file():
        try:
            meta = json.loads(run_json.read_text())
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise EdgesimError(f"not valid JSON ({exc})", file=str(run_json)) from None
        cfg = meta.get("config", {}) if isinstance(meta, dict) else {}
        objectives = tuple(str(o) for o in cfg.get("objectives", ())) \
            if isinstance(cfg, dict) else ()
    objectives = tuple(o for o in objectives if o in pareto.columns)
    if not objectives:
        objectives = tuple(c for c in _OBJECTIVE_COLUMNS if c in history.columns)[:2]
    for obj in objectives:
        for frame, name in ((pareto, "pareto.csv"), (history, "history.csv")):
            if not pd.api.types.is_numeric_dtype(frame[obj]):
                raise EdgesimError(f"column {obj!r} is not numeric", file=str(folder / name))
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
               "?" if not r.fit_known else "yes" if r.fits else "no", f"{r.latency_s * 1e3:.4g}", f"{r.energy_j * 1e3:.4g}",
               f"{r.area_mm2:.3g}", f"{float(r.result.get('weight_bytes') or 0) / 1e6:.3g}"])
    return t


def _front_caption(s: SearchOutput) -> str:
    parts = []
    for obj in s.objectives:
        if obj in s.pareto.columns and len(s.pareto):
            best = s.pareto.loc[s.pareto[obj].idxmax() if obj == "accuracy"
                                else s.pareto[obj].idxmin()]
            parts.append(f"best {obj} {best[obj]:.4g} (candidate {best['id']})")
    return (f"{len(s.history)} candidates evaluated, {len(s.pareto)} on the front of "
            f"{' and '.join(s.objectives)}: {'; '.join(parts)}.")


def _copy_front(s: SearchOutput, path: Path) -> str | None:
    png = s.path / "pareto.png"
    if not png.is_file():
        return None
    shutil.copyfile(png, path)
    return _front_caption(s)


def search_table(s: SearchOutput, index: int = 0) -> Table:
    cols = ["id", *[c for c in s.objectives if c in s.pareto.columns]]
    t = Table(f"Search front {index}: {s.path.name}", cols)
    for _, row in s.pareto.sort_values(cols[1] if len(cols) > 1 else "id").iterrows():
        t.add([row["id"], *[f"{row[c]:.6g}" for c in cols[1:]]])
    t.note = _front_caption(s)
    return t


def report_from(paths: Sequence[str | Path], out: Path) -> list[Path]:
    """Read ``paths`` and write the report into ``out``; return the files written."""
    from edgesim.report import figures as fg
    from edgesim.report import figures_compress as fc
    from edgesim.report.html import publish

    unique = list({Path(p).resolve(): p for p in paths}.values())  # a source named twice: once
    got = gather(unique)
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
    tables = ([runs_table(runs)] if runs else []) + [search_table(s, i)
                                                     for i, s in enumerate(got.searches)]
    from edgesim.report.glance import at_a_glance

    return publish(out, TITLE, got.inputs, plan, tables, at_a_glance(runs, runs))


__all__ = ["Gathered", "SearchOutput", "gather", "report_from", "runs_table"]
