"""The model zoo: standard architectures defined in the package (seeded random weights, no downloads)."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from edgesim.errors import WorkloadError
from edgesim.workload.zoo.beyond_cnn import CycleGANGenerator, ViTTiny
from edgesim.workload.zoo.classic import (
    VGG16,
    AlexNet,
    BasicBlock,
    Bottleneck,
    DenseNet121,
    LeNet5,
    ResNet,
)
from edgesim.workload.zoo.efficient import AdderResNet20, GhostNet, MobileNetV2

SEED = 0


# ---- registry -----------------------------------------------------------------------------
_ZOO: dict[str, tuple[Callable[[], nn.Module], tuple[int, ...]]] = {
    "lenet5": (LeNet5, (1, 1, 32, 32)),
    "alexnet": (AlexNet, (1, 3, 224, 224)),
    "vgg16": (VGG16, (1, 3, 224, 224)),
    "resnet18": (lambda: ResNet(BasicBlock, (2, 2, 2, 2)), (1, 3, 224, 224)),
    "resnet50": (lambda: ResNet(Bottleneck, (3, 4, 6, 3)), (1, 3, 224, 224)),
    "mobilenet_v2": (MobileNetV2, (1, 3, 224, 224)),
    "ghostnet": (GhostNet, (1, 3, 224, 224)),
    "densenet121": (DenseNet121, (1, 3, 224, 224)),
    "addernet_resnet20": (AdderResNet20, (1, 3, 32, 32)),
    "cyclegan_generator": (CycleGANGenerator, (1, 3, 256, 256)),
    "vit_tiny": (ViTTiny, (1, 3, 224, 224)),
}


def names() -> list[str]:
    """Names of the zoo models."""
    return list(_ZOO)


def get(name: str) -> tuple[nn.Module, tuple[torch.Tensor, ...]]:
    """A freshly built zoo model (seeded random weights, eval mode) and its example inputs."""
    if name not in _ZOO:
        raise WorkloadError(f"unknown zoo model {name!r}; known: {', '.join(_ZOO)}",
                            field="model")
    build, shape = _ZOO[name]
    gen_state = torch.random.get_rng_state()
    try:
        torch.manual_seed(SEED)
        model = build().eval()
        example = torch.randn(*shape)
    finally:
        torch.random.set_rng_state(gen_state)
    return model, (example,)

