"""The HAQ example, reduced (``--quick``): each policy on every chip, from what it computed."""

from __future__ import annotations

from typing import Any

import pytest

from tests.examples.conftest import quick_summary


@pytest.fixture(scope="module")
def summary(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return quick_summary("haq", tmp_path_factory)


def test_each_chip_gets_a_policy_that_keeps_the_accuracy(summary: dict[str, Any]) -> None:
    assert set(summary["policies"]) == {"bitserial", "packed", "plain"}
    for pol in summary["policies"].values():
        assert pol["found"]
        assert pol["accuracy"] >= summary["accuracy_floor"]
        assert set(pol["bits"].values()) <= {2, 4, 8}


def test_each_chip_prices_bits_its_own_way(summary: dict[str, Any]) -> None:
    lat, int8 = summary["latency_s"], summary["int8_latency_s"]
    # narrow bits cut cycles where the unit packs them or steps through them bit by bit
    assert lat["bitserial"]["bitserial"] < 0.75 * int8["bitserial"]
    assert lat["packed"]["packed"] < 0.9 * int8["packed"]
    # without packing they save traffic only: the same array packing them is faster still
    assert int8["plain"] / lat["plain"]["plain"] < int8["packed"] / lat["packed"]["packed"]


def test_the_lesson_is_computed_from_the_cross_evaluation(summary: dict[str, Any]) -> None:
    lat = summary["latency_s"]
    for on in lat:  # each chip's policy is the fastest there among them all
        assert all(lat[on][on] <= lat[pol][on] * (1 + 1e-9) for pol in lat)
    # the policy closest to the best everywhere is at least as close as any chip's own pick
    uni = summary["universal_penalty"]
    assert 1.0 <= uni <= min(max(summary["penalty"][on][pol] for on in lat) for pol in lat) \
        * (1 + 1e-9)
    assert summary["lesson_reproduced"] == (uni > 1 + summary["material"])


def test_the_report_table_is_computed_from_the_summary(summary: dict[str, Any]) -> None:
    from edgesim.report.seeds import haq_table

    table = haq_table(summary)
    assert len(table.rows) == 3
    rep = summary["lesson_reproduced"]
    assert ("reproduces" if rep else "does not reproduce") in table.note
