"""Generic importers ``folders``, ``csv`` and ``audformat``: miniatures with exact items and skips,
the TF reference's CSV layout without options, clear errors, and one prepare run per importer."""

from __future__ import annotations

import json
from pathlib import Path

import audformat
import pandas as pd
import pytest
from miniature import add_junk, skips, write_tone, write_tones

from emonet.corpora import audformat_db, csv_table, folders
from emonet.corpora.base import ParseResult
from emonet.corpora.prepare import prepare
from emonet.corpora.registry import CORPORA

SECONDS = 0.1
# audformat 1.4 (used here to build databases) calls pandas APIs that pandas 3 deprecates
pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword:DeprecationWarning")


def items(res: ParseResult, root: Path) -> set[tuple[str, str, str, str | None]]:
    """(path relative to ``root``, label, speaker, partition) of every item."""
    return {
        (i.path.relative_to(root).as_posix(), i.label, i.speaker, i.partition) for i in res.items
    }


def prepared(monkeypatch, spec, src: Path, out: Path, **options) -> tuple[dict, dict]:
    """Run prepare through the registry; (corpus.json, partition → {source: label})."""
    monkeypatch.setitem(CORPORA, spec.name, spec)
    res = prepare(spec.name, src, out, workers=1, show_progress=False, options=options)
    info = json.loads((res.folder / "corpus.json").read_text())
    parts = {}
    for p in ("train", "devel", "test"):
        table = pd.read_csv(res.folder / f"{p}.csv", dtype=str, keep_default_na=False)
        assert list(table.columns[:3]) == ["file", "label", "speaker"]
        assert all((res.folder / f).is_file() for f in table["file"])
        parts[p] = dict(zip(table["source"], table["label"], strict=True))
    return info, parts


def test_specs():
    for spec, name in ((folders.SPEC, "folders"), (csv_table.SPEC, "csv")):
        assert spec.name == name
    assert audformat_db.SPEC.name == "audformat"
    for spec in (folders.SPEC, csv_table.SPEC, audformat_db.SPEC):
        assert spec.generic and spec.labels is None and spec.speakers is None
        assert spec.items is None and spec.layout and spec.notes
    assert not folders.SPEC.official_split
    assert csv_table.SPEC.official_split and audformat_db.SPEC.official_split


# --- folders -----------------------------------------------------------------------------------


def _folders_miniature(tmp_path: Path) -> tuple[Path, Path]:
    src = tmp_path / "src"
    top = src / "MyCorpus"  # a wrapper folder, descended
    files = write_tones(
        top,
        [
            "angry/spk1_a.wav",
            "angry/spk2_b.WAV",
            "happy/studio/spk1_c.flac",
            "happy/spk3_d.wav",
            "happy/spk3_d.flac",  # the same recording twice
            "neutral/spk2_e.wav",
            "neutral/take.wav",  # no speaker in the name
            "loose.wav",  # not in a label folder
        ],
        seconds=SECONDS,
    )
    add_junk(src, files[0])
    add_junk(top)
    return src, top


def test_folders_miniature(tmp_path):
    src, top = _folders_miniature(tmp_path)
    res = folders.parse(src)
    assert items(res, top) == {
        ("angry/spk1_a.wav", "angry", "unknown", None),
        ("angry/spk2_b.WAV", "angry", "unknown", None),
        ("happy/studio/spk1_c.flac", "happy", "unknown", None),
        ("happy/spk3_d.flac", "happy", "unknown", None),
        ("neutral/spk2_e.wav", "neutral", "unknown", None),
        ("neutral/take.wav", "neutral", "unknown", None),
    }
    assert skips(res, top) == {
        "loose.wav": "directly in the source folder, not in a label folder",
        "happy/spk3_d.wav": f"duplicate of {top / 'happy/spk3_d.flac'} (same recording)",
    }
    assert res.labels is None

    res = folders.parse(src, speaker=r"/(?P<speaker>spk\d)_", labels="neutral,angry")
    assert {(i.path.name, i.speaker) for i in res.items} == {
        ("spk1_a.wav", "spk1"),
        ("spk2_b.WAV", "spk2"),
        ("spk1_c.flac", "spk1"),
        ("spk3_d.flac", "spk3"),
        ("spk2_e.wav", "spk2"),
    }
    reasons = skips(res, top)
    assert reasons["neutral/take.wav"] == (
        "speaker pattern '/(?P<speaker>spk\\\\d)_' does not match 'MyCorpus/neutral/take.wav'"
    )
    # group 1 when there is no named group; level -1 = the parent folder
    res = folders.parse(top, speaker=r"(spk\d)", level="-1")
    assert ("happy/studio/spk1_c.flac", "studio", "spk1", None) in items(res, top)
    res = folders.parse(top, level=1)
    assert items(res, top) == {("happy/studio/spk1_c.flac", "studio", "unknown", None)}
    assert (
        skips(res, top)["angry/spk1_a.wav"] == "no folder at level 1 (the file is 1 folder(s) deep)"
    )


