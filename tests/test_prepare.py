"""emonet prepare: real corpora, skips and strict mode, atomic writes, resume after a kill, no rework."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import soundfile as sf
from miniature import write_tone, write_tones

from emonet.corpora.emoset import EmoSetError, open_corpus, open_emoset
from emonet.corpora.prepare import PrepareError, prepare


def _check_emoset(folder: Path, items: int, labels: int, speakers: int) -> None:
    corpus = open_corpus(folder)
    corpus.validate(check_audio=True)
    table = corpus.table()
    assert len(table) == items
    assert len(corpus.labels) == labels and set(table["label"]) == set(corpus.labels)
    assert table["speaker"].nunique() == speakers
    assert corpus.info.protocol == "speaker-independent"
    per_speaker = table.groupby("speaker")["partition"].nunique()
    assert (per_speaker == 1).all()
    fractions = table["partition"].value_counts(normalize=True)
    assert abs(fractions["train"] - 0.6) < 0.08
    assert abs(fractions["devel"] - 0.2) < 0.08 and abs(fractions["test"] - 0.2) < 0.08
    for f in table["file"].sample(5, random_state=0):
        info = sf.info(str(folder / f))
        assert info.samplerate == 16000 and info.channels == 1


def test_prepare_emodb_real(emodb_dir, tmp_path):
    res = prepare("emodb", emodb_dir, tmp_path / "emoset", workers=2, show_progress=False)
    assert res.items == 535 and res.skipped == [] and res.converted == 535
    _check_emoset(tmp_path / "emoset" / "emodb", 535, 7, 10)
    assert list(pd.read_csv(tmp_path / "emoset/emodb/train.csv").columns[:3]) == [
        "file",
        "label",
        "speaker",
    ]
    assert pd.read_csv(tmp_path / "emoset/emodb/skipped.csv").empty
    # a second run over the finished corpus does no work and touches nothing
    before = {p: p.stat().st_mtime_ns for p in (tmp_path / "emoset/emodb").rglob("*")}
    again = prepare("emodb", emodb_dir, tmp_path / "emoset", show_progress=False)
    assert again.up_to_date and again.converted == 0 and again.items == 535
    assert before == {p: p.stat().st_mtime_ns for p in (tmp_path / "emoset/emodb").rglob("*")}


def test_prepare_ravdess_and_urdu_real(ravdess_dir, urdu_dir, tmp_path):
    out = tmp_path / "emoset"
    r = prepare("ravdess", ravdess_dir, out, workers=2, show_progress=False)
    assert r.items == 1440 and r.skipped == []
    _check_emoset(out / "ravdess", 1440, 8, 24)
    u = prepare("urdu", urdu_dir, out, workers=2, show_progress=False)
    assert u.items == 400
    # The URDU README says 38 speakers; its file names carry 29 speaker IDs (SM8-SM16 never occur).
    _check_emoset(out / "urdu", 400, 4, 29)
    assert set(open_emoset(out)) == {"ravdess", "urdu"}


def _mini_emodb(root: Path) -> list[Path]:
    names = [
        f"{s}a0{t}{e}a.wav" for s in ("03", "08", "09", "10", "11") for t in (1, 2) for e in "WN"
    ]
    return write_tones(root / "wav", names, sr=22050, seconds=0.3)


def test_skips_are_listed_and_strict_fails(tmp_path):
    src = tmp_path / "src"
    _mini_emodb(src)
    (src / "wav" / "12a01Wa.wav").write_text("not audio")  # broken file with a valid name
    write_tone(src / "wav" / "readme.wav")  # name outside the scheme
    res = prepare("emodb", src, tmp_path / "out", workers=1, show_progress=False)
    assert res.items == 20
    skipped = pd.read_csv(tmp_path / "out/emodb/skipped.csv")
    reasons = dict(zip(skipped["file"], skipped["reason"], strict=True))
    assert set(reasons) == {"wav/12a01Wa.wav", "wav/readme.wav"}
    assert "cannot decode" in reasons["wav/12a01Wa.wav"]
    assert "scheme" in reasons["wav/readme.wav"]
    with pytest.raises(PrepareError, match=r"--strict: 2 source files"):
        prepare("emodb", src, tmp_path / "strict", strict=True, workers=1, show_progress=False)
    assert not (tmp_path / "strict" / "emodb").exists()


def test_wav_output_and_bad_settings(tmp_path):
    src = tmp_path / "src"
    _mini_emodb(src)
    res = prepare("emodb", src, tmp_path / "out", audio_format="wav", show_progress=False)
    table = open_corpus(res.folder).table()
    assert all(f.endswith(".wav") for f in table["file"])
    with pytest.raises(PrepareError, match="--format"):
        prepare("emodb", src, tmp_path / "o2", audio_format="mp3", show_progress=False)
    with pytest.raises(PrepareError, match="source folder not found"):
        prepare("emodb", tmp_path / "nope", tmp_path / "o2", show_progress=False)
    (tmp_path / "empty").mkdir()
    with pytest.raises(PrepareError, match="no usable emodb files"):
        prepare("emodb", tmp_path / "empty", tmp_path / "o3", show_progress=False)
    with pytest.raises(KeyError, match="unknown corpus"):
        prepare("nosuchcorpus", src, tmp_path / "o4", show_progress=False)


def test_edited_tables_fail_validation(tmp_path):
    src = tmp_path / "src"
    _mini_emodb(src)
    res = prepare("emodb", src, tmp_path / "out", show_progress=False)
    corpus = open_corpus(res.folder)
    corpus.validate(check_audio=True)
    train = res.folder / "train.csv"
    train.write_text(train.read_text().replace(",anger,", ",rage,", 1))
    with pytest.raises(EmoSetError, match="checksum"):
        corpus.validate()


def test_interrupted_prepare_leaves_nothing_and_resumes(emodb_dir, tmp_path):
    out = tmp_path / "emoset"
    cmd = [sys.executable, "-m", "emonet", "prepare", "emodb", str(emodb_dir), str(out)]
    proc = subprocess.Popen([*cmd, "--workers", "1", "--quiet"], start_new_session=True)
    partial = out / ".emodb.partial" / "audio"
    deadline = time.time() + 60
    while time.time() < deadline:
        if partial.is_dir() and sum(1 for _ in partial.glob("*.flac")) >= 60:
            break
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = sum(1 for _ in partial.glob("*.flac"))
    assert 60 <= done_before < 535, "the kill must land mid-way"
    assert not (out / "emodb").exists(), "an interrupted run must not leave a corpus folder"
    res = prepare("emodb", emodb_dir, out, workers=2, show_progress=False)
    assert res.reused >= 59  # at most the file being written at the kill is redone
    assert res.reused + res.converted == 535
    assert not (out / ".emodb.partial").exists()
    clean = prepare("emodb", emodb_dir, tmp_path / "clean", workers=2, show_progress=False)
    a, b = open_corpus(res.folder).table(), open_corpus(clean.folder).table()
    pd.testing.assert_frame_equal(a, b)
    for f in a["file"].iloc[::50]:
        x, _ = sf.read(res.folder / f)
        y, _ = sf.read(clean.folder / f)
        assert (x == y).all()
