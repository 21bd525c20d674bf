"""docs/validation.md's generated tables equal what the code computes now (no drift)."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgesim.validate import docs
from edgesim.validate.run import Check


@pytest.mark.parametrize("check", docs.GENERATED, ids=lambda c: c.value)
def test_generated_tables_match_the_code(check: Check) -> None:
    text = docs.DOCS.read_text()
    assert docs.current(text, check) == docs.generated(check), (
        f"docs/validation.md's {check.value} table has drifted: regenerate it with "
        "`.venv/bin/python -m edgesim.validate.docs`")


def test_update_rewrites_only_the_blocks(tmp_path: Path) -> None:
    page = tmp_path / "v.md"
    page.write_text("intro\n<!-- validate:jetson-nano -->\nstale\n<!-- /validate:jetson-nano -->\n"
                    "outro\n")
    assert docs.update(page, [Check.JETSON_NANO]) == [Check.JETSON_NANO]
    text = page.read_text()
    assert text.startswith("intro\n") and text.endswith("outro\n") and "stale" not in text
    assert docs.update(page, [Check.JETSON_NANO]) == []  # idempotent
    page.write_text("no markers\n")
    with pytest.raises(Exception, match="no <!-- validate:jetson-nano --> block"):
        docs.update(page, [Check.JETSON_NANO])
