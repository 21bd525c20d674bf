"""The AdderNet layer (Chen et al., CVPR 2020): y = -sum |x - w|, trainable, memory-frugal."""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from edgesim.vocab import pair

# Elements of the |x - w| block materialised at once in the backward pass (~1 MB of float32, cache-sized).
_BLOCK_ELEMS = 1 << 18


class _AdderFunction(torch.autograd.Function):
    """-sum |x - w| over the last dim with the AdderNet gradients.

    Forward: ``out[n, l, k] = -sum_j |x[n, l, j] - w[k, j]|`` (x is the unfolded input).
    Backward (the paper's eqs. 5 and 6): ``dY/dW = X - W`` (full precision, no sign) and
    ``dY/dX = HardTanh(W - X)``.
    """

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(x, w)
        n = x.shape[0]
        # torch.cdist with p=1 computes the pairwise L1 distance without a 4-D intermediate.
        return -torch.cdist(x, w.unsqueeze(0).expand(n, -1, -1).contiguous(), p=1.0)

    @staticmethod
    def backward(ctx: Any, grad_out: torch.Tensor
                 ) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        x, w = ctx.saved_tensors  # x: (N, L, J), w: (K, J); grad_out: (N, L, K)
        grad_x = grad_w = None
        if ctx.needs_input_grad[1]:
            # sum_{n,l} g[n,l,k] (x[n,l,j] - w[k,j]) = g^T x - w * sum g  (no 4-D tensor needed)
            g2 = grad_out.reshape(-1, grad_out.shape[-1])  # (N*L, K)
            x2 = x.reshape(-1, x.shape[-1])  # (N*L, J)
            grad_w = g2.t().matmul(x2) - w * g2.sum(dim=0).unsqueeze(1)
        if ctx.needs_input_grad[0]:
            grad_x = torch.zeros(x.shape, dtype=x.dtype, device=x.device)
            n, length, j = x.shape
            k_out = w.shape[0]
            rows_per_block = max(1, _BLOCK_ELEMS // max(1, k_out * j))
            xf = x.reshape(-1, j)
            gf = grad_out.reshape(-1, k_out)
            gx = grad_x.view(-1, j)
            for start in range(0, n * length, rows_per_block):
                stop = min(start + rows_per_block, n * length)
                # (rows, K, J): HardTanh(w - x), weighted by the incoming gradient, summed over K
                ht = (w.unsqueeze(0) - xf[start:stop].unsqueeze(1)).clamp_(-1.0, 1.0)
                gx[start:stop] = torch.einsum("rk,rkj->rj", gf[start:stop], ht)
        return grad_x, grad_w


class AdderConv2d(nn.Module):
    """Adder convolution: ``y[n,k,p] = -sum_{c,r,s} |x[n,c,p+(r,s)] - w[k,c,r,s]|`` (+ bias).

    Attributes mirror :class:`torch.nn.Conv2d` (``in_channels``, ``out_channels``,
    ``kernel_size``, ``stride``, ``padding``, ``dilation`` as tuples, ``groups``, ``weight`` of
    shape ``(K, C/g, R, S)``, ``bias`` or ``None``) so tracers and converters read it the same way.
    Padding is zero padding. The forward never materialises an ``N x K x CRS x L`` tensor.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | tuple[int, int],
                 stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] = 0,
                 dilation: int | tuple[int, int] = 1, groups: int = 1, bias: bool = False) -> None:
        super().__init__()
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"in_channels ({in_channels}) and out_channels ({out_channels}) "
                             f"must be divisible by groups ({groups})")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = pair(kernel_size)
        self.stride = pair(stride)
        self.padding = pair(padding)
        self.dilation = pair(dilation)
        self.groups = groups
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels // groups,
                                               *self.kernel_size))
        self.bias: nn.Parameter | None = (nn.Parameter(torch.zeros(out_channels)) if bias
                                          else None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Kaiming-uniform init as nn.Conv2d does."""
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))

    @classmethod
    def from_conv(cls, conv: nn.Conv2d) -> AdderConv2d:
        """An adder layer with the shapes and (copied) weights of ``conv``."""
        if isinstance(conv.padding, str):
            totals = [d * (k - 1) for d, k in zip(conv.dilation, conv.kernel_size, strict=True)]
            if conv.padding == "valid":
                pad = (0, 0)
            elif all(t % 2 == 0 for t in totals):
                pad = (totals[0] // 2, totals[1] // 2)
            else:
                raise ValueError("padding='same' with an even kernel is asymmetric; "
                                 "adder layers need symmetric padding")
        else:
            pad = pair(conv.padding)
        layer = cls(conv.in_channels, conv.out_channels, conv.kernel_size,  # type: ignore[arg-type]
                    conv.stride, pad, conv.dilation, conv.groups,  # type: ignore[arg-type]
                    bias=conv.bias is not None)
        with torch.no_grad():
            layer.weight.copy_(conv.weight)
            if conv.bias is not None and layer.bias is not None:
                layer.bias.copy_(conv.bias)
        return layer.to(conv.weight.device)

    def extra_repr(self) -> str:
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}, padding={self.padding}")
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        return s + f", bias={self.bias is not None}"

    def _weight(self) -> torch.Tensor:
        """The weight used by the forward (quantized subclasses override this)."""
        return self.weight

    def _input(self, x: torch.Tensor) -> torch.Tensor:
        """The input used by the forward (quantized subclasses override this)."""
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return adder_conv2d(self._input(x), self._weight(), self.bias, self.stride, self.padding,
                            self.dilation, self.groups)


def adder_conv2d(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None,
                 stride: tuple[int, int], padding: tuple[int, int], dilation: tuple[int, int],
                 groups: int) -> torch.Tensor:
    """Functional adder convolution (see :class:`AdderConv2d`)."""
    n, c, h, w_in = x.shape
    k_out, c_per_g, r, s = weight.shape
    oh = (h + 2 * padding[0] - dilation[0] * (r - 1) - 1) // stride[0] + 1
    ow = (w_in + 2 * padding[1] - dilation[1] * (s - 1) - 1) // stride[1] + 1
    cols = F.unfold(x, (r, s), dilation=dilation, padding=padding, stride=stride)  # (N, C*R*S, L)
    k_per_g = k_out // groups
    j = c_per_g * r * s
    outs = []
    for g in range(groups):
        xg = cols[:, g * j:(g + 1) * j, :].transpose(1, 2)  # (N, L, J)
        wg = weight[g * k_per_g:(g + 1) * k_per_g].reshape(k_per_g, j)
        outs.append(_AdderFunction.apply(xg, wg))  # (N, L, K/g)
    out = torch.cat(outs, dim=2) if groups > 1 else outs[0]
    out = out.transpose(1, 2).reshape(n, k_out, oh, ow)
    if bias is not None:
        out = out + bias.view(1, -1, 1, 1)
    return out
