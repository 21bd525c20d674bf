"""Eyeriss (JSSC 2017) as a Hardware object and AlexNet's conv layers, for the RS tests."""

from __future__ import annotations

import dataclasses

from edgesim.hardware.model import (
    Compression,
    ComputeUnit,
    Dataflow,
    Hardware,
    MemoryType,
    Operand,
    Operation,
    UnitType,
    ZeroSkip,
)
from edgesim.workload.ir import Workload
from tests.mapping.hwfactory import conv, level

# Chen et al., JSSC 2017: 12 x 14 PEs, 16-bit, 200 MHz core clock, 108 KB global buffer;
# per-PE scratchpads of 12 ifmap, 224 filter and 24 psum 16-bit entries; zero gating of ifmaps;
# 64-bit DRAM link at a 60 MHz link clock = 480 MB/s.
EYERISS = Hardware(
    name="eyeriss-test", kind="npu", technology_nm=65, clock_hz=200e6,
    compute=(ComputeUnit(name="pe_array", type=UnitType.SPATIAL, operation=Operation.MAC,
                         precisions=("int16",), rows=12, cols=14, dataflow=Dataflow.RS,
                         zero_gating=ZeroSkip.ACTIVATIONS),),
    memory=(level("dram", MemoryType.DRAM, 1 << 30, bw=480e6),
            level("glb", MemoryType.SRAM, 108 * 1024, (Operand.INPUTS, Operand.OUTPUTS)),
            level("ifmap_spad", MemoryType.REGFILE, 24, (Operand.INPUTS,), True, 168),
            level("filter_spad", MemoryType.REGFILE, 448, (Operand.WEIGHTS,), True, 168),
            level("psum_spad", MemoryType.REGFILE, 48, (Operand.OUTPUTS,), True, 168)),
)

# The same with run-length-coded activations in DRAM (JSSC 2017, Sec. V: RLC on ifmaps/ofmaps).
EYERISS_RLC = dataclasses.replace(EYERISS, memory=(
    dataclasses.replace(EYERISS.memory[0], compression=Compression.RLC), *EYERISS.memory[1:]))


def alexnet_convs(batch: int = 4) -> Workload:
    """Original (grouped) AlexNet conv layers at int16, ifmap zero fractions from JSSC 2017."""
    kw = {"weight_precision": "int16", "act_precision": "int16", "batch": batch}
    layers = [
        conv("conv1", 3, 96, 227, 11, 4, 0, act_sparsity=0.0001, **kw),
        conv("conv2", 96, 256, 27, 5, 1, 2, 2, inputs=("conv1",), act_sparsity=0.387, **kw),
        conv("conv3", 256, 384, 13, 3, 1, 1, inputs=("conv2",), act_sparsity=0.725, **kw),
        conv("conv4", 384, 384, 13, 3, 1, 1, 2, inputs=("conv3",), act_sparsity=0.793, **kw),
        conv("conv5", 384, 256, 13, 3, 1, 1, 2, inputs=("conv4",), act_sparsity=0.776, **kw),
    ]
    return Workload("alexnet-conv", tuple(layers), batch=batch)


VGG16_CONVS = ((3, 64, 224), (64, 64, 224), (64, 128, 112), (128, 128, 112), (128, 256, 56),
               (256, 256, 56), (256, 256, 56), (256, 512, 28), (512, 512, 28), (512, 512, 28),
               (512, 512, 14), (512, 512, 14), (512, 512, 14))
"""(in channels, out channels, input size) of VGG-16's 3x3, stride-1, pad-1 conv layers."""


def vgg16_convs(batch: int = 3) -> Workload:
    """VGG-16's 13 conv layers at int16 (pooling between blocks is not an RS layer: left out)."""
    kw = {"weight_precision": "int16", "act_precision": "int16", "batch": batch}
    layers = [conv(f"conv{i + 1}", c, k, hw, 3, 1, 1, **kw)
              for i, (c, k, hw) in enumerate(VGG16_CONVS)]
    return Workload("vgg16-conv", tuple(layers), batch=batch)
