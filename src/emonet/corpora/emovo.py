"""EMOVO (Italian emotional speech): ``<speaker>/<emo>-<speaker>-<sentence>.wav``."""

from __future__ import annotations

import re
from pathlib import Path

from emonet.corpora.base import CorpusSpec, Item, ParseResult, parse_by_name

CODES = {
    "dis": "disgust",
    "gio": "joy",
    "neu": "neutral",
    "pau": "fear",
    "rab": "anger",
    "sor": "surprise",
    "tri": "sadness",
}
SENTENCE_TYPES = {"b": "short", "l": "long", "n": "nonsense", "d": "question"}
PATTERN = re.compile(
    r"(?P<emotion>[a-z]{3})-(?P<speaker>[fm][1-3])-(?P<sentence>[a-z]\d+)", re.IGNORECASE
)


def parse(root: str | Path) -> ParseResult:
    """Emotion code, speaker (f1-f3, m1-m3) and sentence code from each file name."""

    def make(m, path):
        code = m["emotion"].lower()
        label = CODES.get(code)
        if label is None:
            return f"unknown emotion code {code!r} (expected one of {', '.join(CODES)})"
        speaker = m["speaker"].lower()
        sentence = m["sentence"].lower()
        return Item(
            path,
            label,
            speaker,
            extra={
                "gender": "female" if speaker[0] == "f" else "male",
                "sentence": sentence,
                "sentence_type": SENTENCE_TYPES.get(sentence[0], "unknown"),
            },
        )

    return parse_by_name(root, PATTERN, make, "<emo>-<speaker>-<sentence> (e.g. dis-f1-b1)")


SPEC = CorpusSpec(
    name="emovo",
    language="Italian",
    labels=tuple(CODES.values()),
    speakers=6,
    items=588,
    license="free for research use with acknowledgment",
    citation=(
        "Costantini, Iaderola, Paoloni & Todisco, EMOVO Corpus: an Italian Emotional Speech "
        "Database, LREC 2014"
    ),
    layout="<speaker>/<emo>-<speaker>-<sentence>.wav: speakers f1 f2 f3 m1 m2 m3, 14 sentences",
    parse=parse,
    notes=(
        "48 kHz, some files stereo (downmixed when prepared). 14 sentences per emotion and "
        "speaker: b1-b3 short, l1-l4 long, n1-n5 nonsense, d1-d2 questions."
    ),
)
