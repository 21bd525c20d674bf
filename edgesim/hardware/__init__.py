"""Hardware specs: load (built-in name or YAML path, with dotted overrides), list, show, validate.

A spec file may carry two keys beyond the schema:

* ``overrides:`` a mapping of dotted keys (as for :func:`load_hardware`) applied on load;
* ``base:`` a built-in name or a path (relative to the file) whose resolved spec this file
  extends: the file's top-level keys replace the base's, then its ``overrides`` apply.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from edgesim.errors import SpecError
from edgesim.hardware.build import build_hardware
from edgesim.hardware.model import Hardware, Operand, UnitType
from edgesim.hardware.spec import (
    LIST_ITEM_MODELS,
    HardwareSpec,
    describe,
    validate_spec_dict,
)
from edgesim.units import Dimension, format_quantity
from edgesim.yamlutil import StrictLoader, load_yaml, read_text

__all__ = [
    "Hardware",
    "builtin_specs_dir",
    "list_hardware",
    "load_hardware",
    "parse_override_value",
    "spec_to_yaml",
    "summary",
    "validate_spec_file",
]


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
    try:
        parsed = yaml.load(value, Loader=StrictLoader)  # noqa: S506
    except yaml.YAMLError:
        return value
    return value if parsed is None and value.strip() not in ("null", "~") else parsed


_TOKEN = re.compile(r"^([A-Za-z_][A-Za-z0-9_\-]*)((?:\[\d+\])*)$")


def _split_key(key: str, file: str | None = None) -> list[str | int]:
    out: list[str | int] = []
    for part in key.split("."):
        m = _TOKEN.match(part)
        if not m:
            raise SpecError("malformed override key (use dotted names such as "
                            "compute.pe_array.rows or compute[0].rows)", file=file, field=key)
        out.append(m.group(1))
        out.extend(int(i) for i in re.findall(r"\[(\d+)\]", m.group(2)))
    return out


def apply_overrides(raw: dict[str, Any], overrides: Mapping[str, object],
                    file: str | None = None, prefix: str = "") -> dict[str, Any]:
    """Return a copy of the raw spec mapping with dotted-key ``overrides`` applied."""
    out = copy.deepcopy(raw)
    for key, value in overrides.items():
        field = f"{prefix}{key}"
        if not isinstance(key, str):
            raise SpecError(f"override keys must be strings, got {key!r}", file=file, field=prefix
                            or None)
        _set_path(out, _split_key(key, file), parse_override_value(value), file, field)
    return out


def _set_path(root: dict[str, Any], tokens: list[str | int], value: object,
              file: str | None, field: str) -> None:
    node: Any = root
    model: type[Any] = HardwareSpec
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if not isinstance(tok, str) or not isinstance(node, dict):
            raise SpecError("unknown key: no such field to override", file=file, field=field)
        if tok not in model.model_fields:
            known = ", ".join(model.model_fields)
            raise SpecError(f"unknown key {tok!r} (known: {known})", file=file, field=field)
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
            node = items[sel]
        else:
            names = [it.get("name") for it in items if isinstance(it, dict)]
            if sel not in names:
                raise SpecError(f"no {tok} entry named {sel!r} (entries: "
                                f"{', '.join(map(str, names))})", file=file, field=field)
            node = items[names.index(sel)]
        model = LIST_ITEM_MODELS[tok]
        i += 2


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
        merged = _read_raw(_resolve_name(base, path.parent), (*seen, path.resolve()))
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


def validate_spec_file(path: str | Path) -> Hardware:
    """Load and build the spec at ``path``; raise SpecError naming the file and field if bad."""
    p = Path(path)
    if not p.is_file():
        raise SpecError("no such file", file=str(path))
    return load_hardware(p)


# ---- presentation ---------------------------------------------------------------------------
def _fmt(si: float, dim: Dimension) -> str:
    return format_quantity(si, dim, digits=6)


def _onchip_bytes(hw: Hardware) -> int:
    return sum(m.total_bytes for m in hw.memory if not m.is_offchip)


def summary(hw: Hardware) -> str:
    """One line: kind, PEs x type, precision, clock, on-chip SRAM total, DRAM bandwidth, node."""
    u = hw.main_unit
    shape = {UnitType.SYSTOLIC: f"{u.rows}x{u.cols}", UnitType.SPATIAL: f"{u.rows}x{u.cols}",
             UnitType.CUBE: f"{u.rows}x{u.cols}x{u.depth}",
             UnitType.SIMD: f"{u.cores} core x {u.lanes} lanes"}[u.type]
    op = "" if u.operation.value == "mac" else f" {u.operation.value}"
    dram = hw.dram
    if u.zero_skip.value != "none":
        op += f", skips zero {u.zero_skip.value}"
    if u.nm_sparsity:
        op += f", {'/'.join(u.nm_sparsity)} sparsity"
    return (f"{hw.kind}: {u.pe_count} PEs ({shape} {u.type.value}{op}), "
            f"{'/'.join(u.precisions)}, {format_quantity(hw.clock_hz, Dimension.FREQUENCY)}, "
            f"on-chip {format_quantity(_onchip_bytes(hw), Dimension.SIZE)}, "
            f"{dram.type.value} {format_quantity(dram.bandwidth_bytes_per_s, Dimension.BANDWIDTH)}"
            f", {hw.technology_nm:g} nm")


def _unit_dict(u: Any, spec_unit: Any) -> dict[str, Any]:
    d: dict[str, Any] = {"name": u.name, "type": u.type.value}
    if u.type in (UnitType.SYSTOLIC, UnitType.SPATIAL, UnitType.CUBE):
        d["rows"], d["cols"] = u.rows, u.cols
    if u.type == UnitType.CUBE:
        d["depth"] = u.depth
    if u.type == UnitType.SIMD:
        d["lanes"], d["cores"] = u.lanes, u.cores
        d["efficiency"] = u.efficiency
        d["layer_overhead_cycles"] = u.layer_overhead_cycles
    if u.type in (UnitType.SYSTOLIC, UnitType.SPATIAL):
        d["dataflow"] = u.dataflow.value
    d["operation"] = u.operation.value
    d["precisions"] = list(u.precisions)
    d["zero_skip"] = u.zero_skip.value
    d["zero_gating"] = u.zero_gating.value
    d["nm_sparsity"] = list(u.nm_sparsity)
    if u.ops is not None:
        d["ops"] = [o.value for o in spec_unit.ops]
    d["packs_narrow"] = u.packs_narrow
    d["op_energy"] = {op: {p: _fmt(e * 1e-12, Dimension.ENERGY) for p, e in table.items()}
                      for op, table in u.op_energy_pj.items()}
    d["pe_area"] = _fmt(u.pe_area_mm2, Dimension.AREA)
    d["leakage"] = _fmt(u.leakage_w, Dimension.POWER)
    d["energy_source"] = u.energy_source
    return d


def _level_dict(m: Any, spec_level: Any) -> dict[str, Any]:
    d: dict[str, Any] = {"name": m.name, "type": m.type.value,
                         "size": _fmt(m.size_bytes, Dimension.SIZE)}
    d["bandwidth"] = _fmt(m.bandwidth_bytes_per_s, Dimension.BANDWIDTH)
    d["word"] = _fmt(m.word_bytes, Dimension.SIZE)
    d["read_energy"] = _fmt(m.read_energy_pj_per_byte * 1e-12, Dimension.ENERGY_PER_BYTE)
    d["write_energy"] = _fmt(m.write_energy_pj_per_byte * 1e-12, Dimension.ENERGY_PER_BYTE)
    d["area"] = _fmt(m.area_mm2, Dimension.AREA)
    d["leakage"] = _fmt(m.leakage_w, Dimension.POWER)
    d["holds"] = [o.value for o in Operand if o in m.holds]
    d["per_pe"] = m.per_pe
    d["instances"] = m.instances
    if spec_level is not None and spec_level.banks > 1:
        d["banks"] = spec_level.banks
    d["energy_source"] = m.energy_source
    return d


def spec_to_yaml(hw: Hardware) -> str:
    """The resolved spec as YAML, units included, with every energy and area the tech tables
    supplied; the output loads back with :func:`load_hardware` to the same numbers."""
    spec: HardwareSpec | None = hw.spec if isinstance(hw.spec, HardwareSpec) else None
    node: float | int = int(hw.technology_nm) if hw.technology_nm.is_integer() else hw.technology_nm
    out: dict[str, Any] = {"name": hw.name, "kind": hw.kind, "technology_nm": node,
                           "clock": _fmt(hw.clock_hz, Dimension.FREQUENCY)}
    if spec is not None and spec.description:
        out["description"] = spec.description
    if spec is not None and spec.source:
        out["source"] = spec.source
    out["compute"] = [_unit_dict(u, spec.compute[i] if spec else None)
                      for i, u in enumerate(hw.compute)]
    levels = [_level_dict(m, spec.memory[i] if spec is not None else None)
              for i, m in enumerate(hw.memory)]
    for i, d in enumerate(levels):
        dt = spec.memory[i].dram_type if spec is not None else None
        if dt is not None:
            d["dram_type"] = dt.value
    out["memory"] = levels
    out["static_power"] = _fmt(hw.static_power_w, Dimension.POWER)
    if hw.fallback_unit is not None:
        out["fallback"] = hw.fallback_unit
    out["area_overhead"] = hw.area_overhead_fraction
    if hw.dvfs:
        out["dvfs"] = [{"clock": _fmt(p.clock_hz, Dimension.FREQUENCY),
                        "voltage": _fmt(p.voltage_v, Dimension.VOLTAGE)} for p in hw.dvfs]
    return yaml.safe_dump(out, sort_keys=False, allow_unicode=True, width=100)
