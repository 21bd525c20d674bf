"""Load an example script (``examples/NAME.py``) as a module, the way a user runs it."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def load_example(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # registered, so that a search config can name the example's own builder ("module:build")
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def quick_summary(name: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Run ``examples/NAME.py --quick`` into a fresh folder and read its summary."""
    out = tmp_path_factory.mktemp(name)
    assert load_example(name).main(["--quick", "--out", str(out)]) == 0
    summary: dict[str, Any] = json.loads((out / "summary.json").read_text())
    summary["_out"] = str(out)
    return summary
