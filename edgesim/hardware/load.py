"""Loading hardware specs: built-in names or YAML paths, ``base:`` chains and dotted overrides.

A spec file may carry two keys beyond the schema:

* ``overrides:`` a mapping of dotted keys (as for :func:`load_hardware`) applied on load;
* ``base:`` a built-in name or a path (relative to the file) whose resolved spec this file
  extends: the file's top-level keys replace the base's, then its ``overrides`` apply.
"""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from edgesim.errors import SpecError, unknown_key
from edgesim.hardware.build import build_hardware
from edgesim.hardware.model import Hardware
from edgesim.hardware.spec import (
    LIST_ITEM_MODELS,
    HardwareSpec,
    describe,
    validate_spec_dict,
)
from edgesim.yamlutil import StrictLoader, load_yaml, read_text


def _yaml_load(text: str, file: str | None) -> Any:
    return load_yaml(text, file, SpecError)


def builtin_specs_dir() -> Path:
    """Directory of the built-in specs: the wheel's ``edgesim/_data/hardware_specs`` first, then
    ``hardware_specs/`` beside the package in a source checkout (editable install)."""
    pkg = Path(__file__).resolve().parent.parent
    for candidate in (pkg / "_data" / "hardware_specs", pkg.parent / "hardware_specs"):
        if candidate.is_dir():
            return candidate
    raise SpecError("built-in hardware specs not found (looked in edgesim/_data/hardware_specs "
                    "and hardware_specs/ beside the package)")


def list_hardware() -> list[str]:
    """Sorted names of the built-in specs."""
    return sorted(p.stem for p in builtin_specs_dir().glob("*.yaml"))


def parse_override_value(value: object) -> object:
    """A CLI string such as ``"16"`` becomes 16 (YAML scalars); ``"8 GB/s"`` stays a string."""
    if not isinstance(value, str):
        return value
    parsed = _parse_text(value)
    return copy.deepcopy(parsed) if isinstance(parsed, list | dict) else parsed


@functools.lru_cache(maxsize=4096)
def _parse_text(value: str) -> object:
    """``parse_override_value`` of a string (memoized: a design search repeats its values)."""
    try:
        parsed = yaml.load(value, Loader=StrictLoader)  # noqa: S506
    except yaml.YAMLError:
        return value
    return value if parsed is None and value.strip() not in ("null", "~") else parsed


_TOKEN = re.compile(r"^([A-Za-z_][A-Za-z0-9_\-]*)((?:\[\d+\])*)$")


def _split_key(key: str, file: str | None = None) -> tuple[str | int, ...]:
    hit = _KEYS.get(key)
    if hit is not None:
        return hit
    out: list[str | int] = []
    for part in key.split("."):
        m = _TOKEN.match(part)
        if not m:
            raise SpecError("malformed override key (use dotted names such as "
                            "compute.pe_array.rows or compute[0].rows)", file=file, field=key)
        out.append(m.group(1))
        out.extend(int(i) for i in re.findall(r"\[(\d+)\]", m.group(2)))
    if len(_KEYS) < 4096:
        _KEYS[key] = tuple(out)
    return tuple(out)


_KEYS: dict[str, tuple[str | int, ...]] = {}  # split override keys (a search repeats them)


def apply_overrides(raw: dict[str, Any], overrides: Mapping[str, object],
                    file: str | None = None, prefix: str = "") -> dict[str, Any]:
    """Return a copy of the raw spec mapping with dotted-key ``overrides`` applied (``raw`` is
    not modified: the lists and mappings on an override's path are copied, the rest shared)."""
    out = dict(raw)
    for key, value in overrides.items():
        field = f"{prefix}{key}"
        if not isinstance(key, str):
            raise SpecError(f"override keys must be strings, got {key!r}", file=file, field=prefix
                            or None)
        _set_path(out, _split_key(key, file), parse_override_value(value), file, field)
    return out


