"""Untrusted and damaged inputs: a database header that would run code, checkpoints whose weights
were overwritten, run folders without ``checkpoints/best``. Each case must end in one clear error
(or a stated notice), never in a command that ran or a result that looks fine."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from miniature import write_tone, write_tones
from typer.testing import CliRunner

from emonet.cli import app
from emonet.corpora import audformat_db
from emonet.corpora.prepare import prepare
from emonet.evaluate.runner import resolve
from emonet.model import (
    CheckpointError,
    CheckpointNotFound,
    create_model,
    load_checkpoint,
    resolve_checkpoint,
    save_checkpoint,
)

pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword:DeprecationWarning")

# -- audformat db.yaml with a python tag ------------------------------------------------------

HEADER = """\
name: mini
source: tests
usage: unrestricted
languages: []
{extra}schemes:
  emotion:
    dtype: str
    labels: [anger, neutral]
tables:
  emotion:
    type: filewise
    columns:
      emotion: {{scheme_id: emotion}}
"""


def _audformat_source(root: Path, marker: Path | None) -> Path:
    """A two-file audformat database; with ``marker``, its header's description is a python
    tag that makes PyYAML's unsafe loader run ``touch marker``."""
    db = root / "db"
    write_tones(db, ["a.wav", "b.wav"], seconds=0.1)
    (db / "db.emotion.csv").write_text("file,emotion\na.wav,anger\nb.wav,neutral\n")
    extra = ""
    if marker is not None:
        extra = f"description: !!python/object/apply:os.system ['touch {marker}']\n"
    (db / "db.yaml").write_text(HEADER.format(extra=extra))
    return db


def test_a_python_tag_in_db_yaml_is_refused_and_never_run(tmp_path):
    clean = _audformat_source(tmp_path / "clean", None)
    res = audformat_db.parse(clean)  # the same database without the tag is fine
    got = sorted((i.path.name, i.label) for i in res.items)
    assert got == [("a.wav", "anger"), ("b.wav", "neutral")]

    marker = tmp_path / "ran"
    bad = _audformat_source(tmp_path / "bad", marker)
    with pytest.raises(ValueError, match="refused") as info:
        audformat_db.parse(bad)
    assert str(bad / "db.yaml") in str(info.value)
    assert "python/object/apply:os.system" in str(info.value)
    assert not marker.exists()

    # the payload is live: the loader audformat uses runs it (so the check above can fail)
    yaml.load((bad / "db.yaml").read_text(), Loader=yaml.Loader)
    assert marker.exists()
    marker.unlink()

    # the command line: one line on stderr, the CLI's user-error exit code, nothing written
    out = tmp_path / "emoset"
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    cmd = [sys.executable, "-m", "emonet", "prepare", "audformat", str(bad), str(out)]
    proc = subprocess.run([*cmd, "--name", "x", "--quiet"], capture_output=True, text=True, env=env)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2, proc.stderr
    assert len(lines) == 1 and lines[0].startswith("error:") and "refused" in lines[0], lines
    assert str(bad / "db.yaml") in lines[0]
    assert not marker.exists()
    assert not (out / "x").exists()


# -- checkpoints: overwritten weights, NaN, run folders without checkpoints/best ----------------

LABELS = ["neutral", "angry"]


def _model():
    torch.manual_seed(0)
    model = create_model("emonet-tiny")
    model.add_corpus("toy", LABELS)
    return model.eval()


