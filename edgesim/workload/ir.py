"""The workload IR: a DAG of layers (``Layer``) in execution order (``Workload``)."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path

from edgesim.errors import WorkloadError
from edgesim.vocab import Precision
from edgesim.workload.layer import Layer, Shape
from edgesim.workload.yaml_write import write_workload_yaml

__all__ = ["Layer", "Shape", "Workload"]


@dataclass(frozen=True)
class Workload:
    """A DAG of layers in execution (topological) order."""

    name: str
    layers: tuple[Layer, ...]
    batch: int = 1
    source: str = ""  # where it came from: "zoo", a file path, "torch.fx"
    _index: dict[str, int] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not self.layers:
            raise WorkloadError("a workload needs at least one layer", file=self.source or None,
                                field="layers")
        index: dict[str, int] = {}
        for i, layer in enumerate(self.layers):
            if layer.name in index:
                raise WorkloadError(f"duplicate layer name {layer.name!r}",
                                    file=self.source or None, field=f"layers[{i}].name")
            for src in layer.inputs:
                if src not in index:
                    raise WorkloadError(
                        f"unknown input layer {src!r} (inputs must name earlier layers)",
                        file=self.source or None, field=f"layers[{i}].inputs")
            index[layer.name] = i
        object.__setattr__(self, "_index", index)

    def __iter__(self) -> Iterator[Layer]:
        return iter(self.layers)

    def __len__(self) -> int:
        return len(self.layers)

    def layer(self, name: str) -> Layer:
        try:
            return self.layers[self._index[name]]
        except KeyError:
            raise WorkloadError(f"no layer named {name!r} in workload {self.name!r}") from None

    def index_of(self, name: str) -> int:
        return self._index[name]

    def consumers(self, name: str) -> list[str]:
        return [lay.name for lay in self.layers if name in lay.inputs]

    @cached_property
    def macs(self) -> int:
        return sum(lay.macs for lay in self.layers)

    @cached_property
    def adds(self) -> int:
        return sum(lay.adds for lay in self.layers)

    @cached_property
    def params(self) -> int:
        return sum(lay.params for lay in self.layers)

    def weight_bytes(self, native: str = Precision.INT8) -> int:
        """Dense weight storage in bytes with unspecified precisions resolved to ``native``."""
        total_bits = sum(lay.params * lay.bits(native)[0] for lay in self.layers)
        return math.ceil(total_bits / 8)

    def sha256(self) -> str:
        """Content hash of the workload as the IR holds it: name, batch and every layer's
        fields (``provenance.canonical_sha256``)."""
        import dataclasses

        from edgesim.provenance import canonical_sha256

        return canonical_sha256({"name": self.name, "batch": self.batch,
                                 "layers": [dataclasses.asdict(lay) for lay in self.layers]})

    def with_layers(self, layers: Sequence[Layer]) -> Workload:
        return Workload(self.name, tuple(layers), self.batch, self.source)

    def with_batch(self, batch: int) -> Workload:
        """The same graph at another batch size (dimension 0 of every tensor is the batch)."""
        if batch < 1:
            raise WorkloadError(f"batch must be a positive integer, got {batch}", field="batch")
        if batch == self.batch:
            return self

        def rescale(shape: Shape) -> Shape:
            if not shape:
                return shape
            if shape[0] % self.batch:
                raise WorkloadError(f"shape {shape} does not carry batch {self.batch} in dim 0")
            return (shape[0] // self.batch * batch, *shape[1:])

        layers = [replace(lay, in_shapes=tuple(rescale(s) for s in lay.in_shapes),
                          out_shape=rescale(lay.out_shape)) for lay in self.layers]
        return Workload(self.name, tuple(layers), batch, self.source)

    def to_yaml(self, path: str | Path, form: str = "layers") -> None:
        """Write the layer-list (``form="layers"``) or graph YAML that ``load_workload`` reads."""
        write_workload_yaml(self, Path(path), form=form)
