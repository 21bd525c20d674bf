"""The oracle's fast path (IR transforms only) and the torch path (compress, then trace) agree
bit for bit on random candidates of every zoo model."""

from __future__ import annotations

import random

import pytest

from edgesim.hardware import load_hardware
from edgesim.search.model import resolve_model
from edgesim.search.precision import MixedPrecision
from edgesim.search.pruning import ChannelPruning
from edgesim.sim import simulate
from edgesim.workload import zoo
from edgesim.workload.trace import trace

# Models whose prune + trace takes seconds get one candidate (a keep-bit genome), the others
# two of each granularity; the suite stays fast and every zoo model is covered.
_SLOW = {"vgg16", "densenet121", "alexnet"}


def _random_genome(problem: ChannelPruning | MixedPrecision, rng: random.Random) -> tuple[int, ...]:
    return tuple(rng.randint(0, b) for b in problem.bounds)


def _assert_same(fast_wl, slow_wl, hw) -> None:  # type: ignore[no-untyped-def]
    for a, b in zip(fast_wl.layers, slow_wl.layers, strict=True):
        assert a == b, (a, b)
    assert simulate(fast_wl, hw).to_dict() == simulate(slow_wl, hw).to_dict()


@pytest.mark.parametrize("name", zoo.names())
def test_channel_pruning_fast_path_equals_torch_path(name: str) -> None:
    source = resolve_model(name)
    hw = load_hardware("sparse-npu")  # zero skipping: the measured weight zeros count too
    if name == "cyclegan_generator":  # the zoo's at 256x256 takes seconds: the same layers
        # narrower, at 64x64 (instance norms pass channels; padding absorbed by the convs)
        import torch

        from edgesim.workload.zoo.beyond_cnn import CycleGANGenerator

        torch.manual_seed(0)
        source = resolve_model((CycleGANGenerator(ngf=8, n_blocks=2).eval(),
                                (torch.randn(1, 3, 64, 64),)))
        assert len(ChannelPruning(source, {"granularity": "group"}).groups) >= 4
    rng = random.Random(name)
    for granularity in ("filter",) if name in _SLOW else ("group", "filter"):
        problem = ChannelPruning(source, {"granularity": granularity})
        for _ in range(1 if name in _SLOW else 2):
            genome = _random_genome(problem, rng)
            fast = problem.decode(genome).workload
            module, inputs = problem.module(genome)
            slow = trace(module, inputs, name=source.workload.name)
            _assert_same(fast, slow, hw)
            work = fast.macs + fast.adds
            assert work < source.workload.macs + source.workload.adds or not problem.kept(genome)


@pytest.mark.parametrize("name", zoo.names())
def test_mixed_precision_fast_path_equals_torch_path(name: str) -> None:
    source = resolve_model(name)
    hw = load_hardware("cortex-m7")  # its units list int8 and int16
    problem = MixedPrecision(source, {"weight_bits": [4, 8, 16], "act_bits": [8, 16]}, hw)
    assert all(g.choices == (8, 16) for g in problem.genes)  # int4 is not on this chip
    genome = _random_genome(problem, random.Random(name))
    fast = problem.decode(genome).workload
    module, inputs = problem.module(genome)
    _assert_same(fast, trace(module, inputs, name=source.workload.name), hw)


def test_pruned_zero_counts_are_exact() -> None:
    """A layer with real zeros: the pruned layer's weight sparsity is what measuring its kept
    weights gives, not the parent's fraction."""
    import torch

    from edgesim.compress import prune_unstructured

    module, inputs = zoo.get("lenet5")
    sparse = prune_unstructured(module, amount=0.6)
    source = resolve_model((sparse, inputs), name="lenet5")
    problem = ChannelPruning(source, {"granularity": "filter"})
    rng = random.Random(3)
    genome = tuple(int(rng.random() < 0.7) for _ in problem.genes)
    fast = problem.decode(genome).workload
    slow_module, _ = problem.module(genome)
    slow = trace(slow_module, inputs, name="lenet5")
    assert fast.layers == slow.layers
    parent = {la.name: la.weight_sparsity for la in source.workload.layers}
    changed = [la for la in fast.layers if la.weight_shape and la.weight_sparsity != parent[
        la.name]]
    assert changed  # the kept weights' own zero fraction, not the parent's
    assert isinstance(torch.__version__, str)


def test_instance_norm_passes_channels_and_group_norm_keeps_them() -> None:
    """An instance norm with learned weights is pruned with its producer (its weights shrink);
    a group norm normalises over groups of channels, so its producer stays whole."""
    import torch
    from torch import nn

    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.InstanceNorm2d(16, affine=True),
                          nn.ReLU(), nn.Conv2d(16, 24, 3, padding=1), nn.GroupNorm(4, 24),
                          nn.ReLU(), nn.Conv2d(24, 8, 1)).eval()
    source = resolve_model((model, (torch.randn(1, 3, 16, 16),)))
    problem = ChannelPruning(source, {"granularity": "group"})
    assert [g.name for g in problem.groups] == ["0"]
    genome = (1,)  # ratio 0.25 of the first conv's 16 filters
    fast = problem.decode(genome).workload
    module, inputs = problem.module(genome)
    _assert_same(fast, trace(module, inputs, name=source.workload.name),
                 load_hardware("sparse-npu"))
    assert fast.layer("1").weight_shape == (12,)
