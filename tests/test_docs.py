"""The docs name code that exists: every ``path::function`` in docs/architecture.md resolves, and
every package and top-level module of edgesim has its place in the layer table."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARCHITECTURE = ROOT / "docs" / "architecture.md"
REF = re.compile(r"`(edgesim/[\w/]+\.py)::([\w.]+)`")


def _defined(path: Path, dotted: str) -> bool:
    """Whether ``dotted`` (``func`` or ``Class.method``) is defined at the top of ``path``."""
    body: list[ast.stmt] = ast.parse(path.read_text()).body
    for part in dotted.split("."):
        found = next((n for n in body if isinstance(n, ast.FunctionDef | ast.ClassDef)
                      and n.name == part), None)
        if found is None:
            return False
        body = found.body
    return True


def _refs() -> list[tuple[str, str]]:
    return sorted(set(REF.findall(ARCHITECTURE.read_text())))


def test_the_page_names_code() -> None:
    assert len(_refs()) >= 10


@pytest.mark.parametrize(("path", "name"), _refs())
def test_reference_exists(path: str, name: str) -> None:
    file = ROOT / path
    assert file.is_file(), f"{path} does not exist"
    assert _defined(file, name), f"{path} defines no {name}"


def test_every_top_level_module_has_a_layer() -> None:
    text = ARCHITECTURE.read_text()
    table = text[text.index("## Layers"):text.index("## Where is a number made")]
    for child in sorted((ROOT / "edgesim").iterdir()):
        name = child.stem if child.suffix == ".py" else child.name
        if name.startswith("_") or not (child.suffix == ".py" or (child / "__init__.py").exists()):
            continue
        assert f"`{name}`" in table, f"edgesim.{name} has no row in the layer table"


def test_nothing_links_outside_the_repository() -> None:
    """What users need is copied in (docs/energy_reference.md), never linked beside the repo."""
    import subprocess

    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                           check=True).stdout.split()
    offenders = [f for f in files if f.endswith((".py", ".md", ".yaml", ".toml", ".txt"))
                 and "../shared" in (ROOT / f).read_text(errors="ignore")
                 and f != "tests/test_docs.py"]
    assert offenders == []
