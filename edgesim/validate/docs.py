"""The tables ``docs/validation.md`` shows, written by the code the suite asserts on: each lies
between ``<!-- validate:CHECK -->`` and ``<!-- /validate:CHECK -->`` and is regenerated with
``python -m edgesim.validate.docs [PATH]`` (a test fails when a table has drifted)."""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from functools import partial
from pathlib import Path

from edgesim.errors import EdgesimError
from edgesim.validate.run import CHECKS, Check, section

DOCS = Path(__file__).resolve().parents[2] / "docs" / "validation.md"
GENERATED = (Check.EYERISS, Check.JETSON_NANO)  # the checks that run here without peers


def _block(check: Check) -> re.Pattern[str]:
    name = re.escape(check.value)
    return re.compile(rf"(<!-- validate:{name} -->\n)(.*?)(<!-- /validate:{name} -->)", re.S)


def generated(check: Check) -> str:
    """The Markdown a block holds: the check's table as ``edgesim validate`` prints it."""
    return section(check, CHECKS[check].build(lambda _msg: None), level=4) + "\n"


def current(text: str, check: Check) -> str:
    """The block's text in a document (a clear error when the markers are missing)."""
    m = _block(check).search(text)
    if m is None:
        raise EdgesimError(f"no <!-- validate:{check.value} --> block", field="docs")
    return m.group(2)


def _replace(new: str, m: re.Match[str]) -> str:
    return m.group(1) + new + m.group(3)


def update(path: Path = DOCS, checks: Sequence[Check] = GENERATED) -> list[Check]:
    """Rewrite the blocks of ``checks`` in ``path``; the checks whose block changed."""
    text = path.read_text()
    changed = []
    for check in checks:
        new = generated(check)
        if current(text, check) != new:
            changed.append(check)
            text = _block(check).sub(partial(_replace, new), text)
    if changed:
        path.write_text(text)
    return changed


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else DOCS
    print("rewrote:", ", ".join(c.value for c in update(target)) or "nothing")
