"""BAVED (Basic Arabic Vocal Emotions Dataset): ``<word>/<spk>-<g>-<age>-<word>-<level>-<rec>.wav``."""

from __future__ import annotations

import re
from pathlib import Path

from emonet.corpora.base import CorpusSpec, Item, ParseResult, parse_by_name

LEVELS = {"0": "low", "1": "neutral", "2": "high"}
PATTERN = re.compile(
    r"(?P<speaker>\d+)-(?P<gender>[mf])-(?P<age>\d+)-(?P<word>\d+)-(?P<level>\d+)-(?P<record>\d+)",
    re.IGNORECASE,
)


def parse(root: str | Path) -> ParseResult:
    """Speaker, gender, age, word (0-6) and emotion level (0-2) from each file name."""

    def make(m, path):
        label = LEVELS.get(m["level"])
        if label is None:
            return f"unknown emotion level {m['level']} (expected 0, 1 or 2)"
        if not 0 <= int(m["word"]) <= 6:
            return f"unknown word {m['word']} (expected 0-6)"
        return Item(
            path,
            label,
            str(int(m["speaker"])),
            extra={
                "gender": "male" if m["gender"].lower() == "m" else "female",
                "age": str(int(m["age"])),
                "word": m["word"],
                "record": m["record"],
            },
        )

    return parse_by_name(
        root,
        PATTERN,
        make,
        "<speaker>-<gender>-<age>-<word>-<level>-<record> (e.g. 0-m-21-0-1-105)",
    )


SPEC = CorpusSpec(
    name="baved",
    language="Arabic",
    labels=tuple(LEVELS.values()),
    speakers=61,
    items=1935,
    license="see the authors' repository (research use)",
    citation="Aouf, Basic Arabic Vocal Emotions Dataset (BAVED), GitHub 40uf411, 2019",
    layout="<word>/<speaker>-<gender>-<age>-<word>-<level>-<record>.wav (naming.txt in the archive)",
    parse=parse,
    notes=(
        "7 words (folders 0-6) spoken at three levels of expressed emotion: 0 low (tired, down), "
        "1 neutral, 2 high (any strong emotion); the level is the label. 16 kHz mono. 45 male and "
        "16 female speakers, mostly aged 18-23."
    ),
)
