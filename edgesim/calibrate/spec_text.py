"""The spec ``edgesim calibrate`` writes: a ``cpu`` (or, ``--device cuda``, ``gpu``) spec with one
simd unit whose kernel classes carry the fitted efficiencies and overheads, measured memory
bandwidths, and a header that says where every figure comes from (machine, threads, form,
torch, date, fit residuals)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from edgesim.calibrate.fit import FitResult
from edgesim.calibrate.gpu import L2_FALLBACK_BYTES, WARP, Gpu, technology_nm
from edgesim.calibrate.machine import FMA_PIPES, Machine, fallback_caches
from edgesim.hardware import tech
from edgesim.hardware.model import KernelFit
from edgesim.vocab import KernelClass

# Horowitz (ISSCC 2014): ~70 pJ of instruction overhead (fetch, decode, issue) per instruction
# of a 45 nm core; scaled to the node and shared by an instruction's fp32 lanes.
INSTRUCTION_PJ_45NM = 70.0
STATIC_W_PER_CORE = 1.0  # assumption: leakage of one server core (not measurable: see header)


@dataclass(frozen=True)
class Level:
    """A measured memory level: name, size and streaming bandwidth (bytes, bytes/s)."""

    name: str
    size_bytes: int
    bandwidth_bytes_per_s: float
    buffer_bytes: int  # the buffer streamed to measure it


def node_nm(m: Machine) -> tuple[float, str]:
    """The process node of the CPU (for energy only) and where the figure comes from."""
    if "AMD" in m.cpu.upper() or "EPYC" in m.cpu.upper() or "RYZEN" in m.cpu.upper():
        if "avx512_bf16" in m.flags and "avx512f" in m.flags and "avx_vnni" in m.flags:
            return 4.0, "assumption: an AVX-512 BF16 + AVX-VNNI AMD core is Zen 5 (TSMC N4P)"
        if "avx512f" in m.flags:
            return 5.0, "assumption: an AVX-512 AMD core is Zen 4 (TSMC N5)"
        return 7.0, "assumption: an AVX2 EPYC/Ryzen core of this era is Zen 2/3 (TSMC N7)"
    return 7.0, "assumption: process node unknown from /proc/cpuinfo; 7 nm"


def _bytes(n: float) -> str:
    for unit, div in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if n >= div and n % div == 0:
            return f"{int(n // div)} {unit}"
    return f"{int(n)} B"


def _points(fit: tuple[tuple[int, float], ...]) -> str:
    if len(fit) == 1:
        return f"{fit[0][1]:.4g}"
    return "[" + ", ".join(f"[{k}, {e:.4g}]" for k, e in fit) + "]"


def render(machine: Machine, threads: int, form: str, clock_hz: float, clock_note: str,
           levels: Sequence[Level], result: FitResult | None, date: str, version: str,
           gemm_macs_per_s: float, extra_header: Mapping[str, str] | None = None,
           name: str = "host-cpu") -> str:
    """The spec text (``result`` None: the base spec without kernel classes, used to price the
    cases before fitting)."""
    lanes = FMA_PIPES * machine.vector_fp32
    node, node_src = node_nm(machine)
    op_pj = INSTRUCTION_PJ_45NM * tech.energy_scale(node) / machine.vector_fp32
    static_w = STATIC_W_PER_CORE * threads
    import torch

    from edgesim.version import __version__

    h = [f"# {name}: written by `edgesim calibrate`: measured by edgesim {version} on {date}, "
         f"fitted by edgesim {__version__} with torch {torch.__version__}.",
         f"#  - CPU: {machine.cpu} ({machine.arch}, {machine.isa}, {machine.cores} logical CPUs; "
         f"/proc/cpuinfo); torch {machine.torch}.",
         f"#  - measured with {threads} thread(s), form `{form}` "
         + ("(eager modules under torch.inference_mode: each BatchNorm its own op, "
            "`batchnorm: separate`)" if form == "eager" else
            "(torch.jit.freeze(torch.jit.trace(...)): BatchNorm folded into convs, "
            "`batchnorm: folded`)") + ".",
         f"#  - lanes {lanes} = {FMA_PIPES} FMA pipes (assumption) x {machine.vector_fp32} fp32 "
         f"per {machine.isa} vector; cores = threads.",
         f"#  - clock {clock_hz / 1e9:.3f} GHz: {clock_note}.",
         f"#  - best GEMM (512^3 torch.mm): {gemm_macs_per_s / 1e9:.1f} G MAC/s on {threads} "
         f"thread(s).",
         "#  - memory levels: sizes "
         + ("assumed (sysfs lists no caches here)" if machine.cache_bytes
            == fallback_caches(machine.cores) else "from sysfs")
         + " (per-core caches x threads); bandwidth = "
         "torch.sum over a buffer of a quarter of the level, repeated (best of calls):"]
    fitted = result.bandwidths if result is not None else {}
    h += _level_header(levels, fitted)
    h += [f"#  - energy (not measured): RAPL {machine.rapl}; so the documented power model: "
          f"technology {node:g} nm ({node_src}), op_overhead_energy {op_pj:.3g} pJ = "
          f"{INSTRUCTION_PJ_45NM:g} pJ per 45 nm instruction (Horowitz ISSCC 2014) x node scaling "
          f"/ {machine.vector_fp32} lanes, static power {STATIC_W_PER_CORE:g} W per core "
          "(assumption)."]
    for k, v in (extra_header or {}).items():
        h.append(f"#  - {k}: {v}")
    h += _fit_header(result)
    body = [f"name: {name}", "kind: cpu", f"technology_nm: {node:g}",
            f"clock: {clock_hz / 1e6:.1f} MHz",
            f"description: {machine.cpu}, {threads} thread(s), calibrated ({form} torch)",
            "source: edgesim calibrate (microbenchmarks measured on this machine; see header)",
            f"static_power: {static_w:g} W", "area_overhead: 1.0", "compute:",
            f"  - name: {machine.isa}", "    type: simd", f"    lanes: {lanes}",
            f"    cores: {threads}", f"    vector_width: {machine.vector_fp32}",
            "    operation: mac", "    precisions: [fp32]"]
    body += _unit_tail(result, clock_hz, op_pj, form, cpu=True)
    body += _memory_lines(levels, fitted, "ddr4")
    return "\n".join(h + body) + "\n"


def _level_header(levels: Sequence[Level], fitted: Mapping[str, float], cpu: bool = True
                  ) -> list[str]:
    """The header lines of each memory level: streamed bandwidth, and the fitted one (a CPU's:
    and that its last-level cache retains weights)."""
    return [f"#      {lv.name}: {lv.bandwidth_bytes_per_s / 1e9:.1f} GB/s over "
            f"{_bytes(lv.buffer_bytes)}"
            + (f"; fitted on the elementwise and copy cases: {fitted[lv.name] / 1e9:.1f} GB/s "
               "(the spec's)" if lv.name in fitted else "") for lv in levels] + ([
        "#  - the last-level cache `retains_weights`: the spec prices a steady-state inference "
        "(repeated calls, as measured), whose weights, when they fit half of it, come from it, "
        "not from memory; the cases were fitted warm alike."] if cpu else [])


def _memory_lines(levels: Sequence[Level], fitted: Mapping[str, float], dram_type: str,
                  cpu: bool = True) -> list[str]:
    """The spec's memory section: the fitted bandwidth where there is one, else the streamed;
    a CPU's last-level cache retains weights (a GPU's L2 is not checked for it)."""
    lines = ["memory:  # outermost first"]
    llc = next((lv.name for lv in levels if lv.name != "dram"), None) if cpu else None
    for lv in levels:
        bw = fitted.get(lv.name, lv.bandwidth_bytes_per_s)
        kind = f"dram, dram_type: {dram_type}" if lv.name == "dram" else "cache"
        keep = ", retains_weights: true" if lv.name == llc else ""
        lines.append(f"  - {{name: {lv.name}, type: {kind}, size: {_bytes(lv.size_bytes)}, "
                     f"bandwidth: {bw / 1e9:.2f} GB/s, word: 64 B{keep}}}")
    return lines


def _fit_header(result: FitResult | None) -> list[str]:
    """The header lines of the fit's error per class."""
    if result is None:
        return []
    h = ["#  - kernel classes fitted by least squares on log time (edgesim/calibrate/fit.py);"
         " fit error |predicted/measured - 1| per class:",
         "#      class        cases  median   p90   within 10%  within 20%"]
    h += _error_lines(result.summary())
    if result.cold:
        h += ["#  - cold (`cold:` of each class; the cases timed again, each call after a "
              "convolution of another class, calibrate/cases.py convolution_block), fit error:"]
        h += _error_lines(result.summary(cold=True))
    return h


