"""prune_channels: coupled channels, ratios, keep-masks, importance criteria, and the zoo."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import edgesim as es
from edgesim.compress import prunable_layers, prune_channels
from edgesim.errors import CompressError
from tests.compress.conftest import assert_same_state, state_copy


def test_coupled_channels_and_shapes(resnet_like: tuple[nn.Module, torch.Tensor]) -> None:
    model, x = resnet_like
    before = state_copy(model)
    pruned = prune_channels(model, x, ratio=0.5)
    assert_same_state(model, before)
    # residual add: c1 and c2 lose the same channels; BNs and depthwise follow
    assert pruned.c1.out_channels == pruned.c2.out_channels == 4
    assert pruned.b1.num_features == pruned.b2.num_features == 4
    assert pruned.dw.in_channels == pruned.dw.out_channels == pruned.dw.groups == 4
    assert pruned.c3.in_channels == 8  # concat of the two 4-channel branches
    assert pruned.c3.out_channels == 6
    assert pruned.fc1.in_features == 6 * 4 * 4  # the linear after the flatten
    assert pruned.fc2.out_features == 5  # the output layer is never pruned
    assert pruned(x).shape == model(x).shape
    # the kept filters are the original ones with the largest L1 norms
    norms = model.c3.weight.detach().abs().sum((1, 2, 3))
    kept = set(torch.topk(norms, 6).indices.tolist())
    assert any(torch.equal(pruned.c3.weight[0, :, 0, 0], model.c3.weight[k, :, 0, 0][[
        i for i in range(16) if i % 8 in _kept_c1(model, pruned)]]) for k in kept)


def _kept_c1(model: nn.Module, pruned: nn.Module) -> set[int]:
    return {k for k in range(8) for j in range(pruned.c1.out_channels)
            if torch.equal(model.c1.weight[k], pruned.c1.weight[j])}


def test_coupled_filters_ranked_on_summed_importance(
        resnet_like: tuple[nn.Module, torch.Tensor]) -> None:
    model, x = resnet_like
    pruned = prune_channels(model, x, ratio=0.5)
    # producers of the coupled channels: c1, c2 (residual) and the depthwise dw
    score = sum(m.weight.detach().abs().sum((1, 2, 3)) for m in (model.c1, model.c2, model.dw))
    assert _kept_c1(model, pruned) == set(torch.topk(score, 4).indices.tolist())


def test_keep_mask_genome(resnet_like: tuple[nn.Module, torch.Tensor]) -> None:
    model, x = resnet_like
    layout = prunable_layers(model, x)
    assert layout == {"c1": 8, "c2": 8, "dw": 8, "c3": 12, "fc1": 20}
    genes = [1, 0, 1, 1, 0, 0, 1, 1]
    pruned = prune_channels(model, x, ratio={"c2": genes, "fc1": [1] * 10 + [0] * 10})
    assert _kept_c1(model, pruned) == {0, 2, 3, 6, 7}
    assert torch.equal(pruned.fc1.weight, model.fc1.weight[:10][:, :])
    assert pruned.c3.out_channels == 12  # not named: whole
    assert pruned(x).shape == (2, 5)
    with pytest.raises(CompressError) as info:
        prune_channels(model, x, ratio={"c1": genes, "c2": [1] * 8})
    assert info.value.field == "ratio.c2"  # coupled layers need the same mask


def test_per_layer_ratios_and_importances(resnet_like: tuple[nn.Module, torch.Tensor]) -> None:
    model, x = resnet_like
    pruned = prune_channels(model, x, ratio={"c3": 0.25, "fc1": 0.7})
    assert (pruned.c1.out_channels, pruned.c3.out_channels, pruned.fc1.out_features) == (8, 9, 6)
    for imp in ("l1", "l2", "bn_scale", "random"):
        p = prune_channels(model, x, ratio=0.3, importance=imp)
        assert p.c3.out_channels == 8 and p(x).shape == (2, 5)
    a = prune_channels(model, x, ratio=0.5, importance="random", seed=3)
    b = prune_channels(model, x, ratio=0.5, importance="random", seed=3)
    assert torch.equal(a.c3.weight, b.c3.weight)
    # a callable: keep the filters with the largest index
    last = prune_channels(model, x, ratio={"c3": 0.5},
                          importance=lambda mod, name: torch.arange(mod.weight.shape[0]))
    assert torch.equal(last.c3.weight, model.c3.weight[6:])


@pytest.mark.parametrize(("ratio", "field"), [
    (1.0, "ratio"), (-0.2, "ratio"), ("half", "ratio"), ({"c9": 0.5}, "ratio.c9"),
    ({"fc2": 0.5}, "ratio.fc2"), ({"c3": [1, 0]}, "ratio.c3"), ({"c3": [0] * 12}, "ratio.c3"),
    ({"c3": [2] * 12}, "ratio.c3"), ({"c1": 0.5, "c2": 0.3}, "ratio.c2"),
])
def test_bad_ratio(resnet_like: tuple[nn.Module, torch.Tensor], ratio: object,
                   field: str) -> None:
    model, x = resnet_like
    with pytest.raises(CompressError) as info:
        prune_channels(model, x, ratio=ratio)  # type: ignore[arg-type]
    assert info.value.field == field


def test_bad_importance(resnet_like: tuple[nn.Module, torch.Tensor]) -> None:
    model, x = resnet_like
    with pytest.raises(CompressError, match="importance"):
        prune_channels(model, x, importance="taylor")


# Small models at all three ratios; the big ones (a 100-550 MB deepcopy each) too, but
# their forward at the standard input dominates, so the whole test stays around a minute.
ZOO = ["lenet5", "alexnet", "vgg16", "resnet18", "resnet50", "mobilenet_v2", "ghostnet",
       "densenet121", "addernet_resnet20"]


@pytest.mark.parametrize("name", ZOO)
def test_zoo_prunes_and_runs(name: str) -> None:
    model, inputs = es.zoo.get(name)
    model.eval()
    with torch.no_grad():
        dense_out = model(*inputs)
    dense_params = sum(p.numel() for p in model.parameters())
    for ratio in (0.3, 0.5, 0.7):
        pruned = prune_channels(model, inputs, ratio=ratio)
        with torch.no_grad():
            out = pruned(*inputs)
        assert out.shape == dense_out.shape
        params = sum(p.numel() for p in pruned.parameters())
        # parameters shrink roughly as (1 - ratio)^2 (both sides of most weights)
        assert params < (1 - ratio + 0.15) * dense_params, (name, ratio, params / dense_params)


def test_training_mode_and_bn_statistics_survive(
        resnet_like: tuple[nn.Module, torch.Tensor]) -> None:
    model, x = resnet_like
    model.train()
    model.b1.eval()  # a per-module mode must come back as it was
    with torch.no_grad():
        model.b1.running_mean.copy_(torch.arange(8.0))
    pruned = prune_channels(model, x, ratio={"c3": 0.5})  # c1's channels stay whole
    assert pruned.training and pruned.c3.training and not pruned.b1.training
    assert torch.equal(pruned.b1.running_mean, torch.arange(8.0))  # no forward in train mode
    assert torch.equal(pruned.b2.running_mean, model.b2.running_mean)


def test_transformer_mlp_pruning_and_clear_error_on_attention() -> None:
    model, inputs = es.zoo.get("vit_tiny")
    model.eval()
    mlp = prune_channels(model, inputs, ratio={f"blocks.{i}.fc1": 0.5 for i in range(12)})
    assert mlp.blocks[0].fc1.out_features == model.blocks[0].fc1.out_features // 2
    assert mlp.blocks[0].fc2.in_features == mlp.blocks[0].fc1.out_features
    with torch.no_grad():
        assert mlp(*inputs).shape == model(*inputs).shape
    # a uniform ratio also narrows the qkv heads, which the attention reshape hard-codes
    with pytest.raises(CompressError, match="no longer runs") as info:
        prune_channels(model, inputs, ratio=0.5)
    assert info.value.field == "ratio"
