"""Parsers of RAVDESS, URDU, EMOVO, CASIA, nEMO, TurEV-DB, BAVED, TESS, SAVEE, CREMA-D, IEMOCAP.

Each test builds a miniature of the official layout (real file-name scheme, short tones at the
corpus's native rate) one folder deeper than expected, with junk, an upper-case extension and badly
named files, and checks the exact items and skip reasons.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from miniature import add_junk, fake, skips, triples, write_tone, write_tones

from emonet.corpora import get_corpus

SECONDS = 0.1


def test_all_registered():
    names = ("ravdess", "urdu", "emovo", "casia", "nemo", "turev", "baved", "tess")
    names += ("savee", "cremad", "iemocap")
    for name in names:
        spec = get_corpus(name)
        assert spec.name == name and spec.labels and spec.speakers and spec.items
        assert spec.license and spec.citation and spec.layout and spec.notes
    assert get_corpus("iemocap").official_split
    assert get_corpus("tess").labels[5] == "pleasant_surprise"


# --- RAVDESS -----------------------------------------------------------------------------------


def test_ravdess_miniature(tmp_path):
    root = tmp_path / "download" / "RAVDESS"
    speech = root / "Audio_Speech_Actors_01-24"
    files = write_tones(
        speech,
        [
            "Actor_01/03-01-01-01-01-01-01.wav",
            "Actor_02/03-01-05-02-02-01-02.wav",
            "Actor_12/03-01-08-02-01-02-12.WAV",
            "Actor_01/03-01-09-01-01-01-01.wav",
            "Actor_01/notes.wav",
        ],
        sr=48_000,
        seconds=SECONDS,
    )
    write_tone(
        root / "Audio_Song_Actors_01-24/Actor_01/03-02-03-01-01-01-01.wav",
        sr=48_000,
        seconds=SECONDS,
    )
    write_tone(
        root / "copy/Audio_Speech_Actors_01-24/Actor_01/03-01-01-01-01-01-01.flac",
        sr=48_000,
        seconds=SECONDS,
    )
    fake(speech / "Actor_02/01-01-05-02-02-01-02.mp4")
    add_junk(root, files[0])
    res = get_corpus("ravdess").parse(tmp_path)
    assert triples(res) == {
        ("03-01-01-01-01-01-01.wav", "neutral", "01"),
        ("03-01-05-02-02-01-02.wav", "angry", "02"),
        ("03-01-08-02-01-02-12.WAV", "surprised", "12"),
    }
    angry = next(i for i in res.items if i.label == "angry")
    assert angry.extra["gender"] == "female" and angry.extra["intensity"] == "strong"
    assert angry.extra["text"] == "Dogs are sitting by the door"
    base = "download/RAVDESS/Audio_Speech_Actors_01-24/"
    assert skips(res, tmp_path) == {
        base + "Actor_01/03-01-09-01-01-01-01.wav": "unknown emotion code 09",
        base + "Actor_01/notes.wav": "file name does not follow the scheme MM-VV-EE-II-SS-RR-AA "
        "(e.g. 03-01-05-02-01-01-12)",
        base + "Actor_02/01-01-05-02-02-01-02.mp4": "modality 01 (full audio-video); "
        "only audio-only files (03) are taken",
        "download/RAVDESS/Audio_Song_Actors_01-24/Actor_01/03-02-03-01-01-01-01.wav": "vocal "
        "channel 02 (song); only speech is taken (option include_song=true adds it)",
        "download/RAVDESS/copy/Audio_Speech_Actors_01-24/Actor_01/03-01-01-01-01-01-01.flac": (
            f"duplicate of {speech / 'Actor_01/03-01-01-01-01-01-01.wav'}"
        ),
    }
    with_song = get_corpus("ravdess").parse(tmp_path, include_song="true")
    assert ("03-02-03-01-01-01-01.wav", "happy", "01") in triples(with_song)
    with pytest.raises(ValueError, match="include_song"):
        get_corpus("ravdess").parse(tmp_path, include_song="perhaps")


def test_ravdess_real(ravdess_dir):
    res = get_corpus("ravdess").parse(ravdess_dir)
    assert len(res.items) == 1440
    assert res.skipped == []
    assert len({i.speaker for i in res.items}) == 24
    counts = Counter(i.label for i in res.items)
    assert list(counts) and set(counts) == set(get_corpus("ravdess").labels)
    assert counts["neutral"] == 96 and counts["calm"] == 192
    assert {i.path.suffix for i in res.items} == {".flac"}


# --- URDU --------------------------------------------------------------------------------------


def test_urdu_miniature(tmp_path):
    root = tmp_path / "URDU-Dataset-master"
    files = write_tones(
        root,
        [
            "Angry/SM1_F1_A01.wav",
            "Happy/SF2_F1_H05.wav",
            "Neutral/SM20_F3_N11.wav",
            "Sad/SM24_F10_S022.WAV",
            "Sad/SM1_F2_A03.wav",
            "Angry/notes.wav",
        ],
        sr=44_100,
        seconds=SECONDS,
    )
    add_junk(root, files[0])
    res = get_corpus("urdu").parse(tmp_path)
    assert triples(res) == {
        ("SM1_F1_A01.wav", "angry", "SM1"),
        ("SF2_F1_H05.wav", "happy", "SF2"),
        ("SM20_F3_N11.wav", "neutral", "SM20"),
        ("SM24_F10_S022.WAV", "sad", "SM24"),
    }
    assert {i.extra["gender"] for i in res.items if i.speaker.startswith("SF")} == {"female"}
    assert skips(res, root) == {
        "Sad/SM1_F2_A03.wav": "emotion letter A (angry) disagrees with its folder Sad",
        "Angry/notes.wav": "file name does not follow the scheme SGX_FYY_EZZ (e.g. SM1_F01_A12)",
    }


def test_urdu_real(urdu_dir):
    res = get_corpus("urdu").parse(urdu_dir)
    assert len(res.items) == 400
    assert res.skipped == []
    assert Counter(i.label for i in res.items) == dict.fromkeys(get_corpus("urdu").labels, 100)
    speakers = {i.speaker for i in res.items}
    # The README documents 38 speakers; the file names hold 29 IDs (SM8-SM16 never occur).
    assert len(speakers) == 29
    assert sum(s.startswith("SF") for s in speakers) == 11
    assert not speakers & {f"SM{n}" for n in range(8, 17)}


# --- EMOVO -------------------------------------------------------------------------------------


def test_emovo_miniature(tmp_path):
    root = tmp_path / "EMOVO"
    files = write_tones(root, ["m3/tri-m3-n5.wav", "m1/xyz-m1-b1.wav"], sr=48_000, seconds=SECONDS)
    write_tone(root / "f1/dis-f1-b1.wav", sr=48_000, seconds=SECONDS, channels=2)
    write_tone(root / "f2/NEU-f2-l4.WAV", sr=48_000, seconds=SECONDS)
    write_tone(root / "documents/readme.wav", sr=48_000, seconds=SECONDS)
    add_junk(root, files[0])
    res = get_corpus("emovo").parse(tmp_path)
    assert triples(res) == {
        ("dis-f1-b1.wav", "disgust", "f1"),
        ("tri-m3-n5.wav", "sadness", "m3"),
        ("NEU-f2-l4.WAV", "neutral", "f2"),
    }
    assert next(i for i in res.items if i.speaker == "f2").extra["sentence_type"] == "long"
    reasons = skips(res, root)
    assert reasons["m1/xyz-m1-b1.wav"].startswith("unknown emotion code 'xyz'")
    assert "<emo>-<speaker>-<sentence>" in reasons["documents/readme.wav"]
    assert len(reasons) == 2


# --- CASIA -------------------------------------------------------------------------------------


def test_casia_miniature(tmp_path):
    root = tmp_path / "CASIA" / "CASIA database"
    files = write_tones(
        root,
        [
            "liuchanhg/angry/201.wav",
            "wangzhe/neutral/233.wav",
            "ZhaoZuoxiang/surprise/250.WAV",
            "Quanyin.Zhao/sad/12.wav",
            "renamed/202-neutral-ZhaoZuoxiang.wav",
            "wangzhe/bored/201.wav",
            "wangzhe/angry/take1.wav",
            "loose/angry/205.wav",
        ],
        sr=16_000,
        seconds=SECONDS,
    )
    add_junk(root, files[0])
    res = get_corpus("casia").parse(tmp_path)
    assert triples(res) == {
        ("201.wav", "angry", "liuchanhg"),
        ("233.wav", "neutral", "wangzhe"),
        ("250.WAV", "surprise", "ZhaoZuoxiang"),
        ("12.wav", "sad", "zhaoquanyin"),
        ("202-neutral-ZhaoZuoxiang.wav", "neutral", "ZhaoZuoxiang"),
    }
    reasons = skips(res, root)
    assert reasons.pop("wangzhe/bored/201.wav").startswith("not in an emotion folder")
    assert reasons.pop("loose/angry/205.wav").startswith("not in a speaker folder")
    assert reasons == {
        "wangzhe/angry/take1.wav": "file name is not a sentence number (e.g. 201.wav)"
    }


# --- nEMO --------------------------------------------------------------------------------------

NEMO_TSV = (
    "file_id\temotion\traw_text\tnormalized_text\tspeaker_id\tgender\tage\n"
    "EB0_anger_1.wav\tanger\tLubię czytać przed snem.\tlubię czytać przed snem\t        EB0\tfemale\t27\n"
    "KS0_surprised_10.wav\tsurprised \tKupiłem nową szafę.\tkupiłem nową szafę\t  KS0\tmale\t23\n"
    "MK0_fear_36.wav\tfear\tTen pomysł.\tten pomysł\t        MK0\tfemale\t23\n"
    "WR0_sadness_9.wav\tsadness\tPiłka nożna.\tpiłka nożna\t        WR0\tmale\t23\n"
    "TP0_bored_1.wav\tbored\tNudy.\tnudy\t        TP0\tmale\t26\n"
)


def test_nemo_miniature(tmp_path):
    root = tmp_path / "nEMO-main"
    samples = root / "samples"
    files = write_tones(
        samples,
        [
            "EB0_anger_1.wav",
            "KS0_surprised_10.wav",
            "MK0_fear_36.WAV",
            "TP0_bored_1.wav",
            "extra_take.wav",
        ],
        sr=24_000,
        seconds=SECONDS,
    )
    (root / "data.tsv").write_text(NEMO_TSV, encoding="utf-8")
    add_junk(root, files[0])
    res = get_corpus("nemo").parse(tmp_path)
    assert triples(res) == {
        ("EB0_anger_1.wav", "anger", "EB0"),
        ("KS0_surprised_10.wav", "surprised", "KS0"),
        ("MK0_fear_36.WAV", "fear", "MK0"),
    }
    eb0 = next(i for i in res.items if i.speaker == "EB0")
    assert eb0.extra == {
        "text": "Lubię czytać przed snem.",
        "normalized_text": "lubię czytać przed snem",
        "gender": "female",
        "age": "27",
    }
    assert skips(res, root) == {
        "samples/extra_take.wav": "not listed in data.tsv",
        "samples/TP0_bored_1.wav": "unknown emotion 'bored' (expected anger, fear, happiness, "
        "neutral, sadness, surprised)",
        "samples/WR0_sadness_9.wav": f"listed in {root / 'data.tsv'} but no audio file found",
    }


def test_nemo_without_tsv_reads_names(tmp_path):
    write_tones(tmp_path / "samples", ["WR0_happiness_86.wav", "x.wav"], sr=24_000, seconds=SECONDS)
    res = get_corpus("nemo").parse(tmp_path)
    assert triples(res) == {("WR0_happiness_86.wav", "happiness", "WR0")}
    assert [s.reason for s in res.skipped] == [
        "no data.tsv and the name does not follow <speaker>_<emotion>_<n>"
    ]


# --- TurEV-DB ----------------------------------------------------------------------------------


def test_turev_miniature(tmp_path):
    root = tmp_path / "TurEV-DB-master"
    src = root / "Sound Source"
    files = write_tones(
        src,
        [
            "Angry/1157_kz_acik.wav",
            "Calm/1234_sk_algi.wav",
            "Happy/1358_mt_beste.WAV",
            "Sad/7895_hl_cay.wav",
            "Sad/7895_hl_ogul1.wav",  # a digit in the word, as in the real copy
            "Sad/1984_kz_dil.wav",
            "Sad/7895_hl_12.wav",
            "Angry/readme.wav",
        ],
        sr=44_100,
        seconds=SECONDS,
    )
    other = "Model Output for Test Data/testEmotions500HighPass/sound/Angry/1157_kz_acik.wav"
    write_tone(root / other, sr=44_100, seconds=SECONDS)
    add_junk(root, files[0])
    res = get_corpus("turev").parse(tmp_path)
    assert triples(res) == {
        ("1157_kz_acik.wav", "angry", "1157"),
        ("1234_sk_algi.wav", "calm", "1234"),
        ("1358_mt_beste.WAV", "happy", "1358"),
        ("7895_hl_cay.wav", "sad", "7895"),
        ("7895_hl_ogul1.wav", "sad", "7895"),
    }
    assert {i.extra["word"] for i in res.items if i.speaker == "7895"} == {"cay", "ogul1"}
    assert skips(res, root) == {
        other: "outside 'Sound Source/' (a filtered copy from the repository's model outputs)",
        "Sound Source/Sad/1984_kz_dil.wav": "emotion code kz (angry) disagrees with its folder Sad",
        "Sound Source/Sad/7895_hl_12.wav": "file name does not follow the scheme "
        "<speaker>_<code>_<word> (e.g. 1157_kz_acik)",
        "Sound Source/Angry/readme.wav": "file name does not follow the scheme "
        "<speaker>_<code>_<word> (e.g. 1157_kz_acik)",
    }
    # Given the emotion folders directly (one level lower), everything there is read.
    assert len(get_corpus("turev").parse(src).items) == 5


# --- BAVED -------------------------------------------------------------------------------------


def test_baved_miniature(tmp_path):
    root = tmp_path / "Basic-Arabic-Vocal-Emotions-Dataset-master"
    files = write_tones(
        root,
        [
            "0/0-m-21-0-1-105.wav",
            "3/100-f-6-3-0-1.wav",
            "6/47-m-20-6-2-172.WAV",
            "2/12-f-19-2-3-1.wav",
            "1/bad-name.wav",
        ],
        sr=16_000,
        seconds=SECONDS,
    )
    add_junk(root, files[0])
    res = get_corpus("baved").parse(tmp_path)
    assert triples(res) == {
        ("0-m-21-0-1-105.wav", "neutral", "0"),
        ("100-f-6-3-0-1.wav", "low", "100"),
        ("47-m-20-6-2-172.WAV", "high", "47"),
    }
    low = next(i for i in res.items if i.label == "low")
    assert low.extra == {"gender": "female", "age": "6", "word": "3", "record": "1"}
    reasons = skips(res, root)
    assert reasons.pop("2/12-f-19-2-3-1.wav") == "unknown emotion level 3 (expected 0, 1 or 2)"
    assert "<speaker>-<gender>-<age>-<word>-<level>-<record>" in reasons.pop("1/bad-name.wav")
    assert reasons == {}


# --- TESS --------------------------------------------------------------------------------------


def test_tess_miniature(tmp_path):
    root = tmp_path / "tess toronto emotional speech set data"
    data = root / "TESS Toronto emotional speech set data"
    files = write_tones(
        data,
        [
            "OAF_angry/OAF_back_angry.wav",
            "OAF_Pleasant_surprise/OAF_back_ps.wav",
            "YAF_pleasant_surprised/YAF_dog_ps.WAV",
            "OAF_neutral/OA_bite_neutral.wav",
            "YAF_sad/YAF_back_happy.wav",
            "YAF_fear/YAF_back_bored.wav",
            "YAF_fear/readme.wav",
        ],
        sr=24_414,
        seconds=SECONDS,
    )
    # Kaggle's copy nests a second copy of the data folder: each recording is taken once.
    dup = write_tone(
        root / data.name / data.name / "OAF_angry/OAF_back_angry.wav", sr=24_414, seconds=SECONDS
    )
    add_junk(root, files[0])
    res = get_corpus("tess").parse(tmp_path)
    assert triples(res) == {
        ("OAF_back_angry.wav", "angry", "OAF"),
        ("OAF_back_ps.wav", "pleasant_surprise", "OAF"),
        ("YAF_dog_ps.WAV", "pleasant_surprise", "YAF"),
        ("OA_bite_neutral.wav", "neutral", "OAF"),
    }
    assert next(i for i in res.items if i.speaker == "YAF").extra["text"] == "Say the word dog"
    reasons = skips(res, tmp_path)
    assert reasons.pop(dup.relative_to(tmp_path).as_posix()).startswith("duplicate of")
    rel = f"{root.name}/{data.name}/"
    assert reasons.pop(rel + "YAF_sad/YAF_back_happy.wav") == (
        "name says YAF happy but its folder is YAF_sad"
    )
    assert reasons.pop(rel + "YAF_fear/YAF_back_bored.wav").startswith("unknown emotion 'bored'")
    assert "<OAF|YAF>_<word>_<emotion>" in reasons.pop(rel + "YAF_fear/readme.wav")
    assert reasons == {}


# --- SAVEE -------------------------------------------------------------------------------------


def test_savee_miniature(tmp_path):
    root = tmp_path / "SAVEE"
    files = write_tones(
        root,
        [
            "AudioData/DC/a01.wav",
            "AudioData/JE/sa15.wav",
            "AudioData/KL/n30.WAV",
            "AudioData/KL/x01.wav",
            "AudioData/DC/readme.wav",
            "ALL/JK_su03.wav",
            "ALL/DC_a01.wav",
            "misc/h02.wav",
        ],
        sr=44_100,
        seconds=SECONDS,
    )
    fake(root / "AudioVisualClip/DC/a01.avi")
    add_junk(root, files[0])
    res = get_corpus("savee").parse(tmp_path)
    assert triples(res) == {
        ("DC_a01.wav", "anger", "DC"),
        ("sa15.wav", "sadness", "JE"),
        ("n30.WAV", "neutral", "KL"),
        ("JK_su03.wav", "surprise", "JK"),
    }
    assert skips(res, root) == {
        "AudioVisualClip/DC/a01.avi": "video clip (AudioVisualClip); the audio-only AudioData "
        "recordings are taken",
        "AudioData/KL/x01.wav": "unknown emotion code 'x' (expected a, d, f, h, n, sa or su)",
        "AudioData/DC/readme.wav": "file name does not follow the scheme <code><nn> or "
        "<speaker>_<code><nn> (e.g. sa01, DC_sa01)",
        "misc/h02.wav": "no speaker: neither a DC_/JE_/JK_/KL_ prefix nor a speaker folder (misc)",
        "AudioData/DC/a01.wav": f"duplicate of {root / 'ALL/DC_a01.wav'} (same recording)",
    }


# --- CREMA-D -----------------------------------------------------------------------------------


def test_cremad_miniature(tmp_path):
    root = tmp_path / "CREMA-D-master"
    wav = root / "AudioWAV"
    files = write_tones(
        wav,
        [
            "1001_DFA_ANG_XX.wav",
            "1091_WSI_SAD_HI.WAV",
            "1076_MTI_NEU_XX.wav",
            "1002_IEO_BOR_LO.wav",
            "1003_XYZ_ANG_LO.wav",
            "readme.wav",
        ],
        sr=16_000,
        seconds=SECONDS,
    )
    fake(root / "AudioMP3/1001_DFA_ANG_XX.mp3")
    (root / "VideoDemographics.csv").write_text(
        "ActorID,Age,Sex,Race,Ethnicity\n1001,51,Male,Caucasian,Not Hispanic\n"
    )
    add_junk(root, files[0])
    res = get_corpus("cremad").parse(tmp_path)
    assert triples(res) == {
        ("1001_DFA_ANG_XX.wav", "anger", "1001"),
        ("1091_WSI_SAD_HI.WAV", "sad", "1091"),
        ("1076_MTI_NEU_XX.wav", "neutral", "1076"),
    }
    first = next(i for i in res.items if i.speaker == "1001")
    assert first.extra == {
        "sentence": "DFA",
        "text": "Don't forget a jacket",
        "intensity": "unspecified",
        "gender": "male",
        "age": "51",
    }
    reasons = skips(res, root)
    assert reasons.pop("AudioMP3/1001_DFA_ANG_XX.mp3") == (
        f"duplicate of {wav / '1001_DFA_ANG_XX.wav'} (same recording)"
    )
    assert reasons.pop("AudioWAV/1002_IEO_BOR_LO.wav").startswith("unknown emotion code BOR")
    assert reasons.pop("AudioWAV/1003_XYZ_ANG_LO.wav") == "unknown sentence code XYZ"
    assert "<actor>_<sentence>_<emotion>_<level>" in reasons.pop("AudioWAV/readme.wav")
    assert reasons == {}


# --- IEMOCAP -----------------------------------------------------------------------------------

EVAL_S1 = """% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]

