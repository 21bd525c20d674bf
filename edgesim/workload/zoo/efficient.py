"""Zoo models built for efficiency: MobileNet-v2, GhostNet, AdderNet ResNet-20."""

from __future__ import annotations

import math

import torch
from torch import nn

from edgesim.nn.adder import AdderConv2d
from edgesim.workload.zoo.classic import BasicBlock


# ---- MobileNetV2 (Sandler et al. 2018, torchvision layout) --------------------------------
def _make_divisible(v: float, divisor: int, min_value: int | None = None) -> int:
    min_value = min_value or divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


def _conv_bn_act(cin: int, cout: int, k: int, stride: int = 1, groups: int = 1,
                 act: type[nn.Module] | None = nn.ReLU6) -> nn.Sequential:
    mods: list[nn.Module] = [nn.Conv2d(cin, cout, k, stride, (k - 1) // 2, groups=groups,
                                       bias=False), nn.BatchNorm2d(cout)]
    if act is not None:
        mods.append(act(inplace=True))
    return nn.Sequential(*mods)


class InvertedResidual(nn.Module):
    """Expand 1x1, depthwise 3x3, project 1x1 (linear bottleneck)."""

    def __init__(self, cin: int, cout: int, stride: int, expand: int) -> None:
        super().__init__()
        hidden = cin * expand
        self.use_res = stride == 1 and cin == cout
        mods: list[nn.Module] = []
        if expand != 1:
            mods.append(_conv_bn_act(cin, hidden, 1))
        mods += [_conv_bn_act(hidden, hidden, 3, stride, groups=hidden),
                 _conv_bn_act(hidden, cout, 1, act=None)]
        self.conv = nn.Sequential(*mods)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(x) if self.use_res else self.conv(x)


class MobileNetV2(nn.Module):
    """MobileNetV2 1.0x, 224x224."""

    CFG = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
           (6, 160, 3, 2), (6, 320, 1, 1))

    def __init__(self, num_classes: int = 1000) -> None:
        super().__init__()
        mods: list[nn.Module] = [_conv_bn_act(3, 32, 3, 2)]
        cin = 32
        for t, c, n, s in self.CFG:
            for i in range(n):
                mods.append(InvertedResidual(cin, c, s if i == 0 else 1, t))
                cin = c
        mods.append(_conv_bn_act(cin, 1280, 1))
        self.features = nn.Sequential(*mods)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(1280, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.pool(self.features(x)), 1))


# ---- GhostNet 1.0x (Han et al. CVPR 2020, reference implementation layout) ----------------
class SqueezeExcite(nn.Module):
    """SE block with a hard-sigmoid gate."""

    def __init__(self, chs: int, se_ratio: float = 0.25) -> None:
        super().__init__()
        reduced = _make_divisible(chs * se_ratio, 4)
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.conv_reduce = nn.Conv2d(chs, reduced, 1, bias=True)
        self.act1 = nn.ReLU(inplace=True)
        self.conv_expand = nn.Conv2d(reduced, chs, 1, bias=True)
        self.gate = nn.Hardsigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        se = self.conv_expand(self.act1(self.conv_reduce(self.avg_pool(x))))
        return x * self.gate(se)


class GhostModule(nn.Module):
    """Primary 1x1 conv for half the channels, cheap depthwise 3x3 for the other half."""

    def __init__(self, cin: int, cout: int, relu: bool = True) -> None:
        super().__init__()
        self.oup = cout
        init = math.ceil(cout / 2)
        act = nn.ReLU if relu else None
        self.primary_conv = _conv_bn_act(cin, init, 1, act=act)
        self.cheap_operation = _conv_bn_act(init, init, 3, groups=init, act=act)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x1 = self.primary_conv(x)
        out = torch.cat([x1, self.cheap_operation(x1)], dim=1)
        return out[:, :self.oup]


