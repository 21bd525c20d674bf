"""The model zoo: standard architectures defined here (random seeded weights, no downloads)."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from edgesim.errors import WorkloadError

SEED = 0


# ---- LeNet-5 (LeCun et al. 1998), 32x32 grey input --------------------------------------------
class LeNet5(nn.Module):
    """C1-S2-C3-S4-C5-F6-output, tanh activations and average pooling."""

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.c1 = nn.Conv2d(1, 6, 5)
        self.s2 = nn.AvgPool2d(2)
        self.c3 = nn.Conv2d(6, 16, 5)
        self.s4 = nn.AvgPool2d(2)
        self.c5 = nn.Conv2d(16, 120, 5)
        self.f6 = nn.Linear(120, 84)
        self.out = nn.Linear(84, num_classes)
        self.act = nn.Tanh()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.s2(self.act(self.c1(x)))
        x = self.s4(self.act(self.c3(x)))
        x = self.act(self.c5(x)).flatten(1)
        return self.out(self.act(self.f6(x)))


# ---- AlexNet (torchvision layout) ---------------------------------------------------------
class AlexNet(nn.Module):
    """AlexNet as in torchvision (one-GPU variant of Krizhevsky et al. 2012)."""

    def __init__(self, num_classes: int = 1000) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, 11, 4, 2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
            nn.Conv2d(64, 192, 5, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
            nn.Conv2d(192, 384, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2))
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(0.5), nn.Linear(256 * 36, 4096), nn.ReLU(inplace=True),
            nn.Dropout(0.5), nn.Linear(4096, 4096), nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.avgpool(self.features(x))
        return self.classifier(torch.flatten(x, 1))


# ---- VGG-16 (Simonyan & Zisserman 2015, torchvision layout) -------------------------------
class VGG16(nn.Module):
    """VGG-16 (configuration D) without batch norm."""

    CFG = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M",
           512, 512, 512, "M")

    def __init__(self, num_classes: int = 1000) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c = 3
        for v in self.CFG:
            if v == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                assert isinstance(v, int)
                layers += [nn.Conv2d(c, v, 3, padding=1), nn.ReLU(inplace=True)]
                c = v
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 49, 4096), nn.ReLU(inplace=True), nn.Dropout(),
            nn.Linear(4096, 4096), nn.ReLU(inplace=True), nn.Dropout(),
            nn.Linear(4096, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.avgpool(self.features(x))
        return self.classifier(torch.flatten(x, 1))


# ---- ResNet (He et al. 2016, torchvision layout) ------------------------------------------
class BasicBlock(nn.Module):
    """Two 3x3 convs with an identity (or 1x1 projection) shortcut."""

    expansion = 1

    def __init__(self, cin: int, planes: int, stride: int = 1,
                 conv: Callable[..., nn.Module] = nn.Conv2d) -> None:
        super().__init__()
        self.conv1 = conv(cin, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample: nn.Module | None = None
        if stride != 1 or cin != planes:
            self.downsample = nn.Sequential(conv(cin, planes, 1, stride, 0, bias=False),
                                            nn.BatchNorm2d(planes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3 (stride here, as torchvision's ResNet v1.5), 1x1 expand."""

    expansion = 4

    def __init__(self, cin: int, planes: int, stride: int = 1,
                 conv: Callable[..., nn.Module] = nn.Conv2d) -> None:
        super().__init__()
        out = planes * 4
        self.conv1 = nn.Conv2d(cin, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, out, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out)
        self.relu = nn.ReLU(inplace=True)
        self.downsample: nn.Module | None = None
        if stride != 1 or cin != out:
            self.downsample = nn.Sequential(nn.Conv2d(cin, out, 1, stride, bias=False),
                                            nn.BatchNorm2d(out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return self.relu(y + identity)


class ResNet(nn.Module):
    """ImageNet ResNet: 7x7 stem, max pool, four stages, global pool, FC."""

    def __init__(self, block: type[BasicBlock] | type[Bottleneck], depths: tuple[int, ...],
                 num_classes: int = 1000) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        cin = 64
        stages = []
        for i, (planes, n) in enumerate(zip((64, 128, 256, 512), depths, strict=True)):
            blocks = []
            for j in range(n):
                blocks.append(block(cin, planes, 2 if (j == 0 and i > 0) else 1))
                cin = planes * block.expansion
            stages.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(cin, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


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


# ---- DenseNet-121 (Huang et al. CVPR 2017, torchvision layout) ----------------------------
class DenseLayer(nn.Module):
    """BN-ReLU-1x1 conv (4k) - BN-ReLU-3x3 conv (k), concatenated onto its input."""

    def __init__(self, cin: int, growth: int = 32, bn_size: int = 4) -> None:
        super().__init__()
        self.norm1 = nn.BatchNorm2d(cin)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(cin, bn_size * growth, 1, bias=False)
        self.norm2 = nn.BatchNorm2d(bn_size * growth)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(bn_size * growth, growth, 3, padding=1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv1(self.relu1(self.norm1(x)))
        y = self.conv2(self.relu2(self.norm2(y)))
        return torch.cat([x, y], dim=1)


class DenseNet121(nn.Module):
    """DenseNet-121: growth 32, blocks (6, 12, 24, 16), compression 0.5."""

    def __init__(self, num_classes: int = 1000) -> None:
        super().__init__()
        mods: list[nn.Module] = [nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64),
                                 nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1)]
        c = 64
        for i, n in enumerate((6, 12, 24, 16)):
            for _ in range(n):
                mods.append(DenseLayer(c))
                c += 32
            if i != 3:
                mods += [nn.BatchNorm2d(c), nn.ReLU(inplace=True),
                         nn.Conv2d(c, c // 2, 1, bias=False), nn.AvgPool2d(2, 2)]
                c //= 2
        mods += [nn.BatchNorm2d(c), nn.ReLU(inplace=True)]
        self.features = nn.Sequential(*mods)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.pool(self.features(x)), 1))


# ---- AdderNet ResNet-20 for CIFAR (Chen et al. CVPR 2020) ---------------------------------
def _adder_conv() -> Callable[..., nn.Module]:
    try:
        from edgesim.compress.addernet import AdderConv2d
    except ImportError as exc:
        raise WorkloadError("addernet_resnet20 needs edgesim.compress.addernet.AdderConv2d, "
                            f"which cannot be imported: {exc}", field="addernet_resnet20") from None
    cls: Callable[..., nn.Module] = AdderConv2d
    return cls


class AdderResNet20(nn.Module):
    """CIFAR ResNet-20 (3 stages x 3 basic blocks, 16/32/64 channels) with adder convs.

    The first conv and the classifier stay multiplicative, as in the AdderNet paper.
    """

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        adder = _adder_conv()
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU(inplace=True)
        cin = 16
        stages = []
        for i, planes in enumerate((16, 32, 64)):
            blocks = []
            for j in range(3):
                blocks.append(BasicBlock(cin, planes, 2 if (j == 0 and i > 0) else 1, adder))
                cin = planes
            stages.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3 = stages
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(64, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(torch.flatten(self.avgpool(x), 1))


# ---- CycleGAN ResNet-9-block generator (Zhu et al. ICCV 2017) -----------------------------
class ResnetBlock(nn.Module):
    """Reflection-padded 3x3 conv - IN - ReLU - 3x3 conv - IN, plus identity."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.conv_block = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3, bias=True), nn.InstanceNorm2d(dim),
            nn.ReLU(True), nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3, bias=True),
            nn.InstanceNorm2d(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv_block(x)


class CycleGANGenerator(nn.Module):
    """ResnetGenerator(3, 3, ngf=64, n_blocks=9) with instance norm (biased convs)."""

    def __init__(self, ngf: int = 64, n_blocks: int = 9) -> None:
        super().__init__()
        mods: list[nn.Module] = [nn.ReflectionPad2d(3), nn.Conv2d(3, ngf, 7, bias=True),
                                 nn.InstanceNorm2d(ngf), nn.ReLU(True)]
        for i in range(2):
            m = 2 ** i
            mods += [nn.Conv2d(ngf * m, ngf * m * 2, 3, 2, 1, bias=True),
                     nn.InstanceNorm2d(ngf * m * 2), nn.ReLU(True)]
        mods += [ResnetBlock(ngf * 4) for _ in range(n_blocks)]
        for i in range(2):
            m = 2 ** (2 - i)
            mods += [nn.ConvTranspose2d(ngf * m, ngf * m // 2, 3, 2, 1, output_padding=1,
                                        bias=True),
                     nn.InstanceNorm2d(ngf * m // 2), nn.ReLU(True)]
        mods += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, 3, 7), nn.Tanh()]
        self.model = nn.Sequential(*mods)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.model(x)
        return out


# ---- ViT-Tiny / DeiT-Ti (Touvron et al. 2021) ---------------------------------------------
class Attention(nn.Module):
    """Multi-head self-attention with a fused qkv projection."""

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, c = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        y = F.scaled_dot_product_attention(q, k, v)
        return self.proj(y.transpose(1, 2).reshape(b, n, c))


class TransformerBlock(nn.Module):
    """Pre-norm block: x + attn(LN(x)), x + MLP(LN(x)) with a 4x GELU MLP."""

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.fc1 = nn.Linear(dim, 4 * dim)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(4 * dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.fc2(self.act(self.fc1(self.norm2(x))))


class ViTTiny(nn.Module):
    """ViT-Ti/16 (DeiT-Tiny): 224x224, patch 16, dim 192, depth 12, 3 heads."""

    def __init__(self, num_classes: int = 1000, dim: int = 192, depth: int = 12,
                 heads: int = 3, img: int = 224, patch: int = 16) -> None:
        super().__init__()
        self.patch_embed = nn.Conv2d(3, dim, patch, patch)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.randn(1, (img // patch) ** 2 + 1, dim) * 0.02)
        self.blocks = nn.Sequential(*[TransformerBlock(dim, heads) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.head = nn.Linear(dim, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.patch_embed(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1)
        x = self.blocks(x + self.pos_embed)
        return self.head(self.norm(x)[:, 0])


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
