"""Is run B better than run A, corpus by corpus, and is the difference real?

Both runs must have predicted the same items of a partition. Per corpus: UAR of each, ΔUAR with a
paired bootstrap interval, McNemar's exact test with the corrected χ² beside it; p-values are
Holm–Bonferroni adjusted over the corpora compared.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from emonet.evaluate.stats import bootstrap_delta_uar, holm, mcnemar
from emonet.results.metrics import uar
from emonet.results.predictions import (
    PredictionsError,
    atomic_write_text,
    available,
    find_eval_dir,
    read_predictions,
    write_json,
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


def paired_items(a_csv: Path, b_csv: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(truth, prediction A, prediction B) as label indices over the items both files hold.

    The two files must list exactly the same items with the same labels; otherwise the
    comparison would be meaningless, so it is refused with the first differences named.
    """
    a, b = read_predictions(a_csv), read_predictions(b_csv)
    for path, table in ((a_csv, a), (b_csv, b)):
        dup = table["file"][table["file"].duplicated()]
        if len(dup):
            raise PredictionsError(f"{path}: item {dup.iloc[0]!r} is listed twice")
    only_a = sorted(set(a["file"]) - set(b["file"]))
    only_b = sorted(set(b["file"]) - set(a["file"]))
    if only_a or only_b:
        raise PredictionsError(
            f"the runs predicted different items: {len(only_a)} only in {a_csv} "
            f"(e.g. {only_a[:3]}), {len(only_b)} only in {b_csv} (e.g. {only_b[:3]}); "
            "compare runs evaluated on the same partition of the same EmoSet"
        )
    b = b.set_index("file").loc[a["file"]].reset_index()
    differ = a["label"].to_numpy() != b["label"].to_numpy()
    if differ.any():
        k = int(np.argmax(differ))
        raise PredictionsError(
            f"{a['file'].iloc[k]}: label {a['label'].iloc[k]!r} in {a_csv} but "
            f"{b['label'].iloc[k]!r} in {b_csv}"
        )
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
    return CorpusComparison(
        corpus, len(y), uar(y, pa), uar(y, pb), delta, lo, hi,
        test.a_only, test.b_only, test.p_exact, test.chi2, test.p_chi2,
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

    Writes ``compare.json``, ``compare.md`` and ``report.md`` into ``out`` when given.
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
        table = comparison_markdown(rows, names)
        write_report(
            out / "report.md",
            f"{names[1]} vs {names[0]} on {partition}",
            [
                ("Runs", f"- {names[0]}: `{run_a}`\n- {names[1]}: `{run_b}`\n"),
                ("Per corpus", table),
                ("Summary", result["summary"] + "\n"),
                (
                    "Method",
                    "ΔUAR = UAR(B) − UAR(A) with a paired percentile bootstrap 95 % interval "
                    f"({n_boot} resamples of items); McNemar's exact test (two-sided binomial on "
                    "the discordant items) with the continuity-corrected χ² beside it; p-values "
                    f"Holm–Bonferroni adjusted over the {len(rows)} corpora; significance at "
                    f"α = {alpha} on the adjusted p.",
                ),
            ],
        )
        atomic_write_text(out / "compare.md", table + "\n" + result["summary"] + "\n")
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
