"""``emonet evaluate``: predictions, metrics, confusion matrices and a report for a trained model.

Model selection always happens on devel during training (``checkpoints/best``); evaluating a run
therefore scores that checkpoint, and the test numbers it reports are at the devel-selected point.
A run without ``checkpoints/best`` is scored at ``checkpoints/last`` with a notice on stderr and
in the report (the rule of :func:`emonet.model.checkpoint.resolve_checkpoint`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from emonet.audio import check_sample_rate
from emonet.corpora.emoset import EmoSetError, open_emoset
from emonet.data.datasets import UtteranceDataset, load_partition
from emonet.errors import EmoNetError
from emonet.files import write_json
from emonet.model.scoring import predict_dataset, softmax
from emonet.results.explain import (
    Scored,
    bullets,
    chance_uar,
    describe,
    devel_test_note,
    partition_note,
)
from emonet.results.metrics import classification_metrics
from emonet.results.plots import confusion_png, curves_png, stage_boundaries
from emonet.results.predictions import predictions_table, write_predictions
from emonet.results.report import md_table, write_report
from emonet.runtime import torch_device


class EvaluationError(EmoNetError, ValueError):
    """Nothing to evaluate: no checkpoint, no shared corpus, a label list that does not match."""


@dataclass(frozen=True)
class Target:
    """What is evaluated: a checkpoint folder, and the run it belongs to (if any)."""

    checkpoint: Path
    run: Path | None


def resolve(path: Path) -> Target:
    """A run folder or a checkpoint folder, by :func:`emonet.model.checkpoint.resolve_checkpoint`'s
    rule (the one ``predict`` and ``export`` use); CheckpointNotFound if neither."""
    from emonet.model.checkpoint import resolve_checkpoint

    ckpt = resolve_checkpoint(path)
    run = ckpt.parent.parent if ckpt.parent.name == "checkpoints" else None
    return Target(ckpt, run)


def evaluate(
    target: Path,
    emoset: Path,
    corpora: list[str] | None = None,
    partitions: tuple[str, ...] = ("devel", "test"),
    out: Path | None = None,
    batch_size: int = 32,
    show_progress: bool = True,
    device: str | None = None,
) -> dict:
    """Score every corpus the model and the EmoSet share; write the evaluation folder.

    Returns ``{corpus: {partition: metrics}}``. ``out`` defaults to ``<run>/eval`` (or
    ``<checkpoint>/eval`` for a bare checkpoint). ``device``: cuda when available, else cpu.
    """
    from emonet.model import load_checkpoint

    where = resolve(target)
    model = load_checkpoint(where.checkpoint).to(torch_device(device))
    sets = open_emoset(emoset)
    names = corpora or [c for c in model.corpora if c in sets]
    for c in names:
        if c not in model.corpora:
            raise EvaluationError(
                f"--corpus {c}: the model has no head for it ({list(model.corpora)})"
            )
        if c not in sets:
            raise EvaluationError(f"--corpus {c}: not in EmoSet {emoset} ({sorted(sets)})")
        check_sample_rate(
            model.config.frontend.sample_rate,
            sets[c].info.sample_rate,
            f"the model {where.checkpoint}",
            f"EmoSet corpus {c}",
        )
        if list(sets[c].labels) != list(model.corpora[c]):
            raise EvaluationError(
                f"{c}: the model's labels {list(model.corpora[c])} differ from the EmoSet's "
                f"{list(sets[c].labels)}"
            )
    if not names:
        raise EvaluationError(
            f"the model's corpora {list(model.corpora)} are not in EmoSet {emoset} ({sorted(sets)})"
        )
    out = Path(out) if out is not None else (where.run or where.checkpoint) / "eval"
    window = getattr(model.config, "window", None)
    results: dict[str, dict[str, dict]] = {}
    rows, plots = [], []
    for c in names:
        corpus = sets[c]
        labels = list(corpus.labels)
        for part in partitions:
            try:
                cache, y, files = load_partition(corpus, part, show_progress=show_progress)
            except EmoSetError:
                if part == "devel":  # corpora with an official split may lack devel
                    continue
                raise
            logits = predict_dataset(model, UtteranceDataset(cache, y), c, batch_size, window)
            probs = softmax(logits)
            folder = out / c / part
            write_predictions(
                folder / "predictions.csv", predictions_table(files, labels, y, probs)
            )
            metrics = classification_metrics(y, probs.argmax(1), labels)
            metrics.update(corpus=c, partition=part, checkpoint=str(where.checkpoint))
            write_json(folder / "metrics.json", metrics)
            png = confusion_png(
                metrics["confusion"], labels, folder / "confusion.png", f"{c} {part}"
            )
            results.setdefault(c, {})[part] = metrics
            rows.append([c, part, metrics["n"], metrics["uar"], Scored.from_metrics(metrics).chance,
                         metrics["accuracy"], metrics["macro_f1"]])  # fmt: skip
            plots.append(f"![{c} {part}]({png.relative_to(out).as_posix()})")
    write_json(out / "metrics.json", {"checkpoint": str(where.checkpoint), "results": results})
    selected = not (where.run is not None and where.checkpoint.name == "last")
    how = (
        "selected on devel UAR during training"
        if selected
        else "the run's last checkpoint: it has no best one, so this is NOT the devel-selected model"
    )
    headers = ["corpus", "partition", "n", "UAR", "chance UAR", "accuracy", "macro-F1"]
    sections = [
        ("Model", f"Checkpoint `{where.checkpoint}` ({how})."),
        ("Scores", md_table(headers, rows)),
        ("What the numbers mean", meaning(results, selected)),
    ]
    if where.run is not None and (where.run / "metrics.csv").is_file():
        history = pd.read_csv(where.run / "metrics.csv")
        chance = {c: chance_uar(len(model.corpora[c])) for c in names}
        curves = curves_png(history, out / "curves.png", "training", chance)
        text = (
            f"![curves]({curves.name})\n\nLeft: loss per corpus (solid: training, dashed: "
            "devel); right: devel UAR per corpus, with chance level dashed."
        )
        if stage_boundaries(history):
            text += (
                " Dotted vertical lines mark the start of a new learning-rate stage (the best "
                "checkpoint so far is reloaded there)."
            )
        sections.append(("Training curves", text))
    sections.append(("Confusion matrices", "\n\n".join(plots)))
    train_config = getattr(model, "checkpoint_extra", {}).get("train_config")
    if train_config:
        text = yaml.safe_dump(train_config, sort_keys=False)
        sections.append(("Training configuration", f"```yaml\n{text}```"))
    write_report(out / "report.md", f"Evaluation of {where.run or where.checkpoint}", sections)
    return results


def meaning(results: dict[str, dict[str, dict]], selected_on_devel: bool = True) -> str:
    """What an evaluation's numbers mean, from its ``{corpus: {partition: metrics}}``.

    Which partition chose the checkpoint, n, chance level and one item's weight per corpus and
    partition, and a warning where devel and test UAR differ by a lot.
    """
    order = {"devel": 0, "test": 1}
    parts = sorted({p for per in results.values() for p in per}, key=lambda p: order.get(p, 2))
    lines = [partition_note(parts, selected_on_devel)]
    lines += [
        describe(f"{c}, {p}", Scored.from_metrics(m)) for c, per in results.items()
        for p, m in per.items()
    ]  # fmt: skip
    gaps = [
        devel_test_note(c, Scored.from_metrics(per["devel"]), Scored.from_metrics(per["test"]))
        for c, per in results.items()
        if "devel" in per and "test" in per
    ]
    return bullets(lines) + ("\n" + bullets(gaps) if any(gaps) else "")
