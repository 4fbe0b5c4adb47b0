"""Parsers of ShEMO, SUBESCO, AESDD, CaFE, MESD, JL-Corpus, ESD, EmoV-DB, eNTERFACE'05, MSP-Podcast.

Each test builds a miniature of the official layout (real file-name scheme, short tones at the
corpus's native rate) one folder deeper than expected, with junk, an upper-case extension and badly
named files, and checks the exact items and skip reasons.
"""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest
from miniature import add_junk, fake, skips, triples, write_tone, write_tones

from emonet.corpora import (
    aesdd,
    cafe,
    emovdb,
    enterface,
    esd,
    jlcorpus,
    mesd,
    msppodcast,
    shemo,
    subesco,
)
from emonet.corpora.base import PARTITIONS

SECONDS = 0.1
MODULES = (shemo, subesco, aesdd, cafe, mesd, jlcorpus, esd, emovdb, enterface, msppodcast)


def test_specs_complete():
    names = [m.SPEC.name for m in MODULES]
    assert names == [m.__name__.rsplit(".", 1)[1] for m in MODULES]
    for module in MODULES:
        spec = module.SPEC
        assert spec.parse is module.parse and not spec.generic
        assert spec.language and spec.license and spec.citation and spec.layout and spec.notes
        assert spec.labels and len(set(spec.labels)) == len(spec.labels)
        assert all(label == label.lower() and " " not in label for label in spec.labels)
        assert next(iter(inspect.signature(spec.parse).parameters)) == "root"
        if spec.name == "msppodcast":  # counts grow with every release
            assert spec.speakers is None and spec.items is None
        else:
            assert spec.speakers and spec.items and spec.items > spec.speakers
    official = {m.SPEC.name for m in MODULES if m.SPEC.official_split}
    assert official == {"esd", "msppodcast"}
    assert cafe.SPEC.labels == (
        "anger",
        "disgust",
        "happiness",
        "neutral",
        "fear",
        "surprise",
        "sadness",
    )
    assert jlcorpus.SPEC.labels == ("angry", "sad", "neutral", "happy", "excited")


# --- ShEMO -------------------------------------------------------------------------------------


def test_shemo_miniature(tmp_path):
    root = tmp_path / "ShEMO" / "ShEMO"
    files = write_tones(
        root,
        [
            "female/F01A01.wav",
            "female/F24W17.wav",
            "male/M02F01.WAV",
            "male/M15N03.wav",
            "female/M03S01.wav",
            "male/F05X01.wav",
            "female/readme.wav",
        ],
        sr=44_100,
        seconds=SECONDS,
    )
    add_junk(root, files[0])
    res = shemo.parse(tmp_path)
    assert triples(res) == {
        ("F01A01.wav", "anger", "F01"),
        ("F24W17.wav", "surprise", "F24"),
        ("M02F01.WAV", "fear", "M02"),
        ("M15N03.wav", "neutral", "M15"),
    }
    m02 = next(i for i in res.items if i.speaker == "M02")
    assert m02.extra == {"gender": "male", "utterance": "01"}
    assert skips(res, root) == {
        "female/M03S01.wav": "gender letter M (male) disagrees with its folder female",
        "male/F05X01.wav": "unknown emotion letter X (expected A, F, H, N, S or W)",
        "female/readme.wav": "file name does not follow the scheme <G><spk><E><nn> (e.g. F01A01)",
    }


# --- SUBESCO -----------------------------------------------------------------------------------


