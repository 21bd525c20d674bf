"""Write the demo report: Markdown, CSV per table, matplotlib figures and one HTML page."""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from edgesim.report.tables import Table

_CSS = """body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;
text-align:right}th{background:#eee}td:first-child,td:nth-child(2){text-align:left}
.note{color:#555;font-size:90%}img{max-width:100%}"""


def _energy_categories(res: Any, hw: Any) -> dict[str, float]:
    """Group a result's energy components into compute / on-chip memory / off-chip / static."""
    cats = {"compute": 0.0, "on-chip memory": 0.0, "off-chip memory": 0.0, "static": 0.0}
    offchip = {m.name for m in hw.memory if m.is_offchip}
    onchip = {m.name for m in hw.memory if not m.is_offchip}
    for comp, e in res.energy_breakdown_j.items():
        if comp == "static":
            cats["static"] += e
        elif comp in offchip:
            cats["off-chip memory"] += e
        elif comp in onchip:
            cats["on-chip memory"] += e
        else:
            cats["compute"] += e
    return cats


def _figures(out: Path, records: Sequence[dict[str, Any]]) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    files: list[Path] = []
    if not records:
        return files
    # 1. Energy breakdown per (model, spec), normalised to each run's total.
    labels = [f"{r['model']}\n{r['spec']}" for r in records]
    cats = [_energy_categories(r["result"], r["hw"]) for r in records]
    names = list(cats[0])
    fig, ax = plt.subplots(figsize=(max(8, 0.55 * len(records)), 4.5))
    bottom = [0.0] * len(records)
    for name in names:
        vals = [c[name] / max(sum(c.values()), 1e-30) for c in cats]
        ax.bar(range(len(records)), vals, bottom=bottom, label=name)
        bottom = [b + v for b, v in zip(bottom, vals, strict=True)]
    ax.set_xticks(range(len(records)), labels, rotation=90, fontsize=7)
    ax.set_ylabel("share of energy")
    ax.set_title("Where the energy goes")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    p = out / "energy_breakdown.png"
    fig.savefig(p, dpi=110)
    plt.close(fig)
    files.append(p)
    # 2. Latency vs energy, log-log, one colour per spec.
    fig, ax = plt.subplots(figsize=(7, 5))
    specs = sorted({str(r["spec"]) for r in records})
    models = sorted({str(r["model"]) for r in records})
    markers = "osD^v<>p*h"
    for r in records:
        res = r["result"]
        ax.scatter(res.latency_s * 1e3, res.energy_j * 1e3,
                   color=f"C{specs.index(str(r['spec'])) % 10}",
                   marker=markers[models.index(str(r["model"])) % len(markers)])
    for i, s in enumerate(specs):
        ax.scatter([], [], color=f"C{i % 10}", label=s)
    for i, m in enumerate(models):
        ax.scatter([], [], color="k", marker=markers[i % len(markers)], label=m)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("latency (ms)")
    ax.set_ylabel("energy (mJ)")
    ax.set_title("Latency and energy per inference")
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    p = out / "latency_energy.png"
    fig.savefig(p, dpi=110)
    plt.close(fig)
    files.append(p)
    return files


def write_report(out: Path, tables: Sequence[Table], records: Sequence[dict[str, Any]],
                 variant_records: Sequence[dict[str, Any]],
                 figures: Sequence[tuple[str, Callable[[Path], None]]] = ()) -> list[Path]:
    """Write report.md, one CSV per table, figures and index.html into ``out``; return the paths.

    ``figures``: more figures, each a file name and a function that draws it to a path."""
    files: list[Path] = []
    md = out / "report.md"
    md.write_text("# edgesim energy comparison\n\n" + "\n".join(t.to_markdown() for t in tables))
    files.append(md)
    for t in tables:
        p = out / f"{t.slug}.csv"
        p.write_text(t.to_csv())
        files.append(p)
    figs = _figures(out, [*records])
    for name, draw in figures:
        draw(out / name)
        figs.append(out / name)
    files += figs
    imgs = "".join(f"<p><img src='{html.escape(f.name)}' alt='{html.escape(f.stem)}'></p>"
                   for f in figs)
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>edgesim report</title>"
            f"<style>{_CSS}</style></head><body><h1>edgesim energy comparison</h1>"
            + "".join(t.to_html() for t in tables) + imgs + "</body></html>")
    idx = out / "index.html"
    idx.write_text(page)
    files.append(idx)
    del variant_records  # the variants table carries everything the report shows about them
    return files
