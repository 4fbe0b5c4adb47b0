"""CaFE (Canadian French Emotional speech): ``<Émotion>/<Intensité>/<actor>-<E>-<I>-<S>.wav|.aiff``."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from emonet.corpora._helpers import drop_duplicates, relative_parts
from emonet.corpora.base import CorpusSpec, Item, ParseResult, parse_by_name

CODES = {
    "C": "anger",
    "D": "disgust",
    "J": "happiness",
    "N": "neutral",
    "P": "fear",
    "S": "surprise",
    "T": "sadness",
}
"""Letters of the French names: colère, dégoût, joie, neutre, peur, surprise, tristesse."""

FOLDERS = {
    "colere": "C",
    "degout": "D",
    "joie": "J",
    "neutre": "N",
    "peur": "P",
    "surprise": "S",
    "tristesse": "T",
}
"""Emotion folder names without accents; folders whose accents were garbled by unzipping
(``ColКre``, ``DВgoЦt``) match none and are ignored: the letter in the name decides."""

INTENSITIES = {"1": "mild", "2": "strong"}
INTENSITY_FOLDERS = {"faible": "1", "fort": "2"}
PATTERN = re.compile(
    r"(?P<actor>\d{1,2})-(?P<code>[A-Z])(?:-(?P<intensity>\d))?-(?P<sentence>\d{1,2})",
    re.IGNORECASE,
)


def _plain(name: str) -> str:
    """Folder name lower-cased without accents (``Colère`` → ``colere``)."""
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def parse(root: str | Path) -> ParseResult:
    """Actor, emotion letter, intensity and sentence from each name, checked against its folders."""
    root = Path(root)

    def make(m, path):
        code = m["code"].upper()
        label = CODES.get(code)
        if label is None:
            return f"unknown emotion letter {code} (expected {', '.join(CODES)})"
        names = relative_parts(path, root)
        folders = [_plain(f) for f in names]
        emotion_folder = next(
            (n for n, f in zip(reversed(names), reversed(folders), strict=True) if f in FOLDERS),
            None,
        )
        if emotion_folder is not None and FOLDERS[_plain(emotion_folder)] != code:
            return f"emotion letter {code} ({label}) disagrees with its folder {emotion_folder}"
        digit = m["intensity"]
        if code == "N":
            intensity = "none"
        elif digit in INTENSITIES:
            intensity = INTENSITIES[digit]
            folder = INTENSITY_FOLDERS.get(folders[-1] if folders else "")
            if folder is not None and folder != digit:
                return f"intensity {digit} ({intensity}) disagrees with its folder {names[-1]}"
        else:
            return f"no intensity 1 (Faible) or 2 (Fort) in the name of a {label} recording"
        actor = f"{int(m['actor']):02d}"
        extra = {"intensity": intensity, "sentence": str(int(m["sentence"]))}
        return Item(path, label, actor, extra=extra)

    result = parse_by_name(
        root, PATTERN, make, "<actor>-<E>-<intensity>-<sentence> (e.g. 01-C-1-1)"
    )
    return drop_duplicates(
        result, lambda i: (i.speaker, i.label, i.extra["intensity"], i.extra["sentence"])
    )


SPEC = CorpusSpec(
    name="cafe",
    language="French (Canadian)",
    labels=tuple(CODES.values()),
    speakers=12,
    items=936,
    license="CC BY-NC-SA 4.0 (Zenodo record 1478765)",
    citation=(
        "Gournay, Lahaie & Lefebvre, A Canadian French emotional speech dataset, "
        "ACM Multimedia Systems Conference (MMSys) 2018"
    ),
    layout=(
        "<Émotion>/<Faible|Fort>/<actor>-<E>-<I>-<S>.wav (48 kHz) or .aiff (192 kHz); "
        "Neutre/<actor>-N-1-<S>.wav has no intensity folder"
    ),
    parse=parse,
    notes=(
        "12 actors (6 female, 6 male), 6 sentences, 6 emotions x 2 intensities (1 Faible = "
        "mild, 2 Fort = strong) + neutral: 72 + 864 = 936 files. Distributed as a 48 kHz WAV "
        "and a 192 kHz AIFF version; either (or both: one copy is taken) is read. Letters C "
        "colère, D dégoût, J joie, N neutre, P peur, S surprise, T tristesse. The label comes "
        "from the letter in the name, because accented folder names are often garbled by "
        "unzipping; a readable emotion or Faible/Fort folder that contradicts the name makes "
        "the file skipped."
    ),
)