def _overwrite_tensor(weights: Path, value: float) -> str:
    """Overwrite the bytes of the largest float32 tensor with ``value``, the header untouched;
    returns the tensor's name."""
    data = bytearray(weights.read_bytes())
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + n])
    name, entry = max(
        ((k, v) for k, v in header.items() if k != "__metadata__" and v["dtype"] == "F32"),
        key=lambda kv: kv[1]["data_offsets"][1] - kv[1]["data_offsets"][0],
    )
    start, end = (8 + n + o for o in entry["data_offsets"])
    data[start:end] = np.full((end - start) // 4, value, np.float32).tobytes()
    weights.write_bytes(bytes(data))
    assert json.loads(data[8 : 8 + n]) == header
    return name


def _one_error_line(result, *fragments: str) -> str:
    """The CLI result is a failure with exactly one ``error:`` line holding ``fragments``."""
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    assert len(lines) == 1 and lines[0].startswith("error:"), lines
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


@pytest.fixture
def toy_emoset(tmp_path) -> Path:
    """An EmoSet with one tiny corpus ``toy`` (labels neutral, angry) of generated tones."""
    src = tmp_path / "toy-src"
    for k in range(5):
        write_tone(src / "neutral" / f"n{k}.wav", seconds=0.5, freq=200 + 10 * k)
        write_tone(src / "angry" / f"a{k}.wav", seconds=0.5, freq=400 + 10 * k)
    out = tmp_path / "emoset"
    options = {"labels": ",".join(LABELS)}
    prepare("folders", src, out, name="toy", workers=1, show_progress=False, options=options)
    assert json.loads((out / "toy" / "corpus.json").read_text())["labels"] == LABELS
    return out


def test_overwritten_weights_are_refused_everywhere(tmp_path, toy_emoset):
    good = save_checkpoint(_model(), tmp_path / "good")
    meta = json.loads((good / "config.json").read_text())
    assert len(meta["weights"]["sha256"]) == 64
    clip = write_tone(tmp_path / "clip.wav", seconds=1.0)
    runner = CliRunner()
    assert runner.invoke(app, ["predict", str(good), str(clip)]).exit_code == 0

    for value in (float("nan"), 0.5):  # NaN, and finite values only the digest can tell
        bad = tmp_path / f"bad-{value}"
        shutil.copytree(good, bad)
        weights = bad / "model.safetensors"
        _overwrite_tensor(weights, value)
        with pytest.raises(CheckpointError, match="SHA-256") as info:
            load_checkpoint(bad)
        assert str(weights) in str(info.value)
        out = tmp_path / f"p-{value}.csv"
        res = runner.invoke(app, ["predict", str(bad), str(clip), "-o", str(out)])
        _one_error_line(res, str(weights), "SHA-256")
        assert not out.exists()
        res = runner.invoke(app, ["evaluate", str(bad), str(toy_emoset), "--quiet"])
        _one_error_line(res, str(weights), "SHA-256")
        assert not (bad / "eval").exists()
        onnx = tmp_path / f"m-{value}.onnx"
        res = runner.invoke(app, ["export", str(bad), str(onnx)])
        _one_error_line(res, str(weights), "SHA-256")
        assert not onnx.exists()


def test_checkpoint_without_digest_loads_but_non_finite_weights_do_not(tmp_path):
    folder = save_checkpoint(_model(), tmp_path / "old")
    config = folder / "config.json"
    meta = json.loads(config.read_text())
    del meta["weights"]  # as written before the digest existed
    config.write_text(json.dumps(meta))
    reference = _model().state_dict()
    loaded = load_checkpoint(folder).state_dict()
    assert all(torch.equal(loaded[k], v) for k, v in reference.items())

    name = _overwrite_tensor(folder / "model.safetensors", float("nan"))
    with pytest.raises(CheckpointError, match="non-finite") as info:
        load_checkpoint(folder)
    assert str(folder / "model.safetensors") in str(info.value) and name in str(info.value)
    _overwrite_tensor(folder / "model.safetensors", float("inf"))
    with pytest.raises(CheckpointError, match="non-finite"):
        load_checkpoint(folder)


def test_export_check_sees_nan_probabilities(tmp_path):
    pytest.importorskip("onnxruntime")
    from emonet.infer import export_onnx
    from emonet.infer.export import ExportError

    model = _model()
    with torch.no_grad():
        for param in model.heads["toy"].parameters():
            param.fill_(float("nan"))
    out = tmp_path / "nan.onnx"
    with pytest.raises(ExportError, match="non-finite"):
        export_onnx(model, out)
    assert not out.exists()


def test_run_folders_follow_one_rule(tmp_path, toy_emoset, capsys):
    run = tmp_path / "run"
    last = save_checkpoint(_model(), run / "checkpoints" / "last")
    clip = write_tone(tmp_path / "clip.wav", seconds=1.0)
    note = f"note: {run} has no checkpoints/best"

    assert resolve_checkpoint(run) == last
    assert note in capsys.readouterr().err
    assert resolve(run).checkpoint == last and resolve(run).run == run  # evaluate's view
    runner = CliRunner()
    res = runner.invoke(app, ["predict", str(run), str(clip)])
    assert res.exit_code == 0 and note in res.stderr, res.stderr
    res = runner.invoke(app, ["evaluate", str(run), str(toy_emoset), "--quiet"])
    assert res.exit_code == 0 and note in res.stderr, res.stderr
    report = (run / "eval" / "report.md").read_text()
    assert "NOT the devel-selected model" in report
    metrics = json.loads((run / "eval" / "metrics.json").read_text())
    assert metrics["checkpoint"] == str(last)
    res = runner.invoke(app, ["export", str(run), str(tmp_path / "m.onnx"), "--no-verify"])
    assert res.exit_code == 0 and note in res.stderr, res.stderr

    best = save_checkpoint(_model(), run / "checkpoints" / "best")
    capsys.readouterr()
    assert resolve_checkpoint(run) == best and resolve(run).checkpoint == best
    assert capsys.readouterr().err == ""

    empty = tmp_path / "empty-run"
    (empty / "checkpoints").mkdir(parents=True)
    with pytest.raises(CheckpointNotFound, match="neither a checkpoint folder"):
        resolve_checkpoint(empty)
    for args in (
        ["predict", str(empty), str(clip)],
        ["evaluate", str(empty), str(toy_emoset)],
        ["export", str(empty), str(tmp_path / "x.onnx")],
    ):
        _one_error_line(runner.invoke(app, args), str(empty), "neither a checkpoint folder")
