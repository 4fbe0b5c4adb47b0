"""Command-line errors and odd inputs: every ``emonet`` command answers a bad argument with one
``error: …`` line on stderr and exit code 2, never a traceback; the user errors of issue 13
(damaged checkpoints and audio, outputs that cannot be written, impossible settings, damaged
trainer state, damaged EmoSet audio, an edited checkpoint front end) each name the file or
setting. A bug, on the other hand, keeps its traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
import typer
import yaml
from miniature import write_tone
from typer.testing import CliRunner

from emonet.cli import app
from emonet.corpora.prepare import prepare
from emonet.model import create_model, save_checkpoint

LABELS = ["neutral", "angry"]
ENV = {**os.environ, "PYTHONWARNINGS": "ignore", "COLUMNS": "200"}


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cli-errors")


@pytest.fixture(scope="module")
def ckpt(work) -> Path:
    """An untrained emonet-tiny checkpoint with one corpus ``toy``."""
    torch.manual_seed(0)
    model = create_model("emonet-tiny")
    model.add_corpus("toy", LABELS)
    return save_checkpoint(model.eval(), work / "ckpt")


@pytest.fixture(scope="module")
def clip(work) -> Path:
    return write_tone(work / "clip.wav", seconds=1.0)


@pytest.fixture
def toy_emoset(tmp_path) -> Path:
    """An EmoSet with one corpus ``toy`` of generated tones (6 speakers, 2 labels)."""
    src = tmp_path / "toy-src"
    for k in range(24):
        label = LABELS[k % 2]
        write_tone(src / label / f"s{k % 6}_{k}.wav", seconds=0.5, freq=200 + 200 * (k % 2) + k)
    out = tmp_path / "emoset"
    options = {"labels": ",".join(LABELS), "speaker": r"/(s\d)_"}
    prepare("folders", src, out, name="toy", workers=1, show_progress=False, options=options)
    return out


def _one_error_line(stderr: str, code: int, *fragments: str) -> str:
    """Exit code 2, exactly one non-empty stderr line, ``error: …`` holding ``fragments``."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert code == 2, (code, stderr)
    assert "Traceback" not in stderr, stderr
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


def _run(*args: str) -> subprocess.CompletedProcess:
    """The real command line, as a user starts it."""
    cmd = [sys.executable, "-m", "emonet", *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True, env=ENV, timeout=300)


def _invoke(*args: str):
    """The command line in this process (CliRunner keeps stdout and stderr apart)."""
    return CliRunner().invoke(app, [str(a) for a in args])


# -- every command, one bad argument each ------------------------------------------------------

MISSING = "/nonexistent/emonet-test"


def _cases(ckpt: Path, clip: Path, tmp: Path) -> dict[str, tuple[list, tuple[str, ...]]]:
    """``command: (arguments, fragments of the error line)``, one per ``emonet`` command."""
    return {
        "baseline": ([f"{MISSING}.yaml"], (f"{MISSING}.yaml", "not found")),
        "check": ([MISSING], (MISSING, "not found")),
        "compare": ([MISSING, tmp], (MISSING, "no predictions found")),
        "corpora": (["--bogus"], ("--bogus",)),
        "cross-corpus": ([MISSING, tmp], (MISSING, "neither a checkpoint folder")),
        "demo": (["--out", "/proc/emonet-demo", "--quiet"], ("/proc/emonet-demo",)),
        "ensemble": ([MISSING, tmp, "--out", tmp / "ens"], (MISSING, "no predictions found")),
        "evaluate": ([MISSING, tmp], (MISSING, "neither a checkpoint folder")),
        "experiment": ([f"{MISSING}.yaml"], (f"{MISSING}.yaml", "not found")),
        "export": ([ckpt, "/proc/emonet.onnx"], ("/proc/emonet.onnx", "cannot write")),
        "model-info": (["resnet-9000"], ("unknown model 'resnet-9000'", "emonet-wrn")),
        "predict": ([ckpt, clip, "--window", "nan"], ("window", "nan")),
        "prepare": (["nosuch", tmp, tmp / "out"], ("unknown corpus 'nosuch'", "emodb")),
        "train": ([f"{MISSING}.yaml"], (f"{MISSING}.yaml", "not found")),
    }


def test_every_command_has_a_case():
    commands = set(typer.main.get_command(app).commands)
    assert commands == set(_cases(Path(), Path(), Path())), "add a case for each new command"


@pytest.mark.parametrize("command", sorted(_cases(Path(), Path(), Path())))
def test_every_command_refuses_a_bad_argument_in_one_line(command, ckpt, clip, tmp_path):
    args, fragments = _cases(ckpt, clip, tmp_path)[command]
    proc = _run(command, *args)
    _one_error_line(proc.stderr, proc.returncode, *fragments)


