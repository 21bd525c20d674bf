"""Published figures edgesim is checked against (silicon and device measurements), with sources."""

from __future__ import annotations

from edgesim.vocab import OpKind, Precision
from edgesim.workload.ir import Layer, Workload

# Eyeriss (Chen et al., "Eyeriss: An Energy-Efficient Reconfigurable Accelerator for Deep
# Convolutional Neural Networks", JSSC 52(1), 2017), measured on the chip at 16-bit, 200 MHz,
# 1 V. Table V: AlexNet's conv layers at batch 4; Table VI: VGG-16's at batch 3. Per layer:
# chip power (mW, the accelerator without DRAM), total latency (ms: processing plus the DRAM
# transfers that do not overlap it), MACs, active PEs, zeros in the ifmap, global-buffer and DRAM
# accesses (MB). Transcribed from the paper's tables (cross-read against the transcription in
# github.com/cucapra/fodlam, data/eyeriss-*.csv). Table III: the chip's AlexNet mapping.
EYERISS_ALEXNET_LATENCY_MS = (20.9, 41.9, 23.6, 18.4, 10.5)
EYERISS_ALEXNET_ACTIVE_PES = (154, 135, 156, 156, 156)
EYERISS_ALEXNET_DRAM_MB = (5.0, 4.0, 3.0, 2.1, 1.3)
EYERISS_ALEXNET_MACS_G = (0.42, 0.90, 0.60, 0.45, 0.30)
EYERISS_ALEXNET_POWER_MW = (332, 288, 266, 235, 236)
EYERISS_ALEXNET_GLB_MB = (18.5, 77.6, 50.2, 37.4, 24.9)
EYERISS_ALEXNET_ZEROS = (0.0001, 0.387, 0.725, 0.793, 0.776)
# Table III, the chip's mapping per AlexNet layer: (n images, m filters in the GLB, e output rows
# of a PE set, p filters, q channels per PE, r sets on other channels, t sets on other filters).
EYERISS_ALEXNET_MAPPING = ((1, 96, 7, 16, 1, 1, 2), (1, 64, 27, 16, 2, 1, 1),
                           (4, 64, 13, 16, 4, 1, 4), (4, 64, 13, 16, 3, 2, 2),
                           (4, 64, 13, 16, 3, 2, 2))
# Table VI: VGG-16, 13 conv layers, batch 3 (0.7 frames/s = 4.29 s per batch, 321.1 MB of DRAM).
EYERISS_VGG16_LATENCY_MS = (76.2, 910.3, 470.3, 894.3, 241.1, 460.9, 457.7, 135.3, 254.8, 246.3,
                            54.3, 53.7, 53.7)
EYERISS_VGG16_POWER_MW = (247, 218, 242, 231, 254, 235, 233, 278, 261, 240, 258, 236, 230)
EYERISS_VGG16_ZEROS = (0.16, 0.477, 0.248, 0.387, 0.397, 0.581, 0.587, 0.643, 0.747, 0.854,
                       0.794, 0.874, 0.885)
EYERISS_VGG16_GLB_MB = (112.5, 2402.8, 1201.4, 2402.3, 607.4, 1214.8, 1214.8, 321.3, 643.7,
                        643.7, 90.0, 90.0, 90.0)
# conv1-1's DRAM reads "154 MB" in the OCR'd table; 15.4 MB is the reading that makes the layers
# sum to the published total (313.3 vs 321.1 MB; with 154 MB they sum to 452 MB), and the same
# dropped decimal point is visible on the other entries of that column in the OCR text.
EYERISS_VGG16_DRAM_MB_PER_LAYER = (15.4, 54.0, 33.4, 48.5, 20.2, 32.2, 30.8, 17.8, 20.6, 22.8,
                                   6.3, 5.7, 5.6)
EYERISS_VGG16_ACTIVE_PES = (156, 156, 150, 156, 156, 156, 156, 168, 168, 168, 163, 168, 168)
# (The table's totals: 4309.5 ms, 321.1 MB, 236 mW; compared here as the layers' sums.)
EYERISS_SOURCE = "Chen et al., JSSC 52(1) 2017 (Eyeriss v1 silicon, 65 nm, 200 MHz)"

