"""docs/spec_reference.md is the pydantic schema's own description of every spec field."""

from __future__ import annotations

from edgesim.hardware import reference


def test_reference_is_generated_from_the_schema() -> None:
    assert reference.DOC.read_text() == reference.markdown(), (
        "docs/spec_reference.md has drifted from edgesim/hardware/spec.py: regenerate it with "
        "python -m edgesim.hardware.reference")


def test_every_field_is_described_with_its_type() -> None:
    for _title, model, _where in reference.SECTIONS:
        for name, field in model.model_fields.items():
            assert field.description, f"{model.__name__}.{name} has no docstring"
    text = reference.markdown()
    assert '| `size` | size ("64 KiB") | required |' in text
    assert "| `dataflow` | one of `os`, `ws`, `is`, `rs`, `none` | - |" in text
