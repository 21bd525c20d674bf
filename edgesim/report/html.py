"""Write a report: figures first, each with its computed caption, then the tables; one
self-contained HTML page (figures inlined), the same as Markdown, a CSV per table, the PNGs and
the provenance (edgesim version, date, a hash of each input)."""

from __future__ import annotations

import base64
import datetime
import html
import json
import re
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgesim.provenance import canonical_sha256
from edgesim.report.tables import Table
from edgesim.version import __version__

_CSS = """body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em auto;
max-width:1200px;padding:0 1em;color:#222;line-height:1.4}
header{border-bottom:1px solid #ccc;margin-bottom:1.5em}header p{margin:.2em 0;color:#555}
figure{margin:1.5em 0 2.5em 0}figcaption{max-width:60em;margin-top:.4em}
figcaption b{display:block;font-size:105%;margin-bottom:.2em}
img{max-width:100%;height:auto}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px}
th{background:#eee;text-align:left}td.num{text-align:right;font-variant-numeric:tabular-nums}
td.text{text-align:left}td,th{white-space:nowrap;word-break:keep-all}
.note{color:#555;font-size:90%;max-width:60em}
.glance{background:#f4f7fb;border-left:4px solid #0072B2;padding:.2em 1em;margin:1em 0}
.glance li{margin:.3em 0;max-width:70em}
details{margin:.3em 0}code{font-size:90%}"""

_NUMBER = re.compile(r"^[-+]?(\d[\d,]*\.?\d*|\.\d+)([eE][-+]?\d+)?%?$")


@dataclass(frozen=True)
class Figure:
    """A drawn figure: its file, a title and the caption computed from its numbers."""

    path: Path
    title: str
    caption: str


FigureMaker = Callable[[Path], "str | None"]
Plan = Sequence[tuple[str, str, FigureMaker]]  # (file name, title, what draws it)


def draw(out: Path, name: str, title: str, make: FigureMaker) -> Figure | None:
    """Draw ``make`` to ``out/name``; None when it had nothing to show."""
    caption = make(out / name)
    return Figure(out / name, title, caption) if caption is not None else None


def _cell(text: str) -> str:
    cls = "num" if _NUMBER.match(text) or text in ("-", "") else "text"
    return f"<td class='{cls}'>{html.escape(text)}</td>"


def table_html(t: Table) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in t.columns)
    body = "".join("<tr>" + "".join(_cell(c) for c in r) + "</tr>" for r in t.rows)
    note = f"<p class='note'>{html.escape(t.note)}</p>" if t.note else ""
    return (f"<h3>{html.escape(t.title)}</h3><table><thead><tr>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table>{note}")


def provenance(inputs: dict[str, tuple[str, str]]) -> dict[str, Any]:
    """The report's provenance: version, UTC date, ``{name: (ref, sha256)}`` of each input."""
    return {"edgesim": __version__,
            "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d"),
            "inputs": {k: {"ref": ref, "sha256": h} for k, (ref, h) in inputs.items()}}


def _header(title: str, prov: dict[str, Any]) -> str:
    inputs = "".join(f"<li><code>{html.escape(k)}</code>: {html.escape(v['ref'])} "
                     f"(sha256 {v['sha256'][:12]})</li>" for k, v in prov["inputs"].items())
    return (f"<header><h1>{html.escape(title)}</h1><p>edgesim {html.escape(prov['edgesim'])}"
            f" &middot; {html.escape(prov['date'])} &middot; {len(prov['inputs'])} inputs"
            f"</p><details><summary>inputs and their hashes</summary><ul>{inputs}</ul>"
            f"</details></header>")


def _glance(lines: Sequence[str]) -> str:
    if not lines:
        return ""
    items = "".join(f"<li>{html.escape(line)}</li>" for line in lines)
    return f"<section class='glance'><h2>At a glance</h2><ul>{items}</ul></section>"


def page(title: str, prov: dict[str, Any], figures: Sequence[Figure],
         tables: Sequence[Table], glance: Sequence[str] = ()) -> str:
    """The self-contained HTML page: header, the at-a-glance lines, figures (inlined PNG) with
    captions, tables."""
    figs = []
    for i, f in enumerate(figures, start=1):
        data = base64.b64encode(f.path.read_bytes()).decode()
        figs.append(f"<figure id='{html.escape(f.path.stem)}'><img "
                    f"src='data:image/png;base64,{data}' alt='{html.escape(f.title)}'>"
                    f"<figcaption><b>Figure {i}. {html.escape(f.title)}</b>"
                    f"{html.escape(f.caption)}</figcaption></figure>")
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            f"<meta name='viewport' content='width=device-width'>"
            f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>"
            f"{_header(title, prov)}{_glance(glance)}<h2>Findings</h2>{''.join(figs)}"
            f"<h2>Tables</h2>"
            + "".join(table_html(t) for t in tables) + "</body></html>\n")


def markdown(title: str, prov: dict[str, Any], figures: Sequence[Figure],
             tables: Sequence[Table], glance: Sequence[str] = ()) -> str:
    lines = [f"# {title}", "", f"edgesim {prov['edgesim']}, {prov['date']}", ""]
    if glance:
        lines += ["## At a glance", "", *[f"- {line}" for line in glance], ""]
    for i, f in enumerate(figures, start=1):
        lines += [f"![{f.title}]({f.path.name})", "", f"**Figure {i}. {f.title}** {f.caption}",
                  ""]
    return "\n".join(lines) + "\n" + "\n".join(t.to_markdown() for t in tables)


def write_report(out: Path, title: str, inputs: dict[str, tuple[str, str]],
                 figures: Sequence[Figure], tables: Sequence[Table],
                 glance: Sequence[str] = ()) -> list[Path]:
    """Write index.html, report.md, provenance.json and a CSV per table into ``out`` (where the
    figures' PNGs already are); return every file of the report."""
    prov = provenance(inputs)
    files: list[Path] = [f.path for f in figures]
    # Every CSV row carries edgesim's version and one hash over the inputs (each input's hash
    # is in provenance.json beside it).
    stamp = {"edgesim_version": prov["edgesim"],
             "inputs_sha256": canonical_sha256(prov["inputs"])}
    slugs: set[str] = set()
    for t in tables:
        slug, n = t.slug, 2
        while slug in slugs:  # two tables of one title keep a file each
            slug, n = f"{t.slug}_{n}", n + 1
        slugs.add(slug)
        p = out / f"{slug}.csv"
        p.write_text(t.to_csv(stamp))
        files.append(p)
    for name, text in (("report.md", markdown(title, prov, figures, tables, glance)),
                       ("provenance.json", json.dumps(prov, indent=2) + "\n"),
                       ("index.html", page(title, prov, figures, tables, glance))):
        (out / name).write_text(text)
        files.append(out / name)
    return files


def publish(out: Path, title: str, inputs: dict[str, tuple[str, str]], plan: Plan,
            tables: Sequence[Table], glance: Sequence[str] = ()) -> list[Path]:
    """Draw ``plan`` and write the report into ``out`` through a scratch folder inside it, so a
    failure leaves no partial report behind; return the files written."""
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out, prefix=".report-") as tmp:
        made = (draw(Path(tmp), name, fig_title, make) for name, fig_title, make in plan)
        files = write_report(Path(tmp), title, inputs, [f for f in made if f is not None], tables,
                             glance)
        final = []
        for f in files:
            dest = out / f.name
            shutil.move(str(f), dest)
            final.append(dest)
    return final


__all__ = ["Figure", "Plan", "draw", "markdown", "page", "provenance", "publish", "table_html",
           "write_report"]
