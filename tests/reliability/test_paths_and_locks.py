"""Paths outside the corpus, tampered EmoSet tables, and concurrent runs on one EmoSet corpus.

Tables are untrusted text: a row naming ``../x`` or ``/etc/passwd`` must never be read, and no
output may be written outside the EmoSet. Two ``emonet prepare`` runs on one corpus must not lose
items: the second waits or refuses with one line and exit code 2.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import real_corpus
from miniature import write_tones

from emonet.corpora import audformat_db, csv_table
from emonet.corpora import prepare as prepare_module
from emonet.corpora.emoset import EmoSetError, check_emoset, open_corpus, open_emoset
from emonet.corpora.prepare import PrepareError, prepare
from emonet.files import temporary_path
from emonet.locking import LockedError, exclusive_lock

pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword:DeprecationWarning")

ENV = {**os.environ, "PYTHONWARNINGS": "ignore", "COLUMNS": "200"}
EMONET = [sys.executable, "-m", "emonet"]


def _files_below(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


def _one_error_line(proc: subprocess.CompletedProcess) -> str:
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), proc.stderr
    assert "Traceback" not in proc.stderr
    return lines[0]


# -- the lock helper ------------------------------------------------------------------------------

HOLD = """
import sys, time
from emonet.locking import exclusive_lock
with exclusive_lock(sys.argv[1], "the test resource"):
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def _holder(lock: Path, seconds: float) -> subprocess.Popen:
    """Another process holding ``lock`` for ``seconds``, started and holding when this returns."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(lock), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    return proc


def test_lock_refuses_naming_the_holder_waits_and_dies_with_it(tmp_path):
    lock = tmp_path / "x.lock"
    holder = _holder(lock, 60)
    try:
        with pytest.raises(LockedError) as info, exclusive_lock(lock, "the test resource"):
            pass
        message = str(info.value)
        assert f"pid {holder.pid}" in message and "the test resource is in use" in message
        assert info.value.path == lock and "\n" not in message
        start = time.monotonic()
        with (
            pytest.raises(LockedError, match=r"still after waiting 0\.5 s"),
            exclusive_lock(lock, "the test resource", wait=0.5),
        ):
            pass
        assert time.monotonic() - start >= 0.5
    finally:
        holder.kill()  # SIGKILL: no cleanup runs, the kernel drops the flock with the process
        holder.wait()
    with exclusive_lock(lock, "the test resource") as held:
        assert f"pid {os.getpid()}" in held.read_text()
    assert not lock.exists(), "a released lock leaves no file behind"

    short = _holder(lock, 0.5)  # a waiter gets the lock as soon as the holder finishes
    with exclusive_lock(lock, "the test resource", wait=30):
        assert short.poll() is not None or short.wait(5) == 0
    assert temporary_path(lock) != temporary_path(lock)
    assert temporary_path(lock).parent == lock.parent and temporary_path(lock).name[0] == "."


# -- concurrent prepare on a real corpus ----------------------------------------------------------


@pytest.fixture
def urdu_subset(tmp_path) -> Path:
    """30 recordings per class of the real URDU corpus, linked (not copied) in its layout."""
    urdu = real_corpus("urdu")
    root = tmp_path / "urdu-subset"
    for label in ("Angry", "Happy", "Neutral", "Sad"):
        (root / label).mkdir(parents=True)
        for f in sorted((urdu / label).glob("*.wav"))[:30]:
            (root / label / f.name).symlink_to(f)
    return root


def _prepare_cmd(source: Path, out: Path, *extra: str) -> list[str]:
    return [*EMONET, "prepare", "urdu", str(source), str(out), "--workers", "1", "--quiet", *extra]


def _assert_complete(out: Path, items: int) -> None:
    corpus = open_emoset(out)["urdu"]
    assert len(corpus.table()) == items, "items were lost"
    assert corpus.skipped().empty
    [report] = check_emoset(out, workers=1)
    assert report.ok and report.decoded == items, report.problems
    assert not [p for p in out.rglob("*") if p.name.startswith(".")], "temporary files remain"


def test_two_prepare_runs_at_once_lose_nothing(urdu_subset, tmp_path):
    out = tmp_path / "emoset"
    # both wait for each other: both succeed, one converts, the other finds the corpus done
    runs = [
        subprocess.Popen(
            _prepare_cmd(urdu_subset, out, "--wait", "300"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=ENV,
        )
        for _ in range(2)
    ]
    results = [(p.wait(600), p.stdout.read(), p.stderr.read()) for p in runs]  # type: ignore[union-attr]
    assert [rc for rc, _, _ in results] == [0, 0], results
    outputs = " ".join(out_ for _, out_, _ in results)
    assert outputs.count("120 files converted") == 1 and "already up to date" in outputs
    _assert_complete(out, 120)

    # without --wait, a run that finds the corpus being prepared refuses in one line, exit 2
    (out / "urdu" / "train.csv").write_text("file,label,speaker\n")  # damaged: rebuilt below
    with exclusive_lock(out / ".urdu.lock", "held by the test"):
        proc = subprocess.run(
            _prepare_cmd(urdu_subset, out), capture_output=True, text=True, env=ENV
        )
        assert proc.returncode == 2
        line = _one_error_line(proc)
        assert f"pid {os.getpid()}" in line and str(out / "urdu") in line and "--wait" in line
        waiting = subprocess.Popen(
            _prepare_cmd(urdu_subset, out, "--wait", "120"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=ENV,
        )
        time.sleep(3)
        assert waiting.poll() is None, "--wait must wait while the lock is held"
    assert waiting.wait(300) == 0, waiting.stderr.read()  # type: ignore[union-attr]
    # the damaged table did not pass as "already up to date": the corpus was rebuilt
    assert "120 files converted" in waiting.stdout.read()  # type: ignore[union-attr]
    _assert_complete(out, 120)


# -- importers never read outside the source ------------------------------------------------------


def _csv_source(tmp_path: Path) -> tuple[Path, Path]:
    """A csv-importer source with 12 good rows and rows naming files outside it."""
    src = tmp_path / "src"
    good = [f"{lab}{k:02d}.wav" for lab in ("a", "b") for k in range(6)]
    write_tones(src / "wav", good, seconds=0.2)
    [outside] = write_tones(tmp_path, ["outside.wav"], seconds=0.2)  # real audio, just outside
    rows = ["file,label"] + [f"{name},{name[0]}" for name in good[:-1]]
    rows += [
        f"{(src / 'wav' / good[-1]).resolve()},b",  # absolute but inside: taken
        "../outside.wav,a",  # relative to the source folder: outside
        "wav/../../../outside.wav,a",
        f"{outside.resolve()},b",
        "/etc/passwd,a",
    ]
    (src / "labels.csv").write_text("\n".join(rows) + "\n")
    return src, outside


def test_csv_rows_outside_the_source_are_skipped_with_a_reason(tmp_path, monkeypatch):
    src, outside = _csv_source(tmp_path)
    monkeypatch.chdir(tmp_path)  # a relative source folder used to fail on absolute rows
    before = _files_below(tmp_path)
    res = prepare("csv", Path("src"), Path("out"), name="mini", workers=1, show_progress=False)
    assert res.items == 12
    table = open_corpus(tmp_path / "out" / "mini").table()
    assert sorted(Path(s).name for s in table["source"]) == sorted(
        p.name for p in (src / "wav").iterdir()
    )
    skipped = pd.read_csv(tmp_path / "out" / "mini" / "skipped.csv")
    outside_rows = skipped[skipped["reason"].str.contains("outside the source folder")]
    assert len(outside_rows) == 4 and len(skipped) == 4, skipped
    assert "/etc/passwd" in set(outside_rows["file"])
    assert all("labels.csv:" in r for r in outside_rows["reason"])  # names the table and line
    created = _files_below(tmp_path) - before
    assert all(p.is_relative_to(tmp_path / "out") for p in created), created

    with pytest.raises(ValueError, match=r"option data_dir: .* outside the source folder"):
        csv_table.parse(src, data_dir=str(tmp_path))
    with pytest.raises(ValueError, match=r"option table: .* outside the source folder"):
        csv_table.parse(src, table="../elsewhere.csv")
    assert outside.is_file()


def test_audformat_rows_outside_the_source_are_skipped(tmp_path):
    pytest.importorskip("audformat")
    db = tmp_path / "db"
    write_tones(db, ["a.wav", "b.wav"], seconds=0.1)
    write_tones(tmp_path, ["outside.wav"], seconds=0.1)
    (db / "db.emotion.csv").write_text(
        "file,emotion\na.wav,anger\nb.wav,neutral\n../outside.wav,anger\n"
        f"{tmp_path / 'outside.wav'},neutral\n"
    )
    (db / "db.yaml").write_text(
        "name: mini\nsource: tests\nusage: unrestricted\nlanguages: []\nschemes:\n"
        "  emotion:\n    dtype: str\n    labels: [anger, neutral]\ntables:\n  emotion:\n"
        "    type: filewise\n    columns:\n      emotion: {scheme_id: emotion}\n"
    )
    res = audformat_db.parse(db)
    assert sorted(i.path.name for i in res.items) == ["a.wav", "b.wav"]
    reasons = [s.reason for s in res.skipped]
    assert len(reasons) == 2 and all("outside the source folder" in r for r in reasons), reasons


def test_output_names_never_leave_the_emoset(tmp_path, monkeypatch):
    src = tmp_path / "src"
    write_tones(src / "wav", [f"{s}a0{t}{e}a.wav" for s in ("03", "08", "09") for t in (1, 2) for e in "WN"])  # fmt: skip
    with pytest.raises(PrepareError, match="plain folder name"):
        prepare("emodb", src, tmp_path / "out", name="../escaped", show_progress=False)
    real = prepare_module.relative_names

    def hostile(paths):  # what a bug in naming would produce: the check must still hold
        names = real(paths)
        return ["../../../evil.wav", *names[1:]]

    monkeypatch.setattr(prepare_module, "relative_names", hostile)
    before = _files_below(tmp_path)
    res = prepare("emodb", src, tmp_path / "out", workers=1, show_progress=False)
    assert res.items == 11
    assert [s.reason for s in res.skipped] == [
        "output name 'audio/../../../evil.flac' leaves the corpus"
    ]
    created = _files_below(tmp_path) - before
    assert created and all(p.is_relative_to(tmp_path / "out") for p in created), created


# -- EmoSet tables are checked when opened; emonet check --------------------------------------------


def _mini_emoset(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    names = [f"{s}a0{t}{e}a.wav" for s in ("03", "08", "09", "10", "11") for t in (1, 2) for e in "WN"]  # fmt: skip
    write_tones(src / "wav", names, sr=22050, seconds=0.3)
    prepare("emodb", src, tmp_path / "emoset", workers=1, show_progress=False)
    return tmp_path / "emoset"


def _rewrite(corpus: Path, table: str, old: str, new: str, rehash: bool) -> None:
    """Edit a table; with ``rehash`` also forge its checksum, as a careful attacker would."""
    path = corpus / table
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    if rehash:
        info = json.loads((corpus / "corpus.json").read_text())
        info["checksums"][table] = hashlib.sha256(path.read_bytes()).hexdigest()
        (corpus / "corpus.json").write_text(json.dumps(info))


def test_opening_an_emoset_checks_checksums_and_refuses_rows_outside(tmp_path):
    emoset = _mini_emoset(tmp_path)
    corpus = emoset / "emodb"
    first = pd.read_csv(corpus / "train.csv")["file"].iloc[0]
    check = subprocess.run([*EMONET, "check", str(emoset), "--quiet"], capture_output=True, text=True, env=ENV)  # fmt: skip
    assert check.returncode == 0 and "ok emodb: 20 items, 20 decoded" in check.stdout, check

    _rewrite(corpus, "train.csv", first, "../../../../../etc/passwd", rehash=True)
    with pytest.raises(EmoSetError) as info:
        open_emoset(emoset)["emodb"].partition("train")
    msg = str(info.value)
    assert "EmoSet corpus emodb" in msg and "train.csv line 2" in msg and "/etc/passwd" in msg
    _rewrite(corpus, "train.csv", "../../../../../etc/passwd", str(corpus / first), rehash=True)
    with pytest.raises(EmoSetError, match=r"train\.csv line 2: file '/.*' is absolute"):
        open_corpus(corpus).table()

    _rewrite(corpus, "train.csv", str(corpus / first), first, rehash=False)  # a plain edit
    with pytest.raises(EmoSetError, match=r"EmoSet corpus emodb .*train\.csv: checksum differs"):
        open_emoset(emoset)

    check = subprocess.run([*EMONET, "check", str(emoset), "--quiet"], capture_output=True, text=True, env=ENV)  # fmt: skip
    assert check.returncode == 2
    assert "checksum differs" in check.stdout and "1 problems emodb" in check.stdout
    assert _one_error_line(check).endswith(f"1 of 1 corpora in {emoset} have problems")


def test_check_decodes_every_file_and_lists_each_problem(tmp_path):
    emoset = _mini_emoset(tmp_path)
    corpus = emoset / "emodb"
    files = list(pd.read_csv(corpus / "test.csv")["file"])
    data = (corpus / files[0]).read_bytes()
    (corpus / files[0]).write_bytes(data[: len(data) // 3])  # truncated
    (corpus / files[1]).unlink()
    reports = check_emoset(emoset, workers=1)
    [r] = reports
    assert r.items == 20 and r.decoded == 18 and len(r.problems) == 2, r.problems
    assert any(files[1] in p and "missing" in p for p in r.problems)
    assert any(files[0] in p for p in r.problems)
    assert not check_emoset(corpus, decode=False)[0].problems[1:]  # a corpus folder works too

    proc = subprocess.run([*EMONET, "check", str(emoset), "--quiet"], capture_output=True, text=True, env=ENV)  # fmt: skip
    assert proc.returncode == 2 and "2 problems emodb" in proc.stdout
    assert files[0] in proc.stdout and files[1] in proc.stdout
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = subprocess.run([*EMONET, "check", str(empty)], capture_output=True, text=True, env=ENV)
    assert proc.returncode == 2 and "no EmoSet corpus found" in _one_error_line(proc)
