"""The Atlas case (examples/atlas.py --quick, a narrow U-Net at 64x64): ops the AI Core lacks
run on the AI CPU with their tensors through DRAM, each step of the chain is priced, and
operator selection pays where the fallback is the bottleneck, though it adds MACs."""

from __future__ import annotations

from typing import Any

import pytest

from tests.examples.conftest import load_example, quick_summary


@pytest.fixture(scope="module")
def summary(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return quick_summary("atlas", tmp_path_factory)


def test_every_step_of_the_chain_is_faster_on_the_atlas(summary: dict[str, Any]) -> None:
    lat = [s["atlas-200"]["latency_s"] for s in summary["chain"]]
    assert lat == sorted(lat, reverse=True) and len(set(lat)) == len(lat)
    teacher, *_, selected = summary["chain"]
    # the decoder's resizes fall back to the AI CPU until operator selection replaces them
    assert teacher["atlas-200"]["fallback_layers"] == len(summary["teacher_widths"]) - 1
    assert selected["atlas-200"]["fallback_layers"] == 0
    # the same chain without the fallback (davinci-npu: the vector unit runs every op)
    assert all(s["davinci-npu"]["fallback_layers"] == 0 for s in summary["chain"])
    # with nothing left on the AI CPU the two specs are the same chip
    assert selected["atlas-200"]["latency_s"] == selected["davinci-npu"]["latency_s"]


def test_operator_selection_pays_where_the_fallback_is_the_bottleneck(
        summary: dict[str, Any]) -> None:
    les = load_example("atlas").lessons(summary)
    atlas, plain = les["atlas-200"], les["davinci-npu"]
    # it adds MACs (the transposed convs) and still cuts the atlas's latency the most ...
    assert les["selection_macs_ratio"] > 1
    assert atlas["step_speedup"]["operator selection"] > 1.5
    # ... because of the fallback: on the chip that runs resizes on its vector unit it pays less
    assert atlas["step_speedup"]["operator selection"] > plain["step_speedup"]["operator selection"]
    # compressing the rest makes the fallback a larger share of what is left
    assert atlas["pruned_fallback_share"] > atlas["teacher_fallback_share"] > 0
    assert atlas["chain_speedup"] > plain["chain_speedup"]


def test_select_ops_replaces_bilinear_resizes_with_transposed_convs() -> None:
    import torch
    from torch import nn

    ex = load_example("atlas")
    torch.manual_seed(0)
    x = (torch.randn(1, 3, 32, 32),)
    net = ex.UNet((4, 8, 16)).eval()
    out = ex.select_ops(net, x)
    assert not any(isinstance(m, nn.Upsample) for m in out.modules())
    deconvs = [m for m in out.modules() if isinstance(m, nn.ConvTranspose2d)]
    assert [d.in_channels for d in deconvs] == [16, 8]  # the channels each resize received
    with torch.no_grad():
        assert out(*x).shape == net(*x).shape
        y = torch.randn(1, 16, 5, 5)  # each channel copied to its 2x2 block (nearest-like)
        assert torch.equal(deconvs[0](y), y.repeat_interleave(2, 2).repeat_interleave(2, 3))
    assert any(isinstance(m, nn.Upsample) for m in net.modules())  # the input is left alone


def test_the_report_table(summary: dict[str, Any]) -> None:
    from edgesim.report.seeds import atlas_table

    t = atlas_table(summary)
    assert len(t.rows) == len(summary["chain"]) + 1
    assert "MACs are not latency" in t.note and "bottleneck" in t.note
