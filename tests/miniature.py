"""Build miniature corpora in their official layouts: real file names, generated audio, junk."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import soundfile as sf


def tone(
    seconds: float = 0.25,
    sr: int = 16_000,
    freq: float = 220.0,
    channels: int = 1,
    amp: float = 0.3,
) -> np.ndarray:
    """A sine of ``freq`` Hz, float32, shape ``(samples,)`` or ``(samples, channels)``."""
    t = np.arange(round(seconds * sr)) / sr
    x = (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    return x if channels == 1 else np.repeat(x[:, None], channels, axis=1)


def write_tone(
    path: Path, sr: int = 16_000, seconds: float = 0.25, channels: int = 1, **kw
) -> Path:
    """Write a short sine to ``path``; the format follows the extension (any case)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fmt = {".wav": "WAV", ".flac": "FLAC", ".ogg": "OGG", ".aif": "AIFF", ".aiff": "AIFF"}.get(
        path.suffix.lower()
    )
    if fmt is None:
        raise ValueError(f"write_tone cannot write {path.suffix}")
    subtype = "VORBIS" if fmt == "OGG" else "PCM_16"
    sf.write(str(path), tone(seconds, sr, channels=channels, **kw), sr, format=fmt, subtype=subtype)
    return path


def write_tones(root: Path, names: Iterable[str], **kw) -> list[Path]:
    """Write a tone at each relative name below ``root``."""
    return [write_tone(root / n, **kw) for n in names]


def add_junk(root: Path, some_audio: Path | None = None) -> None:
    """Add what copies found in the wild carry: ``__MACOSX/``, ``.DS_Store``, ``desktop.ini``."""
    (root / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (root / "desktop.ini").write_text("[.ShellClassInfo]\n")
    mac = root / "__MACOSX"
    mac.mkdir(exist_ok=True)
    name = some_audio.name if some_audio is not None else "x.wav"
    (mac / f"._{name}").write_bytes(b"\x00\x05\x16\x07" + b"\x00" * 60)
    if some_audio is not None:
        (some_audio.parent / f"._{some_audio.name}").write_bytes(b"\x00\x05\x16\x07" + b"\x00" * 60)


def triples(res) -> set[tuple[str, str, str]]:
    """(file name, label, speaker) of every item of a parse result."""
    return {(i.path.name, i.label, i.speaker) for i in res.items}


def skips(res, root: Path) -> dict[str, str]:
    """Skipped paths of a parse result relative to ``root`` → reason."""
    return {Path(s.path).relative_to(root).as_posix(): s.reason for s in res.skipped}


def fake(path: Path) -> Path:
    """A file that is not real audio (video, MP3): parsers never open it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x00" * 64)
    return path
