"""Calibrated kernel classes on simd units: which class a layer is, how a class's efficiency
curve and overhead price it, and a BatchNorm run separately (torch eager)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from edgesim.hardware import load_hardware
from edgesim.hardware.model import BatchnormForm, ConvDispatch, KernelFit
from edgesim.mapping.kernels import cold_layers, kernel_class, packed_bytes, torch_cpu_onednn
from edgesim.sim import simulate
from edgesim.vocab import KernelClass, OpKind
from edgesim.workload.ir import Workload
from edgesim.workload.layer import Layer


def _conv(k: int, groups: int = 1, c: int = 32, name: str = "c", extra: tuple = ()) -> Layer:
    return Layer(name, OpKind.CONV2D, (), ((1, c, 14, 14),), (1, c, 14, 14), kernel=(k, k),
                 padding=(k // 2, k // 2), groups=groups, weight_shape=(c, c // groups, k, k),
                 extra=extra)


@pytest.mark.parametrize("layer, cls", [
    (_conv(1), KernelClass.CONV1X1), (_conv(3), KernelClass.CONV3X3),
    (replace(_conv(1), stride=(2, 2), out_shape=(1, 32, 7, 7)), KernelClass.CONV1X1_STRIDED),
    (_conv(5), KernelClass.CONV5X5), (_conv(7), KernelClass.CONV7X7),
    (_conv(3, groups=32), KernelClass.DEPTHWISE), (_conv(3, groups=2), KernelClass.GROUPED),
    # four channels per group: a grouped kernel in torch, though vectorized across channels
    (_conv(3, groups=8), KernelClass.GROUPED),
    (Layer("a", OpKind.ACTIVATION, (), ((1, 8),), (1, 8), variant="gelu"),
     KernelClass.ACTIVATION),
    (Layer("h", OpKind.ACTIVATION, (), ((1, 8),), (1, 8), variant="hardswish"),
     KernelClass.ELEMENTWISE),
    (Layer("g", OpKind.POOL2D, (), ((1, 8, 7, 7),), (1, 8, 1, 1), kernel=(7, 7)),
     KernelClass.GLOBAL_POOL),
    (Layer("p", OpKind.POOL2D, (), ((1, 8, 8, 8),), (1, 8, 4, 4), kernel=(2, 2), stride=(2, 2)),
     KernelClass.POOL),
])
def test_kernel_class(layer: Layer, cls: KernelClass) -> None:
    assert kernel_class(layer) == cls


def test_efficiency_is_piecewise_linear_in_log2_and_flat_beyond_the_ends() -> None:
    fit = KernelFit(((16, 0.2), (256, 0.6)), 0)
    assert fit.efficiency(4) == 0.2 and fit.efficiency(1024) == 0.6
    assert fit.efficiency(64) == pytest.approx(0.4)  # halfway in log2
    assert KernelFit(((8, 0.1), (64, 0.9)), 0, "m").efficiency_at(k=8, m=64) == 0.9


def _with_kernels(kernels: tuple, batchnorm: BatchnormForm = BatchnormForm.FOLDED) -> object:
    hw = load_hardware("epyc-zen5")  # a hand-set simd spec (no kernel classes of its own)
    unit = replace(hw.main_unit, kernels=kernels, batchnorm=batchnorm)
    return replace(hw, compute=(unit,))


def test_a_class_efficiency_and_overhead_set_the_compute_cycles() -> None:
    wl = Workload("w", [_conv(3)])
    hw = load_hardware("epyc-zen5")
    unit = hw.main_unit
    base = simulate(wl, _with_kernels(((KernelClass.CONV3X3, KernelFit(((1, 0.5),), 0)),)))
    slow = simulate(wl, _with_kernels(((KernelClass.CONV3X3, KernelFit(((1, 0.25),), 0)),)))
    over = simulate(wl, _with_kernels(((KernelClass.CONV3X3, KernelFit(((1, 0.5),), 1000)),)))
    macs = 32 * 32 * 9 * 14 * 14
    lanes = unit.lanes * unit.cores  # N = 32 fills the vectors
    assert base.layers[0].compute_cycles == pytest.approx(macs / (lanes * 0.5), abs=1)
    assert slow.layers[0].compute_cycles == pytest.approx(2 * base.layers[0].compute_cycles,
                                                          abs=2)
    assert over.layers[0].compute_cycles == base.layers[0].compute_cycles + 1000
    other = simulate(wl, _with_kernels(((KernelClass.CONV1X1, KernelFit(((1, 0.1),), 9),),)))
    plain = simulate(wl, hw)  # an uncalibrated class keeps the unit's efficiency and overhead
    assert other.layers[0].compute_cycles == plain.layers[0].compute_cycles


def test_a_folded_batchnorm_costs_a_norm_pass_only_where_the_unit_runs_it_separately() -> None:
    folded = _conv(3, extra=(("folded", "bn"),))
    kernels = ((KernelClass.CONV3X3, KernelFit(((1, 0.5),), 0)),
               (KernelClass.BATCHNORM, KernelFit(((1, 0.25),), 500)))
    eager = simulate(Workload("w", [folded]), _with_kernels(kernels, BatchnormForm.SEPARATE))
    frozen = simulate(Workload("w", [folded]), _with_kernels(kernels))
    unfolded = simulate(Workload("w", [_conv(3)]), _with_kernels(kernels, BatchnormForm.SEPARATE))
    lanes = load_hardware("epyc-zen5").main_unit.lanes * load_hardware("epyc-zen5").main_unit.cores
    bn = -(-2 * 32 * 14 * 14 // int(lanes * 0.25)) + 500
    assert eager.layers[0].compute_cycles == frozen.layers[0].compute_cycles + bn
    assert unfolded.layers[0].compute_cycles == frozen.layers[0].compute_cycles


def _vector(name: str, op: OpKind, variant: str = "") -> Layer:
    return Layer(name, op, (), ((1, 32, 14, 14),), (1, 32, 14, 14), variant=variant)


def test_a_layer_runs_cold_when_a_convolution_ran_since_its_class_last_ran() -> None:
    relu, add = _vector("r", OpKind.RELU), _vector("a", OpKind.ADD)
    # a CNN: conv3x3 -> relu -> conv3x3 -> relu -> conv1x1: every relu follows a conv; the
    # second 3x3 finds its class last run before the relu only (warm); the 1x1 runs once, so
    # its class last ran an inference ago, before the 3x3s
    cnn = [_conv(3, name="c1"), relu, _conv(3, name="c2"), relu, _conv(1, name="p")]
    assert cold_layers(cnn) == (True, True, False, True, True)
    # a transformer-like chain of classes that repeat before any convolution: warm throughout
    block = [Layer("l", OpKind.LINEAR, (), ((1, 8, 32),), (1, 8, 32), weight_shape=(32, 32)),
             _vector("g", OpKind.ACTIVATION, "gelu"), add]
    assert cold_layers(block * 3) == (False,) * 9
    # one convolution in the model makes what follows it cold, once
    assert cold_layers([_conv(3, name="stem"), *block * 2]) == (False, True, True, True,
                                                                 False, False, False)


def test_cold_fits_price_the_layers_that_run_cold() -> None:
    warm = KernelFit(((1, 0.5),), 100)
    cold = replace(warm, overhead_cycles=700, cold=None)
    kernels = ((KernelClass.CONV3X3, warm), (KernelClass.ELEMENTWISE, replace(warm, cold=cold)))
    hw = _with_kernels(kernels)
    # two equal ReLUs: the first runs after the conv (cold), the second after the first (warm);
    # the memo must not hand one's counts to the other
    wl = Workload("w", [_conv(3, name="c"), replace(_vector("r", OpKind.RELU), inputs=("c",)),
                        replace(_vector("s", OpKind.RELU), inputs=("r",))])
    res = simulate(wl, hw)
    plain = simulate(wl, _with_kernels(((KernelClass.CONV3X3, warm),
                                        (KernelClass.ELEMENTWISE, warm))))
    assert res.layers[0].compute_cycles == plain.layers[0].compute_cycles  # no cold fit: warm
    assert res.layers[1].compute_cycles == plain.layers[1].compute_cycles + 600
    assert res.layers[2].compute_cycles == plain.layers[2].compute_cycles
    # a separate BatchNorm runs right after its convolution: cold
    bn = replace(warm, cold=replace(warm, overhead_cycles=900))
    eager = _with_kernels(((KernelClass.CONV3X3, warm), (KernelClass.BATCHNORM, bn)),
                          BatchnormForm.SEPARATE)
    warm_bn = _with_kernels(((KernelClass.CONV3X3, warm), (KernelClass.BATCHNORM, warm)),
                            BatchnormForm.SEPARATE)
    folded = Workload("w", [_conv(3, extra=(("folded", "bn"),))])
    assert simulate(folded, eager).layers[0].compute_cycles == \
        simulate(folded, warm_bn).layers[0].compute_cycles + 800


def test_only_a_convolution_on_the_layers_own_unit_makes_it_cold() -> None:
    from edgesim.hardware.model import UnitType

    cpu = load_hardware("epyc-zen5").main_unit
    npu = replace(cpu, name="npu", type=UnitType.SYSTOLIC)
    relu = _vector("r", OpKind.RELU)
    layers = [_conv(3, name="c"), relu, _conv(3, name="d"), relu]
    assert cold_layers(layers, [cpu] * 4) == (False, True, False, True)
    assert cold_layers(layers, [npu, cpu, npu, cpu]) == (False, False, False, False)
    # a BatchNorm run on its own after its conv runs the batchnorm class there: a standalone
    # BatchNorm after it finds that class just run (warm)
    bn = Layer("b", OpKind.BATCHNORM, (), ((1, 32, 14, 14),), (1, 32, 14, 14))
    folded = [_conv(3, name="c", extra=(("folded", "bn"),)), relu, bn]
    eager = replace(cpu, batchnorm=BatchnormForm.SEPARATE)
    assert cold_layers(folded, [eager] * 3)[2] is False
    assert cold_layers(folded, [replace(cpu, batchnorm=BatchnormForm.FOLDED)] * 3)[2] is True


def test_a_class_a_unit_was_not_calibrated_for_takes_its_nearest_classs_fit() -> None:
    strided = Workload("w", [replace(_conv(1), stride=(2, 2), out_shape=(1, 32, 7, 7))])
    fit = KernelFit(((1, 0.3),), 4000)
    nearest = simulate(strided, _with_kernels(((KernelClass.CONV1X1, fit),)))
    own = simulate(strided, _with_kernels(((KernelClass.CONV1X1_STRIDED, fit),)))
    plain = simulate(strided, load_hardware("epyc-zen5"))
    assert nearest.layers[0].compute_cycles == own.layers[0].compute_cycles
    assert own.layers[0].compute_cycles != plain.layers[0].compute_cycles


def _torch_conv(c_in: int, c_out: int, size: int, k: tuple[int, int], stride: int = 1,
                groups: int = 1, batch: int = 1, dilation: int = 1) -> Layer:
    out = (size + 2 * (dilation * (k[0] - 1) // 2) - dilation * (k[0] - 1) - 1) // stride + 1
    out_w = (size + 2 * (dilation * (k[1] - 1) // 2) - dilation * (k[1] - 1) - 1) // stride + 1
    return Layer("c", OpKind.CONV2D, (), ((batch, c_in, size, size),),
                 (batch, c_out, out, out_w), kernel=k, stride=(stride, stride),
                 padding=(dilation * (k[0] - 1) // 2, dilation * (k[1] - 1) // 2),
                 dilation=(dilation, dilation), groups=groups,
                 weight_shape=(c_out, c_in // groups, *k))


def test_the_torch_cpu_rule_picks_the_backend_torch_itself_picks() -> None:
    """``torch_cpu_onednn`` against ``torch._C._select_conv_backend`` (the installed torch's own
    choice) over kernels, channels, sizes, strides, groups, dilation, batch and threads."""
    import torch

    threads = torch.get_num_threads()
    checked = {True: 0, False: 0}
    try:
        for t in (1, 2):
            torch.set_num_threads(t)
            for k in ((1, 1), (3, 3), (5, 5), (7, 7), (1, 7), (2, 2)):
                for c, size in ((3, 56), (8, 56), (16, 32), (64, 14), (96, 14), (112, 14),
                                (128, 7), (512, 7), (32, 28), (24, 28)):
                    for stride, groups, batch, dil in ((1, 1, 1, 1), (2, 1, 1, 1),
                                                       (1, c if c > 3 else 1, 1, 1),
                                                       (1, 1, 2, 1), (1, 1, 1, 2),
                                                       (1, 1, 16, 1)):
                        lay = _torch_conv(c, c, size, k, stride, groups, batch, dil)
                        x = torch.zeros(lay.in_shapes[0])
                        w = torch.zeros(lay.weight_shape)
                        chosen = torch._C._select_conv_backend(
                            x, w, None, list(lay.stride), list(lay.padding),
                            list(lay.dilation), False, [0, 0], groups, None)
                        if str(chosen).split(".")[-1] not in ("Mkldnn", "Slow2d"):
                            continue  # e.g. a dilated native conv: another native kernel
                        want = str(chosen).endswith("Mkldnn")
                        assert torch_cpu_onednn(lay, t) == want, (t, k, c, size, stride,
                                                                  groups, batch, dil)
                        checked[want] += 1
    finally:
        torch.set_num_threads(threads)
    assert checked[True] > 50 and checked[False] > 50  # both backends were exercised


def test_under_torch_dispatch_a_conv_is_classed_by_the_kernel_torch_runs() -> None:
    cpu = replace(load_hardware("epyc-zen5").main_unit, conv_dispatch=ConvDispatch.TORCH_CPU,
                  cores=1)
    small, large = _torch_conv(96, 96, 14, (3, 3)), _torch_conv(128, 128, 14, (3, 3))
    assert kernel_class(small, cpu) == KernelClass.CONV_IM2COL  # 18816 input elements
    assert kernel_class(large, cpu) == KernelClass.CONV3X3  # 25088: oneDNN
    assert kernel_class(small) == kernel_class(large) == KernelClass.CONV3X3  # by shape
    plain_1x1 = _torch_conv(256, 256, 28, (1, 1))
    assert kernel_class(plain_1x1, cpu) == KernelClass.CONV1X1  # a GEMM on one thread
    assert kernel_class(plain_1x1, replace(cpu, cores=2)) == KernelClass.CONV1X1_STRIDED
    assert kernel_class(_torch_conv(16, 32, 14, (1, 1), stride=2), cpu) == \
        KernelClass.CONV_IM2COL  # a small strided 1x1: torch unfolds it natively
    assert kernel_class(_torch_conv(64, 64, 14, (3, 3), groups=64), cpu) == \
        KernelClass.DEPTHWISE
    assert kernel_class(_torch_conv(8, 8, 7, (5, 5)), cpu) == KernelClass.CONV5X5
    # a grouped 1x1 on one thread stays native: a GEMM per group (ShuffleNet's)
    assert kernel_class(_torch_conv(240, 240, 28, (1, 1), groups=3), cpu) == KernelClass.CONV1X1
    assert kernel_class(_torch_conv(240, 240, 28, (3, 3), groups=3), cpu) == KernelClass.GROUPED
    # a padded 1x1 is unfolded; a 1x7 is no "larger than 3 in both dimensions"
    padded = replace(_torch_conv(16, 16, 14, (1, 1)), padding=(1, 1), out_shape=(1, 16, 16, 16))
    assert kernel_class(padded, cpu) == KernelClass.CONV_IM2COL
    assert kernel_class(_torch_conv(16, 16, 14, (1, 7)), cpu) == KernelClass.CONV_IM2COL
    # transposed convs are not covered by the rule: their shape's class, nothing packed
    up = Layer("t", OpKind.CONV_TRANSPOSE2D, (), ((1, 16, 7, 7),), (1, 16, 14, 14),
               kernel=(3, 3), stride=(2, 2), padding=(1, 1), weight_shape=(16, 16, 3, 3))
    assert kernel_class(up, cpu) == KernelClass.CONV3X3
    assert packed_bytes(up, KernelClass.CONV3X3, 32) == 0


def test_a_class_that_packs_pays_its_packed_bytes_at_its_rate() -> None:
    """oneDNN's classes pack the weights, conv_im2col the unfolded input: bytes over the
    class's ``pack_bandwidth`` in cycles, on top of the compute."""
    hw = load_hardware("epyc-zen5")
    dispatch = replace(hw.main_unit, conv_dispatch=ConvDispatch.TORCH_CPU, cores=1)
    onednn = _torch_conv(128, 64, 14, (3, 3))  # 25088 input elements: oneDNN's conv3x3
    native = _torch_conv(128, 64, 7, (3, 3))  # 6272: conv_im2col
    for cls, lay, packed in ((KernelClass.CONV3X3, onednn, 64 * 128 * 9 * 4),
                             (KernelClass.CONV_IM2COL, native, 128 * 9 * 49 * 4)):
        fit = KernelFit(((1, 0.5),), 0)
        unit = replace(dispatch, kernels=((cls, fit),))
        packs = replace(unit, kernels=((cls, replace(fit, pack_bytes_per_s=1e9)),))
        base = simulate(Workload("w", [lay]), replace(hw, compute=(unit,)))
        more = simulate(Workload("w", [lay]), replace(hw, compute=(packs,)))
        assert more.layers[0].compute_cycles - base.layers[0].compute_cycles == \
            pytest.approx(packed / 1e9 * hw.clock_hz, abs=1), cls
    # a spec without conv_im2col prices it with conv3x3's fit, but not with conv3x3's packing
    # rate, which was fitted on weight bytes
    only = replace(dispatch, kernels=((KernelClass.CONV3X3,
                                       KernelFit(((1, 0.5),), 0, pack_bytes_per_s=1e9)),))
    plain = replace(dispatch, kernels=((KernelClass.CONV3X3, KernelFit(((1, 0.5),), 0)),))
    assert simulate(Workload("w", [native]), replace(hw, compute=(only,))).layers[0] \
        .compute_cycles == simulate(Workload("w", [native]), replace(hw, compute=(plain,))) \
        .layers[0].compute_cycles


def test_lanes_fill_in_vectors_of_the_vector_width() -> None:
    """48 filters fill three 16-wide vectors (an AVX-512 core, lanes 32 over two FMA pipes)
    but only three quarters of two 32-wide ones."""
    hw = load_hardware("epyc-zen5")
    unit = replace(hw.main_unit, cores=1, kernels=((KernelClass.CONV3X3,
                                                    KernelFit(((1, 0.5),), 0)),))
    assert unit.lanes == 32
    lay = _torch_conv(64, 48, 14, (3, 3))
    wide = simulate(Workload("w", [lay]), replace(hw, compute=(unit,)))
    narrow = simulate(Workload("w", [lay]),
                      replace(hw, compute=(replace(unit, vector_width=16),)))
    assert wide.layers[0].compute_cycles == pytest.approx(
        narrow.layers[0].compute_cycles * 4 / 3, rel=1e-3)
