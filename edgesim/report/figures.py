"""The report's chip figures: energy and area by kind, latency vs energy, top layers, rooflines.

Each function draws one figure of ``Run``s to a PNG and returns its caption: the takeaway,
computed from the same numbers the figure shows (nothing here is a fixed sentence about a chip).
A function returns ``None`` and draws nothing when the runs hold nothing for it to show.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from edgesim.report.runs import KIND_ORDER, Kind, Run
from edgesim.report.style import MARKERS, colour, pyplot, save

LOG_RANGE = 30.0  # a panel whose values span more than this ratio gets a log axis


def unique(items: Sequence[str]) -> list[str]:
    """The distinct items in first-seen order."""
    return list(dict.fromkeys(items))


def pct(fraction: float) -> str:
    """A share as a percentage that keeps small ones visible (0.4%, not 0%)."""
    if fraction >= 0.01 or fraction == 0:
        return f"{fraction:.0%}"
    return f"{fraction:.1%}" if fraction >= 0.001 else "<0.1%"


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3g} ms"


def mj(joules: float) -> str:
    return f"{joules * 1e3:.3g} mJ"


def _kinds_used(runs: Sequence[Run], key: str) -> list[Kind]:
    return [k for k in KIND_ORDER if any(r.by_kind(key)[k] > 0 for r in runs)]


def _not_shown(runs: Sequence[Run]) -> str:
    out = [f"{r.model} on {r.hardware}" for r in runs if not r.fits]
    return f" Not shown (the chip cannot hold the model): {', '.join(out)}." if out else ""


def energy_by_kind(runs: Sequence[Run], path: Path) -> str | None:
    """Absolute energy per inference stacked by kind, one panel per model, one bar per chip."""
    ok = [r for r in runs if r.fits]
    if not ok:
        return None
    plt = pyplot()
    models = unique([r.model for r in ok])
    kinds = _kinds_used(ok, "energy_breakdown_j")
    fig, axes = plt.subplots(1, len(models), figsize=(1.0 + 2.9 * len(models), 3.9),
                             squeeze=False)
    for ax, model in zip(axes[0], models, strict=True):
        rs = [r for r in ok if r.model == model]
        bottom = [0.0] * len(rs)
        for k in kinds:
            vals = [r.by_kind("energy_breakdown_j")[k] * 1e3 for r in rs]
            ax.bar(range(len(rs)), vals, bottom=bottom, color=colour(KIND_ORDER.index(k)),
                   label=k.value, width=0.7)
            bottom = [b + v for b, v in zip(bottom, vals, strict=True)]
        if 0 < LOG_RANGE * min(bottom) < max(bottom):
            ax.set_yscale("log")
        ax.set_xticks(range(len(rs)), [r.chip_label for r in rs], rotation=40, ha="right")
        ax.set_title(model)
        ax.set_xlabel("chip")
    axes[0][0].set_ylabel("energy per inference (mJ)")
    if kinds:
        axes[0][-1].legend(title="energy spent in", loc="upper left", bbox_to_anchor=(1.02, 1.0))
    fig.tight_layout()
    save(fig, path)
    best = []
    for model in models:
        rs = sorted((r for r in ok if r.model == model), key=lambda r: r.energy_j)
        worst = rs[-1]
        than = (f", {worst.energy_j / rs[0].energy_j:.3g}x less than {worst.chip_label}"
                if rs[0].energy_j > 0 and worst is not rs[0] else "")
        best.append(f"{model}: {rs[0].chip_label} ({mj(rs[0].energy_j)}{than})")
    top = Counter(max(r.by_kind("energy_breakdown_j").items(), key=lambda kv: kv[1])[0]
                  for r in ok if r.energy_j > 0)
    share = ", ".join(f"{k.value} in {n}" for k, n in top.most_common())
    return (f"Least energy per inference: {'; '.join(best)}. The largest part of the energy "
            f"is {share} of the {len(ok)} runs.{_not_shown(runs)}")


def _front(points: Sequence[tuple[float, float, str]]) -> list[str]:
    """Names of the points no other point beats on both coordinates (lower is better)."""
    return [n for x, y, n in points
            if not any(x2 <= x and y2 <= y and (x2, y2) != (x, y) for x2, y2, _ in points)]


def latency_energy_area(runs: Sequence[Run], path: Path) -> str | None:
    """Latency against energy (log-log), colour per chip, marker per model, size by chip area."""
    ok = [r for r in runs if r.fits and r.latency_s > 0 and r.energy_j > 0]  # log axes
    if not ok:
        return None
    plt = pyplot()
    chips, models = unique([r.hardware for r in ok]), unique([r.model for r in ok])
    amax = max(r.area_mm2 for r in ok) or 1.0
    fig, ax = plt.subplots(figsize=(9.0, 5.0))
    fig.subplots_adjust(right=0.72)  # the legends' column
    for r in ok:
        ax.scatter(r.latency_s * 1e3, r.energy_j * 1e3, s=25 + 400 * r.area_mm2 / amax,
                   color=colour(chips.index(r.hardware)), alpha=0.8, edgecolors="black",
                   linewidths=0.5, marker=MARKERS[models.index(r.model) % len(MARKERS)])
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("latency per inference (ms, log)")
    ax.set_ylabel("energy per inference (mJ, log)")
    hc = [ax.scatter([], [], color=colour(i), s=40) for i in range(len(chips))]
    hm = [ax.scatter([], [], color="grey", s=40, marker=MARKERS[i % len(MARKERS)])
          for i in range(len(models))]
    fig.legend(hc, chips, title="chip\n(marker area ~ chip area)", loc="upper left",
               bbox_to_anchor=(0.74, 0.95))
    fig.legend(hm, models, title="model", loc="lower left", bbox_to_anchor=(0.74, 0.08))
    save(fig, path)
    fronts = []
    for model in models:
        pts = [(r.latency_s, r.energy_j, r.chip_label) for r in ok if r.model == model]
        fronts.append(f"{model}: {', '.join(_front(pts))}")
    by_area = sorted({r.hardware: r.area_mm2 for r in ok if r.area_mm2 > 0}.items(),
                     key=lambda kv: kv[1])
    sizes = (f" Smallest chip {by_area[0][0]} ({by_area[0][1]:.3g} mm2), largest "
             f"{by_area[-1][0]} ({by_area[-1][1]:.3g} mm2)." if by_area else "")
    return (f"Chips no other chip beats on both latency and energy, per model: "
            f"{'; '.join(fronts)}.{sizes}{_not_shown(runs)}")


def area_by_kind(runs: Sequence[Run], path: Path) -> str | None:
    """Silicon area of each chip, stacked by kind (mm2)."""
    chips: dict[str, Run] = {}
    for r in runs:
        chips.setdefault(r.hardware, r)
    rs = [r for r in chips.values() if r.area_mm2 > 0]
    if not rs:
        return None
    plt = pyplot()
    kinds = _kinds_used(rs, "area_breakdown_mm2")
    fig, ax = plt.subplots(figsize=(7.5, 0.9 + 0.42 * len(rs)))
    left = [0.0] * len(rs)
    for k in kinds:
        vals = [r.by_kind("area_breakdown_mm2")[k] for r in rs]
        ax.barh(range(len(rs)), vals, left=left, color=colour(KIND_ORDER.index(k)),
                label=k.value, height=0.65)
        left = [a + v for a, v in zip(left, vals, strict=True)]
    if 0 < LOG_RANGE * min(left) < max(left):
        ax.set_xscale("log")
    ax.set_yticks(range(len(rs)), [r.hardware for r in rs])
    ax.invert_yaxis()
    ax.set_xlabel("silicon area (mm2)")
    ax.legend(title="area of", loc="upper left", bbox_to_anchor=(1.02, 1.0))
    fig.tight_layout()
    save(fig, path)
    by = sorted(rs, key=lambda r: r.area_mm2)
    top = Counter(max(r.by_kind("area_breakdown_mm2").items(), key=lambda kv: kv[1])[0]
                  for r in rs)
    share = ", ".join(f"{k.value} on {n}" for k, n in top.most_common())
    return (f"Largest chip {by[-1].hardware} ({by[-1].area_mm2:.3g} mm2), smallest "
            f"{by[0].hardware} ({by[0].area_mm2:.3g} mm2). The largest part of the area is "
            f"{share} of the {len(rs)} chips.")


def top_layers(run: Run, path: Path, n: int = 12) -> str | None:
    """The ``n`` slowest layers of one run: latency and energy, coloured by what bounds them."""
    layers = sorted(run.layers, key=lambda lay: -float(lay["latency_s"]))
    if not layers:
        return None
    top = layers[:n]
    plt = pyplot()
    fig, (ax1, ax2) = plt.subplots(1, 2, sharey=True, figsize=(8.5, 0.9 + 0.3 * len(top)))
    bounds = ["compute", "memory"]
    cols = [colour(bounds.index(str(lay["bound"]))) for lay in top]
    names = [f"{lay['name']} ({lay['op']})" for lay in top]
    ax1.barh(range(len(top)), [float(lay["latency_s"]) * 1e3 for lay in top], color=cols)
    ax2.barh(range(len(top)), [float(lay["energy_j"]) * 1e3 for lay in top], color=cols)
    ax1.set_yticks(range(len(top)), names)
    ax1.invert_yaxis()
    ax1.set_xlabel("latency (ms)")
    ax2.set_xlabel("energy (mJ)")
    hs = [ax2.bar([0], [0], color=colour(i), width=0) for i in range(2)]
    ax2.legend(hs, [f"{b}-bound" for b in bounds], title="layer is", loc="lower right")
    fig.suptitle(f"{run.model} on {run.hardware}: the {len(top)} slowest layers")
    fig.tight_layout()
    save(fig, path)
    total = sum(float(lay["latency_s"]) for lay in layers) or 1.0
    share = sum(float(lay["latency_s"]) for lay in top) / total
    mem = sum(1 for lay in top if lay["bound"] == "memory")
    s = top[0]
    return (f"The {len(top)} slowest of {run.model}'s {len(layers)} layers on {run.hardware} "
            f"take {share:.0%} of its layer time and {mem} of them are memory-bound; the "
            f"slowest is {s['name']} ({s['op']}, {ms(float(s['latency_s']))}, "
            f"{s['bound']}-bound, on {s['unit']}).")


def _layer_point(lay: Any) -> tuple[float, float, float] | None:
    """(ops, off-chip bytes, attained ops/s) of a layer; None for a layer without work or time."""
    ops = 2.0 * float(lay["macs"]) + float(lay["adds"])
    t = float(lay["latency_s"])
    if ops <= 0 or t <= 0:
        return None
    return ops, float(lay["dram_read_bytes"]) + float(lay["dram_write_bytes"]), ops / t


def rooflines(runs: Sequence[Run], path: Path) -> str | None:
    """One roofline per chip for one model: the chip's roofs and every layer placed on them."""
    rs = [r for r in runs if r.roof is not None and r.layers and r.fits]
    if not rs:
        return None
    plt = pyplot()
    ncol = min(3, len(rs))
    nrow = -(-len(rs) // ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(3.4 * ncol + 0.6, 3.0 * nrow), squeeze=False)
    notes = []
    for ax, r in zip(axes.flat, rs, strict=False):
        roof = r.roof
        assert roof is not None
        pts = [p for p in (_layer_point(lay) for lay in r.layers) if p is not None]
        if not pts:
            continue
        ridge = roof.peak_ops_per_s / roof.offchip_bytes_per_s
        finite = [ops / b for ops, b, _ in pts if b > 0]
        hi = max([ridge * 10, *finite]) * 2
        lo = min([ridge / 100, *finite]) / 2
        xs = [lo, ridge, hi]
        ax.plot(xs, [min(roof.peak_ops_per_s, roof.offchip_bytes_per_s * x) for x in xs],
                color="black", linewidth=1.2)
        for lay, p in zip([lay for lay in r.layers if _layer_point(lay)], pts, strict=True):
            ops, b, attained = p
            x = ops / b if b > 0 else hi  # nothing off chip: drawn at the right edge
            ax.scatter(x, attained, s=12, marker="o" if b > 0 else ">",
                       color=colour(0 if lay["bound"] == "compute" else 1), alpha=0.75)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(f"{r.hardware} ({roof.unit})")
        ax.set_xlabel("ops per off-chip byte (log)")
        ax.set_ylabel("attained ops/s (log)")
        mem = sum(1 for lay in r.layers if lay["bound"] == "memory")
        frac = sorted(a / roof.peak_ops_per_s for _, _, a in pts)
        notes.append(f"{r.hardware}: {mem} of {len(r.layers)} layers memory-bound, ridge at "
                     f"{ridge:.3g} ops/B, median layer at {pct(frac[len(frac) // 2])} of peak")
    for ax in list(axes.flat)[len(rs):]:
        ax.set_visible(False)
    hs = [axes.flat[0].scatter([], [], color=colour(i), s=12) for i in range(2)]
    axes.flat[0].legend(hs, ["compute-bound", "memory-bound"], title="layer is",
                        loc="lower right")
    fig.suptitle(f"Rooflines: {rs[0].model} (line: peak compute and off-chip bandwidth)")
    fig.tight_layout()
    save(fig, path)
    skipped = [r for r in runs if r.model == rs[0].model and r.layers and not r.fits]
    return (f"{rs[0].model}, layer by layer: {'; '.join(notes)}."
            + _not_shown(skipped))


__all__ = ["area_by_kind", "energy_by_kind", "latency_energy_area", "mj", "ms", "pct",
           "rooflines", "top_layers", "unique"]
