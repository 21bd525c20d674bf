"""``edgesim calibrate`` end to end: a quick real run on this machine, a refit from its stored
measurements, and bad input answered with one error line."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgesim.cli import main
from edgesim.hardware import load_hardware
from edgesim.hardware.model import BatchnormForm

RECORDED = Path(__file__).parent / "data" / "quick.measurements.json"


def test_a_quick_calibration_measures_fits_and_writes_a_spec(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]
                                                             ) -> None:
    out = tmp_path / "mine.yaml"
    assert main(["calibrate", "--quick", "--out", str(out)]) == 0
    printed = capsys.readouterr()
    assert "conv3x3" in printed.out and "median error" in printed.out
    assert "calibrate:" in printed.err  # progress
    meas = tmp_path / "mine.measurements.json"
    assert out.exists() and meas.exists()
    hw = load_hardware(out)
    unit = hw.main_unit
    assert unit.cores == 1 and unit.batchnorm == BatchnormForm.SEPARATE and unit.kernels
    # each case was timed warm and cold (after a convolution block): every class has both
    assert all(fit.cold is not None for _, fit in unit.kernels) and "cold: class" in printed.out
    assert [m.retains_weights for m in hw.memory][:2] == [False, True]  # the LLC
    # a refit of the stored measurements writes the same spec, byte for byte
    (tmp_path / "re").mkdir()
    again = tmp_path / "re" / "mine.yaml"  # same name, so the same spec text
    assert main(["calibrate", "--from", str(meas), "--out", str(again)]) == 0
    assert again.read_text() == out.read_text()
    assert "\nname: mine\n" in out.read_text()


def test_frozen_form_writes_a_folded_batchnorm_spec(tmp_path: Path) -> None:
    import torch

    if not hasattr(torch.jit, "freeze"):
        pytest.skip("this torch has no TorchScript freeze (the frozen form)")
    from edgesim.calibrate.cases import Case
    from edgesim.calibrate.run import calibrate, measure_machine
    from edgesim.vocab import KernelClass

    meas = measure_machine(1, "frozen", True, lambda _m: None,
                           cases=[Case(KernelClass.CONV3X3, "conv", 16, 16, 14, 3),
                                  Case(KernelClass.CONV3X3, "conv", 32, 32, 14, 3),
                                  Case(KernelClass.BATCHNORM, "batchnorm", 16, size=14)],
                           densify_share=0)
    path = tmp_path / "frozen.measurements.json"
    path.write_text(meas.to_json())
    calibrate(tmp_path / "frozen.yaml", from_path=path)
    hw = load_hardware(tmp_path / "frozen.yaml")
    assert hw.main_unit.batchnorm == BatchnormForm.FOLDED
    assert "form `frozen`" in (tmp_path / "frozen.yaml").read_text()


@pytest.mark.parametrize("argv, message", [
    (["calibrate", "--out", "{tmp}/x.txt"], "--out: expected a .yaml file"),
    (["calibrate", "--out", "{tmp}/nodir/x.yaml"], "does not exist"),
    (["calibrate", "--out", "{tmp}/x.yaml", "--threads", "0"], "--threads"),
    (["calibrate", "--out", "{tmp}/x.yaml", "--form", "jit"], "invalid choice"),
    (["calibrate", "--out", "{tmp}/x.yaml", "--from", "{tmp}/missing.json"], "cannot read"),
    (["calibrate", "--out", "{tmp}/x.yaml", "--from", "{tmp}/bad.json"],
     "not a readable measurements file"),
    (["validate", "--hw", "host-cpu"], "--hw: --hw names the spec of the host or GPU check"),
    (["validate", "--device", "host", "--check", "host", "--hw", "edge-npu"], "no simd main unit"),
    (["validate", "--device", "host", "--check", "host", "--hw", "{tmp}/none.yaml"], "none.yaml"),
    (["calibrate", "--out", "{tmp}/x.yaml", "--from", "{tmp}/bad.json", "--form", "frozen"],
     "--form: --form is what was measured"),
    (["calibrate", "--out", "{tmp}/x.yaml", "--from", "{tmp}/ok.json"], "unknown op 'conv9'"),
])
def test_bad_input_is_one_error_line(argv: list[str], message: str, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "bad.json").write_text("{not json")
    import json

    ok = json.loads(RECORDED.read_text())
    ok["samples"][0]["op"] = "conv9"
    (tmp_path / "ok.json").write_text(json.dumps(ok))
    assert main([a.replace("{tmp}", str(tmp_path)) for a in argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and message in err[0], err
    assert not (tmp_path / "x.yaml").exists()
