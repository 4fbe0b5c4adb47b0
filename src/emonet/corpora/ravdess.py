"""RAVDESS (Ryerson Audio-Visual Database of Emotional Speech and Song): ``Actor_XX/MM-VV-EE-II-SS-RR-AA``."""

from __future__ import annotations

from pathlib import Path

from emonet.corpora._helpers import as_bool, drop_duplicates
from emonet.corpora.base import CorpusSpec, Item, ParseResult, parse_by_name

EMOTIONS = {
    "01": "neutral",
    "02": "calm",
    "03": "happy",
    "04": "sad",
    "05": "angry",
    "06": "fearful",
    "07": "disgust",
    "08": "surprised",
}
MODALITIES = {"01": "full audio-video", "02": "video-only", "03": "audio-only"}
CHANNELS = {"01": "speech", "02": "song"}
INTENSITIES = {"01": "normal", "02": "strong"}
STATEMENTS = {"01": "Kids are talking by the door", "02": "Dogs are sitting by the door"}

PATTERN = (
    r"(?P<modality>\d\d)-(?P<channel>\d\d)-(?P<emotion>\d\d)-(?P<intensity>\d\d)"
    r"-(?P<statement>\d\d)-(?P<repetition>\d\d)-(?P<actor>\d\d)"
)


def parse(root: str | Path, include_song: bool | str = False) -> ParseResult:
    """Audio-only speech files (and song files with ``include_song``); actor AA is the speaker."""
    song = as_bool(include_song, "include_song")

    def make(m, path):
        if m["modality"] != "03":
            kind = MODALITIES.get(m["modality"], "unknown")
            return f"modality {m['modality']} ({kind}); only audio-only files (03) are taken"
        channel = CHANNELS.get(m["channel"])
        if channel is None:
            return f"unknown vocal channel code {m['channel']}"
        if channel == "song" and not song:
            return (
                "vocal channel 02 (song); only speech is taken (option include_song=true adds it)"
            )
        label = EMOTIONS.get(m["emotion"])
        if label is None:
            return f"unknown emotion code {m['emotion']}"
        if m["intensity"] not in INTENSITIES:
            return f"unknown intensity code {m['intensity']}"
        if m["statement"] not in STATEMENTS:
            return f"unknown statement code {m['statement']}"
        actor = int(m["actor"])
        if not 1 <= actor <= 24:
            return f"unknown actor {m['actor']} (RAVDESS has actors 01-24)"
        return Item(
            path,
            label,
            m["actor"],
            extra={
                "gender": "male" if actor % 2 else "female",
                "vocal_channel": channel,
                "intensity": INTENSITIES[m["intensity"]],
                "text": STATEMENTS[m["statement"]],
                "repetition": m["repetition"],
            },
        )

    result = parse_by_name(root, PATTERN, make, "MM-VV-EE-II-SS-RR-AA (e.g. 03-01-05-02-01-01-12)")
    return drop_duplicates(result, lambda i: i.path.stem)


SPEC = CorpusSpec(
    name="ravdess",
    language="English (North American)",
    labels=tuple(EMOTIONS.values()),
    speakers=24,
    items=1440,
    license="CC BY-NC-SA 4.0",
    citation=(
        "Livingstone & Russo, The Ryerson Audio-Visual Database of Emotional Speech and Song "
        "(RAVDESS), PLoS ONE 13(5), 2018"
    ),
    layout="Actor_XX/MM-VV-EE-II-SS-RR-AA.wav: modality 03, vocal channel 01 speech, emotion EE, actor AA",
    parse=parse,
    notes=(
        "1440 speech files by default; include_song=true adds the 1012 song files (6 emotions, "
        "no song by actor 18). Full-AV (01) and video-only (02) files are skipped. Neutral has "
        "only normal intensity. Odd actors are male, even female."
    ),
)
