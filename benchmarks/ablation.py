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


def run_one(emoset: Path, corpus: str, seed: int, variant: str, root: Path) -> float:
    """Test UAR of one variant on one corpus and seed (trained and evaluated once, then reused)."""
    out = root / variant / corpus / f"seed-{seed}"
    return train_and_score(recipe(emoset, corpus, seed, out, VARIANTS[variant]), corpus)["test"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("emoset", type=Path)
    parser.add_argument("--out", type=Path, default=Path("runs/ablation"))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--corpora", nargs="+", default=["emodb", "ravdess", "urdu"])
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()}")
    t0 = time.time()
    uar: dict[str, dict[str, list[float]]] = {v: {} for v in args.variants}
    for variant in args.variants:
        for corpus in args.corpora:
            for seed in args.seeds:
                u = run_one(args.emoset, corpus, seed, variant, args.out)
                uar[variant].setdefault(corpus, []).append(u)
                print(f"{variant:15s} {corpus:8s} seed {seed}: test UAR {u:.3f}", flush=True)
    means = {v: float(np.mean([np.mean(x) for x in uar[v].values()])) for v in uar}
    result = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "seeds": args.seeds, "corpora": args.corpora, "augment": AUGMENT, "test_uar": uar,
        "mean": means, "minutes": round((time.time() - t0) / 60, 1),
        "load_average_after": os.getloadavg(),
    }  # fmt: skip
    RESULTS.mkdir(exist_ok=True)
    write_json(RESULTS / "ablation.json", result)
    head = "| variant | " + " | ".join(args.corpora) + " | mean | Δ mean vs pad |"
    lines = [head, "|" + "---|" * (len(args.corpora) + 3)]
    for v in uar:
        cells = [f"{np.mean(uar[v][c]):.3f}" for c in args.corpora]
        delta = f"{means[v] - means['pad']:+.3f}" if "pad" in means else "–"
        lines.append(f"| {v} | " + " | ".join(cells) + f" | {means[v]:.3f} | {delta} |")
    text = (
        "# Ablation: padding-aware crops and augmentation (scratch, emonet-tiny, CPU recipe)\n\n"
        f"Test UAR, checkpoint chosen on devel; seeds {args.seeds}; {result['machine']}; "
        f"{result['minutes']} min.\n\n" + "\n".join(lines) + "\n"
    )
    write_text(RESULTS / "ablation.md", text)
    print(text)


if __name__ == "__main__":
    main()
