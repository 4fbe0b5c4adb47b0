"""ESD (Emotional Speech Dataset): ``<spk>/<Emotion>/<train|evaluation|test>/<spk>_<nnnnnn>.wav``."""

from __future__ import annotations

import re
from pathlib import Path

from emonet.corpora._helpers import drop_duplicates, relative_parts
from emonet.corpora.base import CorpusSpec, Item, ParseResult, parse_by_name, walk_files

LABELS = ("angry", "happy", "neutral", "sad", "surprise")
BLOCKS = ("neutral", "angry", "happy", "sad", "surprise")
"""Each speaker's utterances are numbered in blocks of 350 per emotion, in this order."""

BLOCK = 350
SPLIT_FOLDERS = {"train": "train", "evaluation": "devel", "test": "test"}
FEMALE = frozenset({1, 2, 3, 7, 9, 15, 16, 17, 18, 19})
"""Speakers documented as female in ESD's ReadMe.txt; the others are male."""

PATTERN = re.compile(r"(?P<speaker>\d{4})_(?P<n>\d{6})")
TRANSCRIPT = re.compile(r"(?P<speaker>\d{4})\.txt", re.IGNORECASE)


def position_partition(position: int) -> str:
    """Official partition of the ``position``-th (1-350) utterance of an emotion block.

    The distributed folders hold utterances 1-20 of each block in ``evaluation``, 21-50 in
    ``test`` and 51-350 in ``train``; copies without those folders are split the same way.
    """
    if position <= 20:
        return "devel"
    if position <= 50:
        return "test"
    return "train"


def _decode(data: bytes, speaker: int) -> str:
    """Text of one transcript file: ESD mixes UTF-16, UTF-8, GB2312 and Latin-1 files."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("gb18030" if speaker <= 10 else "latin-1", errors="replace")


def _transcripts(root: Path) -> dict[str, str]:
    """Utterance → text from the ``<spk>/<spk>.txt`` files found below ``root``."""
    texts: dict[str, str] = {}
    for path in walk_files(root):
        m = TRANSCRIPT.fullmatch(path.name)
        if not m:
            continue
        for line in _decode(path.read_bytes(), int(m["speaker"])).splitlines():
            fields = line.strip().split("\t")
            if len(fields) >= 2 and PATTERN.fullmatch(fields[0]):
                texts.setdefault(fields[0], fields[1].strip())
    return texts


def parse(root: str | Path) -> ParseResult:
    """Speaker and number from the name, emotion and partition from the folders (or the number)."""
    root = Path(root)
    texts = _transcripts(root)

    def make(m, path):
        speaker, number = int(m["speaker"]), int(m["n"])
        if not 1 <= speaker <= 20:
            return f"unknown speaker {m['speaker']} (ESD has speakers 0001-0020)"
        if not 1 <= number <= len(BLOCKS) * BLOCK:
            return f"utterance number {m['n']} is outside 000001-001750"
        folders = relative_parts(path, root)
        lower = [f.lower() for f in folders]
        spk_folder = next((f for f in reversed(folders) if re.fullmatch(r"\d{4}", f)), None)
        if spk_folder is not None and spk_folder != m["speaker"]:
            return f"speaker {m['speaker']} in the name but the file is in folder {spk_folder}"
        by_number = BLOCKS[(number - 1) // BLOCK]
        label = next((f for f in reversed(lower) if f in LABELS), None)
        if label is not None and label != by_number:
            return (
                f"utterance {m['n']} belongs to the {by_number} block (000001-000350 neutral, "
                f"000351-000700 angry, …) but the file is in folder {label}"
            )
        position = (number - 1) % BLOCK + 1
        split = next((SPLIT_FOLDERS[f] for f in reversed(lower) if f in SPLIT_FOLDERS), None)
        extra = {
            "language": "Mandarin" if speaker <= 10 else "English",
            "gender": "female" if speaker in FEMALE else "male",
            "split_from": "folder" if split else "number",
        }
        if path.stem in texts:
            extra["text"] = texts[path.stem]
        partition = split or position_partition(position)
        return Item(path, label or by_number, m["speaker"], partition=partition, extra=extra)

    result = parse_by_name(root, PATTERN, make, "<spk>_<nnnnnn> (e.g. 0001_000351)")
    return drop_duplicates(result, lambda i: i.path.stem)


SPEC = CorpusSpec(
    name="esd",
    language="English + Mandarin Chinese",
    labels=LABELS,
    speakers=20,
    items=35000,
    license="research use only (ESD ReadMe.txt)",
    citation=(
        "Zhou, Sisman, Liu & Li, Seen and unseen emotional style transfer for voice "
        "conversion with a new emotional speech dataset, ICASSP 2021"
    ),
    layout=(
        "<spk 0001-0020>/<Angry|Happy|Neutral|Sad|Surprise>/<train|evaluation|test>/"
        "<spk>_<nnnnnn>.wav + <spk>/<spk>.txt transcripts"
    ),
    parse=parse,
    official_split=True,
    notes=(
        "10 Mandarin (0001-0010) and 10 English (0011-0020) speakers, 350 parallel utterances "
        "per emotion, 16 kHz. Utterances are numbered in blocks of 350: 000001-000350 "
        "neutral, 000351-000700 angry, 000701-001050 happy, 001051-001400 sad, 001401-001750 "
        "surprise; a file whose emotion folder contradicts its block is skipped. Official "
        "split: the train/evaluation/test folders (evaluation = devel), i.e. positions 1-20 "
        "of each block devel, 21-50 test, 51-350 train; copies without those folders get "
        "the same split from the number (column split_from says which). The official split "
        "shares all speakers across partitions (it is not speaker-independent). Transcripts "
        "come from <spk>/<spk>.txt (UTF-16, UTF-8, GB2312 or Latin-1)."
    ),
)
