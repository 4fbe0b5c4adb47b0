"""Procedurally synthesised toy emotional-speech corpora for the offline demo and the docs tests.

Each utterance is a voiced, syllable-like sound: a harmonic source on a pitch contour, shaped by
speaker formants and an emotion-dependent spectral tilt, loudness and tempo, then coloured by the
corpus's recording channel. Emotions differ the way acted speech tends to (anger: high, loud,
fast, bright; sadness: low, quiet, slow, dark; …), with per-item randomness so that the task is
learnable but not trivial. Nothing here is speech; it only exercises the real pipeline.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import signal

from emonet import audio

SYNTH_RATE = 16_000
"""Rate the voices are synthesised at; corpora at other rates are resampled (band-limited)."""

# f0 factor, f0 swing, syllables/s, gain dB, spectral tilt (one-pole low-pass strength), jitter
EMOTIONS: dict[str, tuple[float, float, float, float, float, float]] = {
    "neutral": (1.00, 0.06, 4.0, 0.0, 1.3, 0.005),
    "anger": (1.35, 0.16, 5.5, 7.0, 0.7, 0.010),
    "happiness": (1.28, 0.26, 5.0, 4.0, 0.9, 0.008),
    "sadness": (0.84, 0.03, 2.8, -6.0, 1.9, 0.004),
    "fear": (1.45, 0.09, 6.2, -2.0, 1.1, 0.030),
    "boredom": (0.90, 0.01, 3.0, -3.0, 1.6, 0.003),
}


@dataclass(frozen=True)
class ToyCorpus:
    """One toy corpus: its 'language', classes, speakers, sample rate, channel and layout."""

    name: str
    language: str
    labels: tuple[str, ...]
    speakers: int
    per_label: int
    sample_rate: int
    channel: str  # "studio", "telephone" or "room"
    layout: str  # "folders" or "csv" (the TF reference's train/devel/test.csv)


TOY_CORPORA = (
    ToyCorpus("toy-de", "Toy German", ("anger", "boredom", "happiness", "neutral", "sadness"),
              8, 3, 16_000, "studio", "folders"),
    ToyCorpus("toy-en", "Toy English", ("anger", "fear", "happiness", "neutral", "sadness"),
              8, 3, 22_050, "telephone", "folders"),
    ToyCorpus("toy-ur", "Toy Urdu", ("anger", "happiness", "neutral", "sadness"),
              6, 4, 44_100, "room", "csv"),
)  # fmt: skip


def utterance(
    emotion: str, speaker_f0: float, formants: tuple[float, ...], sr: int, rng: np.random.Generator
) -> np.ndarray:
    """One synthetic voiced utterance of 1.5–2.5 s, float32 in [-1, 1]."""
    f0_factor, swing, tempo, gain_db, tilt, jitter = EMOTIONS[emotion]
    jitter_scale = rng.uniform(0.8, 1.25)
    seconds = rng.uniform(1.5, 2.5) * 4.0 / tempo**0.5 / 2.0 + 0.5
    n = int(seconds * sr)
    t = np.arange(n) / sr
    tempo *= rng.uniform(0.85, 1.15)
    contour = 1 + swing * rng.uniform(0.7, 1.3) * np.sin(
        2 * np.pi * rng.uniform(0.4, 1.2) * t + rng.uniform(0, 2 * np.pi)
    )
    wobble = signal.lfilter([0.02], [1, -0.98], rng.normal(0, jitter * jitter_scale * 50, n))
    f0 = speaker_f0 * f0_factor * rng.uniform(0.93, 1.07) * contour * (1 + wobble)
    phase = 2 * np.pi * np.cumsum(f0) / sr
    source = signal.sawtooth(phase)  # all harmonics, falling 6 dB/octave
    a = min(0.95, 0.45 * tilt * rng.uniform(0.9, 1.1))  # emotion's extra spectral tilt
    source = signal.lfilter([1 - a], [1, -a], source)
    for fc in formants:  # speaker's vocal tract: resonators
        w = 2 * np.pi * fc * rng.uniform(0.95, 1.05) / sr
        r = np.exp(-np.pi * 120 / sr)
        source = signal.lfilter([1 - r], [1, -2 * r * np.cos(w), r * r], source)
    syllables = np.abs(np.sin(np.pi * tempo * t + rng.uniform(0, np.pi))) ** 0.6
    edge = np.minimum(1, np.minimum(t, t[-1] - t) / 0.05)
    x = source * syllables * edge
    x = x / (np.abs(x).max() + 1e-9) * 0.25 * 10 ** ((gain_db + rng.normal(0, 1.5)) / 20)
    return x.astype(np.float32)


def colour(x: np.ndarray, sr: int, channel: str, rng: np.random.Generator) -> np.ndarray:
    """The recording channel of a corpus: band limits, reverberation and noise."""
    if channel == "telephone":
        sos = signal.butter(4, [300, 3400], btype="bandpass", fs=sr, output="sos")
        x = signal.sosfilt(sos, x)
        x = x + rng.normal(0, 0.004, len(x))
    elif channel == "room":
        sos = signal.butter(2, 120, btype="highpass", fs=sr, output="sos")
        x = signal.sosfilt(sos, x)
        delay = int(0.023 * sr)
        x = x + 0.35 * np.concatenate([np.zeros(delay), x[:-delay]])
        x = x + rng.normal(0, 0.002, len(x))
    else:
        x = x + rng.normal(0, 0.0005, len(x))
    return np.clip(x, -1, 1).astype(np.float32)


def write_corpus(spec: ToyCorpus, root: Path, seed: int = 0) -> Path:
    """Write one toy corpus in its source layout below ``root / spec.name``; returns that folder."""
    rng = np.random.default_rng((seed, sum(map(ord, spec.name))))
    folder = root / spec.name
    rows = []
    for s in range(spec.speakers):
        female = s % 2 == 1
        f0 = rng.uniform(180, 240) if female else rng.uniform(95, 135)
        formants = tuple(rng.uniform(lo, hi) for lo, hi in ((450, 800), (1100, 1900), (2300, 3000)))
        if female:
            formants = tuple(1.15 * f for f in formants)
        speaker = f"{'f' if female else 'm'}{s + 1:02d}"
        for label in spec.labels:
            for k in range(spec.per_label):
                x = utterance(label, f0, formants, SYNTH_RATE, rng)
                if spec.sample_rate != SYNTH_RATE:
                    x = audio.resample(x, SYNTH_RATE, spec.sample_rate)
                x = colour(x, spec.sample_rate, spec.channel, rng)
                rel = (
                    f"{label}/{speaker}_{label}_{k + 1:02d}.wav"
                    if spec.layout == "folders"
                    else f"wav/{speaker}_{label}_{k + 1:02d}.wav"
                )
                path = folder / rel
                path.parent.mkdir(parents=True, exist_ok=True)
                audio.write(path, x, spec.sample_rate)
                rows.append({"file": rel, "label": label, "speaker": speaker})
    if spec.layout == "csv":  # the TF reference's layout: speaker-disjoint train/devel/test.csv
        table = pd.DataFrame(rows)
        speakers = sorted(table["speaker"].unique())
        parts = {"train": speakers[:-2], "devel": speakers[-2:-1], "test": speakers[-1:]}
        for part, members in parts.items():
            sub = table[table["speaker"].isin(members)][["file", "label"]]
            sub.to_csv(folder / f"{part}.csv", index=False)
    return folder


def write_toy_corpora(root: Path, seed: int = 0) -> dict[str, Path]:
    """All toy corpora below ``root``: name → source folder."""
    return {spec.name: write_corpus(spec, Path(root), seed) for spec in TOY_CORPORA}
