"""Importable helpers the search tests name in configs ("tests.search.helpers:...")."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from edgesim.workload.ir import Workload
from edgesim.workload.layer import Layer

if TYPE_CHECKING:  # torch is imported only by the helpers that use it (the others start fast)
    import torch
    from torch import nn


def seeded_noise(module: nn.Module, example_inputs: Any) -> float:
    """A value drawn from torch's global generator: equal only if the oracle seeds it."""
    import torch

    del module, example_inputs
    return float(torch.rand(()).item())


def build_mlp(genes: dict[str, Any]) -> Workload:
    """A custom problem's builder: an MLP of ``depth`` linear layers of ``width``."""
    width, depth = int(genes["width"]), int(genes["depth"])
    layers = []
    prev, feats = (), 64
    for i in range(depth):
        layers.append(Layer(f"fc{i}", "linear", prev, ((1, feats),), (1, width),
                            weight_shape=(width, feats)))
        prev, feats = (f"fc{i}",), width
    return Workload(f"mlp{width}x{depth}", tuple(layers))


def build_torch(genes: dict[str, Any]) -> tuple[nn.Module, tuple[torch.Tensor]]:
    """A custom builder returning a torch module (traced by the oracle)."""
    import torch
    from torch import nn

    torch.manual_seed(0)
    k = int(genes["kernel"])
    return nn.Sequential(nn.Conv2d(3, 8, k, padding=k // 2), nn.ReLU()), (torch.zeros(1, 3, 16, 16),)


def broken_builder(genes: dict[str, Any]) -> Workload:
    raise RuntimeError("boom")


def build_conv(genes: dict[str, Any]) -> Workload:
    """One 3x3 convolution whose op is a gene (an adder conv runs on no unit of a MAC NPU)."""
    return Workload("conv", (Layer("c", genes["op"], (), ((1, 16, 8, 8),), (1, 16, 8, 8),
                                   kernel=(3, 3), padding=(1, 1), weight_shape=(16, 16, 3, 3)),))


def slow_mlp(genes: dict[str, Any]) -> Workload:
    """:func:`build_mlp`, slowly (gives a test time to kill a search mid-way; no torch)."""
    time.sleep(0.03)
    return build_mlp(genes)


def kept_l1(module: nn.Module, example_inputs: Any) -> float:
    """An accuracy proxy: the L1 norm of every conv and linear weight the module keeps (the
    criterion that chose which filters go); it falls as filters are pruned."""
    from torch import nn

    del example_inputs
    return float(sum(m.weight.detach().abs().sum() for m in module.modules()
                     if isinstance(m, nn.Conv2d | nn.Linear)))
