"""Plain tables for the report: text for the terminal, Markdown and CSV (HTML: `report.html`)."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field


@dataclass
class Table:
    """A titled table of already formatted cells."""

    title: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    note: str = ""

    def add(self, row: list[object]) -> None:
        if len(row) != len(self.columns):
            raise ValueError(f"row has {len(row)} cells, table {self.title!r} has {len(self.columns)}")
        self.rows.append([str(c) for c in row])

    def _widths(self) -> list[int]:
        return [max(len(c), *(len(r[i]) for r in self.rows)) if self.rows else len(c)
                for i, c in enumerate(self.columns)]

    def to_text(self) -> str:
        w = self._widths()
        line = "  ".join(c.ljust(w[i]) for i, c in enumerate(self.columns))
        out = [f"== {self.title} ==", line, "  ".join("-" * x for x in w)]
        out += ["  ".join(c.ljust(w[i]) for i, c in enumerate(r)) for r in self.rows]
        if self.note:
            out.append(self.note)
        return "\n".join(out)

    def to_markdown(self) -> str:
        out = [f"## {self.title}", "", "| " + " | ".join(self.columns) + " |",
               "|" + "|".join("---" for _ in self.columns) + "|"]
        out += ["| " + " | ".join(r) + " |" for r in self.rows]
        if self.note:
            out += ["", self.note]
        return "\n".join(out) + "\n"

    def to_csv(self, stamp: dict[str, str] | None = None) -> str:
        """The table as CSV; ``stamp``: columns of one value on every row (provenance)."""
        extra = stamp or {}
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow([*self.columns, *extra])
        w.writerows([*r, *extra.values()] for r in self.rows)
        return buf.getvalue()

    @property
    def slug(self) -> str:
        return re.sub(r"[^a-z0-9]+", "_", self.title.lower()).strip("_")[:60]
