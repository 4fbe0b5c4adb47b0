"""Classification metrics for SER: UAR (the field's headline), accuracy, macro-F1, per class."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.metrics import confusion_matrix, f1_score, precision_score, recall_score


def uar(y_true: Sequence[int], y_pred: Sequence[int]) -> float:
    """Unweighted average recall over the classes present in ``y_true``."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if len(y_true) == 0:
        return float("nan")
    present = np.unique(y_true)
    return float(recall_score(y_true, y_pred, labels=present, average="macro", zero_division=0))


def classification_metrics(
    y_true: Sequence[int], y_pred: Sequence[int], labels: Sequence[str]
) -> dict:
    """UAR, accuracy, macro-F1, per-class recall/precision and the confusion matrix (rows: truth)."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    idx = list(range(len(labels)))
    present = np.unique(y_true)
    recall = recall_score(y_true, y_pred, labels=idx, average=None, zero_division=0)
    precision = precision_score(y_true, y_pred, labels=idx, average=None, zero_division=0)
    return {
        "n": len(y_true),
        "uar": uar(y_true, y_pred),
        "accuracy": float(np.mean(y_true == y_pred)) if len(y_true) else float("nan"),
        "macro_f1": float(
            f1_score(y_true, y_pred, labels=present, average="macro", zero_division=0)
        ),
        "recall": {lab: float(r) for lab, r in zip(labels, recall, strict=True)},
        "precision": {lab: float(p) for lab, p in zip(labels, precision, strict=True)},
        "labels": list(labels),
        "confusion": confusion_matrix(y_true, y_pred, labels=idx).tolist(),
    }
