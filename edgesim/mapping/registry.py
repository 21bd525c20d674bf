"""The mapper registry: the GEMM mapper of each compute unit type (systolic, spatial, cube, simd)."""

from __future__ import annotations

from edgesim.errors import MappingError
from edgesim.hardware.model import ComputeUnit, UnitType
from edgesim.mapping.cube import map_cube
from edgesim.mapping.mapper import MapperFn
from edgesim.mapping.simd import map_simd
from edgesim.mapping.spatial import map_spatial
from edgesim.mapping.systolic import map_systolic

_MAPPERS: dict[UnitType, MapperFn] = {
    UnitType.SYSTOLIC: map_systolic,
    UnitType.SPATIAL: map_spatial,
    UnitType.CUBE: map_cube,
    UnitType.SIMD: map_simd,
}


def register_mapper(unit_type: UnitType, fn: MapperFn) -> None:
    """Register (or replace) the GEMM mapper of a unit type."""
    _MAPPERS[UnitType(unit_type)] = fn


def mapper_for(unit: ComputeUnit) -> MapperFn:
    """The GEMM mapper of ``unit``'s type."""
    try:
        return _MAPPERS[unit.type]
    except KeyError:
        raise MappingError(f"no mapper registered for unit type {unit.type.value!r}",
                           field=f"compute.{unit.name}.type") from None
