"""The command line people enjoy: help and version, errors that teach (closest keys, the flag
at fault, units that read one way), no traceback on a closed pipe, files the umask allows."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

import edgesim as es
from edgesim.cli import main

ROOT = Path(__file__).resolve().parents[1]
SPEC = (ROOT / "hardware_specs" / "edge-npu.yaml").read_text()
LAYERS = """name: w
layers:
  - {name: c1, op: conv2d, in_channels: 3, out_channels: 8, in_size: [8, 8], kernel: [3, 3]}
"""


def _error(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    """Run ``argv``: exit 2 and one ``error:`` line, which is returned."""
    assert main(argv) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    return lines[0]


def _spec(tmp_path: Path, old: str, new: str) -> str:
    assert old in SPEC
    path = tmp_path / "spec.yaml"
    path.write_text(SPEC.replace(old, new, 1))
    return str(path)


def test_bare_command_prints_help_and_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: edgesim") and all(c in out for c in ("simulate", "demo",
                                                                        "compare", "search"))
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"edgesim {es.__version__}\n"


def test_unknown_keys_name_the_closest_known_ones(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    line = _error(capsys, ["specs", "validate", _spec(tmp_path, "rows: 64", "row: 64")])
    assert "compute[0].row: unknown key 'row' (did you mean 'rows'?)" in line
    line = _error(capsys, ["specs", "validate", _spec(tmp_path, "clock:", "clok:")])
    assert "clok: unknown key 'clok' (did you mean 'clock'?)" in line
    wl = tmp_path / "w.yaml"
    wl.write_text(LAYERS.replace("in_channels: 3", "in_channel: 3"))
    line = _error(capsys, ["simulate", "--hw", "edge-npu", "--model", str(wl)])
    assert "layers[0].in_channel: unknown key 'in_channel' (did you mean 'in_channels'" in line
    assert "required" not in line  # the misspelt key, not the key it missed
    cfg = tmp_path / "s.yaml"
    cfg.write_text("problem: channel_pruning\nmodel: lenet5\nhardware: edge-npu\n"
                   "objectivs: [latency_s]\n")
    line = _error(capsys, ["search", str(cfg), "--out", str(tmp_path / "o")])
    assert "did you mean 'objectives'?" in line


def test_bad_values_and_flags_say_what_is_wrong(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    line = _error(capsys, ["specs", "validate", _spec(tmp_path, "size: 4 MiB", "size: -3 KiB")])
    assert "memory[1].size" in line and "must be positive" in line
    line = _error(capsys, ["simulate", "--hw", "edge-npu", "--model", "lenet5",
                           "--set", "compute.pe_array.rows=abc"])
    assert line.startswith("error: --set: compute.pe_array.rows='abc': ")
    line = _error(capsys, ["simulate", "--hw", "edge-npu", "--model", "lenet5",
                           "--set", "compute.pe_array.row=3"])
    assert "--set" in line and "did you mean 'rows'?" in line
    script = tmp_path / "net.py"
    script.write_text("import torch\n")
    line = _error(capsys, ["simulate", "--hw", "edge-npu", "--model", str(script)])
    assert "a Python file is not a model file" in line and "es.trace" in line


@pytest.mark.parametrize(("size", "hint"), [
    ("64 KB", "write 64 KiB (= 65536 B) or 64 kB (= 64000 B)"),
    ("512kb", "kb is a unit of bits, and sizes are in bytes: write 64000 B"),
])
def test_memory_sizes_that_read_two_ways_are_refused(tmp_path: Path, size: str, hint: str,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    line = _error(capsys, ["specs", "validate", _spec(tmp_path, "size: 4 MiB", f"size: {size}")])
    assert "memory[1].size" in line and hint in line
    # a bandwidth in bits stays legal, and reads back in bytes
    assert main(["specs", "show", "edge-npu", "--set", "memory.dram.bandwidth=6.4 Gbps"]) == 0
    assert "bandwidth: 800 MB/s" in capsys.readouterr().out


def test_specs_that_likely_mean_something_else_warn(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    path = _spec(tmp_path, "holds: [outputs]", "holds: [inputs]")
    assert main(["specs", "validate", path]) == 0
    assert "no on-chip level holds outputs" in capsys.readouterr().err
    path = _spec(tmp_path, "word: 64 B, holds: [weights]", "word: 1024 B, holds: [weights]")
    assert main(["specs", "validate", path]) == 0
    assert "memory[1].word: weight_buf's 1024 B word is 16x the widest array row (64 B)" in (
        capsys.readouterr().err)
    assert main(["specs", "validate", str(ROOT / "hardware_specs" / "edge-npu.yaml")]) == 0
    assert "warning" not in capsys.readouterr().err


def test_unwritable_out_is_bad_input_and_writes_nothing(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    line = _error(capsys, ["demo", "--out", str(blocker / "report")])
    assert "--out" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


@pytest.mark.parametrize("argv", [
    ["simulate", "--hw", "edge-npu", "--model", "lenet5", "--json", "{dir}"],
    ["simulate", "--hw", "edge-npu", "--model", "lenet5", "--layers-csv", "{dir}"],
    ["simulate", "--hw", "edge-npu", "--model", "lenet5", "--json", "{file}/r.json"],
    ["simulate", "--hw", "edge-npu", "--model", "lenet5", "--layers-csv", "{tmp}/ok.csv",
     "--json", "{dir}"],
    ["sweep", "--hw", "edge-npu", "--model", "lenet5", "--set", "compute.pe_array.rows=8,16",
     "--csv", "{dir}"],
    ["compare", "--hw", "edge-npu", "--model", "lenet5", "--csv", "{file}/c.csv"],
    ["validate", "--check", "eyeriss", "--out", "{file}/x"],
    ["search", "{tmp}/s.yaml", "--out", "{file}/x"]])
def test_an_output_that_cannot_be_written_is_caught_before_any_work(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    """A directory given as a file, or a path under a file (unwritable whoever runs it): one
    error line naming the flag, exit 2, nothing written (before: a traceback after the work)."""
    (tmp_path / "dir").mkdir()
    (tmp_path / "file").write_text("")
    (tmp_path / "s.yaml").write_text("problem: hardware\nmodel: lenet5\nhardware: edge-npu\n"
                                     "space: {compute.pe_array.rows: [8, 16]}\n")
    args = [a.format(dir=tmp_path / "dir", file=tmp_path / "file", tmp=tmp_path) for a in argv]
    line = _error(capsys, args)
    assert any(flag in line for flag in ("--json", "--layers-csv", "--csv", "--out")), line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dir", "file", "s.yaml"]
    assert not any((tmp_path / "dir").iterdir())


def test_config_and_base_errors_name_their_file(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "s.yaml"
    cfg.write_text("problem: hardware\nmodel: lenet5\nhardware: edge-npu\n"
                   "space: {compute.pe_array.rowz: [8, 16]}\n")
    line = _error(capsys, ["search", str(cfg), "--out", str(tmp_path / "out")])
    assert line.startswith(f"error: {cfg}: space.") and "'rows'" in line
    assert not (tmp_path / "out").exists()
    spec = tmp_path / "my.yaml"
    spec.write_text("base: edge-npux\nname: my\n")
    assert _error(capsys, ["specs", "validate", str(spec)]).startswith(
        f"error: {spec}: base: unknown hardware 'edge-npux'")


def test_output_files_follow_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        out = tmp_path / "r.json"
        assert main(["simulate", "--hw", "edge-npu", "--model", "lenet5", "--json",
                     str(out)]) == 0
        assert out.stat().st_mode & 0o777 == 0o644
    finally:
        os.umask(old)


def test_a_closed_pipe_ends_quietly(monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)

    class ClosedPipe:
        def write(self, text: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

        def flush(self) -> None:
            raise BrokenPipeError(32, "Broken pipe")

        def fileno(self) -> int:
            return write_end

    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    try:
        assert main(["simulate", "--hw", "edge-npu", "--model", "lenet5", "--json", "-"]) == 141
    finally:
        os.close(write_end)
    assert capsys.readouterr().err == ""


def test_simulate_takes_names_and_paths() -> None:
    by_name = es.simulate("lenet5", "edge-npu")
    by_path = es.simulate("lenet5", ROOT / "hardware_specs" / "edge-npu.yaml")
    by_object = es.simulate(es.load_workload("lenet5"), es.load_hardware("edge-npu"))
    assert by_name.energy_j == by_path.energy_j == by_object.energy_j


def test_a_weight_buffer_smaller_than_a_fold_is_flagged(capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    """A weight buffer too small to stage a fold stalls the array on every weight fetch
    (tests/mapping/test_mapping.py); a design that small is also flagged where it is made."""
    assert main(["simulate", "--hw", "edge-npu", "--model", "lenet5", "--set",
                 "memory.weight_buf.size=64 B"]) == 0
    err = capsys.readouterr().err
    assert "memory[1].size: half of weight_buf (32 B) holds less than one fold of pe_array's " \
           "weights (64x64 int8 = 4096 B)" in err
    assert main(["simulate", "--hw", "edge-npu", "--model", "lenet5"]) == 0
    assert "warning" not in capsys.readouterr().err


def test_specs_and_sweep_errors_say_what_to_type(capsys: pytest.CaptureFixture[str]) -> None:
    assert "{list,show,validate}" in _error(capsys, ["specs"])
    assert main(["specs", "validate", "eyeriss"]) == 0  # a built-in name, as show takes
    assert capsys.readouterr().out.strip() == "ok: eyeriss"
    line = _error(capsys, ["sweep", "--hw", "edge-npu", "--model", "lenet5", "--set",
                           "compute.pe_array.rows=16,abc"])
    assert line.startswith("error: --set: compute.pe_array.rows=abc: ")

