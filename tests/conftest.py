"""The suite's order: quick tests first, the slowest last (peer simulators, the seed-system
examples, the browser), so `make test` reports most failures within its first minutes; and one
torch kernel set on every x86 machine the suite runs on."""

from __future__ import annotations

import os
import platform

import pytest

# Torch picks its CPU kernels by the vector ISA it finds (AVX2, AVX-512), and a seeded fine-tune
# then rounds differently: the HAQ example's quick search keeps different policies on an AVX-512
# machine than on an AVX2 one (measured). Same seed, same numbers holds on one machine; the
# suite's accuracy-driven figures must not depend on which x86 machine CI draws, so the suite
# (and the worker processes it starts, which inherit the environment) runs torch's AVX2
# kernels. Set before anything imports torch; a caller's own setting wins.
if platform.machine().lower() in ("x86_64", "amd64"):
    os.environ.setdefault("ATEN_CPU_CAPABILITY", "avx2")
    os.environ.setdefault("ONEDNN_MAX_CPU_ISA", "AVX2")

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
