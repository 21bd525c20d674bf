"""GPU calibration: the fit of recorded H200 measurements writes a gpu spec that says where its
figures come from, and the GPU forms of measure, calibrate and validate say so in one line
where no GPU is present (CI has none; the GPU figures are measured once, docs/validation_gpu.md)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from edgesim.calibrate.gpu import FP32_PER_SM_DEFAULT, Gpu
from edgesim.calibrate.run import Measurements, clock_of, fit_measurements
from edgesim.cli import main
from edgesim.errors import EdgesimError
from edgesim.hardware import load_hardware
from edgesim.measurement import fp32_exact, measure, on_device

# A subset (three cases per kernel class) of hardware_specs/h200.measurements.json, measured by
# `edgesim calibrate --device cuda` on an NVIDIA H200 (torch 2.11 + CUDA 13.0) on 2026-11-29.
RECORDED = Path(__file__).parent / "data" / "gpu.measurements.json"
NO_GPU = pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA GPU")


@pytest.fixture(scope="module")
def recorded() -> Measurements:
    return Measurements.from_json(RECORDED.read_text(), str(RECORDED))


@pytest.fixture(scope="module")
def fitted(recorded: Measurements) -> str:
    return fit_measurements(recorded, name="gpu-test")[0]


def test_recorded_gpu_measurements_fit_to_a_gpu_spec(recorded: Measurements, fitted: str,
                                                     tmp_path: Path) -> None:
    again = fit_measurements(Measurements.from_json(recorded.to_json(), "again"),
                             name="gpu-test")[0]
    assert again == fitted  # deterministic, and the JSON round trip keeps the GPU
    spec = tmp_path / "gpu-test.yaml"
    spec.write_text(fitted)
    hw = load_hardware(spec)
    assert hw.kind == "gpu"
    unit = hw.main_unit
    # 132 multiprocessors x 128 fp32 lanes (compute capability 9.0) = 528 warps of 32 per cycle
    assert (unit.lanes, unit.cores) == (32, 528)
    assert hw.clock_hz == pytest.approx(1980e6)  # nvidia-smi clocks.max.sm, kept as reported
    assert [m.name for m in hw.memory] == ["dram", "l2"]
    assert hw.memory[1].size_bytes == 60 * 1024**2  # torch's L2_cache_size
    assert unit.kernels  # every class with cases got a fit
    # warm only on a GPU: no cold costs, no level retaining weights (both are a CPU's)
    assert all(fit.cold is None for _, fit in unit.kernels)
    assert not any(m.retains_weights for m in hw.memory) and "retains_weights" not in fitted
    for needle in ("NVIDIA H200", "compute capability 9.0", "CUDA events", "TF32 off",
                   "nvidia-smi power.draw", "fit error"):
        assert needle in fitted


def test_a_gpu_clock_is_never_raised_by_a_fast_kernel(recorded: Measurements) -> None:
    """A CPU guest reports its TSC, so a kernel faster than the peak raises the CPU clock; a
    GPU reports its real maximum clock, so such a kernel (Winograd) is said, not believed."""
    fast = replace(recorded, gemm_macs_per_s=3 * 32 * 528 * 1980e6)
    hz, note = clock_of(fast)
    assert hz == pytest.approx(1980e6)
    assert "3.00x the fp32 peak" in note
    assert recorded.gpu is not None
    unknown = replace(recorded, gpu=replace(recorded.gpu, max_sm_mhz=0.0))
    assert clock_of(unknown)[0] == pytest.approx(recorded.gemm_macs_per_s / (32 * 528))


def test_warps_per_clock_follow_the_compute_capability() -> None:
    a100 = Gpu("A100", (8, 0), 108, 40 * 1024**2, 40 * 1024**3, 1410.0, 0.0, "x", "12")
    assert a100.warps_per_clock == 108 * 64 // 32
    future = replace(a100, capability=(99, 0))
    assert future.fp32_per_sm == FP32_PER_SM_DEFAULT


@pytest.mark.parametrize("change,field", [
    ({"gpu": None}, "gpu"),
    ({"device": "tpu"}, "device"),
])
def test_gpu_measurements_files_are_checked(change: dict[str, object], field: str,
                                            tmp_path: Path) -> None:
    d = json.loads(RECORDED.read_text())
    d.update(change)
    bad = tmp_path / "bad.measurements.json"
    bad.write_text(json.dumps(d))
    with pytest.raises(EdgesimError) as err:
        Measurements.from_json(bad.read_text(), str(bad))
    assert err.value.field == field


def test_fp32_exact_turns_tf32_off_and_restores_it() -> None:
    before = (torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32)
    with fp32_exact():
        assert not torch.backends.cudnn.allow_tf32
        assert not torch.backends.cuda.matmul.allow_tf32
    assert (torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32) == before


@pytest.mark.parametrize("path", [RECORDED, Path(__file__).resolve().parents[2] /
                                  "hardware_specs" / "host-cpu.measurements.json"])
def test_a_measurements_file_reads_back_byte_for_byte(path: Path) -> None:
    """A CPU file gains no GPU keys: files measured before GPUs existed still refit as they
    did (hardware_specs/host-cpu.yaml is one)."""
    text = path.read_text()
    assert Measurements.from_json(text, str(path)).to_json() == text


def test_on_the_cpu_a_module_is_measured_as_it_is() -> None:
    module, inputs = torch.nn.ReLU(), (torch.randn(4),)
    assert on_device(module, inputs, "cpu") == (module, inputs)


@NO_GPU
def test_measuring_on_cuda_without_a_gpu_says_so() -> None:
    with pytest.raises(EdgesimError) as err:
        measure(torch.nn.ReLU(), (torch.randn(4),), device="cuda")
    assert err.value.field == "device" and "no CUDA GPU here" in str(err.value)


@NO_GPU
@pytest.mark.parametrize("argv", [
    ["calibrate", "--device", "cuda", "--out", "{tmp}/g.yaml"],
    ["validate", "--device", "cuda", "--hw", "h200", "--out", "{tmp}/check"],
])
def test_the_gpu_commands_without_a_gpu_are_one_error_line(
        argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([a.format(tmp=tmp_path) for a in argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--device: no CUDA GPU here" in err[0]
    assert not list(tmp_path.iterdir())  # nothing written


@pytest.mark.parametrize("argv,message", [
    (["validate", "--device", "cuda"],
     "--hw: the GPU check predicts with a spec written by edgesim calibrate --device cuda"),
    (["validate", "--device", "cuda", "--check", "host", "--hw", "h200"],
     "--device: the host and the GPU checks run one at a time"),
    (["validate", "--device", "cuda", "--hw", "host-cpu"],
     "--hw: 'host-cpu' is a cpu spec: the GPU check predicts a GPU (a gpu spec)"),
    (["validate", "--device", "host", "--check", "host", "--hw", "h200"],
     "--hw: 'h200' is a gpu spec: the host check predicts a CPU (a cpu spec)"),
])
def test_the_gpu_check_needs_its_own_spec(argv: list[str], message: str,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert message in capsys.readouterr().err


@NO_GPU
def test_the_gpu_benchmark_is_skipped_and_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    from benchmarks.calibration import main as bench

    assert bench(["--device", "cuda"]) == 0
    assert capsys.readouterr().out.startswith("skipped: no CUDA GPU here")