[6.2901 - 8.2357]\tSes01F_impro01_F000\tneu\t[2.5000, 2.5000, 2.5000]
C-E2:\tNeutral;\t()
C-E3:\tNeutral;\t()

[10.0100 - 11.3925]\tSes01F_impro01_M001\texc\t[3.5000, 3.0000, 3.0000]

[14.8872 - 18.0175]\tSes01F_impro01_M002\txxx\t[2.5000, 3.5000, 3.0000]

[19.2900 - 20.7875]\tSes01F_impro01_F003\tfru\t[2.0000, 3.5000, 3.5000]

[21.0000 - 22.0000]\tSes01F_impro01_F004\tneu\t[2.5000, 2.0000, 2.5000]
"""


def write_iemocap(root: Path) -> list[Path]:
    """Sessions 1, 4 and 5 of an IEMOCAP miniature (a few utterances each)."""
    s1 = root / "Session1"
    (s1 / "dialog/EmoEvaluation/Categorical").mkdir(parents=True)
    (s1 / "dialog/EmoEvaluation/Ses01F_impro01.txt").write_text(EVAL_S1)
    (s1 / "dialog/EmoEvaluation/Categorical/Ses01F_impro01_e1_cat.txt").write_text(
        "Ses01F_impro01_F000 :Anger; ()\n"
    )
    (s1 / "dialog/transcriptions").mkdir(parents=True)
    (s1 / "dialog/transcriptions/Ses01F_impro01.txt").write_text(
        "Ses01F_impro01_F000 [006.2901-008.2357]: Excuse me.\n"
    )
    (root / "Session4/dialog/EmoEvaluation").mkdir(parents=True)
    (root / "Session4/dialog/EmoEvaluation/Ses04F_impro02.txt").write_text(
        "[1.0 - 2.0]\tSes04F_impro02_M000\tsad\t[1.5000, 2.0000, 2.0000]\n"
    )
    (root / "Session5/dialog/EmoEvaluation").mkdir(parents=True)
    (root / "Session5/dialog/EmoEvaluation/Ses05M_script01_1.txt").write_text(
        "[3.1 - 4.2]\tSes05M_script01_1_F012\tang\t[2.0000, 4.0000, 4.0000]\n"
    )
    wav = "sentences/wav/Ses01F_impro01/"
    return write_tones(
        root,
        [
            f"Session1/{wav}Ses01F_impro01_F000.wav",
            f"Session1/{wav}Ses01F_impro01_M001.wav",
            f"Session1/{wav}Ses01F_impro01_M002.wav",
            f"Session1/{wav}Ses01F_impro01_F003.wav",
            f"Session1/{wav}notes.wav",
            "Session1/dialog/wav/Ses01F_impro01.wav",
            "Session4/sentences/wav/Ses04F_impro02/Ses04F_impro02_M000.wav",
            "Session4/sentences/wav/Ses04F_impro02/Ses04F_impro02_M099.wav",
            "Session5/sentences/wav/Ses05M_script01_1/Ses05M_script01_1_F012.WAV",
        ],
        sr=16_000,
        seconds=SECONDS,
    )


def test_iemocap_miniature(tmp_path):
    root = tmp_path / "IEMOCAP_full_release"
    files = write_iemocap(root)
    fake(root / "Session1/dialog/avi/DivX/Ses01F_impro01.avi")
    add_junk(root, files[0])
    res = get_corpus("iemocap").parse(tmp_path)
    assert res.labels == ("neutral", "happiness", "anger", "sadness")
    got = {(i.path.name, i.label, i.speaker, i.partition) for i in res.items}
    assert got == {
        ("Ses01F_impro01_F000.wav", "neutral", "Ses01F", "train"),
        ("Ses01F_impro01_M001.wav", "happiness", "Ses01M", "train"),
        ("Ses04F_impro02_M000.wav", "sadness", "Ses04M", "devel"),
        ("Ses05M_script01_1_F012.WAV", "anger", "Ses05F", "test"),
    }
    f000 = next(i for i in res.items if i.path.stem == "Ses01F_impro01_F000")
    assert f000.extra["text"] == "Excuse me."
    assert (f000.extra["valence"], f000.extra["dialog"]) == ("2.5000", "Ses01F_impro01")
    s1 = "Session1/sentences/wav/Ses01F_impro01/"
    evaluation = root / "Session1/dialog/EmoEvaluation/Ses01F_impro01.txt"
    assert skips(res, root) == {
        s1 + "Ses01F_impro01_M002.wav": "no majority emotion among the annotators (xxx)",
        s1 + "Ses01F_impro01_F003.wav": "label fru (frustration) is not in the selected classes=4",
        s1 + "notes.wav": "file name does not follow the scheme Ses0<n><F|M>_<dialog>_<F|M><nnn>",
        s1 + "Ses01F_impro01_F004.wav": f"labelled neu in {evaluation} but no audio file found",
        "Session1/dialog/wav/Ses01F_impro01.wav": "whole-dialog recording; utterances come from "
        "sentences/wav",
        "Session1/dialog/avi/DivX/Ses01F_impro01.avi": "video recording; utterance audio comes "
        "from sentences/wav",
        "Session4/sentences/wav/Ses04F_impro02/Ses04F_impro02_M099.wav": "no label: utterance "
        "not found in any EmoEvaluation/*.txt",
    }


def test_iemocap_all_classes(tmp_path):
    write_iemocap(tmp_path)
    res = get_corpus("iemocap").parse(tmp_path, classes="all")
    labels = {i.path.stem: i.label for i in res.items}
    assert labels["Ses01F_impro01_M001"] == "excited"
    assert labels["Ses01F_impro01_F003"] == "frustration"
    assert "Ses01F_impro01_M002" not in labels  # xxx is never a label
    assert res.labels is not None and len(res.labels) == 10 and "excited" in res.labels
    merged = get_corpus("iemocap").parse(tmp_path, classes="neu,hap,fru", merge_excited="yes")
    assert merged.labels == ("neutral", "happiness", "frustration")
    assert {i.label for i in merged.items} == {"neutral", "happiness", "frustration"}
    with pytest.raises(ValueError, match="classes"):
        get_corpus("iemocap").parse(tmp_path, classes="boredom")
