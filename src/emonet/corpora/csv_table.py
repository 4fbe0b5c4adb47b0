"""Generic importer ``csv``: audio files listed in CSV/TSV tables with a file and a label column.

Without options it imports the TF reference's layout: ``train.csv``, ``devel.csv`` (or
``val.csv``) and ``test.csv`` with the header ``file,label``, paths relative to a data folder,
the three tables being the official split.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from emonet.corpora.base import (
    PARTITIONS,
    CorpusSpec,
    Item,
    ParseResult,
    inside,
    is_junk,
    walk_files,
)
from emonet.corpora.folders import UNKNOWN_SPEAKER, check_labels

PARTITION_NAMES = {
    "train": "train",
    "training": "train",
    "devel": "devel",
    "dev": "devel",
    "val": "devel",
    "valid": "devel",
    "validation": "devel",
    "development": "devel",
    "test": "test",
    "test1": "test",
    "eval": "test",
    "evaluation": "test",
}
"""Partition values (and table names) → EmoSet partition, compared case-insensitively."""

FILE_COLUMNS = (
    "file",
    "path",
    "filename",
    "file_name",
    "filepath",
    "file_path",
    "wav",
    "wav_file",
    "wav_path",
    "audio",
    "audio_file",
    "audio_path",
)
LABEL_COLUMNS = ("label", "emotion", "emo", "class", "category")
SPEAKER_COLUMNS = ("speaker", "speaker_id", "spk", "spk_id", "spkrid", "speakerid")
PARTITION_COLUMNS = ("partition", "split", "set")
DATA_FOLDERS = ("wav", "wavs", "audio", "data", "clips", "files", "speech")
"""Subfolders tried (after the table's folder and the source folder) as the data folder."""

TABLE_SUFFIXES = (".csv", ".tsv")
PROBE_ROWS = 20
"""Rows whose files decide where a table's data folder is."""

NONE = frozenset({"none", "-", ""})


@dataclass
class Table:
    """One CSV/TSV read into memory: its rows with their line numbers."""

    path: Path
    name: str  # as shown in reasons: relative to the source folder where possible
    header: list[str]
    rows: list[tuple[int, dict[str, str]]]
    partition: str | None = None  # from the table's name (train.csv, …)
    columns: dict[str, str | None] = field(default_factory=dict)


def partition_of(value: str) -> str | None:
    """EmoSet partition for a partition value or table name, or None."""
    return PARTITION_NAMES.get(value.strip().lower())


def sniff_delimiter(first_line: str, suffix: str) -> str:
    """Comma, tab or semicolon: whichever the header line holds most of."""
    counts = {d: first_line.count(d) for d in (",", "\t", ";")}
    best = max(counts, key=lambda d: counts[d])
    if counts[best] == 0:
        return "\t" if suffix.lower() == ".tsv" else ","
    return best


def _display(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def read_table(path: Path, root: Path) -> Table:
    """Read a CSV/TSV (delimiter sniffed, BOM and surrounding whitespace removed)."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    first = text.split("\n", 1)[0]
    reader = csv.reader(
        io.StringIO(text, newline=""), delimiter=sniff_delimiter(first, path.suffix)
    )
    header = [h.strip() for h in next(reader, [])]
    rows = []
    for values in reader:
        if not any(v.strip() for v in values):
            continue
        rows.append((reader.line_num, dict(zip(header, (v.strip() for v in values), strict=False))))
    return Table(path, _display(path, root), header, rows)


def _column(
    table: Table, given: str | None, defaults: Sequence[str], option: str, what: str, required: bool
) -> str | None:
    """The header name of a column: the option's value, else the first default present."""
    by_lower = {h.lower(): h for h in table.header if h}
    if given is not None:
        if given.strip().lower() in NONE and not required:
            return None
        if given.strip().lower() in by_lower:
            return by_lower[given.strip().lower()]
        raise ValueError(
            f"{table.name}: no column {given!r} (option {option}); "
            f"its columns are: {', '.join(table.header) or 'none'}"
        )
    for name in defaults:
        if name in by_lower:
            return by_lower[name]
    if required:
        raise ValueError(
            f"{table.name}: no {what} column (looked for {', '.join(defaults)}); its columns are: "
            f"{', '.join(table.header) or 'none'}; set {option}=COLUMN"
        )
    return None


def _discover(root: Path) -> list[tuple[Path, str | None]]:
    """The tables to read when no ``table`` option is given, with the partition their name gives.

    The shallowest folder holding CSV/TSV files is used; if some of them are named after a
    partition (train, devel/dev/val, test, …) only those are read.
    """
    found: dict[int, list[Path]] = {}
    for p in walk_files(root):
        if p.suffix.lower() in TABLE_SUFFIXES:
            found.setdefault(len(p.relative_to(root).parts), []).append(p)
    if not found:
        raise FileNotFoundError(
            f"no CSV/TSV table found below {root}; the csv importer needs tables listing the "
            "audio files (e.g. train.csv, devel.csv, test.csv with the header file,label)"
        )
    shallow = found[min(found)]
    folders = sorted({p.parent for p in shallow})
    if len(folders) > 1:
        raise ValueError(
            f"CSV/TSV tables found in several folders ({', '.join(_display(f, root) for f in folders)}); "
            "choose with table=PATH[,PATH…]"
        )
    named = [(p, partition_of(p.stem)) for p in sorted(shallow)]
    if not any(part for _, part in named):
        return named
    by_part: dict[str, Path] = {}
    for p, part in named:
        if part is None:
            continue
        if part in by_part:
            raise ValueError(
                f"both {by_part[part].name} and {p.name} name the {part} partition; "
                "choose with table=PATH[,PATH…]"
            )
        by_part[part] = p
    return [(by_part[part], part) for part in PARTITIONS if part in by_part]


class _Locator:
    """Finds a listed file below a folder: exactly, by case, or with leading folders dropped.

    Only files inside ``root`` (the source folder) are ever returned, whatever the table says.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._index: dict[Path, dict[str, Path]] = {}

    def _by_lower(self, folder: Path) -> dict[str, Path]:
        if folder not in self._index:
            self._index[folder] = {
                p.relative_to(folder).as_posix().lower(): p
                for p in walk_files(folder, audio_only=True)
            }
        return self._index[folder]

    def find(self, name: str, folder: Path) -> Path | None:
        rel = Path(name.replace("\\", "/"))
        if rel.is_absolute():
            if inside(rel, self.root) and rel.is_file():
                return rel
            parts = rel.parts[1:]  # a path from another machine: look for its tail here
        else:
            parts = rel.parts
        index = None
        for k in range(len(parts)):  # the path as given, then with leading folders dropped
            candidate = folder.joinpath(*parts[k:])
            if inside(candidate, self.root) and candidate.is_file():
                return candidate
            if index is None:
                index = self._by_lower(folder) if folder.is_dir() else {}
            hit = index.get("/".join(parts[k:]).lower())
            if hit is not None:
                return hit
        return None


def _data_candidates(table: Table, root: Path) -> list[Path]:
    out = [table.path.parent, root]
    for base in (table.path.parent, root):
        for sub in sorted(p for p in base.iterdir() if p.is_dir()):
            if sub.name.lower() in DATA_FOLDERS:
                out.append(sub)
    out += sorted(p for p in root.iterdir() if p.is_dir() and not is_junk(p.name))
    return list(dict.fromkeys(out))


def _probe(name: str, root: Path) -> bool:
    """False for names that point outside the source (``../``, an existing outside file)."""
    rel = Path(name.replace("\\", "/"))
    if ".." in rel.parts:
        return False
    return not (rel.is_absolute() and not inside(rel, root) and rel.exists())


def _data_folder(table: Table, root: Path, file_col: str, locator: _Locator) -> Path:
    """The folder the table's paths are relative to: where most of its first rows' files exist."""
    probe = [
        row[file_col] for _, row in table.rows if row.get(file_col) and _probe(row[file_col], root)
    ][:PROBE_ROWS]
    candidates = _data_candidates(table, root)
    if not probe:
        return candidates[0]
    best, best_score = candidates[0], 0
    for c in candidates:
        score = sum(locator.find(f, c) is not None for f in probe)
        if score == len(probe):
            return c
        if score > best_score:
            best, best_score = c, score
    if best_score == 0:
        tried = ", ".join(_display(c, root) or "." for c in candidates)
        raise ValueError(
            f"{table.name}: none of its first {len(probe)} files (e.g. {probe[0]!r}) exist "
            f"relative to any of: {tried}; set data_dir=FOLDER (relative to {root})"
        )
    return best


def parse(
    root: str | Path,
    table: str | None = None,
    file_column: str | None = None,
    label_column: str | None = None,
    speaker_column: str | None = None,
    partition_column: str | None = None,
    data_dir: str | None = None,
    labels: str | None = None,
) -> ParseResult:
    """Items from CSV/TSV tables: file, label and optional speaker and partition columns.

    ``table``: comma list of tables (relative to ``root`` or absolute); default: the CSV/TSV
    files in the shallowest folder holding any, only those named after a partition if there are
    such (``train.csv``, ``devel.csv``/``val.csv``, ``test.csv``). ``*_column`` name the columns
    (case-insensitive; ``none`` switches an optional one off). ``data_dir``: the folder the file
    paths are relative to (default: found from the first rows). ``labels`` is applied by prepare.

    The partition comes from the partition column, else the table's name; it is the official
    split only when train, devel and test all occur and every item has one, otherwise it is kept
    as the extra column ``source_split``.
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"source folder not found: {root}")
    if table:
        paths = []
        for t in (s.strip() for s in table.split(",") if s.strip()):
            p = Path(t) if Path(t).is_absolute() else root / t
            if not inside(p, root):
                raise ValueError(f"option table: {p} is outside the source folder {root}")
            if not p.is_file():
                raise FileNotFoundError(f"option table: {p} not found")
            paths.append((p, partition_of(p.stem)))
        listed_tables = paths
    else:
        listed_tables = _discover(root)
    tables = [read_table(p, root) for p, _ in listed_tables]
    for t, (_, part) in zip(tables, listed_tables, strict=True):
        t.partition = part
    usable = []
    errors = []
    for t in tables:
        try:
            t.columns = {
                "file": _column(t, file_column, FILE_COLUMNS, "file_column", "file", True),
                "label": _column(t, label_column, LABEL_COLUMNS, "label_column", "label", True),
                "speaker": _column(
                    t, speaker_column, SPEAKER_COLUMNS, "speaker_column", "speaker", False
                ),
                "partition": _column(
                    t, partition_column, PARTITION_COLUMNS, "partition_column", "partition", False
                ),
            }
        except ValueError as exc:
            errors.append(exc)
            continue
        usable.append(t)
    # Tables found by search that lack the columns (e.g. a speakers.csv beside the label table)
    # are passed over when others are usable and none is named after a partition.
    if errors and (table or not usable or any(t.partition for t in tables)):
        raise errors[0]

    data: Path | None = None
    if data_dir:
        data = Path(data_dir) if Path(data_dir).is_absolute() else root / data_dir
        if not inside(data, root):
            raise ValueError(f"option data_dir: {data} is outside the source folder {root}")
        if not data.is_dir():
            raise FileNotFoundError(f"option data_dir: folder {data} not found")

    locator = _Locator(root)
    result = ParseResult()
    folders: list[Path] = []
    first: dict[Path, tuple[str, str]] = {}  # resolved file → (where, label)
    rows = []  # (item path, label, speaker, partition, extra)
    for t in usable:
        cols = t.columns
        fc, lc, sc, pc = cols["file"], cols["label"], cols["speaker"], cols["partition"]
        assert fc is not None and lc is not None
        if pc is not None and not any(row.get(pc) for _, row in t.rows):
            pc = None  # an empty partition column is no partition column
        folder = data if data is not None else _data_folder(t, root, fc, locator)
        folders.append(folder)
        tries = list(dict.fromkeys([folder, root, t.path.parent]))
        used = {c for c in (fc, lc, sc, pc) if c}
        for line, row in t.rows:
            where = f"{t.name}:{line}"
            name = row.get(fc, "")
            if not name:
                result.skip(where, f"row {where} has an empty {fc} column")
                continue
            path = next((p for p in (locator.find(name, f) for f in tries) if p), None)
            if path is None:
                listed = Path(name.replace("\\", "/"))
                outside = [f / listed for f in tries if not inside(f / listed, root)]
                if outside:  # refused, never opened: list where it points
                    why = f"listed in {where} but outside the source folder; not read"
                    result.skip(os.path.abspath(outside[0]), why)
                else:
                    result.skip(folder / listed, f"listed in {where} but not found")
                continue
            key = path.resolve()
            label = row.get(lc, "")
            if key in first:
                before, old = first[key]
                differs = f" with label {label!r} (there {old!r})" if label != old else ""
                result.skip(path, f"listed again in {where}{differs}; first in {before}")
                continue
            first[key] = (where, label)
            if not label:
                result.skip(path, f"empty {lc} in {where}")
                continue
            part = t.partition
            if pc is not None:
                value = row.get(pc, "")
                if not value:
                    raise ValueError(
                        f"{where}: empty partition value in column {pc!r} while other rows "
                        f"have one; fill it in or set partition_column=none"
                    )
                part = partition_of(value)
                if part is None:
                    raise ValueError(
                        f"{where}: unknown partition {value!r} in column {pc!r}; expected "
                        f"{', '.join(PARTITION_NAMES)} (or set partition_column=none)"
                    )
            speaker = (row.get(sc) if sc else "") or UNKNOWN_SPEAKER
            extra = {k: v for k, v in row.items() if k and k not in used and v}
            rows.append((path, label, speaker, part, extra))

    parts = [r[3] for r in rows]
    official = bool(rows) and all(parts) and set(parts) >= set(PARTITIONS)
    for path, label, speaker, part, extra in rows:
        if part is not None and not official:
            extra["source_split"] = part
        result.items.append(Item(path, label, speaker, part if official else None, extra))

    for folder in dict.fromkeys(folders):
        for path in walk_files(folder, audio_only=True):
            if path.resolve() not in first:
                result.skip(path, "not listed in any table")
    where = ", ".join(t.name for t in usable)
    check_labels(labels, {i.label for i in result.items}, where)
    return result


SPEC = CorpusSpec(
    name="csv",
    language="any",
    labels=None,
    speakers=None,
    items=None,
    license="that of the imported data",
    citation="cite the imported corpus",
    layout=(
        "CSV/TSV tables with a file and a label column (optional speaker and partition "
        "columns), e.g. the TF reference's train.csv, devel.csv or val.csv, test.csv with the "
        "header file,label"
    ),
    parse=parse,
    official_split=True,
    generic=True,
    notes=(
        "Without options: the CSV/TSV files in the shallowest folder holding any; if some are "
        "named after a partition (train, devel/dev/val, test/eval) only those, and their names "
        "give the partition. Delimiter (comma, tab, semicolon) is sniffed. Columns, "
        "case-insensitive: file (else path, filename, file_name, wav, audio, …), label (else "
        "emotion, emo, class, category), speaker (else speaker_id, spk, SpkrID), partition (else "
        "split, set; values train/training, devel/dev/val/valid/validation, test/eval/test1). "
        "File paths are relative to a data folder found from the first rows (the table's "
        "folder, the source folder, a wav/audio/data subfolder, …). The partitions are the "
        "official split when train, devel and test all occur; otherwise they are kept as the "
        "column source_split and EmoSet splits by speaker (speaker 'unknown' without a speaker "
        "column: stratified by item). Other columns are kept. Rows whose file is missing, outside "
        "the source folder, with an empty label or listed twice, and audio in the data folder "
        "that no table lists, are skipped. Options: table=PATH[,PATH…], file_column, "
        "label_column, speaker_column, partition_column (none = off), data_dir (table and "
        "data_dir inside the source folder), labels=a,b,c (order and subset)."
    ),
)
