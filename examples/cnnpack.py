"""CNNpack (Wang et al., NIPS 2016): packing convolutions in the frequency domain, priced on chips.

CNNpack writes every k x k filter slice as a combination of the k x k DCT bases, keeps few of
the coefficients (clustered, quantized, Huffman-coded) and reports large compression (39x on
AlexNet). Its inference form is not the plain convolution: each input channel is convolved with
the k^2 DCT bases (shared by all filters), and each output channel is a sparse weighted sum of
those responses. This example builds that form as a torch module (``packed``: per conv layer, a
depthwise conv with the fixed DCT bases, then a 1x1 conv whose weights are the DCT coefficients;
exactly the plain layer when nothing is dropped, which the test checks), keeps the largest
coefficients, and prices both forms on three chips at each chip's own precision (the storage
ratio counts the kept coefficients as 8-bit codebook indices, Huffman-coded, as the paper
stores them):

- ``edge-npu``: a dense int8 systolic array: zeros are computed, the weights move compressed.
- ``sparse-npu``: its twin that skips zero weights.
- ``cortex-a76``: a mobile CPU core (NEON), dense.

The talk's point, tested here: the compression ratio does not become speed. The DCT responses
add work (k^2 maps per input channel) and the combination is as large as the plain layer before
its zeros are skipped; only a chip that skips zeros gets anything back.

Choices (a careful engineer's, stated): the zoo's AlexNet has untrained weights (no ImageNet
here), so which coefficients are kept, and what Huffman coding gains, differ from the paper's;
coefficients are kept by magnitude per layer at one fraction for all conv layers (swept), with no
retraining, so accuracy is not reported; the DCT bases are generated when the model loads and
are not counted as storage (the chips still fetch them, and the simulation counts that); the
fully connected layers are left as they are in both forms, and the compression ratio is over
the conv layers' weights, against float32 (the paper's baseline; the paper's 39x is over the
whole retrained AlexNet) and against int8 (the weights the NPUs hold); only convs the form
computes exactly are packed (groups 1, square kernels, no dilation, zero padding).

Run: ``python examples/cnnpack.py [--quick] [--out DIR]`` (``make examples`` runs it in full and
saves ``examples/results/cnnpack/``; ``--quick`` is the reduced run the test uses: LeNet-5).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

CHIPS = ("edge-npu", "sparse-npu", "cortex-a76")
KEEPS = (0.25, 0.125, 0.0625)  # fraction of DCT coefficients kept in every conv layer


def dct_bases(k: int) -> Any:
    """The k*k orthonormal 2-D DCT-II bases, shape (k*k, k, k)."""
    import torch

    n = torch.arange(k, dtype=torch.float64)
    scale = torch.full((k,), math.sqrt(2.0 / k), dtype=torch.float64)
    scale[0] = math.sqrt(1.0 / k)
    c = scale[:, None] * torch.cos(math.pi * (2 * n[None, :] + 1) * n[:, None] / (2 * k))
    return torch.einsum("ux,vy->uvxy", c, c).reshape(k * k, k, k).float()


def packable(module: Any) -> bool:
    """The convs CNNpack's form computes exactly here: groups 1, a square kernel over 1x1, no
    dilation, zero padding (others stay plain)."""
    from torch import nn

    return (isinstance(module, nn.Conv2d) and module.groups == 1
            and module.kernel_size[0] == module.kernel_size[1] > 1
            and module.dilation == (1, 1) and module.padding_mode == "zeros")


def pack_conv(conv: Any) -> Any:
    """A plain ``nn.Conv2d`` (:func:`packable`) as CNNpack computes it: DCT responses per input
    channel (a depthwise conv with the fixed bases), then their weighted sum (a 1x1 conv whose
    weights are the filter's DCT coefficients)."""
    import torch
    from torch import nn

    if not packable(conv):
        raise ValueError(f"not a conv CNNpack's form computes exactly here: {conv}")
    c_in, c_out, k = conv.in_channels, conv.out_channels, conv.kernel_size[0]
    bases = dct_bases(k)
    basis = nn.Conv2d(c_in, c_in * k * k, k, conv.stride, conv.padding, groups=c_in, bias=False)
    combine = nn.Conv2d(c_in * k * k, c_out, 1, bias=conv.bias is not None)
    with torch.no_grad():
        basis.weight.copy_(bases.repeat(c_in, 1, 1).unsqueeze(1))
        coeffs = torch.einsum("ocxy,bxy->ocb", conv.weight, bases)  # <W[o, c], D_b>
        combine.weight.copy_(coeffs.reshape(c_out, c_in * k * k, 1, 1))
        if conv.bias is not None:
            combine.bias.copy_(conv.bias)
    return nn.Sequential(basis, combine)


def packed(module: Any) -> tuple[Any, list[str]]:
    """A copy of ``module`` with every plain square conv in CNNpack's form; the names of the
    combination layers (the ones that carry the coefficients)."""
    import copy

    out = copy.deepcopy(module)
    names = []
    for name, sub in list(out.named_modules()):
        if packable(sub):
            parent = out.get_submodule(name.rpartition(".")[0]) if "." in name else out
            setattr(parent, name.rpartition(".")[2], pack_conv(sub))
            names.append(f"{name}.1")
    return out.eval(), names


def _conv_archive_bytes(module: Any, names: list[str], dense_bits: int | None = None) -> int:
    """Storage of the named layers only (the fully connected layers, the same in both forms,
    are left out): dense at ``dense_bits`` per weight, or (None) CSR with 8-bit shared values,
    Huffman-coded."""
    from torch import nn

    import edgesim as es

    layers = nn.ModuleDict({n.replace(".", "_"): module.get_submodule(n) for n in names})
    if dense_bits is None:
        return es.compress.storage(layers, fmt="csr", share_bits=8, huffman=True).total_bytes
    return es.compress.storage(layers, fmt="dense", weight_bits=dense_bits).total_bytes


def _conv_s(result: Any, convs: list[str]) -> float:
    """Seconds spent in the packed conv layers (a plain conv, or its basis and combine layers)."""
    return sum(lay.latency_s for lay in result.layers
               if any(lay.name == c or lay.name.startswith(f"{c}.") for c in convs))


def run(quick: bool) -> dict[str, Any]:
    import torch

    import edgesim as es

    name = "lenet5" if quick else "alexnet"
    module, inputs = es.zoo.get(name)
    module.eval()
    convs = [n for n, m in module.named_modules() if packable(m)]
    pack, combine = packed(module)
    with torch.no_grad():
        exact = float((pack(*inputs) - module(*inputs)).abs().max()
                      / module(*inputs).abs().max())
    plain_bytes = _conv_archive_bytes(module, convs, dense_bits=32)
    plain_int8 = _conv_archive_bytes(module, convs, dense_bits=8)
    plain_wl = es.trace(module, inputs, name=name)
    plain = {chip: es.simulate(plain_wl, chip) for chip in CHIPS}
    rows = []
    for keep in KEEPS:
        pruned = es.compress.prune_unstructured(pack, layers=dict.fromkeys(combine, 1 - keep))
        wl = es.trace(pruned, inputs, name=f"{name}-cnnpack")
        packed_bytes = _conv_archive_bytes(pruned, combine)
        ratio, ratio_int8 = plain_bytes / packed_bytes, plain_int8 / packed_bytes
        for chip in CHIPS:
            res, base = es.simulate(wl, chip), plain[chip]
            rows.append({"keep": keep, "chip": chip, "compression": ratio,
                         "compression_vs_int8": ratio_int8,
                         "latency_s": res.latency_s, "plain_latency_s": base.latency_s,
                         "speedup": base.latency_s / res.latency_s,
                         "conv_speedup": _conv_s(base, convs) / _conv_s(res, convs),
                         "energy_j": res.energy_j, "plain_energy_j": base.energy_j,
                         "macs": res.macs, "plain_macs": base.macs})
    return {"example": "cnnpack", "quick": quick, "model": name, "chips": list(CHIPS),
            "keeps": list(KEEPS), "packed_layers": convs, "relative_error_unpruned": exact,
            "plain_conv_bytes_fp32": plain_bytes, "plain_conv_bytes_int8": plain_int8,
            "rows": rows,
            # Wang et al. 2016: the whole AlexNet (fully connected layers too), retrained
            "paper": {"model": "AlexNet", "compression": 39.0}}


def lessons(summary: dict[str, Any]) -> dict[str, Any]:
    """Per chip: the largest simulated speed-up against the largest compression ratio."""
    out = {}
    for chip in summary["chips"]:
        rows = [r for r in summary["rows"] if r["chip"] == chip]
        out[chip] = {"best_speedup": max(r["speedup"] for r in rows),
                     "best_conv_speedup": max(r["conv_speedup"] for r in rows),
                     "best_compression": max(r["compression"] for r in rows),
                     "best_compression_vs_int8": max(r["compression_vs_int8"] for r in rows)}
    return out


def report(summary: dict[str, Any]) -> str:
    lines = [f"CNNpack on {summary['model']} ({len(summary['packed_layers'])} conv layers packed;"
             f" the unpruned packed form matches the plain net to "
             f"{summary['relative_error_unpruned']:.1e})",
             "  keep    chip         compression  conv speed-up  speed-up  MACs x   energy x"]
    for r in summary["rows"]:
        lines.append(f"  {r['keep']:<6.4g}  {r['chip']:<11}  {r['compression']:9.1f}x  "
                     f"{r['conv_speedup']:12.2f}x  {r['speedup']:7.2f}x  "
                     f"{r['macs'] / r['plain_macs']:6.2f}  "
                     f"{r['energy_j'] / r['plain_energy_j']:7.2f}")
    for chip, d in lessons(summary).items():
        lines.append(f"  {chip}: up to {d['best_compression']:.0f}x compression of the conv "
                     f"layers (vs float32; {d['best_compression_vs_int8']:.0f}x vs int8), at "
                     f"best {d['best_conv_speedup']:.2f}x their speed "
                     f"({d['best_speedup']:.2f}x the whole net's)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the reduced run the test uses")
    parser.add_argument("--out", type=Path,
                        default=Path(__file__).parent / "results" / "cnnpack")
    args = parser.parse_args(argv)
    summary = run(args.quick)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "summary.json").write_text(json.dumps(summary, indent=1, sort_keys=True) + "\n")
    print(report(summary))
    print(f"wrote {args.out / 'summary.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