def test_folders_bad_options(tmp_path):
    _, top = _folders_miniature(tmp_path)
    with pytest.raises(ValueError, match=r"option labels: sad not found .*angry, happy, neutral"):
        folders.parse(top, labels="angry,sad")
    with pytest.raises(ValueError, match="option level must be an integer"):
        folders.parse(top, level="parent")
    with pytest.raises(ValueError, match="option speaker: invalid regular expression"):
        folders.parse(top, speaker="(spk")
    with pytest.raises(FileNotFoundError, match="source folder not found"):
        folders.parse(tmp_path / "nope")


def test_folders_prepare(tmp_path, monkeypatch):
    src = tmp_path / "src"
    names = [f"{lab}/{lab}{k}.wav" for lab in ("angry", "happy", "neutral") for k in range(5)]
    write_tones(src, names, seconds=SECONDS)
    info, parts = prepared(monkeypatch, folders.SPEC, src, tmp_path / "out", labels="neutral,angry")
    assert info["labels"] == ["neutral", "angry"]
    assert info["protocol"].startswith("stratified")  # one speaker, "unknown": the fall-back
    assert {p: len(v) for p, v in parts.items()} == {"train": 6, "devel": 2, "test": 2}
    taken = {s: lab for v in parts.values() for s, lab in v.items()}
    assert taken == {n: n.split("/")[0] for n in names if not n.startswith("happy")}
    skipped = pd.read_csv(tmp_path / "out/folders/skipped.csv")
    assert set(skipped["file"]) == {n for n in names if n.startswith("happy")}
    assert set(skipped["reason"]) == {"label 'happy' not in ['neutral', 'angry']"}


# --- csv ---------------------------------------------------------------------------------------

TF_TABLES = {
    "train": [("a1.wav", "anger"), ("n1.wav", "neutral"), ("gone.wav", "anger")],
    "devel": [("a2.WAV", "anger"), ("n2.wav", "")],
    "test": [("sub/a3.wav", "anger"), ("n3.wav", "neutral"), ("a1.wav", "neutral")],
}


def _write_tf(root: Path, devel_name: str, data: str) -> Path:
    """The TF reference's layout: train/devel/test CSVs with ``file,label``, audio in ``data``."""
    folder = root / data if data else root
    written = write_tones(
        folder,
        ["a1.wav", "n1.wav", "a2.WAV", "n2.wav", "sub/a3.wav", "n3.wav", "extra.wav"],
        seconds=SECONDS,
    )
    add_junk(root, written[0])
    for part, rows in TF_TABLES.items():
        name = devel_name if part == "devel" else f"{part}.csv"
        lines = ["file,label", *(f"{f},{lab}" for f, lab in rows)]
        (root / name).write_text("\n".join(lines) + "\n")
    return folder


@pytest.mark.parametrize("devel_name", ["devel.csv", "val.csv"])
@pytest.mark.parametrize("data", ["", "wav"])
def test_csv_tf_reference_layout(tmp_path, devel_name, data):
    root = tmp_path / "tf"
    folder = _write_tf(root, devel_name, data)
    res = csv_table.parse(root)
    assert items(res, folder) == {
        ("a1.wav", "anger", "unknown", "train"),
        ("n1.wav", "neutral", "unknown", "train"),
        ("a2.WAV", "anger", "unknown", "devel"),
        ("sub/a3.wav", "anger", "unknown", "test"),
        ("n3.wav", "neutral", "unknown", "test"),
    }
    assert skips(res, folder) == {
        "gone.wav": "listed in train.csv:4 but not found",
        "n2.wav": f"empty label in {devel_name}:3",
        "a1.wav": "listed again in test.csv:4 with label 'neutral' (there 'anger'); "
        "first in train.csv:2",
        "extra.wav": "not listed in any table",
    }
    assert res.labels is None


