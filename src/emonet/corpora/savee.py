"""SAVEE (Surrey Audio-Visual Expressed Emotion): ``AudioData/<speaker>/<code><nn>.wav``."""

from __future__ import annotations

import re
from pathlib import Path

from emonet.corpora._helpers import drop_duplicates, is_video
from emonet.corpora.base import CorpusSpec, Item, ParseResult, parse_by_name

CODES = {
    "a": "anger",
    "d": "disgust",
    "f": "fear",
    "h": "happiness",
    "n": "neutral",
    "sa": "sadness",
    "su": "surprise",
}
SPEAKERS = ("DC", "JE", "JK", "KL")
PATTERN = re.compile(r"(?:(?P<speaker>[A-Z]{2})_)?(?P<code>sa|su|[a-z])(?P<n>\d\d)", re.IGNORECASE)


def parse(root: str | Path) -> ParseResult:
    """Emotion code and sentence number from the name; speaker from a prefix or the folder."""

    def make(m, path):
        if is_video(path):
            return "video clip (AudioVisualClip); the audio-only AudioData recordings are taken"
        code = m["code"].lower()
        label = CODES.get(code)
        if label is None:
            return f"unknown emotion code {code!r} (expected a, d, f, h, n, sa or su)"
        speaker = (m["speaker"] or path.parent.name).upper()
        if speaker not in SPEAKERS:
            return f"no speaker: neither a DC_/JE_/JK_/KL_ prefix nor a speaker folder ({path.parent.name})"
        return Item(path, label, speaker, extra={"sentence": f"{code}{m['n']}"})

    result = parse_by_name(
        root, PATTERN, make, "<code><nn> or <speaker>_<code><nn> (e.g. sa01, DC_sa01)"
    )
    return drop_duplicates(result, lambda i: (i.speaker, i.extra["sentence"]))


SPEC = CorpusSpec(
    name="savee",
    language="English (British)",
    labels=tuple(CODES.values()),
    speakers=4,
    items=480,
    license="free for research use (University of Surrey)",
    citation=(
        "Haq & Jackson, Speaker-dependent audio-visual emotion recognition, AVSP 2009; "
        "Surrey Audio-Visual Expressed Emotion (SAVEE) database"
    ),
    layout="AudioData/<DC|JE|JK|KL>/<code><nn>.wav (or flat <speaker>_<code><nn>.wav)",
    parse=parse,
    notes=(
        "4 male speakers, 120 utterances each: 15 per emotion and 30 neutral; 44.1 kHz. Codes a d "
        "f h n sa su. Flat copies named <speaker>_<code><nn>.wav are read as well; video clips "
        "and second copies of a recording are skipped."
    ),
)
