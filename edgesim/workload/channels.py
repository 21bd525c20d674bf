"""Channel groups of a workload graph (coupled output channels) and channel pruning on the IR.

A *space* is a run of channels created by one producer (a conv, linear, transposed conv or adder
layer). Channels flow through the graph: elementwise ops, pooling, norms and depthwise convs pass a
tensor's spaces through, a concatenation joins them, a residual add or multiply couples the spaces
it adds (they must be pruned together), and a flatten feeds a linear layer ``H * W`` inputs per
channel. A *group* is a set of coupled spaces: the unit of structured pruning (Torch-Pruning's
dependency groups, read off the IR's own graph). Spaces that reach a model output, feed an op whose
channel layout the IR cannot follow (attention, a channel slice, a grouped convolution), or come
from a model input are frozen.

``channel_groups(wl)`` is computed once per model; ``prune_workload(wl, groups, kept)`` is a pure
transform that returns the workload with fewer channels, as tracing the pruned torch module would.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from edgesim.errors import WorkloadError
from edgesim.vocab import OpKind
from edgesim.workload.ir import Workload
from edgesim.workload.layer import Layer, Shape, with_weights

_OWN_SPACE = frozenset({OpKind.CONV2D, OpKind.CONV1D, OpKind.ADDER_CONV2D, OpKind.LINEAR,
                        OpKind.CONV_TRANSPOSE2D})
_PASS = frozenset({OpKind.RELU, OpKind.ACTIVATION, OpKind.POOL2D, OpKind.BATCHNORM,
                   OpKind.UPSAMPLE})
_JOIN = frozenset({OpKind.ADD, OpKind.MUL})

Layout = tuple[int, ...]  # the spaces of a tensor's channel dimension, in order


@dataclass(frozen=True)
class ChannelGroup:
    """Coupled output channels: the producers that create them are pruned together.

    ``name`` is the first producer's name (the key of a genome and of ``keep.<name>`` columns).
    """

    name: str
    producers: tuple[str, ...]
    channels: int


@dataclass(frozen=True)
class ChannelGraph:
    """The channel layout of every layer of one workload, and its prunable groups."""

    workload: Workload
    groups: tuple[ChannelGroup, ...]
    space_group: Mapping[int, int]  # space -> index into groups (-1: frozen)
    space_size: Mapping[int, int]
    out_layout: Mapping[str, Layout]  # layer -> spaces of its output channel dimension
    in_layout: Mapping[str, tuple[Layout | None, ...]]  # layer -> per input (None: untouched)
    in_mult: Mapping[str, tuple[int, ...]]  # layer -> per input: elements per channel (flatten)
    in_dim: Mapping[str, tuple[int, ...]]  # layer -> per input: the dimension holding channels
    out_dim: Mapping[str, int]  # layer -> the dimension of its output holding channels

    @cached_property
    def group_index(self) -> dict[str, int]:
        """Group name -> index into ``groups``."""
        return {g.name: i for i, g in enumerate(self.groups)}

    @cached_property
    def group_spaces(self) -> list[tuple[int, ...]]:
        """The spaces of each group (index as ``groups``)."""
        out: list[list[int]] = [[] for _ in self.groups]
        for s, gi in self.space_group.items():
            if gi >= 0:
                out[gi].append(s)
        return [tuple(x) for x in out]

    def group(self, name: str) -> ChannelGroup:
        for g in self.groups:
            if g.name == name:
                return g
        raise WorkloadError(f"no prunable channel group named {name!r}", field="space")


class _UnionFind:
    def __init__(self) -> None:
        self.parent: list[int] = []

    def add(self) -> int:
        self.parent.append(len(self.parent))
        return len(self.parent) - 1

    def find(self, a: int) -> int:
        while self.parent[a] != a:
            self.parent[a] = self.parent[self.parent[a]]
            a = self.parent[a]
        return a

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _per_channel_norm(layer: Layer) -> bool:
    """An instance norm: traced as a layernorm, but it normalises each channel over its own
    positions, so channels pass through it as through a BatchNorm."""
    return layer.op == OpKind.LAYERNORM and layer.variant.startswith("instancenorm")


def _channel_dim(layer: Layer) -> int:
    """The dimension of the layer's output that holds channels (features for token tensors)."""
    if layer.op == OpKind.LINEAR or (layer.op == OpKind.LAYERNORM
                                     and not _per_channel_norm(layer)):
        return len(layer.out_shape) - 1
    return 1 if len(layer.out_shape) > 1 else 0


