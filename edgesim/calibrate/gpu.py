"""What ``edgesim calibrate --device cuda`` reads and measures of a CUDA GPU beyond its kernels:
name, multiprocessors, fp32 lanes, L2, memory and clocks (torch, ``nvidia-smi``), streaming
bandwidth of L2 and device memory, the peak fp32 GEMM rate, all timed with CUDA events.

fp32 means fp32 here: calibration and the GPU check run with TF32 off (``es.measurement``'s
``fp32_exact``),
since torch lets cuDNN convolutions use TF32 tensor cores by default, and a spec whose
precision is fp32 prices fp32 arithmetic.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from edgesim.measurement import fp32_exact

WARP = 32  # threads per warp on every CUDA GPU
# fp32 lanes (CUDA cores) per multiprocessor by compute capability major.minor (NVIDIA CUDA C
# Programming Guide, "Arithmetic Instructions" throughput table: 32-bit floating-point
# add/multiply/multiply-add results per clock cycle per multiprocessor)
FP32_PER_SM = {(5, 0): 128, (5, 2): 128, (5, 3): 128, (6, 0): 64, (6, 1): 128, (6, 2): 128,
               (7, 0): 64, (7, 2): 64, (7, 5): 64, (8, 0): 64, (8, 6): 128, (8, 7): 128,
               (8, 9): 128, (9, 0): 128, (10, 0): 128, (12, 0): 128}
FP32_PER_SM_DEFAULT = 128  # assumption for a capability the table does not list
L2_FALLBACK_BYTES = 4 * 1024**2  # assumed where torch reports no L2 size (the header says so)


@dataclass(frozen=True)
class Gpu:
    """The GPU a calibration ran on (recorded in the spec's header and measurements)."""

    name: str
    capability: tuple[int, int]
    sms: int
    l2_bytes: int
    memory_bytes: int
    max_sm_mhz: float  # nvidia-smi clocks.max.sm; 0 when unknown
    idle_power_w: float  # nvidia-smi power.draw before measuring; 0 when unknown
    driver: str
    cuda: str  # the CUDA torch was built with

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Gpu:
        d = dict(d)
        d["capability"] = tuple(int(x) for x in d["capability"])
        return cls(**d)

    @property
    def fp32_per_sm(self) -> int:
        """fp32 lanes per multiprocessor (FP32_PER_SM)."""
        return FP32_PER_SM.get(self.capability, FP32_PER_SM_DEFAULT)

    @property
    def warps_per_clock(self) -> int:
        """Warp-wide fp32 FMAs the whole GPU issues per cycle: the spec's ``cores``."""
        return self.sms * self.fp32_per_sm // WARP


def _smi(fields: str, gpu_id: str) -> list[str]:
    """``nvidia-smi --query-gpu`` values of the GPU ``gpu_id`` (a UUID, as torch's device 0 is
    found whatever CUDA_VISIBLE_DEVICES says; empty when there is no nvidia-smi or no answer)."""
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return []
    try:
        out = subprocess.run([exe, f"--query-gpu={fields}", "--format=csv,noheader,nounits",
                              "-i", gpu_id], capture_output=True, text=True, timeout=20,
                             check=True)
    except (OSError, subprocess.SubprocessError):
        return []
    lines = out.stdout.strip().splitlines()
    return [v.strip() for v in lines[0].split(",")] if lines else []


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:  # "[N/A]"
        return 0.0


def describe_gpu() -> Gpu:
    """GPU 0 as torch and nvidia-smi tell."""
    import torch

    props = torch.cuda.get_device_properties(0)
    uuid = str(getattr(props, "uuid", "") or "")
    smi = _smi("clocks.max.sm,power.draw,driver_version",
               (uuid if uuid.startswith("GPU-") else f"GPU-{uuid}") if uuid else "0")
    l2 = int(getattr(props, "L2_cache_size", 0) or 0)
    return Gpu(name=props.name, capability=(props.major, props.minor),
               sms=props.multi_processor_count, l2_bytes=l2 or L2_FALLBACK_BYTES,
               memory_bytes=int(props.total_memory),
               max_sm_mhz=_number(smi[0]) if smi else 0.0,
               idle_power_w=_number(smi[1]) if len(smi) > 1 else 0.0,
               driver=smi[2] if len(smi) > 2 else "unknown", cuda=str(torch.version.cuda))


def _best_rate(fn: Callable[[], object], work: float, min_time_s: float) -> float:
    """Best of repeated CUDA-event timings of ``fn`` as ``work`` per second (after warm-up)."""
    import torch

    fn()
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    best = float("inf")
    spent = 0.0
    calls = 0
    while spent < min_time_s or calls < 3:
        start.record()
        fn()
        end.record()
        end.synchronize()
        dt = float(start.elapsed_time(end)) / 1e3
        best = min(best, dt)
        spent += dt
        calls += 1
    return work / best


def cuda_stream_bandwidth(size_bytes: int, min_time_s: float = 0.1,
                          per_call_bytes: int = 1024**3) -> float:
    """Bytes per second ``torch.sum`` reads from a ``size_bytes`` fp32 buffer on the GPU (a
    stride-0 view repeating it to about ``per_call_bytes`` per call, as on the CPU)."""
    import torch

    n = max(1024, size_bytes // 4)
    reps = max(1, per_call_bytes // (n * 4))
    view = torch.ones(n, device="cuda").expand(reps, n)
    with torch.inference_mode():
        return _best_rate(lambda: view.sum(), reps * n * 4.0, min_time_s)


def cuda_gemm_rate(n: int = 4096, min_time_s: float = 0.2) -> float:
    """Best fp32 multiply-accumulates per second of an ``n``-cubed ``torch.mm`` (TF32 off)."""
    import torch

    a, b = torch.randn(n, n, device="cuda"), torch.randn(n, n, device="cuda")
    with torch.inference_mode(), fp32_exact():
        return _best_rate(lambda: torch.mm(a, b), float(n) ** 3, min_time_s)


def technology_nm(gpu: Gpu) -> tuple[float, str]:
    """The GPU's process node (for energy only) and where the figure comes from."""
    major = gpu.capability[0]
    if major >= 9:
        return 4.0, "NVIDIA Hopper/Blackwell data sheets: TSMC 4N"
    if major == 8:
        return 7.0, "NVIDIA Ampere/Ada data sheets: TSMC N7 (A100) or N4/Samsung 8N; 7 nm taken"
    return 12.0, "assumption: a GPU before Ampere is 12-16 nm; 12 nm taken"


__all__ = ["FP32_PER_SM", "WARP", "Gpu", "cuda_gemm_rate", "cuda_stream_bandwidth",
           "describe_gpu", "technology_nm"]