def _set_path(root: dict[str, Any], tokens: tuple[str | int, ...], value: object,
              file: str | None, field: str) -> None:
    node: Any = root
    model: type[Any] = HardwareSpec
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if not isinstance(tok, str) or not isinstance(node, dict):
            raise SpecError("unknown key: no such field to override", file=file, field=field)
        if tok not in model.model_fields:
            raise SpecError(unknown_key(tok, model.model_fields), file=file, field=field)
        if i == len(tokens) - 1:
            node[tok] = value
            return
        if tok not in LIST_ITEM_MODELS:
            raise SpecError(f"{tok!r} has no sub-keys to override", file=file, field=field)
        items = node.get(tok)
        if not isinstance(items, list):
            raise SpecError(f"the spec has no {tok} list", file=file, field=field)
        sel = tokens[i + 1]
        if isinstance(sel, int):
            if sel >= len(items):
                raise SpecError(f"{tok}[{sel}] does not exist ({len(items)} entries)",
                                file=file, field=field)
        else:
            names = [it.get("name") if isinstance(it, dict) else None for it in items]
            if sel not in names:
                raise SpecError(f"no {tok} entry named {sel!r} (entries: "
                                f"{', '.join(map(str, names))})", file=file, field=field)
            sel = names.index(sel)
        items = list(items)  # copies along the path: the caller's mapping is never changed
        node[tok] = items
        child = items[sel]
        node = items[sel] = dict(child) if isinstance(child, dict) else child
        model = LIST_ITEM_MODELS[tok]
        i += 2
    raise SpecError("the key names a whole entry, not a field: override one of its fields "
                    "(e.g. compute.pe_array.rows)", file=file, field=field)


