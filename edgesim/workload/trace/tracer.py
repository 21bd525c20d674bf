"""The torch.fx tracer: symbolic trace, shape propagation, and each node through its converter."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import fx, nn
from torch.fx.passes.shape_prop import ShapeProp, TensorMetadata

from edgesim.errors import EdgesimError, WorkloadError
from edgesim.workload.ingest import fold_batchnorm
from edgesim.workload.ir import Workload
from edgesim.workload.layer import Layer, Shape
from edgesim.workload.trace import recurrent
from edgesim.workload.trace.converters import install
from edgesim.workload.trace.registry import (
    REGISTER_HINT,
    ZERO_FRACTION,
    ConvertContext,
    Registered,
    module_converter,
    target_converter,
)

install()
recurrent.install()


class _LeafTracer(fx.Tracer):
    """Every module with a registered converter (subclasses included) is a leaf."""

    def is_leaf_module(self, m: nn.Module, module_qualified_name: str) -> bool:
        return module_converter(type(m)) is not None


def _first_meta(meta: Any) -> TensorMetadata | None:
    if isinstance(meta, TensorMetadata):
        return meta
    if isinstance(meta, (tuple, list)):
        for item in meta:
            found = _first_meta(item)
            if found is not None:
                return found
    if isinstance(meta, dict):
        for item in meta.values():
            found = _first_meta(item)
            if found is not None:
                return found
    return None


def _is_tensor_node(n: Any) -> bool:
    return isinstance(n, fx.Node) and _first_meta(n.meta.get("tensor_meta")) is not None


def _shape(n: fx.Node) -> Shape:
    meta = _first_meta(n.meta.get("tensor_meta"))
    assert meta is not None
    return tuple(int(d) for d in meta.shape)


def _tensor_args(node: fx.Node) -> list[fx.Node]:
    found: list[fx.Node] = []

    def visit(a: Any) -> Any:
        if _is_tensor_node(a):
            found.append(a)
        return a

    fx.node.map_aggregate(node.args, visit)
    fx.node.map_aggregate(node.kwargs, visit)
    return found


def _target_name(node: fx.Node, module: nn.Module | None) -> str:
    if node.op == "call_module" and module is not None:
        cls = type(module)
        return f"module {node.target!r} of class {cls.__module__}.{cls.__qualname__}"
    if node.op == "call_method":
        return f"method Tensor.{node.target}"
    target = node.target
    mod = getattr(target, "__module__", None) or ""
    qual = getattr(target, "__qualname__", None) or getattr(target, "__name__", str(target))
    return f"function {mod + '.' if mod else ''}{qual}"


# ---- the trace ------------------------------------------------------------------------------
def _as_tuple(example_inputs: Any) -> tuple[Any, ...]:
    if isinstance(example_inputs, torch.Tensor):
        return (example_inputs,)
    if isinstance(example_inputs, (tuple, list)):
        return tuple(example_inputs)
    raise WorkloadError(f"example_inputs must be a tensor or a tuple of tensors, "
                        f"got {type(example_inputs).__name__}", field="example_inputs")


def _failing_submodule(root: nn.Module, exc: BaseException) -> tuple[str, nn.Module] | None:
    """The innermost module whose ``forward`` was running when tracing failed, by name."""
    names = {id(m): n for n, m in root.named_modules() if n}
    found = None
    tb = exc.__traceback__
    while tb is not None:
        owner = tb.tb_frame.f_locals.get("self")
        if isinstance(owner, nn.Module) and id(owner) in names:
            found = (names[id(owner)], owner)
        tb = tb.tb_next
    return found


def _symbolic_trace(module: nn.Module, name: str) -> fx.GraphModule:
    tracer = _LeafTracer()
    try:
        graph = tracer.trace(module)
    except EdgesimError:
        raise
    except Exception as exc:  # torch.fx raises many kinds (TraceError, TypeError...)
        where = _failing_submodule(module, exc)
        cls = "cls" if where is None else type(where[1]).__name__
        at = f" in submodule {where[0]!r} ({type(where[1]).__module__}.{cls})" if where else ""
        raise WorkloadError(
            f"torch.fx cannot trace model {name!r}{at}: {type(exc).__name__}: {exc}. Make "
            f"that submodule a leaf by registering a converter for its class with "
            f"edgesim.workload.trace.register_converter({cls}, fn), or export the model to "
            f"ONNX (torch.onnx.export) and load the .onnx file") from None
    return fx.GraphModule(tracer.root, graph, name)


class _ZeroCountingShapeProp(ShapeProp):
    """ShapeProp that also records the fraction of exact zeros of each tensor a node produces."""

    def run_node(self, n: fx.Node) -> Any:
        result = super().run_node(n)
        if isinstance(result, torch.Tensor) and result.numel() and not result.is_complex():
            n.meta[ZERO_FRACTION] = float((result == 0).sum()) / result.numel()
        return result


def _propagate(gm: fx.GraphModule, module: nn.Module, inputs: tuple[Any, ...], name: str,
               count_zeros: bool = False) -> None:
    modes = [(m, m.training) for m in module.modules()]
    prop = _ZeroCountingShapeProp if count_zeros else ShapeProp
    try:
        gm.eval()
        with torch.no_grad():
            prop(gm).propagate(*inputs)
    except EdgesimError:
        raise
    except Exception as exc:
        raise WorkloadError(f"running model {name!r} on its example inputs failed: "
                            f"{type(exc).__name__}: {exc}", field="example_inputs") from None
    finally:
        for m, training in modes:
            m.training = training


def _check_sizes(layers: Sequence[Layer], name: str) -> None:
    for lay in layers:
        for shape in (*lay.in_shapes, lay.out_shape, lay.weight_shape):
            if any(d <= 0 for d in shape):
                raise WorkloadError(f"zero-sized tensor {shape} in model {name!r}",
                                    field=f"{lay.name}")


class _LeafRoot(nn.Module):
    """Holds a lone leaf module (a bare ``nn.Linear``...) so that it is traced as a leaf."""

    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        self.child = type(module).__name__.lower()
        self.add_module(self.child, module)

    def forward(self, x: torch.Tensor) -> Any:
        return getattr(self, self.child)(x)


def _run(converter: Registered, ctx: ConvertContext, what: str) -> list[Layer] | None:
    """A converter's layers; a user-registered converter that fails is bad input, named."""
    if converter.builtin:
        return converter.fn(ctx)
    try:
        return converter.fn(ctx)
    except EdgesimError:
        raise
    except Exception as exc:  # a user's converter: report it, do not crash
        raise WorkloadError(f"the converter registered for {what} failed: "
                            f"{type(exc).__name__}: {exc}", field=ctx.node.name) from None


