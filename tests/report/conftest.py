"""One demo run shared by the report's tests (it takes ~25 s)."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgesim.report.demo import run_demo


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report")
    run_demo(out)
    return out
