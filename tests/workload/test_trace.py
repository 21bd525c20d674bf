"""torch.fx tracing: op coverage, views, folding, attention, compression read-off, errors."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from edgesim.errors import WorkloadError
from edgesim.vocab import OpKind
from edgesim.workload.trace import ConvertContext, register_converter, trace


def _ops(wl) -> list[str]:
    return [lay.op.value for lay in wl]


class Viewy(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(4, 8, 3, padding=1)
        self.drop = nn.Dropout(0.5)
        self.fc = nn.Linear(8 * 6 * 6, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.drop(self.conv(x)).contiguous()
        y = y.permute(0, 2, 3, 1).permute(0, 3, 1, 2).reshape(x.size(0), -1)
        a, b = torch.chunk(y, 2, dim=1)
        return self.fc(torch.cat([a, b], dim=1).view(1, -1).flatten(1))


def test_views_stay_out_of_the_count() -> None:
    wl = trace(Viewy(), torch.randn(1, 4, 6, 6))
    assert _ops(wl) == ["conv2d", "concat", "linear"]
    concat = wl.layers[1]
    assert concat.inputs == ("conv",)  # chunk/permute/reshape connect to the real producer
    assert wl.layer("fc").inputs == (concat.name,)
    # conv: 8 filters * 36 pixels * 4*9; fc: 288 * 10
    assert wl.macs == 8 * 36 * 36 + 288 * 10
    assert wl.params == 8 * 36 + 8 + 2880 + 10


def test_depthwise_and_grouped_counts() -> None:
    m = nn.Sequential(nn.Conv2d(32, 32, 3, padding=1, groups=32, bias=False),
                      nn.Conv2d(32, 64, 3, stride=2, padding=2, dilation=2, groups=4))
    wl = trace(m, torch.randn(2, 32, 16, 16))
    dw, gc = wl.layers
    assert dw.groups == 32 and dw.weight_shape == (32, 1, 3, 3)
    assert dw.macs == 2 * 16 * 16 * 32 * 9
    assert gc.groups == 4 and gc.dilation == (2, 2) and gc.out_shape == (2, 64, 8, 8)
    assert gc.macs == 2 * 8 * 8 * 64 * (32 // 4) * 9
    assert gc.params == 64 * 8 * 9 + 64
    assert wl.batch == 2


class ConvBN(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.c1 = nn.Conv2d(3, 8, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.c2 = nn.Conv2d(8, 8, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(8)
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.relu(self.bn1(self.c1(x)))
        z = self.c2(y)
        return self.bn2(z) + z  # c2 has two consumers: its BN cannot fold


def test_batchnorm_folding() -> None:
    m = ConvBN().train()
    wl = trace(m, torch.randn(1, 3, 8, 8))
    assert _ops(wl) == ["conv2d", "relu", "conv2d", "batchnorm", "add"]
    c1 = wl.layer("c1")
    assert c1.has_bias and ("folded", "bn1") in c1.extra
    assert wl.layer("relu").inputs == ("c1",)
    assert not wl.layer("c2").has_bias
    assert wl.layer("bn2").params == 16  # an unfolded BN keeps gamma and beta
    assert m.training and m.bn1.training  # tracing leaves the module's mode alone


class Attn(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.qkv = nn.Linear(32, 96)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q, k, v = self.qkv(x).reshape(2, 10, 3, 4, 8).permute(2, 0, 3, 1, 4)
        return F.scaled_dot_product_attention(q, k, v)


def test_sdpa_decomposition() -> None:
    wl = trace(Attn(), torch.randn(2, 10, 32))
    assert _ops(wl) == ["linear", "matmul", "softmax", "matmul"]
    qk, sm, pv = wl.layers[1:]
    assert qk.inputs == ("qkv",) and sm.inputs == (qk.name,)
    assert pv.inputs == (sm.name, "qkv")
    assert qk.out_shape == (2, 4, 10, 10) and pv.out_shape == (2, 4, 10, 8)
    # QK^T: batch 2 x 4 heads, 10x10 scores, 8 deep; PV the same work
    assert qk.macs == 2 * 4 * 10 * 10 * 8 == pv.macs
    assert wl.layers[0].macs == 2 * 10 * 32 * 96


def test_multihead_attention() -> None:
    mha = nn.MultiheadAttention(16, 2, batch_first=True)

    class M(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.mha = mha

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.mha(x, x, x)[0]

    wl = trace(M(), torch.randn(1, 5, 16))
    assert _ops(wl) == ["linear", "matmul", "softmax", "matmul", "linear"]
    assert wl.params == sum(p.numel() for p in mha.parameters())
    assert wl.macs == 5 * 16 * 48 + 2 * (2 * 5 * 5 * 8) + 5 * 16 * 16


class Ops(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.c = nn.Conv1d(4, 8, 3, padding=1)
        self.up = nn.ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=1)
        self.ln = nn.LayerNorm(4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.gelu(self.c(x))  # (1, 8, 16)
        y = torch.sigmoid(y.reshape(1, 8, 4, 4)) * 2.0
        y = F.max_pool2d(self.up(y), 2)  # (1, 4, 4, 4)
        y = F.interpolate(y, scale_factor=2, mode="bilinear")
        y = F.adaptive_avg_pool2d(y, 2)  # 8 -> 2: kernel 4, stride 4
        return F.softmax(self.ln(y.permute(0, 2, 3, 1)), dim=-1) @ torch.ones(4, 3)


def test_op_coverage() -> None:
    wl = trace(Ops(), torch.randn(1, 4, 16))
    assert _ops(wl) == ["conv1d", "activation", "activation", "mul", "conv_transpose2d",
                        "pool2d", "upsample", "pool2d", "layernorm", "softmax", "matmul"]
    c = wl.layer("c")
    assert c.kernel == (1, 3) and c.weight_shape == (8, 4, 1, 3) and c.macs == 16 * 8 * 12
    assert [lay.variant for lay in wl if lay.op == OpKind.ACTIVATION] == ["gelu", "sigmoid"]
    up = wl.layer("up")
    # lowered over the zero-inserted input: output pixels x C_in x C_out x R x S
    assert up.out_shape == (1, 4, 8, 8) and up.macs == 64 * 8 * 4 * 9
    pool = wl.layers[7]
    assert pool.kernel == (4, 4) and pool.stride == (4, 4) and pool.variant == "avg"
    assert wl.layers[6].variant == "bilinear"
    mm = wl.layers[-1]
    assert mm.in_shapes == ((1, 2, 2, 4), (4, 3)) and mm.macs == 4 * 3 * 4


def test_missing_converter_names_the_op() -> None:
    class Cumulative(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.cumsum(x, 1)

    with pytest.raises(WorkloadError) as err:
        trace(Cumulative(), torch.randn(1, 4, 2, 2))
    msg = str(err.value)
    assert "cumsum" in msg and "edgesim.workload.trace.register_converter" in msg


def test_untraceable_model() -> None:
    class Branchy(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x * 2 if x.sum() > 0 else x

    with pytest.raises(WorkloadError, match="torch.fx cannot trace model"):
        trace(Branchy(), torch.randn(1, 3))


def test_zero_sized_model() -> None:
    with pytest.raises(WorkloadError, match="zero-sized"):
        trace(nn.Linear(4, 0), torch.randn(1, 4))
    with pytest.raises(WorkloadError, match="zero-sized"):
        trace(nn.Linear(4, 2), torch.randn(0, 4))
    with pytest.raises(WorkloadError, match="no countable layers"):
        trace(nn.Flatten(), torch.randn(1, 4, 2))


class StandInAdder(nn.Module):
    """A local stand-in with AdderConv2d's attribute interface."""

    def __init__(self, cin: int, cout: int, k: int) -> None:
        super().__init__()
        self.in_channels, self.out_channels = cin, cout
        self.kernel_size, self.stride, self.padding, self.dilation = (k, k), (1, 1), (1, 1), (1, 1)
        self.groups = 1
        self.weight = nn.Parameter(torch.randn(cout, cin, k, k))
        self.bias = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        cols = F.unfold(x, 3, padding=1)  # fx must not trace inside: it is a leaf
        return -(cols.unsqueeze(1) - self.weight.flatten(1)[None, :, :, None]).abs().sum(2).view(
            x.shape[0], -1, x.shape[2], x.shape[3])


