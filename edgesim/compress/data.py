"""Accuracy on a real bundled data set (scikit-learn's 8x8 digits): training and evaluation."""

from __future__ import annotations

import copy
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from edgesim.compress._common import check_model, restore_training_flags, training_flags
from edgesim.compress.addernet import adder_lr_scale
from edgesim.errors import CompressError
from edgesim.nn.adder import AdderConv2d

DATASETS = ("digits",)
NUM_CLASSES = 10
# The train/test split is fixed (seed 0, 25 % held out) whatever the training seed.
_SPLIT_SEED = 0
_TEST_FRACTION = 0.25


@dataclass(frozen=True)
class Split:
    """Normalised images ``(N, 1, 8, 8)`` float32 and labels ``(N,)`` int64."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor


@lru_cache(maxsize=1)
def _digits() -> Split:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = np.asarray(bunch.data, dtype=np.float32).reshape(-1, 1, 8, 8) / 16.0
    y = np.asarray(bunch.target, dtype=np.int64)
    order = np.random.default_rng(_SPLIT_SEED).permutation(len(y))
    n_test = int(round(_TEST_FRACTION * len(y)))
    test, train = order[:n_test], order[n_test:]
    mean = float(x[train].mean())
    std = float(x[train].std())
    xn = (x - mean) / std
    return Split(torch.from_numpy(xn[train]).contiguous(), torch.from_numpy(y[train]),
                 torch.from_numpy(xn[test]).contiguous(), torch.from_numpy(y[test]))


def load_data(data: str = "digits") -> Split:
    """The fixed train/test split of a bundled data set (only ``"digits"``: 1347 / 450 images)."""
    if data not in DATASETS:
        raise CompressError(f"unknown data set {data!r} (known: {', '.join(DATASETS)})",
                            field="data")
    return _digits()


def _input_spec(model: nn.Module, input_size: int | None) -> tuple[int, int]:
    """(channels, side) the model's first layer expects: channels from its first conv."""
    channels = 1
    for mod in model.modules():
        if isinstance(mod, nn.Conv2d | AdderConv2d):
            channels = mod.in_channels
            break
    side = 8 if input_size is None else input_size
    return channels, side


def prepare(x: torch.Tensor, channels: int, side: int) -> torch.Tensor:
    """Adapt ``(N, 1, 8, 8)`` digits to a model: bilinear upsampling to ``side`` x ``side``
    and the grey channel repeated to ``channels``."""
    if side != x.shape[-1]:
        x = F.interpolate(x, size=(side, side), mode="bilinear", align_corners=False)
    if channels != 1:
        x = x.expand(-1, channels, -1, -1).contiguous()
    return x


def _logits(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    out = model(x)
    if not isinstance(out, torch.Tensor) or out.dim() != 2 or out.shape[1] < NUM_CLASSES:
        shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise CompressError(f"the model must output (batch, >= {NUM_CLASSES}) logits, got "
                            f"{shape}", field="model")
    return out[:, :NUM_CLASSES]


def _check_positive(value: object, field: str, *, allow_zero: bool = False) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < (0 if allow_zero else 1):
        raise CompressError(f"expected an integer >= {0 if allow_zero else 1}, got {value!r}",
                            field=field)
    return value


def train(model: nn.Module, data: str = "digits", steps: int = 300, seed: int = 0,
          lr: float = 3e-3, batch_size: int = 64, input_size: int | None = None,
          adder_eta: float = 0.1, adder_lr: float = 0.02) -> nn.Module:
    """Train a copy of ``model`` on the training split (seeded, CPU); return it in eval mode.

    Adder layers' weights are trained as in AdderNet: SGD with momentum 0.9 at ``adder_lr`` on
    gradients scaled by the adaptive learning-rate factor ``adder_eta * sqrt(k) / ||grad||``
    (Chen et al., CVPR 2020, eq. 13); every other parameter uses Adam at ``lr``. Batches are drawn from seeded per-epoch permutations, so the
    result is the same on every run with the same seed.
    """
    check_model(model)
    _check_positive(steps, "steps", allow_zero=True)
    _check_positive(batch_size, "batch_size")
    if not isinstance(lr, int | float) or isinstance(lr, bool) or not lr > 0:
        raise CompressError(f"expected a positive learning rate, got {lr!r}", field="lr")
    split = load_data(data)
    out = copy.deepcopy(model)
    if steps == 0:
        return out
    channels, side = _input_spec(out, input_size)
    x_all = prepare(split.x_train, channels, side)
    y_all = split.y_train
    gen = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)  # any randomness inside the model (dropout) is seeded too
        adder_params = [m.weight for m in out.modules()
                        if isinstance(m, AdderConv2d) and m.weight.requires_grad]
        adder_ids = {id(p) for p in adder_params}
        params = [p for p in out.parameters() if p.requires_grad and id(p) not in adder_ids]
        opts: list[torch.optim.Optimizer] = [torch.optim.Adam(params, lr=float(lr))]
        if adder_params:
            opts.append(torch.optim.SGD(adder_params, lr=float(adder_lr), momentum=0.9))
        out.train()
        order = torch.randperm(len(y_all), generator=gen)
        pos = 0
        for _ in _steps(steps):
            if pos + batch_size > len(order):
                order = torch.randperm(len(y_all), generator=gen)
                pos = 0
            idx = order[pos:pos + batch_size]
            pos += batch_size
            for opt in opts:
                opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(_logits(out, x_all[idx]), y_all[idx])
            loss.backward()
            if adder_params:
                adder_lr_scale(out, adder_eta)
            for opt in opts:
                opt.step()
    out.eval()
    return out