def trace(module: nn.Module, example_inputs: Any, name: str = "model", *,
          measure_act_sparsity: bool = False) -> Workload:
    """Trace ``module`` with torch.fx on ``example_inputs`` into a :class:`Workload`.

    Args:
        module: any ``torch.nn.Module`` that ``torch.fx`` can trace. It is not modified.
        example_inputs: a tensor or tuple of tensors; dimension 0 is the batch.
        name: the workload's name.
        measure_act_sparsity: record, for each conv/linear/adder layer, the fraction of exact
            zeros in its input as the example inputs produce it (``act_sparsity``), so that
            zero-gating, zero-skipping and run-length coding see real zeros. Use it with
            representative inputs and trained weights; a module's own ``act_sparsity`` wins.

    Raises:
        WorkloadError: the model cannot be traced, or an op has no converter.
    """
    if not isinstance(module, nn.Module):
        raise WorkloadError(f"expected a torch.nn.Module, got {type(module).__name__}",
                            field="module")
    inputs = _as_tuple(example_inputs)
    tensors = [t for t in inputs if isinstance(t, torch.Tensor)]
    if not tensors:
        raise WorkloadError("example_inputs holds no tensor", field="example_inputs")
    if any(t.numel() == 0 for t in tensors):
        raise WorkloadError("zero-sized example input", field="example_inputs")
    batch = int(tensors[0].shape[0]) if tensors[0].dim() else 1
    root = module
    if module_converter(type(module)) is not None:  # a lone leaf: trace it as a child
        root = _LeafRoot(module)
    gm = _symbolic_trace(root, name)
    _propagate(gm, root, inputs, name, count_zeros=measure_act_sparsity)
    modules = dict(gm.named_modules())
    producer: dict[fx.Node, str | None] = {}
    layers: list[Layer] = []
    used: set[str] = set()
    outputs: set[str] = set()
    for node in gm.graph.nodes:
        if node.op in ("placeholder", "get_attr"):
            producer[node] = None
            continue
        if node.op == "output":
            for arg in _tensor_args(node):
                if producer.get(arg):
                    outputs.add(str(producer[arg]))
            continue
        if not _is_tensor_node(node):
            continue  # size arithmetic and other non-tensor values
        module_obj = modules.get(str(node.target)) if node.op == "call_module" else None
        if node.op == "call_module":
            assert module_obj is not None
            converter = module_converter(type(module_obj))
        else:
            converter = target_converter(node.target)
        what = _target_name(node, module_obj)
        if converter is None:
            raise WorkloadError(f"no converter for {what} (node {node.name!r}); {REGISTER_HINT}",
                                field=node.name)
        targs = _tensor_args(node)
        lname = str(node.target) if node.op == "call_module" else node.name
        while lname in used:
            lname = f"{lname}_"
        ctx = ConvertContext(node=node, name=lname, module=module_obj,
                             in_shapes=tuple(_shape(a) for a in targs),
                             producers=tuple(producer.get(a) for a in targs),
                             out_shape=_shape(node), tensor_args=tuple(targs))
        new = _run(converter, ctx, what)
        if new is None:  # zero-cost view: consumers connect to the real producer
            producer[node] = next((p for p in ctx.producers if p is not None), None)
            continue
        if not new:
            raise WorkloadError(f"converter for {what} returned no layers (return None for a "
                                "zero-cost view)", field=node.name)
        for lay in new:
            if lay.name in used:
                raise WorkloadError(f"converter produced duplicate layer name {lay.name!r}",
                                    field=node.name)
            used.add(lay.name)
        layers.extend(new)
        producer[node] = new[-1].name
    if not layers:
        raise WorkloadError(f"model {name!r} has no countable layers (only views or nothing)",
                            field="module")
    layers = fold_batchnorm(layers, frozenset(outputs))
    _check_sizes(layers, name)
    return Workload(name=name, layers=tuple(layers), batch=batch, source="torch.fx")

