"""The spec field reference (``docs/spec_reference.md``), generated from the pydantic schema:
every field of every part of a spec with its type, default and description (each field's
docstring). Regenerate with ``python -m edgesim.hardware.reference``; a test fails when the file
has drifted from the schema."""

from __future__ import annotations

import enum
import sys
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from edgesim.hardware.spec import (
    ComputeUnitSpec,
    DvfsPointSpec,
    HardwareSpec,
    KernelSpec,
    MemoryLevelSpec,
)
from edgesim.hardware.spec_kernels import KernelCostSpec

DOC = Path(__file__).resolve().parents[2] / "docs" / "spec_reference.md"
# (section title, model, where it sits in a spec file)
SECTIONS: tuple[tuple[str, type[BaseModel], str], ...] = (
    ("Spec", HardwareSpec, "the top level of a spec file"),
    ("Compute unit", ComputeUnitSpec, "each item of `compute:`"),
    ("Kernel class", KernelSpec, "each value of a simd unit's `kernels:` (written by "
     "`edgesim calibrate`)"),
    ("Memory level", MemoryLevelSpec, "each item of `memory:` (outermost first)"),
    ("DVFS point", DvfsPointSpec, "each item of `dvfs:`"),
)
# The quantity types of spec.py, by the validator each wraps: how a value is written.
_QUANTITY_WORDS = {"SIZE": 'size ("64 KiB")', "FREQUENCY": 'frequency ("1 GHz")',
                   "BANDWIDTH": 'bandwidth ("25.6 GB/s")', "ENERGY": 'energy ("0.2 pJ")',
                   "AREA": 'area ("0.5 mm2")', "POWER": 'power ("15 mW")',
                   "VOLTAGE": 'voltage ("0.8 V")'}
_MODEL_WORDS = {ComputeUnitSpec: "list of compute units", MemoryLevelSpec: "list of memory levels",
                DvfsPointSpec: "list of DVFS points"}


def _quantity(metadata: list[Any]) -> str | None:
    for m in metadata:
        fn = getattr(m, "func", None)
        cells = getattr(fn, "__closure__", None) or ()
        for cell in cells:
            name = getattr(cell.cell_contents, "name", None)
            if name in _QUANTITY_WORDS:
                return _QUANTITY_WORDS[name]
        if getattr(fn, "__name__", "") == "_energy_per_byte_or_access":
            return 'energy per byte ("1.2 pJ/B") or per access ("10 pJ")'
    return None


def _type_words(annotation: Any, metadata: list[Any]) -> str:
    """A field's type as a spec author writes it."""
    q = _quantity(metadata)
    if q is not None:
        return q
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return _type_words(args[0], list(args[1:]))
    if origin in (typing.Union, __import__("types").UnionType):
        parts = [_type_words(a, []) for a in args if a is not type(None)]
        return " or ".join(parts)
    if origin is typing.Literal:
        return "one of " + ", ".join(f"`{a}`" for a in args)
    if origin is list:
        inner = args[0] if args else Any
        if inner in _MODEL_WORDS:
            return _MODEL_WORDS[inner]
        if typing.get_origin(inner) is tuple:
            return "list of [K, efficiency] pairs"
        return f"list of {_type_words(inner, [])}"
    if origin is dict:
        if args and args[-1] is KernelSpec:
            return "table (kernel class -> kernel class fields below)"
        return "table (op class -> precision -> energy)"
    if origin is tuple:
        if len(args) == 2 and all(_type_words(a, []) == "integer" for a in args):
            return "[integer, integer]"
        return "number"
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return "one of " + ", ".join(f"`{e.value}`" for e in annotation)
    if annotation is KernelCostSpec:
        return "table (`efficiency`, `axis`, `overhead_cycles`, `pack_bandwidth`, as above)"
    names = {int: "integer", float: "number", str: "text", bool: "true or false"}
    return names.get(annotation, getattr(annotation, "__name__", str(annotation)))


def _default(field: Any) -> str:
    if field.is_required():
        return "required"
    if field.default_factory is not None:
        value = field.default_factory()
    elif field.default is PydanticUndefined:
        return "required"
    else:
        value = field.default
    if value is None:
        return "-"
    if isinstance(value, enum.Enum):
        return f"`{value.value}`"
    if isinstance(value, list):
        return "[" + ", ".join(str(getattr(v, "value", v)) for v in value) + "]"
    if isinstance(value, bool):
        return "`true`" if value else "`false`"
    return f"`{value}`" if value != "" else '`""`'


def markdown() -> str:
    """The whole reference as Markdown."""
    out = ["# Hardware spec field reference", "",
           "Generated from the pydantic schema (`edgesim/hardware/spec.py`) by "
           "`python -m edgesim.hardware.reference`; `tests/hardware/test_reference.py` fails "
           "when it drifts. Unknown keys are refused (with the closest known ones); quantities "
           "carry units. A default of `-` means the field is unset: the simulator derives the "
           "value (from the technology tables, or as the description says).", ""]
    for title, model, where in SECTIONS:
        out += [f"## {title}", "", f"{(model.__doc__ or '').strip()} Keys of {where}.", "",
                "| key | type | default | what it is |", "|---|---|---|---|"]
        for name, field in model.model_fields.items():
            words = _type_words(field.annotation, list(field.metadata))
            desc = (field.description or "").replace("|", "\\|")
            out.append(f"| `{name}` | {words} | {_default(field)} | {desc} |")
        out.append("")
    return "\n".join(out)


def main(argv: list[str]) -> int:
    path = Path(argv[0]) if argv else DOC
    path.write_text(markdown())
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
