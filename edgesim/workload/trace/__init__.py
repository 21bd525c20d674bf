"""torch.fx tracing of a torch module into the workload IR, with an explicit converter registry."""

from edgesim.workload.trace.registry import ConvertContext, Converter, register_converter
from edgesim.workload.trace.tracer import trace

__all__ = ["ConvertContext", "Converter", "register_converter", "trace"]
