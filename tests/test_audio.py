"""emonet.audio: decoding, downmix and resampling on generated signals and real corpus files."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from miniature import tone, write_tone

from emonet import audio
from emonet.audio import AudioError


def dominant_frequency(x: np.ndarray, sr: int) -> float:
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.fft.rfftfreq(len(x), 1 / sr)[np.argmax(spec)])


@pytest.mark.parametrize("sr", [8000, 22050, 24000, 44100, 48000])
def test_sine_keeps_frequency_and_level(tmp_path, sr):
    path = write_tone(tmp_path / "sine.wav", sr=sr, seconds=1.0, freq=440.0, amp=0.5)
    x = audio.load(path)
    assert x.dtype == np.float32 and x.ndim == 1
    assert abs(len(x) - 16000) <= 1
    assert abs(dominant_frequency(x, 16000) - 440.0) <= 1.0
    mid = x[2000:-2000]  # away from the resampler's edges
    rms = float(np.sqrt(np.mean(mid.astype(np.float64) ** 2)))
    assert rms == pytest.approx(0.5 / np.sqrt(2), rel=0.01)


def test_stereo_downmix_is_exact(tmp_path):
    rng = np.random.default_rng(0)
    stereo = rng.uniform(-0.5, 0.5, size=(1600, 2)).astype(np.float32)
    path = tmp_path / "stereo.wav"
    sf.write(path, stereo, 16000, subtype="FLOAT")
    x = audio.load(path)
    np.testing.assert_array_equal(x, stereo.mean(axis=1, dtype=np.float64).astype(np.float32))
    both = audio.load(path, mono=False)
    assert both.shape == (1600, 2)


@pytest.mark.parametrize("ext", [".flac", ".ogg", ".aiff", ".WAV"])
def test_formats_decode(tmp_path, ext):
    path = write_tone(tmp_path / f"t{ext}", sr=44100, seconds=0.5, freq=300.0)
    x = audio.load(path)
    assert abs(len(x) - 8000) <= 1
    assert abs(dominant_frequency(x, 16000) - 300.0) <= 2.0


def test_mp3_decodes(tmp_path):
    path = tmp_path / "t.mp3"
    sf.write(path, tone(1.0, 44100, freq=500.0), 44100, format="MP3")
    x = audio.load(path)
    assert abs(len(x) / 16000 - 1.0) < 0.1  # MP3 frames pad a little
    assert abs(dominant_frequency(x, 16000) - 500.0) <= 2.0


@pytest.mark.parametrize("container,codec", [("m4a", "aac"), ("avi", "pcm_s16le")])
def test_containers_decode_with_pyav(tmp_path, container, codec):
    av = pytest.importorskip("av")
    path = tmp_path / f"clip.{container}"
    sr = 48000
    signal = tone(1.0, sr, freq=600.0, channels=2)
    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=sr, layout="stereo")
        fmt = "fltp" if codec == "aac" else "s16"
        data = (
            signal.T.copy() if fmt == "fltp" else (signal * 32767).astype(np.int16).reshape(1, -1)
        )
        frame = av.AudioFrame.from_ndarray(data, format=fmt, layout="stereo")
        frame.sample_rate = sr
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    x = audio.load(path)
    assert abs(len(x) / 16000 - 1.0) < 0.1
    assert abs(dominant_frequency(x, 16000) - 600.0) <= 3.0
    assert 0.15 < float(np.max(np.abs(x))) < 0.45


def _expect_error(path, fragment):
    with pytest.raises(AudioError) as info:
        audio.load(path)
    assert str(path) in str(info.value)
    assert fragment in str(info.value)
    return info.value


def test_bad_inputs_raise_one_error_type_naming_the_file(tmp_path):
    _expect_error(tmp_path / "missing.wav", "not found")
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    _expect_error(empty, "empty file")
    text = tmp_path / "notes.wav"
    text.write_text("this is not audio at all, just some text " * 20)
    _expect_error(text, "cannot decode")
    zero = tmp_path / "zero.wav"
    sf.write(zero, np.zeros((0,), np.float32), 16000)
    _expect_error(zero, "zero-length")
    nan = tmp_path / "nan.wav"
    x = tone(0.1)
    x[10] = np.nan
    sf.write(nan, x, 16000, subtype="FLOAT")
    _expect_error(nan, "NaN")
    broken = tmp_path / "broken.flac"
    write_tone(broken, seconds=1.0)
    broken.write_bytes(broken.read_bytes()[:200])
    with pytest.raises(AudioError, match=r"broken\.flac"):
        audio.load(broken)
    folder = tmp_path / "dir.wav"
    folder.mkdir()
    _expect_error(folder, "not a file")


def test_truncated_wav_is_reported(tmp_path):
    path = write_tone(tmp_path / "cut.wav", seconds=1.0)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])  # header still promises the full length
    _expect_error(path, "truncated")


def test_write_roundtrip(tmp_path):
    x = tone(0.5, 16000, freq=250.0)
    audio.write(tmp_path / "a.flac", x)
    y = audio.load(tmp_path / "a.flac")
    np.testing.assert_allclose(y, x, atol=1 / 32767)
    with pytest.raises(AudioError):
        audio.write(tmp_path / "b.flac", np.zeros(0, np.float32))


def test_real_corpus_files(emodb_dir, ravdess_dir, urdu_dir):
    e = audio.load(next((emodb_dir / "wav").glob("*.wav")))
    r = audio.load(next(ravdess_dir.rglob("*.flac")))
    u_path = next(urdu_dir.rglob("*.wav"))
    assert sf.info(str(u_path)).samplerate == 44100
    u = audio.load(u_path)
    for x in (e, r, u):
        assert x.dtype == np.float32 and x.ndim == 1
        assert 0.5 * 16000 < len(x) < 15 * 16000
        assert 0.01 < float(np.max(np.abs(x))) <= 1.0
    assert abs(audio.duration(u_path) - len(u) / 16000) < 1e-3
