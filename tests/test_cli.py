"""Bad input on the command line: exit 2, one `error:` line naming file and field, no traceback,
no partial output file left behind."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EDGESIM = str(Path(sys.executable).parent / "edgesim")

GOOD_LAYERS = """name: tiny
batch: 1
defaults: {weight_bits: 8, act_bits: 8}
layers:
  - {name: c1, op: conv2d, in_channels: 16, out_channels: 32, in_size: [14, 14],
     kernel: [3, 3], stride: [1, 1], padding: [1, 1]}
  - {name: c2, op: conv2d, in_channels: 32, out_channels: 32, in_size: [14, 14],
     kernel: [3, 3], stride: [1, 1], padding: [1, 1]}
"""

BAD_WORKLOADS = {
    # a file's problem -> a word the message must contain
    "unknown_op": (GOOD_LAYERS.replace("op: conv2d, in_channels: 32", "op: frobnicate, "
                                       "in_channels: 32"), "layers[1]"),
    "channel_mismatch": (GOOD_LAYERS.replace("in_channels: 32, out_channels: 32",
                                             "in_channels: 48, out_channels: 32"), "in_channels"),
    "bits_out_of_range": (GOOD_LAYERS.replace("weight_bits: 8", "weight_bits: 99"), "weight_bits"),
    "negative_size": (GOOD_LAYERS.replace("in_size: [14, 14],\n     kernel: [3, 3], stride: [1, 1]"
                                          ", padding: [1, 1]}\n  - {name: c2",
                                          "in_size: [-14, 14],\n     kernel: [3, 3], stride: "
                                          "[1, 1], padding: [1, 1]}\n  - {name: c2"), "in_size"),
    "unknown_input": (GOOD_LAYERS.replace("{name: c2,", "{name: c2, inputs: [nope],"), "nope"),
    "broken_yaml": ("name: [unclosed\n", "YAML"),
    "empty": ("", "empty"),
    "sparsity": (GOOD_LAYERS.replace("padding: [1, 1]}\n  - {name: c2",
                                     "padding: [1, 1], weight_sparsity: 1.5}\n  - {name: c2"),
                 "weight_sparsity"),
}


def _run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([EDGESIM, *args], capture_output=True, text=True, cwd=cwd, timeout=120)


def _assert_clean_error(res: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert res.returncode == 2, (res.stdout, res.stderr)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), res.stderr
    assert "Traceback" not in res.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


def test_good_workload_yaml_simulates(tmp_path: Path) -> None:
    wl = tmp_path / "tiny.yaml"
    wl.write_text(GOOD_LAYERS)
    out = tmp_path / "out.json"
    res = _run("simulate", "--hw", "edge-npu", "--model", str(wl), "--json", str(out))
    assert res.returncode == 0, res.stderr
    d = json.loads(out.read_text())
    assert d["workload"] == "tiny" and d["macs"] == 2 * 14 * 14 * 32 * 9 * (16 + 32) // 2


@pytest.mark.parametrize("kind", sorted(BAD_WORKLOADS))
def test_bad_workload_gives_clean_error_and_no_output(tmp_path: Path, kind: str) -> None:
    text, needle = BAD_WORKLOADS[kind]
    wl = tmp_path / "bad.yaml"
    wl.write_text(text)
    out = tmp_path / "out.json"
    res = _run("simulate", "--hw", "edge-npu", "--model", str(wl), "--json", str(out))
    _assert_clean_error(res, "bad.yaml", needle)
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.yaml"]


@pytest.mark.parametrize("args,needles", [
    (["--hw", "no-such-chip", "--model", "resnet18"], ["no-such-chip"]),
    (["--hw", "edge-npu", "--model", "no-such-model"], ["no-such-model"]),
    (["--hw", "edge-npu", "--model", "lenet5", "--set", "compute.pe_array.rows=-4"],
     ["compute", "rows"]),
    (["--hw", "edge-npu", "--model", "lenet5", "--set", "memory.dram.bandwidth=fast"],
     ["bandwidth"]),
    (["--hw", "edge-npu", "--model", "lenet5", "--set", "compute.pe_array.colour=red"],
     ["colour"]),
    (["--hw", "edge-npu", "--model", "lenet5", "--set", "norhs"], ["--set"]),
    (["--hw", "edge-npu", "--model", "lenet5", "--batch", "0"], ["--batch"]),
    (["--hw", "edge-npu", "--model", "lenet5", "--mode", "quantum"], ["quantum"]),
    (["--hw", "edge-npu", "--model", "lenet5", "--timeline", "t.json"], ["--timeline"]),
])
def test_bad_simulate_arguments(tmp_path: Path, args: list[str], needles: list[str]) -> None:
    out = tmp_path / "out.json"
    res = _run("simulate", *args, "--json", str(out), cwd=tmp_path)
    _assert_clean_error(res, *needles)
    assert not out.exists() and not (tmp_path / "t.json").exists()


def test_missing_output_directory_is_bad_input(tmp_path: Path) -> None:
    res = _run("simulate", "--hw", "edge-npu", "--model", "lenet5", "--json",
               str(tmp_path / "no" / "such" / "dir" / "out.json"))
    _assert_clean_error(res, "does not exist")


def test_set_override_changes_the_result() -> None:
    base = json.loads(_run("simulate", "--hw", "edge-npu", "--model", "lenet5", "--json",
                           "-").stdout)
    slow = json.loads(_run("simulate", "--hw", "edge-npu", "--model", "lenet5", "--json", "-",
                           "--set", "clock=250 MHz").stdout)
    assert slow["clock_hz"] == 250e6 and base["clock_hz"] == 500e6
    assert slow["latency_s"] > base["latency_s"]
    assert slow["latency_cycles"] == base["latency_cycles"] or slow["latency_cycles"] < base[
        "latency_cycles"]  # the same DRAM takes fewer cycles at a slower clock


def test_batch_scales_the_work() -> None:
    one = json.loads(_run("simulate", "--hw", "edge-npu", "--model", "lenet5", "--json",
                          "-").stdout)
    four = json.loads(_run("simulate", "--hw", "edge-npu", "--model", "lenet5", "--json", "-",
                           "--batch", "4").stdout)
    assert four["batch"] == 4 and four["macs"] == 4 * one["macs"]
    assert four["params"] == one["params"]


def test_usage_errors_are_clean() -> None:
    _assert_clean_error(_run("simulate", "--hw", "edge-npu"), "--model")
    _assert_clean_error(_run("bogus-command"), "bogus")


def test_simulate_writes_per_layer_csv(tmp_path: Path) -> None:
    import pandas as pd

    import edgesim as es
    from edgesim.cli import main

    out = tmp_path / "layers.csv"
    assert main(["simulate", "--hw", "edge-npu", "--model", "lenet5", "--layers-csv", str(out)]) == 0
    frame = pd.read_csv(out)
    res = es.simulate(es.load_workload("lenet5"), es.load_hardware("edge-npu"))
    assert list(frame["name"]) == [lay.name for lay in res.layers]
    assert frame["latency_s"].sum() == pytest.approx(res.latency_s, rel=1e-12)
    assert (frame["edgesim_version"] == es.__version__).all()
    assert (frame["model_sha256"] == es.load_workload("lenet5").sha256()).all()
    assert main(["simulate", "--hw", "edge-npu", "--model", "lenet5",
                 "--layers-csv", str(tmp_path / "no" / "x.csv")]) == 2
