"""Deep Compression (Han et al., ICLR 2016) step by step, and "memory dominates energy".

Deep Compression shrinks AlexNet 35x by pruning, weight sharing and Huffman coding, and argues
that the point is energy: fetching a weight from DRAM costs far more than computing with it.
This example applies the three steps in turn to the zoo's AlexNet and, after each, reports the
storage (Han's own accounting, counted from the weights by ``es.compress.storage``), what each
of three chips stores and moves, its energy and where that energy goes:

- ``edge-npu``: a dense int8 systolic array with 8 MiB of SRAM: it computes the zeros, but
  stores and fetches the weights compressed (CSR with relative indices).
- ``sparse-npu``: its twin with zero-skipping PEs: the zeros cost neither cycles nor energy.
- ``sparse-npu-decoder`` (``examples/deep_compression/sparse-npu-decoder.yaml``): sparse-npu
  that stores Huffman-coded shared-weight indices in DRAM and decodes them as they arrive
  (``weight_decoder: huffman``; EIE reads codebook indices), paying the decoder per weight.

Steps (the pruning rates are Han's, Table 4: the fraction of AlexNet's weights kept per layer):
1. dense: the model as the chip runs it (int8).
2. pruned: magnitude pruning per layer to Han's rates (``es.compress.prune_unstructured``).
3. shared: the kept weights shared by k-means with Han's 8 bits per conv layer and 5 per FC
   layer (up to 255 and 31 values, ``es.compress.share_weights``; on these untrained, pruned
   weights many clusters stay empty, and the indices are sized to the values a layer uses);
   stored as fixed-width indices.
4. Huffman: those indices Huffman-coded. Only a chip that decodes a form reads it: the other
   two chips store and move int8 weights whatever the steps 3 and 4 did (said in the table).

Choices that differ from the paper (stated): the weights are the zoo's untrained ones (no
ImageNet here), so the distribution of their shared values, and what Huffman coding gains on
it, differ from the paper's trained ones; there is no retraining, so accuracy is not reported;
Han's storage baseline is float32 weights, the chips' is int8.

Run: ``python examples/deep_compression.py [--quick] [--out DIR]`` (``make examples`` runs it in
full and saves ``examples/results/deep_compression/``; ``--quick`` is the reduced run the test
uses: LeNet-5 with Han's LeNet-5 rates).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CHIPS = ("edge-npu", "sparse-npu", str(HERE / "deep_compression" / "sparse-npu-decoder.yaml"))
# Han et al. 2016, Table 4: AlexNet weights kept after pruning, per layer (zoo layer names).
ALEXNET_KEEP = {"features.0": 0.84, "features.3": 0.38, "features.6": 0.35, "features.8": 0.37,
                "features.10": 0.37, "classifier.1": 0.09, "classifier.4": 0.09,
                "classifier.6": 0.25}
# Han et al. 2016, Table 2, Caffe's LeNet-5 (conv1 66%, conv2 12%, ip1 8%, ip2 19% kept), on the
# zoo's classic LeNet-5: c1, c3 as conv1, conv2; c5 and f6 (the large middle layers) as ip1; out
# as ip2.
LENET_KEEP = {"c1": 0.66, "c3": 0.12, "c5": 0.08, "f6": 0.08, "out": 0.19}
STEPS = ("dense", "pruned", "shared", "huffman")


def _archive_bytes(module: Any, share: bool, huffman: bool) -> int:
    """Han's storage: CSR with 8-bit (conv) / 5-bit (FC) relative indices; shared values of 8
    bits in conv layers and 5 in FC layers when ``share``, else float32 values."""
    import torch.nn as nn

    import edgesim as es

    if not share:
        return es.compress.storage(module, fmt="csr", weight_bits=32).total_bytes
    conv = es.compress.storage(module, fmt="csr", share_bits=8, huffman=huffman)
    fc = es.compress.storage(module, fmt="csr", share_bits=5, huffman=huffman)
    linear = {n for n, m in module.named_modules() if isinstance(m, nn.Linear)}
    return sum(fc.by_layer[n] if n in linear else conv.by_layer[n] for n in conv.by_layer)


def shared_model(pruned: Any) -> Any:
    """``pruned`` with Han's weight sharing: 8 bits (up to 255 values and zero) per conv layer, 5
    bits (up to 31 and zero) per FC layer (``es.compress.share_weights``, which marks each
    layer with the values it uses)."""
    import torch
    import torch.nn as nn

    import edgesim as es

    out = es.compress.share_weights(pruned, 8)
    fc = es.compress.share_weights(pruned, 5)
    for name, mod in out.named_modules():
        if isinstance(mod, nn.Linear):
            src = fc.get_submodule(name)
            with torch.no_grad():
                mod.weight.copy_(src.weight)
            mod.shared_weights, mod.weight_code_bits = src.shared_weights, src.weight_code_bits
    return out


def run(quick: bool) -> dict[str, Any]:
    import dataclasses

    import edgesim as es

    name, keep = ("lenet5", LENET_KEEP) if quick else ("alexnet", ALEXNET_KEEP)
    module, inputs = es.zoo.get(name)
    module.eval()
    pruned = es.compress.prune_unstructured(module, layers={k: 1 - v for k, v in keep.items()})
    dense_wl = es.trace(module, inputs, name=name)
    pruned_wl = es.trace(pruned, inputs, name=name)
    huffman_wl = es.trace(shared_model(pruned), inputs, name=name)
    shared_wl = huffman_wl.with_layers([dataclasses.replace(lay, weight_code_bits=0.0)
                                        for lay in huffman_wl.layers])  # fixed-width indices
    workloads = {"dense": dense_wl, "pruned": pruned_wl, "shared": shared_wl,
                 "huffman": huffman_wl}
    archive = {"dense": es.compress.storage(module, fmt="dense", weight_bits=32).total_bytes,
               "pruned": _archive_bytes(pruned, share=False, huffman=False),
               "shared": _archive_bytes(pruned, share=True, huffman=False),
               "huffman": _archive_bytes(pruned, share=True, huffman=True)}
    rows, chips = [], []
    for chip in CHIPS:
        hw = es.load_hardware(chip)
        chips.append(hw.name)
        offchip = {m.name for m in hw.memory if m.is_offchip}
        memory = {m.name for m in hw.memory}
        for step in STEPS:
            res = es.simulate(workloads[step], hw)
            e = res.energy_breakdown_j
            rows.append({
                "chip": hw.name, "step": step, "latency_s": res.latency_s,
                "energy_j": res.energy_j, "decoder_j": e.get("decoder", 0.0),
                "decodes": hw.weight_decoder.value != "none",
                "weight_bytes": res.weight_bytes,
                "dram_bytes": res.dram_read_bytes + res.dram_write_bytes,
                "memory_energy_share": sum(v for k, v in e.items() if k in memory) / res.energy_j,
                "offchip_energy_share": sum(v for k, v in e.items() if k in offchip)
                / res.energy_j,
                "compute_energy_share": sum(v for k, v in e.items()
                                            if k not in memory and k != "static") / res.energy_j,
            })
    kept = pruned_wl.params - sum(lay.weight_sparsity * lay.weight_elems
                                  for lay in pruned_wl.layers)
    return {"quick": quick, "model": name, "chips": chips, "steps": list(STEPS), "rows": rows,
            "archive_bytes": archive, "params": dense_wl.params, "kept_weights": kept,
            "paper_ratios": {"pruned": 9.0, "shared": 27.0, "huffman": 35.0} if not quick
            else {"pruned": 12.0, "shared": 31.0, "huffman": 39.0}}


def lessons(summary: dict[str, Any]) -> dict[str, Any]:
    """What the run shows, computed: memory's share of the dense model's energy on each chip,
    the energy each step saves, and the storage ratios against Han's."""
    by = {(r["chip"], r["step"]): r for r in summary["rows"]}
    arch = summary["archive_bytes"]
    out: dict[str, Any] = {"memory_share_dense": {}, "energy_vs_dense": {},
                           "storage_ratio": {s: arch["dense"] / arch[s] for s in STEPS}}
    for chip in summary["chips"]:
        d = by[chip, "dense"]
        out["memory_share_dense"][chip] = d["memory_energy_share"]
        out["energy_vs_dense"][chip] = {s: by[chip, s]["energy_j"] / d["energy_j"]
                                        for s in STEPS}
    return out


def report(summary: dict[str, Any]) -> str:
    les = lessons(summary)
    lines = [f"Deep Compression on {summary['model']}: storage (Han's accounting, x smaller "
             f"than float32) per step: "
             + ", ".join(f"{s} {les['storage_ratio'][s]:.1f}x (paper "
                         f"{summary['paper_ratios'].get(s, 1.0):.0f}x)" for s in STEPS[1:])]
    for r in summary["rows"]:
        lines.append(f"  {r['chip']:<18} {r['step']:<8} energy {r['energy_j'] * 1e3:8.3f} mJ  "
                     f"memory {r['memory_energy_share']:.0%} (off chip "
                     f"{r['offchip_energy_share']:.0%})  DRAM {r['dram_bytes'] / 1e6:7.2f} MB  "
                     f"stored {r['weight_bytes'] / 1e6:6.2f} MB  latency "
                     f"{r['latency_s'] * 1e3:.3f} ms")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the reduced run the test uses")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "deep_compression")
    args = parser.parse_args(argv)
    summary = run(args.quick)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "summary.json").write_text(json.dumps(summary, indent=1, sort_keys=True) + "\n")
    print(report(summary))
    print(f"wrote {args.out / 'summary.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
