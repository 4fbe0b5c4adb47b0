"""Generic importer ``audformat``: an audformat database folder (``db.yaml`` + tables).

The header is read with the ``audformat`` package; table data is read only from CSV or parquet
files, never from pickles (unpickling can run code): the header and the CSV/parquet tables are
linked into a temporary folder that holds no ``.pkl`` file, and loaded from there.

audformat reads ``db.yaml`` with PyYAML's full (unsafe) loader, which runs code for tags such as
``!!python/object/apply:os.system``. So the header is first parsed with ``yaml.safe_load``, which
knows only plain YAML; a header with any other tag is refused, and audformat is given a copy of
exactly the bytes that passed (not a link to a file that could change in between).
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
import warnings
from pathlib import Path

import pandas as pd

from emonet.corpora.base import PARTITIONS, CorpusSpec, Item, ParseResult, inside, walk_files
from emonet.corpora.folders import UNKNOWN_SPEAKER, split_labels

HEADER = "db.yaml"
LABEL_NAMES = (
    ("emotion",),
    ("emotion.categories", "emotion.category", "emotion_category", "emotions", "emo", "category"),
    ("categories", "label", "labels", "class"),
)
"""Column or scheme names taken as the label column, best first; then any ``emotion*`` one."""
SPEAKER_NAMES = ("speaker", "speaker_id", "speakerid", "spk")
SPLIT_TYPES = {"train": "train", "dev": "devel", "test": "test"}
"""audformat split types → EmoSet partitions (``other`` has none)."""
CATEGORICAL = frozenset({"str", "object", "int"})


def _find_header(root: Path) -> Path:
    """The database folder: ``root`` if it holds ``db.yaml``, else the one folder below that does."""
    if (root / HEADER).is_file():
        return root
    found = [p.parent for p in walk_files(root) if p.name == HEADER]
    if not found:
        raise FileNotFoundError(
            f"no {HEADER} below {root}: an audformat database folder holds {HEADER} and its "
            "tables db.<table>.csv or .parquet"
        )
    if len(found) > 1:
        raise ValueError(
            f"several audformat databases below {root}: "
            + ", ".join(str(p.relative_to(root)) for p in found)
            + "; give the folder of one as the source"
        )
    return found[0]


def safe_header(path: str | Path) -> bytes:
    """The bytes of an audformat header after checking that they are plain YAML.

    ``yaml.safe_load`` builds only plain data, so a tag that makes PyYAML's unsafe loader call
    Python (``!!python/object/apply:…``, ``!!python/name:…``) is refused here, with the file
    named, before audformat (which uses that loader) ever reads the header.
    """
    import yaml

    path = Path(path)
    data = path.read_bytes()
    try:
        header = yaml.safe_load(data)
    except yaml.constructor.ConstructorError as exc:
        tag = getattr(exc, "problem", "") or str(exc)
        where = exc.problem_mark
        line = f" (line {where.line + 1})" if where is not None else ""
        raise ValueError(
            f"{path}: refused: the header holds a YAML tag that plain YAML does not have{line}: "
            f"{tag}; audformat would load it with PyYAML's unsafe loader, which can run code"
        ) from None
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(header, dict):
        raise ValueError(f"{path}: not an audformat header (a YAML mapping is expected)")
    return data


def _shadow(db_root: Path, into: Path) -> None:
    """Copy the checked header and link every CSV/parquet table file (no pickle) from
    ``db_root`` into ``into``."""
    (into / HEADER).write_bytes(safe_header(db_root / HEADER))
    for p in db_root.iterdir():
        if p.name.startswith("db.") and p.suffix.lower() in (".csv", ".parquet"):
            try:
                os.symlink(p.resolve(), into / p.name)
            except OSError:  # no symlinks (Windows without the privilege): copy
                shutil.copy2(p, into / p.name)


def _require_data(db_root: Path, table_id: str) -> None:
    """Raise a clear error if a table's data exists only as a pickle (or not at all)."""
    base = db_root / f"db.{table_id}"
    if any(Path(f"{base}.{ext}").is_file() for ext in ("csv", "parquet")):
        return
    if Path(f"{base}.pkl").is_file():
        raise ValueError(
            f"table {table_id!r} of {db_root} is stored only as {base.name}.pkl; EmoNet does not "
            "load pickles (unpickling can run code). Save it as CSV or parquet in a trusted "
            f"environment, e.g. db[{table_id!r}].save(path, storage_format='parquet')"
        )
    raise ValueError(f"table {table_id!r} of {db_root} has no data file {base.name}.csv/.parquet")


