"""Parse and format physical quantities ("64 KiB", "1.2 GHz", "25.6 GB/s", "0.2 pJ"); SI inside."""

from __future__ import annotations

import math
import re
from enum import StrEnum

from edgesim.errors import SpecError


class Dimension(StrEnum):
    """The kinds of quantity a spec may carry."""

    SIZE = "size"  # bytes
    FREQUENCY = "frequency"  # Hz
    BANDWIDTH = "bandwidth"  # bytes per second
    ENERGY = "energy"  # joules
    ENERGY_PER_BYTE = "energy_per_byte"  # joules per byte
    AREA = "area"  # mm2 (the one non-SI unit inside: every API name says _mm2)
    POWER = "power"  # watts
    TIME = "time"  # seconds
    VOLTAGE = "voltage"  # volts (DVFS operating points)


_PREFIX = {
    "": 1.0, "k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12,
    "m": 1e-3, "u": 1e-6, "µ": 1e-6, "n": 1e-9, "p": 1e-12, "f": 1e-15,
}
_BIN = {"Ki": 2.0**10, "Mi": 2.0**20, "Gi": 2.0**30, "Ti": 2.0**40}

# Each dimension: unit regex -> factor to the SI value edgesim uses inside.
# AREA is kept in mm2 inside (every API name says _mm2); everything else is SI.
_UNITS: dict[Dimension, dict[str, float]] = {
    Dimension.SIZE: {
        "B": 1.0, "byte": 1.0, "bytes": 1.0, "b": 0.125, "bit": 0.125, "bits": 0.125,
        **{f"{p}B": v for p, v in _BIN.items()},
        **{f"{p}B": v for p, v in {"K": 1e3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12}.items()},
        **{f"{p}b": v / 8 for p, v in {**_BIN, "K": 1e3, "k": 1e3, "M": 1e6, "G": 1e9}.items()},
    },
    Dimension.FREQUENCY: {f"{p}Hz": v for p, v in _PREFIX.items()},
    Dimension.BANDWIDTH: {
        **{f"{p}B/s": v for p, v in _PREFIX.items() if v >= 1},
        **{f"{p}B/s": v for p, v in _BIN.items()},
        **{f"{p}b/s": v / 8 for p, v in _PREFIX.items() if v >= 1},
        **{f"{p}bps": v / 8 for p, v in _PREFIX.items() if v >= 1},
    },
    Dimension.ENERGY: {f"{p}J": v for p, v in _PREFIX.items()},
    Dimension.ENERGY_PER_BYTE: {
        **{f"{p}J/B": v for p, v in _PREFIX.items()},
        **{f"{p}J/byte": v for p, v in _PREFIX.items()},
        **{f"{p}J/b": v * 8 for p, v in _PREFIX.items()},
        **{f"{p}J/bit": v * 8 for p, v in _PREFIX.items()},
    },
    Dimension.AREA: {"mm2": 1.0, "mm^2": 1.0, "um2": 1e-6, "um^2": 1e-6, "µm2": 1e-6, "cm2": 100.0},
    Dimension.POWER: {f"{p}W": v for p, v in _PREFIX.items()},
    Dimension.TIME: {**{f"{p}s": v for p, v in _PREFIX.items()}, "cycles": float("nan")},
}
_UNITS[Dimension.TIME].pop("cycles")
_UNITS[Dimension.VOLTAGE] = {"V": 1.0, "mV": 1e-3}

_EXAMPLE = {
    Dimension.SIZE: '"64 KiB"',
    Dimension.FREQUENCY: '"1.2 GHz"',
    Dimension.BANDWIDTH: '"25.6 GB/s"',
    Dimension.ENERGY: '"0.2 pJ"',
    Dimension.ENERGY_PER_BYTE: '"1.2 pJ/B"',
    Dimension.AREA: '"0.5 mm2"',
    Dimension.POWER: '"15 mW"',
    Dimension.TIME: '"10 ns"',
    Dimension.VOLTAGE: '"0.8 V"',
}
_NAME = {
    Dimension.SIZE: "a size",
    Dimension.FREQUENCY: "a frequency",
    Dimension.BANDWIDTH: "a bandwidth",
    Dimension.ENERGY: "an energy",
    Dimension.ENERGY_PER_BYTE: "an energy per byte",
    Dimension.AREA: "an area",
    Dimension.POWER: "a power",
    Dimension.TIME: "a time",
    Dimension.VOLTAGE: "a voltage",
}
# Memory sizes refuse what reads two ways: "KB"/"MB"/"GB"/"TB" (1000 or 1024?) and bit units
# ("64kb" would be 8000 B). Bandwidths keep bits per second ("6.4 Gbps"): no one reads those
# two ways.
_AMBIGUOUS_SIZE = {"KB": ("KiB", 2**10, "kB", 1e3), "MB": ("MiB", 2**20, "", 1e6),
                   "GB": ("GiB", 2**30, "", 1e9), "TB": ("TiB", 2**40, "", 1e12)}
_BIT_SIZE = {u for u, v in _UNITS[Dimension.SIZE].items() if u.endswith(("b", "bit", "bits"))}


