"""EmoDB parser on a generated miniature and on the real copy."""

from __future__ import annotations

from collections import Counter

from miniature import add_junk, write_tone, write_tones

from emonet.corpora import get_corpus


def test_emodb_miniature(tmp_path):
    root = tmp_path / "download" / "emodb"  # an extra nesting level
    files = write_tones(root / "wav", ["03a01Fa.wav", "08b02Wc.wav", "16a05Nb.wav"])
    write_tone(root / "wav" / "10a04Lb.WAV")  # upper-case extension
    write_tone(root / "wav" / "notes.wav")  # does not follow the scheme
    add_junk(root, files[0])
    res = get_corpus("emodb").parse(tmp_path)
    got = {(i.path.name, i.label, i.speaker) for i in res.items}
    assert got == {
        ("03a01Fa.wav", "happiness", "03"),
        ("08b02Wc.wav", "anger", "08"),
        ("16a05Nb.wav", "neutral", "16"),
        ("10a04Lb.WAV", "boredom", "10"),
    }
    assert [s.path.endswith("notes.wav") for s in res.skipped] == [True]
    assert "SSTTTEV" in res.skipped[0].reason


def test_emodb_real(emodb_dir):
    res = get_corpus("emodb").parse(emodb_dir)
    assert len(res.items) == 535
    assert res.skipped == []
    assert len({i.speaker for i in res.items}) == 10
    counts = Counter(i.label for i in res.items)
    assert set(counts) == set(get_corpus("emodb").labels)
    assert counts["anger"] == 127 and counts["disgust"] == 46
