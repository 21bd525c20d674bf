"""edgesim.compress: pure model transforms (pruning, quantization, AdderNet) and their costs.

Every function returns a new module and never modifies its input; ``es.trace`` reads what they
leave behind (pruned shapes, zero patterns, precisions, adder layers).
"""

from edgesim.compress.addernet import adder_lr_scale, to_addernet
from edgesim.compress.data import (
    DigitsLeNet,
    DigitsResNet,
    accuracy,
    digits_lenet,
    digits_model,
    digits_resnet,
    evaluate,
    load_data,
    train,
    trained_digits_model,
)
from edgesim.compress.quant import quantize
from edgesim.compress.sparsity import prune_unstructured, zero_fraction
from edgesim.compress.storage import LayerStorage, StorageReport, share_weights, storage
from edgesim.compress.structured import prunable_layers, prune_channels
from edgesim.compress.variants import compressed_variants
from edgesim.nn.adder import AdderConv2d
from edgesim.nn.quant import QuantAdderConv2d, QuantConv1d, QuantConv2d, QuantLinear

__all__ = [
    "AdderConv2d",
    "DigitsLeNet",
    "DigitsResNet",
    "LayerStorage",
    "QuantAdderConv2d",
    "QuantConv1d",
    "QuantConv2d",
    "QuantLinear",
    "StorageReport",
    "accuracy",
    "adder_lr_scale",
    "compressed_variants",
    "digits_lenet",
    "digits_model",
    "digits_resnet",
    "evaluate",
    "load_data",
    "prunable_layers",
    "prune_channels",
    "prune_unstructured",
    "quantize",
    "share_weights",
    "storage",
    "to_addernet",
    "train",
    "trained_digits_model",
    "zero_fraction",
]
