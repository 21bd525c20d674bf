"""A level that keeps a model's weights across inferences (``retains_weights``): a CPU's last-level
cache under repeated inference. A model whose weights fit its share reads them from it in the
steady state, not from DRAM; one whose weights do not fit still streams them from DRAM."""

from __future__ import annotations

import pytest

from edgesim.errors import SpecError
from edgesim.hardware import load_hardware, spec_to_yaml
from edgesim.mapping import map_workload
from edgesim.mapping.schedule import weights_retained_by
from edgesim.mapping.topology import retention_capacity_bytes
from edgesim.vocab import WEIGHTED_OPS
from edgesim.workload.ir import Workload
from tests.mapping.hwfactory import conv

KEEP = {"memory.l3.retains_weights": True}


def _model(channels: int) -> Workload:
    a = conv("a", channels, channels, 14, 3, 1, 1)
    b = conv("b", channels, channels, 14, 3, 1, 1, inputs=("a",))
    return Workload("pair", (a, b))


def _weight_bytes(wl: Workload) -> int:
    return sum(lay.operand_bytes("fp32")["weights"] for lay in wl.layers
               if lay.op in WEIGHTED_OPS)


def test_weights_that_fit_come_from_the_retaining_level_not_dram() -> None:
    wl = _model(64)  # 2 x 64 x 64 x 9 fp32 weights: 295 KB, far below half of a 32 MiB l3
    plain = map_workload(wl, load_hardware("epyc-zen5"))
    kept = map_workload(wl, load_hardware("epyc-zen5", KEEP))
    weights = _weight_bytes(wl)
    for before, after in zip(plain.layers, kept.layers, strict=True):
        w = next(lay for lay in wl.layers if lay.name == before.layer).operand_bytes("fp32")
        # DRAM no longer sends the weights: the layer's DRAM reads drop by exactly them ...
        assert before.dram_read_bytes - after.dram_read_bytes == w["weights"]
        # ... and l3 serves them as before, without first being filled with them from DRAM
        assert after.reads_bytes["l3"] == before.reads_bytes["l3"]
        assert after.writes_bytes["l3"] == before.writes_bytes["l3"] - w["weights"]
    assert sum(c.dram_read_bytes for c in plain.layers) - \
        sum(c.dram_read_bytes for c in kept.layers) == weights


def test_weights_that_do_not_fit_stream_from_dram_as_before() -> None:
    hw = load_hardware("epyc-zen5", {**KEEP, "memory.l3.size": "256 KiB"})
    wl = _model(64)
    assert _weight_bytes(wl) > retention_capacity_bytes(hw.memory[1])  # half of 256 KiB
    assert weights_retained_by(wl, hw, [hw.main_unit] * 2) is None
    plain = load_hardware("epyc-zen5", {"memory.l3.size": "256 KiB"})
    assert [c.dram_read_bytes for c in map_workload(wl, hw).layers] == \
        [c.dram_read_bytes for c in map_workload(wl, plain).layers]


def test_a_weights_only_level_keeps_all_of_itself() -> None:
    hw = load_hardware("epyc-zen5", {**KEEP, "memory.l3.holds": ["weights"]})
    assert retention_capacity_bytes(hw.memory[1]) == hw.memory[1].total_bytes
    shared = load_hardware("epyc-zen5", KEEP)
    assert retention_capacity_bytes(shared.memory[1]) == shared.memory[1].total_bytes // 2


def test_the_field_round_trips_through_specs_show(tmp_path) -> None:
    hw = load_hardware("epyc-zen5", KEEP)
    p = tmp_path / "kept.yaml"
    p.write_text(spec_to_yaml(hw))
    assert [m.retains_weights for m in load_hardware(p).memory] == [False, True, False, False]


@pytest.mark.parametrize("override, field", [
    ({"memory.dram.retains_weights": True}, "memory[0].retains_weights"),
    ({"memory.l3.retains_weights": True, "memory.l2.retains_weights": True}, "memory"),
    ({**KEEP, "memory.l3.holds": ["inputs", "outputs"]}, "memory[1].retains_weights"),
    ({"memory.l2.retains_weights": True}, "memory[2].retains_weights"),  # l3 holds weights too
])
def test_misplaced_retention_is_a_spec_error(override: dict, field: str) -> None:
    with pytest.raises(SpecError) as err:
        load_hardware("epyc-zen5", override)
    assert err.value.field == field
