"""Eyeriss (JSSC 2017) as a Hardware object, and the published workloads, for the RS tests."""

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
from edgesim.validate.published import VGG16_CONVS, alexnet_convs, vgg16_convs
from tests.mapping.hwfactory import level

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


__all__ = ["EYERISS", "EYERISS_RLC", "VGG16_CONVS", "alexnet_convs", "vgg16_convs"]
