"""Shared fixtures of the compression tests: small models and a trained digits CNN."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from edgesim.compress import digits_lenet, train


class ResBlockNet(nn.Module):
    """Conv-BN stem, a residual add, a depthwise conv, a concat, a grouped conv and a linear."""

    def __init__(self) -> None:
        super().__init__()
        self.c1 = nn.Conv2d(3, 8, 3, padding=1)
        self.b1 = nn.BatchNorm2d(8)
        self.c2 = nn.Conv2d(8, 8, 3, padding=1)
        self.b2 = nn.BatchNorm2d(8)
        self.dw = nn.Conv2d(8, 8, 3, padding=1, groups=8)
        self.c3 = nn.Conv2d(16, 12, 1)
        self.fc1 = nn.Linear(12 * 4 * 4, 20)
        self.fc2 = nn.Linear(20, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = torch.relu(self.b1(self.c1(x)))
        b = self.b2(self.c2(a)) + a  # residual: c1 and c2 channels are coupled
        c = self.dw(b)
        d = torch.cat([b, c], dim=1)
        e = torch.nn.functional.max_pool2d(torch.relu(self.c3(d)), 2)
        return self.fc2(torch.relu(self.fc1(torch.flatten(e, 1))))


@pytest.fixture
def resnet_like() -> tuple[nn.Module, torch.Tensor]:
    torch.manual_seed(0)
    return ResBlockNet().eval(), torch.randn(2, 3, 8, 8)


@pytest.fixture(scope="session")
def trained_lenet() -> nn.Module:
    """The digits LeNet trained 300 Adam steps (about 14 epochs of 64) on CPU."""
    return train(digits_lenet(), steps=300, seed=0)


def state_copy(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def assert_same_state(model: nn.Module, before: dict[str, torch.Tensor]) -> None:
    after = model.state_dict()
    assert after.keys() == before.keys()
    for k, v in before.items():
        assert after[k].shape == v.shape and torch.equal(after[k], v), k
