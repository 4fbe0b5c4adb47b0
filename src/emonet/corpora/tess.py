"""TESS (Toronto Emotional Speech Set): ``<OAF|YAF>_<emotion>/<OAF|YAF>_<word>_<emotion>.wav``."""

from __future__ import annotations

import re
from pathlib import Path

from emonet.corpora._helpers import drop_duplicates
from emonet.corpora.base import CorpusSpec, Item, ParseResult, parse_by_name

LABELS = ("angry", "disgust", "fear", "happy", "neutral", "pleasant_surprise", "sad")
EMOTIONS = {label: label for label in LABELS} | {
    "ps": "pleasant_surprise",
    "pleasant_surprised": "pleasant_surprise",
    "pleasant surprise": "pleasant_surprise",
    "pleasant surprised": "pleasant_surprise",
}
SPEAKERS = {"oaf": "OAF", "oa": "OAF", "yaf": "YAF", "ya": "YAF"}
"""Speaker prefixes; ``OA``/``YA`` occur as typos (e.g. ``OA_bite_neutral.wav``)."""
AGES = {"OAF": "64", "YAF": "26"}

PATTERN = re.compile(r"(?P<speaker>[OY]AF?)_(?P<word>[^_]+)_(?P<emotion>.+)", re.IGNORECASE)
FOLDER = re.compile(r"(?P<speaker>[OY]AF?)_(?P<emotion>.+)", re.IGNORECASE)


def parse(root: str | Path) -> ParseResult:
    """Speaker, word and emotion from each name, checked against a ``<speaker>_<emotion>`` folder."""

    def make(m, path):
        label = EMOTIONS.get(m["emotion"].lower())
        if label is None:
            return f"unknown emotion {m['emotion']!r} (expected {', '.join(LABELS)} or ps)"
        speaker = SPEAKERS[m["speaker"].lower()]
        folder = FOLDER.fullmatch(path.parent.name)
        if folder:
            f_label = EMOTIONS.get(folder["emotion"].lower())
            f_speaker = SPEAKERS[folder["speaker"].lower()]
            if f_label is not None and (f_label, f_speaker) != (label, speaker):
                return f"name says {speaker} {label} but its folder is {path.parent.name}"
        word = m["word"].lower()
        extra = {"word": word, "text": f"Say the word {word}", "age": AGES[speaker]}
        return Item(path, label, speaker, extra=extra)

    result = parse_by_name(root, PATTERN, make, "<OAF|YAF>_<word>_<emotion> (e.g. OAF_back_angry)")
    return drop_duplicates(result, lambda i: (i.speaker, i.extra["word"], i.label))


SPEC = CorpusSpec(
    name="tess",
    language="English (Canadian)",
    labels=LABELS,
    speakers=2,
    items=2800,
    license="CC BY-NC-ND 4.0",
    citation=(
        "Pichora-Fuller & Dupuis, Toronto emotional speech set (TESS), "
        "Borealis (University of Toronto), 2020, doi:10.5683/SP2/E8H2MF"
    ),
    layout="<OAF|YAF>_<emotion>/<OAF|YAF>_<word>_<emotion>.wav, emotion 'ps' = pleasant surprise",
    parse=parse,
    notes=(
        "Two actresses (OAF aged 64, YAF aged 26) say 'Say the word _' with 200 target words in "
        "7 emotions; about 24.4 kHz. Folder case varies (OAF_Fear, YAF_pleasant_surprised). "
        "Only 2 speakers, so no speaker-independent 3-way split exists: the text column "
        "('Say the word <word>') lets the split fall back to a text-independent one."
    ),
)
