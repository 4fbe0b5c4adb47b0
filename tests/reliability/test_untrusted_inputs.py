"""Untrusted and damaged inputs: a database header that would run code, checkpoints whose weights
were overwritten, run folders without ``checkpoints/best``. Each case must end in one clear error
(or a stated notice), never in a command that ran or a result that looks fine."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from miniature import write_tones

from emonet.corpora import audformat_db

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
    assert proc.returncode == 1, proc.stderr
    assert len(lines) == 1 and lines[0].startswith("error:") and "refused" in lines[0], lines
    assert str(bad / "db.yaml") in lines[0]
    assert not marker.exists()
    assert not (out / "x").exists()
