"""edgesim: latency, energy and area of (compressed) neural networks on edge hardware."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from edgesim.errors import (
    CompressError,
    EdgesimError,
    MappingError,
    SearchError,
    SpecError,
    WorkloadError,
)

if TYPE_CHECKING:  # what users' type checkers see; at run time each name loads on first use
    from edgesim import compress as compress
    from edgesim import report as report
    from edgesim import search as search
    from edgesim.hardware import list_hardware as list_hardware
    from edgesim.hardware import load_hardware as load_hardware
    from edgesim.hardware.model import Hardware as Hardware
    from edgesim.mapping import map_workload as map_workload
    from edgesim.measurement import measure as measure
    from edgesim.report.compare import compare as compare
    from edgesim.results import LayerResult as LayerResult
    from edgesim.results import SimResult as SimResult
    from edgesim.search.sweep import sweep as sweep
    from edgesim.sim import simulate as simulate
    from edgesim.vocab import OpKind as OpKind
    from edgesim.workload import load_workload as load_workload
    from edgesim.workload import zoo as zoo
    from edgesim.workload.ir import Layer as Layer
    from edgesim.workload.ir import Workload as Workload
    from edgesim.workload.onnx import import_onnx as import_onnx
    from edgesim.workload.trace import trace as trace

from edgesim.version import __version__

# Public API, imported lazily so that `edgesim simulate` on a YAML workload never imports torch.
_LAZY = {
    "load_hardware": ("edgesim.hardware", "load_hardware"),
    "list_hardware": ("edgesim.hardware", "list_hardware"),
    "load_workload": ("edgesim.workload", "load_workload"),
    "trace": ("edgesim.workload.trace", "trace"),
    "import_onnx": ("edgesim.workload.onnx", "import_onnx"),
    "simulate": ("edgesim.sim", "simulate"),
    "map_workload": ("edgesim.mapping", "map_workload"),
    "Workload": ("edgesim.workload.ir", "Workload"),
    "Layer": ("edgesim.workload.ir", "Layer"),
    "OpKind": ("edgesim.vocab", "OpKind"),
    "Hardware": ("edgesim.hardware.model", "Hardware"),
    "SimResult": ("edgesim.results", "SimResult"),
    "LayerResult": ("edgesim.results", "LayerResult"),
    "zoo": ("edgesim.workload.zoo", None),
    "compress": ("edgesim.compress", None),
    "report": ("edgesim.report", None),
    "search": ("edgesim.search", None),
    "sweep": ("edgesim.search.sweep", "sweep"),
    "measure": ("edgesim.measurement", "measure"),
    "compare": ("edgesim.report.compare", "compare"),
}

__all__ = [
    "CompressError",
    "EdgesimError",
    "MappingError",
    "SearchError",
    "SpecError",
    "WorkloadError",
    "__version__",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'edgesim' has no attribute {name!r}")
    module_name, attr = _LAZY[name]
    module = importlib.import_module(module_name)
    value = module if attr is None else getattr(module, attr)
    globals()[name] = value
    return value
