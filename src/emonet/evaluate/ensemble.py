"""Soft-voting ensembles: the class probabilities several runs gave the same items, averaged.

Typical members are the seeds of one setting (what training randomness costs a single model) or
different settings. The result is an evaluation folder like a run's (``<corpus>/<partition>/``
predictions, metrics and confusion matrix, plus ``ensemble.json`` and ``report.md``), so
``emonet compare`` tests it against any run or baseline. An ensemble of n models is not a single
model's score: reports name it as an ensemble and list each member's UAR beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from emonet.files import write_json
from emonet.results.explain import bullets
from emonet.results.metrics import classification_metrics, uar
from emonet.results.plots import confusion_png
from emonet.results.predictions import (
    PredictionsError,
    aligned_predictions,
    available,
    find_eval_dir,
    predictions_table,
    probabilities,
    write_predictions,
)
from emonet.results.report import md_table, write_report


@dataclass
class EnsembleScore:
    """One corpus and partition: the ensemble's UAR and each member's."""

    corpus: str
    partition: str
    n: int
    uar: float
    member_uar: list[float] = field(default_factory=list)

    @property
    def gain(self) -> float:
        """Ensemble UAR minus the members' mean UAR."""
        return self.uar - float(np.mean(self.member_uar))


def _weights(weights: Sequence[float] | None, n: int) -> np.ndarray:
    """Normalised member weights (equal unless given); refused unless n finite values ≥ 0."""
    if weights is None:
        return np.full(n, 1.0 / n)
    w = np.asarray(list(weights), dtype=np.float64)
    if len(w) != n:
        raise PredictionsError(f"--weight: {len(w)} weights for {n} members; give one per member")
    if not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
        raise PredictionsError(f"--weight: weights must be ≥ 0 and not all 0, got {w.tolist()}")
    return w / w.sum()


def ensemble_corpus(
    csvs: Sequence[Path],
    folder: Path,
    corpus: str,
    partition: str,
    weights: Sequence[float] | None = None,
) -> EnsembleScore:
    """Average the members' probabilities for one corpus and partition; write the ensemble's
    ``predictions.csv``, ``metrics.json`` and ``confusion.png`` into ``folder``."""
    if not csvs:
        raise PredictionsError(f"{corpus} {partition}: an ensemble needs at least one member")
    w = _weights(weights, len(csvs))
    tables = aligned_predictions(csvs)
    labels, _ = probabilities(csvs[0], tables[0])
    total = np.zeros((len(tables[0]), len(labels)))
    for path, table, wk in zip(csvs, tables, w, strict=True):
        names, probs = probabilities(path, table)
        if sorted(names) != sorted(labels):
            raise PredictionsError(
                f"{path}: probabilities for labels {names}, but {csvs[0]} has {labels}; "
                "members must share one label set"
            )
        total += wk * probs[:, [names.index(lab) for lab in labels]]
    truth = tables[0]["label"]
    unknown = sorted(set(truth) - set(labels))
    if unknown:
        raise PredictionsError(f"{csvs[0]}: labels {unknown} have no probability column")
    index = {lab: i for i, lab in enumerate(labels)}
    y = truth.map(index).to_numpy(np.int64)
    table = predictions_table(list(tables[0]["file"]), labels, y, total)
    write_predictions(folder / "predictions.csv", table)
    metrics = classification_metrics(y, total.argmax(1), labels)
    members = [uar(y, t["prediction"].map(index).fillna(-1).astype(np.int64)) for t in tables]
    metrics.update(
        corpus=corpus,
        partition=partition,
        ensemble=[str(p) for p in csvs],
        weights=w.tolist(),
        member_uar=members,
    )
    write_json(folder / "metrics.json", metrics)
    confusion_png(
        metrics["confusion"], labels, folder / "confusion.png", f"{corpus} {partition} (ensemble)"
    )
    return EnsembleScore(corpus, partition, len(y), metrics["uar"], members)