@torch.no_grad()
def accuracy(model: nn.Module, data: str = "digits", input_size: int | None = None,
             batch_size: int = 512) -> float:
    """Top-1 accuracy of ``model`` (in eval mode, not modified) on the test split."""
    split = load_data(data)
    flags = training_flags(model)
    model.eval()
    try:
        channels, side = _input_spec(model, input_size)
        x = prepare(split.x_test, channels, side)
        correct = 0
        for start in range(0, len(split.y_test), batch_size):
            pred = _logits(model, x[start:start + batch_size]).argmax(dim=1)
            correct += int((pred == split.y_test[start:start + batch_size]).sum())
    finally:
        restore_training_flags(model, flags)
    return correct / len(split.y_test)


# A fine-tune this long or longer shows a progress bar (stderr, when it is a terminal).
PROGRESS_STEPS = 200


def _steps(n: int) -> Iterable[int]:
    """``range(n)``, with a progress bar on stderr for a long fine-tune at a terminal."""
    if n < PROGRESS_STEPS or not sys.stderr.isatty():
        return range(n)
    from tqdm import tqdm

    return tqdm(range(n), desc="fine-tune", unit="step", file=sys.stderr, leave=False)


def evaluate(model: nn.Module, data: str = "digits", finetune_steps: int = 0, seed: int = 0,
             lr: float = 1e-3, batch_size: int = 64, input_size: int | None = None) -> float:
    """Top-1 test accuracy in [0, 1] on a bundled data set, after optional fine-tuning.

    Args:
        model: a classifier with at least 10 outputs (the first 10 logits are the digits). It is
            never modified: fine-tuning works on a copy.
        data: ``"digits"``: scikit-learn's 8x8 handwritten digits (1797 images, nothing
            downloaded), a fixed seeded split of 1347 train / 450 test images, normalised with
            the training mean and standard deviation.
        finetune_steps: Adam steps on the training split before measuring (0: measure as is).
        seed: seeds the fine-tuning (batch order, dropout); same seed, same accuracy.
        lr: fine-tuning learning rate.
        batch_size: fine-tuning batch size.
        input_size: side of the square input the model expects; the 8x8 images are bilinearly
            upsampled to it (e.g. 32 for a zoo LeNet-5) and the grey channel is repeated to the
            first conv's input channels. ``None``: 8.
    """
    check_model(model)
    _check_positive(finetune_steps, "finetune_steps", allow_zero=True)
    if input_size is not None:
        _check_positive(input_size, "input_size")
    tuned = train(model, data, finetune_steps, seed, lr, batch_size, input_size) \
        if finetune_steps else model
    return accuracy(tuned, data, input_size)


