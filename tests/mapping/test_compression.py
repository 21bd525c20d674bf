"""Run-length-coded activations at the activation home (Eyeriss' RLC, Chen et al. JSSC 2017)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from edgesim.errors import SpecError
from edgesim.hardware import load_hardware
from edgesim.hardware.model import Compression, Hardware, Residency
from edgesim.mapping import map_layer, map_workload
from edgesim.mapping.storage import rlc_ratio
from edgesim.workload.ir import Workload
from tests.mapping.eyeriss_fixture import EYERISS, EYERISS_RLC, alexnet_convs
from tests.mapping.hwfactory import conv, systolic_hw

SPECS = Path(__file__).resolve().parents[2] / "hardware_specs"


def test_rlc_ratio_from_the_word_format():
    # 16-bit: three (5-bit run, 16-bit level) pairs per 64-bit word: dense data grow by 64/48.
    assert rlc_ratio(0.0, 16) == pytest.approx(64 / 48)
    # Three quarters zeros: one pair per nonzero (runs longer than 31 are rare): a third.
    assert rlc_ratio(0.75, 16) == pytest.approx(0.25 * 64 / 48, rel=1e-3)
    # All zeros: one pair (31 zeros + a zero level) per 32 values.
    assert rlc_ratio(1.0, 16) == pytest.approx(64 / 48 / 32)
    # 8-bit levels: four 13-bit pairs per word.
    assert rlc_ratio(0.0, 8) == pytest.approx(64 / 32)


def _rlc(hw: Hardware) -> Hardware:
    return dataclasses.replace(hw, memory=(
        dataclasses.replace(hw.outermost, compression=Compression.RLC), *hw.memory[1:]))


def test_coded_bytes_cross_dram_only_and_are_conserved():
    a = conv("a", 16, 16, 32, 3, 1, 1, act_precision="int16", weight_precision="int16")
    b = conv("b", 16, 16, 32, 3, 1, 1, inputs=("a",), act_sparsity=0.6,
             act_precision="int16", weight_precision="int16")
    c = conv("c", 16, 16, 32, 3, 1, 1, inputs=("a",), act_sparsity=0.6,
             act_precision="int16", weight_precision="int16")
    wl = Workload("fanout", (a, b, c))  # a has two consumers: its output goes to DRAM
    hw = dataclasses.replace(systolic_hw(sram=1 << 20, precisions=("int16",)),
                             residency=Residency.NEXT_LAYER)
    raw, coded = map_workload(wl, hw), map_workload(wl, _rlc(hw))
    out_bytes = 16 * 32 * 32 * 2
    assert raw.layers[0].dram_write_bytes == out_bytes
    assert coded.layers[0].dram_write_bytes == round(out_bytes * rlc_ratio(0.6, 16))
    for i in (1, 2):  # each consumer reads exactly what was written, plus its weights
        weights = b.params * 2
        assert coded.layers[i].dram_read_bytes - weights == coded.layers[0].dram_write_bytes
        # Buffers hold decoded data: the on-chip side is unchanged.
        assert coded.layers[i].reads_bytes["ifmap_buf"] == raw.layers[i].reads_bytes["ifmap_buf"]
    # The model input is read as the host wrote it (raw), weights are never coded.
    assert coded.layers[0].dram_read_bytes == raw.layers[0].dram_read_bytes
    # Outside a workload a layer's output is coded with the zeros its consumers will see.
    alone = map_layer(a, _rlc(hw), output_zero_fraction=0.6)
    assert alone.dram_write_bytes == coded.layers[0].dram_write_bytes


def test_spec_field_loads_and_is_checked(tmp_path: Path):
    assert load_hardware("eyeriss").outermost.compression == Compression.RLC
    assert load_hardware("edge-npu").outermost.compression == Compression.NONE  # the default
    text = (SPECS / "eyeriss.yaml").read_text()
    bad = text.replace("    per_pe: true\n", "    per_pe: true\n    compression: rlc\n")
    path = tmp_path / "bad.yaml"
    path.write_text(bad)
    with pytest.raises(SpecError, match="compression"):
        load_hardware(path)
    path.write_text(text.replace("compression: rlc ", "compression: zip "))
    with pytest.raises(SpecError, match="compression"):
        load_hardware(path)


def test_eyeriss_rlc_where_measured_traffic_is_below_the_uncompressed_size():
    """conv4/conv5 move less DRAM data on the chip (JSSC 2017: 2.1 and 1.3 MB) than their
    uncompressed weights + ifmaps + ofmaps (2.37 and 1.75 MB): only coding explains it. With RLC
    both come within 30% (conv5 is the workload's last layer, so its output's zeros are unknown
    and it is coded as dense; it also re-reads its ifmap for a second block of 64 filters, which
    the GLB blocking models). conv1-3 are checked in test_spatial_eyeriss.py."""
    measured_mb = {"conv4": 2.1, "conv5": 1.3}
    wl = alexnet_convs(4)
    raw, coded = map_workload(wl, EYERISS), map_workload(wl, EYERISS_RLC)
    for r, c in zip(raw.layers, coded.layers, strict=True):
        if c.layer in measured_mb:
            mb = (c.dram_read_bytes + c.dram_write_bytes) / 1e6
            assert mb == pytest.approx(measured_mb[c.layer], rel=0.30)
        if c.layer != "conv1":  # sparse ifmaps (39-79% zeros) shrink; the raw image does not
            assert c.dram_read_bytes < r.dram_read_bytes
        assert c.compute_cycles == r.compute_cycles  # coding changes traffic, not cycles
    assert coded.layers[0].dram_read_bytes == raw.layers[0].dram_read_bytes
