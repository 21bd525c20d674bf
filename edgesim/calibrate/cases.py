"""The microbenchmark cases of ``edgesim calibrate``: one torch op per case, over a grid of shapes.

A :class:`Case` names one op (a conv, a linear, fused attention, an elementwise op ...) and its
shape. The same case builds the torch module that is timed and, traced by ``es.trace``, the
workload edgesim prices, so a measurement and its prediction always describe one computation.
The grid spans each kernel class's channels and spatial sizes (nn-Meter's idea of sampling the
shapes real models use); :func:`densify` adds cases around the worst-fitted ones.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import TYPE_CHECKING, Any

from edgesim.vocab import KernelClass

if TYPE_CHECKING:
    import torch
    from torch import nn

K = KernelClass
CHAIN = 3


@dataclass(frozen=True, order=True)
class Case:
    """One microbenchmark: ``op`` on an input of ``c_in`` channels (features) of ``size`` x
    ``size`` pixels (or ``tokens`` rows), producing ``c_out``."""

    cls: KernelClass  # the class it is meant to measure (the fit reads it from the layers)
    op: str  # conv | linear | sdpa | relu | relu6 | add | gelu | sigmoid | hardswish | silu |
    # maxpool | avgpool | gap | softmax | layernorm | batchnorm | concat | upsample
    c_in: int
    c_out: int = 0
    size: int = 1
    kernel: int = 1
    stride: int = 1
    groups: int = 1
    tokens: int = 1  # rows of a linear / softmax / layernorm input, sequence length of sdpa
    chain: int = 1  # copies run one after the other (each reads the previous one's output)

    @property
    def id(self) -> str:
        """A readable unique name."""
        parts = [self.op, f"c{self.c_in}"]
        if self.c_out:
            parts.append(f"o{self.c_out}")
        if self.size > 1:
            parts.append(f"s{self.size}")
        if self.kernel > 1:
            parts.append(f"k{self.kernel}")
        if self.stride > 1:
            parts.append(f"st{self.stride}")
        if self.groups > 1:
            parts.append(f"g{self.groups}")
        if self.tokens > 1:
            parts.append(f"t{self.tokens}")
        if self.chain > 1:
            parts.append(f"x{self.chain}")
        return "-".join(parts)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["cls"] = self.cls.value
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Case:
        ints = {f.name: int(d[f.name]) for f in fields(cls)
                if f.name not in ("cls", "op") and f.name in d}
        return cls(KernelClass(d["cls"]), str(d["op"]), **ints)


def _conv(cls: KernelClass, k: int, pairs: list[tuple[int, int]], sizes: list[int],
          stride: int = 1) -> list[Case]:
    return [Case(cls, "conv", ci, co, s, k, stride) for ci, co in pairs for s in sizes
            if ci * co * k * k * (s // stride) ** 2 <= (4e8 if s < 112 else 1e8)]


def grid(quick: bool = False) -> list[Case]:
    """The cases measured first (``quick``: a few per class, for tests)."""
    if quick:
        return [Case(K.CONV1X1, "conv", 32, 32, 14), Case(K.CONV1X1, "conv", 64, 64, 28),
                Case(K.CONV3X3, "conv", 16, 16, 14, 3), Case(K.CONV3X3, "conv", 32, 32, 28, 3),
                Case(K.DEPTHWISE, "conv", 32, 32, 28, 3, groups=32),
                Case(K.DEPTHWISE, "conv", 64, 64, 14, 3, groups=64),
                Case(K.LINEAR, "linear", 64, 64), Case(K.LINEAR, "linear", 256, 256, tokens=8),
                Case(K.ELEMENTWISE, "relu", 16, size=14), Case(K.ELEMENTWISE, "relu", 64, size=56),
                Case(K.GLOBAL_POOL, "gap", 64, size=7), Case(K.GLOBAL_POOL, "gap", 64, size=28)]
    sq = [7, 14, 28, 56, 112]
    out: list[Case] = []
    out += _conv(K.CONV1X1, 1, [(16, 16), (32, 64), (64, 64), (64, 256), (128, 128), (256, 64),
                                (256, 256), (512, 512), (96, 24)], sq)
    # strided 1x1s (ResNet's downsampling shortcuts): torch gathers the strided input first
    out += _conv(K.CONV1X1_STRIDED, 1, [(16, 32), (64, 128), (128, 256), (256, 512)],
                 [14, 28, 56], 2)
    out += _conv(K.CONV3X3, 3, [(3, 16), (3, 32), (16, 16), (32, 32), (32, 64), (64, 64),
                                (96, 96), (128, 128), (256, 256), (512, 512)], sq)
    # widening and narrowing 3x3s: their packed operand (weights K x N for oneDNN, the unfolded
    # input K x M for torch's native kernel) varies apart from their MACs
    out += _conv(K.CONV3X3, 3, [(16, 64), (64, 16), (128, 32), (48, 96)], [7, 14, 28])
    out += _conv(K.CONV3X3, 3, [(3, 32), (32, 64), (64, 128), (128, 256)], [28, 56, 112], 2)
    out += _conv(K.CONV5X5, 5, [(3, 32), (16, 32), (32, 64), (64, 64), (128, 128)],
                 [7, 14, 28, 56])
    out += _conv(K.CONV7X7, 7, [(3, 16), (3, 64), (16, 32), (64, 64)], [14, 28, 56])
    out += _conv(K.CONV7X7, 7, [(3, 64)], [112, 224], 2)
    for c in (16, 32, 96, 144, 384, 960):
        for s in (7, 14, 28, 56, 112):
            if c * s * s <= 2_000_000:
                out.append(Case(K.DEPTHWISE, "conv", c, c, s, 3, 1, c))
                if s >= 14:
                    out.append(Case(K.DEPTHWISE, "conv", c, c, s, 3, 2, c))
                if s <= 28:
                    out.append(Case(K.DEPTHWISE, "conv", c, c, s, 5, 1, c))
    for c in (16, 32, 64, 128, 256):
        for g in (2, 4, 8):  # down to two channels per group
            for s in (7, 14, 28, 56):
                if c * c // g * 9 * s * s <= 2e8:
                    out.append(Case(K.GROUPED, "conv", c, c, s, 3, 1, g))
                    if s >= 14 and c <= 64:
                        out.append(Case(K.GROUPED, "conv", c, c, s, 3, 2, g))
    for ci, co in [(64, 64), (256, 256), (784, 512), (1024, 1024), (2048, 1000), (512, 4096),
                   (192, 768), (768, 192), (128, 10), (512, 10)]:
        for t in (1, 8, 49, 197):
            if ci * co * t <= 2e8:
                out.append(Case(K.LINEAR, "linear", ci, co, tokens=t))
    for heads, dim in [(1, 32), (2, 64), (4, 128), (3, 192)]:
        for t in (16, 49, 64, 197):
            out.append(Case(K.MATMUL, "sdpa", dim, dim, groups=heads, tokens=t))
    for n in (4, 8, 14, 28, 56, 112):
        for c in (16, 64, 256):
            if c * n * n <= 4_000_000:
                for op in ("relu", "add", "relu6", "hardswish"):
                    out.append(Case(K.ELEMENTWISE, op, c, size=n))
                for op in ("gelu", "sigmoid", "silu"):
                    if (n + c) % 3 == 0 or op == "gelu":
                        out.append(Case(K.ACTIVATION, op, c, size=n))
                out.append(Case(K.BATCHNORM, "batchnorm", c, size=n))
                out.append(Case(K.CONCAT, "concat", c, size=n))
                if n <= 56:
                    out.append(Case(K.UPSAMPLE, "upsample", c, size=n))
                if n >= 8:
                    out.append(Case(K.POOL, "maxpool", c, size=n, kernel=3, stride=2))
                    out.append(Case(K.POOL, "avgpool", c, size=n, kernel=2, stride=2))
                out.append(Case(K.GLOBAL_POOL, "gap", c, size=n))
    for dim in (64, 192, 512):
        for t in (1, 16, 64, 197):
            out.append(Case(K.LAYERNORM, "layernorm", dim, tokens=t))
            out.append(Case(K.SOFTMAX, "softmax", dim, tokens=t))
    return sorted({chained(c) for c in out})


OPS = ("conv", "linear", "sdpa", "relu", "relu6", "add", "hardswish", "gelu", "sigmoid", "silu",
       "maxpool", "avgpool", "gap", "softmax", "layernorm", "batchnorm", "concat", "upsample")


def check_case(case: Case) -> str:
    """Why ``case`` cannot be built ('' when it can): a case read back from a file."""
    if case.op not in OPS:
        return f"unknown op {case.op!r}"
    for f in ("c_in", "size", "kernel", "stride", "groups", "tokens", "chain"):
        if getattr(case, f) < 1:
            return f"{f} must be at least 1"
    if case.c_out < 0 or (case.op in ("conv", "linear") and case.c_out < 1):
        return "c_out must be at least 1"
    if case.c_in % case.groups or (case.c_out and case.c_out % case.groups):
        return f"groups {case.groups} must divide c_in {case.c_in} and c_out {case.c_out}"
    if case.op == "sdpa" and case.c_in % case.groups:
        return "the attention width must be a multiple of the heads (groups)"
    if _work(case) > 4e9:
        return "too large a case"
    return ""


def densify(worst: list[Case], known: set[Case]) -> list[Case]:
    """New cases between the worst-fitted ones and their neighbours: channels x1.5 and /1.5,
    sizes and tokens x1.5 and /1.5 (rounded; nothing already measured, no more work than the
    grid's cap)."""
    out: list[Case] = []
    for c in worst:
        for f in (1.5, 1 / 1.5):
            ci = max(1, round(c.c_in * f))
            co = max(1, round(c.c_out * f)) if c.c_out else 0
            groups = ci if c.groups == c.c_in and c.groups > 1 else c.groups
            if groups > 1 and (ci % groups or co % groups):
                continue
            cand = [replace(c, c_in=ci, c_out=co, groups=groups)]
            if c.size > 4:
                cand.append(replace(c, size=max(4, round(c.size * f))))
            if c.tokens > 1:
                cand.append(replace(c, tokens=max(2, round(c.tokens * f))))
            for n in cand:
                if n not in known and n not in out and _work(n) <= 4e8:
                    out.append(n)
    return out


def _work(c: Case) -> float:
    return float(c.c_in * max(c.c_out, 1) * c.kernel ** 2 * c.size ** 2 * c.tokens
                 / max(1, c.groups))


def _joins() -> dict[str, type[nn.Module]]:
    """Modules of the multi-input ops (built on first use: torch is imported lazily)."""
    import torch
    from torch import nn
    from torch.nn import functional as F

    class Add(nn.Module):
        def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
            return a + b

    class Cat(nn.Module):
        def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
            return torch.cat([a, b], dim=1)

    class Attention(nn.Module):
        def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
            return F.scaled_dot_product_attention(q, k, v)

    return {"add": Add, "concat": Cat, "sdpa": Attention}


def chained(case: Case) -> Case:
    """``case`` run as a chain of ``CHAIN`` ops where each can feed the next (one input, stride
    1): copies of it, or, where it changes the channels (``c -> c'``), itself alternating with
    its mirror (``c' -> c``, the same kind of op). Tensors are then produced and consumed as in a
    model (fresh outputs, inputs just written by another op), not re-read by the same call."""
    chainable = (case.op not in ("add", "concat", "sdpa", "gap", "maxpool", "avgpool",
                                 "upsample") and case.stride == 1 and case.groups == 1
                 or case.op == "conv" and case.stride == 1 and case.c_out == case.c_in)
    return replace(case, chain=CHAIN) if chainable else case


def convolution_block(case: Case) -> tuple[nn.Module, tuple[torch.Tensor, ...]]:
    """What runs before each call of ``case`` timed cold: a block of a CNN on tensors of its own
    (a 3x3 convolution of 32 channels at 14x14, or before a 3x3 case a 1x1 one of 96 channels,
    as many MACs; then its BatchNorm and ReLU, each left out before a case of its own class),
    eval mode, seed 0. In torch eager a convolution leaves a CPU's private caches to its own
    (reordered) tensors, so the ops after it start with their code and data out of them, where
    a loop of the op alone keeps them warm: in a model, a layer whose class last ran before
    another layer's convolution (``mapping.kernels.cold_layers``)."""
    import torch
    from torch import nn

    torch.manual_seed(0)
    k, c = (1, 96) if case.cls == K.CONV3X3 else (3, 32)
    mods: list[nn.Module] = [nn.Conv2d(c, c, k, padding=k // 2, bias=False)]
    if case.cls != K.BATCHNORM:
        mods.append(nn.BatchNorm2d(c))
    if case.cls != K.ELEMENTWISE:
        mods.append(nn.ReLU())
    return nn.Sequential(*mods).eval(), (torch.randn(1, c, 14, 14),)


def build(case: Case) -> tuple[nn.Module, tuple[torch.Tensor, ...]]:
    """The torch module and inputs of ``case`` (eval mode, fixed seed 0)."""
    import copy

    from torch import nn

    module, inputs = _build_one(replace(case, chain=1))
    if case.chain > 1:
        mirror = module
        if case.c_out not in (0, case.c_in):
            mirror = _build_one(replace(case, c_in=case.c_out, c_out=case.c_in, chain=1))[0]
        module = nn.Sequential(*[copy.deepcopy(module if i % 2 == 0 else mirror)
                                 for i in range(case.chain)]).eval()
    return module, inputs


def _build_one(case: Case) -> tuple[nn.Module, tuple[torch.Tensor, ...]]:
    import torch
    from torch import nn

    torch.manual_seed(0)
    c, s = case.c_in, case.size
    img = (torch.randn(1, c, s, s),)
    if case.op == "conv":
        return (nn.Conv2d(c, case.c_out, case.kernel, case.stride, case.kernel // 2,
                          groups=case.groups, bias=False).eval(), img)
    if case.op == "linear":
        shape = (1, case.tokens, c) if case.tokens > 1 else (1, c)
        return nn.Linear(c, case.c_out).eval(), (torch.randn(*shape),)
    joins = _joins()
    if case.op == "sdpa":
        q = torch.randn(1, case.groups, case.tokens, c // case.groups)
        return joins["sdpa"]().eval(), (q, torch.randn_like(q), torch.randn_like(q))
    if case.op == "add":
        return joins["add"]().eval(), (img[0], torch.randn_like(img[0]))
    if case.op == "concat":
        half = torch.randn(1, max(1, c // 2), s, s)
        return joins["concat"]().eval(), (half, torch.randn_like(half))
    if case.op in ("softmax", "layernorm"):
        x = (torch.randn(1, case.tokens, c),)
        return (nn.Softmax(dim=-1) if case.op == "softmax" else nn.LayerNorm(c)).eval(), x
    mods: dict[str, nn.Module] = {
        "relu": nn.ReLU(), "relu6": nn.ReLU6(), "gelu": nn.GELU(), "sigmoid": nn.Sigmoid(),
        "hardswish": nn.Hardswish(), "silu": nn.SiLU(), "batchnorm": nn.BatchNorm2d(c),
        "maxpool": nn.MaxPool2d(case.kernel, case.stride, case.kernel // 2),
        "avgpool": nn.AvgPool2d(case.kernel, case.stride), "gap": nn.AdaptiveAvgPool2d(1),
        "upsample": nn.Upsample(scale_factor=2, mode="nearest")}
    return mods[case.op].eval(), img
