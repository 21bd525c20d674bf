"""Published silicon and device figures against edgesim: Eyeriss (JSSC 2017) and Jetson Nano."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from edgesim.validate import published as pub
from edgesim.vocab import Precision

if TYPE_CHECKING:
    import pandas as pd


def eyeriss_table() -> pd.DataFrame:
    """AlexNet's conv layers per layer (batch 4) and VGG-16's conv layers in total (batch 3) on
    the built-in ``eyeriss`` spec, against the chip's measured latency, DRAM and active PEs."""
    import pandas as pd

    from edgesim.hardware import load_hardware
    from edgesim.mapping import map_workload
    from edgesim.sim import simulate

    hw = load_hardware("eyeriss")
    res = simulate(pub.alexnet_convs(4), hw)
    counts = map_workload(pub.alexnet_convs(4), hw).layers
    rows = []
    for i, layer in enumerate(res.layers):
        dram_mb = (layer.dram_read_bytes + layer.dram_write_bytes) / 1e6
        rows.append({"model": "alexnet", "layer": layer.name,
                     "chip_latency_ms": pub.EYERISS_ALEXNET_LATENCY_MS[i],
                     "edgesim_latency_ms": layer.latency_s * 1e3,
                     "latency_ratio": layer.latency_s * 1e3 / pub.EYERISS_ALEXNET_LATENCY_MS[i],
                     "chip_dram_mb": pub.EYERISS_ALEXNET_DRAM_MB[i], "edgesim_dram_mb": dram_mb,
                     "dram_ratio": dram_mb / pub.EYERISS_ALEXNET_DRAM_MB[i],
                     "chip_active_pes": pub.EYERISS_ALEXNET_ACTIVE_PES[i],
                     "edgesim_active_pes": int(counts[i].extra["active_pes"])})
    alex_ms = sum(pub.EYERISS_ALEXNET_LATENCY_MS)
    alex_mb = sum(pub.EYERISS_ALEXNET_DRAM_MB)
    dram = (res.dram_read_bytes + res.dram_write_bytes) / 1e6
    rows.append({"model": "alexnet", "layer": "total", "chip_latency_ms": alex_ms,
                 "edgesim_latency_ms": res.latency_s * 1e3,
                 "latency_ratio": res.latency_s * 1e3 / alex_ms, "chip_dram_mb": alex_mb,
                 "edgesim_dram_mb": dram, "dram_ratio": dram / alex_mb})
    vgg = simulate(pub.vgg16_convs(3), hw)
    vgg_mb = (vgg.dram_read_bytes + vgg.dram_write_bytes) / 1e6
    chip_ms = pub.EYERISS_VGG16_BATCH_S * 1e3
    rows.append({"model": "vgg16", "layer": "total", "chip_latency_ms": chip_ms,
                 "edgesim_latency_ms": vgg.latency_s * 1e3,
                 "latency_ratio": vgg.latency_s * 1e3 / chip_ms,
                 "chip_dram_mb": pub.EYERISS_VGG16_DRAM_MB, "edgesim_dram_mb": vgg_mb,
                 "dram_ratio": vgg_mb / pub.EYERISS_VGG16_DRAM_MB})
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
