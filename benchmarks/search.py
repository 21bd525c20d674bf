"""Search benchmark (``make bench-search``): the oracle's speed as a search sees it.

Prints, measured in one run on this machine (ratios compare figures of the same run):

1. 1000 ResNet-18 channel-pruning candidates (latency + energy on ``edge-npu``, analytic,
   NSGA-II 100 x 10) as one whole ``edgesim search`` process, start-up included (target <= 15 s);
   beside it the torch path a hand-written loop takes (Torch-Pruning, trace, simulate) per
   candidate, timed on a few candidates and multiplied to 1000 (labelled as extrapolated);
2. hardware design points per second: a grid over the array size, three buffer sizes and DRAM
   bandwidth for ResNet-18 (1440 designs), serially and on worker processes (target >= 500/s on
   2 cores), against a plain loop of ``load_hardware(overrides)`` + ``simulate`` (the target
   was set when that loop did ~100/s on a core: >= 5x it, the figure that carries between runs
   of a machine whose speed moves with its load);
3. Dask: a real local scheduler with 1, then 2 single-thread workers (separate processes):
   per-candidate overhead against the serial run, and the speed-up from 1 to 2 workers.

Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
EDGESIM = str(BIN / "edgesim")

PRUNING = {"problem": "channel_pruning", "model": "resnet18", "hardware": "edge-npu",
           "space": {"granularity": "group",
                     "ratios": [0.0, 0.125, 0.25, 0.375, 0.5, 0.625, 0.75]},
           "objectives": ["latency_s", "energy_j"],
           "algorithm": {"name": "nsga2", "pop_size": 100, "generations": 10, "seed": 0}}
DSE_SPACE = {
    "compute.pe_array.rows,compute.pe_array.cols": [[8, 8], [16, 16], [32, 32], [48, 48],
                                                    [64, 64], [128, 128]],
    "memory.weight_buf.size": ["256 KiB", "1 MiB", "2 MiB", "4 MiB"],
    "memory.ifmap_buf.size": ["256 KiB", "512 KiB", "1 MiB", "2 MiB"],
    "memory.ofmap_buf.size": ["512 KiB", "1 MiB", "2 MiB"],
    "memory.dram.bandwidth": ["4 GB/s", "8 GB/s", "12.8 GB/s", "25.6 GB/s", "51.2 GB/s"]}


def bench_pruning(tmp: Path, torch_samples: int) -> None:
    cfg = tmp / "prune.yaml"
    cfg.write_text(yaml.safe_dump(PRUNING))
    t0 = time.perf_counter()
    subprocess.run([EDGESIM, "search", str(cfg), "--out", str(tmp / "prune")], check=True,
                   stdout=subprocess.DEVNULL)
    whole_s = time.perf_counter() - t0
    import random

    import edgesim as es
    from edgesim.search.model import resolve_model
    from edgesim.search.pruning import ChannelPruning

    problem = ChannelPruning(resolve_model("resnet18"), PRUNING["space"])
    hw = es.load_hardware("edge-npu")
    rng = random.Random(0)
    module, inputs = problem.source.module()
    t0 = time.perf_counter()
    for _ in range(torch_samples):
        genome = tuple(rng.randint(0, b) for b in problem.bounds)
        ratios = {g.name: PRUNING["space"]["ratios"][i]  # type: ignore[index]
                  for g, i in zip(problem.groups, genome, strict=True)}
        pruned = es.compress.prune_channels(module, inputs, ratio=ratios)
        es.simulate(es.trace(pruned, inputs, name="resnet18"), hw)
    torch_per = (time.perf_counter() - t0) / torch_samples
    print("1. ResNet-18 channel pruning, 1000 candidates (NSGA-II 100 x 10), edge-npu analytic")
    print(f"   edgesim search, whole process:        {whole_s:8.2f} s   (target <= 15 s)")
    print(f"   torch path (prune + trace + simulate): {torch_per * 1000:8.1f} ms per candidate "
          f"(mean of {torch_samples}) -> {torch_per * 1000:8.0f} s per 1000, extrapolated")
    print(f"   ratio torch path / edgesim:            {torch_per * 1000 / whole_s:8.1f}x")


def _dse(executor: object) -> tuple[int, float]:
    from edgesim.search import run

    t0 = time.perf_counter()
    res = run(problem="hardware", model="resnet18", hardware="edge-npu", space=DSE_SPACE,
              objectives=["latency_s", "energy_j", "area_mm2"],
              algorithm={"name": "grid", "pop_size": 240}, executor=executor, progress=False)
    return len(res.history), time.perf_counter() - t0


def bench_dse(loop_points: int) -> float:
    import itertools

    import edgesim as es

    n, serial_s = _dse("serial")
    _, proc_s = _dse("processes")
    wl = es.load_workload("resnet18")
    keys = list(DSE_SPACE)
    combos = list(itertools.product(*DSE_SPACE.values()))[:loop_points]
    from edgesim.mapping import memo

    t0 = time.perf_counter()
    for combo in combos:
        memo.clear()  # the loop a user wrote before the search: nothing shared between designs
        overrides: dict[str, object] = {}
        for key, value in zip(keys, combo, strict=True):
            parts = key.split(",")
            overrides.update(zip(parts, value if len(parts) > 1 else [value], strict=True))
        es.simulate(wl, es.load_hardware("edge-npu", overrides=overrides))
    loop_rate = len(combos) / (time.perf_counter() - t0)
    cores = os.cpu_count() or 1
    print(f"2. hardware DSE, ResNet-18, {n} design points (grid), start-up included")
    print(f"   serial:                    {n / serial_s:8.0f} points/s ({serial_s:.2f} s)")
    print(f"   processes ({cores} workers):     {n / proc_s:8.0f} points/s ({proc_s:.2f} s)"
          f"   (target >= 500/s on 2 cores)")
    print(f"   plain loop (load_hardware + simulate, no memo, {len(combos)} points): "
          f"{loop_rate:8.0f} points/s")
    # The issue set 500/s when a plain loop did ~100/s on one core: 5x the plain loop. This
    # machine's speed moves several-fold with its load; the ratio of one run carries over.
    print(f"   ratio processes / plain loop: {n / proc_s / loop_rate:8.1f}x   (target >= 5x: "
          f"500/s against ~100/s)")
    return serial_s / n


def _cluster(tmp: Path, workers: int) -> tuple[str, list[subprocess.Popen[bytes]]]:
    sched = tmp / f"sched{workers}.json"
    dask = str(BIN / "dask")
    log = open(tmp / f"dask{workers}.log", "wb")  # noqa: SIM115 - closed with the processes
    procs = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", "0",
                               "--no-dashboard", "--scheduler-file", str(sched)],
                              stdout=log, stderr=log)]
    while not sched.exists():
        time.sleep(0.1)
    address = json.loads(sched.read_text())["address"]
    for _ in range(workers):
        procs.append(subprocess.Popen([dask, "worker", address, "--nthreads", "1",
                                       "--no-nanny", "--no-dashboard", "--memory-limit", "0"],
                                      stdout=log, stderr=log))
    from distributed import Client

    with Client(address) as client:
        client.wait_for_workers(workers, timeout=60)
    return address, procs


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    """Workers first, then the scheduler; a process that ignores SIGTERM is killed."""
    for p in reversed(procs):
        p.terminate()
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def bench_dask(tmp: Path, serial_per_point_s: float) -> None:
    rates = {}
    for workers in (1, 2):
        address, procs = _cluster(tmp, workers)
        try:
            n, dt = _dse(address)
        finally:
            _stop(procs)
        rates[workers] = (n, dt)
    n1, t1 = rates[1]
    n2, t2 = rates[2]
    print("3. Dask (local scheduler, single-thread workers as processes), the same grid")
    print(f"   1 worker:  {n1 / t1:8.0f} points/s; overhead per candidate vs serial: "
          f"{(t1 / n1 - serial_per_point_s) * 1e3:6.2f} ms")
    print(f"   2 workers: {n2 / t2:8.0f} points/s; speed-up 1 -> 2 workers: {t1 / t2:5.2f}x")


def main() -> int:
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--torch-samples", type=int, default=5,
                   help="candidates timed on the torch path (extrapolated to 1000)")
    p.add_argument("--loop-points", type=int, default=200,
                   help="design points timed in the plain loop")
    p.add_argument("--no-dask", action="store_true", help="skip the Dask figures")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        bench_pruning(tmp, args.torch_samples)
        per_point = bench_dse(args.loop_points)
        if not args.no_dask:
            bench_dask(tmp, per_point)
    return 0


if __name__ == "__main__":
    sys.exit(main())
