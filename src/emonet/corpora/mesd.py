"""MESD (Mexican Emotional Speech Database): ``<Emotion>_<voice>_<corpus>_<word>.wav``."""

from __future__ import annotations

import re
from pathlib import Path

from emonet.corpora._helpers import drop_duplicates
from emonet.corpora.base import CorpusSpec, Item, ParseResult, parse_by_name

LABELS = ("anger", "disgust", "fear", "happiness", "neutral", "sadness")
VOICES = {"F": "female", "M": "male", "C": "child"}
"""Voice types in the names; the individual speakers are not identified."""

PATTERN = re.compile(
    r"(?P<emotion>[A-Za-z]+)_(?P<voice>[A-Za-z])_(?P<corpus>[A-Za-z])_(?P<word>.+)"
)


def parse(root: str | Path) -> ParseResult:
    """Emotion, voice type, word corpus and word from each name; the voice type is the speaker."""

    def make(m, path):
        label = m["emotion"].lower()
        if label not in LABELS:
            return f"unknown emotion {m['emotion']!r} (expected {', '.join(LABELS)})"
        voice = VOICES.get(m["voice"].upper())
        if voice is None:
            return f"unknown voice type {m['voice']!r} (expected F, M or C)"
        corpus = m["corpus"].upper()
        if corpus not in ("A", "B"):
            return f"unknown word corpus {m['corpus']!r} (expected A or B)"
        word = m["word"].replace("_", " ").lower()
        extra = {"voice": voice, "word_corpus": corpus, "word": word}
        return Item(path, label, voice, extra=extra)

    result = parse_by_name(
        root, PATTERN, make, "<Emotion>_<F|M|C>_<A|B>_<word> (e.g. Anger_C_A_abajo)"
    )
    return drop_duplicates(result, lambda i: i.path.stem.lower())


SPEC = CorpusSpec(
    name="mesd",
    language="Spanish (Mexican)",
    labels=LABELS,
    speakers=11,
    items=864,
    license="CC BY 4.0 (Mendeley Data, doi:10.17632/cy34mh68j9.1)",
    citation=(
        "Duville, Alonso-Valerdi & Ibarra-Zarate, Mexican Emotional Speech Database Based on "
        "Semantic, Frequency, Familiarity, Concreteness, and Cultural Shaping of Affective "
        "Prosody, Data 6(12):130, 2021"
    ),
    layout="<Emotion>_<F|M|C>_<A|B>_<word>.wav, one flat folder (e.g. Anger_C_A_abajo.wav)",
    parse=parse,
    notes=(
        "Single words in 6 emotions by non-professional actors: 3 adult female, 2 adult male "
        "and 6 child voices (11 documented speakers), 288 files per voice type. The file "
        "names give only the voice type (F female, M male, C child), not the person, so the "
        "speaker column is the voice type (female, male, child): a speaker-independent split "
        "then keeps each voice type in one partition. Word corpus A repeats words across "
        "emotions and voices, corpus B is controlled for age of acquisition, frequency and "
        "familiarity. Words may hold underscores (Fear_M_A_por_favor.wav → 'por favor')."
    ),
)
