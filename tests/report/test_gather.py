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


def test_a_source_named_twice_is_read_once(saved: Path, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    one = saved / "lenet5-edge-npu.json"
    assert main(["report", "--from", str(one), "--from", str(one), "--out",
                 str(tmp_path / "r")]) == 0
    capsys.readouterr()
    assert len((tmp_path / "r" / "runs_read.csv").read_text().splitlines()) == 1 + 1


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


BAD = {  # file name -> text -> what the one error line names
    "latency.csv": ("hardware,workload,variant,mode,latency_s,energy_j\n"
                    "edge-npu,lenet5,dense,analytic,abc,1e-3\n", "row 0.latency_s"),
    "breakdown.json": ('{"hardware": "edge-npu", "workload": "w", "latency_s": 1, "energy_j": 1,'
                       ' "energy_breakdown_j": [1, 2], "layers": []}', "energy_breakdown_j"),
    "layer.json": ('{"hardware": "edge-npu", "workload": "w", "latency_s": 1, "energy_j": 1,'
                   ' "energy_breakdown_j": {}, "layers": [{"latency_s": "x"}]}',
                   "layers[0].latency_s"),
    "s/pareto.csv": ("", "pareto.csv: not a readable CSV"),
}


@pytest.mark.parametrize("name", list(BAD))
def test_malformed_saved_outputs_are_one_clear_error(name: str, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    text, needle = BAD[name]
    path = tmp_path / "in" / name
    path.parent.mkdir(parents=True)
    path.write_text(text)
    if name.startswith("s/"):
        (path.parent / "history.csv").write_text("id,latency_s\n0,1.0\n")
    assert main(["report", "--from", str(tmp_path / "in"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and needle in err[0]


def test_odd_but_valid_inputs_still_report(tmp_path: Path, saved: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    """Two search folders of one name, a run with zero energy, a compare CSV without areas."""
    import shutil

    src = tmp_path / "in"
    for sub in ("a", "b"):
        shutil.copytree(saved / "search", src / sub / "search")
    (src / "cmp.csv").write_text("hardware,workload,variant,mode,latency_s,energy_j\n"
                                 "edge-npu,w,dense,analytic,1e-3,0\n"
                                 "edge-npu,w,int8,analytic,5e-4,0\n")
    assert main(["report", "--from", str(src), "--out", str(tmp_path / "o")]) == 0
    names = {p.name for p in (tmp_path / "o").iterdir()}
    assert {"search_front_0_search.csv", "search_front_1_search.csv"} <= names
    page = (tmp_path / "o" / "index.html").read_text()
    assert "0 mm2" not in page and "Capacity" not in page  # no area, no fit said: neither claimed
    capsys.readouterr()
