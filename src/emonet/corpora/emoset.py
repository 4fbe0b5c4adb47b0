"""The on-disk EmoSet format: one folder per corpus with ``corpus.json``, partition CSVs and audio.

Plain files anyone can open: ``train.csv``/``devel.csv``/``test.csv`` with the header
``file,label,speaker,…`` (``file`` relative to the corpus folder), ``skipped.csv`` listing every
source file that was not taken, and ``corpus.json`` with the label list, protocol, counts and
checksums of the tables. Corpora are written atomically: a temporary folder renamed into place.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from emonet.corpora.base import PARTITIONS

FORMAT_VERSION = 1
FIRST_COLUMNS = ("file", "label", "speaker")
SKIPPED_COLUMNS = ("file", "reason")


class EmoSetError(ValueError):
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
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise EmoSetError(f"{path}: unknown keys {unknown}")
        if data.get("format_version") != FORMAT_VERSION:
            raise EmoSetError(
                f"{path}: format_version {data.get('format_version')!r}, "
                f"this EmoNet reads {FORMAT_VERSION}"
            )
        return cls(**data)


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON through a temporary file and a rename, so readers never see half a file."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)


def write_table(path: Path, frame: pd.DataFrame) -> None:
    """Write a CSV atomically (UTF-8, no index)."""
    tmp = path.with_name(f".{path.name}.tmp")
    frame.to_csv(tmp, index=False, encoding="utf-8")
    tmp.replace(path)


def write_corpus_tables(
    folder: Path, table: pd.DataFrame, skipped: pd.DataFrame, info: CorpusInfo
) -> None:
    """Write the partition CSVs, ``skipped.csv`` and ``corpus.json`` (with checksums) into ``folder``."""
    for part in PARTITIONS:
        rows = table[table["partition"] == part].drop(columns="partition")
        write_table(folder / f"{part}.csv", rows.reset_index(drop=True))
    write_table(folder / "skipped.csv", skipped.loc[:, list(SKIPPED_COLUMNS)])
    info.checksums = {
        name: sha256_file(folder / name)
        for name in [*(f"{p}.csv" for p in PARTITIONS), "skipped.csv"]
    }
    write_json_atomic(folder / "corpus.json", asdict(info))


def publish(staging: Path, final: Path) -> None:
    """Move a finished staging folder into place; an older corpus is replaced only at the end."""
    old = final.with_name(f".{final.name}.old")
    if old.exists():
        shutil.rmtree(old)
    if final.exists():
        os.replace(final, old)
    os.replace(staging, final)
    if old.exists():
        shutil.rmtree(old)


@dataclass
class EmoSetCorpus:
    """A prepared corpus folder: its info and the partition tables."""

    root: Path
    info: CorpusInfo

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def labels(self) -> list[str]:
        return list(self.info.labels)

    def partition(self, name: str) -> pd.DataFrame:
        """One partition as a table; ``file`` stays relative, see :meth:`path`."""
        if name not in PARTITIONS:
            raise EmoSetError(f"unknown partition {name!r}; expected one of {list(PARTITIONS)}")
        path = self.root / f"{name}.csv"
        if not path.exists():
            raise EmoSetError(f"{path}: not found")
        return pd.read_csv(
            path, dtype={"speaker": str, "label": str, "file": str}, keep_default_na=False
        )

    def table(self) -> pd.DataFrame:
        """All partitions in one table with a ``partition`` column."""
        frames = [self.partition(p).assign(partition=p) for p in PARTITIONS]
        return pd.concat(frames, ignore_index=True)

    def skipped(self) -> pd.DataFrame:
        """Every source file that was not taken, with the reason."""
        return pd.read_csv(self.root / "skipped.csv", dtype=str, keep_default_na=False)

    def path(self, file: str) -> Path:
        """Absolute path of a ``file`` entry."""
        return self.root / file

    def validate(self, check_audio: bool = False) -> None:
        """Raise :class:`EmoSetError` naming the first problem: checksums, labels, files, speakers."""
        for name, digest in self.info.checksums.items():
            path = self.root / name
            if not path.exists():
                raise EmoSetError(f"{path}: listed in corpus.json but missing")
            if sha256_file(path) != digest:
                raise EmoSetError(f"{path}: checksum differs from corpus.json (edited by hand?)")
        table = self.table()
        if list(table.columns[:3]) != list(FIRST_COLUMNS):
            raise EmoSetError(f"{self.root}: CSV header must start with {','.join(FIRST_COLUMNS)}")
        unknown = sorted(set(table["label"]) - set(self.labels))
        if unknown:
            raise EmoSetError(f"{self.root}: labels {unknown} are not in corpus.json's label list")
        if table["file"].duplicated().any():
            dup = table.loc[table["file"].duplicated(), "file"].iloc[0]
            raise EmoSetError(f"{self.root}: file {dup!r} is listed twice")
        if self.info.protocol == "speaker-independent":
            parts = table.groupby("speaker")["partition"].nunique()
            shared = sorted(parts[parts > 1].index)
            if shared:
                raise EmoSetError(f"{self.root}: speakers {shared} appear in several partitions")
        if check_audio:
            for f in table["file"]:
                if not (self.root / f).is_file():
                    raise EmoSetError(f"{self.root / f}: listed in the tables but missing")


def open_corpus(root: str | Path) -> EmoSetCorpus:
    """Open one prepared corpus folder (``<emoset>/<corpus>``)."""
    root = Path(root)
    return EmoSetCorpus(root, CorpusInfo.from_json(root / "corpus.json"))


def open_emoset(root: str | Path) -> dict[str, EmoSetCorpus]:
    """Every prepared corpus below an EmoSet folder, by name."""
    root = Path(root)
    if not root.is_dir():
        raise EmoSetError(f"{root}: EmoSet folder not found")
    found = {}
    for sub in sorted(root.iterdir()):
        if sub.is_dir() and not sub.name.startswith(".") and (sub / "corpus.json").exists():
            found[sub.name] = open_corpus(sub)
    return found


def subset(table: pd.DataFrame, limit: int | None) -> pd.DataFrame:
    """At most ``limit`` rows of a partition for quick runs: a fixed random sample in table order.

    Tables are sorted by file name, and many corpora name (or folder) files by emotion, so the
    first rows would often hold one class only; a seeded sample keeps the classes mixed and is the
    same on every machine.
    """
    if limit is None or limit >= len(table):
        return table.reset_index(drop=True)
    return table.sample(n=limit, random_state=0).sort_index().reset_index(drop=True)