class GhostBottleneck(nn.Module):
    """Ghost module, (strided depthwise), (SE), ghost module, plus shortcut."""

    def __init__(self, cin: int, mid: int, cout: int, k: int, stride: int, se: float) -> None:
        super().__init__()
        self.stride = stride
        self.ghost1 = GhostModule(cin, mid, relu=True)
        self.conv_dw: nn.Module | None = None
        if stride > 1:
            self.conv_dw = _conv_bn_act(mid, mid, k, stride, groups=mid, act=None)
        self.se = SqueezeExcite(mid, se) if se > 0 else None
        self.ghost2 = GhostModule(mid, cout, relu=False)
        self.shortcut: nn.Module | None = None
        if not (cin == cout and stride == 1):
            self.shortcut = nn.Sequential(_conv_bn_act(cin, cin, k, stride, groups=cin, act=None),
                                          _conv_bn_act(cin, cout, 1, act=None))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.ghost1(x)
        if self.conv_dw is not None:
            y = self.conv_dw(y)
        if self.se is not None:
            y = self.se(y)
        y = self.ghost2(y)
        return y + (x if self.shortcut is None else self.shortcut(x))


class GhostNet(nn.Module):
    """GhostNet 1.0x for 224x224 ImageNet."""

    CFGS = (  # kernel, expansion size, out channels, SE ratio, stride
        ((3, 16, 16, 0, 1),), ((3, 48, 24, 0, 2),), ((3, 72, 24, 0, 1),),
        ((5, 72, 40, 0.25, 2),), ((5, 120, 40, 0.25, 1),), ((3, 240, 80, 0, 2),),
        ((3, 200, 80, 0, 1), (3, 184, 80, 0, 1), (3, 184, 80, 0, 1), (3, 480, 112, 0.25, 1),
         (3, 672, 112, 0.25, 1)),
        ((5, 672, 160, 0.25, 2),),
        ((5, 960, 160, 0, 1), (5, 960, 160, 0.25, 1), (5, 960, 160, 0, 1),
         (5, 960, 160, 0.25, 1)),
    )

    def __init__(self, num_classes: int = 1000) -> None:
        super().__init__()
        self.conv_stem = _conv_bn_act(3, 16, 3, 2, act=nn.ReLU)
        cin = 16
        stages: list[nn.Module] = []
        exp = 16
        for cfg in self.CFGS:
            blocks = []
            for k, exp, c, se, s in cfg:
                cout = _make_divisible(c, 4)
                blocks.append(GhostBottleneck(cin, _make_divisible(exp, 4), cout, k, s, se))
                cin = cout
            stages.append(nn.Sequential(*blocks))
        stages.append(_conv_bn_act(cin, _make_divisible(exp, 4), 1, act=nn.ReLU))
        self.blocks = nn.Sequential(*stages)
        self.global_pool = nn.AdaptiveAvgPool2d(1)
        self.conv_head = nn.Conv2d(_make_divisible(exp, 4), 1280, 1, bias=True)
        self.act2 = nn.ReLU(inplace=True)
        self.dropout = nn.Dropout(0.2)
        self.classifier = nn.Linear(1280, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.global_pool(self.blocks(self.conv_stem(x)))
        x = torch.flatten(self.act2(self.conv_head(x)), 1)
        return self.classifier(self.dropout(x))


# ---- AdderNet ResNet-20 for CIFAR (Chen et al. CVPR 2020) ---------------------------------
class AdderResNet20(nn.Module):
    """CIFAR ResNet-20 (3 stages x 3 basic blocks, 16/32/64 channels) with adder convs.

    The first conv and the classifier stay multiplicative, as in the AdderNet paper.
    """

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU(inplace=True)
        cin = 16
        stages = []
        for i, planes in enumerate((16, 32, 64)):
            blocks = []
            for j in range(3):
                blocks.append(BasicBlock(cin, planes, 2 if (j == 0 and i > 0) else 1,
                                         AdderConv2d))
                cin = planes
            stages.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3 = stages
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(64, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(torch.flatten(self.avgpool(x), 1))