def _is_categorical(db, column) -> bool:
    scheme = db.schemes.get(column.scheme_id) if column.scheme_id else None
    return scheme is None or scheme.labels is not None or scheme.dtype in CATEGORICAL


def _label_rank(db, column_id: str, column) -> int | None:
    """How well a column's name or scheme says "emotion category" (0 best), or None."""
    names = {column_id.lower(), (column.scheme_id or "").lower()} - {""}
    if not _is_categorical(db, column):
        return None
    for rank, group in enumerate(LABEL_NAMES):
        if names & set(group):
            return rank
    if any(n.startswith("emotion") for n in names):
        return len(LABEL_NAMES)
    return None


def _partition(db, table) -> str | None:
    """EmoSet partition of a table from its split (type, else the split's ID), or None."""
    split_id = table.split_id
    if not split_id:
        return None
    split = db.splits.get(split_id)
    kind = split.type if split is not None else None
    if kind in SPLIT_TYPES:
        return SPLIT_TYPES[kind]
    return {"train": "train", "dev": "devel", "devel": "devel", "test": "test"}.get(
        str(split_id).lower()
    )


def _template(table_id: str, split_id: str) -> str:
    """The table ID with its split part replaced, grouping e.g. ``emotion.{}.gold_standard``."""
    parts = table_id.split(".")
    if split_id in parts:
        return ".".join("{}" if p == split_id else p for p in parts)
    return table_id.replace(split_id, "{}", 1)


def _choose(db, table: str | None, column: str | None, use_split: bool):
    """(table IDs, label column ID, whether their splits are the official partition)."""
    tables = db.tables
    if table:
        chosen = [t.strip() for t in table.split(",") if t.strip()]
        for t in chosen:
            if t not in tables:
                raise ValueError(f"option table: no table {t!r}; tables: {', '.join(tables)}")
        if column is None:
            ranked = [
                (rank, c)
                for c, col in tables[chosen[0]].columns.items()
                if (rank := _label_rank(db, c, col)) is not None
            ]
            if not ranked:
                cols = ", ".join(tables[chosen[0]].columns) or "none"
                raise ValueError(
                    f"table {chosen[0]!r} has no emotion-like column (columns: {cols}); "
                    "set column=NAME"
                )
            column = min(ranked, key=lambda r: r[0])[1]
        for t in chosen:
            if column not in tables[t].columns:
                cols = ", ".join(tables[t].columns) or "none"
                raise ValueError(f"table {t!r} has no column {column!r} (columns: {cols})")
        parts = {_partition(db, tables[t]) for t in chosen}
        return chosen, column, use_split and None not in parts and parts >= set(PARTITIONS)

    candidates = []  # (rank, table order, table ID, column ID)
    for order, (tid, t) in enumerate(tables.items()):
        for cid, col in t.columns.items():
            if column is not None and cid != column:
                continue
            rank = 0 if column is not None else _label_rank(db, cid, col)
            if rank is not None:
                candidates.append((rank, not t.is_filewise, order, tid, cid))
    if not candidates:
        listing = "; ".join(
            f"{tid}: {', '.join(t.columns) or 'no columns'}" for tid, t in tables.items()
        )
        what = f"a column {column!r}" if column else "an emotion-like column"
        raise ValueError(
            f"no table with {what} (tables: {listing or 'none'}); set table=ID and column=NAME"
        )
    column = min(candidates)[4]
    family = [tid for tid, t in tables.items() if column in t.columns]
    if use_split:
        groups: dict[str, dict[str, list[str]]] = {}
        for tid in family:
            part = _partition(db, tables[tid])
            if part is not None:
                key = _template(tid, tables[tid].split_id)
                groups.setdefault(key, {}).setdefault(part, []).append(tid)
        for by_part in groups.values():
            if set(by_part) >= set(PARTITIONS):
                return [t for p in PARTITIONS for t in by_part[p]], column, True
    whole = [tid for tid in family if not tables[tid].split_id]
    if whole:
        return whole[:1], column, False
    first = min(candidates)[3]
    split_of = tables[first].split_id
    key = _template(first, split_of)
    group = [t for t in family if tables[t].split_id and _template(t, tables[t].split_id) == key]
    return group, column, False


