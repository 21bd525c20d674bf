"""The golden snapshot: every zoo model on every built-in spec (analytic and DES) and the demo's
compressed variants, as ``SimResult.to_dict()``; regenerated only by ``make golden``.

One xz-compressed JSON file per spec (``data/<spec>.json.xz``) maps ``"<model>/<mode>"`` to the
result dict, or to ``{"error": <class>, "field": ..., "detail": ...}`` where the pair cannot run
(no machine paths: the file part of an error is left out). ``data/variants.json.xz`` holds the
demo's compressed-variant runs. Floats are stored as Python's ``repr`` (JSON), so a comparison is
bit for bit.

Regenerate (only when a model change is intended, saying in the commit which change moved what)::

    make golden            # = python -m tests.golden.snapshot
"""

from __future__ import annotations

import json
import lzma
import sys
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data"
MODES = ("analytic", "des")
VARIANTS = "variants"


def _normalise(obj: Any) -> Any:
    """What the stored JSON gives back (tuples become lists, keys strings)."""
    return json.loads(json.dumps(obj))


def _error_entry(exc: Exception) -> dict[str, Any]:
    from edgesim.errors import EdgesimError

    if not isinstance(exc, EdgesimError):
        raise exc
    return {"error": type(exc).__name__, "field": exc.field, "detail": exc.detail}


def spec_names() -> list[str]:
    from edgesim.hardware import list_hardware

    return list_hardware()


def collect_spec(spec: str) -> dict[str, Any]:
    """Every zoo model on ``spec`` in both modes: ``"<model>/<mode>"`` -> result dict or error."""
    from edgesim.errors import EdgesimError
    from edgesim.hardware import load_hardware
    from edgesim.sim import simulate
    from edgesim.workload import ZOO_NAMES, load_workload

    hw = load_hardware(spec)
    out: dict[str, Any] = {}
    for model in ZOO_NAMES:
        wl = load_workload(model)
        for mode in MODES:
            try:
                entry = simulate(wl, hw, mode=mode).to_dict()
            except EdgesimError as exc:
                entry = _error_entry(exc)
            out[f"{model}/{mode}"] = entry
    return _normalise(out)


def collect_variants() -> dict[str, Any]:
    """The demo's compressed-variant runs (``report.variants``), keyed ``"<variant>@<spec>"``."""
    from edgesim.report.variants import variant_runs

    return _normalise({f"{r.variant}@{r.hardware}": dict(r.result)
                       for r in variant_runs("resnet18")})


def path_of(name: str) -> Path:
    return DATA / f"{name}.json.xz"


def load(name: str) -> dict[str, Any]:
    with lzma.open(path_of(name), "rt", encoding="utf-8") as f:
        data: dict[str, Any] = json.load(f)
    return data


def save(name: str, data: dict[str, Any]) -> None:
    DATA.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    path = path_of(name)
    tmp = path.with_name(path.name + ".tmp")
    with lzma.open(tmp, "wt", encoding="utf-8", preset=9) as f:
        f.write(text)
    tmp.replace(path)


def first_difference(want: Any, got: Any, where: str = "") -> str | None:
    """The first path at which two JSON values differ, with both values; None when equal."""
    if type(want) is not type(got):
        return f"{where or '<root>'}: {want!r} != {got!r}"
    if isinstance(want, dict):
        for key in sorted(set(want) | set(got)):
            if key not in want or key not in got:
                side = "new" if key not in want else "missing"
                return f"{where}.{key}: {side} key"
            diff = first_difference(want[key], got[key], f"{where}.{key}" if where else key)
            if diff:
                return diff
        return None
    if isinstance(want, list):
        if len(want) != len(got):
            return f"{where}: length {len(want)} != {len(got)}"
        for i, (a, b) in enumerate(zip(want, got, strict=True)):
            diff = first_difference(a, b, f"{where}[{i}]")
            if diff:
                return diff
        return None
    return None if want == got else f"{where}: {want!r} != {got!r}"


def regenerate() -> None:
    for spec in spec_names():
        save(spec, collect_spec(spec))
        print(f"golden: wrote {path_of(spec)}", file=sys.stderr)
    save(VARIANTS, collect_variants())
    print(f"golden: wrote {path_of(VARIANTS)}", file=sys.stderr)
    stale = {p.name for p in DATA.glob("*.json.xz")} - {
        path_of(n).name for n in [*spec_names(), VARIANTS]}
    for name in sorted(stale):
        (DATA / name).unlink()
        print(f"golden: removed {DATA / name}", file=sys.stderr)


if __name__ == "__main__":
    regenerate()