def test_subesco_miniature(tmp_path):
    root = tmp_path / "SUBESCO" / "SUBESCO"
    files = write_tones(
        root,
        [
            "F_02_MONIKA_S_1_NEUTRAL_5.wav",
            "M_01_ABIR_S_10_ANGRY_1.wav",
            "F_02_MONIKA_S_2_SURPRISE_3].wav",
            "F_01_OISHI_S_3_HAPPY_2.WAV",
            "M_05_RONI_S_1_BORED_1.wav",
            "notes.wav",
        ],
        sr=48_000,
        seconds=SECONDS,
    )
    write_tone(root / "backup/F_02_MONIKA_S_1_NEUTRAL_5.flac", sr=48_000, seconds=SECONDS)
    add_junk(root, files[0])
    res = subesco.parse(tmp_path)
    assert triples(res) == {
        ("F_02_MONIKA_S_1_NEUTRAL_5.wav", "neutral", "F_02"),
        ("M_01_ABIR_S_10_ANGRY_1.wav", "angry", "M_01"),
        ("F_02_MONIKA_S_2_SURPRISE_3].wav", "surprise", "F_02"),
        ("F_01_OISHI_S_3_HAPPY_2.WAV", "happy", "F_01"),
    }
    bracket = next(i for i in res.items if i.label == "surprise")
    assert bracket.extra == {
        "gender": "female",
        "speaker_name": "MONIKA",
        "sentence": "2",
        "take": "3",
    }
    assert skips(res, root) == {
        "M_05_RONI_S_1_BORED_1.wav": "unknown emotion BORED (expected ANGRY, DISGUST, FEAR, "
        "HAPPY, NEUTRAL, SAD, SURPRISE)",
        "notes.wav": "file name does not follow the scheme <G>_<nn>_<NAME>_S_<sentence>_"
        "<EMOTION>_<take> (e.g. F_02_MONIKA_S_1_NEUTRAL_5)",
        "backup/F_02_MONIKA_S_1_NEUTRAL_5.flac": (
            f"duplicate of {root / 'F_02_MONIKA_S_1_NEUTRAL_5.wav'} (same recording)"
        ),
    }


# --- AESDD -------------------------------------------------------------------------------------


def test_aesdd_miniature(tmp_path):
    root = tmp_path / "Acted Emotional Speech Dynamic Database"
    files = write_tones(
        root,
        [
            "anger/a01 (1).wav",
            "disgust/d04 (5)b.wav",
            "fear/f12 (01).wav",
            "happiness/h20 (6).WAV",
            "sadness/a02 (2).wav",
            "sadness/x01 (1).wav",
            "anger/notes.wav",
        ],
        sr=44_100,
        seconds=SECONDS,
    )
    add_junk(root, files[0])
    res = aesdd.parse(tmp_path)
    assert triples(res) == {
        ("a01 (1).wav", "anger", "1"),
        ("d04 (5)b.wav", "disgust", "5"),
        ("f12 (01).wav", "fear", "1"),
        ("h20 (6).WAV", "happiness", "6"),
    }
    take = next(i for i in res.items if i.label == "disgust")
    assert take.extra == {"utterance": "04", "take": "b"}
    assert skips(res, root) == {
        "sadness/a02 (2).wav": "emotion letter a (anger) disagrees with its folder sadness",
        "sadness/x01 (1).wav": "unknown emotion letter 'x' (expected a, d, f, h or s)",
        "anger/notes.wav": "file name does not follow the scheme <x><AA> (<B>) "
        "(e.g. a01 (1), s05 (5)b)",
    }


# --- CaFE --------------------------------------------------------------------------------------


def test_cafe_miniature(tmp_path):
    root = tmp_path / "CaFE"
    files = write_tones(
        root,
        [
            "Colère/Faible/01-C-1-1.wav",
            "ColКre/Fort/02-C-2-3.wav",  # accents garbled by unzipping
            "Neutre/03-N-1-6.wav",
            "Joie/Fort/12-J-2-06.WAV",
            "Peur/Fort/04-P-1-2.wav",
            "Tristesse/Fort/06-J-2-1.wav",
            "Surprise/Fort/07-X-2-1.wav",
            "Surprise/Faible/08-S-4.wav",
            "Surprise/readme.wav",
        ],
        sr=48_000,
        seconds=SECONDS,
    )
    hi = tmp_path / "extra" / "CaFE_192k"
    write_tone(hi / "Tristesse/Faible/05-T-1-2.aiff", sr=192_000, seconds=SECONDS)
    write_tone(hi / "Colère/Faible/01-C-1-1.aiff", sr=192_000, seconds=SECONDS)
    add_junk(root, files[0])
    res = cafe.parse(tmp_path)
    assert triples(res) == {
        ("01-C-1-1.wav", "anger", "01"),
        ("02-C-2-3.wav", "anger", "02"),
        ("03-N-1-6.wav", "neutral", "03"),
        ("12-J-2-06.WAV", "happiness", "12"),
        ("05-T-1-2.aiff", "sadness", "05"),
    }
    extras = {i.path.name: i.extra for i in res.items}
    assert extras["02-C-2-3.wav"] == {"intensity": "strong", "sentence": "3"}
    assert extras["03-N-1-6.wav"] == {"intensity": "none", "sentence": "6"}
    assert extras["05-T-1-2.aiff"] == {"intensity": "mild", "sentence": "2"}
    assert skips(res, tmp_path) == {
        "CaFE/Peur/Fort/04-P-1-2.wav": "intensity 1 (mild) disagrees with its folder Fort",
        "CaFE/Tristesse/Fort/06-J-2-1.wav": "emotion letter J (happiness) disagrees with its "
        "folder Tristesse",
        "CaFE/Surprise/Fort/07-X-2-1.wav": "unknown emotion letter X (expected C, D, J, N, P, "
        "S, T)",
        "CaFE/Surprise/Faible/08-S-4.wav": "no intensity 1 (Faible) or 2 (Fort) in the name of "
        "a surprise recording",
        "CaFE/Surprise/readme.wav": "file name does not follow the scheme "
        "<actor>-<E>-<intensity>-<sentence> (e.g. 01-C-1-1)",
        "extra/CaFE_192k/Colère/Faible/01-C-1-1.aiff": (
            f"duplicate of {root / 'Colère/Faible/01-C-1-1.wav'}"
        ),
    }


