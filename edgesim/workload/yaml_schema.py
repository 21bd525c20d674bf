"""The workload YAML schema (pydantic, unknown keys rejected): the layer-list and graph forms."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from edgesim.vocab import OpKind

PosInt = Annotated[int, Field(strict=True, gt=0)]
NonNegInt = Annotated[int, Field(strict=True, ge=0)]
Fraction = Annotated[float, Field(ge=0.0, lt=1.0)]
Pair = PosInt | Annotated[list[PosInt], Field(min_length=1, max_length=2)]
PairNonNeg = NonNegInt | Annotated[list[NonNegInt], Field(min_length=1, max_length=2)]
Bits = Annotated[int, Field(strict=True)] | str
ShapeList = Annotated[list[PosInt], Field(min_length=1)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


# ---- layer-list form ------------------------------------------------------------------------
class Defaults(Strict):
    weight_bits: Bits | None = None
    act_bits: Bits | None = None


class Header(Strict):
    name: str = ""
    batch: PosInt = 1
    form: Literal["layers", "graph"] = "layers"
    defaults: Defaults = Defaults()
    layers: Annotated[list[dict[str, Any]], Field(min_length=1)]


class LayerEntry(Strict):
    name: Annotated[str, Field(min_length=1)]
    op: str
    inputs: list[str] | None = None
    weight_bits: Bits | None = None
    act_bits: Bits | None = None
    weight_sparsity: Fraction = 0.0
    act_sparsity: Fraction = 0.0
    sparsity_pattern: str = "unstructured"
    shared_weights: NonNegInt = 0
    weight_code_bits: Annotated[float, Field(ge=0.0, le=32.0)] = 0.0


class ConvEntry(LayerEntry):
    in_channels: PosInt
    out_channels: PosInt
    in_size: Pair | None = None
    kernel: Pair
    stride: Pair = 1
    padding: PairNonNeg = 0
    dilation: Pair = 1
    groups: PosInt = 1
    bias: bool = False


class ConvTransposeEntry(ConvEntry):
    output_padding: PairNonNeg = 0


class LinearEntry(LayerEntry):
    in_features: PosInt
    out_features: PosInt
    tokens: PosInt | None = None
    bias: bool = False


class MatmulEntry(LayerEntry):
    m: PosInt
    n: PosInt
    k: PosInt
    heads: PosInt | None = None


class ShapedEntry(LayerEntry):
    """Ops whose shape follows their producer; a fresh input needs channels and in_size."""

    channels: PosInt | None = None
    in_size: Pair | None = None


class EmbeddingEntry(LayerEntry):
    """A table lookup reading ``tokens`` ids (a fresh model input) per sample."""

    num_embeddings: PosInt
    embedding_dim: PosInt
    tokens: PosInt


class PoolEntry(ShapedEntry):
    variant: Literal["max", "avg"] = "max"
    kernel: Pair | None = None  # omitted: global pooling
    stride: Pair | None = None  # omitted: equal to kernel
    padding: PairNonNeg = 0


class UpsampleEntry(ShapedEntry):
    scale: PosInt = 2
    variant: Literal["nearest", "bilinear"] = "nearest"


class ActivationEntry(ShapedEntry):
    variant: Annotated[str, Field(min_length=1)]


class ReluEntry(ShapedEntry):
    variant: Literal["", "relu6"] = ""


LAYER_ENTRIES: dict[OpKind, type[LayerEntry]] = {
    OpKind.CONV2D: ConvEntry, OpKind.ADDER_CONV2D: ConvEntry, OpKind.CONV1D: ConvEntry,
    OpKind.CONV_TRANSPOSE2D: ConvTransposeEntry, OpKind.LINEAR: LinearEntry, OpKind.MATMUL: MatmulEntry,
    OpKind.POOL2D: PoolEntry, OpKind.ADD: ShapedEntry, OpKind.MUL: ShapedEntry, OpKind.CONCAT: ShapedEntry,
    OpKind.RELU: ReluEntry, OpKind.ACTIVATION: ActivationEntry, OpKind.SOFTMAX: ShapedEntry,
    OpKind.LAYERNORM: ShapedEntry, OpKind.BATCHNORM: ShapedEntry, OpKind.UPSAMPLE: UpsampleEntry,
    OpKind.EMBEDDING: EmbeddingEntry,
}


# ---- graph form -----------------------------------------------------------------------------
class GraphLayerEntry(Strict):
    name: Annotated[str, Field(min_length=1)]
    op: str
    inputs: list[str] = []
    fresh_inputs: list[NonNegInt] = []  # in_shapes positions read from a model input
    in_shapes: list[ShapeList]
    out_shape: ShapeList
    kernel: Annotated[list[PosInt], Field(min_length=2, max_length=2)] = [1, 1]
    stride: Annotated[list[PosInt], Field(min_length=2, max_length=2)] = [1, 1]
    padding: Annotated[list[NonNegInt], Field(min_length=2, max_length=2)] = [0, 0]
    dilation: Annotated[list[PosInt], Field(min_length=2, max_length=2)] = [1, 1]
    groups: PosInt = 1
    weight_shape: list[PosInt] = []
    has_bias: bool = False
    variant: str = ""
    weight_precision: str | None = None
    act_precision: str | None = None
    weight_sparsity: Fraction = 0.0
    act_sparsity: Fraction = 0.0
    sparsity_pattern: str = "unstructured"
    shared_weights: NonNegInt = 0
    weight_code_bits: Annotated[float, Field(ge=0.0, le=32.0)] = 0.0
    extra: list[Annotated[list[str], Field(min_length=2, max_length=2)]] = []

