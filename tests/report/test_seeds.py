"""The seed-system section reads saved example outputs and says how to make missing ones."""

from __future__ import annotations

from pathlib import Path

from edgesim.report.seeds import SEEDS, seed_tables


def test_without_saved_outputs_the_section_says_how_to_make_them(tmp_path: Path) -> None:
    (table,) = seed_tables(tmp_path)
    assert [r[0] for r in table.rows] == list(SEEDS)
    assert "make examples" in table.note