# --- MESD --------------------------------------------------------------------------------------


def test_mesd_miniature(tmp_path):
    root = tmp_path / "MESD" / "Mexican Emotional Speech Database (MESD)"
    files = write_tones(
        root,
        [
            "Anger_C_A_abajo.wav",
            "Fear_M_A_por_favor.wav",
            "Happiness_F_B_rosa.WAV",
            "Neutral_M_B_chulo.wav",
            "Boredom_F_A_hola.wav",
            "Sadness_X_A_hoy.wav",
            "readme.wav",
        ],
        sr=48_000,
        seconds=SECONDS,
    )
    add_junk(root, files[0])
    res = mesd.parse(tmp_path)
    assert triples(res) == {
        ("Anger_C_A_abajo.wav", "anger", "child"),
        ("Fear_M_A_por_favor.wav", "fear", "male"),
        ("Happiness_F_B_rosa.WAV", "happiness", "female"),
        ("Neutral_M_B_chulo.wav", "neutral", "male"),
    }
    fear = next(i for i in res.items if i.label == "fear")
    assert fear.extra == {"voice": "male", "word_corpus": "A", "word": "por favor"}
    assert skips(res, root) == {
        "Boredom_F_A_hola.wav": "unknown emotion 'Boredom' (expected anger, disgust, fear, "
        "happiness, neutral, sadness)",
        "Sadness_X_A_hoy.wav": "unknown voice type 'X' (expected F, M or C)",
        "readme.wav": "file name does not follow the scheme <Emotion>_<F|M|C>_<A|B>_<word> "
        "(e.g. Anger_C_A_abajo)",
    }


# --- JL-Corpus ---------------------------------------------------------------------------------


def test_jlcorpus_miniature(tmp_path):
    root = tmp_path / "archive" / "Raw JL corpus (unchecked and unannotated)" / "JL(wav+txt)"
    files = write_tones(
        root,
        [
            "female1_angry_1a_1.wav",
            "male2_excited_15b_2.wav",
            "female2_neutral_3a_1.WAV",
            "male1_anxious_4a_2.wav",
            "female1_bored_1a_1.wav",
            "notes.wav",
        ],
        sr=44_100,
        seconds=SECONDS,
    )
    (root / "female1_angry_1a_1.txt").write_text("Tom is coming.\n")
    add_junk(root, files[0])
    res = jlcorpus.parse(tmp_path)
    assert res.labels is None
    assert triples(res) == {
        ("female1_angry_1a_1.wav", "angry", "female1"),
        ("male2_excited_15b_2.wav", "excited", "male2"),
        ("female2_neutral_3a_1.WAV", "neutral", "female2"),
    }
    excited = next(i for i in res.items if i.label == "excited")
    assert excited.extra == {
        "gender": "male",
        "sentence": "15b",
        "session": "2",
        "emotion_set": "primary",
    }
    assert skips(res, root) == {
        "male1_anxious_4a_2.wav": "secondary emotion anxious; only the 5 primary emotions are "
        "taken (option secondary=true adds them)",
        "female1_bored_1a_1.wav": "unknown emotion 'bored' (expected angry, sad, neutral, "
        "happy, excited, anxious, apologetic, assertive, concerned, encouraging)",
        "notes.wav": "file name does not follow the scheme <speaker>_<emotion>_<sentence><a|b>"
        "_<session> (e.g. female1_angry_1a_1)",
    }
    full = jlcorpus.parse(tmp_path, secondary="true")
    assert full.labels == jlcorpus.PRIMARY + jlcorpus.SECONDARY
    assert ("male1_anxious_4a_2.wav", "anxious", "male1") in triples(full)
    assert len(full.items) == 4 and len(full.skipped) == 2
    with pytest.raises(ValueError, match="secondary"):
        jlcorpus.parse(tmp_path, secondary="perhaps")


