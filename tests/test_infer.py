"""Using a trained model: Predictor, segments of long recordings, streaming reader, embeddings,
ONNX export and the ``predict``/``export`` commands, on real EmoDB files where speech is needed."""

from __future__ import annotations

import json
import subprocess
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
import soxr
import torch
from typer.testing import CliRunner

import emonet
from emonet import audio
from emonet.cli import app
from emonet.infer import Embeddings, Predictor, PredictorError, collect_audio_files, segment_bounds
from emonet.model import create_model, save_checkpoint
from emonet.model.scoring import softmax

EMODB_LABELS = ["anger", "boredom", "disgust", "fear", "happiness", "sadness", "neutral"]
SR = audio.SAMPLE_RATE


def _model(**overrides):
    """emonet-tiny with the EmoDB head and non-trivial batch-norm statistics (untrained)."""
    torch.manual_seed(0)
    model = create_model("emonet-tiny", **overrides)
    model.add_corpus("emodb", EMODB_LABELS)
    for m in model.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.running_mean.normal_(0, 0.2)
            m.running_var.uniform_(0.5, 2.0)
    return model.eval()


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    return save_checkpoint(_model(), tmp_path_factory.mktemp("ckpt") / "best")


@pytest.fixture(scope="module")
def model(checkpoint):
    return emonet.load(checkpoint)


def _direct(model, x: np.ndarray) -> np.ndarray:
    """Probabilities of one 16-kHz signal, straight through the model."""
    with torch.no_grad():
        logits = model.predict_logits(torch.from_numpy(x)[None], torch.tensor([len(x)]), "emodb")
    return softmax(logits.numpy())[0]


def _probs(table: pd.DataFrame) -> np.ndarray:
    return table[[f"p_{label}" for label in EMODB_LABELS]].to_numpy()


