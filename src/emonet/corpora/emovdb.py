"""EmoV-DB (Emotional Voices Database): ``<speaker>_<Emotion>/<emotion>_<a>-<b>_<nnnn>.wav``."""

from __future__ import annotations

import re
from pathlib import Path

from emonet.corpora._helpers import drop_duplicates, relative_parts
from emonet.corpora.base import CorpusSpec, Item, ParseResult, parse_by_name

LABELS = ("amused", "angry", "disgusted", "neutral", "sleepy")
WORDS = {
    "amused": "amused",
    "amusement": "amused",
    "anger": "angry",
    "angry": "angry",
    "disgust": "disgusted",
    "disgusted": "disgusted",
    "neutral": "neutral",
    "sleepiness": "sleepy",
    "sleepy": "sleepy",
}
"""Emotion words of folders (Amused, Angry, Disgusted, Neutral, Sleepy) and file names
(amused, anger, disgusted/disgust, neutral, sleepiness)."""

SPEAKERS = {"bea": "female", "jenie": "female", "josh": "male", "sam": "male"}
PATTERN = re.compile(
    r"(?P<emotion>[a-z]+)_(?P<first>\d+)[-_](?P<last>\d+)_(?P<n>\d+)", re.IGNORECASE
)
SPEAKER_EMOTION = re.compile(r"(?P<speaker>[a-z]+)_(?P<emotion>[a-z]+)", re.IGNORECASE)


def _folders(path: Path, root: Path) -> tuple[str | None, str | None]:
    """(speaker, emotion) from ``<speaker>_<Emotion>/`` or ``<speaker>/<Emotion>/`` folders."""
    parts = [p.lower() for p in relative_parts(path, root)]
    for k in range(len(parts) - 1, -1, -1):
        m = SPEAKER_EMOTION.fullmatch(parts[k])
        if m and m["speaker"] in SPEAKERS:
            return m["speaker"], WORDS.get(m["emotion"])
        if parts[k] in SPEAKERS:
            below = parts[k + 1] if k + 1 < len(parts) else ""
            return parts[k], WORDS.get(below)
    return None, None


def parse(root: str | Path) -> ParseResult:
    """Speaker (and emotion) from the folders, emotion and sentence number from each name."""
    root = Path(root)

    def make(m, path):
        label = WORDS.get(m["emotion"].lower())
        if label is None:
            return f"unknown emotion {m['emotion']!r} in the name (expected {', '.join(LABELS)})"
        speaker, folder_label = _folders(path, root)
        if speaker is None:
            return "no speaker folder (<speaker>_<Emotion>/ or <speaker>/<Emotion>/, speakers bea jenie josh sam)"
        if folder_label is not None and folder_label != label:
            return f"name says {label} but its folder says {folder_label}"
        extra = {
            "gender": SPEAKERS[speaker],
            "sentence": f"{int(m['n']):04d}",
            "annotation_range": f"{int(m['first'])}-{int(m['last'])}",
        }
        return Item(path, label, speaker, extra=extra)

    result = parse_by_name(
        root, PATTERN, make, "<emotion>_<first>-<last>_<nnnn> (e.g. amused_1-15_0001)"
    )
    return drop_duplicates(result, lambda i: (i.speaker, i.label, i.path.stem.lower()))


SPEC = CorpusSpec(
    name="emovdb",
    language="English (North American)",
    labels=LABELS,
    speakers=4,
    items=7000,
    license="non-commercial research and teaching use (EmoV-DB LICENSE.md)",
    citation=(
        "Adigwe, Tits, El Haddad, Ostadabbas & Dutoit, The Emotional Voices Database: "
        "Towards Controlling the Emotion Dimension in Voice Generation Systems, "
        "arXiv:1806.09514, 2018"
    ),
    layout=(
        "<speaker>_<Emotion>/<emotion>_<a>-<b>_<nnnn>.wav (OpenSLR 115 archives, e.g. "
        "bea_Amused/amused_1-15_0001.wav) or <speaker>/<Emotion>/… (the 'sorted' copy)"
    ),
    parse=parse,
    notes=(
        "CMU Arctic sentences read by 4 speakers (bea and jenie female, josh and sam male) in "
        "5 styles; josh recorded only amused, neutral and sleepy (README counts sum to 7000 "
        "files). Name fields: emotion word (amused, anger, disgusted or disgust, neutral, "
        "sleepiness), the annotation-file range (1-15, also written 141_168) and the Arctic "
        "sentence number. The speaker comes from the folder; a file without a speaker folder, "
        "or whose name contradicts its emotion folder, is skipped. 16-bit WAV (the README "
        "gives no sample rate)."
    ),
)