def _error_lines(rows: Sequence[Mapping[str, float | str | int]]) -> list[str]:
    return [f"#      {r['class']:<12} {r['cases']:>5}  {float(r['median_error']):6.1%}"
            f" {float(r['p90_error']):6.1%}  {float(r['within_10']):9.0%}  "
            f"{float(r['within_20']):9.0%}" for r in rows]


def _unit_tail(result: FitResult | None, clock_hz: float, op_pj: float, form: str,
               cpu: bool = False) -> list[str]:
    """The unit's lines after its precisions: default efficiency and overhead, energy, the
    BatchNorm form, a CPU's convolution dispatch (torch's rule) and the fitted kernel
    classes."""
    body = []
    if result is not None:
        gemm = [result.fits[c] for c in (KernelClass.CONV3X3, KernelClass.CONV1X1)
                if c in result.fits]
        if gemm:
            fit, over = gemm[0]
            body += [f"    efficiency: {min(1.0, max(e for _, e in fit.points)):.4g}  "
                     "# classes not listed below",
                     f"    layer_overhead_cycles: {round(over * clock_hz)}"]
    body += [f"    op_overhead_energy: {op_pj:.4g} pJ",
             f"    batchnorm: {'separate' if form == 'eager' else 'folded'}"]
    if cpu:
        body.append("    conv_dispatch: torch_cpu  # torch picks oneDNN or its own unfold + GEMM "
                    "per conv")
    if result is not None:
        body.append("    kernels:  # [size, efficiency] points along axis k (reduction length, "
                    "the default) or m (output rows); overhead_cycles per call")
        for cls in KernelClass:
            if cls in result.fits:
                cold = (f", cold: {{{_cost(*result.cold[cls], clock_hz)}}}"
                        if cls in result.cold else "")
                body.append(f"      {cls.value}: {{{_cost(*result.fits[cls], clock_hz)}{cold}}}")
    return body


