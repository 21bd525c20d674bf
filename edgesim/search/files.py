"""A search's files: CSV tables, the Pareto plot and the front's workloads, each written atomically."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import yaml

from edgesim import fileio
from edgesim.search.config import ACCURACY
from edgesim.version import __version__

if TYPE_CHECKING:
    import pandas as pd

_UNITS = {"latency_s": "s", "energy_j": "J", "dynamic_energy_j": "J", "area_mm2": "mm²",
          "weight_bytes": "B", "dram_read_bytes": "B", "dram_write_bytes": "B",
          "latency_cycles": "cycles", "macs": "MACs", "adds": "adds", "params": "parameters",
          ACCURACY: "top-1, fraction"}


def axis_label(metric: str) -> str:
    """``latency_s`` -> ``latency (s)``: a metric with its unit, for a plot axis."""
    stem = metric
    for suffix in ("_s", "_j", "_mm2", "_bytes", "_cycles"):
        if metric.endswith(suffix):
            stem = metric[: -len(suffix)]
            break
    return f"{stem.replace('_', ' ')} ({_UNITS.get(metric, '')})"


class SearchResult(Protocol):
    """What the writers read of a result (``edgesim.search.result.SearchResult``)."""

    objectives: list[str]

    @property
    def pareto(self) -> pd.DataFrame: ...

    def table(self) -> pd.DataFrame: ...

    def candidate(self, cid: int) -> Any: ...


def write_atomic(path: Path, write: Callable[[Path], None]) -> None:
    """:func:`edgesim.fileio.write_atomic`, creating the directory (a search's output tree)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fileio.write_atomic(path, write)


def write_outputs(res: SearchResult, out: Path) -> list[Path]:
    """Write the history, the front, the plot and each front member's workload under ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    pareto = res.pareto
    # Provenance on every row (as compare and sweep rows carry it): edgesim's version and the
    # hash of what was evaluated (model, resolved spec, settings; run.json has the details).
    stamp = {"edgesim_version": __version__,
             "oracle_sha256": getattr(getattr(res, "oracle", None), "fingerprint", "")}
    for name, frame in (("history.csv", res.table()), ("pareto.csv", pareto)):
        path = out / name
        write_atomic(path, _csv_writer(frame.assign(**stamp)))
        written.append(path)
    plot = out / "pareto.png"

    def draw(p: Path) -> None:
        plot_front(res, p)

    write_atomic(plot, draw)
    written.append(plot)
    front = out / "front"
    for cid in pareto["id"].tolist() if not pareto.empty else []:
        cand = res.candidate(int(cid))
        path = front / f"{int(cid)}.yaml"
        write_atomic(path, cand.workload.to_yaml)
        written.append(path)
        if cand.overrides:
            opath = front / f"{int(cid)}.overrides.yaml"
            text = yaml.safe_dump({k: _plain(v) for k, v in cand.overrides.items()},
                                  sort_keys=False)
            write_atomic(opath, _text_writer(text))
            written.append(opath)
    return written


def _csv_writer(frame: pd.DataFrame) -> Callable[[Path], None]:
    def write(p: Path) -> None:
        frame.to_csv(p, index=False)

    return write


def _text_writer(text: str) -> Callable[[Path], None]:
    def write(p: Path) -> None:
        p.write_text(text)

    return write


def _plain(value: object) -> object:
    return list(value) if isinstance(value, tuple) else value


def plot_front(res: SearchResult, path: Path) -> None:
    """The evaluated candidates (grey), the Pareto front highlighted, the baseline marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    h = res.table()
    objs = res.objectives
    fig, ax = plt.subplots(figsize=(6.4, 4.8), dpi=110)
    ok = h[h["feasible"]] if not h.empty else h
    bad = h[~h["feasible"]] if not h.empty else h
    front = res.pareto
    if len(objs) >= 2:
        x, y = objs[0], objs[1]
        if not bad.empty:
            ax.scatter(bad[x], bad[y], s=10, c="#bbbbbb", marker="x",
                       label="infeasible (constraints)")
        ax.scatter(ok[x], ok[y], s=12, c="#999999", label="evaluated")
        if not front.empty:
            f = front.sort_values(x)
            # joined by a line only when the front is the whole story (two objectives)
            ax.plot(f[x], f[y], "-o" if len(objs) == 2 else "o", c="#0072B2", ms=5, lw=1.5,
                    label="Pareto front")
        base = h[h["baseline"]] if "baseline" in h else h.iloc[:0]
        if not base.empty:
            ax.scatter(base[x], base[y], s=120, marker="*", c="#D55E00", zorder=5,
                       label="baseline (unmodified)")
        ax.set_xlabel(axis_label(x))
        ax.set_ylabel(axis_label(y))
        if len(objs) > 2:
            ax.set_title(f"{x} and {y}, the first two of {len(objs)} objectives "
                         f"(front over all {len(objs)})", fontsize=9)
    else:
        y = objs[0]
        ax.scatter(h["id"], h[y], s=10, c="#999999", label="evaluated")
        best = h[y].cummax() if y == ACCURACY else h[y].cummin()
        ax.plot(h["id"], best, c="#0072B2", lw=1.5, label="best so far")
        ax.set_xlabel("candidate (evaluation order)")
        ax.set_ylabel(axis_label(y))
    ax.grid(True, alpha=0.3)
    ax.legend(title="candidates", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, format="png")
    plt.close(fig)


__all__ = ["axis_label", "plot_front", "write_atomic", "write_outputs"]
