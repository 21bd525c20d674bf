"""Leaf torch modules edgesim defines (AdderNet and fake-quantized layers), used by the
compression transforms and recognised by the tracer."""

from edgesim.nn.adder import AdderConv2d, adder_conv2d
from edgesim.nn.quant import (
    QuantAdderConv2d,
    QuantConfig,
    QuantConv1d,
    QuantConv2d,
    QuantLinear,
    fake_quant_act,
    fake_quant_weight,
)

__all__ = ["AdderConv2d", "QuantAdderConv2d", "QuantConfig", "QuantConv1d", "QuantConv2d",
           "QuantLinear", "adder_conv2d", "fake_quant_act", "fake_quant_weight"]
