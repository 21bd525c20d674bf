"""The package's structure as an executable contract: layering (import-linter), no import cycle,
modules that fit in a head, and a docstring atop every module."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "edgesim"
MAX_LINES = 500
LONG_REASON = "Long module:"  # a module past MAX_LINES says why in its docstring with this


def _lint_imports(cwd: Path, pythonpath: Path | None = None) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).parent / "lint-imports"
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run([str(exe), "--config", str(cwd / "pyproject.toml"), "--no-cache"],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_import_contracts_are_kept() -> None:
    run = _lint_imports(ROOT)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "2 kept, 0 broken" in run.stdout


@pytest.mark.parametrize(("module", "line", "broken"), [
    # the vocabulary reaching up to the simulator: an arrow the wrong way
    ("vocab.py", "import edgesim.sim  # noqa: F401", "edgesim is layered"),
    # the IR's layer reaching the loader that builds workloads from it: a cycle inside workload
    ("workload/layer.py", "import edgesim.workload.load  # noqa: F401", "no import cycle"),
])
def test_contracts_catch_a_wrong_import(tmp_path: Path, module: str, line: str,
                                        broken: str) -> None:
    shutil.copytree(PACKAGE, tmp_path / "edgesim",
                    ignore=shutil.ignore_patterns("__pycache__", "_data"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / "edgesim" / module
    target.write_text(target.read_text() + f"\n{line}\n")
    run = _lint_imports(tmp_path, pythonpath=tmp_path)
    assert run.returncode != 0
    assert f"{broken}" in run.stdout and "BROKEN" in run.stdout, run.stdout


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_module_fits_in_a_head_and_says_what_it_is(path: Path) -> None:
    text = path.read_text()
    doc = ast.get_docstring(ast.parse(text))
    assert doc and doc.splitlines()[0].strip(), "a one-line docstring atop every module"
    lines = text.count("\n")
    assert lines <= MAX_LINES or LONG_REASON in doc, (
        f"{lines} lines: split it along its seams, or say why not ('{LONG_REASON} ...')")


def test_version_matches_pyproject() -> None:
    import tomllib

    from edgesim import __version__

    meta = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())
    assert meta["project"]["version"] == __version__
