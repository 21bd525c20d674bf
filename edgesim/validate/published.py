"""Published figures edgesim is checked against (silicon and device measurements), with sources."""

from __future__ import annotations

from edgesim.vocab import OpKind, Precision
from edgesim.workload.ir import Layer, Workload

# Eyeriss (Chen et al., "Eyeriss: An Energy-Efficient Reconfigurable Accelerator for Deep
# Convolutional Neural Networks", JSSC 52(1), 2017), AlexNet conv layers at batch 4, 16-bit,
# 200 MHz: the paper's performance breakdown table (processing latency, active PEs, DRAM
# accesses) and MACs per layer.
EYERISS_ALEXNET_LATENCY_MS = (20.9, 41.9, 23.6, 18.4, 10.5)
EYERISS_ALEXNET_ACTIVE_PES = (154, 135, 156, 156, 156)
EYERISS_ALEXNET_DRAM_MB = (5.0, 4.0, 3.0, 2.1, 1.3)
EYERISS_ALEXNET_MACS_G = (0.42, 0.90, 0.60, 0.45, 0.30)
# Same paper: VGG-16's conv layers at batch 3: 0.7 frames/s and 321.1 MB of DRAM per batch.
EYERISS_VGG16_BATCH_S = 3 / 0.7
EYERISS_VGG16_DRAM_MB = 321.1
EYERISS_SOURCE = "Chen et al., JSSC 52(1) 2017 (Eyeriss v1 silicon, 65 nm, 200 MHz)"

# Jetson Nano, TensorRT, batch 1, input 1x3x256x256, latency in ms: kentaroy47/
# benchmark-FP32-FP16-INT8-with-TensorRT (GitHub README). One board and one TensorRT version.
JETSON_NANO_MS = {("resnet18", "fp16"): 18.0, ("resnet50", "fp16"): 42.0,
                  ("resnet50", "fp32"): 79.0}
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
        conv_layer("conv1", 3, 96, 227, 11, 4, 0, batch=batch, act_sparsity=0.0001),
        conv_layer("conv2", 96, 256, 27, 5, 1, 2, 2, batch, ("conv1",), 0.387),
        conv_layer("conv3", 256, 384, 13, 3, 1, 1, 1, batch, ("conv2",), 0.725),
        conv_layer("conv4", 384, 384, 13, 3, 1, 1, 2, batch, ("conv3",), 0.793),
        conv_layer("conv5", 384, 256, 13, 3, 1, 1, 2, batch, ("conv4",), 0.776),
    ]
    return Workload("alexnet-conv", tuple(layers), batch=batch)


VGG16_CONVS = ((3, 64, 224), (64, 64, 224), (64, 128, 112), (128, 128, 112), (128, 256, 56),
               (256, 256, 56), (256, 256, 56), (256, 512, 28), (512, 512, 28), (512, 512, 28),
               (512, 512, 14), (512, 512, 14), (512, 512, 14))
"""(in channels, out channels, input size) of VGG-16's 3x3, stride-1, pad-1 conv layers."""


def vgg16_convs(batch: int = 3) -> Workload:
    """VGG-16's 13 conv layers at int16 (pooling between blocks is not an RS layer: left out)."""
    layers = [conv_layer(f"conv{i + 1}", c, k, hw, 3, 1, 1, batch=batch)
              for i, (c, k, hw) in enumerate(VGG16_CONVS)]
    return Workload("vgg16-conv", tuple(layers), batch=batch)
