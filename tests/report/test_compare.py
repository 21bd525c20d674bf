"""es.compare / edgesim compare: models x specs x variants in one tidy table, variants as IR
transforms that equal compressing the torch module and tracing it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import edgesim as es
from edgesim.cli import main
from edgesim.errors import EdgesimError
from edgesim.report.compare import Variant


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
    for v in ("pruned50", "int4", "sparse90", "2:4"):
        part = table[table["variant"] == v].set_index(["hardware", "workload"])
        assert (part["weight_bytes"] < dense["weight_bytes"]).all(), v  # each one compresses


def test_variants_equal_the_torch_path(table: pd.DataFrame) -> None:
    module, inputs = es.zoo.get("lenet5")
    hw = es.load_hardware("edge-npu")
    row = table[(table["hardware"] == "edge-npu") & (table["workload"] == "lenet5")].set_index(
        "variant")

    def simulated(m: object) -> es.SimResult:
        return es.simulate(es.trace(m, inputs, name="lenet5"), hw)  # type: ignore[arg-type]

    exact = {"pruned50": es.compress.prune_channels(module, inputs, ratio=0.5),
             "int8": es.compress.quantize(module, weight_bits=8, act_bits=8),
             "int4": es.compress.quantize(module, weight_bits=4, act_bits=4)}
    cols = ["latency_s", "energy_j", "weight_bytes", "dram_read_bytes", "dram_write_bytes",
            "macs", "params"]
    for variant, m in exact.items():  # bit for bit
        res = simulated(m).to_dict()
        assert [row.loc[variant, c] for c in cols] == [res[c] for c in cols], variant
    for variant, m in (("sparse90", es.compress.prune_unstructured(module, amount=0.9)),
                       ("2:4", es.compress.prune_unstructured(module, pattern="2:4"))):
        assert row.loc[variant, "weight_bytes"] == pytest.approx(simulated(m).weight_bytes,
                                                                 rel=0.01), variant


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