def _is_depthwise(layer: Layer) -> bool:
    return (layer.op in (OpKind.CONV2D, OpKind.CONV1D, OpKind.ADDER_CONV2D) and layer.groups > 1
            and layer.groups == layer.in_channels == layer.out_channels)


def channel_groups(wl: Workload) -> ChannelGraph:
    """Find the coupled channel groups of ``wl`` (pure; computed once per model)."""
    uf = _UnionFind()
    size: list[int] = []
    frozen: set[int] = set()
    creator: dict[int, str] = {}
    out_layout: dict[str, Layout] = {}
    in_layout: dict[str, tuple[Layout | None, ...]] = {}
    in_mult: dict[str, tuple[int, ...]] = {}
    in_dim: dict[str, tuple[int, ...]] = {}
    cdim: dict[str, int] = {}

    def new_space(n: int, owner: str | None) -> int:
        s = uf.add()
        size.append(n)
        if owner is None:
            frozen.add(s)
        else:
            creator[s] = owner
        return s

    def freeze(layout: Layout | None) -> None:
        frozen.update(layout or ())

    for layer in wl.layers:
        ins: list[Layout | None] = []
        mults: list[int] = []
        dims: list[int] = []
        for i, src in enumerate(layer.inputs):
            prod = wl.layer(src)
            lay = out_layout[prod.name]
            shape = layer.in_shapes[i] if i < len(layer.in_shapes) else prod.out_shape
            total = sum(size[s] for s in lay)
            dims.append(cdim[prod.name])
            if shape == prod.out_shape:
                ins.append(lay)
                mults.append(1)
            elif (len(shape) == 2 and cdim[prod.name] == 1 and len(prod.out_shape) > 2
                  and shape[0] == prod.out_shape[0] and shape[1] == math.prod(prod.out_shape[1:])):
                ins.append(lay)  # flatten: C * H * W features, H * W per channel
                mults.append(math.prod(prod.out_shape[2:]))
                dims[-1] = 1
            elif (layer.op in _OWN_SPACE and len(shape) == len(prod.out_shape) > 2
                  and cdim[prod.name] == 1 and shape[:2] == prod.out_shape[:2]
                  and all(a >= b for a, b in zip(shape[2:], prod.out_shape[2:], strict=True))):
                ins.append(lay)  # a padding the consumer absorbed: the same channels, wider
                mults.append(1)
            elif (len(shape) == len(prod.out_shape) and shape[cdim[prod.name]] == total
                  and layer.op in _JOIN):
                ins.append(lay)  # a broadcast operand (e.g. a squeeze-excite scale)
                mults.append(1)
            else:  # a view the IR cannot follow (slice, reshape into heads...)
                freeze(lay)
                ins.append(None)
                mults.append(0)
        for _ in range(len(layer.inputs), len(layer.in_shapes)):
            ins.append(None)  # a fresh model input
            mults.append(0)
            dims.append(0)
        in_layout[layer.name] = tuple(ins)
        in_mult[layer.name] = tuple(mults)
        in_dim[layer.name] = tuple(dims)
        first = ins[0] if ins else None
        inherits = (layer.op in _PASS or layer.op in _JOIN or _is_depthwise(layer))
        cdim[layer.name] = (dims[0] if inherits and first is not None
                            and len(layer.in_shapes[0]) == len(layer.out_shape)
                            else _channel_dim(layer))
        out_c = layer.out_shape[cdim[layer.name]] if layer.out_shape else 1
        if layer.op in _OWN_SPACE and not _is_depthwise(layer):
            if layer.groups > 1 or (layer.op == OpKind.LINEAR and first is not None
                                    and dims[0] != len(layer.in_shapes[0]) - 1):
                freeze(first)  # grouped conv, or a linear over a non-channel dimension
                out_layout[layer.name] = (new_space(out_c, None),)
            else:
                out_layout[layer.name] = (new_space(out_c, layer.name),)
        elif layer.op in _PASS or _is_depthwise(layer) or layer.op == OpKind.LAYERNORM:
            if first is None or len(layer.inputs) != 1:
                out_layout[layer.name] = (new_space(out_c, None),)
            else:
                out_layout[layer.name] = first
                if layer.op == OpKind.LAYERNORM and not _per_channel_norm(layer):
                    freeze(first)  # normalising over pruned features: not mirrored here
        elif layer.op in _JOIN and ins and all(x is not None for x in ins):
            layouts = [x for x in ins if x is not None]
            ref = layouts[0]
            if all(len(x) == len(ref) and all(size[a] == size[b] for a, b in zip(x, ref,
                                                                                  strict=True))
                   for x in layouts):
                for x in layouts[1:]:
                    for a, b in zip(x, ref, strict=True):
                        uf.union(a, b)
                out_layout[layer.name] = ref
            else:
                for x in layouts:
                    freeze(x)
                out_layout[layer.name] = (new_space(out_c, None),)
        elif (layer.op == OpKind.CONCAT and ins and all(x is not None for x in ins)
              and len(layer.out_shape) > 1
              and sum(s[1] for s in layer.in_shapes) == layer.out_shape[1]
              and all(cdim[src] == 1 for src in layer.inputs)):
            out_layout[layer.name] = tuple(s for x in ins if x is not None for s in x)
        else:  # matmul, softmax, concat along another dimension, unknown joins
            for lay_in in ins:
                freeze(lay_in)
            out_layout[layer.name] = (new_space(out_c, None),)
        if layer.out_shape and out_c != sum(size[s] for s in out_layout[layer.name]):
            # the layout does not explain the output width: keep everything here whole
            for lay_in in ins:
                freeze(lay_in)
            freeze(out_layout[layer.name])
            out_layout[layer.name] = (new_space(out_c, None),)

    consumed = {src for layer in wl.layers for src in layer.inputs}
    for layer in wl.layers:
        if layer.name not in consumed:  # a model output keeps its channels
            freeze(out_layout[layer.name])
    # the last weighted layer executed is never pruned (as compress.prune_channels)
    weighted = [la for la in wl.layers if la.op in _OWN_SPACE]
    if weighted:
        freeze(out_layout[weighted[-1].name])

    roots: dict[int, list[int]] = {}
    for s in range(len(size)):
        roots.setdefault(uf.find(s), []).append(s)
    frozen_roots = {uf.find(s) for s in frozen}
    groups: list[ChannelGroup] = []
    space_group: dict[int, int] = {}
    for root in sorted(roots, key=lambda r: min(roots[r])):
        members = roots[root]
        if root in frozen_roots or not any(s in creator for s in members):
            space_group.update({s: -1 for s in members})
            continue
        producers = tuple(creator[s] for s in sorted(members) if s in creator)
        space_group.update({s: len(groups) for s in members})
        groups.append(ChannelGroup(producers[0], producers, size[members[0]]))
    return ChannelGraph(wl, tuple(groups), space_group, dict(enumerate(size)), out_layout,
                        in_layout, in_mult, in_dim, cdim)


