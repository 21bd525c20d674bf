"""DES scenarios asserted on the timeline: overlap of branches, DRAM contention, memory-bound spans."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edgesim.hardware.model import Operation, UnitType
from edgesim.report.timeline import write_chrome_trace
from edgesim.results import EventKind, dram_busy_s, union_time_s
from edgesim.sim import simulate_schedule
from edgesim.sim.des import run_des, static_shares_s
from edgesim.vocab import OpKind
from edgesim.workload.ir import Layer, Workload
from tests.sim.simkit import conv, make_hw, make_unit, schedule_of


def _spans(res, kind: str, layer: str) -> list[tuple[float, float]]:  # type: ignore[no-untyped-def]
    return [(e.start_s, e.end_s) for e in res.timeline if e.kind == kind and e.name == layer]


def _two_branch_workload() -> Workload:
    a = conv("a", 32, 64, 28, inputs=())
    b = conv("b", 32, 64, 28, inputs=())
    join = Layer(name="join", op=OpKind.ADD, inputs=("a", "b"),
                 in_shapes=(a.out_shape, b.out_shape), out_shape=a.out_shape)
    return Workload("branches", (a, b, join))


def test_independent_branches_on_two_units_overlap() -> None:
    hw = make_hw(units=(make_unit("pe_array", 16, 16), make_unit("pe_array2", 16, 16)),
                 dram_bw=64e9)
    s = schedule_of(_two_branch_workload(), hw, units={"b": "pe_array2", "join": "pe_array"})
    des = simulate_schedule(s, "des")
    ana = simulate_schedule(s, "analytic")
    a_span = (min(x for x, _ in _spans(des, EventKind.COMPUTE, "a")),
              max(y for _, y in _spans(des, EventKind.COMPUTE, "a")))
    b_span = (min(x for x, _ in _spans(des, EventKind.COMPUTE, "b")),
              max(y for _, y in _spans(des, EventKind.COMPUTE, "b")))
    overlap = min(a_span[1], b_span[1]) - max(a_span[0], b_span[0])
    assert overlap > 0.8 * (a_span[1] - a_span[0])  # the branches run side by side
    # the analytic model chains them; DES saves about one branch (they are the same size)
    assert des.latency_s < 0.65 * ana.latency_s
    # the join starts only after both branches end
    join = next(lay for lay in des.layers if lay.name == "join")
    assert join.start_s >= max(a_span[1], b_span[1]) - 1e-15


def test_branches_on_the_same_unit_do_not_overlap_on_it() -> None:
    hw = make_hw(units=(make_unit("pe_array", 16, 16),), dram_bw=64e9)
    des = simulate_schedule(schedule_of(_two_branch_workload(), hw), "des")
    compute = sorted((e.start_s, e.end_s) for e in des.timeline if e.kind == EventKind.COMPUTE)
    busy = sum(e - s for s, e in compute)
    assert union_time_s(compute) == pytest.approx(busy, rel=1e-12)  # never two at once


def _memory_heavy(name: str) -> Workload:
    c1 = conv("c1", 64, 128, 28, inputs=())
    c2 = conv("c2", 128, 128, 28, prev="c1")
    return Workload(name, (c1, c2))


def test_co_running_workloads_contend_for_dram_and_busy_time_is_conserved() -> None:
    hw = make_hw(rows=32, cols=32, dram_bw=1e9)
    sa, sb = schedule_of(_memory_heavy("A"), hw), schedule_of(_memory_heavy("B"), hw)
    alone_a, = run_des([sa])
    alone_b, = run_des([sb])
    co_a, co_b = run_des([sa, sb])
    assert co_a.workload == "A" and co_b.workload == "B"
    assert co_a.latency_s > 1.3 * alone_a.latency_s
    assert co_b.latency_s > 1.3 * alone_b.latency_s
    # work-conserving channel: the DRAM is busy for the same total time, shared or not
    assert dram_busy_s([co_a, co_b]) == pytest.approx(
        dram_busy_s(alone_a) + dram_busy_s(alone_b), rel=1e-9)
    # the makespan cannot beat the DRAM's total work: bytes / bandwidth
    total_bytes = sum(r.dram_read_bytes + r.dram_write_bytes for r in (co_a, co_b))
    assert max(co_a.latency_s, co_b.latency_s) >= total_bytes / 1e9 * (1 - 1e-9)
    # counts and dynamic energy do not change with contention
    assert co_a.dynamic_energy_j == pytest.approx(alone_a.dynamic_energy_j, rel=1e-12)


def test_co_running_workloads_share_the_static_energy_once() -> None:
    hw = make_hw(rows=32, cols=32, dram_bw=1e9)
    sa = schedule_of(_memory_heavy("A"), hw)
    sb = schedule_of(Workload("B", (conv("c1", 64, 64, 14, inputs=()),)), hw)
    alone_a, = run_des([sa])
    co_a, co_b = run_des([sa, sb])
    power = alone_a.energy_breakdown_j["static"] / alone_a.latency_s  # alone: its own latency
    assert power > 0 and co_b.latency_s < co_a.latency_s
    # While both run each is charged half the time; A alone the rest: the chip leaks once.
    assert co_b.energy_breakdown_j["static"] == pytest.approx(power * co_b.latency_s / 2)
    assert co_a.energy_breakdown_j["static"] == pytest.approx(
        power * (co_b.latency_s / 2 + co_a.latency_s - co_b.latency_s))
    total = co_a.energy_breakdown_j["static"] + co_b.energy_breakdown_j["static"]
    assert total == pytest.approx(power * max(co_a.latency_s, co_b.latency_s))


def test_static_shares_sum_to_the_makespan() -> None:
    assert static_shares_s([1.0, 3.0]) == [0.5, 2.5]
    assert static_shares_s([2.0, 2.0, 2.0]) == pytest.approx([2 / 3] * 3)
    assert static_shares_s([4.0]) == [4.0]


def test_memory_bound_layer_dma_dominates() -> None:
    hw = make_hw(rows=32, cols=32, dram_bw=0.5e9)
    fc = Layer(name="fc", op=OpKind.LINEAR, inputs=(), in_shapes=((1, 4096),), out_shape=(1, 1024),
               weight_shape=(1024, 4096))
    res = simulate_schedule(schedule_of(Workload("fc", (fc,)), hw), "des")
    dma = union_time_s(_spans(res, EventKind.DMA_IN, "fc") + _spans(res, EventKind.DMA_OUT, "fc"))
    comp = union_time_s(_spans(res, EventKind.COMPUTE, "fc"))
    assert res.layers[0].bound == "memory"
    assert dma > 20 * comp
    assert dma == pytest.approx(res.latency_s, rel=0.05)


def test_adder_layer_shares_the_pipeline_with_units_by_name() -> None:
    hw = make_hw(units=(make_unit("pe_array"), make_unit("adders", operation=Operation.ADDER),
                        make_unit("vector", 1, 1, unit_type=UnitType.SIMD)))
    a = conv("a", 16, 16, 14, op=OpKind.ADDER_CONV2D, inputs=())
    s = schedule_of(Workload("add", (a,)), hw, units={"a": "adders"})
    res = simulate_schedule(s, "des")
    assert {e.lane for e in res.timeline if e.kind == EventKind.COMPUTE} == {"adders"}


def test_chrome_trace_is_valid_and_consistent(tmp_path: Path) -> None:
    hw = make_hw(dram_bw=2e9)
    sa, sb = schedule_of(_memory_heavy("A"), hw), schedule_of(_two_branch_workload(), hw)
    results = run_des([sa, sb])
    path = tmp_path / "run.json"
    write_chrome_trace(results, path)
    trace = json.loads(path.read_text())
    spans = [e for e in trace["traceEvents"] if e["ph"] == "X"]
    assert len(spans) == sum(len(r.timeline) for r in results)
    assert {e["pid"] for e in spans} == {1, 2}
    names = {(e["pid"], e["tid"]): e["args"]["name"] for e in trace["traceEvents"]
             if e["ph"] == "M" and e["name"] == "thread_name"}
    for pid, res in enumerate(results, start=1):
        mine = [e for e in spans if e["pid"] == pid]
        assert all(e["dur"] >= 0 and e["ts"] >= 0 for e in mine)
        assert max(e["ts"] + e["dur"] for e in mine) == pytest.approx(res.latency_s * 1e6,
                                                                     rel=1e-9)
        # the spans of one compute lane never overlap
        for (p, tid), lane in names.items():
            if p == pid and lane in {u.name for u in hw.compute}:
                iv = [(e["ts"], e["ts"] + e["dur"]) for e in mine if e["tid"] == tid]
                assert union_time_s(iv) == pytest.approx(sum(b - a for a, b in iv), rel=1e-9)
