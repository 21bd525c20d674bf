"""The demo's small search: ResNet-18 channel pruning on ``edge-npu``, its front as a table."""

from __future__ import annotations

from typing import TYPE_CHECKING

from edgesim.report.tables import Table

if TYPE_CHECKING:
    from edgesim.search.result import SearchResult

SEARCH_MODEL = "resnet18"
SEARCH_SPEC = "edge-npu"
SEARCH_ALGORITHM = {"name": "nsga2", "pop_size": 16, "generations": 4, "seed": 0}


def demo_search() -> SearchResult:
    """NSGA-II over one pruning ratio per coupled group, latency and energy as objectives."""
    from edgesim.search import run

    return run(problem="channel_pruning", model=SEARCH_MODEL, hardware=SEARCH_SPEC,
               space={"granularity": "group", "ratios": [0.0, 0.25, 0.5, 0.75]},
               objectives=["latency_s", "energy_j"], algorithm=SEARCH_ALGORITHM)


def search_table(res: SearchResult) -> Table:
    """The front against the unmodified model: parameters kept vs latency and energy kept."""
    h = res.table().set_index("id")
    base = res.candidate(0).result
    a = SEARCH_ALGORITHM
    t = Table(f"Search: {SEARCH_MODEL} channel pruning on {SEARCH_SPEC} (NSGA-II, "
              f"{a['pop_size']} x {a['generations']} generations, seed {a['seed']}; "
              f"{len(h)} candidates)",
              ["candidate", "latency ms", "energy mJ", "params kept", "MACs kept",
               "latency kept", "energy kept"])
    rows = [0, *[int(i) for i in res.pareto.sort_values("latency_s")["id"] if int(i) != 0]]
    worst_gap = 0.0
    for cid in rows:
        r = res.candidate(cid).result
        params, macs = r.params / base.params, r.macs / base.macs
        lat, en = r.latency_s / base.latency_s, r.energy_j / base.energy_j
        if cid:
            worst_gap = max(worst_gap, lat - params)
        t.add(["baseline" if cid == 0 else cid, f"{r.latency_s * 1e3:.3f}",
               f"{r.energy_j * 1e3:.3f}", f"{params:.0%}", f"{macs:.0%}", f"{lat:.0%}",
               f"{en:.0%}"])
    t.note = (f"Front members keep up to {worst_gap:.0%} more of the latency than of the "
              f"parameters: compression ratio is not speed-up." if worst_gap > 0 else
              "On this front latency shrinks at least as fast as the parameters.")
    return t


__all__ = ["demo_search", "search_table"]