def test_usage_errors_are_one_line_too(ckpt):
    res = _invoke("predict")
    _one_error_line(res.stderr, res.exit_code, "Missing argument", "emonet predict --help")
    res = _invoke("predict", ckpt, "x.wav", "--batch-size", "many")
    _one_error_line(res.stderr, res.exit_code, "--batch-size")
    res = _invoke("nosuchcommand")
    _one_error_line(res.stderr, res.exit_code, "No such command 'nosuchcommand'")


def test_a_bug_keeps_its_traceback(monkeypatch):
    """Only user errors are one line: anything else raises as it is (exit code 1 and the
    traceback from Python), an OSError without a file name included."""
    from emonet.cli import corpora

    for error in (RuntimeError("boom"), OSError("no file named")):

        def broken(error=error):
            raise error

        monkeypatch.setattr(corpora, "list_corpora", broken)
        res = _invoke("corpora")
        assert res.exit_code == 1 and res.exception is error, res.output


# -- issue 13 item 7: damaged files, impossible settings ----------------------------------------


def test_damaged_checkpoints(ckpt, clip, tmp_path, toy_emoset):
    bad = tmp_path / "garbled-config"
    bad.mkdir()
    (bad / "model.safetensors").write_bytes((ckpt / "model.safetensors").read_bytes())
    (bad / "config.json").write_text('{"format": "emonet-checkpoint", "form')  # truncated
    res = _invoke("predict", bad, clip)
    _one_error_line(res.stderr, res.exit_code, str(bad / "config.json"), "not valid JSON")

    cut = tmp_path / "cut-weights"
    cut.mkdir()
    (cut / "config.json").write_text((ckpt / "config.json").read_text())
    (cut / "model.safetensors").write_bytes((ckpt / "model.safetensors").read_bytes()[:5000])
    res = _invoke("evaluate", cut, toy_emoset, "--quiet")
    _one_error_line(res.stderr, res.exit_code, str(cut / "model.safetensors"))
    res = _invoke("export", cut, tmp_path / "m.onnx", "--no-verify")
    _one_error_line(res.stderr, res.exit_code, str(cut / "model.safetensors"))
    assert not (tmp_path / "m.onnx").exists()


def test_an_edited_n_mels_is_refused_at_load_time(ckpt, tmp_path, toy_emoset):
    """Issue 13 item 6: n_mels in config.json changes no tensor shape of an attention model;
    the stored digest of the model section catches it before anything is scored."""
    edited = tmp_path / "edited"
    edited.mkdir()
    (edited / "model.safetensors").write_bytes((ckpt / "model.safetensors").read_bytes())
    meta = json.loads((ckpt / "config.json").read_text())
    meta["config"]["frontend"]["n_mels"] = 64
    meta["frontend"]["n_mels"] = 64
    (edited / "config.json").write_text(json.dumps(meta, indent=2))
    proc = _run("evaluate", edited, toy_emoset, "--quiet")
    _one_error_line(proc.stderr, proc.returncode, str(edited / "config.json"), "model section")
    assert not (edited / "eval").exists()


def test_bad_audio_is_one_line_naming_the_file(ckpt, tmp_path):
    garbage = tmp_path / "garbage.wav"
    garbage.write_bytes(b"RIFF\x10\x00\x00\x00WAVEjunk" * 20)
    res = _invoke("predict", ckpt, garbage)
    _one_error_line(res.stderr, res.exit_code, str(garbage), "cannot decode")
    empty = tmp_path / "empty.flac"
    empty.write_bytes(b"")
    res = _invoke("predict", ckpt, empty)
    _one_error_line(res.stderr, res.exit_code, str(empty), "empty file")


def test_outputs_that_cannot_be_written(ckpt, clip, tmp_path):
    folder = tmp_path / "table.csv"
    folder.mkdir()
    res = _invoke("predict", ckpt, clip, "--output", folder)
    _one_error_line(res.stderr, res.exit_code, str(folder), "is a folder")
    res = _invoke("predict", ckpt, clip, "--embeddings", "/proc/emonet.npy")
    _one_error_line(res.stderr, res.exit_code, "/proc/emonet.npy", "cannot write")
    onnx = tmp_path / "model.onnx"
    onnx.mkdir()
    res = _invoke("export", ckpt, onnx, "--no-verify")
    _one_error_line(res.stderr, res.exit_code, str(onnx), "is a folder")
    res = _invoke("export", ckpt, "/proc/emonet.onnx", "--no-verify")
    _one_error_line(res.stderr, res.exit_code, "/proc/emonet.onnx")


@pytest.mark.parametrize(
    ("option", "fragments"),
    [
        (["--window", "nan"], ("window", "nan")),
        (["--window", "inf"], ("window", "inf")),
        (["--window", "2", "--hop", "0"], ("hop", "0")),
        (["--window", "1e-9"], ("window", "at least one sample")),
        (["--batch-size", "0"], ("--batch-size", "greater than or equal to 1")),
        (["--device", "tpu9"], ("device 'tpu9'", "not a torch device")),
        (["--corpus", "nope"], ("corpus 'nope'", "toy")),
    ],
)
def test_impossible_predict_settings(option, fragments, ckpt, clip):
    res = _invoke("predict", ckpt, clip, *option)
    _one_error_line(res.stderr, res.exit_code, *fragments)


