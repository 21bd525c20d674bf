"""edgesim: latency, energy and area of (compressed) neural networks on edge hardware."""

from __future__ import annotations

import importlib
from typing import Any

from edgesim.errors import CompressError, EdgesimError, MappingError, SpecError, WorkloadError

__version__ = "0.1.0"

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
    "OpKind": ("edgesim.workload.ir", "OpKind"),
    "Hardware": ("edgesim.hardware.model", "Hardware"),
    "SimResult": ("edgesim.cost.result", "SimResult"),
    "LayerResult": ("edgesim.cost.result", "LayerResult"),
    "zoo": ("edgesim.workload.zoo", None),
    "compress": ("edgesim.compress", None),
    "report": ("edgesim.report", None),
}

__all__ = [
    "CompressError",
    "EdgesimError",
    "MappingError",
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
