"""The report's "at a glance" lines: which chip and which compression win on energy and latency,
and why, computed from the runs (the figures below them show the same numbers)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from edgesim.report.figures import mj, unique
from edgesim.report.runs import KIND_ORDER, Kind, Run


def _winners(runs: Sequence[Run], key: str, word: str) -> str | None:
    """"<word>: chip A for n of m models (...), chip B for ...", by lowest ``key``."""
    models = unique([r.model for r in runs])
    best = {m: min((r for r in runs if r.model == m), key=lambda r: float(r.result[key]))
            for m in models}
    if not best:
        return None
    counts = Counter(r.chip_label for r in best.values())
    parts = []
    for chip, n in counts.most_common():
        which = [m for m, r in best.items() if r.chip_label == chip]
        parts.append(f"{chip} for {n} of {len(models)} models ({', '.join(which)})")
    return f"{word}: {'; '.join(parts)}."


def _why_least_energy(runs: Sequence[Run]) -> str | None:
    """Per model, what the least-energy chip saves against the best other chip, by kind."""
    notes = []
    for model in unique([r.model for r in runs]):
        rs = sorted((r for r in runs if r.model == model), key=lambda r: r.energy_j)
        others = [r for r in rs[1:] if r.hardware != rs[0].hardware]
        if not rs or not others:
            continue
        a, b = rs[0].by_kind("energy_breakdown_j"), others[0].by_kind("energy_breakdown_j")
        kind = max(KIND_ORDER, key=lambda k: b[k] - a[k])
        if b[kind] - a[kind] <= 0 or kind == Kind.OTHER:
            continue  # a tie, or totals without a breakdown: nothing to explain
        notes.append(f"{model}: {rs[0].chip_label} spends {mj(b[kind] - a[kind])} less on "
                     f"{kind.value} than {others[0].chip_label}")
    return f"Why: {'; '.join(notes)}." if notes else None


def _compression(var_runs: Sequence[Run]) -> str | None:
    dense = {(r.model, r.hardware): r for r in var_runs if r.variant == "dense"}
    parts = []
    for chip in unique([r.hardware for r in var_runs]):
        on = [r for r in var_runs if r.hardware == chip and r.variant != "dense"
              and (r.model, chip) in dense]
        if not on:
            continue
        best = min(on, key=lambda r: r.energy_j)
        d = dense[best.model, chip]
        if d.energy_j <= 0 or d.latency_s <= 0:
            continue
        parts.append(f"{chip}: {best.variant} ({best.energy_j / d.energy_j - 1:+.0%} energy, "
                     f"{best.latency_s / d.latency_s - 1:+.0%} latency)")
    return (f"Lowest-energy compressed variant per chip, against its dense model: "
            f"{'; '.join(parts)}.") if parts else None


def _adder(var_runs: Sequence[Run], pair: tuple[tuple[str, str], tuple[str, str]]) -> str | None:
    by = {(r.variant, r.hardware): r for r in var_runs}
    if pair[0] not in by or pair[1] not in by:
        return None
    a, t = by[pair[0]], by[pair[1]]
    ea, et = a.by_kind("energy_breakdown_j"), t.by_kind("energy_breakdown_j")
    mem_t = et[Kind.ONCHIP] + et[Kind.OFFCHIP]
    if min(t.energy_j, et[Kind.COMPUTE], mem_t) <= 0:
        return None
    return (f"AdderNet on {a.hardware} uses {a.energy_j / t.energy_j - 1:+.0%} energy against "
            f"the CNN on its MAC twin {t.hardware}: compute {ea[Kind.COMPUTE] / et[Kind.COMPUTE] - 1:+.0%}"
            f", memory {(ea[Kind.ONCHIP] + ea[Kind.OFFCHIP]) / (et[Kind.ONCHIP] + et[Kind.OFFCHIP]) - 1:+.0%}.")


def _fits(runs: Sequence[Run]) -> str | None:
    notes = []
    known = [r for r in runs if r.fit_known]
    for chip in unique([r.hardware for r in known]):
        models = unique([r.model for r in known if r.hardware == chip])
        held = [m for m in models if all(r.fits for r in known
                                         if r.hardware == chip and r.model == m)]
        if len(held) < len(models):
            notes.append(f"{chip} holds {len(held)} of the {len(models)} models"
                         + (f" ({', '.join(held)})" if held else ""))
    return f"Capacity: {'; '.join(notes)}." if notes else None


def at_a_glance(runs: Sequence[Run], var_runs: Sequence[Run] = (),
                adder_pair: tuple[tuple[str, str], tuple[str, str]] | None = None) -> list[str]:
    """The lines, each computed; a line with nothing to say is left out."""
    ok = [r for r in runs if r.fits]
    lines = [_winners(ok, "energy_j", "Least energy per inference"),
             _winners(ok, "latency_s", "Fastest"), _why_least_energy(ok), _fits(runs),
             _compression(var_runs),
             _adder(var_runs, adder_pair) if adder_pair is not None else None]
    return [line for line in lines if line]


__all__ = ["at_a_glance"]
