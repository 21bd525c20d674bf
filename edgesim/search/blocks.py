"""``block_scaling`` (LegoDNN): a model cut into blocks, each scaled to one of its descendants."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from edgesim.errors import SearchError
from edgesim.search.model import ModelSource
from edgesim.search.problem import Decoded, Gene, Genome, ProblemKind, SearchProblem, digest
from edgesim.search.pruning import DEFAULT_RATIOS, ChannelPruning, n_pruned
from edgesim.vocab import WEIGHTED_OPS, OpKind
from edgesim.workload.channels import ChannelGraph, ChannelGroup
from edgesim.workload.ir import Workload

if TYPE_CHECKING:
    from torch import nn

# How a descendant's cost is profiled: "alone" (the block as a model of its own, as LegoDNN
# profiles blocks on the device; a model's cost is the sum of its blocks' and of the runs of
# layers between them) or "in_place" (the whole model with only that block scaled; a model's
# cost adds each block's change). Accuracy is always profiled in place.
PROFILES = ("alone", "in_place")


@dataclass(frozen=True)
class Block:
    """Consecutive layers scaled as one: the channel groups that live entirely inside them."""

    name: str
    layers: tuple[str, ...]
    groups: tuple[str, ...]  # names of the channel groups internal to the block


def _touched(graph: ChannelGraph) -> dict[str, set[str]]:
    """Group name -> the layers that produce, carry or read its channels."""
    spaces = {g.name: set(graph.group_spaces[i]) for i, g in enumerate(graph.groups)}
    out: dict[str, set[str]] = {name: set() for name in spaces}
    for layer in graph.workload.layers:
        own = set(graph.out_layout[layer.name])
        for lay in graph.in_layout[layer.name]:
            own.update(lay or ())
        for name, s in spaces.items():
            if own & s:
                out[name].add(layer.name)
    return out


def _internal(layers: Sequence[str], groups: Sequence[ChannelGroup],
              touched: Mapping[str, set[str]]) -> tuple[str, ...]:
    inside = set(layers)
    return tuple(g.name for g in groups if touched[g.name] and touched[g.name] <= inside)


def _prefix(names: Sequence[str]) -> str:
    parts = [n.split(".") for n in names]
    common = os.path.commonprefix(parts) if parts else []
    return ".".join(common)


def _name_parts(name: str) -> list[str]:
    return name.split(".")


def auto_blocks(wl: Workload, graph: ChannelGraph,
                groups: Sequence[ChannelGroup]) -> tuple[Block, ...]:
    """Blocks from the model's module hierarchy: a channel group whose weighted layers (those
    that create, carry or read it) all lie in one submodule belongs to that submodule (a
    residual block, an inverted residual); consecutive such blocks of one output shape, with no
    weighted layer between them from outside their common parent (a projection shortcut is
    inside it), form one block (a ResNet stage, a MobileNet-v2 group).
    A group owned by a module that contains other owners flows between that module's children
    and belongs to no block. A model whose layer names carry no hierarchy has no automatic
    blocks."""
    touched = _touched(graph)
    owner: dict[str, list[str]] = {}  # submodule -> its groups, in order
    for g in groups:
        weighted = sorted(n for n in touched[g.name] if wl.layer(n).op in WEIGHTED_OPS)
        module = _prefix(weighted)
        if module and "." in weighted[0] and module not in weighted:
            owner.setdefault(module, []).append(g.name)
    # a group owned by a container of other owners flows between its children (a stream
    # through a Sequential of blocks): not any one block's own
    containers = {m for m in owner for other in owner
                  if other != m and other.startswith(m + ".")}
    units = []  # (first index, last index, module, groups)
    for module, names in owner.items():
        if module in containers:
            continue
        idx = sorted(wl.index_of(n) for g in names for n in touched[g])
        units.append((idx[0], idx[-1], module, names))
    units.sort()
    weighted_at = [i for i, la in enumerate(wl.layers) if la.op in WEIGHTED_OPS]
    stages: list[list[tuple[int, int, str, list[str]]]] = []
    for unit in units:
        if stages:
            prev = stages[-1][-1]
            stage = _prefix([prev[2], unit[2]])
            apart = [i for i in weighted_at if prev[1] < i < unit[0]
                     and not (stage and wl.layers[i].name.startswith(stage + "."))]
            same = wl.layers[prev[1]].out_shape == wl.layers[unit[1]].out_shape
            if unit[0] <= prev[1] or (same and not apart):
                stages[-1].append(unit)
                continue
        stages.append([unit])
    names = [_prefix([u[2] for u in st]) for st in stages]
    if len(set(names)) != len(names) or not all(names):
        names = []  # a shared prefix (MobileNet-v2: "features"): name by the first and last
        for st in stages:
            first, last = _name_parts(st[0][2]), _name_parts(st[-1][2])
            k = len(os.path.commonprefix([first, last]))
            names.append(".".join(first[:k + 1]) if len(st) == 1 or k >= len(last)
                         else f"{'.'.join(first[:k + 1])}-{last[k]}")
    if len(set(names)) != len(names) or not all(names):
        names = [f"block{i}" for i in range(len(stages))]
    blocks = []
    for name, st in zip(names, stages, strict=True):
        lo, hi = st[0][0], max(u[1] for u in st)
        layers = tuple(la.name for la in wl.layers[lo:hi + 1])
        blocks.append(Block(name, layers, _internal(layers, groups, touched)))
    return tuple(blocks)


def listed_blocks(wl: Workload, graph: ChannelGraph, groups: Sequence[ChannelGroup],
                  spec: object) -> tuple[Block, ...]:
    """Blocks named by the user: ``{name: [layer, ...]}`` or ``[[layer, ...], ...]``."""
    if isinstance(spec, Mapping):
        items = [(str(k), v) for k, v in spec.items()]
    elif isinstance(spec, list | tuple):
        items = [(f"block{i}", v) for i, v in enumerate(spec)]
    else:
        raise SearchError(f"expected auto, a list of layer-name lists or a mapping of block "
                          f"names to layer names, got {spec!r}", field="space.blocks")
    if not items:
        raise SearchError("no blocks listed", field="space.blocks")
    touched = _touched(graph)
    seen: dict[str, str] = {}
    blocks = []
    for name, layers in items:
        where = f"space.blocks.{name}"
        if not isinstance(layers, list | tuple) or not layers:
            raise SearchError("expected a list of layer names", field=where)
        known = {la.name for la in wl.layers}
        for la in layers:
            if not isinstance(la, str) or la not in known:
                raise SearchError(f"no layer named {la!r} in model {wl.name!r}", field=where)
            if la in seen:
                raise SearchError(f"layer {la!r} is already in block {seen[la]!r}", field=where)
            seen[la] = name
        idx = sorted(wl.index_of(la) for la in layers)
        if idx[-1] - idx[0] + 1 != len(idx):
            gap = next(wl.layers[i].name for i in range(idx[0], idx[-1]) if i not in idx)
            raise SearchError(f"a block is consecutive layers: {gap!r} runs between its first "
                              f"and last layer but is not listed", field=where)
        internal = _internal(layers, groups, touched)
        if not internal:
            raise SearchError(f"block {name!r} has no channel group of its own to prune (every "
                              f"channel it creates is read outside it, or cannot be pruned)",
                              field=where)
        ordered = tuple(sorted(layers, key=wl.index_of))
        blocks.append(Block(name, ordered, internal))
    return tuple(blocks)


def sub_workload(wl: Workload, names: Sequence[str], name: str) -> Workload:
    """The layers ``names`` of ``wl`` as a model of their own: a tensor they read from outside
    becomes a model input (its shape moves behind the inputs produced inside, marked in
    ``fresh_inputs``), and what they hand on becomes a model output."""
    inside = set(names)
    layers = []
    for la in (wl.layer(n) for n in sorted(names, key=wl.index_of)):
        own = [i for i, src in enumerate(la.inputs) if src in inside]
        if len(own) == len(la.inputs):
            layers.append(la)
            continue
        if len(la.inputs) > len(la.in_shapes) or (
                la.op == OpKind.MATMUL and own != list(range(len(own)))):
            raise SearchError(f"layer {la.name!r} reads a tensor from outside its block in a "
                              f"way a block run alone cannot state (an operand order, or more "
                              f"producers than tensors); profile it in place",
                              field="space.profile")
        named = min(len(la.inputs), len(la.in_shapes))
        outer = [i for i in range(named) if i not in own]
        rest = list(range(named, len(la.in_shapes)))  # model inputs and repeated tensors
        order = [*own, *outer, *rest]
        layers.append(replace(la, inputs=tuple(la.inputs[i] for i in own),
                              in_shapes=tuple(la.in_shapes[i] for i in order),
                              fresh_inputs=(*range(len(own), len(own) + len(outer)),
                                            *(len(own) + len(outer) + p - named
                                              for p in la.fresh_inputs))))
    return Workload(name, tuple(layers), wl.batch, wl.source)


class BlockScaling(SearchProblem):
    """One gene per block: which descendant runs (the block's own channel groups pruned at
    one ratio; ratio 0.0 is the original block). A block keeps its input and output widths,
    as LegoDNN's descendants do, so any descendants of different blocks compose.

    Candidates are pruned through :class:`ChannelPruning` (same channels, same fast path,
    same torch path), with every group of a block at the block's ratio.
    """

    kind = ProblemKind.BLOCK_SCALING

    def __init__(self, source: ModelSource, space: Mapping[str, Any]) -> None:
        known = {"blocks", "ratios", "profile"}
        for key in space:
            if key not in known:
                raise SearchError(f"unknown key {key!r} (known: {', '.join(sorted(known))})",
                                  field=f"space.{key}")
        ratios = space.get("ratios", DEFAULT_RATIOS)
        self.profile = str(space.get("profile", "alone"))
        if self.profile not in PROFILES:
            raise SearchError(f"expected one of {', '.join(PROFILES)}, got "
                              f"{space.get('profile')!r}", field="space.profile")
        self.pruning = ChannelPruning(source, {"granularity": "group", "ratios": ratios})
        self.ratios = self.pruning.ratios
        if 0.0 not in self.ratios:
            raise SearchError("block_scaling needs ratio 0.0 (the original block) among the "
                              "ratios: descendants are profiled against the unmodified model",
                              field="space.ratios")
        if len(set(self.ratios)) != len(self.ratios):
            raise SearchError("a ratio is listed twice", field="space.ratios")
        self.source = source
        wl = source.workload
        graph = self.pruning.graph
        spec = space.get("blocks", "auto")
        if spec == "auto":
            self.blocks = auto_blocks(wl, graph, self.pruning.groups)
            if not self.blocks:
                raise SearchError(f"no blocks found in {source.ref!r} (no submodule has a "
                                  f"channel group of its own); list them by layer names",
                                  field="space.blocks")
        else:
            self.blocks = listed_blocks(wl, graph, self.pruning.groups, spec)
        self.zero = self.ratios.index(0.0)
        self.genes = tuple(Gene(f"scale.{b.name}", self.ratios) for b in self.blocks)
        self._group_pos = {g.name: i for i, g in enumerate(self.pruning.groups)}
        self._channels = {g.name: g.channels for g in self.pruning.groups}

    @property
    def baseline_genome(self) -> Genome:
        return tuple(self.zero for _ in self.blocks)

    def profile_genomes(self) -> list[Genome]:
        """The descendants to profile: each block alone at each ratio other than 0.0 (the rest
        of the model unmodified), block by block."""
        out = []
        for b in range(len(self.blocks)):
            for r in range(len(self.ratios)):
                if r != self.zero:
                    g = list(self.baseline_genome)
                    g[b] = r
                    out.append(tuple(g))
        return out

    def segments(self) -> list[tuple[int | None, tuple[str, ...]]]:
        """The whole model cut into consecutive runs of layers: each block (with its index)
        and the runs of layers between blocks (``None``), in execution order."""
        where = {n: i for i, b in enumerate(self.blocks) for n in b.layers}
        out: list[tuple[int | None, list[str]]] = []
        for la in self.source.workload.layers:
            b = where.get(la.name)
            if out and out[-1][0] == b:
                out[-1][1].append(la.name)
            else:
                out.append((b, [la.name]))
        return [(b, tuple(names)) for b, names in out]

    def pruning_genome(self, genome: Genome) -> Genome:
        """The :class:`ChannelPruning` genome of ``genome`` (groups outside blocks whole)."""
        out = [self.pruning.ratios.index(0.0)] * len(self.pruning.groups)
        for block, r in zip(self.blocks, genome, strict=True):
            for name in block.groups:
                out[self._group_pos[name]] = r
        return tuple(out)

    def baseline(self) -> Decoded:
        return Decoded(self.source.workload)

    def decode(self, genome: Genome) -> Decoded:
        return self.pruning.decode(self.pruning_genome(genome))

    def summary(self, genome: Genome | None) -> dict[str, float | str]:
        out: dict[str, float | str] = {}
        for i, block in enumerate(self.blocks):
            ratio = self.ratios[genome[i]] if genome is not None else 0.0
            total = sum(self._channels[g] for g in block.groups)
            kept = sum(self._channels[g] - n_pruned(ratio, self._channels[g])
                       for g in block.groups)
            out[f"keep.{block.name}"] = kept / total
        return out

    def module(self, genome: Genome) -> tuple[nn.Module, tuple[Any, ...]]:
        return self.pruning.module(self.pruning_genome(genome))

    def fingerprint(self) -> str:
        return digest(self.kind.value, self.pruning.fingerprint(), self.profile,
                      [(b.name, b.layers, b.groups) for b in self.blocks])


__all__ = ["PROFILES", "Block", "BlockScaling", "auto_blocks", "listed_blocks", "sub_workload"]