def test_csv_tsv_with_speaker_and_partition_columns(tmp_path):
    root = tmp_path / "c"
    write_tones(root / "clips", [f"{s}_{k}.flac" for s in "xyz" for k in range(2)], seconds=SECONDS)
    rows = [
        "Path\temotion\tSpkrID\tsplit\ttext",
        "clips/x_0.flac\thappy\tx\ttraining\thello there",
        "clips/x_1.flac\tsad\tx\tTraining\t",
        "clips/y_0.flac\thappy\ty\tvalidation\tbye",
        "clips/y_1.flac\tsad\t\tdev\tok",
        "clips/z_0.flac\thappy\tz\ttest1\tyes",
        "clips/z_1.flac\tsad\tz\tEval\tno",
    ]
    (root / "meta.tsv").write_text("\n".join(rows) + "\n")
    res = csv_table.parse(root)
    assert items(res, root / "clips") == {
        ("x_0.flac", "happy", "x", "train"),
        ("x_1.flac", "sad", "x", "train"),
        ("y_0.flac", "happy", "y", "devel"),
        ("y_1.flac", "sad", "unknown", "devel"),
        ("z_0.flac", "happy", "z", "test"),
        ("z_1.flac", "sad", "z", "test"),
    }
    assert res.skipped == []
    assert {i.path.name: i.extra for i in res.items}["x_0.flac"] == {"text": "hello there"}
    # a semicolon CSV with train and test only: no official split, the split kept as a column
    (root / "meta.tsv").unlink()
    semi = ["file;label;speaker;set", "x_0.flac;happy;x;train", "z_1.flac;sad;z;test"]
    (root / "labels.csv").write_text("\n".join(semi) + "\n")
    res = csv_table.parse(root, data_dir="clips")
    assert items(res, root / "clips") == {
        ("x_0.flac", "happy", "x", None),
        ("z_1.flac", "sad", "z", None),
    }
    assert {i.path.name: i.extra["source_split"] for i in res.items} == {
        "x_0.flac": "train",
        "z_1.flac": "test",
    }
    assert skips(res, root / "clips") == {
        f"{s}_{k}.flac": "not listed in any table" for s, k in ("x1", "y0", "y1", "z0")
    }
    res = csv_table.parse(root, table="labels.csv", partition_column="none", data_dir="clips")
    assert {i.path.name: (i.partition, i.extra) for i in res.items} == {
        "x_0.flac": (None, {"set": "train"}),  # a column not used is kept
        "z_1.flac": (None, {"set": "test"}),
    }


def test_csv_errors(tmp_path):
    root = tmp_path / "c"
    write_tone(root / "a.wav", seconds=SECONDS)
    (root / "t.csv").write_text("name,mood\na.wav,happy\n")
    with pytest.raises(
        ValueError, match=r"t\.csv: no file column .*columns are: name, mood; set file_column"
    ):
        csv_table.parse(root)
    with pytest.raises(ValueError, match=r"t\.csv: no label column .*set label_column=COLUMN"):
        csv_table.parse(root, file_column="name")
    with pytest.raises(ValueError, match=r"t\.csv: no column 'Emotion' \(option label_column\)"):
        csv_table.parse(root, file_column="name", label_column="Emotion")
    assert len(csv_table.parse(root, file_column="NAME", label_column="mood").items) == 1
    (root / "t.csv").write_text("file,label,partition\na.wav,happy,holdout\n")
    with pytest.raises(
        ValueError, match=r"t\.csv:2: unknown partition 'holdout' in column 'partition'"
    ):
        csv_table.parse(root)
    (root / "t.csv").write_text("file,label\nmissing.wav,happy\n")
    (root / "audio").mkdir()
    with pytest.raises(
        ValueError,
        match=r"t\.csv: none of its first 1 files \(e\.g\. 'missing\.wav'\) exist relative to "
        r"any of: \., audio; set data_dir=FOLDER",
    ):
        csv_table.parse(root)
    (root / "devel.csv").write_text("file,label\na.wav,happy\n")
    (root / "val.csv").write_text("file,label\na.wav,happy\n")
    with pytest.raises(ValueError, match=r"both devel\.csv and val\.csv name the devel partition"):
        csv_table.parse(root)
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no CSV/TSV table found"):
        csv_table.parse(tmp_path / "empty")


