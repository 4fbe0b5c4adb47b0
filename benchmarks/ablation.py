"""Ablation of the training options of issue 15 on the shared corpora: padding-aware crops
(``data.crops: bucket``) and augmentation (SpecAugment + mixup + random gain) against the
reference's padded crops, single-corpus training from scratch with the CPU recipe of
configs/experiment.yaml (emonet-tiny, 20 epochs AdamW + cosine, 3-s crops, class weights).

    python benchmarks/ablation.py EMOSET [--out runs/ablation] [--seeds 0] [--corpora ...]

Writes ``benchmarks/results/ablation.{json,md}``: test UAR (checkpoint chosen on devel) per
corpus and variant, the mean over corpora, and each variant's mean difference to ``pad``.
Finished runs are reused, so an interrupted ablation continues where it stopped.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

from emonet.evaluate.runner import evaluate
from emonet.files import write_json, write_text
from emonet.train.config import config_from_dict
from emonet.train.loop import train

RESULTS = Path(__file__).resolve().parent / "results"
AUGMENT = {"freq_masks": 2, "freq_mask_width": 16, "time_masks": 2, "time_mask_width": 20,
           "mixup": 0.2, "gain_db": 6.0}  # fmt: skip
VARIANTS: dict[str, dict] = {
    "pad": {},
    "bucket": {"data": {"crops": "bucket"}},
    "augment": {"augment": AUGMENT},
    "bucket+augment": {"data": {"crops": "bucket"}, "augment": AUGMENT},
}
"""Name → keys over the base recipe. ``pad`` is the reference's cropping, no augmentation."""


def recipe(emoset: Path, corpus: str, seed: int, out: Path, extra: dict) -> dict:
    """The scratch setting of configs/experiment.yaml with ``extra`` merged in."""
    cfg = {
        "mode": "scratch", "out": str(out), "seed": seed,
        "data": {"emoset": str(emoset), "corpora": [corpus], "window": 3.0, "batch_size": 32,
                 "eval_batch_size": 32},
        "model": {"name": "emonet-tiny"},
        "optim": {"schedule": "cosine", "lr": 0.003, "max_epochs": 20, "warmup_epochs": 2,
                  "weight_decay": 0.01},
        "loss": {"class_weights": True},
        "engine": {"precision": "auto"},
    }  # fmt: skip
    for section, keys in extra.items():
        cfg.setdefault(section, {}).update(keys)
    return cfg


def train_and_score(cfg: dict, corpus: str) -> dict[str, float]:
    """Devel and test UAR of one run (trained, resumed or reused, then evaluated once)."""
    out = Path(cfg["out"])
    if not (out / "DONE.json").exists():
        resume = (out / "checkpoints" / "last" / "trainer_state.json").is_file()
        train(config_from_dict(cfg), resume=resume, show_progress=False)
    scores = out / "eval" / "metrics.json"
    if not scores.exists() or "devel" not in json.loads(scores.read_text())["results"][corpus]:
        evaluate(out, Path(cfg["data"]["emoset"]), [corpus], ("devel", "test"),
                 show_progress=False, device="cpu")  # fmt: skip
    results = json.loads(scores.read_text())["results"][corpus]
    return {p: float(results[p]["uar"]) for p in ("devel", "test")}


def run_one(emoset: Path, corpus: str, seed: int, variant: str, root: Path) -> dict[str, float]:
    """Devel and test UAR of one variant on one corpus and seed (trained once, then reused)."""
    out = root / variant / corpus / f"seed-{seed}"
    return train_and_score(recipe(emoset, corpus, seed, out, VARIANTS[variant]), corpus)


Scores = dict[str, dict[str, dict[str, list[float]]]]
"""variant → corpus → partition (devel, test) → UAR per seed."""


def add_scores(uar: Scores, variant: str, corpus: str, scores: dict[str, float]) -> None:
    """Append one seed's devel and test UAR to ``uar``."""
    for part, u in scores.items():
        uar.setdefault(variant, {}).setdefault(corpus, {}).setdefault(part, []).append(u)


def sweep_parser(doc: str, out: str, variants: list[str]) -> argparse.ArgumentParser:
    """The options every sweep of this folder takes (EMOSET, --out, --seeds, --corpora,
    --variants)."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("emoset", type=Path)
    parser.add_argument("--out", type=Path, default=Path(out))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--corpora", nargs="+", default=["emodb", "ravdess", "urdu"])
    parser.add_argument("--variants", nargs="+", default=variants, choices=variants)
    return parser


def _ms(values: list[float]) -> str:
    """Mean ± sample standard deviation (the mean alone for one value)."""
    if len(values) < 2:
        return f"{np.mean(values):.3f}"
    return f"{np.mean(values):.3f} ± {np.std(values, ddof=1):.3f}"


def write_results(name: str, title: str, uar: Scores, corpora: list[str], reference: str,
                  started: float, extra: dict) -> None:  # fmt: skip
    """``benchmarks/results/<name>.{json,md}``: test UAR per corpus (mean ± sd over seeds), the
    corpus average's mean ± sd over seeds on test and devel, and the difference to ``reference``."""

    def average(v: str, part: str) -> list[float]:  # the corpus mean, seed by seed
        return list(np.mean([uar[v][c][part] for c in corpora], axis=0))

    mean = {v: {p: float(np.mean(average(v, p))) for p in ("devel", "test")} for v in uar}
    result = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "corpora": corpora, **extra, "uar": uar, "mean": mean,
        "minutes": round((time.time() - started) / 60, 1), "load_average_after": os.getloadavg(),
    }  # fmt: skip
    RESULTS.mkdir(exist_ok=True)
    write_json(RESULTS / f"{name}.json", result)
    head = f"| variant | {' | '.join(corpora)} | mean test | mean devel | Δ test vs {reference} |"
    lines = [head, "|" + "---|" * (len(corpora) + 4)]
    for v in uar:
        cells = [_ms(uar[v][c]["test"]) for c in corpora]
        delta = mean[v]["test"] - mean[reference]["test"] if reference in mean else float("nan")
        lines.append(f"| {v} | {' | '.join(cells)} | {_ms(average(v, 'test'))} | "
                     f"{_ms(average(v, 'devel'))} | {delta:+.3f} |")  # fmt: skip
    text = (
        f"# {title}\n\nTest UAR per corpus, mean ± sd over seeds {extra.get('seeds')} (checkpoint "
        f"chosen on devel); mean columns: the corpus average; {result['machine']}; "
        f"{result['minutes']} min in this invocation (finished runs are reused), load average "
        f"after {result['load_average_after'][0]:.2f}."
        "\n\n" + "\n".join(lines) + "\n"
    )
    write_text(RESULTS / f"{name}.md", text)
    print(text)


def main() -> None:
    args = sweep_parser(__doc__, "runs/ablation", list(VARIANTS)).parse_args()
    print(f"load average before: {os.getloadavg()}")
    t0 = time.time()
    uar: Scores = {}
    for variant in args.variants:
        for corpus in args.corpora:
            for seed in args.seeds:
                scores = run_one(args.emoset, corpus, seed, variant, args.out)
                add_scores(uar, variant, corpus, scores)
                print(f"{variant:15s} {corpus:8s} seed {seed}: devel {scores['devel']:.3f} "
                      f"test {scores['test']:.3f}", flush=True)  # fmt: skip
    write_results(
        "ablation",
        "Ablation: padding-aware crops and augmentation (scratch, emonet-tiny, CPU recipe)",
        uar, args.corpora, "pad", t0, {"seeds": args.seeds, "augment": AUGMENT},
    )  # fmt: skip


if __name__ == "__main__":
    main()