def test_registered_module_is_a_leaf_and_adder() -> None:
    from edgesim.workload.trace.converters import convert_adder

    register_converter(StandInAdder, convert_adder)
    wl = trace(nn.Sequential(StandInAdder(3, 4, 3), nn.ReLU()), torch.randn(1, 3, 5, 5))
    assert _ops(wl) == ["adder_conv2d", "relu"]
    assert wl.macs == 0 and wl.adds == 25 * 4 * 27


def test_real_adderconv2d() -> None:
    from edgesim.nn.adder import AdderConv2d

    wl = trace(nn.Sequential(AdderConv2d(3, 4, 3, 1, 1), nn.BatchNorm2d(4)),
               torch.randn(1, 3, 5, 5))
    assert _ops(wl) == ["adder_conv2d", "batchnorm"]  # BN does not fold into an adder
    assert wl.adds == 25 * 4 * 27


def my_op(x: torch.Tensor) -> torch.Tensor:
    return x * 3


torch.fx.wrap("my_op")


def test_custom_function_converter() -> None:
    def convert(ctx: ConvertContext):
        return [ctx.layer(OpKind.ACTIVATION, variant="my_op")]

    class M(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return my_op(x)

    register_converter(my_op, convert)
    wl = trace(M(), torch.randn(1, 3))
    assert _ops(wl) == ["activation"] and wl.layers[0].variant == "my_op"


def my_other_op(x: torch.Tensor) -> torch.Tensor:
    return x * 3


torch.fx.wrap("my_other_op")


def test_a_failing_user_converter_is_bad_input_naming_it() -> None:
    def convert(ctx: ConvertContext):
        return [ctx.layer(OpKind.ACTIVATION, varient="typo")]  # a misspelt field

    class M(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return my_other_op(x)

    register_converter(my_other_op, convert)
    with pytest.raises(WorkloadError) as err:
        trace(M(), torch.randn(1, 3))
    msg = str(err.value)
    assert "the converter registered for function" in msg and "my_other_op" in msg
    assert "TypeError" in msg and "varient" in msg
    assert err.value.field == "my_other_op"


class QConv(nn.Conv2d):
    """A quantized subclass as the compression engineer writes them."""

    weight_precision = "int4"
    act_precision = "int8"
    act_sparsity = 0.25


def test_compression_read_off() -> None:
    conv = QConv(8, 8, 1, bias=False)
    with torch.no_grad():
        w = torch.randn(8, 8)
        w[:, 0::4] = 0  # 2:4 along the input dim: zero two of every four
        w[:, 1::4] = 0
        conv.weight.copy_(w.view(8, 8, 1, 1))
    lin = nn.Linear(8, 8)
    with torch.no_grad():
        lin.weight[0, 0] = 0  # one zero: unstructured
    wl = trace(nn.Sequential(conv, nn.Flatten(), lin), torch.randn(1, 8, 1, 1))
    c = wl.layers[0]
    assert (c.weight_precision, c.act_precision, c.act_sparsity) == ("int4", "int8", 0.25)
    assert c.weight_sparsity == 0.5 and c.sparsity_pattern == "2:4"
    fc = wl.layers[1]
    assert fc.weight_precision is None and fc.sparsity_pattern == "unstructured"
    assert fc.weight_sparsity == pytest.approx(1 / 64)


def test_one_of_four_pattern_and_dense() -> None:
    lin = nn.Linear(16, 4, bias=False)
    with torch.no_grad():
        lin.weight.zero_()
        lin.weight[:, 0::4] = 1.0
    wl = trace(lin, torch.randn(1, 16))
    assert wl.layers[0].sparsity_pattern == "1:4" and wl.layers[0].weight_sparsity == 0.75
    dense = trace(nn.Linear(16, 4), torch.randn(1, 16)).layers[0]
    assert dense.weight_sparsity == 0.0 and dense.sparsity_pattern == "unstructured"


def test_bad_precision_attribute() -> None:
    conv = nn.Conv2d(3, 3, 1)
    conv.weight_precision = "int99"
    with pytest.raises(WorkloadError, match="weight_precision"):
        trace(conv, torch.randn(1, 3, 2, 2))


def test_quantized_zoo_model_from_compress() -> None:
    from edgesim.compress.quant import quantize

    m, x = __import__("edgesim.workload.zoo", fromlist=["get"]).get("lenet5")
    q = quantize(m, weight_bits=4, act_bits=8)
    wl = trace(q, x)
    weighted = [lay for lay in wl if lay.op in (OpKind.CONV2D, OpKind.LINEAR)]
    assert weighted and all(lay.weight_precision == "int4" for lay in weighted)
    assert wl.macs == trace(m, x).macs


def test_operand_bytes_follow_precisions() -> None:
    from edgesim.workload.ir import Layer

    lay = Layer("c", OpKind.CONV2D, (), ((1, 16, 8, 8),), (1, 32, 8, 8), kernel=(3, 3),
                padding=(1, 1), weight_shape=(32, 16, 3, 3), has_bias=True)
    assert lay.operand_bytes("int8") == {"inputs": 1024, "weights": 32 * 16 * 9 + 32,
                                         "outputs": 2048}
    q = replace(lay, weight_precision="int4", act_precision="fp16")
    assert q.operand_bytes("int8") == {"inputs": 2048, "weights": (32 * 16 * 9 + 32) // 2,
                                       "outputs": 4096}


def test_measured_activation_sparsity() -> None:
    from edgesim.workload.trace import trace

    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 8, 3, padding=1),
                          nn.ReLU(), nn.Flatten(), nn.Linear(8 * 8 * 8, 10))
    x = torch.randn(2, 3, 8, 8)
    plain = trace(model, x)
    assert all(lay.act_sparsity == 0.0 for lay in plain.layers)  # off unless asked for
    wl = trace(model, x, measure_act_sparsity=True)
    convs = [lay for lay in wl.layers if lay.op in (OpKind.CONV2D, OpKind.LINEAR)]
    assert convs[0].act_sparsity == 0.0  # a Gaussian image has no exact zeros
    with torch.no_grad():
        after_relu = model[1](model[0](x))
    expected = float((after_relu == 0).float().mean())
    assert convs[1].act_sparsity == pytest.approx(expected)
    assert 0.2 < convs[1].act_sparsity < 0.8  # ~half of a random conv's outputs are negative
    assert convs[2].act_sparsity > 0.2  # through the flatten view


