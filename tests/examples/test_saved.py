"""The examples' saved full runs (``make examples``): their lessons, and the README's figures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = " ".join((ROOT / "README.md").read_text().split())  # line breaks as spaces


def _saved(name: str) -> dict[str, Any]:
    path = ROOT / "examples" / "results" / name / "summary.json"
    if not path.is_file():
        pytest.fail(f"{path} is missing: run `make examples`")
    summary: dict[str, Any] = json.loads(path.read_text())
    assert not summary["quick"], "the saved output is a full run"
    return summary


def test_tec_evolution_lowers_the_macs_kept_within_a_point() -> None:
    d = _saved("tec")["digits"]
    first, last = d["curve"][0], d["curve"][-1]
    assert last["fewest_macs_kept_within_a_point"] < first["fewest_macs_kept_within_a_point"]
    best = d["best_at_target"]
    assert f"{best['macs_kept']:.1%} of the MACs at {best['accuracy']:.3f}" in README


def test_legodnn_milp_matched_the_grid_at_every_budget() -> None:
    s = _saved("legodnn")
    assert all(r["milp_equals_grid"] for r in s["digits"]["budgets"])
    assert f"up to {s['digits']['max_abs_latency_gap']:.1%} (digits ResNet" in README
    sooner = [1 - r["corun_latency_s"] / r["predicted_latency_s"] for r in s["joint"]["budgets"]]
    assert f"finish {min(sooner):.1%}-{max(sooner):.1%} sooner" in README


def test_haq_readme_states_the_saved_verdict() -> None:
    s = _saved("haq")
    assert s["lesson_reproduced"] == (s["universal_penalty"] > 1 + s["material"])
    assert (f"within {s['universal_penalty'] - 1:.2%} of the best on every chip" in README) \
        != s["lesson_reproduced"]


def test_cars_macs_misorder_latency_in_the_full_run() -> None:
    s = _saved("cars")
    assert s["spearman_macs_latency"] < 0.98 and s["only_on_macs_front"] > 0
    assert f"rank correlation {s['spearman_macs_latency']:.2f}" in README


def test_deep_compression_memory_dominates_and_readme_quotes_it() -> None:
    import importlib.util

    s = _saved("deep_compression")
    spec = importlib.util.spec_from_file_location("deep_compression",
                                                  ROOT / "examples" / "deep_compression.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    les = module.lessons(s)
    share = min(les["memory_share_dense"].values())
    assert share > 0.5
    assert f"memory is {share:.1%} of dense AlexNet's energy" in README
    r = les["storage_ratio"]
    assert f"{r['pruned']:.1f}x / {r['shared']:.1f}x / {r['huffman']:.1f}x" in README
    e = les["energy_vs_dense"]
    assert f"{e['edge-npu']['huffman']:.3f}x of dense on `edge-npu`" in README
    assert f"{e['sparse-npu']['huffman']:.3f}x on `sparse-npu`" in README
    d = e["sparse-npu-decoder"]
    assert f"to {d['shared']:.3f}x (shared) and {d['huffman']:.3f}x (Huffman)" in README
    assert d["huffman"] < d["shared"] < e["sparse-npu"]["huffman"] == e["sparse-npu"]["pruned"]


def test_binary_saved_verdict_is_the_readme_s() -> None:
    s = _saved("binary")
    by = {(r["kind"], r["width"]): r for r in s["rows"]}
    a = s["anchor_width"]
    ratio = by["int8", a]["energy_j"] / by["binary", a]["energy_j"]
    assert f"binary at width {a} takes {ratio:.2f}x less energy than int8" in README
    gap = (s["accuracy"][f"binary-w{a}"] - s["accuracy"][f"int8-w{a}"]) * 100
    widest = {b["widest_binary"] for b in s["budgets"].values()}
    if widest == {a}:
        assert f"can only be as wide (1.0x), and it measures {abs(gap):.1f} points less" in README


def test_cnnpack_compression_is_not_speed_and_readme_quotes_it() -> None:
    import importlib.util

    s = _saved("cnnpack")
    spec = importlib.util.spec_from_file_location("cnnpack", ROOT / "examples" / "cnnpack.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    les = module.lessons(s)
    comp = max(d["best_compression"] for d in les.values())
    assert comp > 30 and all(d["best_conv_speedup"] < 1 for d in les.values())
    assert f"up to {comp:.1f}x compression of the conv layers" in README
    for chip, d in les.items():
        assert f"{d['best_conv_speedup']:.2f}x on `{chip}`" in README


def test_ccg_saved_pair_meets_the_target_and_readme_quotes_it() -> None:
    s = _saved("ccg")
    a, b = s["best"]["A2B"], s["best"]["B2A"]
    for best in (a, b):
        assert best["macs_kept"] <= s["macs_budget"] < best["latency_kept"]
    assert (f"A2B keeps {a['macs_kept']:.1%} of the MACs and {a['params_kept']:.1%} of the "
            f"parameters, B2A {b['macs_kept']:.1%} and {b['params_kept']:.1%}") in README
    assert f"they keep {a['latency_kept']:.1%} and {b['latency_kept']:.1%} of the latency" \
        in README


def test_atlas_saved_chain_and_readme_quotes_it() -> None:
    s = _saved("atlas")
    chain = s["chain"]
    atlas = [c["atlas-200"] for c in chain]
    assert [a["latency_s"] for a in atlas] == sorted((a["latency_s"] for a in atlas), reverse=True)
    after, alone = atlas[-2]["latency_s"] / atlas[-1]["latency_s"], \
        atlas[0]["latency_s"] / s["operator_selection_alone"]["atlas-200"]["latency_s"]
    assert after > alone > 1  # operator selection pays more once the rest is compressed
    plain = chain[0]["davinci-npu"]["latency_s"] / chain[-1]["davinci-npu"]["latency_s"]
    assert (f"the chain is {atlas[0]['latency_s'] / atlas[-1]['latency_s']:.1f}x faster on "
            f"`atlas-200` ({atlas[0]['latency_s'] * 1e3:.2f} ms -> "
            f"{atlas[-1]['latency_s'] * 1e3:.2f} ms; {plain:.1f}x on `davinci-npu`)") in README
    shares = [atlas[i]["fallback_s"] / atlas[i]["latency_s"] for i in (0, 2)]
    assert (f"operator selection is {after:.2f}x after pruning but {alone:.2f}x on the teacher, "
            f"as the AI CPU's share grows from {shares[0]:.0%} of the teacher's latency to "
            f"{shares[1]:.0%} of the pruned student's") in README
