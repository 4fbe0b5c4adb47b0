"""EmoDB (Berlin Database of Emotional Speech): ``wav/SSTTTEV.wav``."""

from __future__ import annotations

from pathlib import Path

from emonet.corpora.base import CorpusSpec, Item, ParseResult, parse_by_name

CODES = {
    "W": "anger",
    "L": "boredom",
    "E": "disgust",
    "A": "fear",
    "F": "happiness",
    "T": "sadness",
    "N": "neutral",
}


def parse(root: Path) -> ParseResult:
    """Speaker SS, text TTT, emotion letter E, version V from each file name."""

    def make(m, path):
        return Item(
            path,
            CODES[m["emotion"]],
            m["speaker"],
            extra={"text": m["text"], "version": m["version"]},
        )

    return parse_by_name(
        root,
        r"(?P<speaker>\d\d)(?P<text>[ab]\d\d)(?P<emotion>[WLEAFTN])(?P<version>[a-z])",
        make,
        "SSTTTEV (e.g. 03a01Fa)",
    )


SPEC = CorpusSpec(
    name="emodb",
    language="German",
    labels=tuple(CODES.values()),
    speakers=10,
    items=535,
    license="free for research use",
    citation="Burkhardt et al., A Database of German Emotional Speech, Interspeech 2005",
    layout="wav/SSTTTEV.wav: speaker SS, text TTT, emotion letter E, version V",
    parse=parse,
)
