"""CNNpack (examples/cnnpack.py --quick, LeNet-5): the frequency-domain form computes the plain
convolutions, and its compression ratio does not become speed on the chips."""

from __future__ import annotations

from typing import Any

import pytest

from tests.examples.conftest import load_example, quick_summary


@pytest.fixture(scope="module")
def summary(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return quick_summary("cnnpack", tmp_path_factory)


def test_the_packed_form_is_the_plain_convolution(summary: dict[str, Any]) -> None:
    assert summary["packed_layers"]  # LeNet-5's 5x5 convs
    assert summary["relative_error_unpruned"] < 1e-5


def test_a_dct_basis_expansion_is_exact_on_a_strided_padded_conv() -> None:
    import torch

    ex = load_example("cnnpack")
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(3, 5, 3, stride=2, padding=1).eval()
    x = torch.randn(1, 3, 9, 9)
    with torch.no_grad():
        assert torch.allclose(ex.pack_conv(conv)(x), conv(x), atol=1e-5)
    bases = ex.dct_bases(3).reshape(9, 9)
    assert torch.allclose(bases @ bases.T, torch.eye(9), atol=1e-6)  # orthonormal
    for other in (torch.nn.Conv2d(3, 5, 3, dilation=2), torch.nn.Conv2d(3, 5, 3, padding=1,
                                                                      padding_mode="reflect")):
        assert not ex.packable(other)  # left plain: the form would not compute them


def test_compression_is_not_speed(summary: dict[str, Any]) -> None:
    les = load_example("cnnpack").lessons(summary)
    for chip, d in les.items():
        # smaller than the int8 weights the chips hold, yet slower than the plain convs
        assert d["best_compression_vs_int8"] > 2, chip
        assert d["best_conv_speedup"] < 1, chip  # k^2 DCT responses per input channel, moved
    for chip in summary["chips"]:
        rows = sorted((r for r in summary["rows"] if r["chip"] == chip), key=lambda r: r["keep"])
        # fewer coefficients compress more ...
        assert [r["compression"] for r in rows] == sorted((r["compression"] for r in rows),
                                                          reverse=True)
    # ... and a chip that skips zero weights gets some of it back, in energy
    sparse = sorted((r for r in summary["rows"] if r["chip"] == "sparse-npu"),
                    key=lambda r: r["keep"])
    assert sparse[0]["energy_j"] < sparse[-1]["energy_j"]


def test_the_report_table(summary: dict[str, Any]) -> None:
    from edgesim.report.seeds import cnnpack_table

    t = cnnpack_table(summary)
    assert len(t.rows) == len(summary["rows"]) and "speed-up" in t.note
