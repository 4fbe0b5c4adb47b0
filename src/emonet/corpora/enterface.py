"""eNTERFACE'05 (audio-visual emotion database): ``subject <n>/<emotion>/sentence <k>/s<n>_<em>_<k>.avi``."""

from __future__ import annotations

import re
from pathlib import Path

from emonet.corpora._helpers import drop_duplicates, relative_parts
from emonet.corpora.base import CorpusSpec, Item, ParseResult, walk_files

CODES = {
    "an": "anger",
    "di": "disgust",
    "fe": "fear",
    "ha": "happiness",
    "sa": "sadness",
    "su": "surprise",
}
PATTERN = re.compile(
    r"s_?(?P<subject>\d+)_(?P<code>[a-z]{2})_?(?P<sentence>\d+)(?:avi)?", re.IGNORECASE
)
"""``s_3_an_1`` and ``s16_su_3avi`` occur besides the regular ``s1_an_1``."""

SUBJECT = re.compile(r"subject[ _-]?(?P<n>\d+)", re.IGNORECASE)


def _item(m: re.Match[str], path: Path, root: Path) -> Item | str:
    """The item named by ``m``, or the reason to skip the file."""
    code = m["code"].lower()
    label = CODES.get(code)
    if label is None:
        return f"unknown emotion code {code!r} (expected {', '.join(CODES)})"
    folders = relative_parts(path, root)
    folder_label = next((f.lower() for f in reversed(folders) if f.lower() in CODES.values()), None)
    if folder_label is not None and folder_label != label:
        return f"emotion code {code} ({label}) disagrees with its folder {folder_label}"
    named = int(m["subject"])
    in_folder = next((s for s in map(SUBJECT.fullmatch, reversed(folders)) if s), None)
    subject = int(in_folder["n"]) if in_folder else named
    extra = {"sentence": str(int(m["sentence"]))}
    if subject != named:
        extra["name_subject"] = str(named)
    return Item(path, label, f"s{subject}", extra=extra)


def parse(root: str | Path) -> ParseResult:
    """Subject from its ``subject <n>`` folder (else the name), emotion and sentence from the name.

    The clips are video (``.avi``); their audio track is decoded later (PyAV), so they are items.
    A second copy of a clip (e.g. a demuxed ``.wav`` beside it) is reported as a duplicate; the
    lossless audio copy is the one taken.
    """
    root = Path(root)
    result = ParseResult()
    for path in walk_files(root, audio_only=True):
        m = PATTERN.fullmatch(path.stem)
        if not m:
            result.skip(
                path,
                "file name does not follow the scheme s<subject>_<emotion>_<sentence> (e.g. s1_an_1)",
            )
            continue
        made = _item(m, path, root)
        if isinstance(made, str):
            result.skip(path, made)
        else:
            result.items.append(made)
    return drop_duplicates(result, lambda i: (i.speaker, i.label, i.extra["sentence"]))


SPEC = CorpusSpec(
    name="enterface",
    language="English (non-native speakers)",
    labels=tuple(CODES.values()),
    speakers=42,
    items=1166,
    license="free for scientific research (eNTERFACE'05 EMOTION Database site)",
    citation=(
        "Martin, Kotsia, Macq & Pitas, The eNTERFACE'05 Audio-Visual Emotion Database, "
        "ICDE Workshops (ICDEW) 2006"
    ),
    layout="subject <n>/<emotion>/sentence <k>/s<n>_<an|di|fe|ha|sa|su>_<k>.avi",
    parse=parse,
    notes=(
        "Video clips (DivX .avi with an audio track); their audio is demuxed when the corpus "
        "is prepared, so .avi files are items (a demuxed .wav copy of a clip, if present, is "
        "taken instead and the .avi reported as its duplicate). 6 emotions, 5 sentences each, reactions judged unambiguous by two experts. "
        "The paper reports 42 subjects and 1166 clips; copies in circulation hold 44 subject "
        "folders and about 1290 clips. Quirks handled: subject 6 has no sentence folders "
        "(clips sit in the emotion folders), subject 11's clips are named s12_*, some names "
        "read s_3_* or s16_su_3avi.avi. The speaker is s<n> from the 'subject <n>' folder "
        "(the name's number when a copy is flat; column name_subject keeps a differing one). "
        "Clips whose emotion code contradicts their emotion folder are skipped."
    ),
)
