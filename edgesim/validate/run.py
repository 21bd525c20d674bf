"""Run the cross-checks (``edgesim validate``) and write their tables (CSV and one Markdown page).

Each check is a registry entry keyed by :class:`Check`: what it compares, the source, the
tolerance the suite asserts (``tests/`` runs a fast subset of each), the peer simulators it needs
(the ``peers`` extra) and the function that builds its table. Missing peers are bad input: one
line naming the extra, before anything runs or is written.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from edgesim.errors import EdgesimError
from edgesim.fileio import write_atomic
from edgesim.validate.host import ROUNDS

if TYPE_CHECKING:
    import pandas as pd


class Check(StrEnum):
    SCALESIM = "scalesim"
    ZIGZAG = "zigzag"
    EYERISS = "eyeriss"
    JETSON_NANO = "jetson-nano"
    HOST = "host"  # this machine, measured: --device host or --check host (not by default)
    CUDA = "cuda"  # this machine's GPU, measured: --device cuda --hw SPEC (not by default)


DEVICE_CHECKS = frozenset({Check.HOST, Check.CUDA})


@dataclass(frozen=True)
class CheckSpec:
    title: str
    source: str
    asserted: str  # what `make test` asserts, with its tolerance
    peers: tuple[str, ...]  # importable modules of the peer simulators it runs
    build: Callable[[Callable[[str], None]], pd.DataFrame]


def _scalesim(progress: Callable[[str], None]) -> pd.DataFrame:
    from edgesim.validate.scalesim import table

    return table()


def _zigzag(progress: Callable[[str], None]) -> pd.DataFrame:
    from edgesim.validate.zigzag import table

    return table(progress)


def _eyeriss(progress: Callable[[str], None]) -> pd.DataFrame:
    from edgesim.validate.silicon import eyeriss_table

    return eyeriss_table()


def _nano(progress: Callable[[str], None]) -> pd.DataFrame:
    from edgesim.validate.silicon import jetson_nano_table

    return jetson_nano_table()


def _host(progress: Callable[[str], None]) -> pd.DataFrame:
    from edgesim.validate.host import table

    return table(progress)


def _no_gpu_spec(progress: Callable[[str], None]) -> pd.DataFrame:
    raise EdgesimError("the GPU check predicts with a spec written by edgesim calibrate "
                       "--device cuda: name it with --hw", field="--hw")


CHECKS: dict[Check, CheckSpec] = {
    Check.SCALESIM: CheckSpec(
        "Systolic cycles and SRAM reads against SCALE-Sim v3",
        "scalesim 3.0.0, run here on 12 layers x 3 dataflows x 3 arrays",
        "cycles exact in every case; ifmap and filter SRAM reads within 5% "
        "(tests/peers/test_scalesim.py)", ("scalesim",), _scalesim),
    Check.ZIGZAG: CheckSpec(
        "Energy per component against ZigZag on its TPU-like and Edge-TPU-like examples "
        "(whole models)",
        "zigzag-dse 3.9.1, run here (locality mode, energy-optimal mappings)",
        "in make test: cuts of ResNet-18 and MobileNet-v2 per layer and component "
        "(tests/peers/test_zigzag_cuts.py, test_zigzag_edge_tpu.py); whole models with -m "
        "peers_full: per component within 15%, totals within 10% (tpu_like: ResNet-18's DRAM "
        "12%)",
        ("zigzag", "six"),
        _zigzag),
    Check.EYERISS: CheckSpec(
        "Eyeriss v1 silicon: AlexNet and VGG-16 per layer (latency, DRAM, GLB, power)",
        "Chen et al., JSSC 52(1) 2017, Tables V and VI",
        "AlexNet active PEs exact, latency 30% per layer and 10% in total, DRAM 30% per layer "
        "and 5% in total; VGG-16 (channels per psum trip fitted to its GLB accesses: "
        "calibration) DRAM 35% per layer and 10% in total, latency 15% per layer and 10% in "
        "total, GLB 15% on the 224- to 28-wide layers and 35% on the 14-wide ones; on-chip "
        "power (the spec's static_power, 138 mW for clock network, NoC and control, fitted to "
        "AlexNet: calibration) within 10% per layer on AlexNet, and on VGG-16, held out, within "
        "30% per layer and 15% in total (tests/mapping/test_spatial_eyeriss.py)",
        (), _eyeriss),
    Check.JETSON_NANO: CheckSpec(
        "Jetson Nano TensorRT latency (ResNet-18/50 at 256x256)",
        "kentaroy47/benchmark-FP32-FP16-INT8-with-TensorRT",
        "fitted (calibration, not validation): 3 points within 25%, ResNet-18 fp32 within 40% "
        "(tests/mapping/test_simd_fidelity.py)", (), _nano),
    Check.HOST: CheckSpec(
        "This machine: host-cpu (or --hw) predictions against torch latency measured here (zoo, "
        "generated models nothing was fitted on, pruned variants)",
        "es.measure on this machine (the torch form the spec prices: eager under inference "
        f"mode, or frozen TorchScript; the fastest call of {ROUNDS} rounds)",
        "the table's construction and statistics on small models (tests/validate/test_host.py); "
        "no accuracy band: the figures depend on the machine (calibrate the spec to it with "
        "edgesim calibrate; benchmarks/calibration.py reports the bands)", (), _host),
    Check.CUDA: CheckSpec(
        "This machine's CUDA GPU: a spec written by edgesim calibrate --device cuda (--hw) "
        "against torch latency measured on the GPU (the same zoo, generated and pruned models)",
        "es.measure(device='cuda') on this machine: CUDA events around each call, TF32 off, the "
        f"torch form the spec prices; the fastest call of {ROUNDS} rounds",
        "nothing (CI has no GPU): the GPU form of measure and calibrate refuses with one line "
        "where no GPU is present (tests/calibrate/test_gpu.py); the fit of recorded GPU "
        "measurements is tested there; figures measured once in docs/validation_gpu.md",
        (), _no_gpu_spec),
}


def missing_peers(checks: Sequence[Check]) -> list[str]:
    """Peer simulator modules the given checks need and this environment lacks."""
    need = sorted({m for c in checks for m in CHECKS[c].peers})
    return [m for m in need if importlib.util.find_spec(m) is None]


def _markdown(df: pd.DataFrame) -> str:
    """A DataFrame as a Markdown table (numbers to 4 significant figures)."""
    def cell(v: object) -> str:
        if isinstance(v, float):
            return "" if v != v else f"{v:.4g}"  # NaN: blank
        return str(v)

    head = "| " + " | ".join(str(c) for c in df.columns) + " |"
    rule = "|" + "|".join("---" for _ in df.columns) + "|"
    body = ["| " + " | ".join(cell(v) for v in row) + " |"
            for row in df.itertuples(index=False)]
    return "\n".join([head, rule, *body])


def measured_specs(checks: Sequence[Check], hw: str | None) -> tuple[str, str | None]:
    """The specs the measured checks predict with (host, GPU), from ``--hw``: refused, as bad
    input before minutes of cross-checks, where ``--hw`` has no measured check to serve, is not
    a simd spec of the right kind (cpu for the host, gpu for the GPU), or the GPU check has no
    spec or no GPU."""
    gpu = Check.CUDA in checks
    if hw and Check.HOST not in checks and not gpu:
        raise EdgesimError("--hw names the spec of the host or GPU check: add --device host "
                           "or --device cuda", field="--hw")
    if gpu and Check.HOST in checks:
        raise EdgesimError("the host and the GPU checks run one at a time (each with its "
                           "--hw): drop --check host or --device cuda", field="--device")
    if gpu and not hw:
        raise EdgesimError("the GPU check predicts with a spec written by edgesim calibrate "
                           "--device cuda: name it with --hw", field="--hw")
    if hw:
        from edgesim.hardware import load_hardware
        from edgesim.hardware.model import UnitType

        spec = load_hardware(hw)
        want, what = ("gpu", "GPU") if gpu else ("cpu", "CPU")
        if spec.main_unit.type != UnitType.SIMD:
            raise EdgesimError(f"{hw!r} has no simd main unit: the {'GPU' if gpu else 'host'} "
                               f"check predicts a {what} calibrated by edgesim calibrate",
                               field="--hw")
        if spec.kind != want:
            raise EdgesimError(f"{hw!r} is a {spec.kind} spec: the {'GPU' if gpu else 'host'} "
                               f"check predicts a {what} (a {want} spec)", field="--hw")
    if gpu:
        from edgesim.measurement import cuda_missing

        missing = cuda_missing()
        if missing:
            raise EdgesimError(missing, field="--device")
        return "host-cpu", hw
    return hw or "host-cpu", None


def validate(checks: Sequence[Check] | None = None, out: Path | None = None,
             progress: Callable[[str], None] | None = None, host_spec: str = "host-cpu",
             host_threads: Sequence[int] | None = None, gpu_spec: str | None = None
             ) -> dict[Check, pd.DataFrame]:
    """Run ``checks`` (all by default); with ``out``, write ``<check>.csv`` per check and
    ``validation.md`` with every table, its source and what the suite asserts. The host check
    predicts with ``host_spec`` at ``host_threads`` (default 1 and every core), the GPU check
    with ``gpu_spec``."""
    chosen = list(checks) if checks else [c for c in Check if c not in DEVICE_CHECKS]
    lacking = missing_peers(chosen)
    if lacking:
        raise EdgesimError(f"edgesim validate runs peer simulators this environment lacks "
                           f"({', '.join(lacking)}): install the extra, pip install "
                           f"'edgesim[peers]' (or drop the check with --check)", field="peers")
    say = progress or (lambda _msg: None)
    tables: dict[Check, pd.DataFrame] = {}
    for check in chosen:
        t0 = time.perf_counter()
        say(f"validate: {check.value} ...")
        if check == Check.HOST:
            from edgesim.validate.host import table as host_table

            tables[check] = host_table(say, threads=host_threads, spec=host_spec)
        elif check == Check.CUDA and gpu_spec is not None:
            from edgesim.validate.host import table as host_table

            tables[check] = host_table(say, spec=gpu_spec, device="cuda")
        else:
            tables[check] = CHECKS[check].build(say)
        say(f"validate: {check.value} done in {time.perf_counter() - t0:.0f} s")
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        for check, df in tables.items():
            write_atomic(out / f"{check.value}.csv", partial(_write_csv, df))
        write_atomic(out / "validation.md", partial(_write_text, report(tables)))
    return tables


def _write_csv(df: pd.DataFrame, path: Path) -> None:
    df.to_csv(path, index=False)


def _write_text(text: str, path: Path) -> None:
    path.write_text(text)


def section(check: Check, df: pd.DataFrame, level: int = 2) -> str:
    """One check's table as Markdown: title, source, what the suite asserts, the table."""
    spec = CHECKS[check]
    return "\n".join([f"{'#' * level} {spec.title}", "", f"Source: {spec.source}.", "",
                      f"Asserted in `make test`: {spec.asserted}.", "", _markdown(df)])


def report(tables: dict[Check, pd.DataFrame]) -> str:
    """The tables as one Markdown page, each with its source and what the suite asserts."""
    parts = ["# edgesim validate", ""]
    for check, df in tables.items():
        parts += [section(check, df), ""]
    return "\n".join(parts)


def stderr_progress(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)
