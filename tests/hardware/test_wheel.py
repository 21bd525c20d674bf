"""Built-in specs are found when edgesim is installed from a wheel (non-editable)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

from edgesim.hardware import list_hardware

ROOT = Path(__file__).resolve().parents[2]


def test_wheel_install_lists_specs(tmp_path: Path) -> None:
    wheels, target = tmp_path / "wheels", tmp_path / "site"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(wheels),
                    str(ROOT)], check=True, capture_output=True, timeout=120)
    (wheel,) = wheels.glob("edgesim-*.whl")
    with zipfile.ZipFile(wheel) as zf:  # users' type checkers read the package's annotations
        assert "edgesim/py.typed" in zf.namelist()
    subprocess.run([*pip, "install", "--no-deps", "--target", str(target), str(wheel)],
                   check=True, capture_output=True, timeout=120)
    code = ("import json, edgesim.hardware as h; "
            "print(json.dumps([h.list_hardware(), str(h.builtin_specs_dir()), "
            "h.load_hardware('eyeriss').main_unit.pe_count]))")
    env = {**os.environ, "PYTHONPATH": str(target)}
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, check=True,
                         capture_output=True, text=True, timeout=60)
    names, spec_dir, pes = json.loads(out.stdout)
    assert names == list_hardware()
    assert Path(spec_dir).is_relative_to(target)  # the wheel's copy, not the source tree
    assert spec_dir.endswith(os.path.join("edgesim", "_data", "hardware_specs"))
    assert pes == 168
