"""Errors raised to users: each names the file (if any) and the field path at fault."""

from __future__ import annotations


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
