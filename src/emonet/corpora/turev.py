"""TurEV-DB (Turkish Emotion-Voice Database): ``Sound Source/<Emotion>/<speaker>_<code>_<word>.wav``."""

from __future__ import annotations

import re
from pathlib import Path

from emonet.corpora._helpers import drop_duplicates, relative_parts
from emonet.corpora.base import CorpusSpec, Item, ParseResult, parse_by_name, walk_files

CODES = {"kz": "angry", "sk": "calm", "mt": "happy", "hl": "sad"}
"""Turkish codes in the names: kızgın, sakin, mutlu, hüzünlü."""

PATTERN = re.compile(
    r"(?P<speaker>\d+)_(?P<code>[a-z]{2})_(?P<word>[a-z0-9]*[a-z][a-z0-9]*)", re.IGNORECASE
)
"""The word may hold digits (the real copy has ``7895_hl_ogul1.wav``), but needs a letter."""
SOURCE_FOLDER = "sound source"


def parse(root: str | Path) -> ParseResult:
    """Speaker and emotion code from each name; only ``Sound Source/`` when the copy has one."""
    root = Path(root)
    only_source = any(
        SOURCE_FOLDER in (f.lower() for f in relative_parts(p, root))
        for p in walk_files(root, audio_only=True)
    )

    def make(m, path):
        if only_source and SOURCE_FOLDER not in (f.lower() for f in relative_parts(path, root)):
            return "outside 'Sound Source/' (a filtered copy from the repository's model outputs)"
        code = m["code"].lower()
        label = CODES.get(code)
        if label is None:
            return f"unknown emotion code {code!r} (expected kz, sk, mt or hl)"
        folder = path.parent.name.lower()
        if folder in CODES.values() and folder != label:
            return f"emotion code {code} ({label}) disagrees with its folder {path.parent.name}"
        return Item(path, label, m["speaker"], extra={"word": m["word"].lower()})

    result = parse_by_name(root, PATTERN, make, "<speaker>_<code>_<word> (e.g. 1157_kz_acik)")
    return drop_duplicates(result, lambda i: i.path.stem.lower())


SPEC = CorpusSpec(
    name="turev",
    language="Turkish",
    labels=tuple(CODES.values()),
    speakers=6,
    items=1735,
    license="CC BY-NC-ND 4.0",
    citation=(
        "Canpolat, Ormanoğlu & Zeyrek, Turkish Emotion Voice Database (TurEV-DB), "
        "SLTU-CCURL workshop, LREC 2020"
    ),
    layout="Sound Source/<Emotion>/<speaker>_<code>_<word>.wav, emotion folders Angry Calm Happy Sad",
    parse=parse,
    notes=(
        "44.1 kHz; single words. Codes kz angry, sk calm, mt happy, hl sad; the four-digit speaker "
        "codes (1157 1234 1358 1984 6783 7895) are the speakers. The GitHub repository also holds "
        "filtered copies under 'Model Output for Test Data/'; when a 'Sound Source' folder exists "
        "only it is read."
    ),
)
