"""The `kernels`, `batchnorm`, `conv_dispatch` and `vector_width` fields of a simd unit:
accepted as written, refused with the field named where they do not apply or do not make
sense."""

from __future__ import annotations

import pytest

from edgesim.errors import SpecError
from edgesim.hardware.spec import validate_spec_dict
from edgesim.vocab import KernelClass


def _spec(unit: dict) -> dict:
    return {"name": "k", "kind": "cpu", "technology_nm": 7, "clock": "2 GHz",
            "compute": [unit],
            "memory": [{"name": "dram", "type": "dram", "size": "1 GiB",
                        "bandwidth": "10 GB/s"},
                       {"name": "l1", "type": "cache", "size": "32 KiB",
                        "bandwidth": "100 GB/s"}]}


SIMD = {"name": "v", "type": "simd", "lanes": 16, "precisions": ["fp32"]}


def test_kernels_are_read() -> None:
    spec = validate_spec_dict(_spec({**SIMD, "batchnorm": "separate", "kernels": {
        "conv3x3": {"efficiency": [[16, 0.2], [256, 0.7]], "overhead_cycles": 1000},
        "linear": {"efficiency": [[1, 0.2], [64, 0.8]], "axis": "m"},
        "elementwise": {"efficiency": 0.3}}}))
    kernels = spec.compute[0].kernels
    assert kernels is not None and set(kernels) == {KernelClass.CONV3X3, KernelClass.LINEAR,
                                                    KernelClass.ELEMENTWISE}


def test_dispatch_packing_and_vector_width_are_read_into_the_unit() -> None:
    from edgesim.hardware.build import build_hardware
    from edgesim.hardware.model import ConvDispatch

    spec = validate_spec_dict(_spec({**SIMD, "lanes": 32, "vector_width": 16,
                                     "conv_dispatch": "torch_cpu", "kernels": {
        "conv_im2col": {"efficiency": 0.4, "pack_bandwidth": "12.5 GB/s"}}}))
    unit = build_hardware(spec).main_unit
    assert unit.conv_dispatch == ConvDispatch.TORCH_CPU and unit.vector_lanes == 16
    fit = unit.kernel(KernelClass.CONV_IM2COL)
    assert fit is not None and fit.pack_bytes_per_s == 12.5e9
    plain = build_hardware(validate_spec_dict(_spec(SIMD))).main_unit
    assert plain.conv_dispatch == ConvDispatch.SHAPE and plain.vector_lanes == 16  # = lanes
    # a cold cost that says nothing of packing packs as the warm one does
    cold = validate_spec_dict(_spec({**SIMD, "conv_dispatch": "torch_cpu", "kernels": {
        "conv3x3": {"efficiency": 0.5, "pack_bandwidth": "7 GB/s",
                    "cold": {"efficiency": 0.4}}}}))
    fit3 = build_hardware(cold).main_unit.kernel(KernelClass.CONV3X3)
    assert fit3 is not None and fit3.cold is not None and fit3.cold.pack_bytes_per_s == 7e9


@pytest.mark.parametrize("unit, field", [
    ({**SIMD, "kernels": {"conv9x9": {"efficiency": 0.5}}}, "kernels"),
    ({**SIMD, "kernels": {"conv3x3": {"efficiency": 1.5}}}, "efficiency"),
    ({**SIMD, "kernels": {"conv3x3": {"efficiency": [[64, 0.5], [16, 0.6]]}}}, "efficiency"),
    ({**SIMD, "kernels": {"conv3x3": {"efficiency": 0.5, "axis": "n"}}}, "axis"),
    ({**SIMD, "kernels": {"conv3x3": {"efficiency": 0.5, "fill": 3}}}, "fill"),
    ({"name": "a", "type": "systolic", "rows": 8, "cols": 8, "precisions": ["int8"],
      "kernels": {"conv3x3": {"efficiency": 0.5}}}, "kernels"),
    ({"name": "a", "type": "systolic", "rows": 8, "cols": 8, "precisions": ["int8"],
      "batchnorm": "separate"}, "batchnorm"),
    ({"name": "a", "type": "systolic", "rows": 8, "cols": 8, "precisions": ["int8"],
      "conv_dispatch": "torch_cpu"}, "conv_dispatch"),
    ({**SIMD, "conv_dispatch": "cudnn"}, "conv_dispatch"),
    ({**SIMD, "vector_width": 12}, "vector_width"),  # 16 lanes are not whole vectors of 12
    ({"name": "a", "type": "systolic", "rows": 8, "cols": 8, "precisions": ["int8"],
      "vector_width": 8}, "vector_width"),
    ({**SIMD, "kernels": {"conv3x3": {"efficiency": 0.5, "pack_bandwidth": "0 GB/s"}}},
     "pack_bandwidth"),
    ({**SIMD, "noc_energy": "2 pJ"}, "noc_energy"),  # a spatial (row-stationary) unit's only
    # a class that packs nothing; packing without torch's dispatch (nothing says what it packs)
    ({**SIMD, "conv_dispatch": "torch_cpu",
      "kernels": {"linear": {"efficiency": 0.5, "pack_bandwidth": "9 GB/s"}}}, "pack_bandwidth"),
    ({**SIMD, "kernels": {"conv3x3": {"efficiency": 0.5, "pack_bandwidth": "9 GB/s"}}},
     "pack_bandwidth"),
    ({**SIMD, "kernels": {"conv3x3": {"efficiency": 0.5,
                                      "cold": {"efficiency": 0.4, "pack_bandwidth": "9 GB/s"}}}},
     "pack_bandwidth"),
])
def test_bad_kernels_name_the_field(unit: dict, field: str) -> None:
    with pytest.raises(SpecError) as err:
        validate_spec_dict(_spec(unit), "k.yaml")
    assert field in str(err.value) and "k.yaml" in str(err.value)
