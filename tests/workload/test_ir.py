"""The IR's layer: names become enums at construction, and bad ones are WorkloadErrors."""

from __future__ import annotations

from dataclasses import replace

import pytest

from edgesim.errors import WorkloadError
from edgesim.vocab import OpKind, Precision
from edgesim.workload.ir import Layer, Workload


def _conv(**over: object) -> Layer:
    lay = Layer(name="c", op=OpKind.CONV2D, inputs=(), in_shapes=((1, 16, 8, 8),),
                out_shape=(1, 32, 8, 8), kernel=(3, 3), padding=(1, 1),
                weight_shape=(32, 16, 3, 3))
    return replace(lay, **over)  # type: ignore[arg-type]


def test_names_become_enums() -> None:
    lay = _conv(op="conv2d", weight_precision="int4", act_precision="fp16")
    assert lay.op is OpKind.CONV2D
    assert lay.weight_precision is Precision.INT4 and lay.act_precision is Precision.FP16
    assert lay == _conv(weight_precision=Precision.INT4, act_precision=Precision.FP16)
    assert lay.bits("int8") == (4, 16) and _conv().bits("int8") == (8, 8)


@pytest.mark.parametrize(("field", "value", "match"), [
    ("op", "conv3d", "unknown op 'conv3d'"),
    ("weight_precision", "int99", "unknown precision 'int99'"),
    ("act_precision", "fp8", "unknown precision 'fp8'"),
])
def test_bad_names_are_workload_errors(field: str, value: str, match: str) -> None:
    with pytest.raises(WorkloadError, match=match) as err:
        _conv(**{field: value})
    assert err.value.field == f"c.{field}"


def test_workload_weight_bytes_take_a_precision_name() -> None:
    wl = Workload("w", (_conv(),))
    assert wl.weight_bytes("int8") == 32 * 16 * 9 == wl.weight_bytes(Precision.INT8)
    assert wl.weight_bytes("int4") == 32 * 16 * 9 // 2


@pytest.mark.parametrize(("mode", "per_output"), [("nearest", 1), ("bilinear", 7),
                                                  ("bicubic", 31), ("trilinear", 15)])
def test_upsampling_work_follows_its_mode(mode: str, per_output: int) -> None:
    up = Layer("up", OpKind.UPSAMPLE, (), ((1, 4, 8, 8),), (1, 4, 16, 16), variant=mode)
    # nearest copies one input per output; the others weigh 2^d (4^d for cubic) neighbours
    assert up.vector_ops == per_output * 4 * 16 * 16
