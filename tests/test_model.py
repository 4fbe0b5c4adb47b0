"""The model package: front end against a float64 reference, adapter convs, masking, training
modes, checkpoints, parameter counts against the TF reference, ``emonet model-info``."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import numpy as np
import pytest
import torch

from emonet.audio import load
from emonet.errors import EmoNetError
from emonet.model import (
    AdapterConv2d,
    CheckpointError,
    EmoNet,
    FrontendConfig,
    LogMel,
    LowRankAdapter,
    create_model,
    list_models,
    load_checkpoint,
    mel_filterbank,
    read_checkpoint_config,
    save_checkpoint,
)
from emonet.model.registry import ModelConfigError

SR = 16_000
LABELS_A = ["anger", "boredom", "neutral"]
LABELS_B = ["happy", "sad"]


# ----------------------------------------------------------------------------- reference front end
def reference_logmel(x: np.ndarray, n_fft=1024, hop=512, n_mels=128, fmin=20.0, fmax=8000.0):
    """The front end's definition in float64 NumPy, written independently: (n_mels, frames)."""
    x = np.asarray(x, dtype=np.float64)
    if len(x) < n_fft:
        x = np.concatenate([x, np.zeros(n_fft - len(x))])
    frames = 1 + (len(x) - n_fft) // hop
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)  # periodic Hann
    spec = np.empty((frames, n_fft // 2 + 1))
    for t in range(frames):
        spec[t] = np.abs(np.fft.rfft(x[t * hop : t * hop + n_fft] * window)) ** 2
    mel = lambda f: 2595 * np.log10(1 + f / 700)  # noqa: E731
    hz = lambda m: 700 * (10 ** (m / 2595) - 1)  # noqa: E731
    edges = hz(np.linspace(mel(fmin), mel(fmax), n_mels + 2))
    freqs = np.arange(n_fft // 2 + 1) * SR / n_fft
    fb = np.zeros((n_mels, len(freqs)))
    for m in range(n_mels):
        lo, mid, hi = edges[m : m + 3]
        rising = (freqs - lo) / (mid - lo)
        falling = (hi - freqs) / (hi - mid)
        fb[m] = np.clip(np.minimum(rising, falling), 0, None)
    return np.log(fb @ spec.T + 1e-6)


def assert_logmel_close(ours: np.ndarray, ref: np.ndarray) -> None:
    """Relative error ≤ 1e-4 of the log-mel: normwise and cell by cell against the spectrogram's
    scale; cells within 60 dB of their frame's peak also elementwise (fp32 FFT rounding is
    ~1e-7 of a frame's energy, so far quieter cells legitimately differ more)."""
    assert ours.shape == ref.shape
    err = np.abs(ours - ref)
    assert np.linalg.norm(err) / np.linalg.norm(ref) <= 1e-5
    assert err.max() / np.abs(ref).max() <= 1e-4
    loud = ref >= ref.max(axis=0, keepdims=True) - np.log(1e6)
    assert err[loud].max() <= 1e-4  # = relative error of the mel energy (+ offset)


def test_filterbank_is_librosa_htk_unnormalised():
    librosa = pytest.importorskip("librosa")
    ours = mel_filterbank(SR, 1024, 128, 20.0, 8000.0)
    theirs = librosa.filters.mel(
        sr=SR, n_fft=1024, n_mels=128, fmin=20, fmax=8000, htk=True, norm=None, dtype=np.float64
    )
    np.testing.assert_allclose(ours.T, theirs, rtol=1e-10, atol=1e-12)


def test_frontend_matches_float64_reference_on_random_batches():
    rng = np.random.default_rng(0)
    lengths = [24_000, 16_000, 1_500, 700, 1_024]  # includes clips shorter than n_fft
    waves = np.zeros((len(lengths), max(lengths)), np.float32)
    for i, n in enumerate(lengths):
        waves[i, :n] = rng.standard_normal(n) * 0.1
        waves[i, n:] = 5.0  # junk in the padding must not reach any valid frame
    spec, frames = LogMel()(torch.from_numpy(waves), torch.tensor(lengths))
    assert spec.shape[:3] == (len(lengths), 1, 128)
    assert frames.tolist() == [1 + max(n - 1024, 0) // 512 for n in lengths]
    assert frames.tolist()[2:] == [1, 1, 1]
    for i, n in enumerate(lengths):
        ref = reference_logmel(waves[i, :n])
        assert_logmel_close(spec[i, 0, :, : frames[i]].double().numpy(), ref)


def test_frontend_matches_reference_and_librosa_on_emodb(emodb_dir):
    librosa = pytest.importorskip("librosa")
    files = sorted(emodb_dir.rglob("*.wav"))[:4]
    assert files
    signals = [load(f) for f in files]
    lengths = torch.tensor([len(s) for s in signals])
    batch = torch.zeros(len(signals), int(lengths.max()))
    for i, s in enumerate(signals):
        batch[i, : len(s)] = torch.from_numpy(s)
    with torch.autocast("cpu", dtype=torch.bfloat16):  # the front end ignores autocast
        spec, frames = LogMel()(batch, lengths)
    assert spec.dtype == torch.float32
    for i, s in enumerate(signals):
        ours = spec[i, 0, :, : frames[i]].double().numpy()
        assert_logmel_close(ours, reference_logmel(s))
        mel = librosa.feature.melspectrogram(
            y=s.astype(np.float64), sr=SR, n_fft=1024, hop_length=512, center=False, power=2,
            n_mels=128, fmin=20, fmax=8000, htk=True, norm=None,
        )  # fmt: skip
        assert_logmel_close(ours, np.log(mel + 1e-6))


def test_frontend_blocks_do_not_change_the_result():
    x = torch.randn(3, 40_000)
    lengths = torch.tensor([40_000, 30_000, 2_000])
    whole, frames = LogMel()(x, lengths)
    small = LogMel()
    for n in (7, 20, 100):  # several items per block, and items split across blocks
        small.block_frames = n
        blocked, frames2 = small(x, lengths)
        assert torch.equal(frames, frames2)
        torch.testing.assert_close(blocked, whole, rtol=0, atol=1e-5)


def test_frontend_settings_are_configurable():
    fe = LogMel(FrontendConfig(n_fft=512, hop_length=160, n_mels=40, f_min=0.0, f_max=4000.0))
    x = torch.randn(2, 8000)
    spec, frames = fe(x, torch.tensor([8000, 4000]))
    assert spec.shape == (2, 1, 40, 1 + (8000 - 512) // 160)
    assert frames.tolist() == [1 + (8000 - 512) // 160, 1 + (4000 - 512) // 160]
    ref = reference_logmel(x[0].numpy(), 512, 160, 40, 0.0, 4000.0)
    assert_logmel_close(spec[0, 0].double().numpy(), ref)
    with pytest.raises(ValueError, match="f_max"):
        FrontendConfig(f_max=9000.0).validate()


@pytest.mark.parametrize("normalize", ["mean", "meanvar"])
def test_frontend_normalisation_uses_only_the_valid_frames(normalize):
    """Each band of an item is normalised over that item's frames: a padded item in a batch gets
    what it gets alone, its padding is 0, and an unpadded batch (lengths None) agrees."""
    fe = LogMel(FrontendConfig(n_fft=512, hop_length=160, n_mels=40, normalize=normalize))
    x = torch.randn(3, 16_000) * torch.tensor([[0.01], [1.0], [5.0]])
    lengths = torch.tensor([16_000, 9_000, 3_000])
    spec, frames = fe(x, lengths)
    for i, n in enumerate(frames.tolist()):
        alone, _ = fe(x[i : i + 1, : lengths[i]], None)
        torch.testing.assert_close(spec[i, 0, :, :n], alone[0, 0], rtol=0, atol=1e-4)
        valid = spec[i, 0, :, :n].double()
        assert valid.mean(1).abs().max() < 1e-4
        if normalize == "meanvar":
            torch.testing.assert_close(
                valid.std(1, unbiased=False), torch.ones(40).double(), atol=1e-3, rtol=0
            )
        assert not spec[i, 0, :, n:].any()
    raw, _ = LogMel(FrontendConfig(n_fft=512, hop_length=160, n_mels=40))(x, lengths)
    # a louder copy of the same audio: only the mean of each band moves, so it cancels
    louder, _ = fe(x * 3.0, lengths)
    torch.testing.assert_close(louder, spec, rtol=0, atol=5e-3)
    assert not torch.allclose(raw[0, 0, :, :10], spec[0, 0, :, :10])
    with pytest.raises(ValueError, match=r"frontend\.normalize"):
        FrontendConfig(normalize="utterance").validate()


def test_normalised_front_end_exports_to_onnx(tmp_path):
    """The export's own masked log-mel path normalises too (onnxruntime matches PyTorch)."""
    from emonet.infer.export import export_onnx

    model = create_model("emonet-tiny", frontend={"n_fft": 512, "hop_length": 160, "n_mels": 64,
                                                  "normalize": "meanvar"})  # fmt: skip
    model.add_corpus("a", LABELS_A)
    signals = [
        np.random.default_rng(n).standard_normal(n).astype(np.float32) for n in (9_000, 30_000)
    ]
    export_onnx(model.eval(), tmp_path / "m.onnx", "a", verify_signals=signals)  # raises if not


# ----------------------------------------------------------------------------- building blocks
def test_adapter_conv_shapes_zero_init_and_definition():
    torch.manual_seed(0)
    conv = AdapterConv2d(4, 8, stride=2, dropout=0.5)
    conv.add_corpus("a")
    assert conv.conv.weight.shape == (8, 4, 3, 3)
    assert conv.adapters["a"].weight.shape == (8, 4, 1, 1)
    assert torch.count_nonzero(conv.adapters["a"].weight) == 0
    x = torch.randn(2, 4, 9, 11)
    assert conv(x, "a").shape == (2, 8, 5, 6)
    # trained a little: BN_a(conv3x3(x) + adapter_a(x)) in eval mode, fused path vs definition
    with torch.no_grad():
        conv.adapters["a"].weight.normal_()
        bn = conv.bns["a"]
        bn.running_mean.normal_()
        bn.running_var.uniform_(0.5, 2.0)
        bn.weight.normal_()
        bn.bias.normal_()
    conv.eval()
    with torch.no_grad():
        want = bn(
            torch.nn.functional.conv2d(x, conv.conv.weight, stride=2, padding=1)
            + torch.nn.functional.conv2d(x, conv.adapters["a"].weight, stride=2)
        )
        torch.testing.assert_close(conv(x, "a"), want, rtol=1e-5, atol=1e-5)
        # the folded inference kernel is cached; changing any weight or statistic refreshes it
        for tensor in (conv.conv.weight, conv.adapters["a"].weight, bn.running_var, bn.bias):
            tensor.mul_(1.5)
            want = bn(
                torch.nn.functional.conv2d(x, conv.conv.weight, stride=2, padding=1)
                + torch.nn.functional.conv2d(x, conv.adapters["a"].weight, stride=2)
            )
            torch.testing.assert_close(conv(x, "a"), want, rtol=1e-5, atol=1e-5)
    with torch.autocast("cpu", dtype=torch.bfloat16), torch.no_grad():
        torch.testing.assert_close(conv(x, "a").float(), want, rtol=0.05, atol=0.05)
    # a new corpus copies a's batch norm, starts with zero adapters
    conv.add_corpus("b", like="a")
    for key, value in conv.bns["a"].state_dict().items():
        assert torch.equal(conv.bns["b"].state_dict()[key], value)
    assert torch.count_nonzero(conv.adapters["b"].weight) == 0
    core = AdapterConv2d(4, 8, adapters=False)
    core.add_corpus("a")
    assert core.adapters is None and [n for n, _ in core.named_parameters()] == [
        "conv.weight",
        "bns.a.weight",
        "bns.a.bias",
    ]


def test_low_rank_adapters_factorise_the_1x1_kernel_where_that_saves_weights():
    torch.manual_seed(0)
    conv = AdapterConv2d(16, 32, stride=2, dropout=0.5, adapter_rank=4)
    conv.add_corpus("a")
    adapter = conv.adapters["a"]
    assert isinstance(adapter, LowRankAdapter)
    assert (adapter.up.shape, adapter.down.shape) == ((32, 4), (4, 16))  # 192 weights, not 512
    assert adapter.weight.shape == (32, 16, 1, 1) and torch.count_nonzero(adapter.weight) == 0
    small = AdapterConv2d(4, 8, adapter_rank=4)  # 4·(4 + 8) = 48 ≥ 32: the full kernel is smaller
    small.add_corpus("a")
    assert isinstance(small.adapters["a"], torch.nn.Conv2d)
    # trained: the factors' product is the adapter, in training (separate, dropout) and inference
    x = torch.randn(3, 16, 9, 11)
    conv(x, "a").square().mean().backward()
    assert adapter.up.grad.abs().sum() > 0  # zero `up`, random `down`: the product can move
    with torch.no_grad():
        adapter.up.normal_()
        bn = conv.bns["a"]
        bn.running_mean.normal_()
        bn.running_var.uniform_(0.5, 2.0)
    conv.eval()
    with torch.no_grad():
        kernel = (adapter.up @ adapter.down)[:, :, None, None]
        want = bn(
            torch.nn.functional.conv2d(x, conv.conv.weight, stride=2, padding=1)
            + torch.nn.functional.conv2d(x, kernel, stride=2)
        )
        torch.testing.assert_close(conv(x, "a"), want, rtol=1e-5, atol=1e-5)
        adapter.down.mul_(2.0)  # the cached folded kernel follows either factor
        want = bn(
            torch.nn.functional.conv2d(x, conv.conv.weight, stride=2, padding=1)
            + torch.nn.functional.conv2d(x, 2 * kernel, stride=2)
        )
        torch.testing.assert_close(conv(x, "a"), want, rtol=1e-5, atol=1e-5)


def test_a_low_rank_model_trains_counts_and_saves_its_factors(tmp_path):
    # a whole model: adapters mode trains the factors, counted as adapters; checkpoints keep them
    model = create_model("emonet-tiny", adapter_rank=4)
    full = create_model("emonet-tiny")
    for m in (model, full):
        m.add_corpus("a", LABELS_A)
        m.add_corpus("b", LABELS_B)
        m.set_mode("adapters", "b")
    names = [n for n, p in model.named_parameters() if p.requires_grad]
    assert any(n.endswith("adapters.b.up") for n in names)
    assert all(model.is_adapter_parameter(n) for n in names if ".adapters." in n)
    per, per_full = (m.parameter_counts()["corpora"]["b"] for m in (model, full))
    assert per["adapters"] < per_full["adapters"] / 2 and per["head"] == per_full["head"]
    with torch.no_grad():
        for n, p in model.named_parameters():
            if model.is_adapter_parameter(n):
                p.normal_()
    loaded = load_checkpoint(save_checkpoint(model, tmp_path / "ck"))
    assert loaded.config.adapter_rank == 4
    a, b = model.state_dict(), loaded.state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    model.eval()
    x = torch.randn(2, 16_000)
    with torch.no_grad():
        assert torch.equal(model(x, None, "b"), loaded(x, None, "b"))
    from emonet.infer.export import export_onnx  # the graph computes the product too

    signals = [np.random.default_rng(n).standard_normal(n).astype(np.float32) for n in (9_000,)]
    export_onnx(model, tmp_path / "m.onnx", "b", verify_signals=signals)  # raises if not equal
    with pytest.raises(ModelConfigError, match="adapter_rank: must be positive"):
        create_model("emonet-tiny", adapter_rank=0)
    with pytest.raises(ModelConfigError, match="adapter_rank: only a model with adapters"):
        create_model("emonet-tiny", adapter_rank=4, adapters=False)


def test_adapter_dropout_acts_on_the_adapter_input_only():
    torch.manual_seed(0)
    conv = AdapterConv2d(3, 5, dropout=0.5)
    conv.add_corpus("a")
    x = torch.randn(2, 3, 6, 6)
    conv.train()
    y0 = conv(x, "a").detach()  # adapter is zero: dropout cannot change anything
    y1 = conv(x, "a").detach()
    torch.testing.assert_close(y0, y1)
    with torch.no_grad():
        conv.adapters["a"].weight.normal_()
    assert not torch.allclose(conv(x, "a"), conv(x, "a"))


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_fast_dropout_mask_has_the_right_distribution(p):
    from emonet.model.adapters import drop_unscaled

    torch.manual_seed(0)
    x = torch.ones(8, 16, 32, 40).contiguous(memory_format=torch.channels_last)
    y, factor = drop_unscaled(x, p)
    assert factor == pytest.approx(1 / (1 - p))
    assert y.is_contiguous(memory_format=torch.channels_last)
    assert set(torch.unique(y).tolist()) == {0.0, 1.0}
    assert abs((y == 0).float().mean().item() - p) < 0.005  # 163,840 draws: 5 sigma ~ 0.006
    per_channel = (y == 0).float().mean((0, 2, 3))  # no layout artefacts across channels
    assert (per_channel - p).abs().max() < 0.05
    torch.manual_seed(0)
    assert torch.equal(drop_unscaled(x, p)[0], y)  # seeded like any torch RNG


def test_new_corpus_on_a_loaded_model_starts_as_the_first_corpus(tmp_path):
    torch.manual_seed(0)
    model = create_model("emonet-tiny")
    model.add_corpus("a", LABELS_A)
    model.train()
    for _ in range(2):  # move the BN statistics away from their initial values
        model(torch.randn(4, 20_000), None, "a")
    save_checkpoint(model, tmp_path / "ck")
    loaded = load_checkpoint(tmp_path / "ck")
    loaded.add_corpus("b", LABELS_B)
    assert list(loaded.corpora) == ["a", "b"]
    state = loaded.state_dict()
    for name, value in state.items():
        if ".bns.b." in name or ".final_bns.b." in name:
            assert torch.equal(value, state[name.replace(".b.", ".a.")]), name
        if ".adapters.b." in name:
            assert torch.count_nonzero(value) == 0
    x = torch.randn(2, 20_000)
    with torch.no_grad():
        fa, _ = loaded.features(x, None, "a")
        fb, _ = loaded.features(x, None, "b")
    torch.testing.assert_close(fa, fb, rtol=0, atol=0)
    assert loaded(x, None, "b").shape == (2, 2)
    fresh = create_model("emonet-tiny")
    fresh.add_corpus("x", LABELS_A)
    assert torch.equal(fresh.backbone.final_bns["x"].running_var, torch.ones(64))


def test_new_corpus_can_start_from_another_corpus_head():
    """head_like copies the pooling, hidden layer and its batch norm of ``like``; the output layer
    (another label set) stays new, and without head_like the whole head is new."""
    torch.manual_seed(0)
    model = create_model("emonet-tiny")
    model.add_corpus("a", LABELS_A)
    model.add_corpus("z", LABELS_B)
    with torch.no_grad():
        for p in model.heads["z"].parameters():
            p.add_(1.0)  # make z's head differ from a's
    model.add_corpus("b", LABELS_B, like="z", head_like=True)
    model.add_corpus("c", LABELS_B, like="z")
    z, b, c = (model.heads[n].state_dict() for n in "zbc")
    copied = [k for k in z if not k.startswith("classifier.fc2.")]
    assert any(k.startswith("pool.") for k in copied) and "classifier.bn.running_var" in copied
    for k in copied:
        assert torch.equal(b[k], z[k]), k
    assert not torch.equal(b["classifier.fc2.weight"], z["classifier.fc2.weight"])
    assert not torch.equal(c["pool.proj.weight"], z["pool.proj.weight"])
    assert not torch.equal(c["classifier.fc1.weight"], z["classifier.fc1.weight"])


# ----------------------------------------------------------------------------- masking and heads
@pytest.mark.parametrize("filler", ["zeros", "junk"])
def test_padding_does_not_change_the_attention_output_of_a_shorter_item(filler):
    torch.manual_seed(0)
    model = create_model("emonet-tiny")
    model.add_corpus("a", LABELS_A)
    model.eval()
    short = torch.randn(1, 13_000)
    with torch.no_grad():
        alone = model(short, torch.tensor([13_000]), "a")
        emb_alone = model.embed(short, torch.tensor([13_000]), "a")
        pad = torch.zeros(1, 20_000) if filler == "zeros" else torch.randn(1, 20_000) * 10
        batch = torch.cat([torch.cat([short, pad], 1), torch.randn(1, 33_000)])
        both = model(batch, torch.tensor([13_000, 33_000]), "a")
        emb_both = model.embed(batch, torch.tensor([13_000, 33_000]), "a")
    torch.testing.assert_close(both[0], alone[0], rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(emb_both[0], emb_alone[0], rtol=1e-4, atol=1e-5)


def test_avgpool_predict_logits_is_the_mean_of_window_logits():
    torch.manual_seed(0)
    model = create_model("emonet-tiny", head="avgpool", window=2.0)
    model.add_corpus("a", LABELS_A)
    model.eval()
    size, hop = 32_000, 16_000
    long, short = torch.randn(75_000), torch.randn(9_000)
    waves = torch.zeros(2, 75_000)
    waves[0], waves[1, :9_000] = long, short
    with torch.no_grad():
        got = model.predict_logits(waves, torch.tensor([75_000, 9_000]), "a", batch_size=3)
        by_hand = []
        for start in (0, 16_000, 32_000, 48_000):  # 1 + ceil((75000 - 32000) / 16000) windows
            piece = long[start : start + size]
            n = len(piece)
            piece = torch.nn.functional.pad(piece, (0, size - n))
            by_hand.append(model(piece[None], torch.tensor([n]), "a"))
        want_long = torch.cat(by_hand).mean(0)
        want_short = model(short[None], torch.tensor([9_000]), "a")[0]
    assert hop == size // 2
    torch.testing.assert_close(got[0], want_long, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(got[1], want_short, rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="at most"):
        model(torch.randn(1, 40_000), None, "a")


def test_windowing_lives_in_the_model_and_forward_masked_matches_forward():
    torch.manual_seed(0)
    model = create_model("emonet-tiny", head="avgpool", window=2.0)
    model.add_corpus("a", LABELS_A)
    model.eval()
    starts, lengths, owner, counts = model.window_plan(torch.tensor([75_000, 9_000]))
    assert starts.tolist() == [0, 16_000, 32_000, 48_000, 0]
    assert lengths.tolist() == [32_000, 32_000, 32_000, 27_000, 9_000]
    assert owner.tolist() == [0, 0, 0, 0, 1] and counts.tolist() == [4, 1]
    waves = torch.randn(2, 75_000)
    lens = torch.tensor([75_000, 9_000])
    segments, seg_lengths, _, _ = model.windows(waves, lens)
    assert segments.shape == (5, 32_000)
    grid, _, valid, n_win = model.window_grid(waves, lens)
    assert grid.shape == (2 * 4, 32_000)
    assert valid.sum().item() == 5 and n_win.tolist() == [4, 1]
    with torch.no_grad():
        eager = model(segments, seg_lengths, "a")
        masked = model.forward_masked(segments, seg_lengths, "a")
        emb = model.predict_embeddings(waves, lens, "a")
    torch.testing.assert_close(masked, eager, rtol=1e-4, atol=1e-5)
    assert emb.shape == (2, model.embed_dim) and emb.dtype == torch.float32
    attention = create_model("emonet-tiny")
    attention.add_corpus("a", LABELS_A)
    attention.eval()
    with torch.no_grad():
        x = torch.randn(2, 20_000)
        want = attention(x, torch.tensor([20_000, 13_000]), "a")
        got = attention.forward_masked(x, torch.tensor([20_000, 13_000]), "a")
    torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-5)


def test_attention_head_takes_any_length_and_embed_shape():
    model = create_model("emonet-tiny")
    model.add_corpus("a", LABELS_A)
    model.eval()
    with torch.no_grad():
        for n in (500, 16_000, 100_000):
            assert model(torch.randn(2, n), None, "a").shape == (2, 3)
        assert model.embed(torch.randn(2, 16_000), None, "a").shape == (2, model.embed_dim)
        logits = model.predict_logits(torch.randn(2, 50_000), torch.tensor([50_000, 20_000]), "a")
    assert logits.shape == (2, 3)


# ----------------------------------------------------------------------------- modes
def two_corpus_model(**overrides) -> EmoNet:
    torch.manual_seed(0)
    model = create_model("emonet-tiny", **overrides)
    model.add_corpus("a", LABELS_A)
    model.add_corpus("b", LABELS_B)
    return model


def trainable(model: EmoNet) -> set[str]:
    return {n for n, p in model.named_parameters() if p.requires_grad}


def expected_trainable(model: EmoNet, mode: str, corpora: list[str]) -> set[str]:
    """The rule of each mode, written from parameter-name patterns."""
    names = [n for n, _ in model.named_parameters()]
    own = {n for n in names if re.search(r"\.(adapters|bns|final_bns)\.(\w+)\.|^heads\.(\w+)\.", n)}
    shared = set(names) - own

    def of(c: str) -> set[str]:
        return {n for n in own if f".{c}." in f".{n}"}

    mine = set().union(*(of(c) for c in corpora))
    if mode in ("scratch", "finetune", "multi"):
        return shared | mine
    if mode == "last-layer":
        return {n for n in mine if n.startswith("heads.")}
    return mine  # adapters


MODE_CASES = [
    ("scratch", "a"),
    ("finetune", "b"),
    ("multi", ["a", "b"]),
    ("last-layer", "b"),
    ("adapters", "b"),
]


@pytest.mark.parametrize(("mode", "corpus"), MODE_CASES)
def test_mode_trains_exactly_its_parameters(mode, corpus):
    model = two_corpus_model()
    corpora = [corpus] if isinstance(corpus, str) else corpus
    model.set_mode(mode, corpus)
    want = expected_trainable(model, mode, corpora)
    assert trainable(model) == want
    names = trainable(model)
    if mode == "adapters":
        assert all(model.corpus_of_parameter(n) == "b" for n in names)
        assert any(model.is_adapter_parameter(n) for n in names)
        assert any(".bns.b." in n for n in names) and any(n.startswith("heads.b.") for n in names)
    if mode == "last-layer":
        assert names and all(n.startswith("heads.b.") for n in names)
        assert any(".pool." in n for n in names) and any(".classifier." in n for n in names)

    # one SGD step changes exactly the trainable tensors (and the running stats of the BNs in
    # training mode: those of the trained corpora, unless frozen)
    model.train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    torch.manual_seed(1)
    for c in corpora:
        labels = torch.randint(0, len(model.corpora[c]), (4,))
        loss = torch.nn.functional.cross_entropy(model(torch.randn(4, 20_000), None, c), labels)
        opt.zero_grad()
        loss.backward()
        model.drop_other_corpus_grads(c)
        opt.step()
    after = model.state_dict()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    params = {n for n, _ in model.named_parameters()}
    assert {k for k in changed if k in params} == want
    stats = {k for k in changed if k not in params}
    for k in stats:  # running statistics: only BNs that are trainable (training mode) move
        assert k.rsplit(".", 1)[0] + ".weight" in want, k
    if mode == "last-layer":
        assert all(k.startswith("heads.b.") for k in stats)
    else:
        assert any(".bns." in k for k in stats)


def test_frozen_batch_norms_stay_in_inference_mode():
    model = two_corpus_model()
    model.set_mode("last-layer", "a")
    model.train()
    bn = model.backbone.stages[0][0].conv1.bns["a"]
    assert not bn.training and not model.backbone.final_bns["a"].training
    assert model.heads["a"].classifier.bn.training  # the head's own BN trains
    assert not model.backbone.stem.training  # frozen adapter convs: no dropout either
    model.set_mode("adapters", "a")
    assert bn.training and not model.backbone.stages[0][0].conv1.bns["b"].training
    model.eval()
    assert not bn.training


def test_mode_errors_and_corpus_added_under_a_mode_is_frozen():
    model = two_corpus_model()
    with pytest.raises(ValueError, match="mode 'fly'"):
        model.set_mode("fly", "a")
    with pytest.raises(KeyError, match="'c'"):
        model.set_mode("scratch", "c")
    with pytest.raises(ValueError, match="one corpus"):
        model.set_mode("finetune", ["a", "b"])
    core = create_model("emonet-tiny", adapters=False)
    core.add_corpus("a", LABELS_A)
    with pytest.raises(ValueError, match="without adapters"):
        core.set_mode("adapters", "a")
    model.set_mode("adapters", "a")
    model.add_corpus("c", LABELS_B)
    assert not any(model.corpus_of_parameter(n) == "c" for n in trainable(model))
    with pytest.raises(ValueError, match="already"):
        model.add_corpus("c", LABELS_B)
    with pytest.raises(ValueError, match="corpus name"):
        model.add_corpus("bad.name", LABELS_B)


def test_drop_other_corpus_grads():
    model = two_corpus_model()
    model.set_mode("multi", ["a", "b"])
    for p in model.parameters():
        p.grad = torch.ones_like(p)
    model.drop_other_corpus_grads("a")
    for name, p in model.named_parameters():
        owner = model.corpus_of_parameter(name)
        assert (p.grad is None) == (owner == "b"), name
    assert model.corpus_of_parameter("backbone.stages.0.0.conv1.conv.weight") is None
    assert model.corpus_of_parameter("heads.b.classifier.fc2.bias") == "b"
    assert model.is_adapter_parameter("backbone.stem.adapters.a.weight")
    assert not model.is_adapter_parameter("backbone.stem.bns.a.weight")


def test_shared_pooling_option():
    model = two_corpus_model(share_pooling=True)
    assert model.corpus_of_parameter("pool.proj.weight") is None
    assert model.heads["a"].pool is None
    model.set_mode("last-layer", "a")
    assert trainable(model) == {n for n, _ in model.named_parameters() if n.startswith("heads.a.")}


@pytest.mark.parametrize("share_pooling", [False, True])
def test_head_and_attention_widths(share_pooling):
    model = create_model(
        "emonet-tiny", head_hidden=5, attention_hidden=4, share_pooling=share_pooling
    )
    model.add_corpus("a", ["x", "y", "z"])
    fc1, fc2 = model.heads["a"].classifier.fc1, model.heads["a"].classifier.fc2
    assert (fc1.out_features, fc2.in_features, fc2.out_features) == (5, 5, 3)
    pool = model.pool if share_pooling else model.heads["a"].pool
    assert (pool.proj.in_features, pool.proj.out_features) == (model.embed_dim, 4)
    assert model(torch.randn(2, 8000), torch.tensor([8000, 5000]), "a").shape == (2, 3)
    reference = create_model("emonet-tiny")
    reference.add_corpus("a", ["x", "y", "z"])
    assert reference.heads["a"].classifier.fc1.out_features == reference.embed_dim // 2
    assert reference.heads["a"].pool.proj.out_features == reference.embed_dim
    for key in ("head_hidden", "attention_hidden"):
        with pytest.raises(ModelConfigError, match=key):
            create_model("emonet-tiny", **{key: 0})
    # the avgpool head has no attention: its settings are refused, not silently ignored
    for key, value in {
        "attention_hidden": 4,
        "attention_scale": 0.5,
        "share_pooling": True,
    }.items():
        with pytest.raises(ModelConfigError, match=f"{key}: only the attention head"):
            create_model("emonet-wrn", **{key: value})


# ----------------------------------------------------------------------------- registry
def test_registry_names_and_override_errors():
    names = [s.name for s in list_models()]
    assert {"emonet-wrn", "emonet-resnet26", "emonet-wrn-attention", "emonet-tiny"} <= set(names)
    with pytest.raises(KeyError, match="emonet-wrn") as unknown:  # a KeyError, as it was
        create_model("resnet-9000")
    assert isinstance(unknown.value, EmoNetError)
    assert str(unknown.value).startswith("unknown model 'resnet-9000'")  # no KeyError quotes
    with pytest.raises(ModelConfigError, match="widht"):
        create_model("emonet-tiny", widht=2)
    with pytest.raises(ModelConfigError, match="head"):
        create_model("emonet-tiny", head="max")
    with pytest.raises(ModelConfigError, match="filters: must be positive"):
        create_model("emonet-tiny", filters=0)  # the config's own check, as a user error
    assert issubclass(ModelConfigError, ValueError) and issubclass(ModelConfigError, EmoNetError)
    model = create_model("emonet-tiny", **{"frontend.n_mels": 64}, filters=4)
    assert model.config.frontend.n_mels == 64 and model.config.filters == 4
    assert create_model("emonet-n2").config == create_model("emonet-wrn").config
    assert json.loads(json.dumps(__import__("dataclasses").asdict(model.config)))


# ----------------------------------------------------------------------------- checkpoints
def test_checkpoint_round_trip_is_bit_exact(tmp_path):
    model = two_corpus_model()
    model.train()
    model(torch.randn(3, 20_000), None, "b")  # non-trivial running statistics
    with torch.no_grad():
        for n, p in model.named_parameters():
            if model.is_adapter_parameter(n):
                p.normal_()
    folder = save_checkpoint(model, tmp_path / "ck", extra={"note": "hello", "epoch": 3})
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "model.safetensors"]
    meta = read_checkpoint_config(folder)
    assert meta["corpora"] == [{"name": "a", "labels": LABELS_A}, {"name": "b", "labels": LABELS_B}]
    assert meta["frontend"]["n_mels"] == 128 and meta["name"] == "emonet-tiny"
    loaded = load_checkpoint(folder, labels={"b": LABELS_B})
    assert loaded.checkpoint_extra == {"note": "hello", "epoch": 3}
    assert loaded.config == model.config and loaded.corpora == model.corpora
    a, b = model.state_dict(), loaded.state_dict()
    assert a.keys() == b.keys()
    for k in a:
        assert a[k].dtype == b[k].dtype and torch.equal(a[k], b[k]), k
    model.eval()
    x = torch.randn(2, 30_000)
    with torch.no_grad():
        for c in ("a", "b"):
            assert torch.equal(model(x, None, c), loaded(x, None, c))
    # the same weights always make the same file, so its digest identifies them (runs record
    # their teachers' and init's digests); safetensors writes metadata in hash order
    again = [
        save_checkpoint(model, tmp_path / f"again-{i}") / "model.safetensors" for i in range(8)
    ]
    assert {p.read_bytes() for p in again} == {(folder / "model.safetensors").read_bytes()}


def test_checkpoint_errors(tmp_path):
    from safetensors.torch import load_file, save_file

    with pytest.raises(CheckpointError, match="not found"):
        load_checkpoint(tmp_path / "nothing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CheckpointError, match=r"config\.json"):
        load_checkpoint(tmp_path / "empty")
    model = two_corpus_model()
    folder = save_checkpoint(model, tmp_path / "ck")
    with pytest.raises(CheckpointError, match=r"labels \['happy', 'sad'\], expected"):
        load_checkpoint(folder, labels={"b": ["sad", "happy"]})
    with pytest.raises(CheckpointError, match="no corpus 'z'"):
        load_checkpoint(folder, labels={"z": ["x"]})

    weights = folder / "model.safetensors"
    tensors = load_file(str(weights))
    victim = "backbone.stages.1.0.conv2.adapters.b.weight"
    save_file({k: v for k, v in tensors.items() if k != victim}, str(weights))
    with pytest.raises(CheckpointError, match="SHA-256"):  # rewritten after saving
        load_checkpoint(folder)
    # without the digest (as written before it existed) the structural checks speak
    config = folder / "config.json"
    config.write_text(json.dumps({**json.loads(config.read_text()), "weights": None}))
    with pytest.raises(CheckpointError, match=re.escape(victim)):
        load_checkpoint(folder)
    save_file({**tensors, "extra.weight": torch.zeros(1)}, str(weights))
    with pytest.raises(CheckpointError, match=r"unexpected tensor.*extra\.weight"):
        load_checkpoint(folder)
    save_file({**tensors, victim: torch.zeros(1, 1, 1, 1)}, str(weights))
    with pytest.raises(CheckpointError, match=f"{re.escape(victim)} has shape"):
        load_checkpoint(folder)

    meta = json.loads(config.read_text())
    config.write_text(json.dumps({**meta, "architecture": "wav2vec2"}))
    with pytest.raises(CheckpointError, match="architecture 'wav2vec2'"):
        load_checkpoint(folder)
    config.write_text(json.dumps({**meta, "format_version": 99}))
    with pytest.raises(CheckpointError, match="version 99"):
        load_checkpoint(folder)
    config.write_text(json.dumps({**meta, "config": {**meta["config"], "depth": 3}}))
    with pytest.raises(CheckpointError, match="depth"):
        load_checkpoint(folder)


def test_an_edited_model_section_is_refused(tmp_path):
    """n_mels, the hop or the label order in config.json change no tensor shape but every
    prediction: the model section's SHA-256 is stored with the weights and checked on load."""
    folder = save_checkpoint(two_corpus_model(), tmp_path / "ck")
    config = folder / "config.json"
    meta = json.loads(config.read_text())
    assert len(meta["weights"]["config_sha256"]) == 64
    load_checkpoint(folder)  # untouched: loads
    edits = {
        "n_mels": lambda m: m["config"]["frontend"].update(n_mels=64),
        "hop": lambda m: m["config"]["frontend"].update(hop_length=256),
        "labels": lambda m: m["corpora"][1]["labels"].reverse(),
        "top-level frontend": lambda m: m["frontend"].update(f_max=4000.0),
    }
    for what, edit in edits.items():
        edited = json.loads(json.dumps(meta))
        edit(edited)
        config.write_text(json.dumps(edited, indent=2))
        with pytest.raises(CheckpointError, match="model section") as info:
            load_checkpoint(folder)
        assert str(config) in str(info.value), what
    # the same edit passes every shape check: without the digest the model loads (the hole)
    edited = json.loads(json.dumps(meta))
    edited["config"]["frontend"]["n_mels"] = 64
    del edited["weights"]["config_sha256"]
    config.write_text(json.dumps(edited))
    assert load_checkpoint(folder).config.frontend.n_mels == 64
    # editing name or extra does not change what the weights mean
    config.write_text(json.dumps({**meta, "name": "renamed", "extra": {"note": 1}}))
    assert load_checkpoint(folder).checkpoint_extra == {"note": 1}


# ----------------------------------------------------------------------------- parameter counts
def test_parameter_counts_match_the_tf_reference():
    """DESIGN.md: single model 3.91 M (2.71 M in 3×3 convs); each extra corpus 0.30 M adapters +
    8 k BN + head; shared attention model for 26 corpora 4.7× a single attention model, 3.5×
    (paper) a single avgpool model. TF counts BN running statistics as parameters; tolerance:
    the reference's rounding (half a unit of its last digit)."""
    single = create_model("emonet-wrn", adapters=False)
    single.add_corpus("c0", [f"l{i}" for i in range(7)])
    counts = single.parameter_counts()
    assert abs(counts["total"] + counts["bn_statistics"] - 3.91e6) <= 0.005e6
    assert abs(counts["shared_conv3x3"] - 2.71e6) <= 0.005e6

    multi = create_model("emonet-wrn")
    for i in range(2):
        multi.add_corpus(f"c{i}", [f"l{j}" for j in range(7)])
    per = multi.parameter_counts()["corpora"]["c1"]
    assert abs(per["adapters"] - 0.30e6) <= 0.005e6
    assert abs(2 * per["batch_norm"] - 8e3) <= 0.5e3  # γ, β + running mean, var

    def total(n: int, **kw) -> int:
        m = create_model("emonet-wrn", **kw)
        for i in range(n):
            m.add_corpus(f"c{i}", [f"l{j}" for j in range(7)])
        return m.parameter_counts()["total"]

    shared_attention = total(26, head="attention")
    like_for_like = shared_attention / total(1, head="attention", adapters=False)
    paper = shared_attention / total(1, adapters=False)
    assert round(like_for_like, 1) == 4.7
    assert 3.35 <= paper <= 3.55


def test_model_info_cli():
    out = subprocess.run(
        [sys.executable, "-m", "emonet", "model-info", "emonet-wrn", "--classes", "7"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**__import__("os").environ, "COLUMNS": "200"},
    )
    assert out.returncode == 0, out.stderr
    text = out.stdout
    for mode in ("scratch", "multi", "finetune", "last-layer", "adapters"):
        assert re.search(rf"│ {mode}\s+│", text), mode
    assert "3,901,287" in text and "2,709,792" in text and "301,088" in text
    assert "4.71×" in text and "3.40×" in text and "26 corpora" in text
    bad = subprocess.run(
        [sys.executable, "-m", "emonet", "model-info", "--set", "widht=2"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    lines = bad.stderr.strip().splitlines()
    assert bad.returncode == 2 and len(lines) == 1 and "widht" in lines[0], bad.stderr


@pytest.mark.parametrize("mode", ["scratch", "adapters"])
def test_the_training_forward_compiles_into_one_graph(mode):
    """engine.compile pays only without graph breaks: Dynamo (torch._dynamo.explain, no code
    generation) must trace the training forward whole, padded batches and adapter dropout too."""
    model = create_model("emonet-tiny", window=2.0)
    model.add_corpus("a", ["x", "y"])
    model.add_corpus("b", ["x", "y", "z"])
    model.set_mode(mode, "b")
    model.train()
    waves = torch.randn(4, 32_000)
    for lengths in (None, torch.tensor([32_000, 20_000, 32_000, 16_000])):
        torch._dynamo.reset()
        explained = torch._dynamo.explain(model)(waves, lengths, "b")
        assert explained.graph_break_count == 0, [str(b.reason) for b in explained.break_reasons]