# Jetson Nano, TensorRT, batch 1, input 1x3x256x256, latency in ms: kentaroy47/
# benchmark-FP32-FP16-INT8-with-TensorRT (GitHub README). One board and one TensorRT version.
JETSON_NANO_MS = {("resnet18", "fp16"): 18.0, ("resnet18", "fp32"): 26.0,
                  ("resnet50", "fp16"): 42.0, ("resnet50", "fp32"): 79.0}
# The jetson-nano spec's lane layout and efficiency were chosen with these points in view:
# calibration, not validation.
JETSON_NANO_SOURCE = "kentaroy47/benchmark-FP32-FP16-INT8-with-TensorRT (Jetson Nano, TensorRT)"


def conv_layer(name: str, c: int, k: int, size: int, r: int, stride: int = 1, pad: int = 0,
               groups: int = 1, batch: int = 1, inputs: tuple[str, ...] = (),
               act_sparsity: float = 0.0, bits: str = "int16") -> Layer:
    """A square conv layer as a published table describes it."""
    e = (size + 2 * pad - r) // stride + 1
    prec = Precision(bits)
    return Layer(name=name, op=OpKind.CONV2D, inputs=inputs, in_shapes=((batch, c, size, size),),
                 out_shape=(batch, k, e, e), kernel=(r, r), stride=(stride, stride),
                 padding=(pad, pad), groups=groups, weight_shape=(k, c // groups, r, r),
                 weight_precision=prec, act_precision=prec, act_sparsity=act_sparsity)


def alexnet_convs(batch: int = 4) -> Workload:
    """Original (grouped) AlexNet conv layers at int16, ifmap zero fractions from JSSC 2017."""
    layers = [
        conv_layer("conv1", 3, 96, 227, 11, 4, 0, batch=batch,
                   act_sparsity=EYERISS_ALEXNET_ZEROS[0]),
        conv_layer("conv2", 96, 256, 27, 5, 1, 2, 2, batch, ("conv1",), EYERISS_ALEXNET_ZEROS[1]),
        conv_layer("conv3", 256, 384, 13, 3, 1, 1, 1, batch, ("conv2",), EYERISS_ALEXNET_ZEROS[2]),
        conv_layer("conv4", 384, 384, 13, 3, 1, 1, 2, batch, ("conv3",), EYERISS_ALEXNET_ZEROS[3]),
        conv_layer("conv5", 384, 256, 13, 3, 1, 1, 2, batch, ("conv4",), EYERISS_ALEXNET_ZEROS[4]),
    ]
    return Workload("alexnet-conv", tuple(layers), batch=batch)


VGG16_CONVS = ((3, 64, 224), (64, 64, 224), (64, 128, 112), (128, 128, 112), (128, 256, 56),
               (256, 256, 56), (256, 256, 56), (256, 512, 28), (512, 512, 28), (512, 512, 28),
               (512, 512, 14), (512, 512, 14), (512, 512, 14))
"""(in channels, out channels, input size) of VGG-16's 3x3, stride-1, pad-1 conv layers."""


def vgg16_convs(batch: int = 3) -> Workload:
    """VGG-16's 13 conv layers at int16 with the chip's measured ifmap zeros (JSSC 2017 Table
    VI). Pooling between blocks is not an RS layer and is left out; the layers are chained so
    each output is RLC-coded in DRAM at its reader's zero fraction, as the chip does (where a
    pool is left out, the reader's input shape differs from its producer's output and the
    reader's input is read as written by the host)."""
    layers = [conv_layer(f"conv{i + 1}", c, k, hw, 3, 1, 1, batch=batch,
                         inputs=(f"conv{i}",) if i else (), act_sparsity=z)
              for i, ((c, k, hw), z) in enumerate(zip(VGG16_CONVS, EYERISS_VGG16_ZEROS,
                                                       strict=True))]
    return Workload("vgg16-conv", tuple(layers), batch=batch)
