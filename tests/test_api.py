"""The public API: every lazily loaded name is also visible to users' type checkers."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import edgesim

INIT = Path(edgesim.__file__)


def _type_checking_names() -> set[str]:
    tree = ast.parse(INIT.read_text())
    for node in tree.body:
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            return {alias.asname or alias.name for imp in node.body
                    if isinstance(imp, ast.ImportFrom) for alias in imp.names}
    return set()


def test_every_lazy_name_is_typed_for_users() -> None:
    assert _type_checking_names() == set(edgesim._LAZY)


def test_every_lazy_name_loads() -> None:
    for name, (module_name, attr) in edgesim._LAZY.items():
        module = importlib.import_module(module_name)
        assert getattr(edgesim, name) is (module if attr is None else getattr(module, attr))
    assert (INIT.parent / "py.typed").is_file()
