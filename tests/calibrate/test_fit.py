"""The calibration fit: it recovers known parameters, it is deterministic on recorded
measurements, and the spec it writes prices the cases as the fit did."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import pytest

from edgesim.calibrate.cases import Case, build
from edgesim.calibrate.fit import Measured, fit, knots, predict_s, terms_of
from edgesim.calibrate.run import (
    Measurements,
    base_hardware,
    clock_of,
    fit_measurements,
)
from edgesim.hardware import load_hardware
from edgesim.hardware.model import KernelFit
from edgesim.sim import simulate
from edgesim.vocab import KernelClass
from edgesim.workload.trace import trace

RECORDED = Path(__file__).parent / "data" / "quick.measurements.json"


@pytest.fixture(scope="module")
def recorded() -> Measurements:
    return Measurements.from_json(RECORDED.read_text(), str(RECORDED))


def test_the_same_measurements_give_the_same_spec_byte_for_byte(recorded: Measurements) -> None:
    a, ra = fit_measurements(recorded)
    b, rb = fit_measurements(Measurements.from_json(recorded.to_json(), "again"))
    assert a == b
    assert ra.rows == rb.rows
    assert "kernels:" in a and "batchnorm: separate" in a
    assert recorded.machine.cpu in a and recorded.date in a  # provenance in the header


def test_the_written_spec_prices_each_case_as_the_fit_predicted(recorded: Measurements,
                                                                 tmp_path: Path) -> None:
    """As the fit predicted, plus the DRAM transfers a single-layer workload starts and ends
    with (the fit leaves them out: its cases were timed warm)."""
    text, result = fit_measurements(recorded)
    spec = tmp_path / "fitted.yaml"
    spec.write_text(text)
    hw = load_hardware(spec)
    assert {c for c, _ in hw.main_unit.kernels} == set(result.fits)
    llc = max(lv.size_bytes for lv in recorded.levels if lv.name != "dram")
    for case, _cls, _measured, predicted in result.rows:
        if case.op != "conv" or case.groups > 1:
            continue  # compute-bound cases: no DRAM term that the warm fit leaves out
        module, inputs = build(case)
        wl = trace(module, inputs, name=case.id)
        assert sum(sum(lay.operand_bytes("fp32").values()) for lay in wl.layers) <= llc / 2
        res = simulate(wl, hw)
        dram_s = (res.dram_read_bytes + res.dram_write_bytes) / hw.outermost.bandwidth_bytes_per_s
        assert predicted * 0.99 <= res.latency_s <= (predicted + dram_s) * 1.01, case.id


def test_the_fit_recovers_parameters_that_generated_the_times(recorded: Measurements) -> None:
    """Times made by edgesim's own timing with known efficiencies, overheads and packing rates
    are fitted back to them (the least squares is not a no-op and has the right model). The
    recorded machine's spec runs torch's dispatch: the 3x3s of small inputs are conv_im2col
    (their unfolded input packed), the rest conv3x3 (oneDNN: their weights packed)."""
    clock = clock_of(recorded)
    base = base_hardware(recorded, clock)
    streamed = {lv.name: lv.bandwidth_bytes_per_s for lv in recorded.levels if lv.name != "dram"}
    cases = [Case(KernelClass.CONV3X3, "conv", c, c * w, s, 3) for c in (8, 16, 32, 64, 128, 256)
             for w in (1, 4) for s in (7, 14, 28, 56) if c * c * w * s * s <= 2e7]
    terms = {case: terms_of(trace(*build(case), name=case.id), base, 1e6) for case in cases}
    truth = {}
    for cls, rate, over in ((KernelClass.CONV3X3, 20e9, 20e-6),
                            (KernelClass.CONV_IM2COL, 8e9, 10e-6)):
        ks = knots(sorted({t.k for ts in terms.values() for t in ts if t.cls == cls}), cls)
        assert len(ks) >= 2, cls  # both classes have cases of several sizes
        points = tuple((k, 0.3 + 0.5 * i / (len(ks) - 1)) for i, k in enumerate(ks))
        truth[cls] = (KernelFit(points, 0, pack_bytes_per_s=rate), over)
    measured = []
    for case in cases:
        m = Measured(case, 1.0, terms[case])
        measured.append(replace(m, measured_s=predict_s(m, truth, truth[KernelClass.CONV3X3],
                                                        streamed)))
    result = fit(measured, streamed)
    for cls, (want, want_over) in truth.items():
        got, over = result.fits[cls]
        assert got.axis == "k" and [k for k, _ in got.points] == [k for k, _ in want.points]
        assert [e for _, e in got.points] == pytest.approx([e for _, e in want.points],
                                                           rel=0.02), cls
        assert over == pytest.approx(want_over, rel=0.05), cls
        assert got.pack_bytes_per_s == pytest.approx(want.pack_bytes_per_s, rel=0.05), cls
    assert max(result.errors()) < 0.02


@pytest.mark.parametrize("path, value, message", [
    (("threads",), 0, "threads"), (("form",), "jit", "unknown form"),
    (("samples", 0, "median_s"), 0.0, "positive time"),
    (("samples", 0, "groups"), 3, "groups 3 must divide"),
    (("levels",), [], "expected a dram level"),
    (("machine", "vector_fp32"), 0, "vector width"),
])
def test_measurements_that_no_fit_can_use_are_refused(path: tuple, value: object,
                                                      message: str) -> None:
    import json

    from edgesim.errors import EdgesimError

    d = json.loads(RECORDED.read_text())
    node = d
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    with pytest.raises(EdgesimError, match=message) as err:
        Measurements.from_json(json.dumps(d), "m.json")
    assert "m.json" in str(err.value)


def test_a_spec_is_named_after_its_file(recorded: Measurements) -> None:
    from edgesim.calibrate.run import spec_name

    assert spec_name(Path("out/mine.yaml")) == "mine"
    assert spec_name(Path("2 cores.yaml")) == "cpu-2-cores"
    text, _ = fit_measurements(recorded, name="mine")
    assert "\nname: mine\n" in text


def test_measurements_files_are_checked(tmp_path: Path) -> None:
    from edgesim.errors import EdgesimError

    with pytest.raises(EdgesimError, match="format"):
        Measurements.from_json('{"format": 99}', "x.json")
    with pytest.raises(EdgesimError, match="not a readable measurements file"):
        Measurements.from_json('{"format": 1}', "x.json")
    assert math.isfinite(Measurements.from_json(RECORDED.read_text(), "r").gemm_macs_per_s)


def test_cold_classes_are_fitted_on_the_cold_times_with_the_first_layer_cold(
        recorded: Measurements) -> None:
    """Cold times made with a known cold overhead on each chain's first layer (the rest warm,
    as ``mapping.kernels.cold_layers`` prices a chain of one class) are fitted back to it."""
    clock = clock_of(recorded)
    base = base_hardware(recorded, clock)
    streamed = {lv.name: lv.bandwidth_bytes_per_s for lv in recorded.levels if lv.name != "dram"}
    cls = KernelClass.CONV3X3
    # inputs of over 20480 elements: oneDNN's conv3x3 under the recorded spec's torch dispatch
    cases = [Case(cls, "conv", c, c, s, 3, chain=3) for c in (32, 48, 64, 128) for s in (28, 56)]
    warm = {cls: (KernelFit(((288, 0.3), (1152, 0.8)), 0), 20e-6)}
    cold = {cls: (KernelFit(((288, 0.3), (1152, 0.8)), 0), 90e-6)}
    measured = []
    for case in cases:
        module, inputs = build(case)
        m = Measured(case, 1.0, terms_of(trace(module, inputs, name=case.id), base, 1e6))
        assert len(m.terms) == 3
        measured.append(replace(m, measured_s=predict_s(m, warm, warm[cls], streamed),
                                cold_s=predict_s(m, warm, warm[cls], streamed, cold)))
    result = fit(measured, streamed)
    assert result.fits[cls][1] == pytest.approx(20e-6, rel=0.02)
    assert result.cold[cls][1] == pytest.approx(90e-6, rel=0.02)
    assert max(result.errors(cold=True)) < 0.02
    assert [r["class"] for r in result.summary(cold=True)] == ["conv3x3"]


def test_fastest_and_cold_times_round_trip_and_older_files_fit_their_medians(
        recorded: Measurements) -> None:
    import json

    s0 = recorded.samples[0]
    timed = replace(recorded, samples=(replace(s0, best_s=s0.median_s / 2, cold_s=s0.median_s),
                                       *recorded.samples[1:]))
    back = Measurements.from_json(timed.to_json(), "t.json")
    assert back.samples[0] == timed.samples[0] and back.samples[0].time_s == s0.median_s / 2
    old = json.loads(recorded.to_json())  # written before best_s and cold_s were kept
    assert all("best_s" not in smp and "cold_s" not in smp for smp in old["samples"])
    assert recorded.samples[0].time_s == recorded.samples[0].median_s
    _, result = fit_measurements(recorded)
    assert not result.cold and not result.cold_rows  # nothing timed cold: no cold classes


def test_the_shipped_cpu_spec_is_never_cheaper_cold_than_warm() -> None:
    """``host-cpu`` is a calibration output: each class's cold cost is its warm curve scaled down
    and its overhead raised (``fit._fit_cold``), so a layer priced cold never costs less."""
    unit = load_hardware("host-cpu").main_unit
    assert unit.kernels and all(k.cold is not None for _, k in unit.kernels)
    for cls, warm in unit.kernels:
        cold = warm.cold
        assert cold is not None and cold.axis == warm.axis, cls
        assert cold.overhead_cycles >= warm.overhead_cycles, cls
        for size in (1, 16, 256, 4096, 65536, 2 ** 22):
            assert cold.efficiency_at(size, size) <= warm.efficiency_at(size, size), (cls, size)
