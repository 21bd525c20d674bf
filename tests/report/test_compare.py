"""es.compare / edgesim compare: models x specs x variants in one tidy table; variants compress
a torch model with es.compress, and a YAML or ONNX model with the IR transforms."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import edgesim as es
from edgesim.cli import main
from edgesim.errors import EdgesimError
from edgesim.report.compare import Variant

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return es.compare(["edge-npu", "davinci-npu"], ["lenet5", "workloads/small3.yaml"],
                      [v.value for v in Variant])


def test_one_row_per_model_spec_and_variant(table: pd.DataFrame) -> None:
    assert len(table) == 2 * 2 * len(Variant)
    assert list(table.columns[:4]) == ["hardware", "workload", "variant", "mode"]
    for col in ("latency_s", "energy_j", "area_mm2", "weight_bytes", "dram_read_bytes"):
        assert pd.api.types.is_numeric_dtype(table[col]), col
    assert (table["edgesim_version"] == es.__version__).all()
    dense = table[table["variant"] == "dense"].set_index(["hardware", "workload"])
    for v in ("pruned50", "int4", "sparse90", "2:4", "deep-compression"):
        part = table[table["variant"] == v].set_index(["hardware", "workload"])
        assert (part["weight_bytes"] < dense["weight_bytes"]).all(), v  # each one compresses


def test_ir_variants_equal_the_torch_path(table: pd.DataFrame) -> None:
    """A zoo model runs each recipe through es.compress and traces it; the same model as a bare
    Workload (as from YAML or ONNX) runs the IR transforms: equal where the recipe needs no
    weights, close where the torch path counts the zeros it made or keeps a BatchNorm."""
    torch_rows = table[(table["hardware"] == "edge-npu") & (table["workload"] == "lenet5")
                       ].set_index("variant")
    ir_rows = es.compare("edge-npu", es.load_workload("lenet5"), [v.value for v in Variant]
                         ).set_index("variant")
    cols = ["latency_s", "energy_j", "weight_bytes", "dram_read_bytes", "dram_write_bytes",
            "macs", "params"]
    for variant in ("dense", "pruned50", "int8", "int4", "fp16"):  # bit for bit
        assert list(torch_rows.loc[variant, cols]) == list(ir_rows.loc[variant, cols]), variant
    for variant in ("sparse90", "2:4", "deep-compression"):
        assert ir_rows.loc[variant, "weight_bytes"] == pytest.approx(
            torch_rows.loc[variant, "weight_bytes"], rel=0.01), variant
    for c in ("macs", "latency_s", "energy_j"):
        assert ir_rows.loc["adder", c] == pytest.approx(torch_rows.loc["adder", c], rel=0.03), c
    assert torch_rows.loc["adder", "adds"] > torch_rows.loc["dense", "adds"]  # adder layers


def test_variants_are_es_compress_on_a_torch_model(table: pd.DataFrame) -> None:
    module, inputs = es.zoo.get("lenet5")
    row = table[(table["hardware"] == "edge-npu") & (table["workload"] == "lenet5")].set_index(
        "variant")
    for variant, m in (("sparse90", es.compress.prune_unstructured(module, amount=0.9)),
                       ("adder", es.compress.to_addernet(module))):
        res = es.simulate(es.trace(m, inputs, name="lenet5"), "edge-npu")
        assert row.loc[variant, "energy_j"] == res.energy_j, variant


def test_a_workload_object_is_one_model() -> None:
    wl = es.load_workload("workloads/small3.yaml")
    got = es.compare("edge-npu", wl, ["dense", "int8"])
    assert list(got["workload"]) == ["small3", "small3"]
    assert got["latency_s"].iloc[0] == es.simulate(wl, es.load_hardware("edge-npu")).latency_s


def test_bad_variant_and_cli_outputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(EdgesimError) as err:
        es.compare("edge-npu", "lenet5", ["pruned90"])
    assert err.value.field == "variant"
    csv, page = tmp_path / "c.csv", tmp_path / "c.html"
    assert main(["compare", "--hw", "edge-npu", "--model", "lenet5", "--variant", "nope",
                 "--csv", str(csv)]) == 2
    assert "--variant" in capsys.readouterr().err and not csv.exists()
    assert main(["compare", "--hw", "edge-npu", "--hw", "cortex-a76", "--model", "lenet5",
                 "--variant", "dense", "--variant", "int8", "--csv", str(csv),
                 "--html", str(page)]) == 0
    written = pd.read_csv(csv)
    assert len(written) == 4 and set(written["variant"]) == {"dense", "int8"}
    assert "<table" in page.read_text() and es.__version__ in page.read_text()
    assert "cortex-a76" in capsys.readouterr().out


def test_deep_compression_pays_only_on_a_chip_that_decodes_its_indices(tmp_path: Path) -> None:
    """Weight sharing marked on the IR: a chip without a decoder runs the decoded weights, so
    the variant costs what sparse90 costs; one with a codebook decoder fetches the indices
    (fewer DRAM bytes than sparse90's values) and pays a decoder step per weight."""
    wl = es.load_workload("resnet18")
    plain = es.compare("edge-npu", wl, ["sparse90", "deep-compression"]).set_index("variant")
    for col in ("latency_s", "energy_j", "dram_read_bytes"):
        assert plain.loc["deep-compression", col] == plain.loc["sparse90", col], col
    spec = (ROOT / "hardware_specs" / "edge-npu.yaml").read_text()
    decoding = tmp_path / "edge-npu-decoder.yaml"
    decoding.write_text(spec.replace("\ncompute:", "\nweight_decoder: codebook\ncompute:", 1))
    dec = es.compare(str(decoding), wl, ["sparse90", "deep-compression"]).set_index("variant")
    assert dec.loc["deep-compression", "dram_read_bytes"] < dec.loc["sparse90", "dram_read_bytes"]
    assert dec.loc["deep-compression", "weight_bytes"] < dec.loc["sparse90", "weight_bytes"]
