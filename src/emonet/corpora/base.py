"""What a corpus parser returns, and the helpers every parser shares.

A parser turns a corpus folder in its official layout into :class:`Item` rows (one per usable
audio file) and :class:`Skipped` rows (every audio file it could not use, with the reason). It
never opens audio: decoding happens later, in :mod:`emonet.corpora.prepare`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from emonet.audio import is_audio_file

JUNK_NAMES = frozenset({".ds_store", "desktop.ini", "thumbs.db", "__macosx", ".git", ".svn"})
"""File and folder names (lower-case) that are never part of a corpus."""

PARTITIONS = ("train", "devel", "test")


@dataclass(frozen=True)
class Item:
    """One usable recording: where it is, its label, its speaker and optional extra columns."""

    path: Path
    label: str
    speaker: str
    partition: str | None = None  # set only when the corpus has an official split
    extra: dict[str, str] = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class Skipped:
    """A source file that was not taken, and why."""

    path: str
    reason: str


@dataclass
class ParseResult:
    """Everything a parser found below a source folder."""

    items: list[Item] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    labels: tuple[str, ...] | None = None
    """Label list for this parse when an option changes it (IEMOCAP ``classes=all``); else the spec's."""

    def skip(self, path: str | Path, reason: str) -> None:
        """Record a file that cannot be used."""
        self.skipped.append(Skipped(str(path), reason))


Parser = Callable[..., ParseResult]


@dataclass(frozen=True)
class CorpusSpec:
    """A registered corpus: facts from its documentation plus the parser of its layout.

    ``labels`` is the ordered label list (``None`` for generic importers, whose labels come from
    the data). ``speakers`` and ``items`` are the documented counts (``None`` when unknown).
    """

    name: str
    language: str
    labels: tuple[str, ...] | None
    speakers: int | None
    items: int | None
    license: str
    citation: str
    layout: str
    parse: Parser
    official_split: bool = False
    generic: bool = False
    notes: str = ""


def inside(path: str | Path, root: str | Path) -> bool:
    """True when ``path`` lies within ``root`` once ``..`` and the current folder are resolved.

    Paths come from untrusted tables (``../x``, ``/etc/passwd``), so importers and EmoSet readers
    use this before opening anything. The check is on the names as written, so symlinked folders
    inside ``root`` stay usable; a path with ``..`` must also stay inside once symlinks resolve.
    """
    p = Path(os.path.normpath(os.path.abspath(path)))
    r = Path(os.path.normpath(os.path.abspath(root)))
    if not p.is_relative_to(r):
        return False
    if ".." in Path(path).parts:
        return Path(path).resolve().is_relative_to(Path(root).resolve())
    return True


def is_junk(name: str) -> bool:
    """True for a file or folder name that folder scans skip: hidden or in :data:`JUNK_NAMES`."""
    return name.startswith(".") or name.lower() in JUNK_NAMES


def walk_files(root: str | Path, audio_only: bool = False) -> Iterator[Path]:
    """Every file (``audio_only``: every audio file, any extension case) below ``root``, junk
    left out, in sorted order; FileNotFoundError for a missing folder."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"source folder not found: {root}")
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not is_junk(d))
        for name in sorted(filenames):
            p = Path(dirpath) / name
            if not is_junk(name) and (not audio_only or is_audio_file(p)):
                yield p


def parse_by_name(
    root: str | Path,
    pattern: str | re.Pattern[str],
    make: Callable[[re.Match[str], Path], Item | str | None],
    what: str,
) -> ParseResult:
    """Match every audio file's stem against ``pattern`` and build items with ``make``.

    ``make`` returns an :class:`Item`, or a string (the reason to skip the file), or ``None``
    (also a skip, with a generic reason). Files whose stem does not match are skipped with a reason
    naming the expected scheme ``what``. The same file name found twice (a corpus unpacked twice)
    is taken once and the copy is skipped.
    """
    regex = re.compile(pattern) if isinstance(pattern, str) else pattern
    result = ParseResult()
    seen: dict[str, Path] = {}
    for path in walk_files(root, audio_only=True):
        m = regex.fullmatch(path.stem)
        if not m:
            result.skip(path, f"file name does not follow the scheme {what}")
            continue
        made = make(m, path)
        if isinstance(made, str):
            result.skip(path, made)
            continue
        if made is None:
            result.skip(path, "not part of this corpus")
            continue
        key = _identity(path)
        if key in seen:
            result.skip(path, f"duplicate of {seen[key]}")
            continue
        seen[key] = path
        result.items.append(made)
    return result


def _identity(path: Path) -> str:
    """Key under which two copies of one recording collide: the stem plus its parent folder."""
    return f"{path.parent.name.lower()}/{path.stem.lower()}"


def relative_names(paths: list[Path]) -> list[str]:
    """Paths relative to the deepest folder shared by all, with POSIX separators.

    That makes output names mirror the official layout whatever extra folders a copy sits in.
    """
    if not paths:
        return []
    common = Path(os.path.commonpath([str(p.parent) for p in paths]))
    return [p.relative_to(common).as_posix() for p in paths]
