"""Is run B better than run A, corpus by corpus, and is the difference real?

Both runs must have predicted the same items of a partition. Per corpus: UAR of each, ΔUAR with a
paired bootstrap interval, McNemar's exact test with the corrected χ² beside it; p-values are
Holm–Bonferroni adjusted over the corpora compared.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from emonet.evaluate.stats import bootstrap_delta_uar, holm, mcnemar
from emonet.files import write_json
from emonet.results.explain import bullets, chance_uar, one_item_step
from emonet.results.metrics import uar
from emonet.results.predictions import (
    PredictionsError,
    aligned_predictions,
    available,
    find_eval_dir,
)
from emonet.results.report import md_table, write_report


@dataclass
class CorpusComparison:
    """One corpus: both UARs, the difference with its interval, and McNemar's test."""

    corpus: str
    n: int
    uar_a: float
    uar_b: float
    delta: float
    delta_low: float
    delta_high: float
    a_only: int
    b_only: int
    p_exact: float
    chi2: float
    p_chi2: float
    p_holm: float = float("nan")
    class_counts: list[int] = field(default_factory=list)
    """Items per class present in the truth (for chance level and one item's weight)."""

    @property
    def interval_excludes_zero(self) -> bool:
        """Whether the bootstrap interval of ΔUAR lies entirely on one side of 0."""
        return self.delta_low > 0 or self.delta_high < 0


