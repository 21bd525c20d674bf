"""Channel groups read off the IR's graph, and channel pruning as a pure IR transform."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edgesim.compress import prune_channels
from edgesim.errors import WorkloadError
from edgesim.workload import load_workload
from edgesim.workload.channels import channel_groups, prune_workload, zero_counts_of
from edgesim.workload.trace import trace
from tests.compress.conftest import ResBlockNet


def _net():  # type: ignore[no-untyped-def]
    import torch

    torch.manual_seed(0)
    return ResBlockNet().eval(), (torch.randn(2, 3, 8, 8),)


def test_groups_couple_residual_depthwise_concat_and_flatten() -> None:
    model, x = _net()
    graph = channel_groups(trace(model, x, name="net"))
    groups = {g.name: g for g in graph.groups}
    # c1 and c2 meet in a residual add: one group; the depthwise conv follows it (no group of
    # its own); c3 feeds the flatten -> fc1; fc1 is pruned alone; fc2 makes the output.
    assert set(groups) == {"c1", "c3", "fc1"}
    assert groups["c1"].producers == ("c1", "c2")
    assert groups["c1"].channels == 8 and groups["c3"].channels == 12
    assert "fc2" not in {p for g in graph.groups for p in g.producers}


def test_pruning_follows_every_coupling() -> None:
    model, x = _net()
    wl = trace(model, x, name="net")
    pruned = prune_workload(channel_groups(wl), {"c1": (0, 2, 5), "c3": 4})
    by = {la.name: la for la in pruned.layers}
    assert by["c1"].weight_shape == (3, 3, 3, 3) and by["c2"].weight_shape == (3, 3, 3, 3)
    assert by["dw"].groups == 3 and by["dw"].weight_shape == (3, 1, 3, 3)
    assert by["c3"].in_shapes[0][1] == 6  # the concat of two 3-channel branches
    assert by["c3"].weight_shape == (4, 6, 1, 1)
    assert by["fc1"].weight_shape == (20, 4 * 4 * 4)  # 16 features per channel after flatten
    assert by["fc2"].weight_shape == (5, 20)
    assert wl.layers[0].weight_shape == (8, 3, 3, 3)  # the input workload is unchanged


def test_ir_pruning_equals_torch_pruning() -> None:
    model, x = _net()
    wl = trace(model, x, name="net")
    keep = {"c1": (1, 3, 4, 6), "c3": (0, 1, 2, 7, 11), "fc1": tuple(range(0, 20, 3))}
    masks = {name: [int(i in pos) for i in range(n)] for name, pos, n in
             (("c1", keep["c1"], 8), ("c3", keep["c3"], 12), ("fc1", keep["fc1"], 20))}
    slow = trace(prune_channels(model, x, ratio=masks), x, name="net")
    assert prune_workload(channel_groups(wl), keep).layers == slow.layers


def test_a_yaml_model_has_the_same_groups(tmp_path: Path) -> None:
    model, x = _net()
    wl = trace(model, x, name="net")
    path = tmp_path / "net.yaml"
    wl.to_yaml(path)
    again = load_workload(str(path))
    assert [g.producers for g in channel_groups(again).groups] == \
        [g.producers for g in channel_groups(wl).groups]
    def shapes(w):  # type: ignore[no-untyped-def]
        return [(la.in_shapes, la.out_shape, la.weight_shape, la.groups) for la in w.layers]

    assert shapes(prune_workload(channel_groups(again), {"c3": 5})) == \
        shapes(prune_workload(channel_groups(wl), {"c3": 5}))


def test_bad_keep_values() -> None:
    model, x = _net()
    graph = channel_groups(trace(model, x, name="net"))
    for bad in ({"c1": 0}, {"c1": 9}, {"c1": (3, 1)}, {"c1": ()}, {"nope": 2}):
        with pytest.raises(WorkloadError):
            prune_workload(graph, bad)


def test_zero_counts_per_filter_and_channel() -> None:
    w = np.ones((2, 3, 2, 2))
    assert zero_counts_of(w) is None
    w[1, 2, 0, 0] = w[1, 2, 1, 1] = w[0, 0, 0, 1] = 0
    z = zero_counts_of(w)
    assert z is not None
    assert z.tolist() == [[1, 0, 0], [0, 0, 2]]
