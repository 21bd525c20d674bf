"""Loading workloads by name or path: the zoo (pre-traced graphs), built-in YAMLs, files, ONNX."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from edgesim.errors import WorkloadError
from edgesim.workload.ir import Workload
from edgesim.workload.yaml_read import parse_workload, read_yaml_mapping

ZOO_NAMES = ("lenet5", "alexnet", "vgg16", "resnet18", "resnet50", "mobilenet_v2", "ghostnet",
             "densenet121", "addernet_resnet20", "cyclegan_generator", "vit_tiny")


def workload_dirs() -> list[Path]:
    """Where built-in workload YAMLs live: the installed package data first, then the repo."""
    pkg = Path(__file__).resolve().parent.parent
    candidates = [pkg / "_data" / "workloads", pkg.parent / "workloads"]
    return [d for d in candidates if d.is_dir()]


def builtin_workloads() -> list[str]:
    """Names (file stems) of the built-in workload YAMLs."""
    names: set[str] = set()
    for d in workload_dirs():
        names |= {p.stem for p in d.glob("*.yaml")}
    return sorted(names)


def _builtin_path(name: str) -> Path | None:
    stem = name[:-5] if name.endswith(".yaml") else name
    for d in workload_dirs():
        p = d / f"{stem}.yaml"
        if p.is_file():
            return p
    return None


def trace_zoo(name: str) -> Workload:
    """Trace a zoo model afresh with torch.fx (what the shipped zoo graphs were written from)."""
    from edgesim.workload import zoo
    from edgesim.workload.trace import trace

    module, inputs = zoo.get(name)
    wl = trace(module, inputs, name=name)
    return Workload(name=wl.name, layers=wl.layers, batch=wl.batch, source="zoo")


def zoo_graph_path(name: str) -> Path | None:
    """The shipped pre-traced graph of a zoo model (``workloads/zoo/<name>.yaml``), if any."""
    for d in workload_dirs():
        p = d / "zoo" / f"{name}.yaml"
        if p.is_file():
            return p
    return None


@cache
def _zoo_workload(name: str) -> Workload:
    """A zoo model's workload: the shipped pre-traced graph (no torch import, ~50 ms), else a trace.

    The shipped graphs are written by ``python -m edgesim.workload.export_zoo`` and a test checks
    that each equals a fresh trace, so they cannot drift from the zoo's modules.
    """
    path = zoo_graph_path(name)
    if path is None:
        return trace_zoo(name)
    wl = read_workload_yaml(path)
    return Workload(name=name, layers=wl.layers, batch=wl.batch, source="zoo")


def load_workload(name_or_path: str | Path) -> Workload:
    """A workload from a zoo name, a built-in workload name, a YAML path or an ``.onnx`` path.

    Zoo models are traced once per process and cached (workloads are immutable).
    """
    text = str(name_or_path)
    if not isinstance(name_or_path, Path) and text in ZOO_NAMES:
        return _zoo_workload(text)
    path = Path(text)
    if path.suffix.lower() == ".py":
        raise WorkloadError(
            "a Python file is not a model file: give a zoo name, a workload YAML or an .onnx "
            "file; for your own torch module, export it with torch.onnx.export, or in Python "
            "call es.trace(module, example_inputs) (searches also take 'package.module:function' "
            "returning the module and its inputs)", file=text, field="model")
    if path.suffix.lower() == ".onnx":
        from edgesim.workload.onnx import import_onnx

        return import_onnx(path)
    if path.suffix.lower() in (".yaml", ".yml") or path.exists():
        if not path.exists() and (builtin := _builtin_path(text)) is not None:
            return read_workload_yaml(builtin)
        return read_workload_yaml(path)
    builtin = _builtin_path(text)
    if builtin is not None:
        return read_workload_yaml(builtin)
    known = ", ".join([*ZOO_NAMES, *builtin_workloads()])
    raise WorkloadError(f"no zoo model, built-in workload or file named {text!r} "
                        f"(known names: {known}; or give a .yaml or .onnx path)", field="model")


def workload_from_dict(data: dict[str, Any], file: str | None = None,
                       default_name: str = "workload") -> Workload:
    """Build a workload from parsed YAML (either form)."""
    parsed = parse_workload(data, file, default_name)
    return Workload(name=parsed.name, layers=parsed.layers, batch=parsed.batch, source=file or "")


def read_workload_yaml(path: str | Path) -> Workload:
    """Read a workload YAML file in the layer-list form or the graph form (``form: graph``)."""
    p = Path(path)
    return workload_from_dict(read_yaml_mapping(p), file=str(p), default_name=p.stem)