def ensemble_runs(
    runs: Sequence[Path],
    out: Path,
    partitions: Sequence[str] = ("devel", "test"),
    corpora: Sequence[str] | None = None,
    weights: Sequence[float] | None = None,
) -> dict:
    """The ensemble of several runs (or evaluation folders) on every corpus all of them scored.

    Corpora that only some members scored are skipped and listed with the reason; naming them in
    ``corpora`` makes that an error. Writes an evaluation folder at ``out``.
    """
    if len(runs) < 2:
        raise PredictionsError(f"an ensemble needs two runs or more, got {len(runs)}")
    evals = [find_eval_dir(r) for r in runs]
    if Path(out).resolve() in {e.resolve() for e in evals}:
        raise PredictionsError(
            f"--out {out}: a member's evaluation folder; its predictions would be overwritten"
        )
    w = _weights(weights, len(runs))
    scores: list[EnsembleScore] = []
    skipped: list[dict] = []
    for part in partitions:
        have = [available(e, part) for e in evals]
        every = set(have[0]).intersection(*have[1:])
        some = sorted(set().union(*have) - every)
        if corpora:
            missing = [c for c in corpora if c not in every]
            if missing:
                raise PredictionsError(
                    f"corpora {missing} lack {part} predictions in some of the runs "
                    + "; ".join(f"{e}: {sorted(h)}" for e, h in zip(evals, have, strict=True))
                )
        for c in some:
            lacking = [str(e) for e, h in zip(evals, have, strict=True) if c not in h]
            skipped.append(
                {"corpus": c, "partition": part, "reason": f"no predictions in {lacking}"}
            )
        for c in [c for c in (corpora or sorted(every)) if c in every]:
            csvs = [h[c] for h in have]
            scores.append(ensemble_corpus(csvs, Path(out) / c / part, c, part, w))
    if not scores:
        raise PredictionsError(
            f"no corpus has {'/'.join(partitions)} predictions in every run ({[str(e) for e in evals]})"
        )
    result = {
        "members": [str(r) for r in runs],
        "weights": w.tolist(),
        "scores": [{**asdict(s), "gain": s.gain} for s in scores],
        "skipped": skipped,
    }
    write_json(Path(out) / "ensemble.json", result)
    write_report(
        Path(out) / "report.md",
        f"Ensemble of {len(runs)} runs",
        [
            ("Members", "\n".join(f"- `{r}` (weight {x:.3f})" for r, x in zip(runs, w, strict=True))),
            ("Scores", ensemble_markdown(scores)),
            ("What the numbers mean", meaning(scores, len(runs))),
            *(
                [("Skipped", bullets([f"{s['corpus']} {s['partition']}: {s['reason']}"
                                      for s in skipped]))]
                if skipped
                else []
            ),
        ],
    )  # fmt: skip
    return result


def ensemble_markdown(scores: Sequence[EnsembleScore]) -> str:
    """Per corpus and partition: each member's UAR, their mean, the ensemble's and the gain."""
    k = max(len(s.member_uar) for s in scores)
    headers = ["corpus", "partition", "n", *(f"member {i + 1}" for i in range(k))]
    headers += ["members' mean", "ensemble", "gain"]
    rows = [
        [s.corpus, s.partition, s.n, *s.member_uar, float(np.mean(s.member_uar)), s.uar,
         f"{s.gain:+.3f}"]
        for s in scores
    ]  # fmt: skip
    return md_table(headers, rows)


def meaning(scores: Sequence[EnsembleScore], n: int) -> str:
    """What an ensemble's numbers are, and what they are not."""
    lines = [
        f"The ensemble predicts with the weighted mean of {n} models' class probabilities (soft "
        "voting); its UAR is that of one system of n models, n times the compute at inference, "
        "not the score of a single model trained like its members.",
        "Gain: ensemble UAR minus the members' mean UAR, what averaging out the members' "
        "disagreements is worth. `emonet compare` tests the ensemble folder against a run.",
    ]
    if any(s.partition == "devel" for s in scores):
        lines.append(
            "Devel scores are those the members' checkpoints were chosen on: optimistic for "
            "members and ensemble alike."
        )
    return bullets(lines)
