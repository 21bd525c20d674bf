"""The regression fence: results equal the golden snapshot bit for bit (``make golden`` rewrites it).

A model change that moves numbers on purpose regenerates the snapshot with ``make golden`` and
says in its commit which change moved what; a structural change must leave every number alone.
"""

from __future__ import annotations

import pytest

from tests.golden import snapshot


@pytest.mark.parametrize("spec", snapshot.spec_names())
def test_zoo_on_spec_matches_snapshot(spec: str) -> None:
    assert snapshot.path_of(spec).is_file(), f"no snapshot for {spec}: run `make golden`"
    want = snapshot.load(spec)
    got = snapshot.collect_spec(spec)
    assert sorted(got) == sorted(want), "the model/mode pairs changed"
    for key in want:
        diff = snapshot.first_difference(want[key], got[key])
        assert diff is None, f"{spec} {key}: {diff}"


def test_compressed_variants_match_snapshot() -> None:
    want = snapshot.load(snapshot.VARIANTS)
    got = snapshot.collect_variants()
    assert sorted(got) == sorted(want)
    for key in want:
        diff = snapshot.first_difference(want[key], got[key])
        assert diff is None, f"{key}: {diff}"


def test_snapshot_covers_every_spec_and_holds_no_machine_path() -> None:
    stored = {p.name for p in snapshot.DATA.glob("*.json.xz")}
    wanted = {snapshot.path_of(n).name for n in [*snapshot.spec_names(), snapshot.VARIANTS]}
    assert stored == wanted
    for spec in snapshot.spec_names():
        for key, entry in snapshot.load(spec).items():
            if "error" in entry:
                assert "/" not in str(entry["detail"]), (spec, key)


def test_first_difference_names_the_path() -> None:
    a = {"layers": [{"energy_j": 1.0}], "latency_s": 2.0}
    b = {"layers": [{"energy_j": 1.0000000000000002}], "latency_s": 2.0}
    assert snapshot.first_difference(a, a) is None
    assert snapshot.first_difference(a, b) == "layers[0].energy_j: 1.0 != 1.0000000000000002"