def test_cuda_on_a_machine_without_it(ckpt, clip, monkeypatch):
    """On a CPU-only build (and, simulated, on any machine) --device cuda is one clear line."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    res = _invoke("predict", ckpt, clip, "--device", "cuda")
    _one_error_line(res.stderr, res.exit_code, "device 'cuda'", "CUDA is not available")


def test_cuda_accelerator_in_a_training_config_on_a_machine_without_it(
    tmp_path, toy_emoset, monkeypatch
):
    """engine.accelerator cuda without a GPU is refused before Lightning's traceback."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump(_train_config(toy_emoset, tmp_path / "run")))
    res = _invoke("train", config, "--quiet", "--set", "engine.accelerator=cuda")
    _one_error_line(res.stderr, res.exit_code, "engine.accelerator", "CUDA is not available")


def test_unknown_model_name_in_a_training_config(tmp_path, toy_emoset):
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump(_train_config(toy_emoset, tmp_path / "run")))
    proc = _run("train", config, "--quiet", "--set", "model.name=resnet-9000")
    _one_error_line(proc.stderr, proc.returncode, "unknown model 'resnet-9000'")
    proc = _run("model-info", "--set", "widht=2")
    _one_error_line(proc.stderr, proc.returncode, "unknown key model.widht")


def test_a_teacher_that_is_not_there(tmp_path, toy_emoset):
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump(_train_config(toy_emoset, tmp_path / "run")))
    res = _invoke("train", config, "--quiet", "--set", f"distill.teachers={tmp_path / 'gone'}")
    _one_error_line(res.stderr, res.exit_code, "distill.teachers", "gone")


def _train_config(emoset: Path, out: Path) -> dict:
    return {
        "mode": "scratch",
        "out": str(out),
        "seed": 0,
        "data": {"emoset": str(emoset), "corpora": ["toy"], "window": 0.5, "batch_size": 8},
        "model": {"name": "emonet-tiny"},
        "optim": {"schedule": "cosine", "lr": 0.003, "max_epochs": 1, "warmup_epochs": 0},
        "engine": {"threads": 2},
    }


def test_resume_from_a_damaged_trainer_state(tmp_path, toy_emoset):
    config = tmp_path / "c.yaml"
    run = tmp_path / "run"
    config.write_text(yaml.safe_dump(_train_config(toy_emoset, run)))
    first = _run("train", config, "--quiet")
    assert first.returncode == 0, first.stderr
    (run / "DONE.json").unlink()  # as if the run had been killed after its first checkpoint
    state = run / "checkpoints" / "last" / "trainer_state.json"
    text = state.read_text()
    for damaged in (text[: len(text) // 2], "\x00garbage", "[]"):
        state.write_text(damaged)
        proc = _run("train", config, "--resume", "--quiet")
        _one_error_line(proc.stderr, proc.returncode, str(state), "cannot resume")
    state.write_text(text)
    optimizer = state.with_name("optimizer.safetensors")
    optimizer.write_bytes(optimizer.read_bytes()[:100])
    proc = _run("train", config, "--resume", "--quiet")
    _one_error_line(proc.stderr, proc.returncode, str(optimizer), "cannot resume")


def test_missing_or_garbled_emoset_audio_during_evaluate(ckpt, toy_emoset):
    corpus = toy_emoset / "toy"
    rows = (corpus / "test.csv").read_text().splitlines()
    victim = corpus / rows[1].split(",")[0]
    data = victim.read_bytes()
    victim.write_bytes(b"fLaC" + np.random.default_rng(0).bytes(2000))
    res = _invoke("evaluate", ckpt, toy_emoset, "--partition", "test", "--quiet")
    _one_error_line(res.stderr, res.exit_code, str(victim), "cannot decode")
    victim.unlink()
    res = _invoke("evaluate", ckpt, toy_emoset, "--partition", "test", "--quiet")
    _one_error_line(res.stderr, res.exit_code, str(victim), "not found")
    victim.write_bytes(data)
    res = _invoke("evaluate", ckpt, toy_emoset, "--partition", "test", "--quiet")
    assert res.exit_code == 0, res.output


def test_silence_still_predicts_but_is_flagged(ckpt, tmp_path):
    """Issue 13 item 6 at the command line (the Predictor's side is in tests/test_infer.py)."""
    silence = tmp_path / "silence.flac"
    sf.write(silence, np.zeros(30 * 16_000, np.float32), 16_000)
    res = _invoke("predict", ckpt, silence)
    assert res.exit_code == 0, res.output
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert lines[0].startswith("warning: 1 of 1 rows flagged (1 silent)"), lines
    assert "silent" in res.stdout
