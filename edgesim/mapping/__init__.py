"""Mapping: each layer of a workload on the unit that runs it, as counts (cycles, ops, accesses).

``map_workload`` (``schedule``) places every layer (``placement``), builds its GEMM view
(``mapper``) for the mapper registered for the unit's type (``registry``: ``systolic``,
``spatial``, ``cube``, ``simd``; ``vector`` for non-GEMM ops), and lets ``traffic`` tile the
layer over the buffers (``topology``, ``tiling``, ``storage``) for the reads and writes of every
memory level. Counts only; pricing and time composition live above.
"""

from edgesim.mapping.counts import LayerCounts, Schedule
from edgesim.mapping.mapper import ComputeResult, GemmView, MapperFn
from edgesim.mapping.registry import register_mapper
from edgesim.mapping.residency import input_sources
from edgesim.mapping.schedule import map_layer, map_workload

__all__ = ["ComputeResult", "GemmView", "LayerCounts", "MapperFn", "Schedule", "input_sources",
           "map_layer", "map_workload", "register_mapper"]
