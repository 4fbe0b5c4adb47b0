"""What makes transfer pay (issue 15, item 4): variants of the ``adapters`` recipe of
configs/experiment.yaml (emonet-tiny, 3-s crops, 20 epochs AdamW + cosine, class weights),
each started from the multi-corpus model of the two other shared corpora that an experiment run
trained (``multi/without-<corpus>``), against that experiment's ``scratch`` runs.

    python benchmarks/transfer.py EMOSET EXPERIMENT_RUN [--out runs/transfer] [--seeds 0]

Writes ``benchmarks/results/transfer.{json,md}``: devel and test UAR per corpus and variant (the
checkpoint chosen on devel), the means over the corpora, and each variant's difference to
scratch. Finished runs are reused, so an interrupted sweep continues where it stopped.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from ablation import Scores, add_scores, recipe, sweep_parser, train_and_score, write_results

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
    parser = sweep_parser(__doc__, "runs/transfer", list(VARIANTS))
    parser.add_argument("experiment", type=Path, help="an `emonet experiment` output folder")
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()}")
    t0 = time.time()
    uar: Scores = {}
    for seed in args.seeds:
        for c in args.corpora:
            scratch = json.loads(
                (
                    seed_folder(args.experiment, f"scratch/{c}", seed) / "eval/metrics.json"
                ).read_text()
            )["results"][c]
            add_scores(uar, "scratch", c, {p: float(scratch[p]["uar"]) for p in ("devel", "test")})
    for variant in args.variants:
        for c in args.corpora:
            for seed in args.seeds:
                init = seed_folder(args.experiment, f"multi/without-{c}", seed)
                out = args.out / variant / c / f"seed-{seed}"
                cfg = transfer_recipe(
                    args.emoset, c, seed, out, init / "checkpoints" / "best", VARIANTS[variant]
                )
                scores = train_and_score(cfg, c)
                add_scores(uar, variant, c, scores)
                print(f"{variant:10s} {c:8s} seed {seed}: devel {scores['devel']:.3f} "
                      f"test {scores['test']:.3f}", flush=True)  # fmt: skip
    write_results(
        "transfer",
        "Transfer variants (adapters from the multi model of the two other corpora)",
        uar, args.corpora, "scratch", t0, {"seeds": args.seeds, "variants": VARIANTS},
    )  # fmt: skip


if __name__ == "__main__":
    main()
