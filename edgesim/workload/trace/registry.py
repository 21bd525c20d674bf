"""The converter registry of the torch.fx tracer: what a converter sees, and who converts what."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from torch import fx

from edgesim.vocab import OpKind, Precision
from edgesim.workload.layer import Layer, Shape

REGISTER_HINT = ("register one with edgesim.workload.trace.register_converter(target, fn), "
                 "where fn(ctx: ConvertContext) returns a list of Layers (or None for a "
                 "zero-cost view)")
ZERO_FRACTION = "edgesim_zero_fraction"  # node.meta key: fraction of exact zeros in the output


def unique(items: Iterable[str]) -> tuple[str, ...]:
    """The distinct items, in first-seen order."""
    return tuple(dict.fromkeys(items))


@dataclass(frozen=True)
class ConvertContext:
    """What a converter sees of one fx node: its module, tensor inputs, shapes and producers."""

    node: fx.Node
    name: str  # layer name to use (module path for modules, node name otherwise)
    module: Any  # the nn.Module of a call_module node, else None
    in_shapes: tuple[Shape, ...]  # shapes of the tensor-valued arguments, in argument order
    producers: tuple[str | None, ...]  # producing layer of each tensor argument (None: input)
    out_shape: Shape  # shape of the (first) output tensor
    tensor_args: tuple[fx.Node, ...] = field(default=(), repr=False)

    @property
    def inputs(self) -> tuple[str, ...]:
        """Distinct producing layers, in order (model inputs and constants are left out)."""
        return unique(p for p in self.producers if p is not None)

    def arg(self, index: int, key: str, default: Any = None) -> Any:
        """A literal argument of the call, by position or keyword."""
        if index < len(self.node.args):
            return self.node.args[index]
        return self.node.kwargs.get(key, default)

    def layer(self, op: OpKind, *, name: str | None = None, inputs: tuple[str, ...] | None = None,
              in_shapes: tuple[Shape, ...] | None = None,
              out_shape: Shape | None = None, kernel: tuple[int, int] = (1, 1),
              stride: tuple[int, int] = (1, 1), padding: tuple[int, int] = (0, 0),
              dilation: tuple[int, int] = (1, 1), groups: int = 1, weight_shape: Shape = (),
              has_bias: bool = False, variant: str = "",
              weight_precision: Precision | None = None, act_precision: Precision | None = None,
              weight_sparsity: float = 0.0, act_sparsity: float = 0.0,
              sparsity_pattern: str = "unstructured",
              extra: tuple[tuple[str, str], ...] = ()) -> Layer:
        """A layer of the IR's fields given as keywords; its name, inputs and shapes are this
        node's unless given (a converter making several layers names and wires them itself)."""
        return Layer(name=self.name if name is None else name, op=op,
                     inputs=self.inputs if inputs is None else inputs,
                     in_shapes=self.in_shapes if in_shapes is None else in_shapes,
                     out_shape=self.out_shape if out_shape is None else out_shape,
                     kernel=kernel, stride=stride, padding=padding, dilation=dilation,
                     groups=groups, weight_shape=weight_shape, has_bias=has_bias,
                     variant=variant, weight_precision=weight_precision,
                     act_precision=act_precision, weight_sparsity=weight_sparsity,
                     act_sparsity=act_sparsity, sparsity_pattern=sparsity_pattern, extra=extra)


Converter = Callable[[ConvertContext], "list[Layer] | None"]
ConverterKey = type | Callable[..., Any] | str


@dataclass(frozen=True)
class Registered:
    """A converter and whether edgesim ships it (a user's converter that fails is bad input)."""

    fn: Converter
    builtin: bool


_CONVERTERS: dict[Any, Registered] = {}


def register_converter(target: ConverterKey, fn: Converter) -> None:
    """Register ``fn`` for a module class (and its subclasses), a function, or a method name.

    The converter gets a :class:`ConvertContext` and returns the IR layers the op becomes
    (their inputs are usually ``ctx.inputs``) or ``None`` for a zero-cost view whose consumers
    read straight from its producer. A module class registered here is a leaf of the trace.
    An exception a registered converter raises is reported as a ``WorkloadError`` naming it.
    """
    _CONVERTERS[target] = Registered(fn, builtin=False)


def register_builtin(target: ConverterKey, fn: Converter) -> None:
    """Register one of edgesim's own converters (its failures are edgesim's bugs); it never
    replaces a converter already registered for ``target``."""
    _CONVERTERS.setdefault(target, Registered(fn, builtin=True))


def module_converter(cls: type) -> Registered | None:
    """The converter of a module class: the nearest registered class in its MRO."""
    for base in cls.__mro__:
        if base in _CONVERTERS:
            return _CONVERTERS[base]
    return None


def target_converter(target: object) -> Registered | None:
    """The converter of a function or method name, if any."""
    return _CONVERTERS.get(target)
