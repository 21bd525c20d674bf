"""The standard compressed variants of one model, for side-by-side simulation."""

from __future__ import annotations

import copy
from typing import Any

from torch import nn

from edgesim.compress.addernet import to_addernet
from edgesim.compress.quant import quantize
from edgesim.compress.sparsity import prune_unstructured
from edgesim.compress.structured import prune_channels


def compressed_variants(model: nn.Module, example_inputs: Any) -> dict[str, nn.Module]:
    """Dense, 50 % channel-pruned, 90 % unstructured-sparse, int8 and AdderNet versions.

    Keys: ``"dense"``, ``"channel_pruned_50"``, ``"sparse_90"``, ``"int8"``, ``"addernet"``.
    Size the Deep-Compression-stored variant with
    ``storage(variants["sparse_90"], fmt="csr", share_bits=5, huffman=True)``.
    """
    return {
        "dense": copy.deepcopy(model),
        "channel_pruned_50": prune_channels(model, example_inputs, ratio=0.5),
        "sparse_90": prune_unstructured(model, amount=0.9),
        "int8": quantize(model, weight_bits=8, act_bits=8),
        "addernet": to_addernet(model),
    }