# --- ESD ---------------------------------------------------------------------------------------


def write_esd(root: Path) -> list[Path]:
    """Speakers 0001, 0011-0014 of an ESD miniature, with and without split folders."""
    files = write_tones(
        root,
        [
            "0001/Angry/train/0001_000401.wav",
            "0001/Neutral/evaluation/0001_000019.wav",
            "0011/Happy/test/0011_000721.WAV",
            "0011/Sad/0011_001057.wav",
            "0012/Surprise/0012_001750.wav",
            "0013/Sad/train/0013_000100.wav",
            "0021/Angry/train/0021_000351.wav",
            "0014/Angry/train/0015_000351.wav",
            "0001/Angry/train/0001_009999.wav",
            "0001/Angry/train/notes.wav",
        ],
        sr=16_000,
        seconds=SECONDS,
    )
    (root / "0011/0011.txt").write_bytes(
        "0011_000721\tWho is been repeating all that hard stuff to you?\tHappy\n".encode("utf-16")
    )
    (root / "0001/0001.txt").write_bytes("0001_000401\t打远一看\t生气\n".encode("gb2312"))
    (root / "ReadMe.txt").write_text("0001: Chinese Female\n")
    return files


def test_esd_miniature(tmp_path):
    root = tmp_path / "ESD" / "Emotion Speech Dataset"
    files = write_esd(root)
    add_junk(root, files[0])
    res = esd.parse(tmp_path)
    got = {(i.path.name, i.label, i.speaker, i.partition) for i in res.items}
    assert got == {
        ("0001_000401.wav", "angry", "0001", "train"),
        ("0001_000019.wav", "neutral", "0001", "devel"),
        ("0011_000721.WAV", "happy", "0011", "test"),
        ("0011_001057.wav", "sad", "0011", "devel"),
        ("0012_001750.wav", "surprise", "0012", "train"),
    }
    extras = {i.path.stem: i.extra for i in res.items}
    assert extras["0011_000721"] == {
        "language": "English",
        "gender": "male",
        "split_from": "folder",
        "text": "Who is been repeating all that hard stuff to you?",
    }
    assert extras["0001_000401"]["text"] == "打远一看"
    assert extras["0001_000401"]["language"] == "Mandarin"
    assert extras["0012_001750"]["split_from"] == "number"
    assert skips(res, root) == {
        "0013/Sad/train/0013_000100.wav": "utterance 000100 belongs to the neutral block "
        "(000001-000350 neutral, 000351-000700 angry, …) but the file is in folder sad",
        "0021/Angry/train/0021_000351.wav": "unknown speaker 0021 (ESD has speakers 0001-0020)",
        "0014/Angry/train/0015_000351.wav": "speaker 0015 in the name but the file is in folder "
        "0014",
        "0001/Angry/train/0001_009999.wav": "utterance number 009999 is outside 000001-001750",
        "0001/Angry/train/notes.wav": "file name does not follow the scheme <spk>_<nnnnnn> "
        "(e.g. 0001_000351)",
    }


def test_esd_split_by_number():
    assert [esd.position_partition(p) for p in (1, 20, 21, 50, 51, 350)] == [
        "devel",
        "devel",
        "test",
        "test",
        "train",
        "train",
    ]
    assert set(esd.SPLIT_FOLDERS.values()) == set(PARTITIONS)


# --- EmoV-DB -----------------------------------------------------------------------------------


