"""The demo (`edgesim demo`): every table filled from real simulations, the report written whole."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from edgesim.report.demo import DEMO_MODELS, DEMO_SPECS, run_demo
from edgesim.report.tables import Table


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report")
    run_demo(out)
    return out


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open() as f:
        return list(csv.DictReader(f))


def test_report_files_are_written_and_nothing_else(demo: Path) -> None:
    names = {p.name for p in demo.iterdir()}
    assert {"index.html", "report.md", "energy_breakdown.png", "latency_energy.png"} <= names
    assert not any(n.startswith(".demo-") for n in names)  # the scratch folder is gone
    assert (demo / "energy_breakdown.png").read_bytes()[:4] == b"\x89PNG"
    html = (demo / "index.html").read_text()
    assert "Compressed variants of resnet18" in html and "<table>" in html


def test_comparison_covers_every_model_and_spec(demo: Path) -> None:
    rows = _rows(demo / "latency_energy_and_area_batch_1_analytic.csv")
    assert {(r["model"], r["spec"]) for r in rows} == {(m, s) for m in DEMO_MODELS
                                                       for s in DEMO_SPECS}
    ran = [r for r in rows if r["latency ms"] != "-"]
    assert all(float(r["latency ms"]) > 0 and float(r["energy mJ"]) > 0 for r in ran)
    # the MCU's 2 MB of flash cannot hold ResNet-18's 11.7 MB of int8 weights: said, not simulated
    mcu = next(r for r in rows if r["model"] == "resnet18" and r["spec"] == "cortex-m7")
    assert mcu["latency ms"] == "-" and "does not fit" in mcu["top energy component"]


def test_variants_show_the_lessons(demo: Path) -> None:
    rows = _rows(demo / "compressed_variants_of_resnet18.csv")
    by = {(r["variant"], r["spec"]): r for r in rows}
    dense, sparse = by[("dense", "edge-npu")], by[("90% unstructured sparse", "edge-npu")]
    # unstructured zeros: about the same cycles on a dense array (it computes the zeros; only
    # the classifier may change units), less storage and DRAM traffic
    assert float(sparse["compute Mcycles"]) == pytest.approx(float(dense["compute Mcycles"]),
                                                             rel=0.03)
    assert float(sparse["weights MB stored"]) < 0.3 * float(dense["weights MB stored"])
    assert float(sparse["DRAM MB"]) < float(dense["DRAM MB"])
    # the zero-skipping array turns the zeros into fewer cycles
    skip = by[("90% unstructured sparse", "sparse-npu")]
    assert float(skip["compute Mcycles"]) < 0.5 * float(dense["compute Mcycles"])
    # channel pruning cuts latency; int8 cuts energy against fp16 on the same chip
    assert float(by[("pruned 50% channels", "edge-npu")]["latency ms"]) < float(
        dense["latency ms"])
    assert float(by[("int8", "davinci-npu")]["energy mJ"]) < float(
        by[("fp16", "davinci-npu")]["energy mJ"])


def test_table_rejects_ragged_rows() -> None:
    t = Table("t", ["a", "b"])
    t.add([1, 2])
    with pytest.raises(ValueError, match="1 cells, table .t. has 2"):
        t.add([1])
    assert t.to_csv() == "a,b\n1,2\n"


def test_demo_runs_its_searches(demo: Path) -> None:
    """The pruning search's table and the design-space front, each with its figure."""
    names = {p.name for p in demo.iterdir()}
    assert {"search_pruning.png", "search_designs.png"} <= names
    html = (demo / "index.html").read_text()
    assert "compression is not speed-up" in html and "latency-area front" in html
    front = next(p for p in demo.glob("search_resnet18_on_*.csv"))
    rows = list(csv.DictReader(front.open()))
    areas = [float(r["area mm2"]) for r in rows]
    lat = [float(r["latency ms"]) for r in rows]
    assert len(rows) >= 2 and areas == sorted(areas) and lat == sorted(lat, reverse=True)


def test_seed_systems_are_read_from_the_saved_example_outputs(demo: Path) -> None:
    from edgesim.report.seeds import RESULTS, SEEDS

    html = (demo / "index.html").read_text()
    saved = [name for name in SEEDS if (RESULTS / name / "summary.json").is_file()]
    assert saved, "examples/results/ holds the examples' saved outputs"
    for title in ("TEC evolutionary filter pruning", "HAQ hardware-aware mixed precision",
                  "LegoDNN block-grained scaling", "CARS-style NAS"):
        assert f"Seed system: {title}" in html
