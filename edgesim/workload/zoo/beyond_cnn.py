"""Zoo models beyond classification CNNs: the CycleGAN generator and ViT-Tiny."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


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


