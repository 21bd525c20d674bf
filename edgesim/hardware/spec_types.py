"""Building blocks of the hardware spec's schema: quantity types, its frozen base, field errors.

A quantity is a string with units (``"64 KiB"``), parsed to SI."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from edgesim.errors import SpecError
from edgesim.units import Dimension, parse_quantity


def _quantity(dim: Dimension, allow_zero: bool = False) -> Callable[[object], float]:
    def parse(value: object) -> float:
        try:
            return parse_quantity(value, dim, allow_zero=allow_zero)
        except SpecError as exc:  # pydantic reports ValueErrors with their location
            raise ValueError(exc.detail) from None

    return parse


def _energy_per_byte_or_access(value: object) -> float | tuple[float]:
    """``"x pJ/B"`` / ``"x pJ/bit"`` -> J per byte (float); ``"x pJ"`` -> (J per access,)."""
    try:
        return parse_quantity(value, Dimension.ENERGY_PER_BYTE)
    except SpecError:
        pass
    try:
        return (parse_quantity(value, Dimension.ENERGY),)
    except SpecError:
        raise ValueError(
            f'expected an energy such as "1.2 pJ/B", "0.15 pJ/bit" or "10 pJ" (per access of '
            f"`word` bytes), got {value!r}") from None


Size = Annotated[float, BeforeValidator(_quantity(Dimension.SIZE))]
Frequency = Annotated[float, BeforeValidator(_quantity(Dimension.FREQUENCY))]
Bandwidth = Annotated[float, BeforeValidator(_quantity(Dimension.BANDWIDTH))]
Energy = Annotated[float, BeforeValidator(_quantity(Dimension.ENERGY))]
Area = Annotated[float, BeforeValidator(_quantity(Dimension.AREA, allow_zero=True))]
Power = Annotated[float, BeforeValidator(_quantity(Dimension.POWER, allow_zero=True))]
Voltage = Annotated[float, BeforeValidator(_quantity(Dimension.VOLTAGE))]
MemEnergy = Annotated[float | tuple[float], BeforeValidator(_energy_per_byte_or_access)]
PositiveInt = Annotated[int, Field(gt=0, strict=True)]
Name = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z_][A-Za-z0-9_\-]*$")]


class FieldError(ValueError):
    """A cross-field check failing at a known sub-field (``field`` relative to the model)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class _Frozen(BaseModel):
    # Each field's docstring is its description: `docs/spec_reference.md` is generated from them.
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)
