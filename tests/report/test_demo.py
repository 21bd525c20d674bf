"""The demo (`edgesim demo`): every table filled from real simulations, the report written whole,
figures first with captions computed from the numbers the tables hold."""

from __future__ import annotations

import csv
import html
import re
from pathlib import Path

import pytest

from edgesim.report.demo import DEMO_MODELS, DEMO_SPECS
from edgesim.report.tables import Table
from edgesim.version import __version__

FIGURES = ("energy.png", "latency_energy.png", "variants.png", "addernet.png", "layers.png",
           "rooflines.png", "area.png", "timeline.png", "search_pruning.png",
           "search_designs.png")


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open() as f:
        return list(csv.DictReader(f))


def _captions(demo: Path) -> dict[str, str]:
    """Figure title -> caption text, from the HTML page."""
    page = (demo / "index.html").read_text()
    return {html.unescape(m.group(1)): html.unescape(m.group(2)) for m in re.finditer(
        r"<figcaption><b>Figure \d+\. (.*?)</b>(.*?)</figcaption>", page)}


def test_report_files_are_written_and_nothing_else(demo: Path) -> None:
    names = {p.name for p in demo.iterdir()}
    assert {"index.html", "report.md", "provenance.json", *FIGURES} <= names
    assert not any(n.startswith(".report-") for n in names)  # the scratch folder is gone
    assert all((demo / f).read_bytes()[:4] == b"\x89PNG" for f in FIGURES)


def test_page_is_self_contained_figures_first_with_a_header(demo: Path) -> None:
    page = (demo / "index.html").read_text()
    srcs = re.findall(r"<img src='([^']*)'", page)
    assert len(srcs) == len(FIGURES) and all(s.startswith("data:image/png;base64,")
                                             for s in srcs)
    assert "href=" not in page  # nothing to fetch, nowhere to go
    assert page.index("<figure") < page.index("<table>")  # figures first
    assert f"edgesim {__version__}" in page and "sha256" in page
    assert "spec edge-npu" in page and "model resnet18" in page


def test_comparison_covers_every_model_and_spec_in_numeric_columns(demo: Path) -> None:
    rows = _rows(demo / "latency_energy_and_area_batch_1_analytic.csv")
    assert {(r["model"], r["spec"]) for r in rows} == {(m, s) for m in DEMO_MODELS
                                                       for s in DEMO_SPECS}
    numeric = ["latency ms", "energy mJ", "area mm2", "DRAM MB", "memory-bound layers",
               "layers", "top energy share %"]
    for r in rows:
        for c in numeric:
            if r[c]:
                float(r[c])  # a number or blank: no "26/48", no "ofmap_buf (44%)"
    ran = [r for r in rows if r["fits"] == "yes"]
    assert all(float(r["latency ms"]) > 0 and float(r["energy mJ"]) > 0 for r in ran)
    assert {r["edgesim_version"] for r in rows} == {__version__}  # provenance on every row
    assert len({r["inputs_sha256"] for r in rows}) == 1


def test_fits_is_simulates_own_capacity_check(demo: Path) -> None:
    from edgesim import simulate

    rows = {(r["model"], r["spec"]): r for r in
            _rows(demo / "latency_energy_and_area_batch_1_analytic.csv")}
    # the MCU's 2 MiB of flash cannot hold ResNet-18's 11 MiB of int8 weights; LeNet-5 fits
    big, small = rows[("resnet18", "cortex-m7")], rows[("lenet5", "cortex-m7")]
    assert big["fits"] == "no" and big["latency ms"] == "" and "flash" in big[
        "why it does not fit"]
    assert small["fits"] == "yes" and float(small["latency ms"]) > 0
    for model in ("resnet18", "lenet5"):
        warned = simulate(model, "cortex-m7").warnings
        assert rows[(model, "cortex-m7")]["why it does not fit"] == "; ".join(warned)


def test_variants_show_the_lessons(demo: Path) -> None:
    rows = _rows(demo / "compressed_variants_of_resnet18.csv")
    by = {(r["variant"], r["spec"]): r for r in rows}
    dense, sparse = by[("dense", "edge-npu")], by[("sparse90", "edge-npu")]
    # unstructured zeros: about the same cycles on a dense array (it computes the zeros),
    # less storage and DRAM traffic
    assert float(sparse["compute Mcycles"]) == pytest.approx(float(dense["compute Mcycles"]),
                                                             rel=0.03)
    assert float(sparse["stored x dense"]) < 0.3
    assert float(sparse["DRAM MB"]) < float(dense["DRAM MB"])
    # the zero-skipping array turns the zeros into fewer cycles
    skip = by[("sparse90", "sparse-npu")]
    assert float(skip["compute Mcycles"]) < 0.5 * float(dense["compute Mcycles"])
    # channel pruning cuts latency; int8 cuts energy against the cube's native fp16
    assert float(by[("pruned50", "edge-npu")]["latency x dense"]) < 1
    assert float(by[("int8", "davinci-npu")]["energy x dense"]) < 0.6
    assert all(float(r[c]) == pytest.approx(1.0) for r in rows if r["variant"] == "dense"
               for c in ("latency x dense", "energy x dense", "stored x dense"))


