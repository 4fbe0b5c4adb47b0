"""CREMA-D (Crowd-sourced Emotional Multimodal Actors Dataset): ``AudioWAV/<actor>_<sent>_<emo>_<lvl>.wav``."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from emonet.corpora._helpers import drop_duplicates
from emonet.corpora.base import CorpusSpec, Item, ParseResult, parse_by_name, walk_files

EMOTIONS = {
    "ANG": "anger",
    "DIS": "disgust",
    "FEA": "fear",
    "HAP": "happy",
    "NEU": "neutral",
    "SAD": "sad",
}
LEVELS = {"LO": "low", "MD": "medium", "HI": "high", "XX": "unspecified"}
SENTENCES = {
    "IEO": "It's eleven o'clock",
    "TIE": "That is exactly what happened",
    "IOM": "I'm on my way to the meeting",
    "IWW": "I wonder what this is about",
    "TAI": "The airplane is almost full",
    "MTI": "Maybe tomorrow it will be cold",
    "IWL": "I would like a new alarm clock",
    "ITH": "I think I have a doctor's appointment",
    "DFA": "Don't forget a jacket",
    "ITS": "I think I've seen this before",
    "TSI": "The surface is slick",
    "WSI": "We'll stop in a couple of minutes",
}
PATTERN = re.compile(
    r"(?P<actor>\d{4})_(?P<sentence>[A-Z]{3})_(?P<emotion>[A-Z]{3})_(?P<level>[A-Z]{2})",
    re.IGNORECASE,
)


def _demographics(root: Path) -> dict[str, dict[str, str]]:
    """Gender and age per actor from ``VideoDemographics.csv`` when the copy has it."""
    for path in walk_files(root):
        if path.name.lower() == "videodemographics.csv":
            with open(path, encoding="utf-8-sig", newline="") as f:
                return {
                    row["ActorID"].strip(): {
                        "gender": row.get("Sex", "").strip().lower(),
                        "age": row.get("Age", "").strip(),
                    }
                    for row in csv.DictReader(f)
                    if row.get("ActorID")
                }
    return {}


def parse(root: str | Path) -> ParseResult:
    """Actor, sentence, emotion and level from each name; the WAV copy wins over MP3/video copies."""
    demo = _demographics(Path(root))

    def make(m, path):
        emotion, sentence, level = (m[k].upper() for k in ("emotion", "sentence", "level"))
        label = EMOTIONS.get(emotion)
        if label is None:
            return f"unknown emotion code {emotion} (expected {', '.join(EMOTIONS)})"
        if sentence not in SENTENCES:
            return f"unknown sentence code {sentence}"
        if level not in LEVELS:
            return f"unknown intensity level {level} (expected LO, MD, HI or XX)"
        extra = {"sentence": sentence, "text": SENTENCES[sentence], "intensity": LEVELS[level]}
        extra |= {k: v for k, v in demo.get(m["actor"], {}).items() if v}
        return Item(path, label, m["actor"], extra=extra)

    result = parse_by_name(
        root, PATTERN, make, "<actor>_<sentence>_<emotion>_<level> (e.g. 1001_DFA_ANG_XX)"
    )
    return drop_duplicates(result, lambda i: i.path.stem.upper())


SPEC = CorpusSpec(
    name="cremad",
    language="English (US)",
    labels=tuple(EMOTIONS.values()),
    speakers=91,
    items=7442,
    license="Open Database License (ODbL) 1.0; contents under Database Contents License 1.0",
    citation=(
        "Cao, Cooper, Keutmann, Gur, Nenkova & Verma, CREMA-D: Crowd-sourced Emotional "
        "Multimodal Actors Dataset, IEEE Transactions on Affective Computing 5(4), 2014"
    ),
    layout="AudioWAV/<actor>_<sentence>_<emotion>_<level>.wav, actors 1001-1091, 16 kHz",
    parse=parse,
    notes=(
        "Labels are the acted (intended) emotions, not the crowd ratings. 12 sentences; "
        "level LO/MD/HI/XX (XX unspecified). Gender and age come from VideoDemographics.csv "
        "when present. AudioMP3 and video copies of a recording are skipped as duplicates. "
        "Some copies hold broken files (e.g. an empty 1076_MTI_SAD_XX.wav); they are reported "
        "when decoded."
    ),
)
