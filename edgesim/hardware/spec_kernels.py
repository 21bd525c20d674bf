"""The spec schema of a simd unit's calibrated kernel classes (what `edgesim calibrate` writes)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from edgesim.hardware.spec_types import Bandwidth, PositiveInt, _Frozen


class KernelCostSpec(_Frozen):
    """The cost of one kernel class run cold (a kernel class's `cold`)."""

    efficiency: float | list[tuple[PositiveInt, float]]
    """Sustained fraction of peak: one number, or [size, efficiency] points with the size along `axis` increasing, interpolated in log2 of the size and held constant beyond the ends."""
    axis: Literal["k", "m"] = "k"
    """The dimension the efficiency points follow: `k` (a GEMM's reduction length: input channels x kernel area / groups) or `m` (a GEMM's output rows: output pixels x batch, or tokens; a vector op's output elements)."""
    overhead_cycles: int = Field(default=0, ge=0, strict=True)
    """Fixed cycles of one call of the kernel (dispatch, primitive setup, layout reorders)."""
    pack_bandwidth: Bandwidth | None = Field(default=None, gt=0)
    """Rate of the packing pass each call makes before it computes, over the bytes of the class's packed operand: a oneDNN convolution's weights (conv1x1_strided, conv3x3, conv5x5, conv7x7, depthwise, grouped: torch eager reorders them into oneDNN's blocked layout every call) or a native convolution's unfolded input (conv_im2col: its K x M im2col matrix); default: no packing priced."""

    @field_validator("efficiency")
    @classmethod
    def _points(cls, v: float | list[tuple[int, float]]) -> float | list[tuple[int, float]]:
        values = [v] if isinstance(v, float | int) else [e for _, e in v]
        if not values:
            raise ValueError("expected at least one [K, efficiency] point")
        if any(not 0.0 < e <= 1.0 for e in values):
            raise ValueError(f"efficiencies must be in (0, 1], got {values}")
        if not isinstance(v, float | int):
            ks = [k for k, _ in v]
            if any(b <= a for a, b in zip(ks, ks[1:], strict=False)):
                raise ValueError(f"sizes must increase from point to point, got {ks}")
        return v


class KernelSpec(KernelCostSpec):
    """Calibrated cost of one kernel class of a simd unit (what `edgesim calibrate` writes)."""

    cold: KernelCostSpec | None = None
    """The class's cost when it runs cold: a layer whose class last ran before a convolution of another layer (in torch eager a convolution leaves a CPU's private caches to its own tensors); default: as warm. `edgesim calibrate` times each case after a convolution block for it."""