def test_captions_state_what_the_tables_hold(demo: Path) -> None:
    """Each caption's claim, recomputed here from the CSVs."""
    caps = _captions(demo)
    assert len(caps) == len(FIGURES)
    rows = [r for r in _rows(demo / "latency_energy_and_area_batch_1_analytic.csv")
            if r["fits"] == "yes"]
    energy = caps["Energy per inference, by where it is spent"]
    for model in DEMO_MODELS:
        best = min((r for r in rows if r["model"] == model), key=lambda r: float(r["energy mJ"]))
        assert f"{model}: {best['spec']} (" in energy
    assert "Not shown (the chip cannot hold the model): " in energy and "resnet18 on cortex-m7" \
        in energy
    # AdderNet against its MAC twin: the sign and size of the difference
    var = {(r["variant"], r["spec"]): r for r in _rows(demo / "compressed_variants_of_resnet18.csv")}
    a, t = float(var[("adder", "adder-npu")]["energy mJ"]), float(var[("dense", "edge-npu")][
        "energy mJ"])
    word = "more" if a > t else "less"
    adder = caps["AdderNet like for like: the adder chip against its MAC twin"]
    assert adder.startswith(f"adder on adder-npu uses {abs(a / t - 1):.0%} {word} energy than "
                            f"dense on edge-npu")
    # compression ratio is not speed-up: the variant named stores far less than it speeds up
    m = re.search(r"(\S+) on (\S+) stores ([\d.]+)x fewer weight bytes but only runs "
                  r"([\d.]+)x",
                  caps["Compressed variants of resnet18 on each chip"])
    assert m is not None
    r = var[(m.group(1), m.group(2))]
    assert float(m.group(3)) == pytest.approx(1 / float(r["stored x dense"]), rel=0.01)
    assert float(m.group(3)) > 2 * float(m.group(4))


def test_table_rejects_ragged_rows() -> None:
    t = Table("t", ["a", "b"])
    t.add([1, 2])
    with pytest.raises(ValueError, match="1 cells, table .t. has 2"):
        t.add([1])
    assert t.to_csv() == "a,b\n1,2\n"


def test_demo_runs_its_searches(demo: Path) -> None:
    """The pruning search's table and the design-space front, each with its figure."""
    caps = _captions(demo)
    assert "more of the latency than of the parameters" in caps[
        "Search: resnet18 channel pruning, latency against energy"]
    front = next(p for p in demo.glob("search_resnet18_on_*.csv"))
    rows = list(csv.DictReader(front.open()))
    areas = [float(r["area mm2"]) for r in rows]
    lat = [float(r["latency ms"]) for r in rows]
    assert len(rows) >= 2 and areas == sorted(areas) and lat == sorted(lat, reverse=True)
    assert f"{len(rows)} of 24 designs are on the front" in caps[
        "Search: resnet18 on edge-npu designs, latency against area"]


def test_seed_systems_are_read_from_the_saved_example_outputs(demo: Path) -> None:
    from edgesim.report.seeds import RESULTS, SEEDS

    page = (demo / "index.html").read_text()
    saved = [name for name in SEEDS if (RESULTS / name / "summary.json").is_file()]
    assert saved, "examples/results/ holds the examples' saved outputs"
    for title in ("TEC evolutionary filter pruning", "HAQ hardware-aware mixed precision",
                  "LegoDNN block-grained scaling", "CARS-style NAS"):
        assert f"Seed system: {title}" in page


def test_at_a_glance_says_who_wins_from_the_numbers(demo: Path) -> None:
    page = html.unescape((demo / "index.html").read_text())
    assert page.index("At a glance") < page.index("<figure")
    lines = re.findall(r"<li>(.*?)</li>", page.split("At a glance")[1].split("</ul>")[0])
    rows = [r for r in _rows(demo / "latency_energy_and_area_batch_1_analytic.csv")
            if r["fits"] == "yes"]
    for column, word in (("energy mJ", "Least energy per inference"), ("latency ms", "Fastest")):
        wins: dict[str, list[str]] = {}
        for model in DEMO_MODELS:
            best = min((r for r in rows if r["model"] == model), key=lambda r: float(r[column]))
            wins.setdefault(best["spec"], []).append(model)
        line = next(x for x in lines if x.startswith(word))
        for chip, models in wins.items():
            assert f"{chip} for {len(models)} of {len(DEMO_MODELS)} models ({', '.join(models)})" \
                in line
    assert "Capacity: cortex-m7 holds 1 of the 5 models (lenet5)." in lines
    var = {(r["variant"], r["spec"]): r for r in _rows(demo / "compressed_variants_of_resnet18.csv")}
    ratio = float(var[("adder", "adder-npu")]["energy mJ"]) / float(
        var[("dense", "edge-npu")]["energy mJ"])
    assert any(x.startswith(f"AdderNet on adder-npu uses {ratio - 1:+.0%} energy") for x in lines)
