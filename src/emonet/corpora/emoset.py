"""The on-disk EmoSet format: one folder per corpus with ``corpus.json``, partition CSVs and audio.

Plain files anyone can open: ``train.csv``/``devel.csv``/``test.csv`` with the header
``file,label,speaker,…`` (``file`` relative to the corpus folder), ``skipped.csv`` listing every
source file that was not taken, and ``corpus.json`` with the label list, protocol, counts and
checksums of the tables. Corpora are written atomically: a temporary folder renamed into place.
Opening a corpus checks its tables against those checksums, and no row may point outside the corpus
folder; :func:`check_emoset` (``emonet check``) also decodes every audio file.
"""

from __future__ import annotations

import hashlib
import io
import json
import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from emonet import audio
from emonet.corpora.base import PARTITIONS, inside
from emonet.errors import EmoNetError
from emonet.files import write_json, write_table

FORMAT_VERSION = 1
FIRST_COLUMNS = ("file", "label", "speaker")
SKIPPED_COLUMNS = ("file", "reason")
TABLES = (*(f"{p}.csv" for p in PARTITIONS), "skipped.csv")
"""The tables whose checksums ``corpus.json`` records."""


class EmoSetError(EmoNetError, ValueError):
    """An EmoSet corpus folder is missing, incomplete or inconsistent; names the file."""


