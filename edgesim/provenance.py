"""What a result came from: the edgesim version and a content hash of each input.

Hashes are SHA-256 of a canonical JSON form (sorted keys, sets sorted), so they are the same on
every machine and in every process for the same input: a spec as built (its fields in SI units
after ``base``, overrides and defaults, not the file it came from: ``"500 MHz"`` and ``5e8``,
comments and key order hash the same), a workload as the IR holds it (every layer's fields,
its batch and name).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from edgesim.version import __version__


def _plain(value: object) -> object:
    """A JSON stand-in for what json cannot write: sets sorted, anything else its ``str``."""
    if isinstance(value, set | frozenset):
        return sorted(str(v) for v in value)
    return str(value)


def canonical_sha256(value: Any) -> str:
    """SHA-256 of ``value`` as canonical JSON (sorted keys and sets; other objects as ``str``)."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=_plain)
    return hashlib.sha256(text.encode()).hexdigest()


def stamp(inputs: dict[str, tuple[str, str]]) -> dict[str, Any]:
    """``{"edgesim": version, "inputs": {name: {"ref": ..., "sha256": ...}}}`` from
    ``{name: (reference as given, hash)}``."""
    return {"edgesim": __version__,
            "inputs": {k: {"ref": ref, "sha256": h} for k, (ref, h) in inputs.items()}}


__all__ = ["canonical_sha256", "stamp"]