def _size_trap(number: float, unit: str) -> str | None:
    """The hint for a size unit that reads two ways (None for an unambiguous one)."""
    if unit in _AMBIGUOUS_SIZE:
        binary, b_factor, decimal, d_factor = _AMBIGUOUS_SIZE[unit]
        dec = (f"{number:g} {decimal} (= {number * d_factor:.0f} B)" if decimal
               else f"{number * d_factor:.0f} B")
        return (f"{unit} is ambiguous: write {number:g} {binary} (= {number * b_factor:.0f} B) "
                f"or {dec}")
    if unit in _BIT_SIZE:
        n_bytes = number * _UNITS[Dimension.SIZE][unit]
        return (f"{unit} is a unit of bits, and sizes are in bytes: write {n_bytes:.15g} B "
                f"(= {number:g} {unit} / 8)")
    return None


_NUM = re.compile(r"^\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*([^\s\d].*?)?\s*$")


def parse_quantity(value: object, dim: Dimension, *, field: str | None = None,
                   allow_zero: bool = False) -> float:
    """Parse ``value`` (e.g. ``"64 KiB"``) as ``dim``; return the SI value (mm2 for areas).

    Raises:
        SpecError: naming ``field``, when the text is not a positive quantity of that dimension.
    """
    expected = f"expected {_NAME[dim]} such as {_EXAMPLE[dim]}, got {value!r}"
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise SpecError(expected, field=field)
    if isinstance(value, int | float):
        raise SpecError(expected + " (a number needs its unit)", field=field)
    m = _NUM.match(value)
    if not m:
        raise SpecError(expected, field=field)
    number = float(m.group(1))
    unit = (m.group(2) or "").strip()
    table = _UNITS[dim]
    trap = _size_trap(number, unit) if dim == Dimension.SIZE and number > 0 else None
    if trap is not None:
        raise SpecError(f"{expected}: {trap}", field=field)
    if unit not in table:
        raise SpecError(expected, field=field)
    si = number * table[unit]
    if not math.isfinite(si) or si < 0 or (si == 0 and not allow_zero):
        raise SpecError(expected + " (must be positive)", field=field)
    return si


_FMT: dict[Dimension, list[tuple[float, str]]] = {
    Dimension.SIZE: [(2.0**30, "GiB"), (2.0**20, "MiB"), (2.0**10, "KiB"), (1.0, "B")],
    Dimension.FREQUENCY: [(1e9, "GHz"), (1e6, "MHz"), (1e3, "kHz"), (1.0, "Hz")],
    Dimension.BANDWIDTH: [(1e9, "GB/s"), (1e6, "MB/s"), (1e3, "kB/s"), (1.0, "B/s")],
    Dimension.ENERGY: [(1.0, "J"), (1e-3, "mJ"), (1e-6, "uJ"), (1e-9, "nJ"), (1e-12, "pJ"), (1e-15, "fJ")],
    Dimension.ENERGY_PER_BYTE: [(1e-9, "nJ/B"), (1e-12, "pJ/B"), (1e-15, "fJ/B")],
    Dimension.AREA: [(1.0, "mm2"), (1e-6, "um2")],
    Dimension.POWER: [(1.0, "W"), (1e-3, "mW"), (1e-6, "uW"), (1e-9, "nW")],
    Dimension.TIME: [(1.0, "s"), (1e-3, "ms"), (1e-6, "us"), (1e-9, "ns"), (1e-12, "ps")],
    Dimension.VOLTAGE: [(1.0, "V"), (1e-3, "mV")],
}


# Smallest value shown in a unit when it is not the unit's own factor (so that 0.9 mm2 stays in
# mm2 and 0.2 pJ in pJ rather than 900000 um2 and 200 fJ).
_SHOW_FROM: dict[tuple[Dimension, str], float] = {
    (Dimension.AREA, "mm2"): 1e-3,
    (Dimension.ENERGY, "pJ"): 1e-14,
    (Dimension.ENERGY_PER_BYTE, "pJ/B"): 1e-14,
    (Dimension.VOLTAGE, "V"): 0.1,
}
_ZERO_UNIT = {Dimension.ENERGY: "pJ", Dimension.ENERGY_PER_BYTE: "pJ/B", Dimension.POWER: "W",
              Dimension.AREA: "mm2", Dimension.TIME: "s"}


def format_quantity(si: float, dim: Dimension, digits: int = 4) -> str:
    """Format an SI value (mm2 for areas) with the largest fitting unit: ``65536 -> "64 KiB"``.

    ``parse_quantity(format_quantity(x, dim, digits), dim)`` equals ``x`` to ``digits``
    significant digits.
    """
    scales = _FMT[dim]
    if si == 0:
        unit = _ZERO_UNIT.get(dim, scales[-1][1])
        return f"0 {unit}"
    for factor, unit in scales:
        if abs(si) >= _SHOW_FROM.get((dim, unit), factor):
            return f"{si / factor:.{digits}g} {unit}"
    factor, unit = scales[-1]
    return f"{si / factor:.{digits}g} {unit}"
