"""The compressed-variants comparison of the demo: one model, dense vs its compressed versions."""

from __future__ import annotations

from typing import Any

from edgesim.report.tables import Table
from edgesim.sim import simulate


def variants_table(model_name: str) -> tuple[Table, list[dict[str, Any]]]:
    """Simulate dense, channel-pruned, sparse, int8/fp16, Deep-Compression-stored and AdderNet
    versions of one zoo model on the specs where each compression matters. Stored weights are
    each result's ``weight_bytes`` (the chip's stored form: one definition); Deep Compression's
    shared, Huffman-coded form is counted by ``compress.storage`` as storage only."""
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
    # Deep Compression's own stored form (Han et al.: 8/5-bit relative indices, 5-bit shared
    # weights, Huffman): storage only, since no spec here has a decoder that reads it.
    deep_store = storage(sparse, fmt="csr", share_bits=5, huffman=True).total_bytes
    runs = [
        ("dense", "edge-npu", "baseline, int8 systolic array"),
        ("pruned 50% channels", "edge-npu", "smaller dense layers: fewer cycles"),
        ("90% unstructured sparse", "edge-npu",
         "zeros shrink storage and DRAM traffic, not cycles: the array is dense"),
        ("dense", "sparse-npu", "zero-skipping array, dense weights"),
        ("90% unstructured sparse", "sparse-npu", "zero-skipping array skips the zeros"),
        ("fp16", "davinci-npu", "cube NPU in fp16 mode"),
        ("int8", "davinci-npu", "cube NPU in int8 mode: half the bytes, cheaper MACs"),
        ("AdderNet", "adder-npu",
         "adder PEs cut compute energy ~3x, but buffer and DRAM traffic dominate the total"),
        ("dense", "adder-npu", "the CNN on the adder NPU: its convs squeeze onto the 16x16 MAC array"),
    ]
    t = Table(f"Compressed variants of {model_name}",
              ["variant", "spec", "latency ms", "energy mJ", "compute Mcycles", "DRAM MB",
               "weights MB stored", "lesson"])
    records: list[dict[str, Any]] = []
    dense_store: int | None = None
    for variant, spec, lesson in runs:
        hw = load_hardware(spec)
        res = simulate(wl[variant], hw)
        cycles = sum(lay.compute_cycles for lay in res.layers)
        if (variant, spec) == ("dense", "edge-npu"):
            dense_store = res.weight_bytes
        t.add([variant, spec, f"{res.latency_s * 1e3:.3f}", f"{res.energy_j * 1e3:.3f}",
               f"{cycles / 1e6:.2f}", f"{(res.dram_read_bytes + res.dram_write_bytes) / 1e6:.2f}",
               f"{res.weight_bytes / 1e6:.2f}", lesson])
        records.append({"variant": variant, "spec": spec, "result": res, "hw": hw})
    assert dense_store is not None
    t.add(["Deep Compression's format (90% pruned, 5-bit shared, Huffman)", "-", "-", "-", "-",
           "-", f"{deep_store / 1e6:.2f}",
           f"storage only (no chip here decodes it): {dense_store / deep_store:.1f}x smaller "
           f"than the dense int8 weights edge-npu stores"])
    return t, records
