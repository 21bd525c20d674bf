"""The edgesim command line: a thin layer over the public API."""

from __future__ import annotations


def main(argv: list[str] | None = None) -> int:
    return 0
