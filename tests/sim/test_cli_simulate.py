"""End to end through the real CLI, spec loader, workload loader and mapping."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

import edgesim as es
from edgesim.sim import simulate
from tests.cost.test_energy_area import CONTRACT_KEYS, CONTRACT_LAYER_KEYS

ROOT = Path(__file__).resolve().parents[2]
EDGESIM = str(Path(sys.executable).parent / "edgesim")


def test_cli_json_stdout_is_contract_json_and_nothing_else() -> None:
    out = subprocess.run([EDGESIM, "simulate", "--hw", "edge-npu", "--model", "resnet18",
                          "--json", "-"], cwd=ROOT, capture_output=True, text=True, check=True)
    d = json.loads(out.stdout)  # the whole of stdout is one JSON document
    assert set(d) >= CONTRACT_KEYS
    assert d["hardware"] == "edge-npu" and d["workload"] == "resnet18" and d["mode"] == "analytic"
    assert d["macs"] == pytest.approx(1.814e9, rel=0.01)  # ResNet-18: 1.81 GMACs (published)
    assert all(set(lay) >= CONTRACT_LAYER_KEYS for lay in d["layers"])
    assert sum(d["energy_breakdown_j"].values()) == pytest.approx(d["energy_j"], rel=1e-9)
    assert sum(lay["latency_cycles"] for lay in d["layers"]) == pytest.approx(
        d["latency_cycles"], abs=len(d["layers"]))


def test_cli_des_timeline_on_a_yaml_workload(tmp_path: Path) -> None:
    trace = tmp_path / "run.json"
    out = subprocess.run([EDGESIM, "simulate", "--hw", "edge-npu", "--model",
                          "workloads/scalesim_small.yaml", "--mode", "des", "--timeline",
                          str(trace)], cwd=ROOT, capture_output=True, text=True, check=True)
    assert "latency" in out.stdout and "energy" in out.stdout
    events = json.loads(trace.read_text())["traceEvents"]
    assert any(e["ph"] == "X" and e["cat"] == "compute" for e in events)


def test_real_pieces_agree_and_cache_the_schedule() -> None:
    wl = es.load_workload(str(ROOT / "workloads/scalesim_small.yaml"))
    hw = es.load_hardware("edge-npu")
    a1 = simulate(wl, hw)
    a2 = simulate(wl, hw)
    assert a1.to_dict() == a2.to_dict()
    chain = wl.with_layers([replace(lay, inputs=(wl.layers[i - 1].name,) if i else ())
                            for i, lay in enumerate(wl.layers)])
    # on a chain the DES runs the analytic pipeline: the same numbers (to rounding)
    ca, cd = simulate(chain, hw), simulate(chain, hw, mode="des")
    assert cd.latency_s == pytest.approx(ca.latency_s, rel=1e-6)
    assert cd.energy_j == pytest.approx(ca.energy_j, rel=1e-6)
    # independent layers overlap in the DES (different units), never slower than the chain
    d = simulate(wl, hw, mode="des")
    assert d.latency_s <= ca.latency_s * (1 + 1e-9)
    both = simulate([wl, chain], hw, mode="des")
    assert [r.workload for r in both] == [wl.name, chain.name]
    assert both[1].latency_s > cd.latency_s  # contention with the co-runner
