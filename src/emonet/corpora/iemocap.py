"""IEMOCAP: ``Session<n>/sentences/wav/<dialog>/<utterance>.wav`` labelled by ``EmoEvaluation/*.txt``."""

from __future__ import annotations

import re
from pathlib import Path

from emonet.corpora._helpers import as_bool, drop_duplicates, is_video
from emonet.corpora.base import CorpusSpec, Item, ParseResult, walk_files

CODES = {
    "neu": "neutral",
    "hap": "happiness",
    "exc": "excited",
    "ang": "anger",
    "sad": "sadness",
    "fru": "frustration",
    "fea": "fear",
    "sur": "surprise",
    "dis": "disgust",
    "oth": "other",
}
"""Categorical codes of the EmoEvaluation files; ``xxx`` (no majority) is never a label."""

FOUR_CLASS = ("neu", "hap", "exc", "ang", "sad")
FOUR_LABELS = ("neutral", "happiness", "anger", "sadness")
PARTITION_BY_SESSION = {1: "train", 2: "train", 3: "train", 4: "devel", 5: "test"}

UTTERANCE = re.compile(r"Ses(?P<session>\d+)[FM]_(?P<dialog>.+)_(?P<gender>[FM])(?P<n>\d+)")
DIALOG = re.compile(r"Ses\d+[FM]_\w+")
EVALUATION = re.compile(
    r"^\[(?P<start>[\d.]+)\s*-\s*(?P<end>[\d.]+)\]\s+(?P<utt>\S+)\s+(?P<code>\S+)"
    r"\s+\[(?P<v>[\d.]+),\s*(?P<a>[\d.]+),\s*(?P<d>[\d.]+)\]"
)
TRANSCRIPT = re.compile(r"^(?P<utt>Ses\S+)\s+\[[\d.]+-[\d.]+\]:\s*(?P<text>.*)$")


def _class_codes(classes: str) -> tuple[str, ...]:
    """The EmoEvaluation codes kept by the ``classes`` option: ``4``, ``all`` or a comma list."""
    text = str(classes).strip().lower()
    if text in ("4", "four"):
        return FOUR_CLASS
    if text == "all":
        return tuple(CODES)
    words = {v: k for k, v in CODES.items()}
    codes = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        code = part if part in CODES else words.get(part)
        if code is None:
            raise ValueError(
                f"option classes: unknown class {part!r}; use 4, all or codes from {', '.join(CODES)}"
            )
        codes.append(code)
    return tuple(codes)


def _read_labels(root: Path) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    """Utterance → EmoEvaluation row, and utterance → transcript, from every session found."""
    labels: dict[str, dict[str, str]] = {}
    texts: dict[str, str] = {}
    for path in walk_files(root):
        if path.suffix.lower() != ".txt":
            continue
        folder = path.parent.name.lower()
        if folder == "emoevaluation":
            for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
                m = EVALUATION.match(line.strip())
                if m:
                    labels.setdefault(m["utt"], m.groupdict() | {"file": str(path)})
        elif folder == "transcriptions":
            for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
                m = TRANSCRIPT.match(line.strip())
                if m:
                    texts.setdefault(m["utt"], m["text"].strip())
    return labels, texts