Kept = Mapping[str, "int | Sequence[int] | np.ndarray"]


def prune_workload(graph: ChannelGraph, kept: Kept,
                   zero_counts: Mapping[str, np.ndarray] | None = None) -> Workload:
    """The workload with fewer channels in the named groups (the others whole).

    Args:
        graph: :func:`channel_groups` of the workload.
        kept: ``{group name: n}`` keeps the first ``n`` channels, ``{group name: positions}``
            keeps those (sorted, distinct, in ``range(channels)``).
        zero_counts: ``{layer: counts}``, the exactly-zero weights of a layer per (output
            filter, input channel) pair (kernel positions summed); with it a pruned layer's
            ``weight_sparsity`` is the exact fraction of zeros among the weights it keeps, as
            measuring the pruned weights would give. Without it the fraction is kept.

    Every shape that carries a pruned group's channels shrinks: producers' outputs and weights,
    consumers' inputs and weights (a flatten's ``H * W`` per channel), depthwise groups.
    """
    wl = graph.workload
    keep_of: dict[int, tuple[int, ...]] = {}
    by_name = graph.group_index
    for name, value in kept.items():
        if name not in by_name:
            graph.group(name)  # raises, naming it
        gi = by_name[name]
        pos = _positions(graph.groups[gi], value)
        keep_of.update(dict.fromkeys(graph.group_spaces[gi], pos))

    def idx(layout: Layout) -> list[int]:
        """Kept channel indices of a tensor with this layout."""
        out: list[int] = []
        offset = 0
        for s in layout:
            full = graph.space_size[s]
            out += [offset + i for i in keep_of.get(s, range(full))]
            offset += full
        return out

    def width(layout: Layout) -> int:
        return sum(len(keep_of[s]) if s in keep_of else graph.space_size[s] for s in layout)

    layers: list[Layer] = []
    for layer in wl.layers:
        out_lay = graph.out_layout[layer.name]
        new_out = width(out_lay)
        old_out = sum(graph.space_size[s] for s in out_lay)
        ins = graph.in_layout[layer.name]
        mults = graph.in_mult[layer.name]
        in_shapes: list[Shape] = []
        for i, shape in enumerate(layer.in_shapes):
            lay = ins[i] if i < len(ins) else None
            if lay is None:
                in_shapes.append(shape)
                continue
            new = width(lay) * mults[i]
            in_shapes.append(_with_dim(shape, graph.in_dim[layer.name][i], new))
        if new_out == old_out and in_shapes == list(layer.in_shapes):
            layers.append(layer)
            continue
        out_shape = _with_dim(layer.out_shape, graph.out_dim[layer.name], new_out)
        new_layer = _reshaped(layer, tuple(in_shapes), out_shape)
        zc = zero_counts.get(layer.name) if zero_counts else None
        if zc is not None and new_layer.weight_elems:
            rows = idx(out_lay) if new_out != old_out else list(range(zc.shape[0]))
            first = ins[0] if ins else None
            if _is_depthwise(layer) or first is None or zc.shape[1] == 1:
                cols = list(range(zc.shape[1]))
            else:
                m = mults[0]
                cols = [c * m + p for c in idx(first) for p in range(m)]
            zeros = int(zc[np.ix_(rows, cols)].sum())
            if zeros >= new_layer.weight_elems:  # as tracing the pruned module reports it
                raise WorkloadError("every weight is zero; remove the layer instead of "
                                    "zeroing it", field=f"{layer.name}.weight")
            new_layer = with_weights(new_layer, sparsity=zeros / new_layer.weight_elems
                                     if zeros else 0.0)
        layers.append(new_layer)
    return wl.with_layers(layers)


