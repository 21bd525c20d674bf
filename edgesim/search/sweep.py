"""``es.sweep``: every combination of a few spec fields' values, one simulation each, as a table."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edgesim.errors import EdgesimError, SearchError
from edgesim.hardware.load import SpecLoader
from edgesim.search.hardware import numeric
from edgesim.sim import simulate
from edgesim.vocab import Mode
from edgesim.workload.ir import Workload

if TYPE_CHECKING:
    import pandas as pd

# The scalar keys of SimResult.to_dict() that a sweep row carries.
RESULT_COLUMNS = ("latency_s", "latency_cycles", "energy_j", "area_mm2", "macs", "adds",
                  "params", "weight_bytes", "dram_read_bytes", "dram_write_bytes", "clock_hz")


def sweep(hw: str | Path, model: str | Path | Workload,
          sets: Mapping[str, Sequence[Any]], mode: str | Mode = Mode.ANALYTIC,
          batch: int | None = None) -> pd.DataFrame:
    """Simulate ``model`` on ``hw`` at every combination of the ``sets`` values.

    Args:
        hw: a built-in spec name or a spec path.
        model: a zoo name, a workload path or a Workload.
        sets: ``{dotted key: [values]}``, e.g. ``{"compute.pe_array.rows": [8, 16, 32]}``.
        mode, batch: as in ``es.simulate``.

    Returns:
        One row per design point: ``hardware``, ``workload``, ``mode``, ``batch``, the swept
        keys (SI numbers where the value is a quantity), the result's scalar keys, then the
        provenance: ``edgesim_version``, ``hardware_sha256`` (the design point's resolved spec)
        and ``model_sha256``.
    """
    import pandas as pd

    from edgesim.workload.load import load_workload

    if not sets:
        raise SearchError("nothing to sweep: give at least one KEY=V1,V2,...", field="--set")
    for key, values in sets.items():
        if not isinstance(values, Sequence) or isinstance(values, str) or not values:
            raise SearchError(f"expected a list of values, got {values!r}", field=key)
    from edgesim.version import __version__

    loader = SpecLoader(hw)
    wl = model if isinstance(model, Workload) else load_workload(model)
    model_sha = wl.sha256()
    keys = list(sets)
    rows = []
    points = [dict(zip(keys, combo, strict=True))
              for combo in itertools.product(*(sets[k] for k in keys))]
    for overrides in points:  # every design checked before any is simulated
        try:
            loader(overrides)
        except EdgesimError as exc:
            raise SearchError(f"{exc.field + ': ' if exc.field else ''}{exc.detail}",
                              field=", ".join(f"{k}={v}" for k, v in overrides.items())
                              ) from None
    for overrides in points:
        design = loader(overrides)
        res = simulate(wl, design, mode=mode, batch=batch)
        d = res.to_dict()
        row: dict[str, Any] = {"hardware": d["hardware"], "workload": d["workload"],
                               "mode": d["mode"], "batch": d["batch"]}
        row.update({k: numeric(v) for k, v in overrides.items()})
        row.update({k: d[k] for k in RESULT_COLUMNS})
        row.update(edgesim_version=__version__, hardware_sha256=loader.sha256(overrides),
                   model_sha256=model_sha)
        rows.append(row)
    return pd.DataFrame(rows)


def plot_sweep(table: pd.DataFrame, keys: Sequence[str], path: Path) -> None:
    """Latency and energy against the first swept key (one line per value of the others)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from edgesim.search.files import axis_label

    x = keys[0]
    others = list(keys[1:])
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), dpi=110)
    groups = table.groupby(others, sort=False) if others else [((), table)]
    palette = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442"]
    for i, (label, part) in enumerate(groups):
        name = ", ".join(f"{k}={v}" for k, v in zip(others, label if isinstance(label, tuple)
                                                    else (label,), strict=False)) or "all"
        for ax, y in zip(axes, ("latency_s", "energy_j"), strict=True):
            ax.plot(part[x], part[y], "-o", ms=4, c=palette[i % len(palette)], label=name)
    for ax, y in zip(axes, ("latency_s", "energy_j"), strict=True):
        ax.set_xlabel(x)
        ax.set_ylabel(axis_label(y))
        ax.grid(True, alpha=0.3)
    if others:
        axes[1].legend(title=", ".join(others), fontsize=8)
    fig.tight_layout()
    fig.savefig(path, format="png")
    plt.close(fig)


__all__ = ["RESULT_COLUMNS", "plot_sweep", "sweep"]
