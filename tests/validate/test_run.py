"""``edgesim validate``: the tables it writes, and a clear exit 2 when a peer simulator is missing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd

from edgesim.cli import main
from edgesim.validate import Check, missing_peers
from edgesim.validate import published as pub

ROOT = Path(__file__).resolve().parents[2]


def test_eyeriss_tables_written(tmp_path: Path, capsys) -> None:
    out = tmp_path / "val"
    assert main(["validate", "--check", "eyeriss", "--out", str(out)]) == 0
    table = pd.read_csv(out / "eyeriss.csv")
    alex = table[(table["model"] == "alexnet") & (table["layer"] != "total")]
    assert list(alex["edgesim_active_pes"].astype(int)) == list(pub.EYERISS_ALEXNET_ACTIVE_PES)
    total = table[(table["model"] == "alexnet") & (table["layer"] == "total")].iloc[0]
    # The same bands the suite asserts (tests/mapping/test_spatial_eyeriss.py).
    assert 0.9 <= total["latency_ratio"] <= 1.1 and 0.95 <= total["dram_ratio"] <= 1.05
    page = (out / "validation.md").read_text()
    assert "Chen et al., JSSC 52(1) 2017" in page and "| alexnet | conv1 |" in page
    assert "Asserted in `make test`" in page
    assert "== eyeriss ==" in capsys.readouterr().out


def test_scalesim_table_is_exact() -> None:
    from edgesim.validate import validate

    table = validate([Check.SCALESIM])[Check.SCALESIM]
    assert len(table) == 12 * 3 * 3
    assert (table["edgesim_cycles"] == table["scalesim_cycles"]).all()


def test_bad_usage_is_exit_2(tmp_path: Path, capsys) -> None:
    assert main(["validate", "--check", "nope"]) == 2
    assert "unknown check 'nope'" in capsys.readouterr().err
    assert main(["validate", "--device", "host", "--check", "nope",
                 "--out", str(tmp_path / "x")]) == 2  # bad input before anything is measured
    assert not (tmp_path / "x").exists()
    (tmp_path / "file").write_text("")
    assert main(["validate", "--check", "eyeriss", "--out", str(tmp_path / "file" / "y")]) == 2
    assert "is not a directory" in capsys.readouterr().err


def test_missing_peer_names_the_extra(tmp_path: Path) -> None:
    """Without site-packages (python -S), ZigZag is not importable: one line, exit 2, nothing
    written, before any check runs."""
    assert missing_peers([Check.EYERISS]) == []
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    code = ("from edgesim.cli import main; "
            f"raise SystemExit(main(['validate', '--out', {str(tmp_path / 'v')!r}]))")
    run = subprocess.run([sys.executable, "-S", "-c", code], env=env, capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "edgesim[peers]" in lines[0]
    assert "scalesim" in lines[0] and "zigzag" in lines[0]
    assert not (tmp_path / "v").exists()
