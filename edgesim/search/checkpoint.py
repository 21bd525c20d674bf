"""Checkpoints: the algorithm (with its random state), the history and the evaluation cache,
written atomically after every generation so a killed search resumes to the same end."""

from __future__ import annotations

import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edgesim.errors import SearchError
from edgesim.search.algorithm import Algorithm
from edgesim.search.files import write_atomic
from edgesim.search.oracle import Evaluation
from edgesim.search.problem import Genome
from edgesim.search.profile import BlockProfiles

MAGIC = "edgesim-search-checkpoint/1"


@dataclass
class SearchState:
    """Everything a search needs to continue."""

    algorithm: Algorithm | None  # None until a block_scaling search has its profiles
    rows: list[dict[str, Any]] = field(default_factory=list)
    genomes: dict[int, Genome | None] = field(default_factory=dict)
    cache: dict[str, Evaluation] = field(default_factory=dict)
    done: bool = False
    profiles: BlockProfiles | None = None


def _versions() -> dict[str, str]:
    import pymoo

    from edgesim.version import __version__

    return {"edgesim": __version__, "pymoo": str(pymoo.__version__)}


def save(path: Path, state: SearchState, config_hash: str) -> None:
    payload = {"magic": MAGIC, "config": config_hash, **_versions(), "state": state}
    data = pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
    def write(p: Path) -> None:
        p.write_bytes(data)

    write_atomic(path, write)


def load(path: Path, config_hash: str) -> SearchState:
    """The state saved at ``path``; a corrupt or mismatched checkpoint is a SearchError."""
    try:
        payload = pickle.loads(path.read_bytes())  # noqa: S301 - a file this program wrote
    except Exception as exc:  # truncated, not a pickle, classes gone: all mean "corrupt"
        raise SearchError(f"corrupt checkpoint ({type(exc).__name__}); delete it to start "
                          f"again", file=str(path)) from None
    if not isinstance(payload, dict) or payload.get("magic") != MAGIC:
        raise SearchError("not an edgesim search checkpoint", file=str(path))
    if payload.get("config") != config_hash:
        raise SearchError("this checkpoint belongs to another search configuration; use "
                          "another output directory or delete it", file=str(path))
    for key, value in _versions().items():
        if payload.get(key) != value:
            raise SearchError(f"written by {key} {payload.get(key)}, this is {value}; "
                              f"delete it to start again", file=str(path))
    state = payload.get("state")
    if not isinstance(state, SearchState):
        raise SearchError("corrupt checkpoint (no search state)", file=str(path))
    return state


__all__ = ["MAGIC", "SearchState", "load", "save"]
