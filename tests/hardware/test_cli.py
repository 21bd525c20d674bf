"""The `edgesim specs` commands, run as a user runs them (the installed console script)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from edgesim.hardware import list_hardware

ROOT = Path(__file__).resolve().parents[2]
EDGESIM = [str(ROOT / ".venv" / "bin" / "edgesim")] if (
    ROOT / ".venv" / "bin" / "edgesim").exists() else [sys.executable, "-m", "edgesim.cli"]


def _run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*EDGESIM, *args], capture_output=True, text=True, timeout=60,
                          cwd=cwd)


def test_specs_list() -> None:
    res = _run("specs", "list")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.strip().splitlines()
    assert [ln.split()[0] for ln in lines] == list_hardware()
    assert any(ln.startswith("eyeriss ") and "168 PEs" in ln and "65 nm" in ln for ln in lines)


def test_specs_show_eyeriss() -> None:
    res = _run("specs", "show", "eyeriss")
    assert res.returncode == 0, res.stderr
    doc = yaml.safe_load(res.stdout)
    assert doc["name"] == "eyeriss" and doc["clock"] == "200 MHz"
    assert doc["memory"][1]["size"] == "108 KiB"
    assert doc["compute"][0]["op_energy"]["mac"]["int16"].endswith(" pJ")
    assert doc["memory"][0]["read_energy"].endswith("pJ/B")
    assert doc["memory"][2]["area"].endswith("mm2")


def test_specs_show_with_set() -> None:
    res = _run("specs", "show", "edge-npu", "--set", "compute.pe_array.rows=16",
               "--set", "memory.dram.bandwidth=8 GB/s")
    assert res.returncode == 0, res.stderr
    doc = yaml.safe_load(res.stdout)
    assert doc["compute"][0]["rows"] == 16 and doc["memory"][0]["bandwidth"] == "8 GB/s"


def test_specs_validate_good(tmp_path: Path) -> None:
    res = _run("specs", "validate", str(ROOT / "hardware_specs" / "edge-npu.yaml"),
               str(ROOT / "hardware_specs" / "eyeriss.yaml"))
    assert res.returncode == 0, res.stderr
    assert res.stdout.count("ok: ") == 2


def _assert_clean_error(res: subprocess.CompletedProcess[str], *words: str) -> None:
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    assert "Traceback" not in res.stderr
    for w in words:
        assert w in lines[0], lines[0]


def test_specs_validate_bad(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text((ROOT / "hardware_specs" / "edge-npu.yaml").read_text().replace(
        "size: 2 MiB", "size: -3 KiB", 1))
    res = _run("specs", "validate", str(bad))
    _assert_clean_error(res, "bad.yaml", "memory[2].size", "expected a size")


def test_specs_validate_broken_yaml(tmp_path: Path) -> None:
    bad = tmp_path / "broken.yaml"
    bad.write_text("name: [\n")
    _assert_clean_error(_run("specs", "validate", str(bad)), "broken.yaml", "broken YAML")
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    _assert_clean_error(_run("specs", "validate", str(empty)), "empty.yaml", "empty")


def test_specs_show_unknown_set_key() -> None:
    _assert_clean_error(_run("specs", "show", "edge-npu", "--set", "compute.pe_array.colour=1"),
                        "compute.pe_array.colour", "unknown key")
    _assert_clean_error(_run("specs", "show", "no-such-chip"), "unknown hardware")