@dataclass
class CorpusInfo:
    """Contents of ``corpus.json``: what the corpus is and how its partitions were made."""

    name: str
    language: str
    labels: list[str]
    license: str = ""
    citation: str = ""
    source: dict[str, Any] = field(default_factory=dict)
    protocol: str = ""
    split: dict[str, Any] = field(default_factory=dict)
    counts: dict[str, Any] = field(default_factory=dict)
    sample_rate: int = 16_000
    audio_format: str = "flac"
    format_version: int = FORMAT_VERSION
    emonet_version: str = ""
    checksums: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_json(cls, path: Path) -> CorpusInfo:
        """Read ``corpus.json``; unknown keys are an error (they signal another format)."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise EmoSetError(f"{path}: not found (not an EmoSet corpus folder?)") from None
        except json.JSONDecodeError as exc:
            raise EmoSetError(f"{path}: invalid JSON ({exc})") from None
        if not isinstance(data, dict):
            raise EmoSetError(f"{path}: expected a JSON object, found {type(data).__name__}")
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise EmoSetError(f"{path}: unknown keys {unknown}")
        if data.get("format_version") != FORMAT_VERSION:
            raise EmoSetError(
                f"{path}: format_version {data.get('format_version')!r}, "
                f"this EmoNet reads {FORMAT_VERSION}"
            )
        try:
            return cls(**data)
        except TypeError as exc:  # a required key missing
            raise EmoSetError(f"{path}: {exc}") from None


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_corpus_tables(
    folder: Path, table: pd.DataFrame, skipped: pd.DataFrame, info: CorpusInfo
) -> None:
    """Write the partition CSVs, ``skipped.csv`` and ``corpus.json`` (with checksums) into ``folder``."""
    for part in PARTITIONS:
        rows = table[table["partition"] == part].drop(columns="partition")
        write_table(folder / f"{part}.csv", rows.reset_index(drop=True))
    write_table(folder / "skipped.csv", skipped.loc[:, list(SKIPPED_COLUMNS)])
    info.checksums = {name: sha256_file(folder / name) for name in TABLES}
    write_json(folder / "corpus.json", asdict(info))


@dataclass
class EmoSetCorpus:
    """A prepared corpus folder: its info and the partition tables.

    Every table is read through its checksum in ``corpus.json``, and rows whose ``file`` leaves
    the corpus folder are refused, so a hand-edited or tampered table never reaches training.
    """

    root: Path
    info: CorpusInfo

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def labels(self) -> list[str]:
        return list(self.info.labels)

    def _where(self) -> str:
        return f"EmoSet corpus {self.name} ({self.root})"

    def _checksum_problem(self, table: str, data: bytes | None) -> str | None:
        """Why ``table`` (its bytes, None if missing) does not match corpus.json, or None."""
        path = self.root / table
        if data is None:
            return f"{self._where()}: {path}: not found"
        expected = self.info.checksums.get(table)
        if expected is None:
            return f"{self._where()}: corpus.json records no checksum for {table}"
        if hashlib.sha256(data).hexdigest() != expected:
            return (
                f"{self._where()}: {table}: checksum differs from corpus.json (changed after "
                "`emonet prepare` wrote it); run `emonet prepare` again to rebuild the corpus"
            )
        return None

    def _raw(self, table: str) -> bytes | None:
        try:
            return (self.root / table).read_bytes()
        except FileNotFoundError:
            return None

    def _read(self, table: str) -> bytes:
        """A table's bytes, refused unless they match the checksum recorded in corpus.json."""
        data = self._raw(table)
        problem = self._checksum_problem(table, data)
        if problem is not None:
            raise EmoSetError(problem)
        assert data is not None
        return data

    def verify_checksums(self) -> None:
        """Raise :class:`EmoSetError` for the first table that differs from its checksum."""
        for table in TABLES:
            self._read(table)

    def _parse(self, table: str, data: bytes) -> pd.DataFrame:
        try:
            frame = pd.read_csv(
                io.BytesIO(data),
                dtype={"speaker": str, "label": str, "file": str},
                keep_default_na=False,
            )
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            raise EmoSetError(f"{self._where()}: {table}: not a readable CSV ({exc})") from None
        if list(frame.columns[:3]) != list(FIRST_COLUMNS):
            raise EmoSetError(
                f"{self._where()}: {table}: header must start with {','.join(FIRST_COLUMNS)}"
            )
        return frame

    def _escaping_rows(self, table: str, frame: pd.DataFrame) -> list[str]:
        """One message per row whose ``file`` is empty or leaves the corpus folder."""
        out = []
        for line, f in enumerate(frame["file"], start=2):  # line 1 is the header
            parts = f.replace("\\", "/").split("/")
            if f and not os.path.isabs(f) and ".." not in parts:
                continue  # a plain relative name cannot leave the folder
            if not f:
                what = "has an empty file"
            elif os.path.isabs(f):
                what = f"file {f!r} is absolute (files are relative to the corpus folder)"
            elif inside(self.root / f, self.root):
                continue
            else:
                what = f"file {f!r} leaves the corpus folder"
            out.append(f"{self._where()}: {table} line {line}: {what}; refused")
        return out

    def partition(self, name: str) -> pd.DataFrame:
        """One partition as a table; ``file`` stays relative, see :meth:`path`."""
        if name not in PARTITIONS:
            raise EmoSetError(f"unknown partition {name!r}; expected one of {list(PARTITIONS)}")
        table = f"{name}.csv"
        frame = self._parse(table, self._read(table))
        bad = self._escaping_rows(table, frame)
        if bad:
            more = f" (and {len(bad) - 1} more rows)" if len(bad) > 1 else ""
            raise EmoSetError(bad[0] + more)
        return frame

    def table(self) -> pd.DataFrame:
        """All partitions in one table with a ``partition`` column."""
        frames = [self.partition(p).assign(partition=p) for p in PARTITIONS]
        return pd.concat(frames, ignore_index=True)

    def skipped(self) -> pd.DataFrame:
        """Every source file that was not taken, with the reason."""
        data = self._read("skipped.csv")
        return pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)

    def path(self, file: str) -> Path:
        """Absolute path of a ``file`` entry (rows were checked to stay inside when read)."""
        return self.root / file

    def problems(self, check_audio: bool = False) -> list[str]:
        """Every problem of the corpus: checksums, header, rows leaving the folder, labels,
        duplicates, speakers shared by partitions, and (``check_audio``) missing audio files."""
        found = []
        frames = []
        for table in TABLES:
            data = self._raw(table)
            problem = self._checksum_problem(table, data)
            if problem is not None:
                found.append(problem)
            if data is None or table == "skipped.csv":
                continue
            try:
                frame = self._parse(table, data)
            except EmoSetError as exc:
                found.append(str(exc))
                continue
            found += self._escaping_rows(table, frame)
            frames.append(frame.assign(partition=table.removesuffix(".csv")))
        if not frames:
            return found
        table = pd.concat(frames, ignore_index=True)
        unknown = sorted(set(table["label"]) - set(self.labels))
        if unknown:
            found.append(f"{self._where()}: labels {unknown} are not in corpus.json's label list")
        dup = table.loc[table["file"].duplicated(), "file"]
        if len(dup):
            found.append(f"{self._where()}: file {dup.iloc[0]!r} is listed twice")
        if self.info.protocol == "speaker-independent":
            parts = table.groupby("speaker")["partition"].nunique()
            shared = sorted(parts[parts > 1].index)
            if shared:
                found.append(f"{self._where()}: speakers {shared} appear in several partitions")
        if check_audio:
            for f in table["file"]:
                if _plain(f, self.root) and not (self.root / f).is_file():
                    found.append(f"{self.root / f}: listed in the tables but missing")
        return found

    def validate(self, check_audio: bool = False) -> None:
        """Raise :class:`EmoSetError` naming the first problem found by :meth:`problems`."""
        found = self.problems(check_audio)
        if found:
            raise EmoSetError(found[0])


def _plain(file: str, root: Path) -> bool:
    """True for a usable ``file`` entry: relative, and inside ``root`` once resolved."""
    return bool(file) and not os.path.isabs(file) and inside(root / file, root)