class DigitsLeNet(nn.Module):
    """A LeNet-style CNN for 1x8x8 digits: three 3x3 conv-BN-ReLU stages, two linears."""

    def __init__(self, width: int = 16, num_classes: int = NUM_CLASSES) -> None:
        super().__init__()
        w = width
        self.conv1 = nn.Conv2d(1, w, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(w)
        self.conv2 = nn.Conv2d(w, 2 * w, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(2 * w)
        self.conv3 = nn.Conv2d(2 * w, 4 * w, 3, padding=1, bias=False)
        self.bn3 = nn.BatchNorm2d(4 * w)
        self.pool = nn.MaxPool2d(2)
        self.relu = nn.ReLU()
        self.fc1 = nn.Linear(4 * w * 2 * 2, 4 * w)
        self.fc2 = nn.Linear(4 * w, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.bn1(self.conv1(x)))  # 8x8
        x = self.pool(self.relu(self.bn2(self.conv2(x))))  # 4x4
        x = self.pool(self.relu(self.bn3(self.conv3(x))))  # 2x2
        x = torch.flatten(x, 1)
        return self.fc2(self.relu(self.fc1(x)))


def digits_lenet(width: int = 16, seed: int = 0) -> DigitsLeNet:
    """A freshly initialised (seeded) :class:`DigitsLeNet`; example input ``(1, 1, 8, 8)``."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return DigitsLeNet(width)


def digits_model(width: int = 16, seed: int = 0) -> tuple[DigitsLeNet, tuple[torch.Tensor]]:
    """:func:`digits_lenet` and its example input: the form a search config names as
    ``model: "edgesim.compress.data:digits_model"`` (with ``accuracy: digits``)."""
    return digits_lenet(width, seed), (torch.zeros(1, 1, 8, 8),)


class _DigitsBlock(nn.Module):
    """A ResNet basic block (conv-BN-ReLU, conv-BN, add, ReLU) with a 1x1 projection when the
    width or resolution changes."""

    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU()
        self.downsample: nn.Module | None = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False),
                                            nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        skip = x if self.downsample is None else self.downsample(x)
        return self.relu(out + skip)


class DigitsResNet(nn.Module):
    """A small ResNet for 1x8x8 digits: a 3x3 stem, three stages of two basic blocks (widths
    w, 2w, 4w at 8x8, 4x4, 2x2), global average pooling and a linear classifier; the stages
    are the blocks a ``block_scaling`` search scales."""

    def __init__(self, width: int = 16, num_classes: int = NUM_CLASSES) -> None:
        super().__init__()
        w = width
        self.conv1 = nn.Conv2d(1, w, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(w)
        self.relu = nn.ReLU()
        self.layer1 = nn.Sequential(_DigitsBlock(w, w, 1), _DigitsBlock(w, w, 1))
        self.layer2 = nn.Sequential(_DigitsBlock(w, 2 * w, 2), _DigitsBlock(2 * w, 2 * w, 1))
        self.layer3 = nn.Sequential(_DigitsBlock(2 * w, 4 * w, 2),
                                    _DigitsBlock(4 * w, 4 * w, 1))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(4 * w, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(torch.flatten(self.pool(x), 1))


def digits_resnet(width: int = 16, seed: int = 0) -> tuple[DigitsResNet, tuple[torch.Tensor]]:
    """A freshly initialised (seeded) :class:`DigitsResNet` and its example input
    ``(1, 1, 8, 8)``: ``model: "edgesim.compress.data:digits_resnet"`` in a search config."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return DigitsResNet(width), (torch.zeros(1, 1, 8, 8),)


@lru_cache(maxsize=4)
def _trained_state(width: int, steps: int, seed: int) -> dict[str, torch.Tensor]:
    module, _ = digits_model(width, seed)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as every search evaluation: float sums differ between counts
    try:
        trained = train(module, steps=steps, seed=seed)
    finally:
        torch.set_num_threads(threads)
    return {k: v.clone() for k, v in trained.state_dict().items()}


def trained_digits_model(width: int = 16, steps: int = 300, seed: int = 0
                         ) -> tuple[DigitsLeNet, tuple[torch.Tensor]]:
    """:func:`digits_model` trained on digits (``steps`` Adam steps on one thread, seeded), in
    eval mode: the parent the digits examples start from. Trained once per process and
    argument set; each call returns a fresh copy."""
    module, inputs = digits_model(width, seed)
    module.load_state_dict(_trained_state(width, steps, seed))
    module.eval()
    return module, inputs