def test_emovdb_miniature(tmp_path):
    root = tmp_path / "EmoV-DB"
    files = write_tones(
        root,
        [
            "bea_Amused/amused_1-15_0001.wav",
            "jenie_Angry/anger_29-56_0030.wav",
            "josh_Neutral/neutral_141_168_0141.wav",
            "bea_Disgusted/disgusted_141-168_0149.wav",
            "EmoV-DB_sorted/sam/Sleepy/sleepiness_1-28_0006.WAV",
            "sam_Angry/amused_1-15_0002.wav",
            "loose/neutral_1-28_0023.wav",
            "bea_Amused/happy_1-15_0003.wav",
            "bea_Amused/readme.wav",
        ],
        sr=44_100,
        seconds=SECONDS,
    )
    add_junk(root, files[0])
    res = emovdb.parse(tmp_path)
    assert triples(res) == {
        ("amused_1-15_0001.wav", "amused", "bea"),
        ("anger_29-56_0030.wav", "angry", "jenie"),
        ("neutral_141_168_0141.wav", "neutral", "josh"),
        ("disgusted_141-168_0149.wav", "disgusted", "bea"),
        ("sleepiness_1-28_0006.WAV", "sleepy", "sam"),
    }
    josh = next(i for i in res.items if i.speaker == "josh")
    assert josh.extra == {"gender": "male", "sentence": "0141", "annotation_range": "141-168"}
    assert skips(res, root) == {
        "sam_Angry/amused_1-15_0002.wav": "name says amused but its folder says angry",
        "loose/neutral_1-28_0023.wav": "no speaker folder (<speaker>_<Emotion>/ or "
        "<speaker>/<Emotion>/, speakers bea jenie josh sam)",
        "bea_Amused/happy_1-15_0003.wav": "unknown emotion 'happy' in the name (expected "
        "amused, angry, disgusted, neutral, sleepy)",
        "bea_Amused/readme.wav": "file name does not follow the scheme "
        "<emotion>_<first>-<last>_<nnnn> (e.g. amused_1-15_0001)",
    }


# --- eNTERFACE'05 ------------------------------------------------------------------------------


def test_enterface_miniature(tmp_path):
    root = tmp_path / "enterface" / "enterface database"
    clips = [
        "subject 1/anger/sentence 1/s1_an_1.avi",
        "subject 6/fear/s6_fe_3.avi",
        "subject 11/happiness/sentence 2/s12_ha_2.avi",
        "subject 16/surprise/sentence 3/s16_su_3avi.avi",
        "subject 3/sadness/sentence 4/s_3_sa_4.AVI",
        "subject 2/disgust/sentence 5/s2_di_5.avi",
        "subject 4/fear/sentence 1/s4_an_1.avi",
        "subject 5/anger/sentence 1/s5_xx_1.avi",
        "subject 5/anger/notes.avi",
    ]
    for clip in clips:
        fake(root / clip)
    wav = write_tone(root / "subject 2/disgust/sentence 5/s2_di_5.wav", seconds=SECONDS)
    add_junk(root, root / clips[0])
    res = enterface.parse(tmp_path)
    assert triples(res) == {
        ("s1_an_1.avi", "anger", "s1"),
        ("s6_fe_3.avi", "fear", "s6"),
        ("s12_ha_2.avi", "happiness", "s11"),
        ("s16_su_3avi.avi", "surprise", "s16"),
        ("s_3_sa_4.AVI", "sadness", "s3"),
        ("s2_di_5.wav", "disgust", "s2"),
    }
    s11 = next(i for i in res.items if i.speaker == "s11")
    assert s11.extra == {"sentence": "2", "name_subject": "12"}
    assert skips(res, root) == {
        "subject 2/disgust/sentence 5/s2_di_5.avi": f"duplicate of {wav} (same recording)",
        "subject 4/fear/sentence 1/s4_an_1.avi": "emotion code an (anger) disagrees with its "
        "folder fear",
        "subject 5/anger/sentence 1/s5_xx_1.avi": "unknown emotion code 'xx' (expected an, di, "
        "fe, ha, sa, su)",
        "subject 5/anger/notes.avi": "file name does not follow the scheme "
        "s<subject>_<emotion>_<sentence> (e.g. s1_an_1)",
    }


# --- MSP-Podcast -------------------------------------------------------------------------------

