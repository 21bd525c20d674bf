"""AdderConv2d: forward, the paper's gradients, adaptive LR scale, and to_addernet."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from edgesim.compress import AdderConv2d, adder_lr_scale, digits_lenet, to_addernet
from edgesim.errors import CompressError
from tests.compress.conftest import assert_same_state, state_copy


def _reference(x: torch.Tensor, layer: AdderConv2d) -> torch.Tensor:
    """The naive 5-D definition -sum |x - w| (fine for tiny tensors)."""
    n, _, h, w = x.shape
    k, cg, r, s = layer.weight.shape
    cols = F.unfold(x, (r, s), dilation=layer.dilation, padding=layer.padding,
                    stride=layer.stride)
    kg = k // layer.groups
    j = cg * r * s
    outs = []
    for g in range(layer.groups):
        xg = cols[:, g * j:(g + 1) * j]
        wg = layer.weight[g * kg:(g + 1) * kg].reshape(kg, j)
        outs.append(-(xg[:, None] - wg[None, :, :, None]).abs().sum(2))
    oh = (h + 2 * layer.padding[0] - layer.dilation[0] * (r - 1) - 1) // layer.stride[0] + 1
    ow = (w + 2 * layer.padding[1] - layer.dilation[1] * (s - 1) - 1) // layer.stride[1] + 1
    out = torch.cat(outs, 1).reshape(n, k, oh, ow)
    return out if layer.bias is None else out + layer.bias.view(1, -1, 1, 1)


@pytest.mark.parametrize(("stride", "padding", "dilation", "groups", "bias"),
                         [(1, 1, 1, 1, False), (2, 0, 1, 2, True), (1, 2, 2, 1, True)])
def test_forward_matches_definition(stride: int, padding: int, dilation: int, groups: int,
                                    bias: bool) -> None:
    torch.manual_seed(0)
    layer = AdderConv2d(4, 6, 3, stride, padding, dilation, groups, bias=bias).double()
    x = torch.randn(2, 4, 7, 7, dtype=torch.double)
    assert torch.allclose(layer(x), _reference(x, layer), atol=1e-10)


def test_gradients_are_the_papers() -> None:
    """dY/dW = X - W (full precision) and dY/dX = HardTanh(W - X) (Chen et al. 2020, eqs. 5-6)."""
    torch.manual_seed(1)
    layer = AdderConv2d(3, 4, 3, padding=1).double()
    x = (2 * torch.randn(2, 3, 5, 5, dtype=torch.double)).requires_grad_()
    y = layer(x)
    g = torch.randn_like(y)
    y.backward(g)
    cols = F.unfold(x.detach(), 3, padding=1)  # (N, J, L)
    w = layer.weight.detach().reshape(4, -1)  # (K, J)
    diff = cols[:, None] - w[None, :, :, None]  # (N, K, J, L) = X - W
    gk = g.reshape(2, 4, 1, 25)
    expect_w = (gk * diff).sum((0, 3)).reshape(layer.weight.shape)
    expect_x = F.fold((gk * (-diff).clamp(-1, 1)).sum(1), (5, 5), 3, padding=1)
    assert torch.allclose(layer.weight.grad, expect_w, atol=1e-10)
    assert torch.allclose(x.grad, expect_x, atol=1e-10)
    # the clip matters here: some |W - X| exceed 1, so the sign-free gradient would differ
    assert (diff.abs() > 1).any()


def test_adaptive_lr_scale_normalises_each_layer() -> None:
    torch.manual_seed(2)
    model = nn.Sequential(AdderConv2d(2, 3, 3), nn.Flatten(), nn.Linear(3 * 4 * 4, 2))
    model(torch.randn(4, 2, 6, 6)).sum().backward()
    linear_grad = model[2].weight.grad.clone()
    adder_lr_scale(model, eta=0.2)
    k = model[0].weight.numel()
    # eta * sqrt(k) / ||g|| * g has norm eta * sqrt(k)
    assert float(model[0].weight.grad.norm()) == pytest.approx(0.2 * math.sqrt(k), rel=1e-6)
    assert torch.equal(model[2].weight.grad, linear_grad)


def test_large_layer_runs_in_blocks() -> None:
    """A 64x64 layer on 32x32 inputs (5-D tensor would be 64x64x576x1024 floats = 9.7 GB)."""
    layer = AdderConv2d(64, 64, 3, padding=1)
    x = torch.randn(1, 64, 32, 32, requires_grad=True)
    y = layer(x)
    y.sum().backward()
    assert y.shape == (1, 64, 32, 32) and x.grad is not None and x.grad.shape == x.shape


def test_to_addernet_keeps_first_conv_and_copies_weights() -> None:
    model = digits_lenet()
    before = state_copy(model)
    adder = to_addernet(model)
    assert_same_state(model, before)
    assert type(adder.conv1) is nn.Conv2d
    assert isinstance(adder.conv2, AdderConv2d) and isinstance(adder.conv3, AdderConv2d)
    assert type(adder.fc2) is nn.Linear
    assert torch.equal(adder.conv2.weight, model.conv2.weight)
    assert adder.conv2.padding == (1, 1) and adder.conv2.kernel_size == (3, 3)
    assert adder(torch.randn(2, 1, 8, 8)).shape == (2, 10)
    everything = to_addernet(model, keep_first_last=False)
    assert isinstance(everything.conv1, AdderConv2d)


def test_to_addernet_bad_argument() -> None:
    with pytest.raises(CompressError, match="keep_first_last"):
        to_addernet(digits_lenet(), keep_first_last="yes")  # type: ignore[arg-type]
    with pytest.raises(CompressError, match="model"):
        to_addernet("not a model")  # type: ignore[arg-type]