def _files(table_id: str, df: pd.DataFrame) -> pd.Index:
    """File per row; a segmented table is accepted only if every segment is a whole file."""
    if isinstance(df.index, pd.MultiIndex):
        start = df.index.get_level_values("start")
        end = df.index.get_level_values("end")
        partial = ~((start == pd.Timedelta(0)) & end.isna())
        if partial.any():
            k = int(partial.argmax())
            raise ValueError(
                f"table {table_id!r} is segmented and {int(partial.sum())} of its segments cover "
                f"only part of a file (e.g. {df.index[k][0]} from {start[k]} to {end[k]}); only "
                "filewise tables (or segments spanning whole files) are supported"
            )
        return df.index.get_level_values("file")
    return df.index


def _text(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    return str(value).strip()


def _speakers(db, db_root: Path, chosen: list[str], option: str | None) -> dict[str, str]:
    """File → speaker from the first table (the chosen ones first) with a speaker column."""
    order = chosen + [t for t in db.tables if t not in chosen]
    for tid in order:
        t = db.tables[tid]
        cid = None
        for c, col in t.columns.items():
            if option is not None:
                if c == option:
                    cid = c
            elif c.lower() in SPEAKER_NAMES or (col.scheme_id or "").lower() in SPEAKER_NAMES:
                cid = c
            if cid:
                break
        if cid is None:
            continue
        _require_data(db_root, tid)
        df = t.df
        files = _files(tid, df)
        out: dict[str, str] = {}
        for f, v in zip(files, df[cid], strict=True):
            out.setdefault(str(f), _text(v))
        return out
    if option is not None:
        raise ValueError(f"option speaker_column: no table has a column {option!r}")
    return {}


def parse(
    root: str | Path,
    table: str | None = None,
    column: str | None = None,
    speaker_column: str | None = None,
    split: str = "auto",
    labels: str | None = None,
) -> ParseResult:
    """Items of an audformat database: label column of a filewise table, speaker, split.

    ``table`` (comma list of table IDs) and ``column`` choose the labels; by default the first
    table with an emotion-like categorical column (``emotion``, ``emotion.categories``, …). With
    ``split=auto`` tables of the same column whose splits (train, dev, test) are all present are
    used together as the official partition (e.g. ``emotion.categories.{train,dev,test}.gold_standard``);
    ``split=none`` ignores the db's splits. ``speaker_column``: default a column named or with a
    scheme named ``speaker``, in the chosen tables or any other one (e.g. ``files``).
    """
    import audformat

    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"source folder not found: {root}")
    mode = str(split).strip().lower()
    if mode not in ("auto", "none", "true", "false", "yes", "no"):
        raise ValueError(f"option split must be auto or none, got {split!r}")
    use_split = mode in ("auto", "true", "yes")
    db_root = _find_header(root)
    with tempfile.TemporaryDirectory(prefix="emonet-audformat-") as tmp, warnings.catch_warnings():
        # audformat 1.4 still calls pandas APIs that pandas 3 deprecates
        warnings.filterwarnings("ignore", message="The inplace keyword", module="audformat")
        _shadow(db_root, Path(tmp))
        db = audformat.Database.load(tmp, load_data=False)
        chosen, col_id, official = _choose(db, table, column, use_split)
        for tid in chosen:
            _require_data(db_root, tid)
        col = db.tables[chosen[0]].columns[col_id]
        scheme = db.schemes.get(col.scheme_id) if col.scheme_id else None
        scheme_labels: list[str] | None = None
        if scheme is not None and scheme.labels is not None:
            if scheme.uses_table:
                _require_data(db_root, scheme.labels)
            scheme_labels = [str(lab) for lab in scheme.labels_as_list]
        speakers = _speakers(db, db_root, chosen, speaker_column)
        frames = [(tid, db.tables[tid].df, _partition(db, db.tables[tid])) for tid in chosen]

    result = ParseResult()
    seen: dict[Path, str] = {}
    for tid, df, part in frames:
        for f, value in zip(_files(tid, df), df[col_id], strict=True):
            path = Path(f) if Path(f).is_absolute() else db_root / f
            if not inside(path, root):
                result.skip(path, f"listed in table {tid} but outside the source folder; not read")
                continue
            if not path.is_file():
                result.skip(path, f"listed in table {tid} but not found")
                continue
            key = path.resolve()
            if key in seen:
                result.skip(path, f"listed again in table {tid}; first in table {seen[key]}")
                continue
            seen[key] = tid
            label = _text(value)
            if not label:
                result.skip(path, f"no {col_id} value in table {tid}")
                continue
            speaker = speakers.get(str(f)) or UNKNOWN_SPEAKER
            extra = {}
            if part is not None and not official:
                extra["source_split"] = part
            result.items.append(Item(path, label, speaker, part if official else None, extra))
    names = ", ".join(chosen)
    for path in walk_files(db_root, audio_only=True):
        if path.resolve() not in seen:
            result.skip(path, f"not in table {names}")

    found = {i.label for i in result.items}
    wanted = split_labels(labels)
    if wanted:
        allowed = scheme_labels if scheme_labels is not None else sorted(found)
        unknown = [lab for lab in wanted if lab not in allowed]
        if unknown:
            raise ValueError(
                f"option labels: {', '.join(unknown)} not among the labels of {col_id} "
                f"({', '.join(allowed)})"
            )
        result.labels = tuple(wanted)
    elif scheme_labels is not None:
        result.labels = tuple(lab for lab in scheme_labels if lab in found)
    return result


SPEC = CorpusSpec(
    name="audformat",
    language="any",
    labels=None,
    speakers=None,
    items=None,
    license="that of the imported data",
    citation="cite the imported corpus",
    layout="an audformat database folder: db.yaml + db.<table>.csv or .parquet + the media files",
    parse=parse,
    official_split=True,
    generic=True,
    notes=(
        "As audb and nkululeko use it. Labels: the first table with an emotion-like categorical "
        "column (emotion, emotion.categories, …; option table=ID[,ID…], column=NAME); the label "
        "order is the scheme's (labels without items left out). Option split=auto (default): "
        "tables of that column whose splits are train, dev and test (e.g. "
        "emotion.categories.{train,dev,test}.gold_standard) are the official partition; with "
        "only some split types the split is kept as the column source_split and EmoSet splits by "
        "speaker; split=none ignores the db's splits. Speaker: option speaker_column, default a "
        "column named speaker (or with scheme speaker) in the label table or any other table, "
        "e.g. files; else 'unknown'. Only filewise tables (segmented ones only where every "
        "segment is a whole file). Tables stored only as .pkl are refused: pickles are never "
        "loaded. Media not in the tables are skipped. Option labels=a,b,c sets order and subset."
    ),
)