def parse(
    root: str | Path, classes: str = "4", merge_excited: bool | str | None = None
) -> ParseResult:
    """Utterance audio labelled from EmoEvaluation; sessions 1-3 train, 4 devel, 5 test.

    ``classes``: ``4`` (default: neutral, happiness incl. excited, anger, sadness), ``all`` or a
    comma list of codes/words. ``merge_excited`` (default: only for ``4``) maps ``exc`` to
    happiness.
    """
    root = Path(root)
    codes = _class_codes(classes)
    four = codes == FOUR_CLASS
    merge = four if merge_excited is None else as_bool(merge_excited, "merge_excited")
    if merge and "hap" in codes and "exc" not in codes:
        codes = (*codes, "exc")

    def word(code: str) -> str:
        return "happiness" if merge and code == "exc" else CODES[code]

    labels_seen, texts = _read_labels(root)
    result = ParseResult()
    if four:
        result.labels = FOUR_LABELS
    else:
        result.labels = tuple(dict.fromkeys(word(c) for c in codes))
    found: set[str] = set()
    for path in walk_files(root, audio_only=True):
        m = UTTERANCE.fullmatch(path.stem)
        if not m:
            if is_video(path):
                result.skip(path, "video recording; utterance audio comes from sentences/wav")
            elif DIALOG.fullmatch(path.stem):
                result.skip(path, "whole-dialog recording; utterances come from sentences/wav")
            else:
                result.skip(
                    path, "file name does not follow the scheme Ses0<n><F|M>_<dialog>_<F|M><nnn>"
                )
            continue
        row = labels_seen.get(path.stem)
        if row is None:
            result.skip(path, "no label: utterance not found in any EmoEvaluation/*.txt")
            continue
        found.add(path.stem)
        code = row["code"].lower()
        if code == "xxx":
            result.skip(path, "no majority emotion among the annotators (xxx)")
            continue
        if code not in CODES:
            result.skip(path, f"unknown emotion code {code!r} in {row['file']}")
            continue
        if code not in codes:
            result.skip(
                path, f"label {code} ({CODES[code]}) is not in the selected classes={classes}"
            )
            continue
        session = int(m["session"])
        if session not in PARTITION_BY_SESSION:
            result.skip(path, f"unknown session {session} (IEMOCAP has sessions 1-5)")
            continue
        gender = m["gender"]
        extra = {
            "session": str(session),
            "dialog": path.stem.rsplit("_", 1)[0],
            "gender": "female" if gender == "F" else "male",
            "emotion_code": code,
            "valence": row["v"],
            "activation": row["a"],
            "dominance": row["d"],
            "start": row["start"],
            "end": row["end"],
            "improvised": "yes" if "_impro" in path.stem else "no",
        }
        if path.stem in texts:
            extra["text"] = texts[path.stem]
        result.items.append(
            Item(
                path,
                word(code),
                f"Ses{session:02d}{gender}",
                partition=PARTITION_BY_SESSION[session],
                extra=extra,
            )
        )
    for utt, row in sorted(labels_seen.items()):
        code = row["code"].lower()
        if utt not in found and code in codes:
            session_dir = Path(row["file"]).parent.parent.parent
            where = session_dir / "sentences" / "wav" / utt.rsplit("_", 1)[0] / f"{utt}.wav"
            result.skip(where, f"labelled {code} in {row['file']} but no audio file found")
    return drop_duplicates(result, lambda i: i.path.stem)


SPEC = CorpusSpec(
    name="iemocap",
    language="English (US)",
    labels=FOUR_LABELS,
    speakers=10,
    items=5531,
    license="IEMOCAP release agreement (USC SAIL), research use",
    citation=(
        "Busso et al., IEMOCAP: Interactive emotional dyadic motion capture database, "
        "Language Resources and Evaluation 42(4), 2008"
    ),
    layout="Session<n>/sentences/wav/<dialog>/<utterance>.wav + Session<n>/dialog/EmoEvaluation/*.txt",
    parse=parse,
    official_split=True,
    notes=(
        "Labels are the majority categorical labels of dialog/EmoEvaluation/*.txt. Default: "
        "the usual 4 classes (neutral, happiness with excited merged, anger, sadness; 5531 of "
        "10039 utterances); classes=all keeps every category (xxx, no majority, is always "
        "skipped). Speaker = session + gender letter of the utterance's last field (Ses01F). "
        "Partition: sessions 1-3 train, 4 devel, 5 test (a common fixed variant of the usual "
        "leave-one-session-out protocol, whose folds are available for evaluation)."
    ),
)
