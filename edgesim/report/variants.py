"""The demo's compressed variants: one model, the registry's recipes on the chips where each matters."""

from __future__ import annotations

from collections.abc import Sequence

from edgesim.report.compare import Variant, apply_variant
from edgesim.report.runs import Run, run_of
from edgesim.report.tables import Table

# Which variants run on which chip: each chip is there for what it does with compression (a
# dense systolic array, a zero-skipping one, a cube with int8 and int4 modes beside the dense
# model at the precision each unit resolves it to, an adder array).
VARIANT_RUNS: tuple[tuple[str, tuple[Variant, ...]], ...] = (
    ("edge-npu", (Variant.DENSE, Variant.PRUNED50, Variant.SPARSE90, Variant.NM_2_4,
                  Variant.INT4, Variant.DEEP_COMPRESSION)),
    ("sparse-npu", (Variant.DENSE, Variant.SPARSE90, Variant.NM_2_4,
                    Variant.DEEP_COMPRESSION)),
    ("davinci-npu", (Variant.DENSE, Variant.INT8, Variant.INT4)),
    ("adder-npu", (Variant.DENSE, Variant.ADDER)),
)
# AdderNet's like-for-like comparison: the adder chip against its MAC twin (the same spec with
# MAC PEs: `adder-npu.yaml` says so), each running its own form of the model.
ADDER_PAIR = ((Variant.ADDER.value, "adder-npu"), (Variant.DENSE.value, "edge-npu"))


def variant_runs(model_name: str,
                 plan: Sequence[tuple[str, Sequence[Variant]]] = VARIANT_RUNS) -> list[Run]:
    """Simulate each (chip, variants) of ``plan`` for a zoo model; each variant is made once."""
    from edgesim.hardware import load_hardware
    from edgesim.search.model import resolve_model
    from edgesim.sim import simulate

    source = resolve_model(model_name)
    made = {}
    runs = []
    for spec, chosen in plan:
        hw = load_hardware(spec)
        for v in chosen:
            if v not in made:
                made[v] = apply_variant(v, source)
            runs.append(run_of(simulate(made[v], hw), hw, model_name, v.value))
    return runs


def variants_table(model_name: str, runs: Sequence[Run]) -> Table:
    """Each variant's latency, energy, cycles, DRAM traffic and stored weights, and each as a
    multiple of the dense model on the same chip; the note prices Deep Compression's format."""
    from edgesim.compress import prune_unstructured, storage
    from edgesim.workload import zoo

    t = Table(f"Compressed variants of {model_name}",
              ["variant", "spec", "latency ms", "energy mJ", "compute Mcycles", "DRAM MB",
               "weights MB stored", "latency x dense", "energy x dense", "stored x dense"])
    dense = {r.hardware: r for r in runs if r.variant == Variant.DENSE.value}
    for r in runs:
        d = dense.get(r.hardware, r)
        res = r.result
        cycles = sum(int(lay["compute_cycles"]) for lay in res["layers"])
        t.add([r.variant, r.hardware, f"{r.latency_s * 1e3:.3f}", f"{r.energy_j * 1e3:.3f}",
               f"{cycles / 1e6:.2f}",
               f"{(res['dram_read_bytes'] + res['dram_write_bytes']) / 1e6:.2f}",
               f"{res['weight_bytes'] / 1e6:.2f}", f"{r.latency_s / d.latency_s:.3f}",
               f"{r.energy_j / d.energy_j:.3f}",
               f"{res['weight_bytes'] / d.result['weight_bytes']:.3f}"])
    # Deep Compression's own stored form (Han et al.: 90% pruned, 5-bit shared weights with
    # relative indices, Huffman): counted from the pruned weights, storage only, since no spec
    # here has a decoder that reads it.
    module, _ = zoo.get(model_name)
    deep = storage(prune_unstructured(module.eval(), amount=0.9), fmt="csr", share_bits=5,
                   huffman=True).total_bytes
    base = next(iter(dense.values()), None)
    if base is not None:
        t.note = (f"Deep Compression's format (90% pruned, 5-bit shared weights, Huffman) "
                  f"stores {model_name} in {deep / 1e6:.2f} MB, "
                  f"{base.result['weight_bytes'] / deep:.1f}x less than the dense weights "
                  f"{base.hardware} stores; storage only: no chip here decodes it.")
    return t


__all__ = ["ADDER_PAIR", "VARIANT_RUNS", "variant_runs", "variants_table"]
