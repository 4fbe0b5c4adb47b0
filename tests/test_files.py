"""Atomic writes (emonet.files): whole files or none, no leftovers, one table writer for all."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from emonet.files import (
    OutputFormatError,
    atomic_path,
    temporary_path,
    write_json,
    write_table,
    write_text,
)


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = write_text(tmp_path / "report.md", "old\n")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half a")
        raise RuntimeError("killed while writing")
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.md"]


def test_temporary_names_are_hidden_unique_and_keep_the_suffix(tmp_path):
    a, b = temporary_path(tmp_path / "x.flac"), temporary_path(tmp_path / "x.flac")
    assert a != b and a.name.startswith(".") and a.suffix == ".flac" and a.parent == tmp_path


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_tables_round_trip_in_every_format(tmp_path, suffix):
    table = pd.DataFrame({"file": ["a.wav", "ü.wav"], "p": [0.25, 0.75]})
    path = write_table(tmp_path / "sub" / f"t{suffix}", table)
    read = {".csv": pd.read_csv, ".parquet": pd.read_parquet}.get(
        suffix, lambda p: pd.read_json(p, lines=True)
    )(path)
    pd.testing.assert_frame_equal(read, table)


def test_unknown_table_format_names_the_file(tmp_path):
    with pytest.raises(OutputFormatError, match=r"t\.xlsx: tables are written as \.csv"):
        write_table(tmp_path / "t.xlsx", pd.DataFrame({"a": [1]}))
    assert not list(tmp_path.iterdir())


def test_json_is_pretty_utf8(tmp_path):
    path = write_json(tmp_path / "m.json", {"corpus": "äöü", "uar": 0.5})
    assert json.loads(path.read_text(encoding="utf-8")) == {"corpus": "äöü", "uar": 0.5}
    assert "äöü" in path.read_text(encoding="utf-8")
