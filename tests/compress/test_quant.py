"""quantize: subclasses carrying precisions, the levels they really use, errors."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from edgesim.compress import (
    AdderConv2d,
    QuantAdderConv2d,
    QuantConv2d,
    QuantLinear,
    quantize,
    to_addernet,
)
from edgesim.errors import CompressError
from edgesim.nn.quant import QuantConfig, fake_quant_act, fake_quant_weight
from tests.compress.conftest import assert_same_state, state_copy


def test_layers_become_subclasses_with_precisions(
        resnet_like: tuple[nn.Module, torch.Tensor]) -> None:
    model, x = resnet_like
    before = state_copy(model)
    q = quantize(model, weight_bits=8, act_bits=8)
    assert_same_state(model, before)
    assert type(model.c1) is nn.Conv2d
    assert isinstance(q.c1, QuantConv2d) and isinstance(q.c1, nn.Conv2d)
    assert isinstance(q.fc2, QuantLinear) and isinstance(q.fc2, nn.Linear)
    assert (q.c2.weight_precision, q.c2.act_precision) == ("int8", "int8")
    with torch.no_grad():
        assert torch.allclose(q(x), model(x), atol=0.05 * float(model(x).abs().max()))
    mixed = quantize(model, weight_bits={"c2": 4, "fc1": "ternary"}, act_bits={"c2": "fp16"})
    assert (mixed.c2.weight_precision, mixed.c2.act_precision) == ("int4", "fp16")
    assert (mixed.fc1.weight_precision, mixed.fc1.act_precision) == ("int2", "fp32")
    assert type(mixed.c1) is nn.Conv2d  # not named: left alone
    assert mixed(x).shape == (2, 5)


@pytest.mark.parametrize("bits", [2, 3, 4, 8])
def test_symmetric_per_channel_levels(bits: int) -> None:
    torch.manual_seed(0)
    w = torch.randn(6, 3, 3, 3)
    q = fake_quant_weight(w, QuantConfig(f"int{bits}", symmetric=True, per_channel=True))
    qmax = 2 ** (bits - 1) - 1
    for k in range(6):
        if bits == 2:  # ternary (TWN): {-a, 0, +a} with threshold 0.7 mean|w|
            assert torch.unique(q[k]).numel() <= 3
            delta = 0.7 * w[k].abs().mean()
            assert bool(((q[k] == 0) == (w[k].abs() <= delta)).all())
            continue
        scale = w[k].abs().max() / qmax
        codes = q[k] / scale
        assert torch.allclose(codes, codes.round(), atol=1e-4)
        assert float(codes.abs().max()) == pytest.approx(qmax, abs=1e-4)
        assert float((q[k] - w[k]).abs().max()) <= float(scale) / 2 + 1e-6


def test_asymmetric_per_tensor_uses_2_pow_b_levels() -> None:
    w = torch.linspace(-1.0, 3.0, 200).reshape(10, 20)
    q = fake_quant_weight(w, QuantConfig("int4", symmetric=False, per_channel=False))
    assert torch.unique(q).numel() == 16
    assert float((q - w).abs().max()) <= 4.0 / 15 / 2 + 1e-6


def test_binary_weights_are_sign_times_mean() -> None:
    torch.manual_seed(1)
    w = torch.randn(4, 10)
    q = fake_quant_weight(w, QuantConfig("int1"))
    alpha = w.abs().mean(1, keepdim=True)
    assert torch.allclose(q, torch.where(w >= 0, 1.0, -1.0) * alpha)


def test_activation_quantization_is_per_sample() -> None:
    x = torch.tensor([[0.0, 0.5, 0.9, 2.0], [-1.0, 0.25, 0.6, 1.0]])
    q = fake_quant_act(x, QuantConfig("int2"))
    # sample 0 has no negative value: unsigned 2 bits, scale 2/3 -> {0, 2/3, 4/3, 2}
    assert q[0].tolist() == pytest.approx([0.0, 2 / 3, 2 / 3, 2.0])
    # sample 1 is signed symmetric: qmax 1, scale 1 -> {-1, 0, 1}
    assert q[1].tolist() == pytest.approx([-1.0, 0.0, 1.0, 1.0])
    # batching does not change a sample's result
    assert torch.equal(fake_quant_act(x[:1], QuantConfig("int2")), q[:1])


def test_fp16_bf16_round_to_format() -> None:
    w = torch.tensor([[1.0 + 2 ** -12, 3.14159]])
    assert fake_quant_weight(w, QuantConfig("fp16")).tolist()[0][0] == 1.0
    assert fake_quant_weight(w, QuantConfig("bf16")).tolist()[0][1] == pytest.approx(3.140625)


def test_quantized_adder_and_gradients_flow() -> None:
    model = nn.Sequential(nn.Conv2d(1, 4, 3), AdderConv2d(4, 4, 3), nn.Flatten(),
                          nn.Linear(16, 3))
    q = quantize(to_addernet(model, keep_first_last=False), weight_bits=4, act_bits=8)
    assert isinstance(q[1], QuantAdderConv2d) and isinstance(q[1], AdderConv2d)
    out = q(torch.randn(2, 1, 6, 6))
    out.sum().backward()
    assert q[1].weight.grad is not None and q[3].weight.grad is not None  # straight-through
    qa = to_addernet(quantize(nn.Sequential(nn.Conv2d(1, 2, 3), nn.Conv2d(2, 2, 3)), 8, 8),
                     keep_first_last=False)
    assert isinstance(qa[1], QuantAdderConv2d) and qa[1].weight_precision == "int8"


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"weight_bits": 0}, "weight_bits"), ({"weight_bits": 17}, "weight_bits"),
    ({"act_bits": "int33"}, "act_bits"), ({"weight_bits": "fp8"}, "weight_bits"),
    ({"weight_bits": {"nope": 8}}, "weight_bits.nope"),
    ({"weight_bits": {"c1": 99}}, "weight_bits.c1"), ({"symmetric": "yes"}, "symmetric"),
])
def test_bad_arguments(resnet_like: tuple[nn.Module, torch.Tensor], kwargs: dict,
                       field: str) -> None:
    model, _ = resnet_like
    with pytest.raises(CompressError) as info:
        quantize(model, **kwargs)
    assert info.value.field == field
