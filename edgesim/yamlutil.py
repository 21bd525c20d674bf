"""The one YAML reader of specs and workloads: strict (no base-60 ints, no duplicate keys), fast."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from edgesim.errors import EdgesimError

_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser when available


class StrictLoader(_Base):
    """Safe YAML loader without YAML 1.1 base-60 integers (``2:4`` stays a string) and with
    duplicate keys reported instead of silently dropped."""


_INT_TAG = "tag:yaml.org,2002:int"
StrictLoader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != _INT_TAG]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
StrictLoader.add_implicit_resolver(
    _INT_TAG,
    re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$"),
    list("-+0123456789"),
)


def _construct_mapping(loader: Any, node: yaml.MappingNode, deep: bool = False) -> Any:
    keys = [loader.construct_object(k, deep=True) for k, _ in node.value]
    for i, (key_node, _) in enumerate(node.value):
        if keys.index(keys[i]) != i:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {keys[i]!r}", key_node.start_mark)
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_yaml(text: str, file: str | None, error: type[EdgesimError]) -> Any:
    """Parse ``text``; broken YAML raises ``error`` naming ``file``, the line and the column."""
    try:
        return yaml.load(text, Loader=StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise error(f"broken YAML: {problem}{where}", file=file) from None


def read_text(path: Path, error: type[EdgesimError]) -> str:
    """A spec or workload file's text; a missing or unreadable file raises ``error`` naming it."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error("no such file", file=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"cannot read: {exc}", file=str(path)) from None
