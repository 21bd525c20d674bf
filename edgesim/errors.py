"""Errors raised to users: each names the file (if any) and the field path at fault."""

from __future__ import annotations

import difflib
import typing
from collections.abc import Iterable, Sequence
from typing import Any


class EdgesimError(Exception):
    """Base of every error edgesim raises to a user.

    The message reads ``<file>: <field>: <detail>`` with the parts that are known, e.g.
    ``edge.yaml: memory[1].size: expected a size such as "64 KiB", got "-3 KiB"``.
    """

    def __init__(self, detail: str, *, file: str | None = None, field: str | None = None) -> None:
        self.detail = detail
        self.file = file
        self.field = field
        super().__init__(self._render())

    def _render(self) -> str:
        parts = [p for p in (self.file, self.field) if p]
        return ": ".join([*parts, self.detail])


class SpecError(EdgesimError):
    """A hardware spec is malformed or inconsistent."""


class WorkloadError(EdgesimError):
    """A workload (model, ONNX file, YAML layer list) cannot be read or converted."""


class MappingError(EdgesimError):
    """A layer cannot be mapped onto any unit of the hardware."""


class CompressError(EdgesimError):
    """A compression request is invalid for the given model."""


class SearchError(EdgesimError):
    """A search configuration, its space or its checkpoint is invalid."""


def unknown_key(key: str, known: Iterable[str]) -> str:
    """``unknown key 'row' (did you mean 'rows'?)``; the known keys when none is close."""
    names = sorted(set(known))
    close = difflib.get_close_matches(key, names, n=3, cutoff=0.6)
    if close:
        return f"unknown key {key!r} (did you mean {' or '.join(repr(c) for c in close)}?)"
    if names:
        return f"unknown key {key!r} (known: {', '.join(names)})"
    return f"unknown key {key!r}"


def _models_in(annotation: Any) -> list[Any]:
    """The pydantic model classes an annotation may hold (through lists, unions, Annotated)."""
    if hasattr(annotation, "model_fields"):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]


def known_keys(model: Any, loc: Sequence[int | str]) -> set[str]:
    """The keys a pydantic ``model`` accepts at ``loc`` (the location of a key it refused):
    walks the field annotations (lists, unions and tagged unions alike) to the mapping that
    holds the key. Empty where the walk is lost."""
    models = [model]
    for part in loc[:-1]:
        if isinstance(part, int) or not models:
            continue
        nxt = []
        for m in models:
            fields = m.model_fields
            if part in fields:
                nxt += _models_in(fields[part].annotation)
            else:  # a union's tag in the location (e.g. 'systolic'): stay on these models
                nxt.append(m)
        models = nxt
    return {name for m in models for name in m.model_fields}
