"""Models people bring beyond 2-D CNNs: LSTM and GRU per time step, transformer encoder layers,
einsum, pixel shuffle, 3-D convolutions and embeddings, in tracing and in ONNX import alike (both
exporters), and a module torch.fx cannot trace named with the way out."""

from __future__ import annotations

import warnings
from collections import Counter
from pathlib import Path

import pytest
import torch
from torch import nn

import edgesim as es
from edgesim.errors import WorkloadError
from edgesim.workload.layer import Layer


class Recurrent(nn.Module):
    def __init__(self, cls: type, bidirectional: bool = False, layers: int = 1) -> None:
        super().__init__()
        self.rnn = cls(16, 32, num_layers=layers, batch_first=True, bidirectional=bidirectional)
        self.fc = nn.Linear(32 * (2 if bidirectional else 1), 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.rnn(x)
        return self.fc(out[:, -1])


class Encoder(nn.Module):
    def __init__(self, stack: bool = False, norm_first: bool = False) -> None:
        super().__init__()
        layer = nn.TransformerEncoderLayer(64, 4, 128, batch_first=True, norm_first=norm_first)
        self.enc: nn.Module = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False) \
            if stack else layer
        self.fc = nn.Linear(64, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.enc(x).mean(1))


class Einsum(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.q = nn.Linear(16, 16)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q = self.q(x)
        s = torch.einsum("bid,bjd->bij", q, x)
        return torch.einsum("bij,bjd->bid", s.softmax(-1), torch.einsum("bjd->bjd", x))


class Shuffle(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.c1, self.ps, self.c2 = nn.Conv2d(8, 32, 3, padding=1), nn.PixelShuffle(2), \
            nn.Conv2d(8, 8, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.c2(self.ps(self.c1(x)))


class Video(nn.Module):
    """3-D convolutions and pooling (lowered onto their 2-D forms)."""

    def __init__(self, bn: bool = False) -> None:
        super().__init__()
        self.c1 = nn.Conv3d(3, 8, 3, padding=1, stride=(1, 2, 2))
        self.bn: nn.Module = nn.BatchNorm3d(8) if bn else nn.Identity()
        self.pool = nn.MaxPool3d(2)
        self.c2 = nn.Conv3d(8, 16, (3, 1, 1), padding=(1, 0, 0), groups=2)
        self.gap, self.fc = nn.AdaptiveAvgPool3d(1), nn.Linear(16, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(torch.relu(self.bn(self.c1(x))))
        return self.fc(self.gap(self.c2(x)).flatten(1))


class Tokens(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.emb, self.fc = nn.Embedding(1000, 32), nn.Linear(32, 10)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.fc(self.emb(ids).mean(1))


SEQ = torch.randn(2, 12, 16)
CASES = {
    "lstm_bi2": (Recurrent(nn.LSTM, True, 2), SEQ),
    "gru": (Recurrent(nn.GRU), SEQ),
    "encoder": (Encoder(), torch.randn(2, 10, 64)),
    "encoder_stack_norm_first": (Encoder(True, True), torch.randn(2, 10, 64)),
    "einsum": (Einsum(), torch.randn(2, 10, 16)),
    "pixel_shuffle": (Shuffle(), torch.randn(1, 8, 16, 16)),
    "conv3d": (Video(), torch.randn(2, 3, 8, 16, 16)),
    "embedding": (Tokens(), torch.randint(0, 1000, (2, 7))),
}


def _onnx(name: str, tmp_path: Path, dynamo: bool = False) -> es.Workload:
    model, x = CASES[name]
    path = tmp_path / f"{name}.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model.eval(), (x,), str(path), dynamo=dynamo,
                          **({} if dynamo else {"opset_version": 17}))
    return es.load_workload(path)


def _work(wl: es.Workload) -> list[tuple[str, int, int]]:
    return [(lay.op.value, lay.macs, lay.params) for lay in wl.layers]


@pytest.mark.parametrize("name", list(CASES))
def test_traced_counts_equal_torch_and_onnx(name: str, tmp_path: Path) -> None:
    model, x = CASES[name]
    wl = es.trace(model.eval(), x, name=name)
    assert wl.params == sum(p.numel() for p in model.parameters())
    onnx_wl = _onnx(name, tmp_path)
    assert (onnx_wl.macs, onnx_wl.params) == (wl.macs, wl.params)
    if name in ("lstm_bi2", "gru", "pixel_shuffle", "conv3d", "embedding"):  # layer by layer
        assert _work(onnx_wl) == _work(wl)
    assert es.simulate(wl, "edge-npu").latency_s > 0


def test_recurrent_work_per_step() -> None:
    """An LSTM's MACs are T x N x 4H x (I + H) per layer and direction; each step after the first
    reads the stored recurrent weights again without storing them twice."""
    model, x = CASES["lstm_bi2"]
    wl = es.trace(model.eval(), x)
    n, t, h = 2, 12, 32
    rnn = sum(n * t * 4 * h * (i + h) for i in (16, 16, 64, 64))
    assert wl.macs == rnn + n * 64 * 10
    steps = [lay for lay in wl.layers if lay.name.startswith("rnn.l0.t") and
             lay.name.endswith(".hh")]
    assert len(steps) == t and steps[0].params == 4 * h * h + 4 * h
    assert all(s.params == 0 and s.weights_from == "rnn.l0.t0.hh" for s in steps[1:])
    assert steps[1].inputs == ("rnn.l0.t0.h",)  # step t waits for step t-1


def test_steps_run_in_sequence() -> None:
    """Twice the steps take about twice the time: each step depends on the one before."""
    def latency(steps: int) -> float:
        model = Recurrent(nn.GRU).eval()
        wl = es.trace(model, torch.randn(1, steps, 16))
        return es.simulate(wl, "edge-npu", mode="des").latency_s
    assert latency(24) / latency(12) == pytest.approx(2.0, rel=0.15)


def test_encoder_layer_counts() -> None:
    """Post-norm encoder layer: QKV, attention, output projection and feed-forward."""
    model, x = CASES["encoder"]
    wl = es.trace(model.eval(), x)
    n, seq, e, heads, ff = 2, 10, 64, 4, 128
    expect = (n * seq * 3 * e * e + 2 * n * heads * seq * seq * (e // heads) + n * seq * e * e
              + 2 * n * seq * e * ff + n * e * 10)
    assert wl.macs == expect
    ops = Counter(lay.op.value for lay in wl.layers)
    assert ops["layernorm"] == 2 and ops["add"] == 2 and ops["softmax"] == 1


def test_conv3d_is_lowered_with_its_own_work() -> None:
    """A 3-D convolution's MACs and weights are the 3-D layer's; its BatchNorm folds."""
    wl = es.trace(Video(bn=True).eval(), torch.randn(2, 3, 8, 16, 16))
    c1 = wl.layers[0]
    assert c1.op.value == "conv2d" and c1.has_bias and ("folded", "bn") in c1.extra
    assert c1.macs == 2 * 8 * 8 * 8 * 8 * 3 * 27  # N x D' x H' x W' x K x C x kd kh kw
    assert c1.params == 8 * 3 * 27 + 8
    assert "batchnorm" not in {lay.op.value for lay in wl.layers}


def test_embedding_reads_the_rows_it_looks_up(tmp_path: Path) -> None:
    """A lookup stores the whole table but moves only the rows its ids name; the YAML forms
    express it too."""
    wl = es.trace(Tokens().eval(), torch.randint(0, 1000, (2, 7)))
    emb = wl.layers[0]
    assert emb.op.value == "embedding" and emb.params == 1000 * 32 and emb.macs == 0
    res = es.simulate(wl, "eyeriss")  # a chip whose weights stream from DRAM
    assert res.weight_bytes >= 1000 * 32  # stored: the whole table
    assert res.layers[0].dram_read_bytes < 2 * 7 * 32 * 2 + 2 * 7 * 8  # moved: 14 rows and ids
    path = tmp_path / "tokens.yaml"
    path.write_text("name: tokens\nlayers:\n"
                    "  - {name: emb, op: embedding, num_embeddings: 30522, embedding_dim: 128,\n"
                    "     tokens: 64, inputs: []}\n"
                    "  - {name: fc, op: linear, in_features: 128, out_features: 2, tokens: 64}\n")
    yl = es.load_workload(path)
    assert yl.layers[0].params == 30522 * 128 and yl.layers[0].out_shape == (1, 64, 128)
    yl.to_yaml(tmp_path / "back.yaml")
    assert es.load_workload(tmp_path / "back.yaml").layers == yl.layers
    path.write_text(path.read_text() + "  - {name: emb2, op: embedding, num_embeddings: 9, "
                                       "embedding_dim: 4, tokens: 64}\n")  # reads fc's output
    with pytest.raises(WorkloadError, match="an embedding reads token ids"):
        es.load_workload(path)


def test_einsum_forms() -> None:
    layers = [lay for lay in es.trace(CASES["einsum"][0].eval(), CASES["einsum"][1]).layers
              if lay.op.value == "matmul"]
    assert [lay.macs for lay in layers] == [2 * 10 * 10 * 16, 2 * 10 * 10 * 16]  # the view is free

    class Three(nn.Module):
        def forward(self, a: torch.Tensor) -> torch.Tensor:
            return torch.einsum("ij,jk,kl->il", a, a, a)

    with pytest.raises(WorkloadError, match="split it into pairwise einsums"):
        es.trace(Three(), torch.randn(4, 4))


def test_an_untraceable_submodule_is_named_with_the_way_out() -> None:
    class Branchy(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x * 2 if x.sum() > 0 else x

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.stem, self.gate = nn.Linear(4, 4), Branchy()

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.gate(self.stem(x))

    with pytest.raises(WorkloadError) as err:
        es.trace(Net(), torch.randn(1, 4))
    msg = str(err.value)
    assert "in submodule 'gate'" in msg and "register_converter(Branchy, fn)" in msg
    assert "torch.onnx.export" in msg


def test_the_default_exporter_agrees(tmp_path: Path) -> None:
    """torch 2.13's default exporter (dynamo, through onnxscript) and the TorchScript one give
    the same counts as tracing, on a CNN and on a bidirectional LSTM."""
    model, x = es.zoo.get("lenet5")
    path = tmp_path / "lenet5.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model.eval(), x, str(path))
    wl, traced = es.load_workload(path), es.trace(model, x)
    assert _work(wl) == _work(traced)
    lstm = _onnx("lstm_bi2", tmp_path, dynamo=True)
    assert _work(lstm) == _work(es.trace(CASES["lstm_bi2"][0], SEQ))


def test_layer_weights_from_is_read_from_extra() -> None:
    a = Layer(name="a", op="linear", inputs=(), in_shapes=((1, 4),), out_shape=(1, 4),
              weight_shape=(4, 4), has_bias=True, extra=(("shares_weights", "z"),))
    assert a.weights_from == "z" and a.params == 0


def test_review_cases() -> None:
    """Cases a review found: recurrent steps re-read the weights they share; einsum operands
    broadcast; a BatchNorm over a flattened map is not a conv bias; h0 from another layer."""
    lstm = es.trace(nn.LSTM(16, 1536, batch_first=True), torch.randn(1, 12, 16))
    res = es.simulate(lstm, "edge-npu")  # 9.4 MB of recurrent weights: more than the buffer
    steps = [lay for lay in res.layers if lay.name.endswith(".hh")]
    assert all(s.dram_read_bytes > 9e6 for s in steps)  # every step streams them again
    assert res.weight_bytes < 1.02 * sum(p.numel() for p in nn.LSTM(16, 1536).parameters())

    class Broadcast(nn.Module):
        def forward(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
            return torch.einsum("...ij,...jk->...ik", x, c)

    assert es.trace(Broadcast(), (torch.randn(3, 4, 5), torch.randn(1, 5, 6))).macs == 3 * 4 * 5 * 6

    class FlatBN(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.c, self.bn = nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm1d(512)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.bn(self.c(x).flatten(1))

    ops = [lay.op.value for lay in es.trace(FlatBN().eval(), torch.randn(2, 3, 8, 8)).layers]
    assert ops == ["conv2d", "batchnorm"]

    class Seq2Seq(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.enc, self.dec = nn.GRU(4, 8, batch_first=True), nn.GRU(6, 8, batch_first=True)

        def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            _, h = self.enc(x)
            out, _ = self.dec(y, h)
            return out

    wl = es.trace(Seq2Seq(), (torch.randn(2, 5, 4), torch.randn(2, 3, 6)))
    assert wl.layer("dec.l0.ih").inputs == () and wl.layer("dec.l0.ih").in_shapes == ((2, 3, 6),)
    assert wl.layer("dec.l0.t0.hh").inputs == ("enc.l0.hs",)  # waits for the encoder


def test_onnx_review_cases(tmp_path: Path) -> None:
    """ONNX: a Gather along another axis is not an embedding; a 3-D Conv with auto_pad SAME
    keeps its depth."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    ids = helper.make_tensor_value_info("ids", TensorProto.INT64, [2, 3])
    out = helper.make_tensor_value_info("y", TensorProto.FLOAT, [10, 2, 3])
    table = numpy_helper.from_array(np.ones((10, 6), np.float32), "table")
    gather = helper.make_node("Gather", ["table", "ids"], ["g"], axis=1, name="g")
    relu = helper.make_node("Relu", ["g"], ["y"], name="r")
    path = tmp_path / "gather.onnx"
    onnx.save(helper.make_model(helper.make_graph([gather, relu], "g", [ids], [out], [table])),
              str(path))
    assert "embedding" not in {lay.op.value for lay in es.load_workload(path).layers}

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 8, 8, 8])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 8, 8, 8])
    w = numpy_helper.from_array(np.ones((4, 2, 3, 3, 3), np.float32), "w")
    conv = helper.make_node("Conv", ["x", "w"], ["y"], auto_pad="SAME_UPPER", name="c")
    path = tmp_path / "conv3d.onnx"
    onnx.save(helper.make_model(helper.make_graph([conv], "c", [x], [y], [w])), str(path))
    assert es.load_workload(path).macs == 8 * 8 * 8 * 4 * 2 * 27
