"""Write the pre-traced zoo graphs (`workloads/zoo/<name>.yaml`) that `load_workload` prefers.

Run ``python -m edgesim.workload.export_zoo [DIR]`` after changing a zoo model or the tracer;
``tests/workload/test_zoo_graphs.py`` fails until the shipped graphs equal fresh traces.
"""

from __future__ import annotations

import sys
from pathlib import Path

from edgesim.workload import ZOO_NAMES, trace_zoo
from edgesim.workload.yaml_write import write_workload_yaml


def export(out_dir: Path) -> list[Path]:
    """Trace every zoo model and write its graph YAML into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in ZOO_NAMES:
        path = out_dir / f"{name}.yaml"
        write_workload_yaml(trace_zoo(name), path, form="graph")
        paths.append(path)
    return paths


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else Path(__file__).resolve().parents[2] / "workloads" / "zoo"
    for p in export(out):
        print(p)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
