"""es.search.run end to end: problems, algorithms, results, candidates, constraints, accuracy."""

from __future__ import annotations

import math

import pandas as pd
import pytest

import edgesim as es
from edgesim.errors import SearchError
from edgesim.search import run

SMALL = {"name": "nsga2", "pop_size": 8, "generations": 3, "seed": 0}


@pytest.fixture(scope="module")
def pruning() -> es.search.SearchResult:
    return run(problem="channel_pruning", model="resnet18", hardware="edge-npu",
               space={"granularity": "group", "ratios": [0.0, 0.25, 0.5, 0.75]},
               objectives=["latency_s", "weight_bytes"], algorithm=SMALL, progress=False)


def test_history_layout(pruning: es.search.SearchResult) -> None:
    h = pruning.table()
    assert list(h.columns[:6]) == ["id", "generation", "baseline", "feasible", "latency_s",
                                   "weight_bytes"]
    assert h["id"].tolist() == list(range(len(h)))
    assert h.loc[0, "baseline"] and not h.loc[1:, "baseline"].any()
    assert (h.filter(like="keep.").loc[0] == 1.0).all()  # id 0: the unmodified model
    assert set(h["generation"]) == {0, 1, 2}
    keep = h.filter(like="keep.")
    assert keep.shape[1] == 12  # ResNet-18's coupled groups
    for col in h.columns:  # numeric columns (the flags are booleans)
        assert pd.api.types.is_numeric_dtype(h[col]) or pd.api.types.is_bool_dtype(h[col]), col


def test_pareto_is_the_non_dominated_feasible_rows(pruning: es.search.SearchResult) -> None:
    h, front = pruning.table(), pruning.pareto
    assert not front.empty and front["feasible"].all()
    pts = h[["latency_s", "weight_bytes"]].to_numpy()
    for _, row in front.iterrows():
        a = row[["latency_s", "weight_bytes"]].to_numpy(float)
        assert not any((p <= a).all() and (p < a).any() for p in pts)
    # and every non-member is dominated by a member (or repeats a member's genome)
    for cid in set(h["id"]) - set(front["id"]):
        a = h.loc[cid, ["latency_s", "weight_bytes"]].to_numpy(float)
        f = front[["latency_s", "weight_bytes"]].to_numpy(float)
        assert any((p <= a).all() for p in f)


