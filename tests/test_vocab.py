"""The shared vocabulary: precisions and their bits, N:M patterns, pairs."""

from __future__ import annotations

import pytest

from edgesim.errors import WorkloadError
from edgesim.vocab import (
    FLOAT_PRECISIONS,
    GEMM_OPS,
    WEIGHTED_OPS,
    OpKind,
    Precision,
    pair,
    parse_nm,
    precision,
    precision_bits,
    split_nm,
)


def test_precision_bits() -> None:
    assert [p.bits for p in Precision][:8] == [1, 2, 3, 4, 5, 6, 7, 8]
    assert Precision.INT16.bits == 16 and Precision.INT32.bits == 32
    assert (Precision.FP16.bits, Precision.BF16.bits, Precision.FP32.bits) == (16, 16, 32)
    assert precision_bits("int4") == 4 and precision("bf16") is Precision.BF16
    assert {p for p in Precision if p.is_float} == FLOAT_PRECISIONS
    assert Precision.INT8 == "int8"  # a StrEnum: names and members compare equal


@pytest.mark.parametrize("name", ["int0", "int17", "fp8", "INT8", ""])
def test_unknown_precision_names_the_choices(name: str) -> None:
    with pytest.raises(WorkloadError, match="use int1..int32, fp16, bf16, fp32"):
        precision(name)


@pytest.mark.parametrize(("text", "split", "parsed"), [
    ("2:4", (2, 4), (2, 4)), ("1:8", (1, 8), (1, 8)), ("4:4", (4, 4), None),
    ("0:4", (0, 4), None), ("unstructured", None, None), ("", None, None), ("2:", None, None),
    ("a:4", None, None), ("2:4:8", None, None), ("²:4", None, None),
])
def test_nm_patterns(text: str, split: tuple[int, int] | None,
                     parsed: tuple[int, int] | None) -> None:
    assert split_nm(text) == split
    assert parse_nm(text) == parsed


def test_pair_and_op_sets() -> None:
    assert pair(3) == (3, 3) and pair([5]) == (5, 5) and pair((1, 7)) == (1, 7)
    assert WEIGHTED_OPS < GEMM_OPS and OpKind.MATMUL in GEMM_OPS - WEIGHTED_OPS
