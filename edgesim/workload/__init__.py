"""Workloads: the IR and the ways in (zoo, torch.fx trace, ONNX, YAML). Torch loads lazily."""

from edgesim.vocab import OpKind
from edgesim.workload.ir import Layer, Workload
from edgesim.workload.load import (
    ZOO_NAMES,
    builtin_workloads,
    load_workload,
    read_workload_yaml,
    trace_zoo,
    workload_dirs,
    workload_from_dict,
    zoo_graph_path,
)
from edgesim.workload.yaml_write import dump_workload_yaml, workload_to_dict, write_workload_yaml

__all__ = ["ZOO_NAMES", "Layer", "OpKind", "Workload", "builtin_workloads", "dump_workload_yaml",
           "load_workload", "read_workload_yaml", "trace_zoo", "workload_dirs",
           "workload_from_dict", "workload_to_dict", "write_workload_yaml", "zoo_graph_path"]
