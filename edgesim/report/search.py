"""The demo's small searches: ResNet-18 channel pruning and an ``edge-npu`` design space."""

from __future__ import annotations

from typing import TYPE_CHECKING

from edgesim.report.tables import Table

if TYPE_CHECKING:
    from edgesim.search.result import SearchResult

SEARCH_MODEL = "resnet18"
SEARCH_SPEC = "edge-npu"
SEARCH_ALGORITHM = {"name": "nsga2", "pop_size": 16, "generations": 4, "seed": 0}
DSE_SPACE = {"compute.pe_array.rows,compute.pe_array.cols": [[16, 16], [32, 32], [64, 64],
                                                             [128, 128]],
             "memory.weight_buf.size": ["512 KiB", "4 MiB"],
             "memory.dram.bandwidth": ["6.4 GB/s", "12.8 GB/s", "25.6 GB/s"]}


def demo_search() -> SearchResult:
    """NSGA-II over one pruning ratio per coupled group, latency and energy as objectives."""
    from edgesim.search import run

    return run(problem="channel_pruning", model=SEARCH_MODEL, hardware=SEARCH_SPEC,
               space={"granularity": "group", "ratios": [0.0, 0.25, 0.5, 0.75]},
               objectives=["latency_s", "energy_j"], algorithm=SEARCH_ALGORITHM)


def demo_dse() -> SearchResult:
    """Every design of a small ``edge-npu`` space (array, weight buffer, DRAM bandwidth) for
    ResNet-18: latency against silicon area."""
    from edgesim.search import run

    return run(problem="hardware", model=SEARCH_MODEL, hardware=SEARCH_SPEC, space=DSE_SPACE,
               objectives=["latency_s", "area_mm2"], algorithm="grid")


def search_table(res: SearchResult, rows: int = 6) -> Table:
    """Pruned candidates across the compression range against the unmodified model: how much
    of the latency and energy each keeps for the parameters it keeps."""
    h = res.table()
    base = h.loc[h["baseline"]].iloc[0]
    pruned = h.loc[~h["baseline"] & h["feasible"]].copy()
    pruned["params_kept"] = [res.candidate(int(i)).result.params / res.candidate(0).result.params
                             for i in pruned["id"]]
    pruned = pruned.drop_duplicates("params_kept").sort_values("params_kept", ascending=False)
    step = max(1, len(pruned) // rows)
    picked = pruned.iloc[::step].head(rows)
    a = SEARCH_ALGORITHM
    t = Table(f"Search: {SEARCH_MODEL} channel pruning on {SEARCH_SPEC} (NSGA-II, "
              f"{a['pop_size']} x {a['generations']} generations, seed {a['seed']}; "
              f"{len(h)} candidates): compression is not speed-up",
              ["candidate", "params kept", "latency kept", "energy kept", "latency ms",
               "energy mJ"])
    t.add(["baseline", "100%", "100%", "100%", f"{base['latency_s'] * 1e3:.3f}",
           f"{base['energy_j'] * 1e3:.3f}"])
    gaps = []
    for _, r in picked.iterrows():
        lat, en = r["latency_s"] / base["latency_s"], r["energy_j"] / base["energy_j"]
        gaps.append(lat - r["params_kept"])
        t.add([int(r["id"]), f"{r['params_kept']:.0%}", f"{lat:.0%}", f"{en:.0%}",
               f"{r['latency_s'] * 1e3:.3f}", f"{r['energy_j'] * 1e3:.3f}"])
    worst = max(gaps, default=0.0)
    t.note = (f"A candidate keeps up to {worst:.0%} more of the latency than of the parameters."
              if worst > 0 else "Latency shrinks at least as fast as the parameters here.")
    return t


def dse_table(res: SearchResult) -> Table:
    """The latency-area front of the design space."""
    front = res.pareto.sort_values("area_mm2")
    h = res.table()
    t = Table(f"Search: {SEARCH_MODEL} on {len(h)} {SEARCH_SPEC} designs (array, weight "
              f"buffer, DRAM bandwidth): the latency-area front",
              ["candidate", "array", "weight buffer KiB", "DRAM GB/s", "latency ms",
               "area mm2", "energy mJ"])
    for _, r in front.iterrows():
        c = res.candidate(int(r["id"]))
        t.add([int(r["id"]), f"{int(r['compute.pe_array.rows'])}x"
               f"{int(r['compute.pe_array.cols'])}", f"{r['memory.weight_buf.size'] / 1024:.0f}",
               f"{r['memory.dram.bandwidth'] / 1e9:.1f}", f"{r['latency_s'] * 1e3:.3f}",
               f"{r['area_mm2']:.2f}", f"{c.result.energy_j * 1e3:.3f}"])
    t.note = (f"{len(front)} of {len(h)} designs are on the front; the others are slower for "
              f"their area.")
    return t


__all__ = ["demo_dse", "demo_search", "dse_table", "search_table"]
