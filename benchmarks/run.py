"""Speed benchmark (``make bench``): analytic and DES times, mapping time, edgesim vs SCALE-Sim.

Prints, measured in one run on this machine:

1. ResNet-50 on ``edge-npu``: mapping time, analytic median ms per call once mapped (target
   <= 20 ms), DES seconds (target <= 2 s);
2. as whole processes, ``edgesim simulate`` vs SCALE-Sim v3 on the same small layer set (target
   >= 5x faster) and on ResNet-18 (target >= 100x). SCALE-Sim takes minutes on ResNet-18; with
   ``--quick`` it runs only a few ResNet-18 layers and the whole-network time is *extrapolated*
   in proportion to the array cycles of the layers (clearly labelled);
3. whether ``edgesim simulate`` on a YAML workload imports torch (it should not).

Not part of the test suite.
"""

from __future__ import annotations

import argparse
import math
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.peer_layers import (  # noqa: E402
    SMALL_LAYERS,
    scalesim_import_s,
    scalesim_layers_of,
    scalesim_process_s,
    write_layer_yaml,
)

BIN = Path(sys.executable).parent
EDGESIM = str(BIN / "edgesim")
ROWS = COLS = 64  # edge-npu's array; SCALE-Sim is given the same array and dataflow (ws)


def _timed_process(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def bench_resnet50(repeats: int) -> None:
    import edgesim as es
    from edgesim.mapping import map_workload
    from edgesim.sim import simulate

    wl = es.load_workload("resnet50")
    hw = es.load_hardware("edge-npu")
    t0 = time.perf_counter()
    sched = map_workload(wl, hw)
    map_s = time.perf_counter() - t0
    simulate(wl, hw)  # maps once more into the cache
    calls = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        res = simulate(wl, hw, mode="analytic")
        calls.append(time.perf_counter() - t0)
    des_calls = []
    for _ in range(3):
        t0 = time.perf_counter()
        des = simulate(wl, hw, mode="des")
        des_calls.append(time.perf_counter() - t0)
    ana_ms = statistics.median(calls) * 1e3
    des_s = statistics.median(des_calls)
    print(f"ResNet-50 on edge-npu: {len(sched.layers)} layers, {wl.macs / 1e9:.2f} GMACs")
    print(f"  mapping                      {map_s * 1e3:8.1f} ms")
    print(f"  analytic (median of {repeats})     {ana_ms:8.2f} ms per call   target <= 20 ms   "
          f"{'OK' if ana_ms <= 20 else 'MISSED'}")
    print(f"  DES (median of 3)            {des_s:8.3f} s  per call   target <= 2 s     "
          f"{'OK' if des_s <= 2 else 'MISSED'}  ({len(des.timeline)} timeline events)")
    print(f"  latency analytic {res.latency_s * 1e3:.3f} ms, DES {des.latency_s * 1e3:.3f} ms "
          f"({des.latency_s / res.latency_s - 1:+.1%}); energy analytic {res.energy_j * 1e3:.3f} mJ,"
          f" DES {des.energy_j * 1e3:.3f} mJ ({des.energy_j / res.energy_j - 1:+.2%})")


def bench_small_layers(tmp: Path) -> None:
    yaml_path = write_layer_yaml(SMALL_LAYERS, tmp / "small_layers.yaml", "small_layers")
    es_s = _timed_process([EDGESIM, "simulate", "--hw", "edge-npu", "--model", str(yaml_path),
                           "--json", str(tmp / "small.json")])
    ss_s = scalesim_process_s(SMALL_LAYERS, ROWS, COLS, "ws")
    ratio = ss_s / es_s
    print(f"Small layer set ({len(SMALL_LAYERS)} conv/fc layers), whole processes:")
    print(f"  edgesim simulate {es_s:7.2f} s   SCALE-Sim {ss_s:7.2f} s   ratio {ratio:6.1f}x   "
          f"target >= 5x   {'OK' if ratio >= 5 else 'MISSED'}")


def bench_resnet18(quick: bool, quick_layers: int) -> None:
    import edgesim as es

    wl = es.load_workload("resnet18")
    layers = scalesim_layers_of(wl)
    es_s = _timed_process([EDGESIM, "simulate", "--hw", "edge-npu", "--model", "resnet18",
                           "--json", "-"])
    if quick:
        # evenly spaced layers run; the simulation part of their time (process time less a
        # bare import of SCALE-Sim) is scaled by array cycles to the whole network
        cost = [_cycle_proxy(ly) for ly in layers]
        step = max(1, len(layers) // quick_layers)
        order = list(range(step // 2, len(layers), step))[:quick_layers]
        subset = [layers[i] for i in order]
        ss_sub = scalesim_process_s(subset, ROWS, COLS, "ws")
        overhead = scalesim_import_s()
        ss_s = overhead + (ss_sub - overhead) * sum(cost) / sum(cost[i] for i in order)
        label = (f"EXTRAPOLATED from {len(subset)} of {len(layers)} layers: "
                 f"{ss_sub:.1f} s measured, {overhead:.1f} s of it start-up, rest scaled by "
                 f"array cycles")
    else:
        ss_s = scalesim_process_s(layers, ROWS, COLS, "ws")
        label = f"measured on all {len(layers)} conv/fc layers"
    ratio = ss_s / es_s
    print("ResNet-18, whole processes:")
    print(f"  edgesim simulate {es_s:7.2f} s   SCALE-Sim {ss_s:7.1f} s ({label})")
    print(f"  ratio {ratio:6.1f}x   target >= 100x   {'OK' if ratio >= 100 else 'MISSED'}")


def _cycle_proxy(ly: object) -> float:
    """SCALE-Sim runs cycle by cycle: its time grows with the layer's array cycles (WS)."""
    from benchmarks.peer_layers import ws_cycles

    return float(ws_cycles(ly, ROWS, COLS))  # type: ignore[arg-type]


def check_no_torch(tmp: Path) -> None:
    yaml_path = write_layer_yaml(SMALL_LAYERS, tmp / "notorch.yaml", "notorch")
    code = ("import sys; from edgesim.cli import main; "
            f"rc = main(['simulate', '--hw', 'edge-npu', '--model', {str(yaml_path)!r}, "
            f"'--json', {str(tmp / 'nt.json')!r}]); print('torch' in sys.modules, rc)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout.split()
    imported = out[-2] == "True"
    print(f"edgesim simulate on a YAML workload imports torch: {imported}   "
          f"{'MISSED' if imported else 'OK'}")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true",
                   help="run SCALE-Sim on a few ResNet-18 layers and extrapolate (labelled)")
    p.add_argument("--quick-layers", type=int, default=4)
    p.add_argument("--repeats", type=int, default=30)
    args = p.parse_args()
    print(f"edgesim speed benchmark ({'quick' if args.quick else 'full'}; "
          f"{math.floor(time.time())} s epoch, {sys.platform})")
    with tempfile.TemporaryDirectory(prefix="edgesim_bench_") as d:
        tmp = Path(d)
        bench_resnet50(args.repeats)
        check_no_torch(tmp)
        bench_small_layers(tmp)
        bench_resnet18(args.quick, args.quick_layers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
