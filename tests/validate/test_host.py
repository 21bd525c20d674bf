"""validate --device host: the table's construction and statistics on small models (the figures
themselves depend on the machine: no accuracy band here)."""

from __future__ import annotations

import math

import pytest

import edgesim as es
from edgesim.validate import host


@pytest.fixture(scope="module")
def small() -> object:
    return host.table(lambda _m: None, threads=[1], zoo=["lenet5"], generated=len(host.KINDS),
                      pruned_base="lenet5", repeats=3, rounds=2)


def test_one_row_per_model_then_the_summary(small: object) -> None:
    import pandas as pd

    assert isinstance(small, pd.DataFrame)
    rows = small[small["group"] != "summary"]
    assert rows["group"].tolist() == ["zoo"] + ["generated"] * len(host.KINDS) + ["pruned"] * 4
    assert [m.split("-", 1)[1] for m in rows[rows["group"] == "generated"]["model"]] == list(
        host.KINDS)  # every kind of generated model traces, simulates and runs
    assert (rows["measured_ms"] > 0).all() and (rows["predicted_ms"] > 0).all()
    assert rows["ratio"].to_numpy() == pytest.approx(
        (rows["predicted_ms"] / rows["measured_ms"]).to_numpy(), rel=1e-12)
    summary = small[small["group"] == "summary"].set_index("model")["value"]
    errs = (rows[rows["group"] == "generated"]["ratio"] - 1.0).abs()
    assert summary["generated: share within 20%"] == (errs <= 0.20).mean()
    assert summary["generated: median error"] == errs.median()
    # two rounds: the odd and the even one measure the same models twice
    again = (rows[rows["group"] == "generated"]["repeat"] - 1.0).abs()
    assert again.notna().all() and (rows["repeat"] > 0).all()
    assert summary["generated: repeat within 20%"] == (again <= 0.20).mean()
    assert -1.0 <= summary["pruned: Spearman rank correlation"] <= 1.0


def test_the_prediction_is_the_simulation_of_the_traced_model(small: object) -> None:
    import pandas as pd

    assert isinstance(small, pd.DataFrame)
    name, module, inputs = host.zoo_cases(["lenet5"])[0]
    main = es.load_hardware("host-cpu").main_unit.name
    hw = es.load_hardware("host-cpu", {f"compute.{main}.cores": 1})
    want = es.simulate(es.trace(module, inputs, name=name), hw).latency_s * 1e3
    assert small.set_index("model").loc["lenet5", "predicted_ms"] == want


def test_generated_models_are_a_function_of_the_seed() -> None:
    a = [es.trace(m, x).layers for _, m, x in host.generated_cases(3, 7)]
    b = [es.trace(m, x).layers for _, m, x in host.generated_cases(3, 7)]
    c = [es.trace(m, x).layers for _, m, x in host.generated_cases(4, 7)]
    assert a == b and a != c


def test_spearman_ranks() -> None:
    assert host.spearman([1, 2, 3], [10, 30, 20]) == pytest.approx(0.5)
    assert math.isclose(host.spearman([1, 2, 3, 4], [4, 3, 2, 1]), -1.0)


def test_device_host_is_not_in_the_default_run() -> None:
    from edgesim.validate.run import DEVICE_CHECKS, Check

    assert Check.HOST in DEVICE_CHECKS and Check.EYERISS not in DEVICE_CHECKS


def test_rounds_are_counted_from_one() -> None:
    from edgesim.errors import EdgesimError

    with pytest.raises(EdgesimError) as err:
        host.table(lambda _m: None, threads=[1], zoo=[], generated=0, rounds=0)
    assert err.value.field == "rounds"


def test_a_stored_table_is_predicted_again_without_measuring(small: object,
                                                             monkeypatch: pytest.MonkeyPatch
                                                             ) -> None:
    """``measured=``: the measurements come from a table written before (nothing is timed),
    only the predictions are made with the spec given; a model the table lacks is named."""
    import pandas as pd

    from edgesim.errors import EdgesimError

    assert isinstance(small, pd.DataFrame)

    def no_timing(*_a: object) -> None:
        raise AssertionError("measured again")

    monkeypatch.setattr(host, "_measured", no_timing)
    again = host.table(lambda _m: None, threads=[1], zoo=["lenet5"], generated=len(host.KINDS),
                       pruned_base="lenet5", measured=small, spec="epyc-zen5")
    rows, old = again[again["group"] != "summary"], small[small["group"] != "summary"]
    for col in ("model", "measured_ms", "median_ms", "spread"):
        assert rows[col].tolist() == old[col].tolist()
    assert rows["repeat"].to_numpy() == pytest.approx(old["repeat"].to_numpy(), rel=1e-12)
    assert rows["ratio"].to_numpy() == pytest.approx(
        (rows["predicted_ms"] / rows["measured_ms"]).to_numpy(), rel=1e-12)
    assert (rows["predicted_ms"] != old["predicted_ms"]).any()  # another spec predicted them
    with pytest.raises(EdgesimError, match="no measurement of"):
        host.table(lambda _m: None, threads=[2], zoo=["lenet5"], generated=0,
                   pruned_base="lenet5", measured=small)