def open_corpus(root: str | Path) -> EmoSetCorpus:
    """Open one prepared corpus folder (``<emoset>/<corpus>``); its tables must match corpus.json."""
    root = Path(root)
    corpus = EmoSetCorpus(root, CorpusInfo.from_json(root / "corpus.json"))
    corpus.verify_checksums()
    return corpus


def open_emoset(root: str | Path) -> dict[str, EmoSetCorpus]:
    """Every prepared corpus below an EmoSet folder, by name (each opened with :func:`open_corpus`)."""
    root = Path(root)
    if not root.is_dir():
        raise EmoSetError(f"{root}: EmoSet folder not found")
    found = {}
    for sub in sorted(root.iterdir()):
        if sub.is_dir() and not sub.name.startswith(".") and (sub / "corpus.json").exists():
            found[sub.name] = open_corpus(sub)
    return found


@dataclass
class CorpusCheck:
    """What :func:`check_emoset` found in one corpus folder."""

    name: str
    folder: Path
    items: int = 0
    decoded: int = 0
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _decode(task: tuple[str, int]) -> tuple[float, str | None]:
    """Worker: decode one EmoSet audio file; (seconds, problem or None)."""
    path, sample_rate = task
    try:
        data, sr = audio.read(path)
    except audio.AudioError as exc:
        return 0.0, str(exc)
    except Exception as exc:  # an unexpected failure is still a reported problem
        return 0.0, f"{path}: {type(exc).__name__}: {exc}"
    if sr != sample_rate or data.shape[1] != 1:
        return (
            0.0,
            f"{path}: {sr} Hz, {data.shape[1]} channels (corpus.json: {sample_rate} Hz mono)",
        )
    return len(data) / sr, None


def _corpus_folders(root: Path) -> list[Path]:
    if (root / "corpus.json").is_file():
        return [root]
    if not root.is_dir():
        raise EmoSetError(f"{root}: EmoSet folder not found")
    folders = [
        sub
        for sub in sorted(root.iterdir())
        if sub.is_dir() and not sub.name.startswith(".") and (sub / "corpus.json").exists()
    ]
    if not folders:
        raise EmoSetError(f"{root}: no EmoSet corpus found (no <corpus>/corpus.json below it)")
    return folders


def check_emoset(
    root: str | Path,
    *,
    decode: bool = True,
    workers: int = 1,
    progress: Callable[[str, int, int], None] | None = None,
) -> list[CorpusCheck]:
    """Check every corpus of an EmoSet (or one corpus folder): tables, checksums, rows, audio.

    With ``decode`` every audio file is decoded (in ``workers`` processes) and must be at the
    corpus's sample rate and mono. ``progress(corpus, done, total)`` is called as files finish.
    """
    reports = []
    for folder in _corpus_folders(Path(root)):
        report = CorpusCheck(folder.name, folder)
        reports.append(report)
        try:
            corpus = EmoSetCorpus(folder, CorpusInfo.from_json(folder / "corpus.json"))
        except EmoSetError as exc:
            report.problems.append(str(exc))
            continue
        report.name = corpus.name
        report.problems += corpus.problems(check_audio=True)
        files = []
        for part in PARTITIONS:
            data = corpus._raw(f"{part}.csv")
            try:
                frame = corpus._parse(f"{part}.csv", data) if data is not None else None
            except EmoSetError:
                continue
            if frame is not None:
                report.items += len(frame)
                files += [
                    folder / f
                    for f in frame["file"]
                    if _plain(f, folder) and (folder / f).is_file()
                ]
        if not decode:
            continue
        tasks = [(str(f), corpus.info.sample_rate) for f in files]
        for k, (seconds, problem) in enumerate(_map(_decode, tasks, workers), start=1):
            if problem is None:
                report.decoded += 1
                report.seconds += seconds
            else:
                report.problems.append(problem)
            if progress is not None:
                progress(report.name, k, len(tasks))
    return reports


def _map(fn: Callable, tasks: list, workers: int) -> Iterator:
    """``fn`` over ``tasks`` in order, in ``workers`` spawned processes when worth it."""
    if workers <= 1 or len(tasks) < 2:
        yield from map(fn, tasks)
        return
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        yield from pool.map(fn, tasks, chunksize=max(1, min(16, len(tasks) // (workers * 8))))


def subset(table: pd.DataFrame, limit: int | None) -> pd.DataFrame:
    """At most ``limit`` rows of a partition for quick runs: a fixed random sample in table order.

    Tables are sorted by file name, and many corpora name (or folder) files by emotion, so the
    first rows would often hold one class only; a seeded sample keeps the classes mixed and is the
    same on every machine.
    """
    if limit is None or limit >= len(table):
        return table.reset_index(drop=True)
    return table.sample(n=limit, random_state=0).sort_index().reset_index(drop=True)
