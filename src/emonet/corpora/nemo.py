"""nEMO (Polish emotional speech): ``samples/*.wav`` labelled by ``data.tsv``."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from emonet.corpora._helpers import drop_duplicates
from emonet.corpora.base import CorpusSpec, Item, ParseResult, walk_files

LABELS = ("anger", "fear", "happiness", "neutral", "sadness", "surprised")
NAME = re.compile(r"(?P<speaker>[A-Za-z]+\d+)_(?P<emotion>[a-z]+)_(?P<n>\d+)", re.IGNORECASE)


def _read_tsv(path: Path) -> dict[str, dict[str, str]]:
    """Rows of one ``data.tsv`` by lower-case file stem; names and values stripped of whitespace."""
    rows: dict[str, dict[str, str]] = {}
    with open(path, encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        header = [h.strip().lower() for h in next(reader, [])]
        if "file_id" not in header:
            raise ValueError(f"{path}: no file_id column (header {header})")
        for values in reader:
            row = dict(zip(header, (v.strip() for v in values), strict=False))
            if row.get("file_id"):
                rows.setdefault(Path(row["file_id"]).stem.lower(), row | {"_tsv": str(path)})
    return rows


def parse(root: str | Path) -> ParseResult:
    """Label, speaker and text from ``data.tsv``; the file name is used only when it is absent."""
    root = Path(root)
    rows: dict[str, dict[str, str]] = {}
    tables = [p for p in walk_files(root) if p.name.lower() == "data.tsv"]
    for table in tables:
        for key, row in _read_tsv(table).items():
            rows.setdefault(key, row)
    result = ParseResult()
    found: set[str] = set()
    for path in walk_files(root, audio_only=True):
        key = path.stem.lower()
        row = rows.get(key)
        if row is None:
            if tables:
                result.skip(path, "not listed in data.tsv")
                continue
            m = NAME.fullmatch(path.stem)
            if not m:
                result.skip(
                    path, "no data.tsv and the name does not follow <speaker>_<emotion>_<n>"
                )
                continue
            row = {"emotion": m["emotion"], "speaker_id": m["speaker"]}
        found.add(key)
        label = row.get("emotion", "").lower()
        if label not in LABELS:
            result.skip(
                path, f"unknown emotion {row.get('emotion', '')!r} (expected {', '.join(LABELS)})"
            )
            continue
        speaker = row.get("speaker_id") or path.stem.split("_")[0]
        extra = {k: row[k] for k in ("raw_text", "normalized_text", "gender", "age") if row.get(k)}
        if "raw_text" in extra:
            extra["text"] = extra.pop("raw_text")
        result.items.append(Item(path, label, speaker, extra=extra))
    for key, row in sorted(rows.items()):
        if key not in found:
            where = Path(row["_tsv"]).parent / "samples" / row["file_id"]
            result.skip(where, f"listed in {row['_tsv']} but no audio file found")
    return drop_duplicates(result, lambda i: i.path.stem.lower())


SPEC = CorpusSpec(
    name="nemo",
    language="Polish",
    labels=LABELS,
    speakers=9,
    items=4481,
    license="CC BY-NC-SA 4.0",
    citation="Christop, nEMO: Dataset of Emotional Speech in Polish, LREC-COLING 2024",
    layout="samples/<speaker>_<emotion>_<n>.wav + data.tsv (file_id emotion raw_text "
    "normalized_text speaker_id gender age)",
    parse=parse,
    notes=(
        "24 kHz. data.tsv values carry stray whitespace (speaker_id is left-padded), which is "
        "stripped. Audio not listed in data.tsv is skipped; rows without audio are reported."
    ),
)
