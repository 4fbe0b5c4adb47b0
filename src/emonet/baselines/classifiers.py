"""Classifier registry of the baselines: name → scikit-learn estimator factory and complexity grid.

Every classifier has one complexity parameter (``C``, the inverse regularisation strength) that
is chosen on devel UAR. Scores become ``p_<label>`` columns by :func:`probabilities`: the
classifier's own probabilities where it has them (logistic regression), else a softmax of its
decision scores (linear SVM), whose arg-max is exactly the classifier's prediction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class ClassifierSpec:
    """One registered classifier: how to build it for a complexity value, and its default grid."""

    name: str
    make: Callable[[float, str | None, int], Any]
    """(complexity, class_weight, seed) → unfitted estimator."""
    grid: tuple[float, ...]
    """Default complexity values searched on devel."""
    parameter: str = "C"
    """Name of the complexity parameter in scikit-learn."""
    description: str = ""
    scores: str = "probabilities"
    """How ``p_<label>`` is computed: ``probabilities`` or ``softmax of decision scores``."""
    in_span: bool = True
    """An L2-regularised linear model: it can be trained exactly in the span of the training
    vectors (:func:`span_basis`). Set False for anything else (trees, MLPs, L1 penalties)."""


def _linear_svm(c: float, class_weight: str | None, seed: int) -> Any:
    from sklearn.svm import LinearSVC

    return LinearSVC(
        C=c, class_weight=class_weight, dual="auto", max_iter=20_000, random_state=seed
    )


def _logreg(c: float, class_weight: str | None, seed: int) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, class_weight=class_weight, max_iter=2_000, random_state=seed)


CLASSIFIERS: dict[str, ClassifierSpec] = {
    "svm": ClassifierSpec(
        "svm",
        _linear_svm,
        (1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0),
        description="linear SVM (sklearn LinearSVC, one-vs-rest, squared hinge), the ComParE baseline",
        scores="softmax of decision scores",
    ),
    "logreg": ClassifierSpec(
        "logreg",
        _logreg,
        (1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0),
        description="multinomial logistic regression (sklearn LogisticRegression, L2, lbfgs)",
    ),
}


def get_classifier(name: str) -> ClassifierSpec:
    """The registered classifier ``name``; KeyError naming the known ones."""
    try:
        return CLASSIFIERS[name]
    except KeyError:
        raise KeyError(f"unknown classifier {name!r}; known: {sorted(CLASSIFIERS)}") from None


def softmax(scores: np.ndarray) -> np.ndarray:
    """Row-wise softmax, numerically stable."""
    z = scores - scores.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def probabilities(model: Any, x: np.ndarray, n_classes: int) -> np.ndarray:
    """(items, n_classes) scores in [0, 1] summing to 1, columns in label-index order.

    Classes absent from training get probability 0, so the columns always match the label list.
    """
    if hasattr(model, "predict_proba"):
        part = model.predict_proba(x)
    else:
        s = np.asarray(model.decision_function(x), dtype=np.float64)
        if s.ndim == 1:  # binary: one score for the second class
            s = np.stack([-s, s], axis=1)
        part = softmax(s)
    out = np.zeros((len(x), n_classes), dtype=np.float64)
    out[:, np.asarray(model.classes_, dtype=np.int64)] = part
    return out


def parameter_count(model: Any, n_features: int) -> int:
    """Trained parameters of a linear model over ``n_features`` inputs (weights + biases)."""
    return int(np.shape(model.coef_)[0] * n_features + np.size(model.intercept_))


def span_basis(z_train: np.ndarray) -> np.ndarray | None:
    """Orthonormal basis (features × items) of the span of the training vectors, or None when
    there are no more features than items.

    For an L2-regularised linear model (SVM, logistic regression) the optimal weights lie in the
    span of the training vectors (representer theorem) and the penalty is rotation-invariant, so
    training on the coordinates ``z @ basis`` gives the same decision function as training on
    ``z``: LinearSVC's dual sees the same Gram matrix, lbfgs the same objective. With ComParE
    (6,373 features) and a few hundred training items this makes the grid search several times
    faster at unchanged results.
    """
    n, d = z_train.shape
    if d <= n:
        return None
    q, _ = np.linalg.qr(z_train.T, mode="reduced")
    return q
