"""ShEMO (Sharif Emotional Speech Database): ``<female|male>/<G><spk:02><E><nn>.wav``."""

from __future__ import annotations

import re
from pathlib import Path

from emonet.corpora._helpers import drop_duplicates
from emonet.corpora.base import CorpusSpec, Item, ParseResult, parse_by_name

CODES = {
    "A": "anger",
    "F": "fear",
    "H": "happiness",
    "N": "neutral",
    "S": "sadness",
    "W": "surprise",
}
GENDERS = {"F": "female", "M": "male"}
PATTERN = re.compile(
    r"(?P<gender>[FM])(?P<speaker>\d\d)(?P<emotion>[A-Z])(?P<n>\d+)", re.IGNORECASE
)


def parse(root: str | Path) -> ParseResult:
    """Gender letter, speaker number, emotion letter and utterance number from each name."""

    def make(m, path):
        letter = m["emotion"].upper()
        label = CODES.get(letter)
        if label is None:
            return f"unknown emotion letter {letter} (expected A, F, H, N, S or W)"
        gender = GENDERS[m["gender"].upper()]
        folder = path.parent.name.lower()
        if folder in GENDERS.values() and folder != gender:
            return f"gender letter {m['gender'].upper()} ({gender}) disagrees with its folder {path.parent.name}"
        speaker = f"{m['gender'].upper()}{m['speaker']}"
        return Item(path, label, speaker, extra={"gender": gender, "utterance": m["n"]})

    result = parse_by_name(root, PATTERN, make, "<G><spk><E><nn> (e.g. F01A01)")
    return drop_duplicates(result, lambda i: i.path.stem.upper())


SPEC = CorpusSpec(
    name="shemo",
    language="Persian",
    labels=tuple(CODES.values()),
    speakers=87,
    items=3000,
    license="free for academic use (authors' README: open source; the HF mirror states Apache-2.0)",
    citation=(
        "Mohamad Nezami, Jamshid Lou & Karami, ShEMO: a large-scale validated database for "
        "Persian speech emotion detection, Language Resources and Evaluation 53(1), 2019"
    ),
    layout="<female|male>/<G><spk:02><E><nn>.wav: gender G, speaker number, emotion letter E",
    parse=parse,
    notes=(
        "Semi-natural utterances from Persian radio plays; 87 speakers (31 female, "
        "56 male), majority labels of 12 annotators. Letters A anger, F fear, H happiness, "
        "N neutral, S sadness, W surprise; a leading F/M is the gender, so speaker = gender + "
        "number (F01, M01 are different people). Fear is rare (38 utterances). A file whose "
        "gender letter contradicts its female/male folder is skipped."
    ),
)
