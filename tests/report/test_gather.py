"""`edgesim report --from DIR... --out DIR`: a report over saved simulate JSONs, compare CSVs and
search outputs, nothing re-simulated, every input named and hashed."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from edgesim.cli import main


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What a user saved: two simulate JSONs, a compare CSV and a small search."""
    d = tmp_path_factory.mktemp("saved")
    for hw in ("edge-npu", "davinci-npu"):
        assert main(["simulate", "--hw", hw, "--model", "lenet5", "--json",
                     str(d / f"lenet5-{hw}.json")]) == 0
    assert main(["compare", "--hw", "edge-npu", "--hw", "sparse-npu", "--model", "lenet5",
                 "--variant", "dense", "--variant", "sparse90", "--csv", str(d / "cmp.csv")]) == 0
    (d / "s.yaml").write_text("problem: channel_pruning\nmodel: lenet5\nhardware: edge-npu\n"
                              "space: {granularity: group, ratios: [0.0, 0.5]}\n"
                              "objectives: [latency_s, energy_j]\nalgorithm: grid\n")
    assert main(["search", str(d / "s.yaml"), "--out", str(d / "search")]) == 0
    (d / "notes.txt").write_text("not an output")
    return d


def test_report_from_saved_outputs(saved: Path, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "rep"
    assert main(["report", "--from", str(saved), "--out", str(out)]) == 0
    capsys.readouterr()
    names = {p.name for p in out.iterdir()}
    assert {"index.html", "energy.png", "latency_energy.png", "variants.png", "layers.png",
            "rooflines.png", "search_0.png", "provenance.json"} <= names
    prov = json.loads((out / "provenance.json").read_text())
    read = saved / "lenet5-edge-npu.json"
    assert prov["inputs"][str(read)]["sha256"] == hashlib.sha256(read.read_bytes()).hexdigest()
    assert str(saved / "search" / "pareto.csv") in prov["inputs"]
    assert not any(str(saved / "notes.txt") == k for k in prov["inputs"])
    page = (out / "index.html").read_text()
    # the compare CSV's variants: sparse90 against dense on each chip
    assert "sparse90 on sparse-npu" in page
    runs = (out / "runs_read.csv").read_text().splitlines()
    assert len(runs) == 1 + 2 + 4  # header, two JSONs, four compare rows


def test_report_from_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--from", str(tmp_path / "nope"), "--out", str(tmp_path / "o")]) == 2
    assert "nope: --from: no such file or directory" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["report", "--from", str(tmp_path / "empty"), "--out", str(tmp_path / "o")]) == 2
    assert "found no simulate JSON" in capsys.readouterr().err
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "r.json").write_text("{not json")
    assert main(["report", "--from", str(tmp_path / "bad"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "r.json: not valid JSON" in err
    assert not any((tmp_path / "o").glob("*.html"))
