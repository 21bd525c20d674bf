"""The compressed-variants comparison of the demo: one model, dense vs its compressed versions."""

from __future__ import annotations

from typing import Any

from edgesim.report.tables import Table
from edgesim.sim import simulate


def variants_table(model_name: str) -> tuple[Table, list[dict[str, Any]]]:
    """Simulate dense, channel-pruned, sparse, int8/fp16, Deep-Compression-stored and AdderNet
    versions of one zoo model on the specs where each compression matters."""
    from edgesim.compress import (
        prune_channels,
        prune_unstructured,
        quantize,
        storage,
        to_addernet,
    )
    from edgesim.hardware import load_hardware
    from edgesim.workload import zoo
    from edgesim.workload.trace import trace

    module, inputs = zoo.get(model_name)
    module.eval()
    pruned = prune_channels(module, inputs, ratio=0.5)
    sparse = prune_unstructured(module, amount=0.9)
    int8 = quantize(module, weight_bits=8, act_bits=8)
    fp16 = quantize(module, weight_bits="fp16", act_bits="fp16")
    adder = to_addernet(module)
    wl = {
        "dense": trace(module, inputs, name=model_name),
        "pruned 50% channels": trace(pruned, inputs, name=f"{model_name}-pruned50"),
        "90% unstructured sparse": trace(sparse, inputs, name=f"{model_name}-sparse90"),
        "int8": trace(int8, inputs, name=f"{model_name}-int8"),
        "fp16": trace(fp16, inputs, name=f"{model_name}-fp16"),
        "AdderNet": trace(adder, inputs, name=f"{model_name}-adder"),
    }
    dense_store = storage(module, fmt="dense", weight_bits=8).total_bytes
    sparse_store = storage(sparse, fmt="csr", weight_bits=8).total_bytes
    deep_store = storage(sparse, fmt="csr", share_bits=5, huffman=True).total_bytes
    pruned_store = storage(pruned, fmt="dense", weight_bits=8).total_bytes
    runs = [
        ("dense", "edge-npu", dense_store, "baseline, int8 systolic array"),
        ("pruned 50% channels", "edge-npu", pruned_store, "smaller dense layers: fewer cycles"),
        ("90% unstructured sparse", "edge-npu", sparse_store,
         "zeros shrink storage and DRAM traffic, not cycles: the array is dense"),
        ("dense", "sparse-npu", dense_store, "zero-skipping array, dense weights"),
        ("90% unstructured sparse", "sparse-npu", sparse_store, "zero-skipping array skips the zeros"),
        ("fp16", "davinci-npu", None, "cube NPU in fp16 mode"),
        ("int8", "davinci-npu", None, "cube NPU in int8 mode: half the bytes, cheaper MACs"),
        ("AdderNet", "adder-npu", None,
         "adder PEs cut compute energy ~3x, but buffer and DRAM traffic dominate the total"),
        ("dense", "adder-npu", None, "the CNN on the adder NPU: its convs squeeze onto the 16x16 MAC array"),
    ]
    t = Table(f"Compressed variants of {model_name}",
              ["variant", "spec", "latency ms", "energy mJ", "compute Mcycles", "DRAM MB",
               "weights MB stored", "lesson"])
    records: list[dict[str, Any]] = []
    for variant, spec, stored, lesson in runs:
        hw = load_hardware(spec)
        res = simulate(wl[variant], hw)
        cycles = sum(lay.compute_cycles for lay in res.layers)
        stored_mb = f"{stored / 1e6:.2f}" if stored is not None else "-"
        t.add([variant, spec, f"{res.latency_s * 1e3:.3f}", f"{res.energy_j * 1e3:.3f}",
               f"{cycles / 1e6:.2f}", f"{(res.dram_read_bytes + res.dram_write_bytes) / 1e6:.2f}",
               stored_mb, lesson])
        records.append({"variant": variant, "spec": spec, "result": res, "hw": hw})
    t.add(["Deep Compression (90% pruned, 5-bit shared, Huffman)", "-", "-", "-", "-", "-",
           f"{deep_store / 1e6:.2f}",
           f"storage only: {dense_store / deep_store:.1f}x smaller than dense int8"])
    return t, records
