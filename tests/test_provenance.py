"""Provenance: the edgesim version and a content hash of each input, on simulate JSONs and sweep
tables; the same hash for the same input in every process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import edgesim as es
from edgesim.cli import main
from edgesim.hardware.load import SpecLoader
from edgesim.version import __version__

ROOT = Path(__file__).resolve().parents[1]


def _hashes_in_a_fresh_process(seed: str) -> list[str]:
    code = ("from edgesim.hardware.load import SpecLoader; import edgesim as es; "
            "print(SpecLoader('edge-npu').sha256({'memory.dram.bandwidth': '8 GB/s'})); "
            "print(es.load_workload('resnet18').sha256())")
    env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True, timeout=120)
    return out.stdout.split()


def test_hashes_are_the_same_in_every_process() -> None:
    assert _hashes_in_a_fresh_process("1") == _hashes_in_a_fresh_process("2")


def test_a_spec_hash_follows_its_content_not_its_spelling(tmp_path: Path) -> None:
    text = (ROOT / "hardware_specs" / "edge-npu.yaml").read_text()
    copy = tmp_path / "mine.yaml"
    copy.write_text("# a comment that changes nothing\n" + text)
    assert SpecLoader(copy).sha256() == SpecLoader("edge-npu").sha256()
    assert SpecLoader("edge-npu").sha256({"clock": "400 MHz"}) != SpecLoader("edge-npu").sha256()
    # the same design however a value is spelled
    assert SpecLoader("edge-npu").sha256({"clock": "0.4 GHz"}) == SpecLoader("edge-npu").sha256(
        {"clock": "400000 kHz"}) == SpecLoader("edge-npu").sha256({"clock": "400 MHz"})
    wl = es.load_workload("lenet5")
    assert wl.sha256() != wl.with_batch(2).sha256()


def test_simulate_json_carries_version_and_input_hashes(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    assert main(["simulate", "--hw", "edge-npu", "--model", "lenet5", "--set", "clock=500 MHz",
                 "--json", str(out)]) == 0
    prov = json.loads(out.read_text())["provenance"]
    assert prov["edgesim"] == __version__
    assert prov["inputs"]["hardware"] == {
        "ref": "edge-npu", "sha256": SpecLoader("edge-npu").sha256({"clock": "500 MHz"})}
    assert prov["inputs"]["model"] == {"ref": "lenet5",
                                       "sha256": es.load_workload("lenet5").sha256()}


def test_sweep_rows_carry_provenance() -> None:
    table = es.sweep("edge-npu", "lenet5", {"clock": ["500 MHz", "1 GHz"]})
    assert (table["edgesim_version"] == __version__).all()
    assert table["hardware_sha256"].nunique() == 2  # each design point its own spec hash
    assert (table["model_sha256"] == es.load_workload("lenet5").sha256()).all()

