"""What a result came from: the edgesim version and a content hash of each input.

Hashes are SHA-256 of a canonical JSON form (sorted keys), so they are the same on every
machine and in every process for the same input: a spec as resolved (its ``base`` and own
overrides applied, then the call's overrides), a workload as the IR holds it (every layer's
fields, its batch and name). A file that differs only in comments or key order hashes the same.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from edgesim.version import __version__


def canonical_sha256(value: Any) -> str:
    """SHA-256 of ``value`` as canonical JSON (sorted keys; other objects as their ``str``)."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def stamp(inputs: dict[str, tuple[str, str]]) -> dict[str, Any]:
    """``{"edgesim": version, "inputs": {name: {"ref": ..., "sha256": ...}}}`` from
    ``{name: (reference as given, hash)}``."""
    return {"edgesim": __version__,
            "inputs": {k: {"ref": ref, "sha256": h} for k, (ref, h) in inputs.items()}}


__all__ = ["canonical_sha256", "stamp"]
