"""Tests of quantity parsing and formatting (edgesim.units)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edgesim.errors import SpecError
from edgesim.units import Dimension, format_quantity, parse_quantity


@pytest.mark.parametrize(("text", "dim", "si"), [
    ("64 KiB", Dimension.SIZE, 65536.0),
    ("64KiB", Dimension.SIZE, 65536.0),
    ("64 kB", Dimension.SIZE, 64e3),
    ("1250000000 B", Dimension.SIZE, 1.25e9),
    ("6.4 Gbps", Dimension.BANDWIDTH, 0.8e9),
    ("1.2 GHz", Dimension.FREQUENCY, 1.2e9),
    ("921.6 MHz", Dimension.FREQUENCY, 921.6e6),
    ("25.6 GB/s", Dimension.BANDWIDTH, 25.6e9),
    ("8 Gb/s", Dimension.BANDWIDTH, 1e9),
    ("0.2 pJ", Dimension.ENERGY, 0.2e-12),
    ("1.2 pJ/B", Dimension.ENERGY_PER_BYTE, 1.2e-12),
    ("8 pJ/bit", Dimension.ENERGY_PER_BYTE, 64e-12),
    ("0.5 mm2", Dimension.AREA, 0.5),
    ("1000 um2", Dimension.AREA, 1e-3),
    ("15 mW", Dimension.POWER, 15e-3),
    ("10 ns", Dimension.TIME, 10e-9),
    ("0.8 V", Dimension.VOLTAGE, 0.8),
    ("650 mV", Dimension.VOLTAGE, 0.65),
])
def test_parse(text: str, dim: Dimension, si: float) -> None:
    assert parse_quantity(text, dim) == pytest.approx(si, rel=1e-12)


@pytest.mark.parametrize(("text", "hint"), [
    ("64 KB", "KB is ambiguous: write 64 KiB (= 65536 B) or 64 kB (= 64000 B)"),
    ("2 MB", "MB is ambiguous: write 2 MiB (= 2097152 B) or 2000000 B"),
    ("64kb", "kb is a unit of bits, and sizes are in bytes: write 8000 B"),
    ("10000000000 bit", "write 1250000000 B"),
])
def test_sizes_that_read_two_ways_are_refused_with_both_readings(text: str, hint: str) -> None:
    with pytest.raises(SpecError, match="expected a size") as err:
        parse_quantity(text, Dimension.SIZE)
    assert hint in str(err.value)


@pytest.mark.parametrize(("value", "dim", "why"), [
    ("-3 KiB", Dimension.SIZE, "positive"),
    ("0 KiB", Dimension.SIZE, "positive"),
    ("64", Dimension.SIZE, "size"),
    (64, Dimension.SIZE, "needs its unit"),
    (True, Dimension.SIZE, "size"),
    (None, Dimension.FREQUENCY, "frequency"),
    ("1.2 GB", Dimension.FREQUENCY, "frequency"),
    ("fast", Dimension.FREQUENCY, "frequency"),
    ("1e999 B", Dimension.SIZE, "positive"),
    ("0.8 A", Dimension.VOLTAGE, "voltage"),
])
def test_parse_errors(value: object, dim: Dimension, why: str) -> None:
    with pytest.raises(SpecError, match=why) as info:
        parse_quantity(value, dim, field="memory[1].size")
    assert str(info.value).startswith("memory[1].size: expected ")


def test_error_message_matches_contract() -> None:
    # CONTRACT.md's example message, field part.
    with pytest.raises(SpecError) as info:
        parse_quantity("-3 KiB", Dimension.SIZE, field="memory[1].size")
    assert str(info.value).startswith(
        'memory[1].size: expected a size such as "64 KiB", got \'-3 KiB\'')


def test_zero_allowed_when_asked() -> None:
    assert parse_quantity("0 W", Dimension.POWER, allow_zero=True) == 0.0
    with pytest.raises(SpecError):
        parse_quantity("0 W", Dimension.POWER)


@pytest.mark.parametrize(("si", "dim", "text"), [
    (65536, Dimension.SIZE, "64 KiB"),
    (1.2e9, Dimension.FREQUENCY, "1.2 GHz"),
    (25.6e9, Dimension.BANDWIDTH, "25.6 GB/s"),
    (0.2e-12, Dimension.ENERGY, "0.2 pJ"),
    (0.912, Dimension.AREA, "0.912 mm2"),
    (5e-4, Dimension.AREA, "500 um2"),
    (0.0, Dimension.POWER, "0 W"),
    (0.8, Dimension.VOLTAGE, "0.8 V"),
])
def test_format(si: float, dim: Dimension, text: str) -> None:
    assert format_quantity(si, dim) == text


@given(st.floats(min_value=1e-16, max_value=1e12, allow_nan=False),
       st.sampled_from(list(Dimension)))
def test_round_trip(value: float, dim: Dimension) -> None:
    back = parse_quantity(format_quantity(value, dim, digits=12), dim)
    assert back == pytest.approx(value, rel=1e-10)
