"""Checks shared by the workload readers: field parsers, pydantic errors, a layer's self-consistency."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from edgesim.errors import WorkloadError, known_keys, unknown_key
from edgesim.vocab import CONV_OPS, WEIGHTED_OPS, OpKind, Precision, parse_nm, precision
from edgesim.workload.layer import Layer


def field_path(prefix: str, loc: Sequence[int | str]) -> str:
    out = prefix
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def pydantic_error(exc: ValidationError, file: str | None, prefix: str,
                   model: Any = None) -> WorkloadError:
    """The first pydantic error as a WorkloadError naming ``file`` and the field path; an
    unknown key comes first (a misspelt key is reported as itself, not as the key it missed),
    with the closest keys of ``model`` (the model validated) when given."""
    errors = exc.errors()
    err = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    loc = [p for p in err["loc"] if not (isinstance(p, str) and ("[" in p or p in (
        "int", "str", "list[int]", "list[constrained-int]", "constrained-int")))]
    msg = err["msg"]
    if err["type"] == "extra_forbidden":
        msg = (unknown_key(str(loc[-1]), known_keys(model, err["loc"]))
               if model is not None and loc else "unknown key")
    elif "input" in err and err["type"] != "missing":
        msg = f"{msg}, got {err['input']!r}"
    return WorkloadError(msg, file=file, field=field_path(prefix, loc) or None)


def parse_precision(value: int | str | None, file: str | None, field: str) -> Precision | None:
    """``8 -> int8``; ``"fp16"``, ``"bf16"``, ``"int4"`` as they are; bad values name ``field``."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise WorkloadError(f"expected a bit-width 1..32 or a format such as 'fp16', got {value!r}",
                            file=file, field=field)
    if isinstance(value, int):
        if not 1 <= value <= 32:
            raise WorkloadError(f"bit-width must be within 1..32, got {value}", file=file,
                                field=field)
        name = f"int{value}"
    else:
        name = value
    try:
        return precision(name)
    except WorkloadError as exc:
        raise WorkloadError(exc.detail, file=file, field=field) from None


def check_pattern(pattern: str, file: str | None, field: str) -> None:
    """``unstructured`` or ``N:M`` with ``0 < N < M``."""
    if pattern == "unstructured" or parse_nm(pattern) is not None:
        return
    raise WorkloadError(f"expected 'unstructured' or 'N:M' with 0 < N < M, got {pattern!r}",
                        file=file, field=field)


def conv_out(size: int, k: int, s: int, p: int, d: int) -> int:
    """Output size of a convolution or pooling window along one dimension."""
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


def op_kind(value: Any, file: str | None, field: str) -> OpKind:
    """The op called ``value``; anything else names the known ops."""
    try:
        return OpKind(value)
    except ValueError:
        known = ", ".join(o.value for o in OpKind)
        raise WorkloadError(f"unknown op {value!r} (known: {known})", file=file,
                            field=field) from None


def check_layer(layer: Layer, file: str | None = None, at: str = "") -> None:
    """Check that a layer's own fields agree (weights vs channels, output shape vs kernel)."""

    def err(key: str, detail: str) -> WorkloadError:
        return WorkloadError(detail, file=file, field=f"{at}.{key}" if at else key)

    op = layer.op
    check_pattern(layer.sparsity_pattern, file, f"{at}.sparsity_pattern")
    if layer.shared_weights and op not in WEIGHTED_OPS:
        raise err("shared_weights", f"op {op.value} has no weights")
    if op in WEIGHTED_OPS and not layer.in_shapes:
        raise err("in_shapes", f"op {op.value} needs an input shape")
    if op in CONV_OPS or op == OpKind.CONV_TRANSPOSE2D:
        rank = 3 if op == OpKind.CONV1D else 4
        x = layer.in_shapes[0]
        if len(x) != rank or len(layer.out_shape) != rank:
            raise err("in_shapes", f"{op.value} needs {rank}-D input and output shapes")
        if len(layer.weight_shape) != 4:
            raise err("weight_shape", f"expected 4 dims (K, C/g, R, S), got "
                      f"{list(layer.weight_shape)}")
        w: tuple[int, ...] = tuple(layer.weight_shape)
        g = layer.groups
        if op == OpKind.CONV_TRANSPOSE2D:
            c_in, c_out = w[0], w[1] * g
        else:
            c_in, c_out = w[1] * g, w[0]
        if c_in != x[1]:
            raise err("weight_shape", f"{list(w)} with groups {g} expects {c_in} input "
                      f"channels, input has {x[1]}")
        if c_out != layer.out_shape[1]:
            raise err("out_shape", f"{layer.out_shape[1]} channels, weights give {c_out}")
        if tuple(w[2:]) != layer.kernel:
            raise err("kernel", f"{list(layer.kernel)} differs from weight_shape {list(w)}")
        if op != OpKind.CONV_TRANSPOSE2D:
            (ih, iw), (oh, ow) = layer.in_hw, layer.out_hw
            k, s, p, d = layer.kernel, layer.stride, layer.padding, layer.dilation
            want = (conv_out(ih, k[0], s[0], p[0], d[0]), conv_out(iw, k[1], s[1], p[1], d[1]))
            if (oh, ow) != want:
                raise err("out_shape", f"output size {[oh, ow]} does not follow from input "
                          f"{[ih, iw]}, kernel, stride and padding (expected {list(want)})")
    elif op == OpKind.LINEAR:
        w = tuple(layer.weight_shape)
        if len(w) != 2:
            raise err("weight_shape", f"expected (out, in), got {list(w)}")
        if layer.in_shapes[0][-1] != w[1] or layer.out_shape[-1] != w[0]:
            raise err("weight_shape", f"{list(w)} does not match input "
                      f"{list(layer.in_shapes[0])} and output {list(layer.out_shape)}")
    elif op == OpKind.MATMUL:
        if len(layer.in_shapes) != 2 or min(len(s) for s in layer.in_shapes) < 2:
            raise err("in_shapes", "matmul needs two operands of at least 2 dims")
        a, b = layer.in_shapes
        if a[-1] != b[-2] or tuple(layer.out_shape[-2:]) != (a[-2], b[-1]):
            raise err("in_shapes", f"{list(a)} x {list(b)} cannot give {list(layer.out_shape)}")
    if op not in WEIGHTED_OPS and layer.weight_sparsity:
        raise err("weight_sparsity", f"op {op.value} has no weights")

