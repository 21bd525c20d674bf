"""``es.compare`` / ``edgesim compare``: every model x spec x compression variant, one tidy table.

Variants are named recipes in one registry (:class:`Variant`), which the demo uses too. On a
torch model a recipe runs ``es.compress`` and traces the result; on a YAML or ONNX model (no
weights) it is the IR transform of the search's fast path. ``pruned50`` removes half of every
coupled channel group (the lowest-L1 filters; the IR's groups for a YAML or ONNX model),
``int8`` / ``int4`` / ``fp16`` set the weighted layers' weights and activations (a unit without
that width runs them on a wider datapath with the narrower traffic), ``sparse90`` makes 90% of
the weights of every weighted layer zero (unstructured, by magnitude per layer), ``2:4`` keeps 2
of every 4, ``adder`` turns every ``conv2d`` but the first (and the last, when it is the final
weighted layer) into an AdderNet layer, ``deep-compression`` is Han et al.'s (ICLR 2016) pruning
and weight sharing: 90% of the weights zero, the rest sharing 255 values in conv layers and 31
in FC layers (8- and 5-bit indices with a zero code), marked on the IR (``shared_weights``): a
chip that decodes shared-weight indices (``weight_decoder``, as EIE) stores and reads the
indices and pays its decoder; any other chip stores and computes the decoded weights at their
precision (its Huffman coding needs the weights: ``compress.share_weights``). The two paths agree bit for bit for ``pruned50`` and the
precisions (``tests/search/test_fast_path.py``); for sparsity the torch path counts the zeros
its magnitude pruning left (``round(0.9 n)`` per layer), and for ``adder`` a BatchNorm the
tracer folded into a conv stays a layer of its own after an adder conv.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tqdm import tqdm

from edgesim.errors import EdgesimError
from edgesim.hardware.load import SpecLoader
from edgesim.provenance import stamp
from edgesim.search.model import ModelSource, resolve_model
from edgesim.sim import simulate
from edgesim.vocab import WEIGHTED_OPS, Mode
from edgesim.workload.ir import Workload
from edgesim.workload.layer import Layer, with_weights

if TYPE_CHECKING:
    import pandas as pd


class Variant(StrEnum):
    DENSE = "dense"
    PRUNED50 = "pruned50"
    INT8 = "int8"
    INT4 = "int4"
    FP16 = "fp16"
    SPARSE90 = "sparse90"
    NM_2_4 = "2:4"
    ADDER = "adder"
    DEEP_COMPRESSION = "deep-compression"


# The scalar keys of SimResult.to_dict() a row carries (after hardware, workload, variant, mode).
RESULT_COLUMNS = ("batch", "clock_hz", "latency_s", "latency_cycles", "energy_j", "area_mm2",
                  "macs", "adds", "params", "weight_bytes", "dram_read_bytes", "dram_write_bytes")


def _pruned(source: ModelSource) -> Workload:
    from edgesim.search.pruning import ChannelPruning

    problem = ChannelPruning(source, {"granularity": "group", "ratios": [0.0, 0.5]})
    return problem.decode(tuple(1 for _ in problem.bounds)).workload


def _quantized(source: ModelSource, name: str) -> Workload:
    """Weights and activations at precision ``name`` on every layer ``compress.quantize`` quantizes (the
    weighted layers; for a torch model those its fake-quant modules cover), whatever the chip:
    a width its unit lacks runs on a wider datapath with the narrower traffic."""
    from edgesim.search.precision import quantizable_layers
    from edgesim.vocab import Precision

    names = quantizable_layers(source) if source.has_module else None
    p = Precision(name)
    wl = source.workload
    return wl.with_layers([with_weights(lay, weight_precision=p, act_precision=p)
                           if lay.op in WEIGHTED_OPS and (names is None or lay.name in names)
                           else lay for lay in wl.layers])


def _sparse(wl: Workload, fraction: float, pattern: str) -> Workload:
    return wl.with_layers([with_weights(lay, sparsity=fraction, pattern=pattern)
                           if lay.op in WEIGHTED_OPS and lay.weight_elems else lay
                           for lay in wl.layers])


def shared_weight_indices(wl: Workload) -> Workload:
    """Deep Compression's weight sharing marked on the IR: 8-bit indices in conv layers, 5-bit
    in FC layers, i.e. ``2^bits`` shared values, one of the codes kept for zero in a layer that
    has zeros (``compress.share_weights``' rule), and no more values than the layer keeps
    weights; the weights keep their precision."""
    from edgesim.vocab import OpKind

    def shared(lay: Layer) -> int:
        codes = 2 ** (5 if lay.op == OpKind.LINEAR else 8) - (1 if lay.weight_sparsity > 0 else 0)
        kept = lay.weight_elems - round(lay.weight_elems * lay.weight_sparsity)
        return max(1, min(codes, kept))

    return wl.with_layers([dataclasses.replace(lay, shared_weights=shared(lay))
                           if lay.op in WEIGHTED_OPS and lay.weight_elems else lay
                           for lay in wl.layers])


def _adder(wl: Workload) -> Workload:
    """``compress.to_addernet(keep_first_last=True)`` on the IR: every ``conv2d`` becomes an
    adder layer but the first, and the last when it is the final weighted layer."""
    from edgesim.vocab import OpKind

    weighted = [lay for lay in wl.layers if lay.op in WEIGHTED_OPS]
    convs = [lay.name for lay in weighted if lay.op == OpKind.CONV2D]
    keep = set(convs[:1])
    if convs and weighted[-1].name == convs[-1]:
        keep.add(convs[-1])
    return wl.with_layers([dataclasses.replace(lay, op=OpKind.ADDER_CONV2D)
                           if lay.op == OpKind.CONV2D and lay.name not in keep else lay
                           for lay in wl.layers])


def _compressed_module(variant: Variant, source: ModelSource) -> Workload:
    """``variant`` of a torch model: ``es.compress`` on its module, then traced."""
    from edgesim import compress
    from edgesim.workload.trace import trace

    module, inputs = source.module()
    module.eval()
    if variant == Variant.PRUNED50:
        out = compress.prune_channels(module, inputs, ratio=0.5)
    elif variant in (Variant.INT8, Variant.INT4):
        bits = 8 if variant == Variant.INT8 else 4
        out = compress.quantize(module, weight_bits=bits, act_bits=bits)
    elif variant == Variant.FP16:
        out = compress.quantize(module, weight_bits="fp16", act_bits="fp16")
    elif variant == Variant.SPARSE90:
        out = compress.prune_unstructured(module, amount=0.9)
    elif variant == Variant.NM_2_4:
        out = compress.prune_unstructured(module, pattern="2:4")
    elif variant == Variant.DEEP_COMPRESSION:
        pruned = compress.prune_unstructured(module, amount=0.9)
        return shared_weight_indices(trace(pruned, inputs, name=source.workload.name))
    else:
        out = compress.to_addernet(module, keep_first_last=True)
    return trace(out, inputs, name=source.workload.name)


def apply_variant(variant: Variant, source: ModelSource) -> Workload:
    """The workload of ``variant`` of a model: through ``es.compress`` when the model is a torch
    module, else through the IR transform."""
    wl = source.workload
    if variant == Variant.DENSE:
        return wl
    if source.has_module:
        return _compressed_module(variant, source)
    if variant == Variant.PRUNED50:
        return _pruned(source)
    if variant in (Variant.INT8, Variant.INT4, Variant.FP16):
        return _quantized(source, variant.value)
    if variant == Variant.SPARSE90:
        return _sparse(wl, 0.9, "unstructured")
    if variant == Variant.ADDER:
        return _adder(wl)
    if variant == Variant.DEEP_COMPRESSION:
        return shared_weight_indices(_sparse(wl, 0.9, "unstructured"))
    return _sparse(wl, 0.5, "2:4")


def variants(names: Sequence[str]) -> list[Variant]:
    """Variant names as the registry's members (bad input names the field and the choices)."""
    out = []
    for name in names:
        try:
            out.append(Variant(name))
        except ValueError:
            known = ", ".join(v.value for v in Variant)
            raise EdgesimError(f"unknown variant {name!r} (known: {known})",
                               field="variant") from None
    return out


def _single_model(model: object) -> bool:
    """Whether ``model`` is one model (a name, a path, a Workload, a (module, inputs) pair)."""
    return isinstance(model, str | Path | Workload) or (
        isinstance(model, tuple) and len(model) == 2 and not isinstance(model[0], str | Path))


def compare(hw: str | Path | Sequence[str | Path], model: object,
            variant: Sequence[str] = (Variant.DENSE,), mode: str | Mode = Mode.ANALYTIC,
            batch: int | None = None) -> pd.DataFrame:
    """One row per model x spec x variant: ``hardware``, ``workload``, ``variant``, ``mode``,
    the result's scalar keys (units in their names) and the provenance columns
    (``edgesim_version``, ``hardware_sha256``, ``model_sha256`` of the variant's workload).

    ``model``: one model or a list of them, each a zoo name, a workload path, a Workload or a
    ``(torch_module, example_inputs)`` pair (as ``es.search.run`` takes)."""
    import pandas as pd

    hws = [hw] if isinstance(hw, str | Path) else list(hw)
    models = [model] if _single_model(model) else list(model)  # type: ignore[call-overload]
    if not hws or not models:
        raise EdgesimError("give at least one spec and one model",
                           field="hw" if not hws else "model")
    chosen = variants([str(v) for v in variant]) or [Variant.DENSE]
    loaders = [(str(h), SpecLoader(h)) for h in hws]
    sources = [resolve_model(str(m) if isinstance(m, Path) else m) for m in models]
    rows: list[dict[str, Any]] = []
    workloads: dict[tuple[int, Variant], Workload] = {}
    bar = tqdm(total=len(sources) * len(loaders) * len(chosen), desc="compare", unit="run",
               file=sys.stderr, disable=not sys.stderr.isatty(), leave=False)
    for source in sources:
        for ref, loader in loaders:
            design = loader()
            for v in chosen:
                bar.update()
                if (id(source), v) not in workloads:  # a variant is made once, not per spec
                    workloads[id(source), v] = apply_variant(v, source)
                wl = workloads[id(source), v]
                d = simulate(wl, design, mode=mode, batch=batch).to_dict()
                prov = stamp({"hardware": (ref, loader.sha256()), "model": (source.ref,
                                                                           wl.sha256())})
                rows.append({"hardware": d["hardware"], "workload": d["workload"],
                             "variant": v.value, "mode": d["mode"],
                             **{k: d[k] for k in RESULT_COLUMNS},
                             "edgesim_version": prov["edgesim"],
                             "hardware_sha256": prov["inputs"]["hardware"]["sha256"],
                             "model_sha256": prov["inputs"]["model"]["sha256"]})
    bar.close()
    return pd.DataFrame(rows)


def compare_html(table: pd.DataFrame, inputs: Sequence[str]) -> str:
    """The comparison table as a self-contained HTML page (``edgesim compare --html``)."""
    import html

    from edgesim.version import __version__

    named = ", ".join(html.escape(x) for x in inputs)
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>edgesim compare"
            f"</title></head><body><h1>edgesim compare</h1><p>edgesim {__version__}; "
            f"inputs: {named} (hashes in the table)</p>"
            f"{table.to_html(index=False, border=0)}</body></html>\n")


__all__ = ["RESULT_COLUMNS", "Variant", "apply_variant", "compare", "compare_html",
           "shared_weight_indices", "variants"]