def test_csv_prepare_tf_layout(tmp_path, monkeypatch):
    src = tmp_path / "tf"
    folder = _write_tf(src, "devel.csv", "data")
    info, parts = prepared(monkeypatch, csv_table.SPEC, src, tmp_path / "out")
    assert info["protocol"] == "official" and info["labels"] == ["anger", "neutral"]
    assert parts == {
        "train": {"data/a1.wav": "anger", "data/n1.wav": "neutral"},
        "devel": {"data/a2.WAV": "anger"},
        "test": {"data/sub/a3.wav": "anger", "data/n3.wav": "neutral"},
    }
    assert folder == src / "data"


# --- audformat ---------------------------------------------------------------------------------

AF_FILES = [f"wav/{s}_{k}.wav" for s in ("s1", "s2", "s3") for k in range(3)]
AF_LABELS = [
    "neutral",
    "anger",
    "happiness",
    "anger",
    "neutral",
    "happiness",
    "neutral",
    None,
    "anger",
]


def _audformat_db(root: Path, splits=("train", "dev", "test"), storage="csv") -> None:
    """A database as audb publishes them: a speaker misc table, split tables per split."""
    write_tones(root, [f.replace("s3_1.wav", "s3_1.WAV") for f in AF_FILES], seconds=SECONDS)
    write_tone(root / "wav/unlisted.wav", seconds=SECONDS)
    db = audformat.Database("mini", source="tests", usage=audformat.define.Usage.UNRESTRICTED)
    db.schemes["emotion"] = audformat.Scheme(labels=["neutral", "anger", "happiness", "sadness"])
    db.schemes["confidence"] = audformat.Scheme("float", minimum=0, maximum=1)
    db["speaker"] = audformat.MiscTable(
        pd.Index(["s1", "s2", "s3"], name="speaker", dtype="string")
    )
    db["speaker"]["gender"] = audformat.Column()
    db["speaker"]["gender"].set(["female", "male", "female"])
    db.schemes["speaker"] = audformat.Scheme("str", labels="speaker")
    files = [f.replace("s3_1.wav", "s3_1.WAV") for f in AF_FILES] + ["wav/gone.wav"]
    db["files"] = audformat.Table(audformat.filewise_index(files))
    db["files"]["speaker"] = audformat.Column(scheme_id="speaker")
    db["files"]["speaker"].set([f[4:6] for f in files[:-1]] + ["s1"])
    labels = [*AF_LABELS, "anger"]
    db["emotion"] = audformat.Table(audformat.filewise_index(files))
    db["emotion"]["emotion"] = audformat.Column(scheme_id="emotion")
    db["emotion"]["emotion"].set(labels)
    db["emotion"]["emotion.confidence"] = audformat.Column(scheme_id="confidence")
    by_speaker = {"train": "s1", "dev": "s2", "test": "s3"}
    for split in splits:
        db.splits[split] = audformat.Split(split)
        idx = [k for k, f in enumerate(files) if by_speaker[split] in f]
        tid = f"emotion.categories.{split}.gold_standard"
        db[tid] = audformat.Table(audformat.filewise_index([files[k] for k in idx]), split_id=split)
        db[tid]["emotion"] = audformat.Column(scheme_id="emotion")
        db[tid]["emotion"].set([labels[k] for k in idx])
    db.save(root, storage_format=storage)


def test_audformat_defaults(tmp_path):
    root = tmp_path / "db"
    _audformat_db(root)
    res = audformat_db.parse(tmp_path)  # the db folder is found one level down
    assert items(res, root) == {
        ("wav/s1_0.wav", "neutral", "s1", "train"),
        ("wav/s1_1.wav", "anger", "s1", "train"),
        ("wav/s1_2.wav", "happiness", "s1", "train"),
        ("wav/s2_0.wav", "anger", "s2", "devel"),
        ("wav/s2_1.wav", "neutral", "s2", "devel"),
        ("wav/s2_2.wav", "happiness", "s2", "devel"),
        ("wav/s3_0.wav", "neutral", "s3", "test"),
        ("wav/s3_2.wav", "anger", "s3", "test"),
    }
    tables = "emotion.categories.train.gold_standard, emotion.categories.dev.gold_standard, "
    tables += "emotion.categories.test.gold_standard"
    assert skips(res, root) == {
        "wav/s3_1.WAV": "no emotion value in table emotion.categories.test.gold_standard",
        "wav/unlisted.wav": f"not in table {tables}",
    }
    assert res.labels == ("neutral", "anger", "happiness")  # the scheme's order, sadness unused

    res = audformat_db.parse(root, split="none", labels="anger,neutral")
    assert {(p, s, part) for p, _, s, part in items(res, root)} >= {("wav/s1_0.wav", "s1", None)}
    assert skips(res, root)["wav/gone.wav"] == "listed in table emotion but not found"
    assert res.labels == ("anger", "neutral")
    with pytest.raises(ValueError, match=r"option labels: joy not among the labels of emotion"):
        audformat_db.parse(root, labels="joy")


