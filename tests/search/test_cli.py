"""`edgesim search` and `edgesim sweep`: files, kill -9 and --resume, clean errors (exit 2)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

import edgesim as es

ROOT = Path(__file__).resolve().parents[2]
EDGESIM = str(Path(sys.executable).parent / "edgesim")
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}

PRUNE = {"problem": "channel_pruning", "model": "lenet5",
         "space": {"granularity": "group", "ratios": [0, 0.25, 0.5, 0.75]},
         "objectives": ["latency_s", "energy_j"],
         "algorithm": {"name": "nsga2", "pop_size": 8, "generations": 3, "seed": 2}}

# Torch-free configurations start in about a second (most CLI tests use these).
HW = {"problem": "hardware", "model": "lenet5",
      "space": {"compute.pe_array.rows": [4, 8, 16, 32], "compute.pe_array.cols": [4, 8, 16, 32],
                "memory.dram.bandwidth": ["4 GB/s", "16 GB/s"]},
      "objectives": ["latency_s", "area_mm2"],
      "algorithm": {"name": "nsga2", "pop_size": 8, "generations": 3, "seed": 1}}
SLOW = {"problem": "custom",
        "space": {"builder": "tests.search.helpers:slow_mlp",
                  "genes": {"width": [16, 32, 48, 64, 96, 128, 192, 256],
                            "depth": [1, 2, 3, 4, 5, 6]}},
        "objectives": ["latency_s", "params"],
        "algorithm": {"name": "nsga2", "pop_size": 8, "generations": 8, "seed": 0}}


def _cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([EDGESIM, *args], capture_output=True, text=True, cwd=cwd,
                          env=ENV, timeout=300)


def _config(tmp: Path, cfg: dict[str, object], name: str = "search.yaml") -> Path:
    path = tmp / name
    path.write_text(yaml.safe_dump(cfg))
    return path


def _clean_error(res: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert res.returncode == 2, (res.stdout, res.stderr)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), res.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


def test_search_writes_its_files(tmp_path: Path) -> None:
    out = tmp_path / "out"
    res = _cli("search", str(_config(tmp_path, PRUNE)), "--out", str(out))
    assert res.returncode == 0, res.stderr
    assert res.stderr == ""  # no progress bar when stderr is not a terminal
    for name in ("pareto.csv", "history.csv", "pareto.png", "checkpoint.pkl", "run.json"):
        assert (out / name).is_file(), name
    meta = json.loads((out / "run.json").read_text())
    assert meta["edgesim"] == es.__version__ and len(meta["config_hash"]) == 32
    assert meta["config"]["problem"] == "channel_pruning"
    assert (out / "pareto.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    front = pd.read_csv(out / "pareto.csv")
    history = pd.read_csv(out / "history.csv")
    assert len(history) == 1 + 8 * 3  # the baseline, then three generations
    assert set(front["id"]) <= set(history["id"])
    assert (history["edgesim_version"] == es.__version__).all()
    assert set(history["oracle_sha256"]) == {meta["oracle_hash"]}
    for cid in front["id"]:  # each front member's workload, as simulated
        wl = es.load_workload(str(out / "front" / f"{cid}.yaml"))
        got = es.simulate(wl, es.load_hardware("edge-npu")).latency_s
        assert got == pytest.approx(front.set_index("id").loc[cid, "latency_s"], rel=1e-12)
    # the same search again into the same directory needs --resume
    again = _cli("search", str(_config(tmp_path, PRUNE)), "--out", str(out))
    _clean_error(again, "--resume")


def test_kill_9_then_resume_gives_the_uninterrupted_result(tmp_path: Path) -> None:
    cfg = _config(tmp_path, SLOW)
    whole = tmp_path / "whole"
    assert _cli("search", str(cfg), "--out", str(whole)).returncode == 0
    cut = tmp_path / "cut"
    proc = subprocess.Popen([EDGESIM, "search", str(cfg), "--out", str(cut)], cwd=ROOT, env=ENV,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ckpt = cut / "checkpoint.pkl"
    deadline = time.monotonic() + 120
    while not ckpt.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    first = ckpt.stat().st_mtime_ns
    while ckpt.stat().st_mtime_ns == first and proc.poll() is None:  # a second generation
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the search finished before it could be killed"
    assert not (cut / "history.csv").exists()
    resumed = _cli("search", str(cfg), "--out", str(cut), "--resume")
    assert resumed.returncode == 0, resumed.stderr
    for name in ("history.csv", "pareto.csv"):
        assert (cut / name).read_bytes() == (whole / name).read_bytes(), name


def test_bad_checkpoints(tmp_path: Path) -> None:
    out = tmp_path / "out"
    cfg = _config(tmp_path, {**HW, "algorithm": {**HW["algorithm"], "generations": 1}})
    assert _cli("search", str(cfg), "--out", str(out)).returncode == 0
    other = _config(tmp_path, {**HW, "objectives": ["latency_s"]}, "other.yaml")
    _clean_error(_cli("search", str(other), "--out", str(out), "--resume"), "another search")
    (out / "checkpoint.pkl").write_bytes(b"not a pickle")
    _clean_error(_cli("search", str(cfg), "--out", str(out), "--resume"), "corrupt")
    _clean_error(_cli("search", str(cfg), "--out", str(tmp_path / "new"), "--resume"),
                 "no checkpoint")


@pytest.mark.parametrize(("change", "needle"), [
    ({"problem": "prune"}, "problem"),
    ({"objectives": ["latency"]}, "unknown metric"),
    ({"space": {"granularity": "group", "ratios": [2]}}, "space.ratios"),
    ({"problem": "hardware", "space": {"compute.nope": [1]}}, "space.compute.nope"),
    ({"problem": "custom", "model": None,
      "space": {"builder": "nowhere:build", "genes": {"a": [1]}}}, "cannot import"),
])
def test_bad_config_exits_2_and_writes_nothing(tmp_path: Path, change: dict[str, object],
                                               needle: str) -> None:
    cfg = {**PRUNE, **change}
    if cfg.get("model") is None:
        cfg.pop("model")
    out = tmp_path / "out"
    _clean_error(_cli("search", str(_config(tmp_path, cfg)), "--out", str(out)), needle)
    assert not out.exists()


def test_nothing_feasible_exits_0_with_an_empty_front(tmp_path: Path) -> None:
    cfg = {**HW, "constraints": {"latency_s": 1e-9},
           "algorithm": {**HW["algorithm"], "generations": 1}}
    out = tmp_path / "out"
    res = _cli("search", str(_config(tmp_path, cfg)), "--out", str(out))
    assert res.returncode == 0, res.stderr
    front = pd.read_csv(out / "pareto.csv")
    assert front.empty and "latency_s" in front.columns
    assert "closest is id" in res.stderr and "latency_s" in res.stderr


def test_sweep_prints_writes_and_checks(tmp_path: Path) -> None:
    csv, png = tmp_path / "s.csv", tmp_path / "s.png"
    res = _cli("sweep", "--hw", "edge-npu", "--model", "lenet5", "--set",
               "compute.pe_array.rows=8,16,32", "--set", "memory.dram.bandwidth=4 GB/s,16 GB/s",
               "--csv", str(csv), "--plot", str(png))
    assert res.returncode == 0, res.stderr
    table = pd.read_csv(csv)
    assert len(table) == 6 and table["memory.dram.bandwidth"].tolist() == [4e9, 16e9] * 3
    assert "compute.pe_array.rows" in res.stdout.splitlines()[0]
    assert png.read_bytes()[:4] == b"\x89PNG"
    _clean_error(_cli("sweep", "--hw", "edge-npu", "--model", "lenet5", "--set",
                      "compute.pe_array.rows=8,,16"), "--set")
    _clean_error(_cli("sweep", "--hw", "edge-npu", "--model", "lenet5", "--set",
                      "compute.pe_array.rows=8,-16", "--csv", str(tmp_path / "bad.csv")),
                 "compute.pe_array.rows")
    assert not (tmp_path / "bad.csv").exists()


def test_progress_bar_on_a_terminal(tmp_path: Path) -> None:
    """On a terminal, stderr shows candidates/s and the best objective so far."""
    import fcntl
    import pty
    import struct
    import termios

    main, child = pty.openpty()
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    cfg = _config(tmp_path, HW)
    proc = subprocess.run([EDGESIM, "search", str(cfg), "--out", str(tmp_path / "o")], cwd=ROOT,
                          env=ENV, stdout=subprocess.DEVNULL, stderr=child, timeout=300)
    os.close(child)
    chunks = []
    while True:
        try:
            data = os.read(main, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.close(main)
    shown = b"".join(chunks).decode(errors="replace")
    assert proc.returncode == 0
    assert "cand/s" in shown and "best latency_s" in shown and "/24 " in shown, shown