def _positions(group: ChannelGroup, value: int | Sequence[int] | np.ndarray) -> tuple[int, ...]:
    field = f"keep.{group.name}"
    if isinstance(value, bool):
        raise WorkloadError(f"expected a count or positions, got {value!r}", field=field)
    if isinstance(value, int | np.integer):
        n = int(value)
        if not 1 <= n <= group.channels:
            raise WorkloadError(f"group {group.name!r} has {group.channels} channels; cannot "
                                f"keep {n}", field=field)
        return tuple(range(n))
    arr = np.asarray(value, dtype=np.int64)
    pos = tuple(arr.tolist())
    if (arr.ndim != 1 or not pos or pos[0] < 0 or pos[-1] >= group.channels
            or not bool(np.all(arr[1:] > arr[:-1]))):
        raise WorkloadError(f"expected sorted distinct channel positions in "
                            f"range({group.channels}), at least one", field=field)
    return pos


def zero_counts_of(weight: np.ndarray) -> np.ndarray | None:
    """Exactly-zero weights per (output filter, input channel) of a conv (K, C/g, R, S) or
    linear (out, in) weight; ``None`` when it has none."""
    w = np.asarray(weight)
    if not np.any(w == 0):
        return None
    z = (w == 0).reshape(w.shape[0], w.shape[1], -1).sum(axis=2)
    return z.astype(np.int64)


def _with_dim(shape: Shape, dim: int, value: int) -> Shape:
    if not shape:
        return shape
    return (*shape[:dim], value, *shape[dim + 1:])


def _reshaped(layer: Layer, in_shapes: tuple[Shape, ...], out_shape: Shape) -> Layer:
    """``layer`` with new shapes, its weights and groups following them."""
    w = layer.weight_shape
    groups = layer.groups
    if layer.op in (OpKind.CONV2D, OpKind.CONV1D, OpKind.ADDER_CONV2D) and w:
        c_in = in_shapes[0][1]
        if _is_depthwise(layer):
            groups = c_in
            w = (out_shape[1], 1, *w[2:])
        else:
            w = (out_shape[1], c_in // groups, *w[2:])
    elif layer.op == OpKind.CONV_TRANSPOSE2D and w:
        w = (in_shapes[0][1], out_shape[1] // groups, *w[2:])
    elif layer.op == OpKind.LINEAR and w:
        w = (out_shape[-1], in_shapes[0][-1])
    elif layer.op in (OpKind.BATCHNORM, OpKind.LAYERNORM) and w:
        w = (out_shape[1] if layer.op == OpKind.BATCHNORM or _per_channel_norm(layer)
             else out_shape[-1],)
    # The op, precisions and names are unchanged (already validated): copy the fields instead of
    # dataclasses.replace, which re-runs validation (a search reshapes ~50 layers a candidate).
    new = object.__new__(Layer)
    new.__dict__.update(layer.__dict__, in_shapes=in_shapes, out_shape=out_shape,
                        weight_shape=w, groups=groups)
    return new


__all__ = ["ChannelGraph", "ChannelGroup", "channel_groups", "prune_workload", "zero_counts_of"]
