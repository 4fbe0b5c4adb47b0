"""JL-Corpus (New Zealand English): ``<speaker>_<emotion>_<sentence><a|b>_<session>.wav``."""

from __future__ import annotations

import re
from pathlib import Path

from emonet.corpora._helpers import as_bool, drop_duplicates
from emonet.corpora.base import CorpusSpec, Item, ParseResult, parse_by_name

PRIMARY = ("angry", "sad", "neutral", "happy", "excited")
SECONDARY = ("anxious", "apologetic", "assertive", "concerned", "encouraging")
PATTERN = re.compile(
    r"(?P<speaker>(?:fe)?male\d)_(?P<emotion>[a-z]+)_(?P<sentence>\d+)(?P<version>[ab])"
    r"_(?P<session>\d+)",
    re.IGNORECASE,
)


def parse(root: str | Path, secondary: bool | str = False) -> ParseResult:
    """Speaker, emotion, sentence and session from each name; ``secondary=true`` adds 5 emotions."""
    with_secondary = as_bool(secondary, "secondary")

    def make(m, path):
        emotion = m["emotion"].lower()
        if emotion in SECONDARY and not with_secondary:
            return (
                f"secondary emotion {emotion}; only the 5 primary emotions are taken "
                "(option secondary=true adds them)"
            )
        if emotion not in PRIMARY and emotion not in SECONDARY:
            return f"unknown emotion {emotion!r} (expected {', '.join(PRIMARY + SECONDARY)})"
        speaker = m["speaker"].lower()
        extra = {
            "gender": "female" if speaker.startswith("female") else "male",
            "sentence": f"{int(m['sentence'])}{m['version'].lower()}",
            "session": str(int(m["session"])),
            "emotion_set": "primary" if emotion in PRIMARY else "secondary",
        }
        return Item(path, emotion, speaker, extra=extra)

    result = parse_by_name(
        root,
        PATTERN,
        make,
        "<speaker>_<emotion>_<sentence><a|b>_<session> (e.g. female1_angry_1a_1)",
    )
    if with_secondary:
        result.labels = PRIMARY + SECONDARY
    return drop_duplicates(result, lambda i: i.path.stem.lower())


SPEC = CorpusSpec(
    name="jlcorpus",
    language="English (New Zealand)",
    labels=PRIMARY,
    speakers=4,
    items=1200,
    license="free for research use with citation (authors' README)",
    citation=(
        "James, Tian & Watson, An Open Source Emotional Speech Corpus for Human Robot "
        "Interaction Applications, Interspeech 2018"
    ),
    layout=(
        "Raw JL corpus (unchecked and unannotated)/JL(wav+txt)/"
        "<female|male><1|2>_<emotion>_<sentence><a|b>_<session>.wav"
    ),
    parse=parse,
    notes=(
        "4 actors (female1, female2, male1, male2), 15 sentences in two versions (a/b) and "
        "2 sessions, 10 emotions: 2400 files, 44.1 kHz 16-bit mono (Format_Intro.txt); some "
        "copies lack a few files. By default only the 5 primary emotions (angry, sad, "
        "neutral, happy, excited: 1200 files) are taken and the secondary ones are skipped "
        "with a reason; option secondary=true adds anxious, apologetic, assertive, concerned "
        "and encouraging. The .txt transcripts beside the audio are not read."
    ),
)