MSP_CSV = """FileName,EmoClass,EmoAct,EmoVal,EmoDom,SpkrID,Gender,Split_Set
MSP-PODCAST_0001_0008.wav,N,2.2,4.0,2.6,30,Male,Test1
MSP-PODCAST_0002_0033.wav,A,5.5,2.0,5.0,127,Female,Train
MSP-PODCAST_0003_0010.wav,H,4.0,6.0,4.2,Unknown,Unknown,Development
MSP-PODCAST_0004_0001.wav,O,3.0,4.0,4.0,12,Female,Train
MSP-PODCAST_0004_0002.wav,X,3.0,4.0,4.0,12,Female,Train
MSP-PODCAST_0005_0001.wav,S,3.0,2.0,3.0,44,Male,Test2
MSP-PODCAST_0006_0001.wav,C,3.0,2.0,3.0,45,Male,Holdout
MSP-PODCAST_0007_0001.wav,U,3.0,2.0,3.0,46,Male,Train
"""


def test_msppodcast_miniature(tmp_path):
    root = tmp_path / "MSP-PODCAST-Publish-1.11"
    names = [
        "MSP-PODCAST_0001_0008.wav",
        "MSP-PODCAST_0002_0033.WAV",
        "MSP-PODCAST_0003_0010.wav",
        "MSP-PODCAST_0004_0001.wav",
        "MSP-PODCAST_0004_0002.wav",
        "MSP-PODCAST_0005_0001.wav",
        "MSP-PODCAST_0006_0001.wav",
        "MSP-PODCAST_0009_0001.wav",
    ]
    files = write_tones(root / "Audios", names, sr=16_000, seconds=SECONDS)
    (root / "Labels").mkdir()
    (root / "Labels/labels_consensus.csv").write_text(MSP_CSV)
    add_junk(root, files[0])
    res = msppodcast.parse(tmp_path)
    got = {(i.path.name, i.label, i.speaker, i.partition) for i in res.items}
    assert got == {
        ("MSP-PODCAST_0001_0008.wav", "neutral", "30", "test"),
        ("MSP-PODCAST_0002_0033.WAV", "anger", "127", "train"),
        ("MSP-PODCAST_0003_0010.wav", "happiness", "unknown-0003", "devel"),
        ("MSP-PODCAST_0005_0001.wav", "sadness", "44", "test"),
    }
    first = next(i for i in res.items if i.speaker == "30")
    assert first.extra == {
        "emotion_code": "N",
        "arousal": "2.2",
        "valence": "4.0",
        "dominance": "2.6",
        "gender": "male",
        "split_set": "Test1",
        "speaker_known": "yes",
    }
    unknown = next(i for i in res.items if i.label == "happiness")
    assert unknown.extra["speaker_known"] == "no" and unknown.extra["gender"] == "unknown"
    table = root / "Labels/labels_consensus.csv"
    assert skips(res, root) == {
        "Audios/MSP-PODCAST_0004_0001.wav": "emotion class O (other) is not usable",
        "Audios/MSP-PODCAST_0004_0002.wav": "emotion class X (no agreement among the "
        "annotators) is not usable",
        "Audios/MSP-PODCAST_0006_0001.wav": "unknown Split_Set 'Holdout' (expected Train, "
        "Development, Test1, Test2 or Test3)",
        "Audios/MSP-PODCAST_0009_0001.wav": "not listed in labels_consensus.csv",
        "Audios/MSP-PODCAST_0007_0001.wav": f"listed in {table} but no audio file found",
    }


def test_msppodcast_old_release_and_no_table(tmp_path):
    old = tmp_path / "MSP-PODCAST-Publish-1.8"
    write_tone(old / "Audios/MSP-PODCAST_0001_0008.wav", seconds=SECONDS)
    (old / "Labels").mkdir()
    (old / "Labels/labels_concensus.csv").write_text(
        "FileName,EmoClass,EmoAct,EmoVal,EmoDom,SpkrID,Gender,Split_Set\n"
        "MSP-PODCAST_0001_0008.wav,N,2.2,4.0,2.6,30,Male,Validation\n"
    )
    res = msppodcast.parse(tmp_path)
    assert [(i.label, i.partition) for i in res.items] == [("neutral", "devel")]
    bare = tmp_path / "bare"
    write_tone(bare / "Audios/MSP-PODCAST_0002_0001.wav", seconds=SECONDS)
    res = msppodcast.parse(bare)
    assert res.items == []
    assert [s.reason for s in res.skipped] == [
        "no Labels/labels_consensus.csv found below the source folder"
    ]
