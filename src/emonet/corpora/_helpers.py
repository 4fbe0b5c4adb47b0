"""Small helpers shared by the corpus parsers: option parsing, duplicate removal, metadata search."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from pathlib import Path

from emonet.audio import CONTAINER_EXTENSIONS
from emonet.corpora.base import Item, ParseResult

_TRUE = frozenset({"1", "true", "yes", "y", "on"})
_FALSE = frozenset({"0", "false", "no", "n", "off", ""})
_LOSSLESS = frozenset({".wav", ".flac", ".aif", ".aiff"})


def as_bool(value: bool | str | int, option: str) -> bool:
    """Read a yes/no option that may come from the command line as a string."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"option {option} must be true or false, got {value!r}")


def is_video(path: Path) -> bool:
    """True for video containers (``.avi``, ``.mp4``, …), which some corpora ship beside audio."""
    return path.suffix.lower() in CONTAINER_EXTENSIONS


def _rank(item: Item) -> tuple[int, int, str]:
    """Preference among copies of one recording: lossless first, then the shallowest path."""
    suffix = item.path.suffix.lower()
    fmt = 0 if suffix in _LOSSLESS else 2 if suffix in CONTAINER_EXTENSIONS else 1
    return fmt, len(item.path.parts), str(item.path)


def drop_duplicates(result: ParseResult, key: Callable[[Item], Hashable]) -> ParseResult:
    """Keep one item per recording ``key`` (the lossless, shallowest copy); skip the other copies.

    Copies found in the wild hold the same recording twice (e.g. CREMA-D's ``AudioWAV`` and
    ``AudioMP3``, a flat and a foldered SAVEE): one is taken, the others are reported.
    """
    best: dict[Hashable, Item] = {}
    for item in result.items:
        k = key(item)
        if k not in best or _rank(item) < _rank(best[k]):
            best[k] = item
    kept = []
    for item in result.items:
        chosen = best[key(item)]
        if item is chosen:
            kept.append(item)
        else:
            result.skip(item.path, f"duplicate of {chosen.path} (same recording)")
    result.items = kept
    return result


def relative_parts(path: Path, root: Path) -> tuple[str, ...]:
    """The folder names between ``root`` and ``path`` (the file name excluded)."""
    try:
        return path.parent.relative_to(root).parts
    except ValueError:
        return path.parent.parts