def test_audformat_train_test_only_and_errors(tmp_path):
    root = tmp_path / "db"
    _audformat_db(root, splits=("train", "test"))
    res = audformat_db.parse(root)  # no dev split: the whole table, the split kept as a column
    assert len(res.items) == 8 and all(i.partition is None for i in res.items)
    assert all(i.extra == {} for i in res.items)
    res = audformat_db.parse(
        root,
        table="emotion.categories.train.gold_standard,emotion.categories.test.gold_standard",
    )
    assert {i.extra["source_split"] for i in res.items} == {"train", "test"}
    assert {i.partition for i in res.items} == {None}
    with pytest.raises(ValueError, match=r"option table: no table 'nope'; tables: emotion, "):
        audformat_db.parse(root, table="nope")
    with pytest.raises(ValueError, match=r"table 'files' has no emotion-like column"):
        audformat_db.parse(root, table="files")
    with pytest.raises(ValueError, match="option speaker_column: no table has a column 'spk'"):
        audformat_db.parse(root, speaker_column="spk")
    with pytest.raises(ValueError, match="option split must be auto or none"):
        audformat_db.parse(root, split="maybe")


def test_audformat_refuses_pickles_and_partial_segments(tmp_path):
    root = tmp_path / "db"
    _audformat_db(root, storage="pkl")
    assert not list(root.glob("*.csv")) and list(root.glob("*.pkl"))
    with pytest.raises(
        ValueError,
        match=r"stored only as db\.emotion\.categories.*\.pkl; EmoNet does not load pickles",
    ):
        audformat_db.parse(root)

    seg = tmp_path / "seg"
    write_tones(seg, ["a.wav", "b.wav"], seconds=SECONDS)
    db = audformat.Database("seg", source="tests", usage=audformat.define.Usage.UNRESTRICTED)
    db.schemes["emotion"] = audformat.Scheme(labels=["anger", "neutral"])
    index = audformat.segmented_index(["a.wav", "b.wav"], [0, 0.02], [pd.NaT, 0.05])
    db["segments"] = audformat.Table(index)
    db["segments"]["emotion"] = audformat.Column(scheme_id="emotion")
    db["segments"]["emotion"].set(["anger", "neutral"])
    db.save(seg)
    with pytest.raises(
        ValueError,
        match=r"table 'segments' is segmented and 1 of its segments cover only part of a file \(e\.g\. b\.wav",
    ):
        audformat_db.parse(seg)
    whole = audformat.segmented_index(["a.wav", "b.wav"], [0, 0], [pd.NaT, pd.NaT])
    db["segments"] = audformat.Table(whole)
    db["segments"]["emotion"] = audformat.Column(scheme_id="emotion")
    db["segments"]["emotion"].set(["anger", "neutral"])
    db.save(seg)
    assert items(audformat_db.parse(seg), seg) == {
        ("a.wav", "anger", "unknown", None),
        ("b.wav", "neutral", "unknown", None),
    }


def test_audformat_prepare(tmp_path, monkeypatch):
    root = tmp_path / "db"
    _audformat_db(root)
    info, parts = prepared(monkeypatch, audformat_db.SPEC, root, tmp_path / "out")
    assert info["protocol"] == "official"
    assert info["labels"] == ["neutral", "anger", "happiness"]
    assert parts == {
        "train": {"wav/s1_0.wav": "neutral", "wav/s1_1.wav": "anger", "wav/s1_2.wav": "happiness"},
        "devel": {"wav/s2_0.wav": "anger", "wav/s2_1.wav": "neutral", "wav/s2_2.wav": "happiness"},
        "test": {"wav/s3_0.wav": "neutral", "wav/s3_2.wav": "anger"},
    }
