"""AESDD (Acted Emotional Speech Dynamic Database): ``<emotion>/<x><AA> (<B>).wav``."""

from __future__ import annotations

import re
from pathlib import Path

from emonet.corpora._helpers import drop_duplicates
from emonet.corpora.base import CorpusSpec, Item, ParseResult, parse_by_name

CODES = {"a": "anger", "d": "disgust", "f": "fear", "h": "happiness", "s": "sadness"}
PATTERN = re.compile(
    r"(?P<code>[a-z])(?P<utterance>\d+)\s*\((?P<speaker>\d+)\)\s*(?P<take>[a-z]?)", re.IGNORECASE
)


def parse(root: str | Path) -> ParseResult:
    """Emotion letter, utterance and speaker from each name, checked against its emotion folder."""

    def make(m, path):
        code = m["code"].lower()
        label = CODES.get(code)
        if label is None:
            return f"unknown emotion letter {code!r} (expected a, d, f, h or s)"
        folder = path.parent.name.lower()
        if folder in CODES.values() and folder != label:
            return f"emotion letter {code} ({label}) disagrees with its folder {path.parent.name}"
        extra = {
            "utterance": f"{int(m['utterance']):02d}",
            "take": m["take"].lower(),
        }
        return Item(path, label, str(int(m["speaker"])), extra=extra)

    result = parse_by_name(root, PATTERN, make, "<x><AA> (<B>) (e.g. a01 (1), s05 (5)b)")
    return drop_duplicates(
        result, lambda i: (i.label, i.extra["utterance"], i.speaker, i.extra["take"])
    )


SPEC = CorpusSpec(
    name="aesdd",
    language="Greek",
    labels=tuple(CODES.values()),
    speakers=5,
    items=500,
    license="CC BY 4.0 (as mirrored on Hugging Face); free for research use",
    citation=(
        "Vryzas, Kotsakis, Liatsou, Dimoulas & Kalliris, Speech emotion recognition for "
        "performance interaction, Journal of the Audio Engineering Society 66(6), 2018"
    ),
    layout="<emotion>/<x><AA> (<B>).wav: emotion letter x, utterance AA (01-20), speaker B",
    parse=parse,
    notes=(
        "Emotion folders anger, disgust, fear, happiness, sadness; names like 'a01 (1).wav'. "
        "v1.0 documents 5 professional actors (3 female, 2 male) and about 500 utterances "
        "(19 scripted + 1 improvised utterance per actor and emotion, some with several "
        "takes); the database is 'dynamic' and copies in circulation hold a 6th speaker and "
        "about 600 files. Extra takes carry a letter after the speaker ('d04 (5)b.wav', take "
        "'b'), the speaker is sometimes zero-padded ('f12 (01).wav' is speaker 1). Gender is "
        "not derived: the odd/even rule some toolkits use contradicts the documented 3 female "
        "+ 2 male. A file whose letter contradicts its emotion folder is skipped."
    ),
)
