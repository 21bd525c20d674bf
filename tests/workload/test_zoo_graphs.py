"""The shipped pre-traced zoo graphs equal fresh torch.fx traces, and load without torch."""

from __future__ import annotations

import subprocess
import sys

import pytest

from edgesim.workload import ZOO_NAMES, load_workload, read_workload_yaml, trace_zoo, zoo_graph_path


@pytest.mark.parametrize("name", ZOO_NAMES)
def test_shipped_graph_equals_fresh_trace(name: str) -> None:
    path = zoo_graph_path(name)
    assert path is not None, f"workloads/zoo/{name}.yaml is missing"
    shipped = read_workload_yaml(path)
    fresh = trace_zoo(name)
    # If this fails after changing a zoo model or the tracer, regenerate the graphs with
    # `python -m edgesim.workload.export_zoo`.
    assert shipped.layers == fresh.layers
    assert shipped.batch == fresh.batch


def test_zoo_names_load_from_the_shipped_graph_without_torch() -> None:
    code = ("import sys, edgesim as es; wl = es.load_workload('resnet50'); "
            "print(len(wl.layers), wl.macs, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out[2] == "False"
    assert int(out[1]) == load_workload("resnet50").macs
