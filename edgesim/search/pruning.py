"""``channel_pruning``: one keep-bit per filter (TEC's genome) or one ratio per coupled group."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from edgesim.errors import SearchError
from edgesim.search.model import ModelSource
from edgesim.search.problem import Decoded, Gene, Genome, ProblemKind, SearchProblem, digest
from edgesim.vocab import OpKind
from edgesim.workload.channels import (
    ChannelGraph,
    ChannelGroup,
    channel_groups,
    prune_workload,
    zero_counts_of,
)

if TYPE_CHECKING:
    from torch import nn

GRANULARITIES = ("group", "filter")
DEFAULT_RATIOS = (0.0, 0.25, 0.5, 0.75)
_ZERO_COUNTED = (OpKind.CONV2D, OpKind.CONV1D, OpKind.ADDER_CONV2D, OpKind.LINEAR)


def n_pruned(ratio: float, channels: int) -> int:
    """Filters a ratio removes from a group: ``round(ratio * n)``, at least one kept (as
    ``compress.prune_channels``)."""
    return min(channels - 1, int(math.floor(ratio * channels + 0.5)))


class ChannelPruning(SearchProblem):
    """Structured pruning of the coupled channel groups.

    Groups come from the IR's own graph; for a torch model only the groups Torch-Pruning's
    dependency graph couples the same way are searched (both computed once per model), so the
    fast path (``decode``: IR only) and the torch path (``module``) prune the same channels.
    Which channels go: the lowest L1 norm summed over the group's producers (the parent's
    weights; the first ones kept for a model without weights), or the genome's keep-bits.
    """

    kind = ProblemKind.CHANNEL_PRUNING

    def __init__(self, source: ModelSource, space: Mapping[str, Any]) -> None:
        self.source = source
        known = {"granularity", "ratios"}
        for key in space:
            if key not in known:
                raise SearchError(f"unknown key {key!r} (known: {', '.join(sorted(known))})",
                                  field=f"space.{key}")
        self.granularity = str(space.get("granularity", "group"))
        if self.granularity not in GRANULARITIES:
            raise SearchError(f"expected one of {', '.join(GRANULARITIES)}, got "
                              f"{self.granularity!r}", field="space.granularity")
        ratios = space.get("ratios", DEFAULT_RATIOS)
        if self.granularity == "filter" and "ratios" in space:
            raise SearchError("ratios belong to granularity: group", field="space.ratios")
        if (not isinstance(ratios, list | tuple) or not ratios
                or any(isinstance(r, bool) or not isinstance(r, int | float) or not 0 <= r < 1
                       for r in ratios)):
            raise SearchError(f"expected a list of fractions in [0, 1), got {ratios!r}",
                              field="space.ratios")
        self.ratios = tuple(float(r) for r in ratios)
        self.graph: ChannelGraph = channel_groups(source.workload)
        self.zero_counts: dict[str, np.ndarray] = {}
        scores: dict[str, np.ndarray] = {}
        groups = list(self.graph.groups)
        if source.has_module:
            groups = self._torch_groups(groups)
            self.zero_counts, scores = self._from_weights(groups)
        if not groups:
            raise SearchError(f"model {source.ref!r} has no prunable channel group (every "
                              f"channel reaches an output or an op whose layout is fixed)",
                              field="model")
        self.groups: tuple[ChannelGroup, ...] = tuple(groups)
        # positions of each group's channels, least important first
        self.order = {g.name: _drop_order(scores.get(g.name), g.channels) for g in groups}
        if self.granularity == "group":
            self.genes = tuple(Gene(f"keep.{g.name}", self.ratios) for g in groups)
        else:
            self.genes = tuple(Gene(f"{g.name}[{i}]", (0, 1)) for g in groups
                               for i in range(g.channels))
        self._base_genome = (tuple(self.ratios.index(0.0) if 0.0 in self.ratios else 0
                                   for _ in groups)
                             if self.granularity == "group" else tuple(1 for _ in self.genes))

    # ---- set-up (once per model) -------------------------------------------------------------
    def _torch_groups(self, groups: list[ChannelGroup]) -> list[ChannelGroup]:
        from edgesim.compress.structured import pruning_groups

        module, inputs = self.source.module()
        wl = self.source.workload
        depthwise = {la.name for la in wl.layers if la.groups > 1
                     and la.groups == la.in_channels == la.out_channels}
        tp = {frozenset(p for p in producers if p not in depthwise)
              for producers, _, channel_groups_ in pruning_groups(module, inputs)
              if channel_groups_ == 1}
        return [g for g in groups if frozenset(g.producers) in tp]

    def _from_weights(self, groups: list[ChannelGroup]
                      ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        module, _ = self.source.module()
        mods = dict(module.named_modules())
        zeros: dict[str, np.ndarray] = {}
        for layer in self.source.workload.layers:
            mod = mods.get(layer.name)
            weight = getattr(mod, "weight", None)
            if layer.op in _ZERO_COUNTED and weight is not None:
                z = zero_counts_of(weight.detach().cpu().numpy())
                if z is not None:
                    zeros[layer.name] = z
        scores: dict[str, np.ndarray] = {}
        for g in groups:
            total = np.zeros(g.channels, dtype=np.float64)
            for name in g.producers:
                w = mods[name].weight.detach().cpu().double().numpy()
                total += np.abs(w.reshape(w.shape[0], -1)).sum(axis=1)
            scores[g.name] = total
        return zeros, scores

    # ---- genome -> candidate ------------------------------------------------------------------
    def baseline(self) -> Decoded:
        return Decoded(self.source.workload)

    def kept(self, genome: Genome) -> dict[str, np.ndarray]:
        """Kept channel positions (sorted) of each pruned group (whole groups are left out)."""
        out: dict[str, np.ndarray] = {}
        if self.granularity == "group":
            for g, idx in zip(self.groups, genome, strict=True):
                k = n_pruned(self.ratios[idx], g.channels)
                if k:
                    out[g.name] = np.sort(self.order[g.name][k:])
            return out
        bits = np.asarray(genome, dtype=np.int8)
        pos = 0
        for g in self.groups:
            part = bits[pos:pos + g.channels]
            pos += g.channels
            if part.all():
                continue
            keep = np.flatnonzero(part)
            # at least one filter stays: the most important
            out[g.name] = keep if keep.size else self.order[g.name][-1:]
        return out

    def decode(self, genome: Genome) -> Decoded:
        kept = self.kept(genome)
        if not kept:
            return Decoded(self.source.workload)
        return Decoded(prune_workload(self.graph, kept, self.zero_counts))

    def summary(self, genome: Genome | None) -> dict[str, float | str]:
        kept = self.kept(genome) if genome is not None else {}
        return {f"keep.{g.name}": len(kept[g.name]) / g.channels if g.name in kept else 1.0
                for g in self.groups}

    def module(self, genome: Genome) -> tuple[nn.Module, tuple[Any, ...]]:
        from edgesim.compress.structured import prune_channels

        module, inputs = self.source.module()
        kept = self.kept(genome)
        if not kept:
            import copy

            return copy.deepcopy(module), inputs
        masks = {}
        for g in self.groups:
            if g.name in kept:
                mask = np.zeros(g.channels, dtype=np.int64)
                mask[kept[g.name]] = 1
                masks[g.name] = mask.tolist()
        return prune_channels(module, inputs, ratio=masks), inputs

    def fingerprint(self) -> str:
        return digest(self.kind.value, self.source.fingerprint(), self.granularity, self.ratios)

    @property
    def baseline_genome(self) -> Genome:
        return self._base_genome


def _drop_order(scores: np.ndarray | None, channels: int) -> np.ndarray:
    """Channel positions, least important first (ties: lower index first); without scores,
    the last channels go first (the first ones are kept)."""
    if scores is None:
        return np.arange(channels - 1, -1, -1)
    return np.argsort(scores, kind="stable")


__all__ = ["DEFAULT_RATIOS", "GRANULARITIES", "ChannelPruning", "n_pruned"]
