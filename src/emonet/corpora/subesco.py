"""SUBESCO (SUST Bangla Emotional Speech Corpus): ``<G>_<nn>_<NAME>_S_<s>_<EMOTION>_<take>.wav``."""

from __future__ import annotations

import re
from pathlib import Path

from emonet.corpora._helpers import drop_duplicates
from emonet.corpora.base import CorpusSpec, Item, ParseResult, parse_by_name

EMOTIONS = {
    "ANGRY": "angry",
    "DISGUST": "disgust",
    "FEAR": "fear",
    "HAPPY": "happy",
    "NEUTRAL": "neutral",
    "SAD": "sad",
    "SURPRISE": "surprise",
}
GENDERS = {"F": "female", "M": "male"}
PATTERN = re.compile(
    r"(?P<gender>[FM])_(?P<number>\d+)_(?P<name>[A-Z]+)_S_(?P<sentence>\d+)"
    r"_(?P<emotion>[A-Z]+)_(?P<take>\d+)\]?",
    re.IGNORECASE,
)
"""The optional ``]`` matches the one misnamed file ``F_02_MONIKA_S_2_SURPRISE_3].wav``."""


def parse(root: str | Path) -> ParseResult:
    """Gender, speaker number and name, sentence, emotion and take from each name."""

    def make(m, path):
        emotion = m["emotion"].upper()
        label = EMOTIONS.get(emotion)
        if label is None:
            return f"unknown emotion {emotion} (expected {', '.join(EMOTIONS)})"
        gender = m["gender"].upper()
        speaker = f"{gender}_{int(m['number']):02d}"
        extra = {
            "gender": GENDERS[gender],
            "speaker_name": m["name"].upper(),
            "sentence": str(int(m["sentence"])),
            "take": str(int(m["take"])),
        }
        return Item(path, label, speaker, extra=extra)

    result = parse_by_name(
        root,
        PATTERN,
        make,
        "<G>_<nn>_<NAME>_S_<sentence>_<EMOTION>_<take> (e.g. F_02_MONIKA_S_1_NEUTRAL_5)",
    )
    return drop_duplicates(
        result, lambda i: (i.speaker, i.extra["sentence"], i.label, i.extra["take"])
    )


SPEC = CorpusSpec(
    name="subesco",
    language="Bangla",
    labels=tuple(EMOTIONS.values()),
    speakers=20,
    items=7000,
    license="CC BY 4.0 (Zenodo record 4526477)",
    citation=(
        "Sultana, Rahman, Selim & Iqbal, SUST Bangla Emotional Speech Corpus (SUBESCO): An "
        "audio-only emotional speech corpus for Bangla, PLoS ONE 16(4), 2021"
    ),
    layout="<G>_<nn>_<NAME>_S_<sentence>_<EMOTION>_<take>.wav, flat (e.g. F_02_MONIKA_S_1_NEUTRAL_5.wav)",
    parse=parse,
    notes=(
        "20 professional actors (10 female, 10 male) x 10 sentences x 7 emotions x 5 takes; "
        "48 kHz 32-bit mono. Speaker numbers restart within each gender, so the speaker is "
        "gender + number (F_01 and M_01 are different people); the actor's name is kept as "
        "speaker_name. One file carries a stray bracket (F_02_MONIKA_S_2_SURPRISE_3].wav) and "
        "is read as take 3."
    ),
)
