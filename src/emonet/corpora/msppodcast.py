"""MSP-Podcast: ``Audios/MSP-PODCAST_<podcast>_<segment>.wav`` labelled by ``Labels/labels_consensus.csv``."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from emonet.corpora._helpers import drop_duplicates
from emonet.corpora.base import CorpusSpec, Item, ParseResult, walk_files

CODES = {
    "A": "anger",
    "S": "sadness",
    "H": "happiness",
    "U": "surprise",
    "F": "fear",
    "D": "disgust",
    "C": "contempt",
    "N": "neutral",
}
UNUSABLE = {"O": "other", "X": "no agreement among the annotators"}
SPLITS = {
    "train": "train",
    "development": "devel",
    "validation": "devel",
    "test1": "test",
    "test2": "test",
    "test3": "test",
}
"""``Split_Set`` values (lower-case) → partition; release 1.8 called the devel set Validation."""

LABEL_FILES = ("labels_consensus.csv", "labels_concensus.csv")
"""Releases before 1.9 spell the file ``labels_concensus.csv``."""

NAME = re.compile(r"MSP-PODCAST_(?P<podcast>\d+)_(?P<segment>\d+)(?:_\d+)?", re.IGNORECASE)
UNKNOWN_SPEAKERS = frozenset({"", "unknown", "nan"})


def _read_labels(root: Path) -> tuple[dict[str, dict[str, str]], Path | None]:
    """Rows of the consensus label table by lower-case file stem, and the table's path."""
    tables = sorted(
        (p for p in walk_files(root) if p.name.lower() in LABEL_FILES),
        key=lambda p: (p.parent.name.lower() != "labels", len(p.parts), str(p)),
    )
    if not tables:
        return {}, None
    rows: dict[str, dict[str, str]] = {}
    with open(tables[0], encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        fields = [h.strip() for h in (reader.fieldnames or [])]
        missing = {"FileName", "EmoClass", "Split_Set"} - set(fields)
        if missing:
            raise ValueError(f"{tables[0]}: missing columns {sorted(missing)} (header {fields})")
        reader.fieldnames = fields
        for raw in reader:
            row = {k: (v or "").strip() for k, v in raw.items() if k is not None}
            if row.get("FileName"):
                rows.setdefault(Path(row["FileName"]).stem.lower(), row)
    return rows, tables[0]


def _speaker(row: dict[str, str], stem: str) -> tuple[str, bool]:
    """Speaker ID, and whether it is known; unknown speakers are grouped per podcast."""
    raw = row.get("SpkrID", "")
    if raw.lower() not in UNKNOWN_SPEAKERS:
        return (raw[:-2] if raw.endswith(".0") and raw[:-2].isdigit() else raw), True
    m = NAME.fullmatch(stem)
    return (f"unknown-{m['podcast']}" if m else "unknown"), False


def parse(root: str | Path) -> ParseResult:
    """Class, dimensions, speaker and official partition of each file from the consensus table."""
    root = Path(root)
    rows, table = _read_labels(root)
    result = ParseResult()
    found: set[str] = set()
    for path in walk_files(root, audio_only=True):
        key = path.stem.lower()
        if table is None:
            result.skip(path, "no Labels/labels_consensus.csv found below the source folder")
            continue
        row = rows.get(key)
        if row is None:
            result.skip(path, f"not listed in {table.name}")
            continue
        found.add(key)
        code = row.get("EmoClass", "").upper()
        if code in UNUSABLE:
            result.skip(path, f"emotion class {code} ({UNUSABLE[code]}) is not usable")
            continue
        if code not in CODES:
            result.skip(path, f"unknown emotion class {code!r} in {table.name}")
            continue
        split_set = row.get("Split_Set", "")
        partition = SPLITS.get(split_set.lower())
        if partition is None:
            result.skip(
                path,
                f"unknown Split_Set {split_set!r} (expected Train, Development, Test1, Test2 or Test3)",
            )
            continue
        speaker, known = _speaker(row, path.stem)
        extra = {
            "emotion_code": code,
            "arousal": row.get("EmoAct", ""),
            "valence": row.get("EmoVal", ""),
            "dominance": row.get("EmoDom", ""),
            "gender": row.get("Gender", "").lower(),
            "split_set": split_set,
            "speaker_known": "yes" if known else "no",
        }
        result.items.append(Item(path, CODES[code], speaker, partition=partition, extra=extra))
    if table is not None:
        audio_dir = table.parent.parent / "Audios"
        for key, row in sorted(rows.items()):
            usable = row.get("EmoClass", "").upper() in CODES
            if key not in found and usable:
                result.skip(
                    audio_dir / row["FileName"], f"listed in {table} but no audio file found"
                )
    return drop_duplicates(result, lambda i: i.path.stem.lower())


SPEC = CorpusSpec(
    name="msppodcast",
    language="English (natural, podcasts)",
    labels=tuple(CODES.values()),
    speakers=None,
    items=None,
    license="MSP-Podcast academic licence (UT Dallas MSP lab), research use",
    citation=(
        "Lotfian & Busso, Building Naturalistic Emotionally Balanced Speech Corpus by "
        "Retrieving Emotional Speech From Existing Podcast Recordings, IEEE Transactions on "
        "Affective Computing 10(4), 2019"
    ),
    layout=(
        "Audios/MSP-PODCAST_<podcast>_<segment>.wav + Labels/labels_consensus.csv "
        "(FileName, EmoClass, EmoAct, EmoVal, EmoDom, SpkrID, Gender, Split_Set)"
    ),
    parse=parse,
    official_split=True,
    notes=(
        "Speaking turns from podcasts, 16 kHz; > 100k turns and > 1000 speakers, growing with "
        "each release (so no fixed counts here). Labels: consensus EmoClass A anger, S "
        "sadness, H happiness, U surprise, F fear, D disgust, C contempt, N neutral; O "
        "(other) and X (no agreement) are skipped with a reason. Arousal, valence and "
        "dominance (EmoAct, EmoVal, EmoDom, 1-7) are kept as columns. Official split from "
        "Split_Set: Train → train, Development (Validation in release 1.8) → devel, Test1, "
        "Test2 and Test3 → test (column split_set keeps which). SpkrID 'Unknown' turns get the "
        "speaker unknown-<podcast> (one pseudo-speaker per podcast) and speaker_known=no. "
        "Releases before 1.9 name the table labels_concensus.csv; both spellings are found."
    ),
)
