"""Deep Compression step by step (examples/deep_compression.py --quick: LeNet-5 at Han's rates):
memory dominates the dense model's energy, each step that cuts traffic cuts energy, and weight
sharing and Huffman coding cut traffic only on the chip that decodes them."""

from __future__ import annotations

from typing import Any

import pytest

from tests.examples.conftest import load_example, quick_summary


@pytest.fixture(scope="module")
def summary(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return quick_summary("deep_compression", tmp_path_factory)


def test_memory_dominates_and_each_step_saves(summary: dict[str, Any]) -> None:
    les = load_example("deep_compression").lessons(summary)
    assert all(share > 0.5 for share in les["memory_share_dense"].values())
    decodes = {r["chip"] for r in summary["rows"] if r["decodes"]}
    assert decodes == {"sparse-npu-decoder"}
    for chip, ratio in les["energy_vs_dense"].items():
        assert ratio["pruned"] < 0.7, chip  # far fewer weight bytes fetched
        if chip in decodes:  # narrower indices, then shorter codes, fetched and decoded
            assert ratio["huffman"] < ratio["shared"] < ratio["pruned"], chip
        else:  # the chip reads int8 weights: sharing and Huffman coding are storage only
            assert ratio["huffman"] == ratio["shared"] == ratio["pruned"], chip
    by = {(r["chip"], r["step"]): r for r in summary["rows"]}
    assert by["sparse-npu-decoder", "huffman"]["dram_bytes"] < \
        by["sparse-npu-decoder", "shared"]["dram_bytes"] < by["sparse-npu", "shared"]["dram_bytes"]
    assert by["sparse-npu-decoder", "huffman"]["decoder_j"] > 0
    store = les["storage_ratio"]
    assert 1 < store["pruned"] < store["shared"] < store["huffman"]


def test_zero_skipping_turns_pruning_into_speed(summary: dict[str, Any]) -> None:
    by = {(r["chip"], r["step"]): r for r in summary["rows"]}
    dense_gain = by["edge-npu", "dense"]["latency_s"] / by["edge-npu", "pruned"]["latency_s"]
    skip_gain = by["sparse-npu", "dense"]["latency_s"] / by["sparse-npu", "pruned"]["latency_s"]
    assert skip_gain > dense_gain


def test_the_report_table(summary: dict[str, Any]) -> None:
    from edgesim.report.seeds import deep_compression_table

    t = deep_compression_table(summary)
    assert len(t.rows) == 3 * 4 and "Memory is at least" in t.note and "storage only" in t.note
    assert "sparse-npu-decoder, which decodes" in t.note
