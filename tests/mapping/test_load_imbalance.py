"""Zero skipping is not ideal: lanes in lockstep wait for the one with the most nonzeros."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from edgesim.hardware.model import ZeroSkip
from edgesim.mapping import map_layer
from edgesim.mapping.mapper import lockstep_fraction
from edgesim.vocab import OpClass
from tests.mapping.hwfactory import conv, systolic_hw


def test_lockstep_fraction_limits() -> None:
    assert lockstep_fraction(1.0, 576, 64) == 1.0  # dense
    assert lockstep_fraction(0.1, 576, 1) == 0.1  # one lane: no one to wait for
    assert lockstep_fraction(0.1, 9, 64) > 0.3  # short reductions: large spread
    assert lockstep_fraction(0.5, 4, 4096) == 1.0  # capped at dense
    assert 0.1 < lockstep_fraction(0.1, 4608, 64) < lockstep_fraction(0.1, 576, 64)
    assert lockstep_fraction(0.1, 576, 16) < lockstep_fraction(0.1, 576, 64)


@pytest.mark.parametrize(("density", "k", "lanes"), [(0.1, 576, 64), (0.3, 1152, 64),
                                                     (0.5, 144, 16), (0.1, 4608, 128)])
def test_lockstep_fraction_against_sampled_maxima(density: float, k: int, lanes: int) -> None:
    """Blom's estimate of the slowest lane against sampled maxima (seeded): within 3%."""
    rng = np.random.default_rng(0)
    sampled = rng.binomial(k, density, size=(4000, lanes)).max(axis=1).mean() / k
    est = lockstep_fraction(density, k, lanes)
    assert est == pytest.approx(sampled, rel=0.03)


def test_only_the_lanes_a_gemm_uses_wait_for_each_other() -> None:
    from edgesim.mapping.mapper import lockstep_lanes

    skip = systolic_hw(64, 64, zero_skip=ZeroSkip.WEIGHTS)
    assert lockstep_lanes(skip.main_unit, 784, 1) == 1  # depthwise: one column works
    assert lockstep_lanes(skip.main_unit, 784, 200) == 64
    dw = conv("dw", 32, 32, 14, 3, 1, 1, groups=32, weight_sparsity=0.9)
    c = map_layer(dw, skip)
    assert "K_eff=1)" in c.note  # one column: no one to wait for, ceil(9 x 0.1) = 1


def test_sparse_conv_pays_the_imbalance_and_n_m_does_not() -> None:
    skip = systolic_hw(64, 64, sram=4 << 20, zero_skip=ZeroSkip.WEIGHTS, nm=("2:4",))
    dense = map_layer(conv("c", 64, 64, 28, 3, 1, 1), skip)
    sparse = map_layer(conv("c", 64, 64, 28, 3, 1, 1, weight_sparsity=0.9), skip)
    ideal = 0.1 * dense.compute_cycles
    assert sparse.compute_cycles > 1.2 * ideal  # K=576 over 64 columns: ~0.136 of dense
    assert sparse.ops[OpClass.MAC] == pytest.approx(0.1 * dense.ops[OpClass.MAC], rel=0.01)
    # Index decoding: one add per weight loaded into the array (the compacted K x N once, WS).
    assert OpClass.ADD not in dense.ops
    assert sparse.ops[OpClass.ADD] == int(sparse.note.split("K_eff=")[1].split(")")[0]) * 64
    nm = map_layer(dataclasses.replace(conv("c", 64, 64, 28, 3, 1, 1), weight_sparsity=0.5,
                                       sparsity_pattern="2:4"), skip)
    assert "K_eff=288" in nm.note  # structured: exactly half the reduction, no imbalance
