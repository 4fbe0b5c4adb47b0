"""The docs cannot rot: every example in README.md and docs/ runs, and generated pages are current.

All ``bash`` and ``python`` blocks of the guide run in order in one sandbox (as a reader following
the guide would), with the real corpora linked as ``corpora/`` and the repository's ``configs/``.
Training is shrunk so the guide runs in minutes: ``emonet train`` and ``emonet experiment`` get
the overrides below appended (a tiny model, one or two epochs, a few dozen items). A block can
only be left out with a ``<!-- docs-test: skip (reason) -->`` line right above it, and only for
installation commands and hardware the test machine lacks.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, SHARED

from emonet.cli.reference import cli_markdown, config_markdown

GUIDE = ["README.md", "docs/install.md", "docs/emoset.md", "docs/training.md", "docs/model.md",
         "docs/evaluation.md", "docs/baselines.md", "docs/inference.md", "docs/api.md",
         "docs/reliability.md", "docs/architecture.md"]  # fmt: skip
SHRINK_TRAIN = ["model.name=emonet-tiny", "optim.max_epochs=2", "data.limit=48",
                "data.window=2.0", "data.batch_size=16", "multi.steps_per_epoch=2",
                "optim.lr_stages=[0.01]"]  # fmt: skip
SHRINK_EXPERIMENT = ["train.model.name=emonet-tiny", "train.optim.max_epochs=1",
                     "scratch.optim.max_epochs=1", "transfer.optim.max_epochs=1",
                     "train.data.limit=40", "train.data.batch_size=16",
                     "multi.multi.steps_per_epoch=2", "corpora=[emodb,urdu]",
                     "baselines=[eGeMAPSv02-svm]", "seeds=[0]"]  # fmt: skip
SHRINK_BASELINE = ["feature_sets=[eGeMAPSv02]"]
BLOCK = re.compile(r"(?P<before>[^\n]*)\n```(?P<lang>bash|python)\n(?P<body>.*?)```", re.S)
SKIP = re.compile(r"<!-- docs-test: skip \((?P<reason>[^)]+)\) -->")


def blocks(doc: str) -> list[tuple[str, str, str | None]]:
    """(language, body, skip reason) of every bash/python block of a markdown file."""
    text = "\n" + (REPO / doc).read_text(encoding="utf-8")
    out = []
    for m in BLOCK.finditer(text):
        skip = SKIP.search(m["before"])
        out.append((m["lang"], m["body"], skip["reason"] if skip else None))
    return out


def commands(body: str) -> list[str]:
    """Shell commands of a bash block (continuation lines joined, comments dropped)."""
    joined = re.sub(r"\\\n\s*", " ", body)
    lines = [line.split(" #")[0].strip() for line in joined.splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def shrink(cmd: str) -> str:
    """Append the test's size overrides to training commands."""
    words = shlex.split(cmd)
    extra: list[str] = []
    if words[:2] == ["emonet", "train"]:
        extra = SHRINK_TRAIN
    elif words[:2] == ["emonet", "experiment"]:
        extra = SHRINK_EXPERIMENT
    elif words[:2] == ["emonet", "baseline"]:
        extra = SHRINK_BASELINE
    return cmd + "".join(f" --set {shlex.quote(e)}" for e in extra)


def test_every_block_is_run_or_skipped_for_a_stated_reason():
    for doc in GUIDE:
        for _, _, reason in blocks(doc):
            if reason is not None:
                assert re.search(r"install|GPU|node|CI runs", reason), (doc, reason)
    docs = {p.relative_to(REPO).as_posix() for p in (REPO / "docs").glob("*.md")}
    generated = {"docs/cli.md", "docs/config.md", "docs/corpora.md", "docs/results.md"}
    assert docs - generated - {"docs/index.md"} <= set(GUIDE), "add new guide pages to GUIDE"


def test_the_guide_runs(tmp_path):
    if not (SHARED / "corpora").is_dir():
        pytest.skip("real corpora not available")
    (tmp_path / "corpora").symlink_to(SHARED / "corpora")
    (tmp_path / "configs").symlink_to(REPO / "configs")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    ran = 0
    for doc in GUIDE:
        for lang, body, reason in blocks(doc):
            if reason is not None:
                continue
            if lang == "python":
                script = tmp_path / "block.py"
                script.write_text(body)
                todo = [f"{shlex.quote(sys.executable)} block.py"]
            else:
                todo = [shrink(c) for c in commands(body)]
            for cmd in todo:
                proc = subprocess.run(cmd, shell=True, cwd=tmp_path, env=env, capture_output=True,
                                      text=True, timeout=600)  # fmt: skip
                assert proc.returncode == 0, f"{doc}: `{cmd}` failed:\n{proc.stderr[-3000:]}"
                ran += 1
    assert ran >= 20


def test_generated_references_are_current():
    for path, text, how in (
        ("docs/cli.md", cli_markdown(), "python -c 'from emonet.cli.reference import *; "
                                        "print(cli_markdown(), end=\"\")' > docs/cli.md"),
        ("docs/config.md", config_markdown(), "the same with config_markdown() > docs/config.md"),
    ):  # fmt: skip
        assert (REPO / path).read_text(encoding="utf-8") == text, f"{path} is stale: {how}"


def test_cli_reference_matches_help():
    """Every option that `emonet COMMAND --help` shows is in docs/cli.md, under that command."""
    reference = (REPO / "docs" / "cli.md").read_text(encoding="utf-8")
    sections = dict(re.findall(r"## `emonet ([\w-]+)`\n(.*?)(?=\n## |\Z)", reference, re.S))
    top = subprocess.run([sys.executable, "-m", "emonet", "--help"], capture_output=True,
                         text=True, env={**os.environ, "COLUMNS": "200"}).stdout  # fmt: skip
    listed = set(re.findall(r"│ ([a-z][\w-]+)\s{2,}", top))
    assert listed == set(sections), (listed, set(sections))
    for name, section in sections.items():
        out = subprocess.run([sys.executable, "-m", "emonet", name, "--help"],
                             capture_output=True, text=True,
                             env={**os.environ, "COLUMNS": "200"}).stdout  # fmt: skip
        for option in set(re.findall(r"(--[a-z][\w-]*)", out)) - {"--help"}:
            assert f"`{option}`" in section, f"{name}: {option} missing from docs/cli.md"
