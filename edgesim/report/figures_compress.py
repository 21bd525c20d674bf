"""The report's compression and timing figures: variants on each chip, AdderNet against its MAC
twin, and the DES timeline as a Gantt chart. Captions are computed, as in ``figures``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from edgesim.report.figures import mj, ms, unique
from edgesim.report.runs import KIND_ORDER, Kind, Run
from edgesim.report.style import colour, pyplot, save
from edgesim.results import union_time_s

DENSE = "dense"
# (figure key, axis label, what a run is measured by)
_MEASURES = (("latency", "latency", "latency_s"), ("energy", "energy", "energy_j"),
             ("stored", "weights stored", "weight_bytes"))


def _ratios(runs: Sequence[Run]) -> list[tuple[Run, dict[str, float]]]:
    """Each non-dense run with its latency, energy and stored-weight ratios to the dense run of
    the same model on the same chip (runs without a dense twin are left out)."""
    dense = {(r.model, r.hardware): r for r in runs if r.variant == DENSE}
    out = []
    for r in runs:
        d = dense.get((r.model, r.hardware))
        if r.variant == DENSE or d is None or any(
                float(d.result.get(field) or 0) <= 0 for _, _, field in _MEASURES):
            continue  # no dense twin, or one without a measure to divide by
        out.append((r, {key: float(r.result.get(field) or 0) / float(d.result[field])
                        for key, _, field in _MEASURES}))
    return out


def variants_on_chips(runs: Sequence[Run], path: Path) -> str | None:
    """Latency, energy and stored weight bytes of each compressed variant, as a multiple of the
    dense model on the same chip, grouped by chip."""
    pairs = _ratios(runs)
    if not pairs:
        return None
    plt = pyplot()
    labels = [f"{r.variant} on {r.hardware}" for r, _ in pairs]
    chips = unique([r.hardware for r, _ in pairs])
    fig, axes = plt.subplots(1, 3, sharey=True, figsize=(10.0, 0.9 + 0.32 * len(pairs)))
    cols = [colour(chips.index(r.hardware)) for r, _ in pairs]
    for ax, (key, label, _) in zip(axes, _MEASURES, strict=True):
        ax.barh(range(len(pairs)), [q[key] for _, q in pairs], color=cols)
        ax.axvline(1.0, color="black", linewidth=0.8)
        ax.set_xlabel(f"{label} (x dense)")
    axes[0].set_yticks(range(len(pairs)), labels)
    axes[0].invert_yaxis()
    hs = [axes[2].barh([0], [0], color=colour(i), height=0) for i in range(len(chips))]
    axes[2].legend(hs, chips, title="chip", loc="upper left", bbox_to_anchor=(1.02, 1.0))
    fig.suptitle("Each variant as a multiple of the dense model on the same chip (1 = dense)")
    fig.tight_layout()
    save(fig, path)
    # Compression ratio is not speed-up: among the variants that store less, the one whose
    # storage saving outruns its speed-up the most.
    shrunk = [p for p in pairs if 0 < p[1]["stored"] <= 0.9 and p[1]["latency"] > 0]
    lead = "No variant stores fewer weight bytes than dense."
    if shrunk:
        r, q = max(shrunk, key=lambda p: p[1]["latency"] / p[1]["stored"])
        saving, speed = 1 / q["stored"], 1 / q["latency"]
        if saving > 1.25 * speed:
            lead = (f"Compression ratio is not speed-up: {r.variant} on {r.hardware} stores "
                    f"{saving:.3g}x fewer weight bytes but only runs {speed:.3g}x as fast as "
                    f"dense.")
        else:
            lead = (f"Here speed-up keeps pace with compression: even {r.variant} on "
                    f"{r.hardware} stores {saving:.3g}x fewer weight bytes and runs "
                    f"{speed:.3g}x as fast as dense.")
    s, sq = max(pairs, key=lambda p: p[1]["latency"])
    slow = (f" The largest slowdown is {s.variant} on {s.hardware} ({sq['latency']:.3g}x "
            f"dense's latency)." if sq["latency"] > 1.05 else "")
    f, fq = min(pairs, key=lambda p: p[1]["latency"])
    fastest = (f" The largest speed-up is {f.variant} on {f.hardware} "
               f"({1 / fq['latency']:.3g}x)." if 0 < fq["latency"] < 1 else
               " No variant is faster than dense on its chip.")
    lowest = []
    for chip in chips:
        on = [(r2, q2) for r2, q2 in pairs if r2.hardware == chip]
        r2, q2 = min(on, key=lambda p: p[1]["energy"])
        verb = "saves" if q2["energy"] < 1 else "costs"
        lowest.append(f"{chip}: {r2.variant} ({verb} {abs(1 - q2['energy']):.0%})")
    return (f"{lead}{fastest}{slow} Lowest energy against dense, per chip: "
            f"{'; '.join(lowest)}.")


def adder_vs_twin(runs: Sequence[Run], path: Path, adder: tuple[str, str],
                  twin: tuple[str, str]) -> str | None:
    """AdderNet on the adder chip against the CNN on its MAC twin (and the CNN on the adder
    chip, where present): energy stacked by kind and latency. ``adder``/``twin`` are
    (variant, chip)."""
    by = {(r.variant, r.hardware): r for r in runs}
    if adder not in by or twin not in by:
        return None
    a, t = by[adder], by[twin]
    shown = [t, a] + [by[k] for k in [(twin[0], adder[1])] if k in by]
    plt = pyplot()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9.0, 3.4),
                                   gridspec_kw={"width_ratios": [2, 1]})
    labels = [f"{r.variant} on {r.hardware}" for r in shown]
    left = [0.0] * len(shown)
    for k in KIND_ORDER:
        vals = [r.by_kind("energy_breakdown_j")[k] * 1e3 for r in shown]
        if any(vals):
            ax1.barh(range(len(shown)), vals, left=left, color=colour(KIND_ORDER.index(k)),
                     label=k.value, height=0.6)
            left = [x + v for x, v in zip(left, vals, strict=True)]
    ax1.set_yticks(range(len(shown)), labels)
    ax1.invert_yaxis()
    ax1.set_xlabel("energy per inference (mJ)")
    handles, labels = ax1.get_legend_handles_labels()
    ax2.barh(range(len(shown)), [r.latency_s * 1e3 for r in shown], color="grey", height=0.6)
    ax2.set_yticks(range(len(shown)), [])
    ax2.invert_yaxis()
    ax2.set_xlabel("latency (ms)")
    fig.suptitle(f"{a.model}: AdderNet on {a.hardware} against the CNN on its MAC twin "
                 f"{t.hardware}")
    fig.tight_layout()
    fig.legend(handles, labels, title="energy spent in", loc="upper center", ncol=len(labels),
               bbox_to_anchor=(0.5, 0.0))
    save(fig, path)
    ea, et = a.by_kind("energy_breakdown_j"), t.by_kind("energy_breakdown_j")
    mem_a = ea[Kind.ONCHIP] + ea[Kind.OFFCHIP]
    mem_t = et[Kind.ONCHIP] + et[Kind.OFFCHIP]
    word = "more" if a.energy_j > t.energy_j else "less"
    if t.energy_j <= 0:
        return None
    return (f"{a.variant} on {a.hardware} uses {abs(a.energy_j / t.energy_j - 1):.0%} {word} "
            f"energy than {t.variant} on {t.hardware} ({mj(a.energy_j)} against "
            f"{mj(t.energy_j)}): compute energy {mj(et[Kind.COMPUTE])} to "
            f"{mj(ea[Kind.COMPUTE])}, memory {mj(mem_t)} to {mj(mem_a)}; latency "
            f"{ms(t.latency_s)} to {ms(a.latency_s)}. Memory is "
            f"{mem_a / (a.energy_j or 1):.0%} of the adder chip's energy.")


def gantt(run: Run, path: Path) -> str | None:
    """The DES timeline of one run: one row per lane (units, their DMA engines, layers)."""
    events = [e for e in run.timeline if e.end_s > e.start_s]
    if not events:
        return None
    plt = pyplot()
    lanes = unique([e.lane for e in events])
    kinds = unique([str(e.kind) for e in events])
    fig, ax = plt.subplots(figsize=(10.0, 0.9 + 0.45 * len(lanes)))
    for i, lane in enumerate(lanes):
        for kind in kinds:
            spans = [(e.start_s * 1e3, (e.end_s - e.start_s) * 1e3) for e in events
                     if e.lane == lane and str(e.kind) == kind]
            if spans:
                ax.broken_barh(spans, (i - 0.35, 0.7), color=colour(kinds.index(kind)),
                               edgecolor="white", linewidth=0.4)  # spans stay apart
    ax.set_yticks(range(len(lanes)), lanes)
    ax.invert_yaxis()
    ax.set_xlabel("time (ms)")
    hs = [ax.barh([0], [0], color=colour(i), height=0) for i in range(len(kinds))]
    ax.legend(hs, kinds, title="span", loc="upper left", bbox_to_anchor=(1.02, 1.0))
    ax.set_title(f"{run.model} on {run.hardware}: DES timeline")
    fig.tight_layout()
    save(fig, path)
    total = max(e.end_s for e in events) - min(e.start_s for e in events)
    busy = {lane: union_time_s((e.start_s, e.end_s) for e in events if e.lane == lane) / total
            for lane in lanes if lane != "layers"}
    ranked = sorted(busy.items(), key=lambda kv: -kv[1])
    return (f"Over the {ms(total)} of one inference the lanes are busy: "
            f"{', '.join(f'{lane} {b:.0%}' for lane, b in ranked)} (busy share of the run, "
            f"from the SimPy model).")


__all__ = ["adder_vs_twin", "gantt", "variants_on_chips"]
