"""Hardware: spec schema and loading (``base:``, overrides), the runtime model, presentation."""

from edgesim.hardware.load import (
    SpecLoader,
    apply_overrides,
    builtin_specs_dir,
    list_hardware,
    load_hardware,
    parse_override_value,
    validate_spec_file,
)
from edgesim.hardware.model import Hardware
from edgesim.hardware.show import spec_to_yaml, spec_warnings, summary

__all__ = [
    "Hardware",
    "SpecLoader",
    "apply_overrides",
    "builtin_specs_dir",
    "list_hardware",
    "load_hardware",
    "parse_override_value",
    "spec_to_yaml",
    "spec_warnings",
    "summary",
    "validate_spec_file",
]
