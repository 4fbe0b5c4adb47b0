"""Generic importer ``folders``: one folder per label, ``<root>/<label>/…/*.<audio>``."""

from __future__ import annotations

import re
from pathlib import Path

from emonet.corpora._helpers import drop_duplicates
from emonet.corpora.base import CorpusSpec, Item, ParseResult, is_junk, walk_files

UNKNOWN_SPEAKER = "unknown"


def split_labels(labels: str | None) -> list[str]:
    """The ``labels`` option (a comma list) as a list; empty when not given."""
    return [s.strip() for s in str(labels or "").split(",") if s.strip()]


def check_labels(labels: str | None, found: set[str], where: str) -> None:
    """Raise when the ``labels`` option names a label that no item carries."""
    missing = [lab for lab in split_labels(labels) if lab not in found]
    if missing:
        raise ValueError(
            f"option labels: {', '.join(missing)} not found in {where} "
            f"(labels found: {', '.join(sorted(found)) or 'none'})"
        )


def _level(level: int | str) -> int:
    try:
        return int(str(level).strip())
    except ValueError:
        raise ValueError(
            f"option level must be an integer (0 = first folder below the source, "
            f"-1 = the file's parent folder), got {level!r}"
        ) from None


def _speaker_pattern(speaker: str | re.Pattern[str] | None) -> re.Pattern[str] | None:
    if speaker is None or speaker == "":
        return None
    if isinstance(speaker, re.Pattern):
        return speaker
    try:
        return re.compile(speaker)
    except re.error as exc:
        raise ValueError(f"option speaker: invalid regular expression {speaker!r}: {exc}") from None


def _unwrap(root: Path) -> Path:
    """Descend through wrapper folders (a single subfolder and nothing else, junk aside)."""
    while True:
        entries = [p for p in root.iterdir() if not is_junk(p.name)]
        if len(entries) != 1 or not entries[0].is_dir():
            return root
        inner = entries[0]
        subdirs = [p for p in inner.iterdir() if p.is_dir() and not is_junk(p.name)]
        if not subdirs:  # the single folder is itself a label folder
            return root
        root = inner


def parse(
    root: str | Path,
    level: int | str = 0,
    speaker: str | re.Pattern[str] | None = None,
    labels: str | None = None,
) -> ParseResult:
    """Label = the folder at depth ``level`` below ``root``; speaker from the ``speaker`` pattern.

    ``level`` counts from 0 (the first folder below the source); a negative level counts back from
    the file (``-1`` = its parent folder). With ``level >= 0`` wrapper folders (a single subfolder
    and nothing else) are descended first. ``speaker`` is a regular expression searched in the
    path relative to ``root`` (POSIX separators); its named group ``speaker`` (else group 1,
    else the whole match) is the speaker. Without it every file has speaker ``unknown``.
    ``labels`` (comma list) is applied by prepare; here it is only checked against the folders.
    """
    root = Path(root)
    depth = _level(level)
    pattern = _speaker_pattern(speaker)
    files = list(walk_files(root, audio_only=True))  # raises for a missing folder
    base = _unwrap(root) if depth >= 0 else root
    result = ParseResult()
    for path in files:
        rel = path.relative_to(base) if path.is_relative_to(base) else path.relative_to(root)
        folders = rel.parts[:-1]
        if not folders:
            result.skip(path, "directly in the source folder, not in a label folder")
            continue
        if not -len(folders) <= depth < len(folders):
            result.skip(
                path,
                f"no folder at level {depth} (the file is {len(folders)} folder(s) deep)",
            )
            continue
        label = folders[depth].strip()
        spk = UNKNOWN_SPEAKER
        if pattern is not None:
            where = path.relative_to(root).as_posix()
            m = pattern.search(where)
            if m is None:
                result.skip(path, f"speaker pattern {pattern.pattern!r} does not match {where!r}")
                continue
            if "speaker" in pattern.groupindex:
                spk = m["speaker"]
            elif pattern.groups:
                spk = m[1]
            else:
                spk = m[0]
            if not spk:
                result.skip(path, f"speaker pattern {pattern.pattern!r} matched an empty speaker")
                continue
        result.items.append(Item(path, label, spk))
    check_labels(labels, {i.label for i in result.items}, f"the label folders of {base}")
    return drop_duplicates(result, lambda i: (i.path.parent, i.path.stem.lower()))


SPEC = CorpusSpec(
    name="folders",
    language="any",
    labels=None,
    speakers=None,
    items=None,
    license="that of the imported data",
    citation="cite the imported corpus",
    layout="<root>/<label>/…/*.<audio> (one folder per label, any nesting below it)",
    parse=parse,
    generic=True,
    notes=(
        "Label = the first folder below the source (option level=N picks another depth; "
        "level=-1 is each file's parent folder); wrapper folders holding only one folder are "
        "descended. Option speaker=REGEX: searched in the file's path relative to the source folder (POSIX "
        "separators), the named group 'speaker' (else group 1) is the speaker; files it does not "
        "match are skipped. Without it every speaker is 'unknown' and the split falls back to "
        "stratified by item. Option labels=a,b,c sets the label order and keeps only those "
        "labels. Files directly in the source folder are skipped. The same recording in two "
        "formats is taken once."
    ),
)
