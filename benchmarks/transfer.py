"""What makes transfer pay (issue 15, item 4): variants of the ``adapters`` recipe of
configs/experiment.yaml (emonet-tiny, 3-s crops, 20 epochs AdamW + cosine, class weights),
each started from the multi-corpus model of the two other shared corpora that an experiment run
trained (``multi/without-<corpus>``), against that experiment's ``scratch`` runs.

    python benchmarks/transfer.py EMOSET EXPERIMENT_RUN [--out runs/transfer] [--seeds 0]

Writes ``benchmarks/results/transfer.{json,md}``: devel and test UAR per corpus and variant (the
checkpoint chosen on devel), the means, and the trainable parameters of each variant. Finished
runs are reused, so an interrupted sweep continues where it stopped.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
from ablation import RESULTS, recipe, train_and_score

from emonet.files import write_json, write_text

VARIANTS: dict[str, dict] = {
    "base": {},
    "lr-0.01": {"optim": {"lr": 0.01}},
    "epochs-40": {"optim": {"max_epochs": 40}},
    "bucket": {"data": {"crops": "bucket"}},
    "head-like": {"transfer": {"head": "like"}},
    "finetune": {"mode": "finetune"},
}
"""Name → keys over the adapters recipe (``mode`` replaces the training mode)."""


def seed_folder(run: Path, base: str, seed: int) -> Path:
    """An experiment run's folder of one seed (``base/seed-<k>`` when it ran several)."""
    several = run / base / f"seed-{seed}"
    return several if several.is_dir() else run / base


def transfer_recipe(emoset: Path, corpus: str, seed: int, out: Path, init: Path, extra: dict):
    """The adapters recipe from ``init`` with ``extra`` merged in."""
    extra = dict(extra)
    mode = extra.pop("mode", "adapters")
    cfg = recipe(emoset, corpus, seed, out, extra)
    cfg.update(mode=mode, init=str(init))
    return cfg


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("emoset", type=Path)
    parser.add_argument("experiment", type=Path, help="an `emonet experiment` output folder")
    parser.add_argument("--out", type=Path, default=Path("runs/transfer"))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--corpora", nargs="+", default=["emodb", "ravdess", "urdu"])
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()}")
    t0 = time.time()
    uar: dict[str, dict[str, dict[str, list[float]]]] = {}
    for seed in args.seeds:
        for c in args.corpora:
            scratch = json.loads(
                (
                    seed_folder(args.experiment, f"scratch/{c}", seed) / "eval/metrics.json"
                ).read_text()
            )["results"][c]
            for p in ("devel", "test"):
                uar.setdefault("scratch", {}).setdefault(c, {}).setdefault(p, []).append(
                    float(scratch[p]["uar"])
                )
    for variant in args.variants:
        for c in args.corpora:
            for seed in args.seeds:
                init = seed_folder(args.experiment, f"multi/without-{c}", seed)
                out = args.out / variant / c / f"seed-{seed}"
                cfg = transfer_recipe(
                    args.emoset, c, seed, out, init / "checkpoints" / "best", VARIANTS[variant]
                )
                scores = train_and_score(cfg, c)
                for p, u in scores.items():
                    uar.setdefault(variant, {}).setdefault(c, {}).setdefault(p, []).append(u)
                print(f"{variant:10s} {c:8s} seed {seed}: devel {scores['devel']:.3f} "
                      f"test {scores['test']:.3f}", flush=True)  # fmt: skip
    mean = {
        v: {p: float(np.mean([np.mean(uar[v][c][p]) for c in args.corpora]))
            for p in ("devel", "test")}
        for v in uar
    }  # fmt: skip
    result = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "seeds": args.seeds, "corpora": args.corpora, "variants": VARIANTS, "uar": uar,
        "mean": mean, "minutes": round((time.time() - t0) / 60, 1),
        "load_average_after": os.getloadavg(),
    }  # fmt: skip
    RESULTS.mkdir(exist_ok=True)
    write_json(RESULTS / "transfer.json", result)
    head = (
        "| variant | "
        + " | ".join(args.corpora)
        + " | mean devel | mean test | Δ test vs scratch |"
    )
    lines = [head, "|" + "---|" * (len(args.corpora) + 4)]
    for v in uar:
        cells = [
            f"{np.mean(uar[v][c]['devel']):.3f} / {np.mean(uar[v][c]['test']):.3f}"
            for c in args.corpora
        ]
        delta = mean[v]["test"] - mean["scratch"]["test"]
        lines.append(
            f"| {v} | " + " | ".join(cells)
            + f" | {mean[v]['devel']:.3f} | {mean[v]['test']:.3f} | {delta:+.3f} |"
        )  # fmt: skip
    text = (
        "# Transfer variants (adapters from the multi model of the two other corpora)\n\n"
        f"Devel / test UAR, checkpoint chosen on devel; seeds {args.seeds}; {result['machine']}; "
        f"{result['minutes']} min.\n\n" + "\n".join(lines) + "\n"
    )
    write_text(RESULTS / "transfer.md", text)
    print(text)


if __name__ == "__main__":
    main()
