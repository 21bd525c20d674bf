"""``sim.metrics.analytic_figures`` (what a search's oracle reads) equals the full analytic
result's whole-run fields bit for bit."""

from __future__ import annotations

import pytest

import edgesim as es
from edgesim.sim import schedule_for, simulate
from edgesim.sim.metrics import Figures, analytic_figures


@pytest.mark.parametrize(("model", "spec"), [
    ("resnet18", "edge-npu"), ("mobilenet_v2", "davinci-npu"), ("lenet5", "cortex-m7"),
    ("vit_tiny", "host-cpu"), ("alexnet", "eyeriss"), ("resnet18", "sparse-npu")])
def test_figures_equal_the_result(model: str, spec: str) -> None:
    wl = es.load_workload(model)
    hw = es.load_hardware(spec)
    for batch in (None, 2):
        res = simulate(wl, hw, batch=batch)
        fig = analytic_figures(schedule_for(wl, hw, batch))
        for name in Figures.__dataclass_fields__:
            assert getattr(fig, name) == getattr(res, name), name  # exact: the same floats


def test_figures_cover_every_metric_a_search_reads() -> None:
    """The oracle reads a search metric from ``Figures`` by name: each must be there (Figures
    repeats those SimResult fields on purpose, without the per-layer records)."""
    from edgesim.search.config import RESULT_METRICS

    assert set(RESULT_METRICS) <= set(Figures.__dataclass_fields__)