def _read_raw(path: Path, seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    """Read a spec file into a raw mapping with its ``base`` and ``overrides`` resolved."""
    file = str(path)
    if path.resolve() in seen:
        raise SpecError("`base` chain loops back to this file", file=file, field="base")
    raw = _yaml_load(read_text(path, SpecError), file)
    if raw is None:
        raise SpecError("empty spec file", file=file)
    if not isinstance(raw, dict):
        raise SpecError(f"expected a mapping of spec keys, got {describe(raw)}", file=file)
    raw = dict(raw)
    base = raw.pop("base", None)
    own = raw.pop("overrides", None)
    if base is not None:
        if not isinstance(base, str):
            raise SpecError(f"expected a spec name or path, got {base!r}", file=file, field="base")
        try:
            base_path = _resolve_name(base, path.parent)
        except SpecError as exc:  # an unknown name: the fault is this file's `base`
            raise SpecError(exc.detail, file=file, field="base") from None
        merged = _read_raw(base_path, (*seen, path.resolve()))
        merged.update(raw)
        raw = merged
    if own is not None:
        if not isinstance(own, dict):
            raise SpecError("expected a mapping of dotted keys to values", file=file,
                            field="overrides")
        raw = apply_overrides(raw, own, file=file, prefix="overrides.")
    return raw


def _resolve_name(name_or_path: str | Path, relative_to: Path | None = None) -> Path:
    if isinstance(name_or_path, Path):
        return name_or_path
    text = str(name_or_path)
    looks_like_path = "/" in text or "\\" in text or text.endswith((".yaml", ".yml"))
    if not looks_like_path:
        builtin = builtin_specs_dir() / f"{text}.yaml"
        if builtin.is_file():
            return builtin
        if not Path(text).exists():
            raise SpecError(f"unknown hardware {text!r}: neither a built-in spec "
                            f"({', '.join(list_hardware())}) nor a file")
    path = Path(text)
    if relative_to is not None and not path.is_absolute() and not path.exists():
        path = relative_to / path
    return path


def load_hardware(name_or_path: str | Path,
                  overrides: Mapping[str, object] | None = None) -> Hardware:
    """Load a built-in spec by name, or a YAML spec by path, apply dotted ``overrides`` and build.

    Args:
        name_or_path: a built-in name (``edgesim specs list``) or a path to a YAML spec.
        overrides: dotted keys to values, e.g. ``{"compute.pe_array.rows": 16,
            "memory.dram.bandwidth": "8 GB/s", "clock": "800 MHz"}``; string values are read as
            YAML scalars first (``"16"`` -> 16), as they come from ``--set KEY=VALUE``.

    Raises:
        SpecError: naming the file and the field path at fault.
    """
    path = _resolve_name(name_or_path)
    file = str(path)
    raw = _read_raw(path)
    if overrides:
        raw = apply_overrides(raw, overrides, file=file)
    spec = validate_spec_dict(raw, file=file)
    return build_hardware(spec, source=file)


class SpecLoader:
    """One spec read once, built many times with different dotted overrides (design points).

    ``loader(overrides)`` equals ``load_hardware(name_or_path, overrides)`` without re-reading
    the file; the last ``cache_size`` designs are kept.
    """

    def __init__(self, name_or_path: str | Path, cache_size: int = 256) -> None:
        self.path = _resolve_name(name_or_path)
        self.file = str(self.path)
        self._raw = _read_raw(self.path)
        self._cache: dict[tuple[tuple[str, str], ...], Hardware] = {}
        self._cache_size = cache_size
        self._base: HardwareSpec | None = None  # the base, validated (None: not yet, or bad)
        self._base_tried = False

    @property
    def raw(self) -> dict[str, Any]:
        """A copy of the resolved raw spec mapping (``base`` and own overrides applied)."""
        return copy.deepcopy(self._raw)

    def __getstate__(self) -> dict[str, Any]:  # built designs are rebuilt where needed
        return {**self.__dict__, "_cache": {}, "_base": None, "_base_tried": False}

    def _validated(self, raw: dict[str, Any]) -> HardwareSpec:
        """``raw`` validated, its list entries that an override left untouched taken as the
        base's already validated entries (pydantic accepts a model instance as it is), so a
        design validates only what its overrides changed, and the spec as a whole."""
        if not self._base_tried:
            self._base_tried = True
            try:
                self._base = validate_spec_dict(self._raw, file=self.file)
            except SpecError:  # a base only its overrides make valid: validate designs whole
                self._base = None
        base = self._base
        if base is None or raw is self._raw:
            return base if base is not None else validate_spec_dict(raw, file=self.file)
        mixed = dict(raw)
        for key in LIST_ITEM_MODELS:
            items, before = raw.get(key), self._raw.get(key)
            if isinstance(items, list) and isinstance(before, list) \
                    and len(items) == len(before) == len(getattr(base, key)):
                mixed[key] = [done if item is old else item for item, old, done in
                              zip(items, before, getattr(base, key), strict=True)]
        return validate_spec_dict(mixed, file=self.file)

    def sha256(self, overrides: Mapping[str, object] | None = None) -> str:
        """Content hash of the design ``overrides`` makes of this spec: the built Hardware's
        fields but the file it came from (``provenance.canonical_sha256``), so the same design
        hashes the same however its values are spelled."""
        import dataclasses

        from edgesim.provenance import canonical_sha256

        fields = dataclasses.asdict(self(overrides))
        fields.pop("source")
        return canonical_sha256(fields)

    def __call__(self, overrides: Mapping[str, object] | None = None) -> Hardware:
        key = tuple(sorted((k, repr(v)) for k, v in (overrides or {}).items()))
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        raw = apply_overrides(self._raw, overrides, file=self.file) if overrides else self._raw
        hw = build_hardware(self._validated(raw), source=self.file)
        if len(self._cache) >= self._cache_size:
            self._cache.pop(next(iter(self._cache)))
        self._cache[key] = hw
        return hw


def validate_spec_file(path: str | Path) -> Hardware:
    """Load and build the spec at ``path``; raise SpecError naming the file and field if bad."""
    p = Path(path)
    if not p.is_file():
        raise SpecError("no such file", file=str(path))
    return load_hardware(p)