def test_shared_weights_are_traced_and_checked(tmp_path) -> None:
    """``es.compress.share_weights`` marks each layer with the values its weights share and
    their Huffman-coded width; the trace carries them into the IR (and YAML), and refuses a mark
    the weights no longer match."""
    import edgesim as es
    from edgesim.compress import prune_unstructured, share_weights

    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 6 * 6, 10))
    x = torch.randn(1, 3, 8, 8)
    shared = share_weights(prune_unstructured(model, amount=0.5), 3)
    wl = trace(shared, (x,))
    convs = [lay for lay in wl.layers if lay.op in (OpKind.CONV2D, OpKind.LINEAR)]
    for lay, mod in zip(convs, (shared[0], shared[3]), strict=True):
        w = mod.weight.detach()
        assert lay.shared_weights == int(torch.unique(w[w != 0]).numel()) <= 7
        assert 0 < lay.weight_code_bits <= 3  # Huffman never longer than the fixed 3 bits
    for form in ("layers", "graph"):
        wl.to_yaml(tmp_path / f"{form}.yaml", form=form)
        back = es.load_workload(tmp_path / f"{form}.yaml")
        assert [(b.shared_weights, b.weight_code_bits) for b in back.layers] == \
            [(a.shared_weights, a.weight_code_bits) for a in wl.layers]
    assert all(lay.shared_weights == 0 for lay in trace(model, (x,)).layers)
    with pytest.raises(WorkloadError, match="share them again"):  # pruned since: fewer values
        trace(prune_unstructured(shared, amount=0.9), (x,))
    with torch.no_grad():
        shared[0].weight.add_(torch.randn_like(shared[0].weight) * 1e-3)  # fine-tuned since
    with pytest.raises(WorkloadError, match="share them again"):
        trace(shared, (x,))
