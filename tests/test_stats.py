"""Statistics against independent implementations (statsmodels, scipy) and textbook values."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.contingency_tables import mcnemar as sm_mcnemar

from emonet.evaluate.stats import bootstrap_delta_uar, holm, mcnemar
from emonet.results.metrics import classification_metrics, uar


def _paired(n01: int, n10: int, both: int = 30, neither: int = 10):
    a = [True] * n01 + [False] * n10 + [True] * both + [False] * neither
    b = [False] * n01 + [True] * n10 + [True] * both + [False] * neither
    return a, b


@pytest.mark.parametrize("n01,n10", [(3, 12), (10, 10), (0, 7), (25, 40), (1, 0)])
def test_mcnemar_matches_statsmodels(n01, n10):
    a, b = _paired(n01, n10)
    ours = mcnemar(a, b)
    table = [[30, n01], [n10, 10]]
    exact = sm_mcnemar(table, exact=True)
    approx = sm_mcnemar(table, exact=False, correction=True)
    assert (ours.a_only, ours.b_only) == (n01, n10)
    assert ours.p_exact == pytest.approx(exact.pvalue, rel=1e-9)
    assert ours.chi2 == pytest.approx(approx.statistic, rel=1e-9)
    assert ours.p_chi2 == pytest.approx(approx.pvalue, rel=1e-9)


def test_mcnemar_textbook_and_degenerate():
    # 0 vs 10 discordant pairs: exact two-sided p = 2 * 0.5**10
    ours = mcnemar(*_paired(0, 10))
    assert ours.p_exact == pytest.approx(2 * 0.5**10)
    assert mcnemar([True, False], [True, False]).p_exact == 1.0
    with pytest.raises(ValueError):
        mcnemar([True], [True, False])


def test_holm_textbook():
    # Holm (1979)-style example: p = 0.01, 0.04, 0.03, 0.005 -> adjusted 0.03, 0.06, 0.06, 0.02
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])
    assert holm([]) == []


def test_uar_and_metrics():
    y = [0, 0, 0, 0, 1, 1, 2, 2]
    p = [0, 0, 0, 1, 1, 0, 2, 2]
    assert uar(y, p) == pytest.approx((0.75 + 0.5 + 1.0) / 3)
    m = classification_metrics(y, p, ["a", "b", "c"])
    assert m["accuracy"] == pytest.approx(6 / 8)
    assert m["confusion"] == [[3, 1, 0], [1, 1, 0], [0, 0, 2]]
    assert m["recall"] == pytest.approx({"a": 0.75, "b": 0.5, "c": 1.0})


def test_bootstrap_interval_covers_and_detects():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 4, 400)
    a = np.where(rng.random(400) < 0.5, y, rng.integers(0, 4, 400))
    b = np.where(rng.random(400) < 0.8, y, rng.integers(0, 4, 400))
    d, lo, hi = bootstrap_delta_uar(y, a, b, n_boot=1000)
    assert d == pytest.approx(uar(y, b) - uar(y, a))
    assert lo < d < hi and lo > 0.1  # B is clearly better
    d0, lo0, hi0 = bootstrap_delta_uar(y, a, a, n_boot=200)
    assert d0 == 0 and lo0 == 0 and hi0 == 0
    # a non-vectorised reference for a few resamples gives the same distribution centre
    ref = []
    r2 = np.random.default_rng(0)
    for _ in range(300):
        i = r2.integers(0, 400, 400)
        ref.append(uar(y[i], b[i]) - uar(y[i], a[i]))
    assert np.mean(ref) == pytest.approx(d, abs=0.02)