def paired_items(a_csv: Path, b_csv: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(truth, prediction A, prediction B) as label indices over the items both files hold.

    The two files must list exactly the same items with the same labels; otherwise the
    comparison would be meaningless, so it is refused with the first differences named.
    """
    a, b = aligned_predictions([a_csv, b_csv])
    names = sorted(set(a["label"]) | set(a["prediction"]) | set(b["prediction"]))
    index = {n: i for i, n in enumerate(names)}
    encode = lambda s: s.map(index).to_numpy(np.int64)  # noqa: E731
    return encode(a["label"]), encode(a["prediction"]), encode(b["prediction"])


def compare_corpus(
    corpus: str, a_csv: Path, b_csv: Path, n_boot: int = 2000, seed: int = 0
) -> CorpusComparison:
    """All statistics for one corpus (Holm adjustment is added over corpora)."""
    y, pa, pb = paired_items(a_csv, b_csv)
    delta, lo, hi = bootstrap_delta_uar(y, pa, pb, n_boot=n_boot, seed=seed)
    test = mcnemar(pa == y, pb == y)
    counts = np.bincount(y)
    return CorpusComparison(
        corpus, len(y), uar(y, pa), uar(y, pb), delta, lo, hi,
        test.a_only, test.b_only, test.p_exact, test.chi2, test.p_chi2,
        class_counts=[int(c) for c in counts[counts > 0]],
    )  # fmt: skip


def compare_runs(
    run_a: Path,
    run_b: Path,
    partition: str = "test",
    corpora: list[str] | None = None,
    alpha: float = 0.05,
    n_boot: int = 2000,
    out: Path | None = None,
    names: tuple[str, str] = ("A", "B"),
) -> dict:
    """Compare two runs (or evaluation folders) on every corpus both predicted.

    Writes ``compare.json`` (machine-readable) and ``report.md`` into ``out`` when given.
    """
    eval_a, eval_b = find_eval_dir(run_a), find_eval_dir(run_b)
    have_a, have_b = available(eval_a, partition), available(eval_b, partition)
    shared = [c for c in have_a if c in have_b]
    if corpora:
        missing = [c for c in corpora if c not in shared]
        if missing:
            raise PredictionsError(
                f"corpora {missing} lack {partition} predictions in one of the runs "
                f"({eval_a}: {sorted(have_a)}; {eval_b}: {sorted(have_b)})"
            )
        shared = list(corpora)
    if not shared:
        raise PredictionsError(
            f"no corpus has {partition} predictions in both runs "
            f"({eval_a}: {sorted(have_a)}; {eval_b}: {sorted(have_b)})"
        )
    rows = [compare_corpus(c, have_a[c], have_b[c], n_boot=n_boot) for c in shared]
    for row, p in zip(rows, holm([r.p_exact for r in rows]), strict=True):
        row.p_holm = p
    result = {
        "run_a": str(run_a),
        "run_b": str(run_b),
        "names": list(names),
        "partition": partition,
        "alpha": alpha,
        "corpora": [asdict(r) for r in rows],
        "summary": summary_line(rows, alpha, names),
    }
    if out is not None:
        out = Path(out)
        write_json(out / "compare.json", result)
        write_report(
            out / "report.md",
            f"{names[1]} vs {names[0]} on {partition}",
            [
                ("Runs", f"- {names[0]}: `{run_a}`\n- {names[1]}: `{run_b}`\n"),
                ("Per corpus", comparison_markdown(rows, names)),
                ("Summary", result["summary"] + "\n"),
                ("What the numbers mean", meaning(rows, partition)),
                ("Bootstrap interval and McNemar", agreement(rows, alpha, names)),
                (
                    "Method",
                    "ΔUAR = UAR(B) − UAR(A) with a paired percentile bootstrap 95 % interval "
                    f"({n_boot} resamples of items); McNemar's exact test (two-sided binomial on "
                    "the discordant items) with the continuity-corrected χ² beside it; p-values "
                    f"Holm–Bonferroni adjusted over the {len(rows)} corpora; significance at "
                    f"α = {alpha} on the adjusted p. The machine-readable numbers are in "
                    "`compare.json`.",
                ),
            ],
        )
        stale = out / "compare.md"  # written beside report.md by earlier versions
        stale.unlink(missing_ok=True)
    return result


def summary_line(rows: list[CorpusComparison], alpha: float, names: tuple[str, str]) -> str:
    """ "B beats A on x of n corpora, significantly on y; A significantly better on z"."""
    a, b = names
    wins = sum(r.delta > 0 for r in rows)
    sig_b = sum(r.delta > 0 and r.p_holm < alpha for r in rows)
    sig_a = sum(r.delta < 0 and r.p_holm < alpha for r in rows)
    return (
        f"{b} beats {a} on {wins} of {len(rows)} corpora, significantly on {sig_b}; "
        f"{a} significantly better on {sig_a} (McNemar exact, Holm-adjusted, α = {alpha})"
    )


def comparison_markdown(rows: list[CorpusComparison], names: tuple[str, str]) -> str:
    """The per-corpus table of a comparison."""
    a, b = names
    headers = ["corpus", "n", f"UAR {a}", f"UAR {b}", "ΔUAR [95 % CI]", f"{a} only", f"{b} only"]
    headers += ["p exact", "χ²", "p χ²", "p Holm"]
    body = [
        [
            r.corpus, r.n, r.uar_a, r.uar_b,
            f"{r.delta:+.3f} [{r.delta_low:+.3f}, {r.delta_high:+.3f}]",
            r.a_only, r.b_only, f"{r.p_exact:.4g}", f"{r.chi2:.3f}", f"{r.p_chi2:.4g}",
            f"{r.p_holm:.4g}",
        ]
        for r in rows
    ]  # fmt: skip
    return md_table(headers, body)


def meaning(rows: list[CorpusComparison], partition: str) -> str:
    """Which partition, and per corpus n, classes, chance UAR and one item's weight."""
    if partition == "test":
        lead = (
            "These are test predictions. Models are chosen on devel (EmoNet: the checkpoint "
            "with the best devel UAR; baselines: the complexity with the best devel UAR), so "
            "test items took part in no choice and these are held-out estimates."
        )
    elif partition == "devel":
        lead = (
            "These are devel predictions, the partition both models were chosen on: both UARs "
            "are optimistic, and a difference here may not hold on test."
        )
    else:
        lead = f"These are {partition} predictions; only test predictions are held-out estimates."
    lines = [lead]
    for r in rows:
        k, step = len(r.class_counts), one_item_step(r.class_counts)
        lines.append(
            f"{r.corpus}: n = {r.n} {partition} items in {k} classes; chance UAR 1/{k} = "
            f"{chance_uar(k):.3f}; one item moves a UAR (and so ΔUAR) by up to {step:.3f}; "
            f"ΔUAR {r.delta:+.3f} is {abs(r.delta) / step:.1f} such steps."
            if k
            else f"{r.corpus}: no items."
        )
    return bullets(lines)


def agreement(rows: list[CorpusComparison], alpha: float, names: tuple[str, str]) -> str:
    """Per corpus, whether the ΔUAR interval and McNemar's test agree, and why they may not."""
    a, b = names
    lines = []
    for r in rows:
        discordant = r.a_only + r.b_only
        d_acc = (r.b_only - r.a_only) / r.n if r.n else float("nan")
        ci = f"[{r.delta_low:+.3f}, {r.delta_high:+.3f}]"
        interval = "excludes 0" if r.interval_excludes_zero else "includes 0"
        sig_raw, sig_holm = r.p_exact < alpha, r.p_holm < alpha
        text = (
            f"{r.corpus}: ΔUAR {r.delta:+.3f}, 95 % interval {ci} {interval}; McNemar p = "
            f"{r.p_exact:.3g} (Holm {r.p_holm:.3g}) from the {discordant} items exactly one "
            f"model got right ({a} only {r.a_only}, {b} only {r.b_only}; Δaccuracy "
            f"{d_acc:+.3f})."
        )
        if r.interval_excludes_zero and not sig_raw:
            text += (
                f" They disagree: the interval says {b} is "
                f"{'better' if r.delta > 0 else 'worse'} on UAR, McNemar finds the "
                f"{r.a_only}:{r.b_only} split of discordant items compatible with 50:50 at "
                f"α = {alpha}"
                + (" (p is near the threshold)" if r.p_exact < 2 * alpha else "")
                + f". With {discordant} discordant items the percentile interval is approximate, "
                "and UAR weighs items of small classes more than McNemar's item count does. "
                "Read it as a likely but unconfirmed difference; the verdict above follows "
                "McNemar."
            )
        elif not r.interval_excludes_zero and sig_raw:
            text += (
                f" They disagree: the {r.a_only}:{r.b_only} split of discordant items is "
                "lopsided (an accuracy-type difference), but the class-balanced ΔUAR is "
                "uncertain, e.g. because the gains sit in large classes that UAR weighs less."
            )
        elif sig_raw:
            text += f" They agree: {b} is {'better' if r.delta > 0 else 'worse'}."
        else:
            text += " They agree: no difference is shown at this size."
        if sig_raw and not sig_holm:
            text += (
                f" McNemar is significant before but not after the Holm adjustment over "
                f"{len(rows)} corpora."
            )
        lines.append(text)
    why = (
        "Why the two can disagree: they test different things. McNemar's test uses only the "
        "items on which exactly one model is right and asks whether that split could be 50:50, "
        "an accuracy-type question in which every item counts once. The bootstrap interval is "
        "on the UAR difference, which is class-balanced (an item of a small class moves UAR "
        "more), and it is not adjusted over corpora. Near the significance threshold they can "
        "fall on different sides; the verdicts here use McNemar, Holm-adjusted, as the paper "
        "does."
    )
    return bullets(lines) + "\n" + why + "\n"
