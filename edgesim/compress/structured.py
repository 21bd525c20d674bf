"""Structured (filter / channel) pruning on Torch-Pruning's dependency graph: a smaller dense model."""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch_pruning as tp
from torch import nn

from edgesim.compress._common import (
    check_fraction,
    check_model,
    restore_training_flags,
    training_flags,
    weight_of,
)
from edgesim.errors import CompressError
from edgesim.nn.adder import AdderConv2d

Importance = str | Callable[[nn.Module, str], torch.Tensor]
Ratio = float | Mapping[str, float] | Mapping[str, Sequence[int]]
IMPORTANCES = ("l1", "l2", "bn_scale", "random")
_ROOT_TYPES = (nn.Conv1d, nn.Conv2d, nn.Linear, AdderConv2d)


class _AdderPruner(tp.pruner.function.BasePruningFunc):
    """Torch-Pruning handler of :class:`AdderConv2d` (weights laid out as a conv's)."""

    TARGET_MODULES = AdderConv2d

    def prune_out_channels(self, layer: Any, idxs: Sequence[int]) -> nn.Module:
        keep = sorted(set(range(layer.out_channels)) - set(idxs))
        layer.out_channels -= len(idxs)
        layer.weight = self._prune_parameter_and_grad(layer.weight, keep, 0)
        if layer.bias is not None:
            layer.bias = self._prune_parameter_and_grad(layer.bias, keep, 0)
        return layer

    def prune_in_channels(self, layer: Any, idxs: Sequence[int]) -> nn.Module:
        keep = sorted(set(range(layer.in_channels)) - set(idxs))
        layer.in_channels -= len(idxs)
        if layer.groups > 1:
            keep = keep[:len(keep) // layer.groups]
        layer.weight = self._prune_parameter_and_grad(layer.weight, keep, 1)
        return layer

    def get_out_channels(self, layer: Any) -> int:
        return int(layer.out_channels)

    def get_in_channels(self, layer: Any) -> int:
        return int(layer.in_channels)

    def get_in_channel_groups(self, layer: Any) -> int:
        return int(layer.groups)

    def get_out_channel_groups(self, layer: Any) -> int:
        return int(layer.groups)


@dataclass
class _Group:
    """One set of coupled output channels: the layers that produce them and their BNs."""

    producers: list[tuple[str, nn.Module, list[int]]]  # (name, layer, channel idxs in its space)
    norms: list[tuple[nn.Module, list[int]]]  # batch norms on these channels
    channel_groups: int  # >1 when a grouped (non-depthwise) conv forces per-group symmetry


def _as_inputs(example_inputs: Any) -> tuple[Any, ...]:
    return tuple(example_inputs) if isinstance(example_inputs, tuple | list) \
        else (example_inputs,)


def _output_layers(model: nn.Module, example_inputs: Any) -> set[nn.Module]:
    """Layers whose output channels reach the model output (never pruned).

    The last conv/linear layer executed, plus any whose output tensor is a model output.
    """
    order: list[nn.Module] = []
    outs: dict[int, nn.Module] = {}

    def hook(mod: nn.Module, _inp: Any, out: Any) -> None:
        order.append(mod)
        if isinstance(out, torch.Tensor):
            outs[id(out)] = mod

    handles = [m.register_forward_hook(hook) for m in model.modules()
               if isinstance(m, _ROOT_TYPES + (nn.ConvTranspose2d,))]
    try:
        with torch.no_grad():
            result = model(*_as_inputs(example_inputs))
    finally:
        for h in handles:
            h.remove()
    found = {order[-1]} if order else set()
    results = result if isinstance(result, tuple | list) else [result]
    for r in results:
        if isinstance(r, torch.Tensor) and id(r) in outs:
            found.add(outs[id(r)])
    return found


def _filter_scores(module: nn.Module, idxs: list[int], kind: str) -> torch.Tensor:
    w = weight_of(module).detach()
    if isinstance(module, nn.ConvTranspose2d):
        w = w.transpose(0, 1)
    rows = w.reshape(w.shape[0], -1)
    per_filter = rows.abs().sum(1, dtype=torch.float64) if kind == "l1" \
        else rows.square().sum(1, dtype=torch.float64).sqrt()
    return per_filter[idxs]


def _scores(group: _Group, importance: Importance, rng: torch.Generator) -> torch.Tensor:
    n = len(group.producers[0][2])
    if callable(importance):
        total = torch.zeros(n, dtype=torch.float64)
        for name, mod, idxs in group.producers:
            s = torch.as_tensor(importance(mod, name)).detach().double().flatten()
            filters = weight_of(mod).shape[0]
            if s.numel() != filters:
                raise CompressError(f"the importance callable returned {s.numel()} scores for "
                                    f"{name!r}, which has {filters} filters",
                                    field="importance")
            total += s[idxs]
        return total
    if importance == "random":
        return torch.rand(n, generator=rng, dtype=torch.float64)
    if importance == "bn_scale" and group.norms:
        total = torch.zeros(n, dtype=torch.float64)
        for bn, idxs in group.norms:
            gamma = getattr(bn, "weight", None)
            if isinstance(gamma, torch.Tensor):
                total += gamma.detach().abs().double()[idxs]
        return total
    kind = "l2" if importance == "l2" else "l1"  # bn_scale without a BN falls back to L1
    return sum((_filter_scores(mod, idxs, kind) for _, mod, idxs in group.producers),
               torch.zeros(n, dtype=torch.float64))


def _describe(dg: tp.DependencyGraph, group: Any, names: dict[nn.Module, str]) -> _Group | None:
    producers: list[tuple[str, nn.Module, list[int]]] = []
    norms: list[tuple[nn.Module, list[int]]] = []
    channel_groups = 1
    n_root = len(group[0].idxs)
    for dep, idxs in group:
        mod = dep.target.module
        idx = [int(i) for i in idxs]
        groups = int(getattr(mod, "groups", 1))
        if isinstance(mod, nn.Conv1d | nn.Conv2d | AdderConv2d) and groups > 1 \
                and not (groups == mod.in_channels == mod.out_channels):
            channel_groups = math.lcm(channel_groups, groups)
        if len(idx) != n_root:
            continue
        if dg.is_out_channel_pruning_fn(dep.handler):
            if isinstance(mod, _ROOT_TYPES + (nn.ConvTranspose2d,)) and mod in names:
                producers.append((names[mod], mod, idx))
            elif isinstance(mod, nn.modules.batchnorm._BatchNorm):
                norms.append((mod, idx))
    if not producers:
        return None
    return _Group(producers, norms, channel_groups)


def _n_prune(ratio: float, channels: int, channel_groups: int) -> int:
    per = channels // channel_groups
    return min(per - 1, int(math.floor(ratio * per + 0.5))) * channel_groups


def _choose(scores: torch.Tensor, n_prune: int, channel_groups: int) -> list[int]:
    """Indices of the ``n_prune`` lowest scores (ties: lower index first), group-symmetric."""
    if n_prune <= 0:
        return []
    per = scores.numel() // channel_groups
    folded = scores.view(channel_groups, per).mean(0)
    order = torch.sort(folded, stable=True).indices[: n_prune // channel_groups]
    return sorted(int(g * per + i) for g in range(channel_groups) for i in order)


def _check_ratio(ratio: object) -> tuple[float | None, dict[str, float], dict[str, list[int]]]:
    if isinstance(ratio, int | float) and not isinstance(ratio, bool):
        return check_fraction(ratio, "ratio"), {}, {}
    if not isinstance(ratio, Mapping):
        raise CompressError(f"expected a ratio in [0, 1), {{layer: ratio}} or {{layer: 0/1 "
                            f"mask}}, got {ratio!r}", field="ratio")
    ratios: dict[str, float] = {}
    masks: dict[str, list[int]] = {}
    for name, value in ratio.items():
        field = f"ratio.{name}"
        if isinstance(value, int | float) and not isinstance(value, bool):
            ratios[str(name)] = check_fraction(value, field)
        elif isinstance(value, Sequence | torch.Tensor) and not isinstance(value, str):
            genes = [int(v) for v in (value.tolist() if isinstance(value, torch.Tensor)
                                      else value)]
            if any(g not in (0, 1) for g in genes):
                raise CompressError("a keep-mask holds only 0 and 1", field=field)
            if not any(genes):
                raise CompressError("a keep-mask must keep at least one filter", field=field)
            masks[str(name)] = genes
        else:
            raise CompressError(f"expected a ratio or a 0/1 keep-mask, got {value!r}",
                                field=field)
    return None, ratios, masks


def prune_channels(model: nn.Module, example_inputs: Any, ratio: Ratio = 0.5,
                   importance: Importance = "l1", seed: int = 0) -> nn.Module:
    """Remove whole filters; return a smaller dense model (the input is not modified).

    Channel dependencies come from Torch-Pruning's dependency graph: a conv's BN and the next
    layer's input channels follow it; residual adds couple their producers (pruned together);
    concatenations, depthwise convs and the linear after a flatten are remapped. The layers that
    produce the model output are never pruned.

    Args:
        model: the model.
        example_inputs: a tensor or tuple of tensors the model runs on.
        ratio: a fraction in ``[0, 1)`` removed from every prunable group; ``{layer: ratio}``
            (unnamed layers are left whole); or ``{layer: [0/1, ...]}`` one keep gene per filter
            of that layer (the evolutionary-search genome). ``round(ratio * n)`` filters go,
            at least one stays. Coupled layers (residual adds) take one ratio or mask: give
            either one of them, or the same value to all.
        importance: ``"l1"`` / ``"l2"`` filter norm (summed over coupled producers),
            ``"bn_scale"`` (|gamma| of the following BNs; L1 where there is none),
            ``"random"`` (seeded), or ``callable(module, name) -> scores`` (one per filter).
        seed: seeds ``"random"``.
    """
    check_model(model)
    uniform, ratios, masks = _check_ratio(ratio)
    if not (callable(importance) or importance in IMPORTANCES):
        raise CompressError(f"expected one of {', '.join(IMPORTANCES)} or a callable, got "
                            f"{importance!r}", field="importance")
    out = copy.deepcopy(model)
    flags = training_flags(out)
    out.eval()  # the dependency trace must not update batch-norm statistics
    try:
        ignored = _output_layers(out, example_inputs)
        names = {mod: name for name, mod in out.named_modules()}
        dg = tp.DependencyGraph().build_dependency(
            out, example_inputs=example_inputs,
            customized_pruners={AdderConv2d: _AdderPruner()}, verbose=False)
    except CompressError:
        raise
    except Exception as exc:  # torch-pruning raises plain errors on graphs it cannot read
        raise CompressError(f"cannot build the channel dependency graph: {exc}",
                            field="model") from exc
    requested = set(ratios) | set(masks)
    known = {names[m] for m in names if isinstance(m, _ROOT_TYPES + (nn.ConvTranspose2d,))}
    for name in sorted(requested):
        if name not in known:
            raise CompressError(f"no conv/linear layer named {name!r}", field=f"ratio.{name}")
        if out.get_submodule(name) in ignored:
            raise CompressError("this layer produces the model output and cannot be pruned",
                                field=f"ratio.{name}")
    seen: set[str] = set()
    rng = torch.Generator().manual_seed(int(seed))
    with torch.no_grad():
        reference = _output_shapes(out(*_as_inputs(example_inputs)))
        for group in dg.get_all_groups(ignored_layers=list(ignored),
                                       root_module_types=list(_ROOT_TYPES)):
            info = _describe(dg, group, names)
            if info is None:
                continue
            if any(mod in ignored for _, mod, _ in info.producers):
                continue
            members = [n for n, _, _ in info.producers]
            seen.update(members)
            idxs = _group_prune_idxs(info, members, uniform, ratios, masks, importance, rng)
            pruning = _checked_group(dg, group, idxs)
            is_mask = any(m in masks for m in members)
            while pruning is None and idxs and not is_mask:
                # Coupling inside the group (e.g. GhostNet's cheap depthwise copy of a primary
                # conv behind a channel slice) can empty a layer: prune fewer, least important
                # first, until every member keeps a channel.
                idxs = _fewer(idxs, info, importance, rng)
                pruning = _checked_group(dg, group, idxs)
            if not idxs:
                continue
            if pruning is None:
                raise CompressError(f"pruning {len(idxs)} channels of {members[0]!r} would "
                                    f"empty a coupled layer", field=f"ratio.{members[0]}")
            pruning.prune()
    for name in sorted(requested - seen):
        raise CompressError("this layer's filters are not prunable here (coupled to the "
                            "model output or an unsupported op)", field=f"ratio.{name}")
    _check_runs(out, example_inputs, reference)
    restore_training_flags(out, flags)
    return out


def _output_shapes(result: Any) -> list[tuple[int, ...]]:
    items = result if isinstance(result, tuple | list) else [result]
    return [tuple(r.shape) for r in items if isinstance(r, torch.Tensor)]


def _check_runs(model: nn.Module, example_inputs: Any, reference: list[tuple[int, ...]]) -> None:
    """Raise :class:`CompressError` unless the pruned model runs and keeps its output shapes."""
    try:
        with torch.no_grad():
            shapes = _output_shapes(model(*_as_inputs(example_inputs)))
    except Exception as exc:  # e.g. an attention reshape that hard-codes the head width
        raise CompressError(f"the pruned model no longer runs ({type(exc).__name__}: {exc}); "
                            f"this architecture needs per-layer ratios that leave the failing "
                            f"layers whole", field="ratio") from exc
    if shapes != reference:
        raise CompressError(f"pruning changed the output shapes {reference} -> {shapes}",
                            field="ratio")


def _checked_group(dg: tp.DependencyGraph, group: Any, idxs: list[int]) -> Any:
    """The pruning group removing ``idxs`` (group positions), or None if it empties a layer."""
    if not idxs:
        return None
    root = group[0].dep.target.module
    root_idxs = [int(group[0].idxs[i]) for i in idxs]
    pruning = dg.get_pruning_group(root, group[0].dep.handler, root_idxs)
    return pruning if dg.check_pruning_group(pruning) else None


def _fewer(idxs: list[int], info: _Group, importance: Importance,
           rng: torch.Generator) -> list[int]:
    """The same choice with one channel (per channel group) less."""
    k = len(idxs) - info.channel_groups
    if k <= 0:
        return []
    return _choose(_scores(info, importance, rng), k, info.channel_groups)


def _group_prune_idxs(info: _Group, members: list[str], uniform: float | None,
                      ratios: dict[str, float], masks: dict[str, list[int]],
                      importance: Importance, rng: torch.Generator) -> list[int]:
    """Positions (in the group's channel order) to prune."""
    n = len(info.producers[0][2])
    named_masks = [(m, masks[m]) for m in members if m in masks]
    named_ratios = [(m, ratios[m]) for m in members if m in ratios]
    if named_masks and named_ratios:
        raise CompressError(f"coupled with {named_ratios[0][0]!r}, which has a ratio; give "
                            f"coupled layers one kind of value", field=f"ratio.{named_masks[0][0]}")
    if named_masks:
        first_name, first = named_masks[0]
        for other, genes in named_masks[1:]:
            if genes != first:
                raise CompressError(f"coupled with {first_name!r} (residual add): the keep-masks "
                                    f"must be equal", field=f"ratio.{other}")
        if len(first) != n:
            raise CompressError(f"expected {n} genes (one per filter), got {len(first)}",
                                field=f"ratio.{first_name}")
        idx_map = dict(zip(members, [p[2] for p in info.producers], strict=True))
        local = idx_map[first_name]
        drop = [pos for pos in range(n) if first[local[pos]] == 0]
        if info.channel_groups > 1:
            per = n // info.channel_groups
            pattern = {p % per for p in drop}
            if sorted(drop) != sorted(g * per + p for g in range(info.channel_groups)
                                      for p in pattern):
                raise CompressError(f"a grouped conv ({info.channel_groups} groups) needs the "
                                    f"same filters dropped in every group", field=f"ratio.{first_name}")
        return drop
    if named_ratios:
        first_name, value = named_ratios[0]
        for other, v in named_ratios[1:]:
            if v != value:
                raise CompressError(f"coupled with {first_name!r} (residual add): the ratios "
                                    f"must be equal", field=f"ratio.{other}")
    elif uniform is not None:
        value = uniform
    else:
        return []
    k = _n_prune(value, n, info.channel_groups)
    if k <= 0:
        return []
    return _choose(_scores(info, importance, rng), k, info.channel_groups)


def pruning_groups(model: nn.Module, example_inputs: Any) -> list[tuple[tuple[str, ...], int, int]]:
    """The coupled groups :func:`prune_channels` prunes, from Torch-Pruning's dependency graph:
    ``(producer names, channels, channel groups)`` each, in the graph's order.

    The producers of one group (e.g. the convs feeding a residual add) lose the same filters;
    a mask or ratio for any one of them prunes the group.
    """
    check_model(model)
    work = copy.deepcopy(model).eval()
    ignored = _output_layers(work, example_inputs)
    names = {mod: name for name, mod in work.named_modules()}
    dg = tp.DependencyGraph().build_dependency(
        work, example_inputs=example_inputs, customized_pruners={AdderConv2d: _AdderPruner()},
        verbose=False)
    result: list[tuple[tuple[str, ...], int, int]] = []
    for group in dg.get_all_groups(ignored_layers=list(ignored),
                                   root_module_types=list(_ROOT_TYPES)):
        info = _describe(dg, group, names)
        if info is None or any(mod in ignored for _, mod, _ in info.producers):
            continue
        producers = tuple(name for name, _, _ in info.producers)
        result.append((producers, len(info.producers[0][2]), info.channel_groups))
    return result


def prunable_layers(model: nn.Module, example_inputs: Any) -> dict[str, int]:
    """``{layer name: filters}`` of the layers :func:`prune_channels` can prune (genome layout).

    Coupled layers (residual adds) are all listed; a mask for any one of them prunes the group.
    """
    result: dict[str, int] = {}
    model_names = dict(model.named_modules())
    for producers, _, _ in pruning_groups(model, example_inputs):
        for name in producers:
            result[name] = int(weight_of(model_names[name]).shape[0])
    return result