def _cost(fit: KernelFit, over_s: float, clock_hz: float) -> str:
    """A kernel class's cost as the spec writes it: efficiency points, axis, overhead."""
    axis = f", axis: {fit.axis}" if len(fit.points) > 1 and fit.axis != "k" else ""
    pack = (f", pack_bandwidth: {fit.pack_bytes_per_s / 1e9:.4g} GB/s"
            if fit.pack_bytes_per_s is not None else "")
    return (f"efficiency: {_points(fit.points)}{axis}, "
            f"overhead_cycles: {round(over_s * clock_hz)}{pack}")


def render_gpu(gpu: Gpu, machine: Machine, form: str, clock_hz: float, clock_note: str,
               levels: Sequence[Level], result: FitResult | None, date: str, version: str,
               gemm_macs_per_s: float, name: str = "gpu") -> str:
    """The spec text of a CUDA GPU (``result`` None: the base spec, as :func:`render`)."""
    import torch

    from edgesim.version import __version__

    node, node_src = technology_nm(gpu)
    op_pj = INSTRUCTION_PJ_45NM * tech.energy_scale(node) / WARP
    peak = WARP * gpu.warps_per_clock * clock_hz
    static_w, static_src = ((gpu.idle_power_w, "nvidia-smi power.draw with the GPU idle, "
                             "read before measuring") if gpu.idle_power_w > 0 else
                            (STATIC_W_PER_CORE * gpu.sms, "assumption: 1 W per multiprocessor"))
    h = [f"# {name}: written by `edgesim calibrate --device cuda`: measured by edgesim {version} "
         f"on {date}, fitted by edgesim {__version__} with torch {torch.__version__}.",
         f"#  - GPU: {gpu.name} (compute capability {gpu.capability[0]}.{gpu.capability[1]}, "
         f"{gpu.sms} multiprocessors, {_bytes(gpu.memory_bytes)} memory; driver {gpu.driver}, "
         f"CUDA {gpu.cuda}; torch.cuda and nvidia-smi); host CPU {machine.cpu}, torch "
         f"{machine.torch}.",
         f"#  - measured with CUDA events around each call (torch.cuda.Event, synchronised), form "
         f"`{form}` "
         + ("(eager modules under torch.inference_mode: each BatchNorm its own kernel, "
            "`batchnorm: separate`)" if form == "eager" else
            "(torch.jit.freeze(torch.jit.trace(...)) on the GPU: BatchNorm folded, "
            "`batchnorm: folded`)")
         + ", TF32 off (torch.backends.cudnn.allow_tf32 = False: fp32 math, as the spec's "
           "precision says).",
         f"#  - lanes {WARP} = a warp; cores {gpu.warps_per_clock} = {gpu.sms} multiprocessors x "
         f"{gpu.fp32_per_sm} fp32 lanes (CUDA C Programming Guide, arithmetic throughput for "
         f"compute capability {gpu.capability[0]}.{gpu.capability[1]}) / {WARP}.",
         f"#  - clock {clock_hz / 1e9:.3f} GHz: {clock_note}; fp32 peak {peak / 1e12:.1f} T MAC/s.",
         f"#  - best GEMM (4096^3 torch.mm, fp32): {gemm_macs_per_s / 1e12:.1f} T MAC/s = "
         f"{gemm_macs_per_s / peak:.0%} of that peak.",
         "#  - memory levels: L2 size " + ("assumed (torch reports none)" if gpu.l2_bytes
                                            == L2_FALLBACK_BYTES else
                                            "from torch.cuda.get_device_properties")
         + ", memory = its total_memory; bandwidth = torch.sum over a buffer (a quarter of L2; "
         "4x L2 or more for memory), repeated, CUDA events (best of calls):"]
    fitted = result.bandwidths if result is not None else {}
    h += _level_header(levels, fitted, cpu=False)
    h += [f"#  - energy (not measured): technology {node:g} nm ({node_src}); op_overhead_energy "
          f"{op_pj:.3g} pJ = {INSTRUCTION_PJ_45NM:g} pJ per 45 nm instruction (Horowitz ISSCC "
          f"2014) x node scaling / {WARP} lanes of a warp; static power {static_w:g} W "
          f"({static_src}); device memory priced as hbm2 (edgesim's closest DRAM type)."]
    h += _fit_header(result)
    body = [f"name: {name}", "kind: gpu", f"technology_nm: {node:g}",
            f"clock: {clock_hz / 1e6:.1f} MHz",
            f"description: {gpu.name}, calibrated ({form} torch, fp32, CUDA events)",
            "source: edgesim calibrate --device cuda (microbenchmarks measured on this GPU; see "
            "header)", f"static_power: {static_w:g} W", "area_overhead: 1.0", "compute:",
            "  - name: cuda_cores", "    type: simd", f"    lanes: {WARP}",
            f"    cores: {gpu.warps_per_clock}", "    operation: mac", "    precisions: [fp32]"]
    body += _unit_tail(result, clock_hz, op_pj, form)
    body += _memory_lines(levels, fitted, "hbm2", cpu=False)
    return "\n".join(h + body) + "\n"


__all__ = ["Level", "node_nm", "render", "render_gpu"]