def test_candidate_equals_simulation(pruning: es.search.SearchResult) -> None:
    front = pruning.pareto
    cid = int(front["id"].iloc[len(front) // 2])
    c = pruning.candidate(cid)
    res = es.simulate(c.workload, c.hardware)
    assert res.latency_s == c.result.latency_s == front.set_index("id").loc[cid, "latency_s"]
    assert res.weight_bytes == front.set_index("id").loc[cid, "weight_bytes"]
    module, inputs = c.module()  # the torch path gives the same numbers
    assert es.simulate(es.trace(module, inputs, name="resnet18"), c.hardware).to_dict() == \
        res.to_dict()
    assert c.overrides == {}
    with pytest.raises(SearchError):
        pruning.candidate(10_000)


def test_same_seed_same_history_other_seed_differs(pruning: es.search.SearchResult) -> None:
    again = run(problem="channel_pruning", model="resnet18",
                space={"granularity": "group", "ratios": [0.0, 0.25, 0.5, 0.75]},
                objectives=["latency_s", "weight_bytes"], algorithm=SMALL, progress=False)
    pd.testing.assert_frame_equal(again.table(), pruning.table())
    other = run(problem="channel_pruning", model="resnet18",
                space={"granularity": "group", "ratios": [0.0, 0.25, 0.5, 0.75]},
                objectives=["latency_s", "weight_bytes"],
                algorithm={**SMALL, "seed": 1}, progress=False)
    assert not other.table().equals(pruning.table())


def test_nsga2_improves_on_its_first_generation() -> None:
    res = run(problem="channel_pruning", model="resnet18",
              objectives=["latency_s", "energy_j"],
              algorithm={"name": "nsga2", "pop_size": 12, "generations": 6, "seed": 0},
              progress=False)
    h = res.table()
    first = h[(h["generation"] == 0) & ~h["baseline"]]["latency_s"].min()
    assert res.pareto["latency_s"].min() < first


def test_nsga2_on_a_space_smaller_than_its_population_ends_cleanly() -> None:
    """pymoo drops duplicate offspring; when a tiny space has no new candidate left, the search
    ends with what it found (found by the fuzz tests: it used to crash)."""
    res = run(problem="channel_pruning", model="lenet5", hardware="edge-npu",
              space={"granularity": "group", "ratios": [0.0, 0.5]},
              objectives=["latency_s", "energy_j"], progress=False)
    searched = res.history[~res.history["baseline"]]
    assert len(searched) >= 2 and searched["_genome"].is_unique and not res.pareto.empty


def test_filter_genome_is_tecs_keep_bits() -> None:
    res = run(problem="channel_pruning", model="lenet5", space={"granularity": "filter"},
              objectives=["macs", "params"], algorithm={**SMALL, "generations": 2},
              progress=False)
    c = res.candidate(int(res.pareto["id"].iloc[0]))
    assert c.genome is not None and set(c.genome) <= {0, 1}
    assert len(c.genome) == 6 + 16 + 120 + 84  # one gene per filter of the prunable layers
    kept = res.history.set_index("id").loc[c.id, "keep.c1"]
    assert kept == pytest.approx(max(1, sum(c.genome[:6])) / 6)


def test_grid_over_hardware_with_a_linked_gene() -> None:
    space = {"compute.pe_array.rows,compute.pe_array.cols": [[8, 8], [16, 16], [32, 32]],
             "memory.dram.bandwidth": ["4 GB/s", "16 GB/s"]}
    res = run(problem="hardware", model="resnet18", space=space,
              objectives=["latency_s", "area_mm2"], algorithm="grid", progress=False)
    h = res.table()
    assert len(h) == 6 and not h["baseline"].any()
    assert h["compute.pe_array.rows"].tolist() == [8, 8, 16, 16, 32, 32]
    assert (h["compute.pe_array.rows"] == h["compute.pe_array.cols"]).all()
    assert h["memory.dram.bandwidth"].tolist() == [4e9, 16e9] * 3
    c = res.candidate(5)
    assert c.overrides == {"compute.pe_array.rows": 32, "compute.pe_array.cols": 32,
                           "memory.dram.bandwidth": "16 GB/s"}
    hw = es.load_hardware("edge-npu", overrides=c.overrides)
    assert es.simulate(es.load_workload("resnet18"), hw).latency_s == h.loc[5, "latency_s"]
    with pytest.raises(SearchError, match="no torch module"):
        c.module()
    # the sweep is the same grid as a table
    table = es.sweep("edge-npu", "resnet18", {"compute.pe_array.rows": [8, 32],
                                                "compute.pe_array.cols": [8, 32],
                                                "memory.dram.bandwidth": ["4 GB/s", "16 GB/s"]})
    assert len(table) == 8 and table["hardware"].eq("edge-npu").all()
    diag = table[table["compute.pe_array.rows"] == table["compute.pe_array.cols"]]
    assert diag["latency_s"].tolist() == h.loc[[0, 1, 4, 5], "latency_s"].tolist()


def test_random_is_seeded() -> None:
    kw = {"problem": "hardware", "model": "lenet5",
          "space": {"compute.pe_array.rows": [4, 8, 16, 32], "clock": ["500 MHz", "1 GHz"]},
          "objectives": ["latency_s", "energy_j"], "progress": False}
    a = run(**kw, algorithm={"name": "random", "pop_size": 5, "generations": 2, "seed": 3})
    b = run(**kw, algorithm={"name": "random", "pop_size": 5, "generations": 2, "seed": 3})
    assert len(a.history) == 10
    pd.testing.assert_frame_equal(a.table(), b.table())


def test_constraints_nothing_feasible_names_the_closest() -> None:
    res = run(problem="channel_pruning", model="resnet18", objectives=["latency_s", "energy_j"],
              constraints={"latency_s": 1e-5, "weight_bytes": 1e9},
              algorithm={**SMALL, "generations": 1}, progress=False)
    h = res.table()
    assert not h["feasible"].any() and res.pareto.empty
    assert list(res.pareto.columns) == list(h.columns)
    assert res.closest == int(h.loc[h["latency_s"].idxmin(), "id"])
    assert "weight_bytes" in h.columns  # a constraint metric gets its column once


def test_constraints_split_feasible_rows() -> None:
    res = run(problem="channel_pruning", model="resnet18", objectives=["energy_j"],
              constraints={"latency_s": 1.2e-3}, algorithm=SMALL, progress=False)
    h = res.table()
    assert (h["feasible"] == (h["latency_s"] <= 1.2e-3)).all()
    assert h["feasible"].any() and not h["feasible"].all()
    assert (res.pareto["latency_s"] <= 1.2e-3).all()
    assert len(res.pareto) == 1  # one objective: the single best


def test_mixed_precision_draws_what_the_units_support() -> None:
    res = run(problem="mixed_precision", model="lenet5", hardware="cortex-m7",
              space={"weight_bits": [2, 4, 8, 16], "act_bits": [8, 16]},
              objectives=["latency_s", "weight_bytes"], algorithm=SMALL, progress=False)
    h = res.table()
    wcols = [c for c in h.columns if c.startswith("wbits.")]
    assert len(wcols) == 5 and len([c for c in h.columns if c.startswith("abits.")]) == 5
    assert set(h.loc[1:, wcols].to_numpy().ravel()) <= {8, 16}  # int2/int4 not on this chip
    assert h.loc[0, wcols].isna().all()  # the baseline's native precision
    with pytest.raises(SearchError, match="support"):
        run(problem="mixed_precision", model="lenet5", hardware="edge-npu",
            space={"weight_bits": [2, 4], "act_bits": [4]}, progress=False)
    # 8 among the widths: every layer has one choice on an int8-only chip (before: a search of
    # identical candidates)
    with pytest.raises(SearchError, match="nothing to search.*edge-npu.*int8"):
        run(problem="mixed_precision", model="lenet5", hardware="edge-npu",
            space={"weight_bits": [4, 8], "act_bits": [8]}, progress=False)


def test_codesign_genome_is_hardware_then_compression() -> None:
    space = {"hardware": {"compute.pe_array.rows": [8, 32]},
             "compression": {"problem": "channel_pruning",
                             "space": {"granularity": "group", "ratios": [0, 0.5]}}}
    res = run(problem="codesign", model="resnet18", space=space,
              objectives=["latency_s", "area_mm2"], algorithm=SMALL, progress=False)
    h = res.table()
    assert "compute.pe_array.rows" in h and "keep.conv1" in h
    c = res.candidate(int(res.pareto["id"].iloc[0]))
    assert set(c.overrides) == {"compute.pe_array.rows"}
    assert es.simulate(c.workload, c.hardware).latency_s == \
        h.set_index("id").loc[c.id, "latency_s"]


def test_custom_builder() -> None:
    res = run(problem="custom", model=None,
              space={"builder": "tests.search.helpers:build_mlp",
                     "genes": {"width": [32, 64, 128], "depth": [1, 2, 3]}},
              objectives=["latency_s", "params"], algorithm="grid", progress=False)
    h = res.table()
    assert len(h) == 9 and h["gene.width"].tolist()[:3] == [32, 32, 32]
    assert h.loc[0, "params"] == 64 * 32
    res2 = run(problem="custom", space={"builder": "tests.search.helpers:build_torch",
                                        "genes": {"kernel": [1, 3]}},
               objectives=["macs"], algorithm="grid", progress=False)
    assert res2.table()["macs"].tolist() == [8 * 3 * 256, 8 * 3 * 9 * 256]
    module, _ = res2.candidate(1).module()
    assert module[0].kernel_size == (3, 3)


def test_accuracy_with_a_callable_is_seeded_per_candidate() -> None:
    kw = {"problem": "channel_pruning", "model": "lenet5",
          "objectives": ["accuracy", "latency_s"], "algorithm": {**SMALL, "generations": 1},
          "progress": False}
    a = run(**kw, accuracy="tests.search.helpers:seeded_noise")
    b = run(**kw, accuracy="tests.search.helpers:seeded_noise")
    pd.testing.assert_frame_equal(a.table(), b.table())
    assert a.table()["accuracy"].nunique() > 1


def test_digits_accuracy_prunes_a_real_model() -> None:
    res = run(problem="channel_pruning", model="edgesim.compress.data:digits_model",
              objectives=["accuracy", "macs"],
              accuracy={"data": "digits", "train_steps": 150, "finetune_steps": 10},
              space={"granularity": "group", "ratios": [0.0, 0.5, 0.75]},
              algorithm={"name": "nsga2", "pop_size": 6, "generations": 2, "seed": 0},
              progress=False)
    h = res.table()
    assert h.loc[0, "accuracy"] > 0.9  # the trained parent
    assert h["accuracy"].between(0.0, 1.0).all()
    # a real trade-off: the front holds a smaller model that is less accurate than the best
    front = res.pareto.sort_values("macs")
    assert len(front) >= 2
    assert front["macs"].iloc[0] < front["macs"].iloc[-1]
    assert front["accuracy"].iloc[0] < front["accuracy"].iloc[-1]


@pytest.mark.parametrize(("keys", "match"), [
    ({"problem": "pruning"}, "problem"),
    ({"objectives": ["speed"]}, "unknown metric"),
    ({"space": {"granularity": "group", "ratios": [0.5, 1.5]}}, "space.ratios"),
    ({"space": {"granularity": "layer"}}, "space.granularity"),
    ({"space": {"bogus": 1}}, "space.bogus"),
    ({"algorithm": {"name": "nsga2", "pop": 3}}, "algorithm.pop"),
    ({"model": "no_such_model"}, "model"),
    ({"hardware": "no-such-chip"}, "hardware"),
    ({"objectives": ["accuracy"]}, "accuracy"),
    ({"executor": "threads"}, "executor"),
    ({"algorithm": "milp"}, "milp"),
])
def test_bad_input_is_one_clear_error(keys: dict[str, object], match: str) -> None:
    cfg = {"problem": "channel_pruning", "model": "lenet5", **keys}
    with pytest.raises(SearchError, match=match):
        run(cfg, progress=False)


@pytest.mark.parametrize(("space", "match"), [
    ({"compute.pe_array.nope": [1, 2]}, r"space\.compute\.pe_array\.nope"),
    ({"compute.pe_array.rows": [16, -4]}, r"space\.compute\.pe_array\.rows\[1\]"),
    ({"compute.pe_array.rows,compute.pe_array.cols": [[8, 8], [16]]}, "move together"),
    ({"memory.dram.bandwidth": "8 GB/s"}, "list of values"),
])
def test_bad_hardware_space(space: dict[str, object], match: str) -> None:
    with pytest.raises(SearchError, match=match):
        run(problem="hardware", model="lenet5", space=space, progress=False)


def test_unimportable_builder_and_failing_builder() -> None:
    with pytest.raises(SearchError, match="cannot import"):
        run(problem="custom", space={"builder": "no.such.module:build", "genes": {"a": [1]}},
            progress=False)
    with pytest.raises(SearchError, match="boom"):
        run(problem="custom", space={"builder": "tests.search.helpers:broken_builder",
                                     "genes": {"a": [1, 2]}}, progress=False)


def test_a_candidate_that_cannot_run_is_an_infeasible_error_row() -> None:
    res = run(problem="custom", hardware="eyeriss",  # no adder unit, no SIMD unit
              space={"builder": "tests.search.helpers:build_conv",
                     "genes": {"op": ["conv2d", "adder_conv2d"]}},
              objectives=["latency_s", "energy_j"], algorithm="grid", progress=False)
    h = res.table()
    assert h["error"].tolist()[0] == ""
    assert "adder" in h["error"].tolist()[1] and not h.loc[1, "feasible"]
    assert math.isnan(h.loc[1, "latency_s"])
    assert res.pareto["id"].tolist() == [0]


def test_a_workload_file_is_searched_on_its_own_graph() -> None:
    """No torch module: groups come from the IR's graph, the first channels are kept, the
    declared sparsity stays, and asking for a module is a clear error."""
    res = run(problem="channel_pruning", model="workloads/small3.yaml",
              space={"granularity": "group", "ratios": [0.0, 0.5]},
              objectives=["latency_s", "params"], algorithm="grid", progress=False)
    h = res.table()
    assert [c for c in h.columns if c.startswith("keep.")] == ["keep.c1", "keep.c2", "keep.a2"]
    assert len(h) == 1 + 8  # the baseline, then the 2 x 2 x 2 grid
    c = res.candidate(int(h.index[-1]))  # every group at half
    by = {la.name: la for la in c.workload.layers}
    assert by["c1"].weight_shape == (32, 64, 3, 3) and by["c2"].weight_shape == (64, 32, 3, 3)
    assert by["fc"].weight_shape == (1000, 64) and by["c2"].weight_sparsity == 0.5
    with pytest.raises(SearchError, match="not a torch module"):
        c.module()
