"""CASIA (Mandarin emotional speech, public subset): ``<speaker>/<emotion>/<n>.wav``."""

from __future__ import annotations

import re
from pathlib import Path

from emonet.corpora._helpers import drop_duplicates, relative_parts
from emonet.corpora.base import CorpusSpec, Item, ParseResult, walk_files

LABELS = ("angry", "fear", "happy", "neutral", "sad", "surprise")
EMOTION_FOLDERS = {label: label for label in LABELS} | {"suprise": "surprise"}

SPEAKERS = {
    "liuchanhg": "liuchanhg",
    "liuchang": "liuchanhg",
    "chang.liu": "liuchanhg",
    "wangzhe": "wangzhe",
    "zhe.wang": "wangzhe",
    "zhaoquanyin": "zhaoquanyin",
    "quanyin.zhao": "zhaoquanyin",
    "zhaozuoxiang": "ZhaoZuoxiang",
    "zuoxiang.zhao": "ZhaoZuoxiang",
}
"""Speaker folder names (lower-case) → speaker ID; the official folders spell ``liuchanhg``."""

GENDERS = {
    "liuchanhg": "female",
    "zhaoquanyin": "female",
    "wangzhe": "male",
    "ZhaoZuoxiang": "male",
}

RENAMED = re.compile(r"(?P<n>\d+)-(?P<emotion>[a-z]+)-(?P<speaker>[a-z.]+)", re.IGNORECASE)
"""Some copies rename files to ``<n>-<emotion>-<speaker>`` (e.g. ``202-neutral-ZhaoZuoxiang``)."""


def parse(root: str | Path) -> ParseResult:
    """Speaker from the nearest speaker folder, emotion from the enclosing emotion folder."""
    root = Path(root)
    result = ParseResult()
    for path in walk_files(root, audio_only=True):
        folders = relative_parts(path, root)
        m = RENAMED.fullmatch(path.stem)
        if m:
            number, emo, spk = m["n"], m["emotion"].lower(), m["speaker"].lower()
            raw_speaker = spk
        elif path.stem.isdigit():
            number = path.stem
            emo = folders[-1].lower() if folders else ""
            raw_speaker = next(
                (f.lower() for f in reversed(folders[:-1]) if f.lower() in SPEAKERS), ""
            )
            spk = raw_speaker
        else:
            result.skip(path, "file name is not a sentence number (e.g. 201.wav)")
            continue
        label = EMOTION_FOLDERS.get(emo)
        if label is None:
            where = f"unknown emotion {emo!r} in the name" if m else "not in an emotion folder"
            result.skip(path, f"{where} ({', '.join(LABELS)})")
            continue
        speaker = SPEAKERS.get(spk)
        if speaker is None:
            result.skip(
                path, f"not in a speaker folder ({', '.join(sorted(set(SPEAKERS.values())))})"
            )
            continue
        result.items.append(
            Item(
                path,
                label,
                speaker,
                extra={
                    "gender": GENDERS[speaker],
                    "sentence": str(int(number)),
                    "speaker_folder": raw_speaker,
                },
            )
        )
    return drop_duplicates(
        result, lambda i: (i.extra["speaker_folder"], i.label, i.extra["sentence"])
    )


SPEC = CorpusSpec(
    name="casia",
    language="Mandarin Chinese",
    labels=LABELS,
    speakers=4,
    items=1200,
    license="research use; the full corpus is licensed by CASIA (the 1200-file subset circulates publicly)",
    citation=(
        "Tao, Liu, Zhang & Zhang, Design of speech corpus for Mandarin text to speech, "
        "Blizzard Challenge 2008 workshop (CASIA Chinese emotional speech corpus)"
    ),
    layout="<speaker>/<emotion>/<n>.wav, speakers liuchanhg wangzhe zhaoquanyin ZhaoZuoxiang",
    parse=parse,
    notes=(
        "The public subset has 50 sentences (201-250) x 6 emotions x 4 speakers (2 female, "
        "2 male). Speaker folders spelled Chang.Liu, Zhe.Wang, Quanyin.Zhao, Zuoxiang.Zhao "
        "(the 'different text' set) map to the same speakers; copies renamed "
        "<n>-<emotion>-<speaker>.wav are read too."
    ),
)
