"""Atomic writes: every file EmoNet writes appears whole or not at all.

A file is written under a temporary name no other process or thread shares, then renamed onto its
target (a rename is atomic on POSIX and Windows), so a reader, a crash or a second writer never
sees half a file. This module is a bottom layer: it imports nothing from EmoNet but the errors.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from emonet.errors import EmoNetError

TABLE_SUFFIXES = (".csv", ".jsonl", ".parquet")
"""Formats :func:`write_table` writes, chosen by the file's suffix."""


TEMPORARY_GLOB = ".*.tmp*"
"""Glob of the temporary files :func:`temporary_path` names (to clean up after a killed run)."""


class OutputFormatError(EmoNetError, ValueError):
    """An output file whose suffix names a format EmoNet does not write."""


def temporary_path(path: Path) -> Path:
    """A hidden sibling of ``path`` unique to this process and call, keeping the suffix (some
    writers choose the format by it)."""
    token = f"{os.getpid()}-{threading.get_ident() % 10**6}-{uuid.uuid4().hex[:8]}"
    return path.with_name(f".{path.stem}.{token}.tmp{path.suffix}")


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path to write; it replaces ``path`` when the block ends without an
    exception and is removed otherwise. The parent folder is created."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_path(path)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def swapped_out_path(folder: Path) -> Path:
    """Where :func:`replace_folder` keeps the folder it replaces until the new one is in place."""
    return folder.with_name(f".{folder.name}.old")


def replace_folder(new: Path, folder: Path) -> None:
    """Put the finished folder ``new`` in place of ``folder``: a crash at any point leaves either
    of them whole, at its own name or at :func:`swapped_out_path` (to recover from)."""
    old = swapped_out_path(folder)
    if old.exists():
        shutil.rmtree(old)
    if folder.exists():
        os.replace(folder, old)
    os.replace(new, folder)
    if old.exists():
        shutil.rmtree(old)


def write_text(path: str | Path, text: str) -> Path:
    """Write UTF-8 text atomically; returns the path."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_json(path: str | Path, data: Any) -> Path:
    """Write pretty UTF-8 JSON atomically; returns the path."""
    return write_text(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def write_table(path: str | Path, table: Any) -> Path:
    """Write a pandas table atomically as ``.csv`` (UTF-8, no index), ``.jsonl`` (one JSON
    object per row) or ``.parquet``, chosen by the suffix; returns the path."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise OutputFormatError(f"{path}: tables are written as {', '.join(TABLE_SUFFIXES)}")
    with atomic_path(path) as tmp:
        if suffix == ".csv":
            table.to_csv(tmp, index=False, encoding="utf-8")
        elif suffix == ".jsonl":
            table.to_json(tmp, orient="records", lines=True, force_ascii=False)
        else:
            table.to_parquet(tmp, index=False)
    return path


__all__ = [
    "TABLE_SUFFIXES",
    "TEMPORARY_GLOB",
    "OutputFormatError",
    "atomic_path",
    "replace_folder",
    "swapped_out_path",
    "temporary_path",
    "write_json",
    "write_table",
    "write_text",
]
