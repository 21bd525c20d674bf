"""Published silicon and device figures against edgesim: Eyeriss (JSSC 2017) and Jetson Nano."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from edgesim.validate import published as pub
from edgesim.vocab import Precision

if TYPE_CHECKING:
    import pandas as pd


def _onchip_power_mw(energy_breakdown_j: dict[str, float], latency_s: float, dram: str) -> float:
    """The chip's power as JSSC 2017 measures it: everything but DRAM, over the latency."""
    onchip = sum(v for k, v in energy_breakdown_j.items() if k != dram)
    return onchip / latency_s * 1e3 if latency_s > 0 else 0.0


def eyeriss_table() -> pd.DataFrame:
    """AlexNet's (batch 4, JSSC 2017 Table V) and VGG-16's (batch 3, Table VI) conv layers per
    layer on the built-in ``eyeriss`` spec, against the chip's measured latency, DRAM and
    global-buffer accesses, power and active PEs; a total row per model."""
    import pandas as pd

    from edgesim.hardware import load_hardware
    from edgesim.mapping import map_workload
    from edgesim.sim import simulate

    hw = load_hardware("eyeriss")
    dram, glb = hw.outermost.name, "glb"
    chip = {
        "alexnet": (pub.alexnet_convs(4), pub.EYERISS_ALEXNET_LATENCY_MS,
                    pub.EYERISS_ALEXNET_DRAM_MB, pub.EYERISS_ALEXNET_GLB_MB,
                    pub.EYERISS_ALEXNET_POWER_MW, pub.EYERISS_ALEXNET_ACTIVE_PES),
        "vgg16": (pub.vgg16_convs(3), pub.EYERISS_VGG16_LATENCY_MS,
                  pub.EYERISS_VGG16_DRAM_MB_PER_LAYER, pub.EYERISS_VGG16_GLB_MB,
                  pub.EYERISS_VGG16_POWER_MW, pub.EYERISS_VGG16_ACTIVE_PES),
    }
    rows = []
    for model, (wl, lat_ms, dram_mb, glb_mb, power_mw, pes) in chip.items():
        res = simulate(wl, hw)
        counts = map_workload(wl, hw).layers
        for i, (layer, c) in enumerate(zip(res.layers, counts, strict=True)):
            ms = layer.latency_s * 1e3
            mb = (layer.dram_read_bytes + layer.dram_write_bytes) / 1e6
            g = (c.reads_bytes.get(glb, 0) + c.writes_bytes.get(glb, 0)) / 1e6
            mw = _onchip_power_mw(dict(layer.energy_breakdown_j), layer.latency_s, dram)
            rows.append({"model": model, "layer": layer.name,
                         "chip_latency_ms": lat_ms[i], "edgesim_latency_ms": ms,
                         "latency_ratio": ms / lat_ms[i],
                         "chip_dram_mb": dram_mb[i], "edgesim_dram_mb": mb,
                         "dram_ratio": mb / dram_mb[i],
                         "chip_glb_mb": glb_mb[i], "edgesim_glb_mb": g, "glb_ratio": g / glb_mb[i],
                         "chip_power_mw": float(power_mw[i]), "edgesim_power_mw": mw,
                         "power_ratio": mw / power_mw[i],
                         "chip_active_pes": float(pes[i]),
                         "edgesim_active_pes": float(c.extra["active_pes"]),
                         "channels_per_trip": float(c.extra["q"] * c.extra["r"])})
        total_ms, total_mb = sum(lat_ms), sum(dram_mb)
        ms = res.latency_s * 1e3
        mb = (res.dram_read_bytes + res.dram_write_bytes) / 1e6
        g = sum(c.reads_bytes.get(glb, 0) + c.writes_bytes.get(glb, 0) for c in counts) / 1e6
        # The chip's power over a model: energy-weighted, i.e. total energy / total latency.
        chip_mw = sum(p * t for p, t in zip(power_mw, lat_ms, strict=True)) / total_ms
        mw = _onchip_power_mw(dict(res.energy_breakdown_j), res.latency_s, dram)
        rows.append({"model": model, "layer": "total", "chip_latency_ms": total_ms,
                     "edgesim_latency_ms": ms, "latency_ratio": ms / total_ms,
                     "chip_dram_mb": total_mb, "edgesim_dram_mb": mb,
                     "dram_ratio": mb / total_mb, "chip_glb_mb": sum(glb_mb),
                     "edgesim_glb_mb": g, "glb_ratio": g / sum(glb_mb),
                     "chip_power_mw": chip_mw, "edgesim_power_mw": mw,
                     "power_ratio": mw / chip_mw})
    return pd.DataFrame(rows)


def jetson_nano_table() -> pd.DataFrame:
    """ResNet-18/50 at 256x256 on the built-in ``jetson-nano`` spec against TensorRT latency."""
    import pandas as pd
    import torch

    from edgesim.hardware import load_hardware
    from edgesim.sim import simulate
    from edgesim.workload.trace import trace
    from edgesim.workload.zoo import get

    hw = load_hardware("jetson-nano")
    rows = []
    for (name, precision), ms in sorted(pub.JETSON_NANO_MS.items()):
        model, _ = get(name)
        wl = trace(model, (torch.randn(1, 3, 256, 256),), name=name)
        if precision != "fp32":
            p = Precision(precision)
            wl = wl.with_layers([replace(layer, weight_precision=p, act_precision=p)
                                 for layer in wl.layers])
        got = simulate(wl, hw).latency_s * 1e3
        rows.append({"model": name, "precision": precision, "tensorrt_ms": ms,
                     "edgesim_ms": got, "ratio": got / ms})
    return pd.DataFrame(rows)
