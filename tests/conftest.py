"""The suite's order: quick tests first, the slowest last (peer simulators, the seed-system
examples, the browser), so `make test` reports most failures within its first minutes."""

from __future__ import annotations

import pytest

# Path prefixes (from the repository root) of the slowest tests, in the order they run last.
SLOWEST_LAST = ("tests/report/", "tests/examples/", "tests/peers/")


def _rank(item: pytest.Item) -> int:
    path = item.nodeid
    for i, prefix in enumerate(SLOWEST_LAST, start=1):
        if path.startswith(prefix):
            return i
    return len(SLOWEST_LAST) + 1 if item.get_closest_marker("slow") else 0


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=_rank)  # stable: each group keeps its files' order
