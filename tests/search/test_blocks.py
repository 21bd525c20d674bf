"""block_scaling (LegoDNN): blocks, descendants, profiles, and the MILP and the grid over them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import edgesim as es
from edgesim.errors import SearchError
from edgesim.search import run
from edgesim.search.blocks import BlockScaling
from edgesim.search.model import resolve_model

DIGITS_RESNET = "edgesim.compress.data:digits_resnet"
RATIOS = [0.0, 0.25, 0.5, 0.75]


def _problem(model: str, space: dict[str, Any] | None = None) -> BlockScaling:
    return BlockScaling(resolve_model(model), space or {})


def test_auto_blocks_are_resnet_stages_and_mobilenet_groups() -> None:
    assert [b.name for b in _problem("resnet18").blocks] == [
        "layer1", "layer2", "layer3", "layer4"]
    # torchvision's MobileNet-v2 table (t, c, n, s): groups of 2, 3, 4, 3, 3, 1 inverted
    # residuals after the first (whose only channels are the stem's and its output's)
    mbv2 = _problem("mobilenet_v2")
    assert [b.name for b in mbv2.blocks] == [
        "features.2-3", "features.4-6", "features.7-10", "features.11-13", "features.14-16",
        "features.17.conv"]
    assert [len(b.groups) for b in mbv2.blocks] == [2, 3, 4, 3, 3, 1]
    digits = _problem(DIGITS_RESNET)
    assert [b.name for b in digits.blocks] == ["layer1", "layer2", "layer3"]
    # a projection shortcut lies inside its stage
    assert "layer2.0.downsample.0" in digits.blocks[1].layers


def test_a_descendant_keeps_its_blocks_interface() -> None:
    p = _problem("resnet18", {"ratios": RATIOS})
    base = p.source.workload
    genome = list(p.baseline_genome)
    genome[1] = RATIOS.index(0.5)  # layer2 at half width inside
    wl = p.decode(tuple(genome)).workload
    changed = {a.name for a, b in zip(base.layers, wl.layers, strict=True)
               if (a.in_shapes, a.out_shape) != (b.in_shapes, b.out_shape)}
    assert changed == {"layer2.0.conv1", "layer2.0.relu", "layer2.0.conv2",
                       "layer2.1.conv1", "layer2.1.relu", "layer2.1.conv2"}
    assert wl.layer("layer2.0.conv1").out_shape[1] == 64
    assert p.summary(tuple(genome))["keep.layer2"] == 0.5


@pytest.fixture(scope="module")
def grid() -> es.search.SearchResult:
    """Every combination of the digits ResNet's descendants, scored by the profiles, with a
    proxy accuracy (the weights' L1 norm kept) so that the budgets trade against it."""
    return run(problem="block_scaling", model=DIGITS_RESNET, hardware="edge-npu",
               space={"ratios": RATIOS},
               objectives=["accuracy", "latency_s", "energy_j", "weight_bytes",
                           "dram_read_bytes"],
               accuracy="tests.search.helpers:kept_l1", algorithm="grid", progress=False)


def _budgets(grid: es.search.SearchResult) -> dict[str, float]:
    h = grid.history
    return {"latency_s": float(h["predicted.latency_s"].quantile(0.4)),
            "weight_bytes": float(h["predicted.weight_bytes"].quantile(0.6))}


def test_generation_zero_is_the_profiling(grid: es.search.SearchResult) -> None:
    h = grid.history
    profiled = h[h["generation"] == 0]
    # the parent, then each block alone at each other ratio
    assert len(profiled) == 1 + 3 * (len(RATIOS) - 1)
    assert bool(profiled["baseline"].iloc[0])
    # accuracy is profiled in place: a profile row is its own prediction
    np.testing.assert_array_equal(profiled["accuracy"], profiled["predicted.accuracy"])
    assert len(h[h["generation"] > 0]) == len(RATIOS) ** 3


def test_milp_finds_the_optimum_of_the_grid_over_the_same_profiles(
        grid: es.search.SearchResult) -> None:
    budgets = _budgets(grid)
    h = grid.history[grid.history["generation"] > 0]
    ok = ((h["predicted.latency_s"] <= budgets["latency_s"])
          & (h["predicted.weight_bytes"] <= budgets["weight_bytes"]))
    assert 0 < ok.sum() < len(h)  # the budgets bind
    best = h[ok]["predicted.accuracy"].max()
    res = run(problem="block_scaling", model=DIGITS_RESNET, hardware="edge-npu",
              space={"ratios": RATIOS}, objectives=["accuracy"], constraints=budgets,
              accuracy="tests.search.helpers:kept_l1", algorithm="milp", progress=False)
    chosen = res.history.iloc[-1]
    assert int(chosen["generation"]) == 1 and bool(chosen["predicted_feasible"])
    assert chosen["predicted.accuracy"] == pytest.approx(best, rel=1e-12)
    # the grid's row of the same genome holds the same prediction and the same simulation
    keep = [c for c in h.columns if c.startswith("keep.")]
    same = h[(h[keep] == chosen[keep].astype(float)).all(axis=1)]
    assert len(same) == 1
    for name in ("predicted.accuracy", "latency_s", "weight_bytes", "accuracy"):
        assert same[name].iloc[0] == chosen[name]


def test_milp_minimises_a_cost_under_an_accuracy_floor_as_the_grid_does(
        grid: es.search.SearchResult) -> None:
    """Block latencies differ by microseconds: the MILP must not stop inside its gap."""
    h = grid.history[grid.history["generation"] > 0]
    floor = float(h["predicted.accuracy"].quantile(0.5))
    best = h[h["predicted.accuracy"] >= floor]["predicted.latency_s"].min()
    res = run(problem="block_scaling", model=DIGITS_RESNET, hardware="edge-npu",
              space={"ratios": RATIOS}, objectives=["latency_s"],
              constraints={"accuracy": floor}, accuracy="tests.search.helpers:kept_l1",
              algorithm="milp", progress=False)
    chosen = res.history.iloc[-1]
    assert bool(chosen["predicted_feasible"])
    assert chosen["predicted.latency_s"] == pytest.approx(best, rel=1e-12)


def test_blocks_profiled_alone_overestimate_the_whole_model(
        grid: es.search.SearchResult) -> None:
    h = grid.history
    np.testing.assert_array_equal(h["weight_bytes"], h["predicted.weight_bytes"])
    # alone, every block reads its input from DRAM and writes its output there; in the whole
    # model those tensors stay on chip (and ops fuse) across the boundaries
    gap = h["latency_s"] / h["predicted.latency_s"] - 1
    assert (gap < 0).all() and gap.min() > -0.25
    assert (h["energy_j"] < h["predicted.energy_j"]).all()
    assert (h["dram_read_bytes"] < h["predicted.dram_read_bytes"]).all()


def test_blocks_profiled_in_place_add_up_exactly() -> None:
    """edgesim's analytic costs are separable by layer once residency is decided, and a block
    scaled in place keeps its interfaces: the in-place prediction is exact (to rounding)."""
    res = run(problem="block_scaling", model="resnet18", hardware="edge-npu",
              space={"ratios": [0.0, 0.5, 0.75], "profile": "in_place"},
              objectives=["latency_s", "energy_j", "dram_read_bytes"],
              algorithm={"name": "random", "pop_size": 6, "generations": 1, "seed": 1},
              progress=False)
    h = res.history
    for name in ("latency_s", "energy_j", "dram_read_bytes"):
        np.testing.assert_allclose(h[name], h[f"predicted.{name}"], rtol=1e-12)


def test_a_block_alone_reads_its_inputs_as_model_inputs() -> None:
    from dataclasses import replace

    from edgesim.mapping import input_sources
    from edgesim.search.blocks import sub_workload

    p = _problem("resnet18")
    wl = sub_workload(p.source.workload, p.blocks[0].layers, "layer1")
    first, add = wl.layer("layer1.0.conv1"), wl.layer("add")
    assert first.inputs == () and first.in_shapes == ((1, 64, 56, 56),)
    # the shortcut (maxpool's output, outside the block) is a model input, read from DRAM,
    # not the same-shaped conv2 output used twice
    assert add.inputs == ("layer1.0.conv2",) and add.fresh_inputs == (1,)
    index = {la.name: i for i, la in enumerate(wl.layers)}
    shapes = [la.out_shape for la in wl.layers]
    assert input_sources(add, index, shapes) == [index["layer1.0.conv2"], None]
    hw = es.load_hardware("edge-npu")
    marked = es.simulate(wl, hw)
    unmarked = es.simulate(wl.with_layers([replace(la, fresh_inputs=()) for la in wl.layers]),
                           hw)
    assert marked.dram_read_bytes - unmarked.dram_read_bytes == 64 * 56 * 56
    assert [b for b, _ in p.segments()] == [None, 0, None, 1, None, 2, None, 3, None]


def test_milp_when_no_descendant_meets_the_budget_names_the_closest() -> None:
    res = run(problem="block_scaling", model="resnet18", hardware="edge-npu",
              space={"ratios": [0.0, 0.5]}, objectives=["energy_j"],
              constraints={"latency_s": 1e-9}, algorithm="milp", progress=False)
    assert res.pareto.empty
    chosen = res.history.iloc[-1]
    assert not chosen["feasible"] and not chosen["predicted_feasible"]
    assert [chosen[f"keep.layer{i}"] for i in range(1, 5)] == [0.5] * 4  # the least violation
    assert res.closest == int(chosen["id"])


def test_a_candidate_is_its_simulation_and_its_torch_module(
        grid: es.search.SearchResult) -> None:
    row = grid.history.iloc[-7]
    c = grid.candidate(int(row["id"]))
    assert es.simulate(c.workload, c.hardware).latency_s == row["latency_s"]
    module, inputs = c.module()
    traced = es.simulate(es.trace(module, inputs), c.hardware)
    assert traced.latency_s == row["latency_s"]
    assert traced.energy_j == c.result.energy_j


def test_search_yaml_from_the_command_line(tmp_path: Path) -> None:
    from edgesim.cli import main

    cfg = tmp_path / "lego.yaml"
    cfg.write_text("problem: block_scaling\nmodel: resnet18\nhardware: edge-npu\n"
                   "space: {blocks: {early: [layer1.0.conv1, layer1.0.relu, layer1.0.conv2],"
                   " late: [layer4.1.conv1, layer4.1.relu, layer4.1.conv2]}, ratios: [0, 0.5]}\n"
                   "objectives: [energy_j]\nconstraints: {latency_s: 1.0}\nalgorithm: milp\n")
    assert main(["search", str(cfg), "--out", str(tmp_path / "out")]) == 0
    history = pd.read_csv(tmp_path / "out" / "history.csv")
    assert list(history["generation"]) == [0, 0, 0, 1]
    assert {"keep.early", "keep.late", "predicted.energy_j", "predicted_feasible"} <= set(
        history.columns)


@pytest.mark.parametrize(("space", "match"), [
    ({"blocks": {"a": ["layer1.0.conv1", "nope"]}}, r"space\.blocks\.a: no layer named 'nope'"),
    ({"blocks": {"a": ["layer1.0.conv1", "layer1.0.relu", "layer1.0.conv2"],
                 "b": ["layer1.0.conv2"]}}, r"space\.blocks\.b: .*already in block 'a'"),
    ({"blocks": {"a": ["layer1.0.conv1"]}}, r"space\.blocks\.a: .*no channel group"),
    ({"blocks": "stages"}, r"space\.blocks"),
    ({"blocks": {"a": ["layer1.0.conv1", "layer1.0.conv2"]}},
     r"space\.blocks\.a: a block is consecutive layers: 'layer1.0.relu'"),
    ({"ratios": RATIOS, "profile": "sideways"}, r"space\.profile"),
    ({"ratios": [0.25, 0.5]}, r"space\.ratios: .*ratio 0\.0"),
    ({"bogus": 1}, r"space\.bogus"),
])
def test_bad_block_spaces(space: dict[str, Any], match: str) -> None:
    with pytest.raises(SearchError, match=match):
        run(problem="block_scaling", model="resnet18", space=space, algorithm="milp",
            progress=False)


def test_a_model_without_hierarchy_says_to_list_blocks() -> None:
    with pytest.raises(SearchError, match="list them by layer names"):
        run(problem="block_scaling", model="lenet5", algorithm="milp", progress=False)


def test_a_block_alone_round_trips_through_graph_yaml(tmp_path: Path) -> None:
    from dataclasses import replace

    from edgesim.search.blocks import sub_workload

    p = _problem("resnet18")
    wl = sub_workload(p.source.workload, p.blocks[0].layers, "layer1")
    path = tmp_path / "layer1.yaml"
    wl.to_yaml(path, form="graph")
    back = es.load_workload(str(path))
    assert back.layer("add").fresh_inputs == (1,)
    hw = es.load_hardware("edge-npu")
    assert es.simulate(back, hw).dram_read_bytes == es.simulate(wl, hw).dram_read_bytes
    from edgesim.errors import WorkloadError

    add = wl.layer("add")
    with pytest.raises(WorkloadError, match="add.fresh_inputs"):
        replace(add, fresh_inputs=(0,))  # a named input's position
    assert replace(add, fresh_inputs=[1, 1]).fresh_inputs == (1,)
