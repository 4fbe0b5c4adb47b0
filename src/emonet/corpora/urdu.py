"""URDU (emotional speech from Urdu talk shows): ``<Emotion>/SGX_FYY_EZZ.wav``."""

from __future__ import annotations

import re
from pathlib import Path

from emonet.corpora.base import CorpusSpec, Item, ParseResult, parse_by_name

CODES = {"A": "angry", "H": "happy", "N": "neutral", "S": "sad"}
PATTERN = re.compile(
    r"S(?P<gender>[MF])(?P<speaker>\d+)_F(?P<file>\d+)_(?P<emotion>[A-Z])(?P<index>\d+)",
    re.IGNORECASE,
)


def parse(root: str | Path) -> ParseResult:
    """Speaker ``S{G}{X}`` and the emotion letter from each name, checked against its folder."""

    def make(m, path):
        letter = m["emotion"].upper()
        label = CODES.get(letter)
        if label is None:
            return f"unknown emotion letter {letter} (expected A, H, N or S)"
        folder = path.parent.name.lower()
        if folder in CODES.values() and folder != label:
            return f"emotion letter {letter} ({label}) disagrees with its folder {path.parent.name}"
        gender = m["gender"].upper()
        return Item(
            path,
            label,
            f"S{gender}{int(m['speaker'])}",
            extra={"gender": "male" if gender == "M" else "female", "file_number": m["file"]},
        )

    return parse_by_name(root, PATTERN, make, "SGX_FYY_EZZ (e.g. SM1_F01_A12)")


SPEC = CorpusSpec(
    name="urdu",
    language="Urdu",
    labels=tuple(CODES.values()),
    speakers=38,
    items=400,
    license="research use only (authors' README)",
    citation=(
        "Latif, Qayyum, Usman & Qadir, Cross Lingual Speech Emotion Recognition: "
        "Urdu vs. Western Languages, FIT 2018"
    ),
    layout="<Emotion>/SGX_FYY_EZZ.wav: gender G and speaker X, file YY, emotion letter E (A H N S)",
    parse=parse,
    notes=(
        "The README documents 38 speakers (27 male, 11 female), but the distributed file names "
        "hold only 29 speaker IDs: SM1-SM7, SM17-SM27 and SF1-SF11 (SM8-SM16 never occur). "
        "Speaker IDs come from the names as they are. File numbers FYY restart in each folder."
    ),
)
