"""How a spec validation error reads to a spec author: field paths and messages."""

from __future__ import annotations

from typing import Any


def render_loc(loc: tuple[int | str, ...]) -> str:
    """``("memory", 1, "size") -> "memory[1].size"`` (pydantic's union tags dropped)."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.startswith(("function-", "tagged-union", "lax-or-strict")) or part in (
                "float", "tuple[float]", "int", "str", "constrained-str"):
            continue
        else:
            out += f".{part}" if out else part
    return out


def message(err: Any) -> str:
    """The detail of one pydantic error, in the words of a spec author."""
    kind = err.get("type", "")
    if kind == "value_error" and "error" in err.get("ctx", {}):
        return str(err["ctx"]["error"])
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "missing required key"
    msg = str(err.get("msg", "invalid"))
    if "input" in err and kind not in ("model_type",):
        msg += f", got {err['input']!r}"
    return msg


def describe(value: object) -> str:
    """``[1] -> "a list"``, ``3 -> "a number"``: how a YAML value reads to a spec author."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return f"a {type(value).__name__}"


__all__ = ["describe", "message", "render_loc"]