def _emodb_files(emodb_dir: Path, n: int) -> list[Path]:
    return sorted((emodb_dir / "wav").glob("*.wav"))[:: 535 // n][:n]


def _emodb_clips(emodb_dir: Path, folder: Path, n: int, seconds: float) -> list[Path]:
    """``n`` real EmoDB utterances cut to exactly ``seconds`` (16-kHz float WAVs in ``folder``).

    EmoDB's own lengths vary (1.2-9.0 s), so tests that need known segment counts make them."""
    size = int(seconds * SR)
    out = []
    for f in sorted((emodb_dir / "wav").glob("*.wav"))[::37]:
        x = audio.load(f)
        if len(x) >= size:
            out.append(folder / f"{f.stem}-{seconds:g}s.wav")
            sf.write(out[-1], x[:size], SR, subtype="FLOAT")
        if len(out) == n:
            return out
    raise AssertionError(f"fewer than {n} EmoDB files of {seconds} s or more")


# -- loading --------------------------------------------------------------------------------


def test_load_knows_corpora_and_is_lazy(checkpoint, tmp_path):
    model = emonet.load(checkpoint)
    assert model.corpora == {"emodb": EMODB_LABELS}
    assert not model.training
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    save_checkpoint(model, run / "checkpoints" / "best")
    assert emonet.load(run).corpora == model.corpora  # a run folder means its best checkpoint
    with pytest.raises(FileNotFoundError, match="neither a checkpoint"):
        emonet.load(tmp_path)
    code = "import sys, emonet; assert callable(emonet.load); assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_corpus_must_be_named_when_the_model_has_several(checkpoint):
    model = emonet.load(checkpoint)
    model.add_corpus("other", ["a", "b"])
    with pytest.raises(PredictorError, match="emodb, other"):  # a ValueError too, as it was
        Predictor(model)
    with pytest.raises(ValueError, match="'nope' is not in the model"):
        Predictor(model, corpus="nope")
    assert Predictor(model, corpus="other").labels == ["a", "b"]


# -- predictions ----------------------------------------------------------------------------


def test_predictions_equal_the_model_at_any_rate_and_channel_count(model, emodb_dir, tmp_path):
    files = _emodb_files(emodb_dir, 4)
    # real speech at a rate the model does not use (EmoDB is 16 kHz): the predictor must resample
    sr = 22050
    sf.write(tmp_path / "speech.wav", soxr.resample(audio.load(files[0]), SR, sr), sr, "FLOAT")
    native, sr = sf.read(tmp_path / "speech.wav", dtype="float32")
    assert sr != SR and native.ndim == 1
    x16 = soxr.resample(native, sr, SR, quality="HQ").astype(np.float32)
    ref = _direct(model, x16)
    wobble = (np.random.default_rng(0).standard_normal(len(x16)) * 0.005).astype(np.float32)
    variants = {
        "native.wav": (native, sr),
        "16k.wav": (x16, SR),
        "stereo.wav": (np.stack([native, native], 1), sr),
        # channels that average to 0.9 x16 (EmoDB peaks at 0.99: no clipping in 24-bit FLAC)
        "stereo-16k.flac": (np.stack([0.9 * x16 + wobble, 0.9 * x16 - wobble], 1), SR),
    }
    paths = []
    for name, (x, rate) in variants.items():
        paths.append(tmp_path / name)
        sub = "FLOAT" if name.endswith(".wav") else "PCM_24"
        sf.write(paths[-1], x, rate, subtype=sub)
    predictor = Predictor(model, batch_size=3)
    table = predictor.predict_files(paths)
    assert list(table.columns) == [
        "file",
        "prediction",
        *(f"p_{label}" for label in EMODB_LABELS),
        "duration",
        "flag",
        "error",
    ]
    assert (table["error"] == "").all() and (table["flag"] == "").all()
    assert np.abs(_probs(table)[:3] - ref).max() < 1e-6
    quiet = _direct(model, (0.9 * x16).astype(np.float32))
    assert np.abs(_probs(table)[3] - quiet).max() < 1e-4  # 24-bit FLAC quantisation
    assert np.allclose(table["duration"], len(x16) / SR)
    assert (table["prediction"] == EMODB_LABELS[int(np.argmax(ref))]).all()
    signal = predictor.predict_signal(np.stack([native, native], 1), sr)
    assert np.abs(_probs(signal)[0] - ref).max() < 1e-6

    # a batch of real files of different lengths, sorted by length inside: same as one by one
    crops = []
    for k, f in enumerate(files):
        x = audio.load(f)[: int(SR * (0.4 + 0.5 * k))]
        crops.append(tmp_path / f"crop{k}.wav")
        sf.write(crops[-1], x, SR, subtype="FLOAT")
    batched = Predictor(model, batch_size=16).predict_files(crops[::-1])
    for row, path in zip(batched.itertuples(), crops[::-1], strict=True):
        expected = _direct(model, audio.load(path))
        assert (
            np.abs(np.array([getattr(row, f"p_{lb}") for lb in EMODB_LABELS]) - expected).max()
            < 1e-6
        )


def test_folder_with_a_broken_file_gives_an_error_row(model, emodb_dir, tmp_path):
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    (folder / "__MACOSX").mkdir()
    files = _emodb_files(emodb_dir, 3)
    for i, f in enumerate(files):
        (folder / ("sub" if i else ".") / f.name).write_bytes(f.read_bytes())
    (folder / "broken.wav").write_bytes(b"RIFF\x00\x00garbage" * 50)
    (folder / ".DS_Store").write_bytes(b"\x00\x01junk")
    (folder / "__MACOSX" / "._x.wav").write_bytes(b"junk")
    (folder / "._hidden.wav").write_bytes(b"junk")
    (folder / "notes.txt").write_text("not audio")
    found = collect_audio_files([folder])
    assert sorted(p.name for p in found) == sorted(["broken.wav", *(f.name for f in files)])

    table = Predictor(model).predict_folder(folder)
    assert len(table) == 4
    bad = table[table["file"].str.endswith("broken.wav")]
    assert len(bad) == 1 and "cannot decode" in bad["error"].iloc[0]
    assert bad["prediction"].iloc[0] == "" and np.isnan(_probs(bad)).all()
    good = table[table["error"] == ""]
    assert len(good) == 3 and np.allclose(_probs(good).sum(1), 1.0)

    out = tmp_path / "pred.csv"
    result = CliRunner().invoke(app, ["predict", str(tmp_path / "ckpt-missing"), str(folder)])
    assert result.exit_code != 0
    ckpt = tmp_path / "ckpt"
    save_checkpoint(model, ckpt)
    result = CliRunner().invoke(app, ["predict", str(ckpt), str(folder), "-o", str(out)])
    assert result.exit_code == 2, result.output
    assert "broken.wav" in result.output and "3 of 4 files" in result.output
    written = pd.read_csv(out, keep_default_na=False)
    assert len(written) == 4 and (written["error"] != "").sum() == 1


def test_silence_short_files_and_empty_folders_are_flagged(model, emodb_dir, tmp_path):
    """A confident-looking answer for digital silence or a 1-sample file, or a folder that
    silently vanishes from the table, is a defect: such rows carry a flag and the CLI warns."""
    (speech,) = _emodb_clips(emodb_dir, tmp_path, 1, 2.0)
    silence = tmp_path / "silence.flac"
    sf.write(silence, np.zeros(60 * SR, np.float32), SR)  # a minute of digital silence
    one = tmp_path / "one.wav"
    sf.write(one, np.array([0.5], np.float32), SR, subtype="FLOAT")
    empty = tmp_path / "empty"
    (empty / "sub").mkdir(parents=True)
    (empty / "notes.txt").write_text("no audio here")
    assert collect_audio_files([empty]) == []  # the default is unchanged
    files = collect_audio_files([speech, silence, one, empty], keep_empty=True)
    assert files == [speech, silence, one, empty]

    predictor = Predictor(model)
    table = predictor.predict_files(files)
    assert list(table["flag"]) == ["", "silent", "too short", "no audio"]
    assert (table["error"] == "").all()
    assert table["prediction"].iloc[1] != ""  # the model does answer for silence: hence the flag
    assert table["prediction"].iloc[3] == "" and np.isnan(_probs(table)[3]).all()

    # the thresholds: one time step of the final feature map; a peak of -60 dBFS
    x = audio.load(speech)
    n = predictor.min_samples
    assert n == 1024 + 7 * 512  # n_fft + (2**3 - 1) hops
    assert predictor.flag(x[:n]) == "" and predictor.flag(x[: n - 1]) == "too short"
    quiet = (x / np.abs(x).max() * 0.9e-3).astype(np.float32)
    assert predictor.flag(quiet) == "silent" and predictor.flag(quiet * 1.2) == ""
    assert list(predictor.predict_signal(np.zeros(SR, np.float32), SR)["flag"]) == ["silent"]

    # segments are flagged one by one; the file row by the whole file
    mixed = np.concatenate([x, np.zeros(2 * SR, np.float32)])
    seg = Predictor(model, window=1.0).predict_signal(mixed, SR)
    assert list(seg["flag"]) == ["", "", "", "silent", "silent"]
    rows = Predictor(model, window=1.0).predict_files([silence, empty])
    assert list(rows.loc[rows["level"] == "file", "flag"]) == ["silent", "no audio"]

    # the command line: a row for every input, one warning line, exit code 0
    ckpt = save_checkpoint(model, tmp_path / "ckpt")
    out = tmp_path / "p.csv"
    args = ["predict", str(ckpt), str(speech), str(silence), str(one), str(empty)]
    res = CliRunner().invoke(app, [*args, "--no-progress", "-o", str(out)])
    assert res.exit_code == 0, res.output
    warnings = [line for line in res.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1, res.stderr
    for fragment in ("3 of 4 rows flagged", "silence.flac (silent)", "one.wav (too short)"):
        assert fragment in warnings[0], (fragment, warnings[0])
    assert "3 of 3 files predicted" in res.stderr
    written = pd.read_csv(out, keep_default_na=False)
    assert list(written["flag"]) == ["", "silent", "too short", "no audio"]
    res = CliRunner().invoke(app, ["predict", str(ckpt), str(speech), "--no-progress"])
    assert res.exit_code == 0 and "warning" not in res.stderr and "flag" not in res.stdout


def test_cli_writes_csv_and_jsonl_and_embeddings(model, emodb_dir, tmp_path):
    ckpt = save_checkpoint(model, tmp_path / "ckpt")
    files = [str(f) for f in _emodb_files(emodb_dir, 2)]
    runner = CliRunner()
    res = runner.invoke(
        app, ["predict", str(ckpt), *files, "--corpus", "emodb", "-o", str(tmp_path / "p.csv")]
    )
    assert res.exit_code == 0, res.output
    csv = pd.read_csv(tmp_path / "p.csv")
    emb = tmp_path / "e.parquet"
    res = runner.invoke(
        app,
        ["predict", str(ckpt), *files, "-o", str(tmp_path / "p.jsonl"), "--embeddings", str(emb)],
    )
    assert res.exit_code == 0, res.output
    lines = [json.loads(line) for line in (tmp_path / "p.jsonl").read_text().splitlines()]
    assert [r["file"] for r in lines] == files == list(csv["file"])
    assert np.allclose([r["p_anger"] for r in lines], csv["p_anger"], atol=1e-6)
    ref = _direct(model, audio.load(files[0]))
    assert np.abs(_probs(csv)[0] - ref).max() < 1e-6
    table = pd.read_parquet(emb)
    assert list(table["file"]) == files and table.shape[1] == 2 + model.embed_dim
    res = runner.invoke(app, ["predict", str(ckpt), *files])  # no --output: a table on stdout
    assert res.exit_code == 0 and "prediction" in res.output
    assert Path(files[0]).name in res.output.replace("\n", "")


# -- long recordings ------------------------------------------------------------------------


def test_segments_of_a_10s_signal(model, emodb_dir, tmp_path):
    assert segment_bounds(10 * SR, 2 * SR, SR)[-1] == (8 * SR, 10 * SR)
    assert len(segment_bounds(10 * SR, 2 * SR, SR)) == 9
    assert segment_bounds(10 * SR, 3 * SR, 2 * SR)[-1] == (8 * SR, 10 * SR)
    assert segment_bounds(SR, 3 * SR, 2 * SR) == [(0, SR)]
    speech = np.concatenate([audio.load(f) for f in _emodb_files(emodb_dir, 5)])[: 10 * SR]
    assert len(speech) == 10 * SR
    predictor = Predictor(model, window=2.0, hop=1.0, batch_size=4)
    table = predictor.predict_signal(speech, SR, name="ten")
    assert list(table.columns[:4]) == ["file", "level", "start", "end"]
    seg = table[table["level"] == "segment"]
    assert list(seg["start"]) == [float(s) for s in range(9)]
    assert list(seg["end"]) == [float(s + 2) for s in range(9)]
    assert np.allclose(seg["duration"], 2.0)
    whole = table[table["level"] == "file"]
    assert len(whole) == 1 and (whole["start"].iloc[0], whole["end"].iloc[0]) == (0.0, 10.0)
    assert np.allclose(_probs(whole)[0], _probs(seg).mean(0))
    for k in (0, 4, 8):
        expected = _direct(model, speech[k * SR : (k + 2) * SR])
        assert np.abs(_probs(seg)[k] - expected).max() < 1e-6

    # the same signal from a 44.1-kHz file, streamed in small blocks: same segments
    path = tmp_path / "ten.flac"
    sf.write(path, soxr.resample(speech, SR, 44100), 44100, subtype="PCM_24")
    streamed = Predictor(model, window=3.0, hop=2.0, block_seconds=0.7).predict_file(path)
    seg = streamed[streamed["level"] == "segment"]
    assert list(zip(seg["start"], seg["end"], strict=True)) == [
        (0.0, 3.0),
        (2.0, 5.0),
        (4.0, 7.0),
        (6.0, 9.0),
        (8.0, 10.0),
    ]
    in_memory = Predictor(model, window=3.0, hop=2.0).predict_signal(audio.load(path), SR)
    assert np.abs(_probs(streamed) - _probs(in_memory)).max() < 1e-6


def test_long_file_is_processed_in_bounded_memory(model, tmp_path, monkeypatch):
    minutes = 20
    path = tmp_path / "long.wav"
    rng = np.random.default_rng(0)
    with sf.SoundFile(path, "w", SR, 1, subtype="PCM_16") as f:
        for _ in range(minutes):
            f.write((rng.standard_normal(60 * SR) * 0.05).astype(np.float32))
    blocks = []
    real_stream = audio.stream

    def counting_stream(p, block_seconds, *rate):
        for b in real_stream(p, block_seconds, *rate):
            blocks.append(len(b))
            yield b

    monkeypatch.setattr(audio, "stream", counting_stream)
    predictor = Predictor(model, window=1.0, hop=60.0, block_seconds=10.0)
    tracemalloc.start()
    try:
        table = predictor.predict_file(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    whole_file = minutes * 60 * SR * 4  # float32 bytes of the whole recording
    assert len(table) == 1 + minutes and (table["error"] == "").all()
    assert table["end"].max() == minutes * 60.0
    assert len(blocks) == minutes * 6 and max(blocks) == 10 * SR
    assert peak < whole_file / 5, f"peak {peak / 1e6:.1f} MB for a {whole_file / 1e6:.0f} MB file"


# -- streaming reader -----------------------------------------------------------------------


def _write_m4a(path: Path, x: np.ndarray, sr: int) -> None:
    av = pytest.importorskip("av")
    with av.open(str(path), "w") as out:
        stream = out.add_stream("aac", rate=sr, layout="stereo")
        frame = av.AudioFrame.from_ndarray(
            np.stack([x, x * 0.5]).astype(np.float32), format="fltp", layout="stereo"
        )
        frame.sample_rate = sr
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


def test_stream_equals_load(emodb_dir, tmp_path):
    speech = np.tile(audio.load(_emodb_files(emodb_dir, 1)[0]), 3)  # EmoDB is 16 kHz
    cases = {
        "a.wav": (soxr.resample(speech, SR, 22050), 22050),
        "b.flac": (np.stack([speech, -speech * 0.3], 1), 44100),
    }
    for name, (x, rate) in cases.items():
        sf.write(tmp_path / name, x, rate)
    _write_m4a(tmp_path / "c.m4a", speech, 48000)
    (tmp_path / "d.wav").write_bytes((emodb_dir / "wav" / "03a01Fa.wav").read_bytes())
    for name in ("a.wav", "b.flac", "c.m4a", "d.wav"):
        ref = audio.load(tmp_path / name)
        for block in (0.25, 1.0, 100.0):
            parts = list(audio.stream(tmp_path / name, block))
            got = np.concatenate(parts)
            assert got.dtype == np.float32 and got.ndim == 1
            assert len(got) == len(ref)
            # measured: identical (max abs diff 0.0) - soxr's one-shot resample is the same stream
            assert np.abs(got - ref).max() <= 1e-6, (name, block)
            if block == 0.25 and name != "c.m4a":
                assert len(parts) >= 4


def test_stream_errors_match_load(tmp_path):
    garbage = tmp_path / "broken.wav"
    garbage.write_bytes(b"not audio at all " * 40)
    empty = tmp_path / "empty.flac"
    empty.write_bytes(b"")
    cut = tmp_path / "cut.wav"
    sf.write(cut, np.zeros(SR, np.float32), SR, subtype="PCM_16")
    cut.write_bytes(cut.read_bytes()[:SR])
    for path, fragment in [
        (tmp_path / "missing.wav", "not found"),
        (garbage, "cannot decode"),
        (empty, "empty file"),
        (cut, "truncated"),
    ]:
        with pytest.raises(audio.AudioError, match=fragment) as info:
            list(audio.stream(path))
        assert str(path) in str(info.value)


# -- embeddings -----------------------------------------------------------------------------


def test_embeddings(model, emodb_dir, tmp_path):
    files = _emodb_clips(emodb_dir, tmp_path, 3, 2.0)  # 2-s real speech: 3 segments of 1 s each
    predictor = Predictor(model)
    one = predictor.embed_file(files[0])
    assert one.shape == (model.embed_dim,)
    with torch.no_grad():
        x = torch.from_numpy(audio.load(files[0]))[None]
        direct = model.embed(x, torch.tensor([x.shape[1]]), "emodb")[0].numpy()
    assert np.abs(one - direct).max() < 1e-5
    emb = predictor.embed_files([*files, tmp_path / "missing.wav"])
    assert isinstance(emb, Embeddings) and np.asarray(emb).shape == (4, model.embed_dim)
    assert np.isnan(np.asarray(emb)[3]).all() and "not found" in emb.index["error"].iloc[3]
    assert np.abs(np.asarray(emb)[0] - one).max() < 1e-5
    written = emb.save(tmp_path / "e.npy")
    assert np.array_equal(np.load(written[0]), np.asarray(emb), equal_nan=True)
    assert list(pd.read_csv(written[1])["file"]) == [str(f) for f in files] + [
        str(tmp_path / "missing.wav")
    ]
    seg = Predictor(model, window=1.0, hop=0.5).embed_files(files, per_segment=True)
    assert list(seg.index.columns) == ["file", "start", "end", "error"]
    assert len(seg) == 3 * 3 and list(seg.index["start"][:3]) == [0.0, 0.5, 1.0]
    seg.save(tmp_path / "s.parquet")
    table = pd.read_parquet(tmp_path / "s.parquet")
    assert np.allclose(table[[f"e{i}" for i in range(model.embed_dim)]], np.asarray(seg))


def test_avgpool_embeddings_average_the_scoring_windows(emodb_dir):
    model = _model(head="avgpool")
    x = np.concatenate([audio.load(f) for f in _emodb_files(emodb_dir, 4)])[: 6 * SR]
    assert len(x) == 6 * SR  # 6 s of real speech, window 2 s: windows start at 0, 1, ... 4 s
    got = Predictor(model)._run([x], embed=True)[0]
    with torch.no_grad():
        wins = [x[s : s + 2 * SR] for s in range(0, 4 * SR + 1, SR)]
        direct = [model.embed(torch.from_numpy(w)[None], None, "emodb")[0].numpy() for w in wins]
    assert np.abs(got - np.mean(direct, 0)).max() < 1e-5


# -- ONNX -----------------------------------------------------------------------------------


def _real_signals(emodb_dir: Path) -> list[np.ndarray]:
    """Real EmoDB speech of different lengths: whole files, crops and a 5-s concatenation."""
    xs = [audio.load(f) for f in _emodb_files(emodb_dir, 4)]
    return [xs[0], xs[1][: int(1.3 * SR)], xs[2][:300], np.concatenate(xs)[: int(5.4 * SR)]]


def _onnx_matches(path: Path, model, signals) -> float:
    from emonet.infer.export import onnx_session, pad_batch

    session = onnx_session(path)
    diffs = []
    for group in [signals, *([s] for s in signals)]:  # one padded batch, then one at a time
        waves, lengths = pad_batch(group)
        got = session.run(None, {"waves": waves, "lengths": lengths})[0]
        for row, x in zip(got, group, strict=True):
            diffs.append(np.abs(row - _direct(model, x)).max())
    return float(np.max(diffs))  # NaN if any is NaN (Python's max() would skip it)


def test_onnx_export_matches_pytorch(model, emodb_dir, tmp_path):
    pytest.importorskip("onnxruntime")
    from emonet.infer import export_onnx
    from emonet.infer.export import read_metadata

    path = export_onnx(model, tmp_path / "emodb.onnx", corpus="emodb")
    signals = _real_signals(emodb_dir)
    assert _onnx_matches(path, model, signals) <= 1e-4
    meta = read_metadata(path)
    assert meta["labels"] == EMODB_LABELS and meta["corpus"] == "emodb"
    assert meta["frontend"]["n_mels"] == model.config.frontend.n_mels
    assert meta["sample_rate"] == "16000" and meta["head"] == "attention"


def test_cli_export_of_the_avgpool_head(emodb_dir, tmp_path):
    pytest.importorskip("onnxruntime")
    from emonet.infer.export import read_metadata

    model = _model(head="avgpool")  # fixed 2-s window: longer inputs average windows
    ckpt = save_checkpoint(model, tmp_path / "ckpt")
    out = tmp_path / "model.onnx"
    res = CliRunner().invoke(app, ["export", str(ckpt), str(out), "--corpus", "emodb"])
    assert res.exit_code == 0, res.output
    assert "checked in onnxruntime" in res.output
    assert read_metadata(out)["window"] == "2.0"
    assert _onnx_matches(out, model, _real_signals(emodb_dir)) <= 1e-4
