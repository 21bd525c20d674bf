"""Cube units with shared register files (ZigZag's served dimensions), channel-only reduction,
pixel-tile rows and whole-word fractal reads, on the ``zigzag-edge-tpu-like`` spec (a 16-pixel x
8-output-channel x 8-input-channel cube; weights in a 1-byte file per (K, C) position serving the
16 pixels, outputs in a 2-byte register per (pixel, K) fed by an adder tree over the 8 channels).
Every expected count is worked by hand from the spec's geometry."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from edgesim.hardware import load_hardware
from edgesim.hardware.model import DepthUnroll, Hardware
from edgesim.mapping import map_layer
from tests.mapping.hwfactory import conv, linear

SPEC = "zigzag-edge-tpu-like"


@pytest.fixture(scope="module")
def edge() -> Hardware:
    return load_hardware(SPEC)


def _with_unit(hw: Hardware, **changes: object) -> Hardware:
    return replace(hw, compute=(replace(hw.compute[0], **changes),))  # type: ignore[arg-type]


def test_served_files_have_one_instance_per_group_of_pes(edge: Hardware) -> None:
    levels = {m.name: m for m in edge.memory}
    assert (levels["rf_1B"].pes_per_instance, levels["rf_1B"].instances) == (16, 64)
    assert (levels["rf_2B"].pes_per_instance, levels["rf_2B"].instances) == (8, 128)


def test_a_weight_read_is_broadcast_to_the_pixels_it_feeds(edge: Hardware) -> None:
    # 64 -> 64 channels, 3x3 on a 56x56 output (14 x 14 whole 4x4 tiles): every weight read
    # feeds 16 pixels, and each is written once per step it is used in (no reuse in 1 byte).
    layer = conv("c", 64, 64, 56, 3, pad=1)
    macs = 64 * 64 * 9 * 56 * 56
    got = map_layer(layer, edge)
    assert got.reads_bytes["rf_1B"] == got.writes_bytes["rf_1B"] == macs // 16
    # A layer with one output row per step (a linear layer at batch 1) feeds one PE per read.
    fc = map_layer(linear("fc", 512, 1000), edge)
    assert fc.reads_bytes["rf_1B"] == 512 * 1000


def test_outputs_accumulate_once_per_channel_step_and_drain_once(edge: Hardware) -> None:
    # conv1 of ResNet-18: 3 input channels use 3 of the 8 depth lanes; the 49 taps step in time,
    # so each of the 64 x 112 x 112 outputs is updated 49 times (ZigZag counts 39 337 984
    # accesses each way) and read once more as it leaves for the SRAM.
    layer = conv("conv1", 3, 64, 224, 7, stride=2, pad=3)
    outputs = 64 * 112 * 112
    got = map_layer(layer, edge)
    assert got.writes_bytes["rf_2B"] == outputs * 49 * 2 == 39_337_984 * 2
    assert got.reads_bytes["rf_2B"] == (outputs * 49 + outputs) * 2
    # im2col on the same cube: K = 147 in 19 steps of 8 instead of 49 taps x 1 step.
    im2col = map_layer(layer, _with_unit(edge, depth_unrolls=DepthUnroll.IM2COL))
    assert im2col.compute_cycles * 49 == got.compute_cycles * 19


def test_pixel_tiles_cover_a_14_wide_output_in_16_steps(edge: Hardware) -> None:
    layer = conv("c", 256, 256, 14, 3, pad=1)
    tiled = map_layer(layer, edge)  # ceil(14/4)^2 = 16 tiles of 4x4
    flat = map_layer(layer, _with_unit(edge, rows_pixel_tile=None))  # ceil(196/16) = 13
    steps = 32 * 32 * 9  # output-channel blocks x input-channel blocks x taps
    assert (tiled.compute_cycles, flat.compute_cycles) == (16 * steps, 13 * steps)
    # The weights are fetched once per pixel step: 16 / 13 times the bytes from sram_32KB.
    assert tiled.reads_bytes["sram_32KB"] * 13 == flat.reads_bytes["sram_32KB"] * 16
    # ... and each weight read feeds 196 / 16 = 12.25 pixels on average (ZigZag: 9 437 184).
    assert tiled.reads_bytes["rf_1B"] == math.ceil(256 * 256 * 9 * 196 / 12.25) == 9_437_184


def test_fractal_reads_are_charged_in_whole_words(edge: Hardware) -> None:
    # A depthwise layer: one weight per step, from an SRAM read in 8-byte words -> 8 bytes
    # charged per weight byte; 16 pixels x 1 channel = 16 input bytes per step: no padding.
    dw = conv("dw", 32, 32, 112, 3, pad=1, groups=32)
    got = map_layer(dw, edge)
    steps = 32 * 9 * 28 * 28  # channels x taps x pixel tiles
    assert got.reads_bytes["sram_32KB"] == steps * 8
    assert got.writes_bytes["rf_1B"] == steps  # the file is written the useful byte only
    dense = map_layer(conv("c", 64, 64, 56, 3, pad=1), edge)
    assert dense.reads_bytes["sram_32KB"] == 64 * 64 * 9 * 14 * 14  # 64-byte steps: no padding
