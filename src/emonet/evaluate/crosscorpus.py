"""Cross-corpus matrix: each corpus's head of a multi-corpus model scored on every other corpus.

Corpora name their emotions differently (``angry``/``anger``, ``happy``/``joy``), so labels are
mapped to one shared emotion set first. A head is scored on another corpus over the shared
emotions both have: items of other emotions are left out, the head's probabilities of labels
that map to the same shared emotion are summed, and the argmax is taken over the common emotions.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from emonet.audio import check_sample_rate
from emonet.corpora.emoset import open_emoset
from emonet.data.datasets import UtteranceDataset, load_partition
from emonet.errors import EmoNetError
from emonet.files import write_json
from emonet.model.scoring import predict_dataset, softmax
from emonet.progress import progress_bar
from emonet.results.explain import bullets, chance_uar, one_item_step, partition_note
from emonet.results.metrics import uar
from emonet.results.plots import heatmap_png
from emonet.results.report import md_table, write_report
from emonet.runtime import torch_device

SHARED_EMOTIONS = (
    "anger", "happiness", "sadness", "neutral", "fear", "disgust", "surprise", "boredom", "calm",
)  # fmt: skip
"""The shared emotion set of the cross-corpus matrix."""

SYNONYMS: dict[str, str] = {
    "anger": "anger", "angry": "anger",
    "happiness": "happiness", "happy": "happiness", "joy": "happiness",
    "sadness": "sadness", "sad": "sadness",
    "neutral": "neutral",
    "fear": "fear", "fearful": "fear",
    "disgust": "disgust", "disgusted": "disgust",
    "surprise": "surprise", "surprised": "surprise", "pleasant_surprise": "surprise",
    "boredom": "boredom", "bored": "boredom",
    "calm": "calm",
}  # fmt: skip
"""Default label → shared emotion map; labels not listed (e.g. BAVED's levels) are left out."""


class CrossCorpusError(EmoNetError, ValueError):
    """A label map that cannot be used, or too few corpora."""


def label_map(
    corpus: str, labels: list[str], overrides: Mapping[str, Mapping[str, str | None]] | None = None
) -> dict[str, str | None]:
    """Label → shared emotion (or None) for one corpus; ``overrides[corpus]`` wins."""
    own = dict((overrides or {}).get(corpus, {}))
    out = {}
    for lab in labels:
        target = own[lab] if lab in own else SYNONYMS.get(lab.lower())
        if target is not None and target not in SHARED_EMOTIONS:
            raise CrossCorpusError(
                f"label map of {corpus}: {lab!r} → {target!r} is not a shared emotion "
                f"{list(SHARED_EMOTIONS)}"
            )
        out[lab] = target
    return out


def read_label_map(path: Path) -> dict[str, dict[str, str | None]]:
    """A YAML file ``{corpus: {label: shared emotion or null}}`` overriding the defaults."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise CrossCorpusError(f"{path}: expected a mapping corpus → {{label: emotion}}")
    return data


def head_uar(
    probs: np.ndarray,
    head_map: list[str | None],
    truth: np.ndarray,
    truth_map: list[str | None],
) -> tuple[float, int, list[str]]:
    """UAR of one head's probabilities on another corpus's items over their common emotions."""
    common = sorted(
        {e for e in head_map if e is not None} & {e for e in truth_map if e is not None},
        key=SHARED_EMOTIONS.index,
    )
    if not common:
        return float("nan"), 0, []
    pooled = np.stack(
        [probs[:, [k for k, e in enumerate(head_map) if e == c]].sum(1) for c in common], 1
    )
    y_shared = np.array([truth_map[t] for t in truth], dtype=object)
    keep = np.isin(y_shared, common)
    y = np.array([common.index(e) for e in y_shared[keep]])
    pred = pooled[keep].argmax(1)
    return uar(y, pred), int(keep.sum()), common


def cross_corpus_matrix(
    checkpoint: Path,
    emoset: Path,
    corpora: list[str] | None = None,
    partition: str = "test",
    overrides: Mapping[str, Mapping[str, str | None]] | None = None,
    out: Path | None = None,
    batch_size: int = 32,
    device: str | None = None,
    show_progress: bool = True,
) -> pd.DataFrame:
    """N×N UAR table (rows: head, columns: corpus evaluated on); writes JSON, report, heatmap.

    ``device``: where the model scores (default: cuda when available, else cpu).
    ``show_progress``: progress bars (decoding each corpus, then scoring the N×N cells) on a
    terminal; never in a log file.
    """
    from emonet.evaluate.runner import resolve
    from emonet.model import load_checkpoint

    where = resolve(checkpoint)
    model = load_checkpoint(where.checkpoint).to(torch_device(device))
    sets = open_emoset(emoset)
    names = corpora or [c for c in model.corpora if c in sets]
    if len(names) < 2:
        raise CrossCorpusError(
            f"a cross-corpus matrix needs ≥ 2 corpora the model and EmoSet share, got {names}"
        )
    for c in names:
        check_sample_rate(
            model.config.frontend.sample_rate,
            sets[c].info.sample_rate,
            f"the model {where.checkpoint}",
            f"EmoSet corpus {c}",
        )
    maps = {c: label_map(c, list(model.corpora[c]), overrides) for c in names}
    data = {}
    for c in names:
        cache, y, _ = load_partition(sets[c], partition, show_progress=show_progress)
        data[c] = (UtteranceDataset(cache, y), y)
    window = getattr(model.config, "window", None)
    matrix = np.full((len(names), len(names)), np.nan)
    detail = []
    with progress_bar(show_progress) as progress:
        items = len(names) * sum(len(y) for _, y in data.values())
        task = progress.add_task("cross-corpus", total=items)
        for i, head in enumerate(names):
            head_map = [maps[head][lab] for lab in model.corpora[head]]
            for j, target in enumerate(names):
                # refresh: every cell's name is drawn, however fast the cells go by
                progress.update(
                    task, description=f"cross-corpus: {head} head on {target}", refresh=True
                )
                ds, y = data[target]
                probs = softmax(predict_dataset(model, ds, head, batch_size, window))
                truth_map = [maps[target][lab] for lab in sets[target].labels]
                score, n, common = head_uar(probs, head_map, y, truth_map)
                matrix[i, j] = score
                counts = [int(sum(truth_map[t] == e for t in y)) for e in common]
                detail.append({"head": head, "corpus": target, "uar": score, "n": n,
                               "emotions": common, "class_counts": counts,
                               "chance": chance_uar(len(common))})  # fmt: skip
                progress.advance(task, len(y))
    table = pd.DataFrame(matrix, index=names, columns=names)
    if out is not None:
        out = Path(out)
        write_json(out / "cross_corpus.json", {"partition": partition, "cells": detail})
        md = md_table(
            ["head \\ corpus", *names], [[h, *row] for h, row in zip(names, matrix, strict=True)]
        )
        png = heatmap_png(matrix, names, names, out / "cross_corpus.png", f"UAR on {partition}")
        maps_md = md_table(
            ["corpus", "label → shared emotion"],
            [[c, ", ".join(f"{k}→{v or '–'}" for k, v in m.items())] for c, m in maps.items()],
        )
        write_report(
            out / "report.md",
            f"Cross-corpus UAR of {where.checkpoint}",
            [
                ("Matrix", md + f"\n![heatmap]({png.name})"),
                ("What the numbers mean", meaning(detail, names, partition)),
                ("Label maps", maps_md),
                (
                    "Method",
                    "Rows are the corpus heads (with their adapters and batch norms), columns "
                    "the corpora scored. Labels are mapped to shared emotions; a cell scores "
                    "only items of emotions both corpora have, summing the head's probabilities "
                    "of labels that map to one emotion. The diagonal is the within-corpus UAR "
                    "over the corpus's mapped emotions. Every cell's numbers are in "
                    "`cross_corpus.json`.",
                ),
            ],
        )
        (out / "cross_corpus.md").unlink(missing_ok=True)  # written by earlier versions
    return table


def meaning(cells: list[dict], names: list[str], partition: str) -> str:
    """What the matrix means: partition, and per cell n items and chance UAR over its emotions."""
    by = {(c["head"], c["corpus"]): c for c in cells}

    def cell(h: str, c: str) -> str:
        d = by[(h, c)]
        return f"{d['n']} / {d['chance']:.2f}" if d["n"] else "–"

    grid = md_table(
        ["n items / chance UAR", *names], [[h, *(cell(h, c) for c in names)] for h in names]
    )
    scored = [c for c in cells if c["n"]]
    lines = [
        partition_note(partition)
        + " The model's checkpoint was chosen on its mean devel UAR over its corpora.",
        "Each cell is a UAR over the emotions the head and the corpus share, so its chance "
        "level is 1 / (number of shared emotions), not 1 / (classes of the corpus): compare a "
        "cell with its own chance level below.",
    ]
    if scored:
        small = min(scored, key=lambda c: c["n"])
        step = one_item_step(small["class_counts"])
        lines.append(
            f"Cells rest on {min(c['n'] for c in scored)}–{max(c['n'] for c in scored)} items; "
            f"in the smallest ({small['head']} on {small['corpus']}, n = {small['n']}) one item "
            f"moves UAR by up to {step:.3f}."
        )
        below = [c for c in scored if c["uar"] <= c["chance"]]
        if below:
            lines.append(
                f"{len(below)} of {len(scored)} cells are at or below their chance level: "
                + ", ".join(f"{c['head']} on {c['corpus']}" for c in below[:6])
                + (" …" if len(below) > 6 else "")
                + "."
            )
    return bullets(lines) + "\n" + grid
