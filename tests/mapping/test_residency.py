"""Per-tensor activation residency and DRAM conservation; strided windows' input footprint."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from edgesim.hardware.model import Hardware
from edgesim.mapping import input_sources, map_layer, map_workload
from edgesim.vocab import OpKind
from edgesim.workload.ir import Layer, Workload
from tests.mapping.hwfactory import conv, systolic_hw

SPECS = Path(__file__).resolve().parents[2] / "hardware_specs"


def _add(name: str, a: Layer, b: Layer) -> Layer:
    return Layer(name, OpKind.ADD, (a.name, b.name), (a.out_shape, b.out_shape), a.out_shape)


def residual_net() -> Workload:
    """stem -> c1 -> c2 -> add(c2, stem) -> c3 -> add(c3, add1): a ResNet basic-block chain."""
    stem = conv("stem", 3, 16, 32, 3, 1, 1)
    c1 = conv("c1", 16, 16, 32, 3, 1, 1, inputs=("stem",))
    c2 = conv("c2", 16, 16, 32, 3, 1, 1, inputs=("c1",))
    add1 = _add("add1", c2, stem)
    c3 = conv("c3", 16, 16, 32, 3, 1, 1, inputs=("add1",))
    add2 = _add("add2", c3, add1)
    return Workload("residual", (stem, c1, c2, add1, c3, add2))


def check_dram_conservation(wl: Workload, hw: Hardware) -> int:
    """Every activation byte a layer reads from DRAM was written there by its producer or is a
    model input (on hardware whose buffers hold every tile, so nothing is re-fetched).
    Returns the total activation bytes read from DRAM."""
    s = map_workload(wl, hw)
    index = {lay.name: i for i, lay in enumerate(wl.layers)}
    out_shapes = [lay.out_shape for lay in wl.layers]
    total = 0
    for lay, c in zip(wl.layers, s.layers, strict=True):
        a_bits = 8 if lay.act_precision is None else int(lay.act_precision.removeprefix("int"))
        in_dram = 0
        for shape, src in zip(lay.in_shapes, input_sources(lay, index, out_shapes), strict=True):
            tensor = math.ceil(math.prod(shape) * a_bits / 8)
            if src is None:
                in_dram += tensor  # a model input
            elif s.layers[src].dram_write_bytes > 0:
                assert s.layers[src].dram_write_bytes >= tensor  # written whole
                in_dram += tensor
        read = int(c.dram_act_read_bytes)
        assert read <= in_dram, (lay.name, read, in_dram)
        total += read
    return total


def test_residual_add_reads_only_the_input_in_dram():
    wl = residual_net()
    s = map_workload(wl, systolic_hw(sram=1 << 20, all_ops=True))
    by = {c.layer: c for c in s.layers}
    branch = 16 * 32 * 32  # int8: the branch tensor (stem, add1) is written to DRAM once
    assert by["stem"].dram_write_bytes == branch and by["add1"].dram_write_bytes == branch
    assert by["c2"].dram_write_bytes == 0  # consumed by the next layer only: stays on chip
    assert by["add1"].dram_read_bytes == branch  # only stem's output; c2's is on chip
    assert by["add2"].dram_read_bytes == branch
    # Both inputs on chip, one, none: DRAM reads scale with the inputs that live in DRAM.
    add = wl.layer("add1")
    hw = systolic_hw(sram=1 << 20, all_ops=True)
    reads = [map_layer(add, hw, inputs_on_chip=f).dram_read_bytes
             for f in ([True, True], [True, False], [False, False])]
    assert reads == [0, branch, 2 * branch]


def test_dram_conservation_small_residual_net():
    total = check_dram_conservation(residual_net(), systolic_hw(sram=1 << 20, all_ops=True))
    # The model input once; each branch tensor (stem, add1) by both of its consumers.
    assert total == 3 * 32 * 32 + 4 * 16 * 32 * 32


@pytest.mark.parametrize("spec", ["systolic-8MiB", "zigzag-tpu-like.yaml"])
def test_dram_conservation_resnet18(spec: str):
    from edgesim.hardware import load_hardware
    from edgesim.workload import load_workload

    wl = load_workload("resnet18")
    hw = systolic_hw(32, 32, sram=8 << 20, all_ops=True) if spec.startswith("systolic") \
        else load_hardware(SPECS / spec)
    total = check_dram_conservation(wl, hw)
    assert total > 0


def test_strided_pointwise_reads_touched_pixels_only():
    hw = systolic_hw(sram=1 << 20, all_ops=True)
    down = conv("down", 64, 128, 56, 1, 2, 0)  # a ResNet downsample shortcut
    c = map_layer(down, hw)
    assert c.dram_read_bytes == 64 * 28 * 28 + down.params  # a quarter of the input
    # Windows at least as wide as the stride touch every pixel: the whole input is read.
    c3 = map_layer(conv("c3", 64, 128, 56, 3, 2, 1), hw)
    assert c3.dram_read_bytes == 64 * 56 * 56 + 64 * 128 * 9
    # Also when the input streams in row bands through a small buffer.
    small = map_layer(down, systolic_hw(sram=16 * 1024))
    assert small.extra["buffer_tiles"] > 1
    assert small.reads_bytes["ifmap_buf"] >= small.dram_read_bytes - down.params
    assert small.dram_read_bytes - down.params <= 64 * 28 * 28 * 1.05
