"""Accuracy on real data (scikit-learn's 8x8 digits): dense, AdderNet, pruned, quantized."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from edgesim.compress import (
    digits_lenet,
    evaluate,
    load_data,
    prune_channels,
    quantize,
    to_addernet,
    train,
)
from edgesim.errors import CompressError
from tests.compress.conftest import assert_same_state, state_copy


def test_split_is_fixed() -> None:
    split = load_data("digits")
    assert (len(split.y_train), len(split.y_test)) == (1348, 449)  # 1797 images, 25 % held out
    assert split.x_test.shape == (449, 1, 8, 8)
    assert abs(float(split.x_train.mean())) < 1e-4  # normalised with the training statistics


def test_dense_cnn_reaches_90_percent(trained_lenet: nn.Module) -> None:
    assert evaluate(trained_lenet) >= 0.90
    assert evaluate(digits_lenet()) < 0.5  # untrained: near chance, so the data is really used


def test_addernet_reaches_90_percent() -> None:
    adder = train(to_addernet(digits_lenet()), steps=300, seed=0)
    assert evaluate(adder) >= 0.90


def test_channel_pruning_with_finetuning_within_3_points(trained_lenet: nn.Module) -> None:
    dense = evaluate(trained_lenet)
    pruned = prune_channels(trained_lenet, torch.zeros(1, 1, 8, 8), ratio=0.5)
    assert pruned.conv2.out_channels == 16
    assert evaluate(pruned, finetune_steps=100) >= dense - 0.03


def test_int8_within_1_point_and_low_bits_run(trained_lenet: nn.Module) -> None:
    before = state_copy(trained_lenet)
    dense = evaluate(trained_lenet)
    assert evaluate(quantize(trained_lenet, 8, 8)) >= dense - 0.01
    for bits in ("binary", "ternary"):
        acc = evaluate(quantize(trained_lenet, weight_bits=bits, act_bits=8))
        assert 0.0 <= acc <= 1.0
    # ternary weights keep most of the accuracy after a short quantization-aware fine-tune
    assert evaluate(quantize(trained_lenet, "ternary", 8), finetune_steps=60) >= 0.85
    assert_same_state(trained_lenet, before)


def test_evaluate_is_deterministic_and_pure(trained_lenet: nn.Module) -> None:
    before = state_copy(trained_lenet)
    a = evaluate(trained_lenet, finetune_steps=20, seed=4)
    b = evaluate(trained_lenet, finetune_steps=20, seed=4)
    assert a == b
    assert_same_state(trained_lenet, before)


def test_upsampled_input_for_bigger_models() -> None:
    model = nn.Sequential(nn.Conv2d(3, 4, 5), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                          nn.Linear(4, 10))
    assert 0.0 <= evaluate(model, input_size=32) <= 1.0


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"data": "mnist"}, "data"), ({"finetune_steps": -1}, "finetune_steps"),
    ({"input_size": 0}, "input_size"),
])
def test_bad_arguments(kwargs: dict, field: str) -> None:
    with pytest.raises(CompressError) as info:
        evaluate(digits_lenet(), **kwargs)
    assert info.value.field == field


def test_model_with_too_few_outputs() -> None:
    with pytest.raises(CompressError, match="logits"):
        evaluate(nn.Sequential(nn.Flatten(), nn.Linear(64, 3)))
