"""Benchmark the experiment recipe's ``jobs``: wall time of the same experiment trained one run
at a time and ``jobs`` runs at a time, measured in the same session (the ratio is the result).

The experiment is ``configs/experiment.yaml`` (or ``--config``) on an EmoSet of the shared
corpora, cut to one seed, the settings ``scratch`` and ``adapters`` (each corpus's scratch run,
the multi models without it and the adapters runs: the dependency the scheduler must respect) and
``--epochs`` epochs, without baselines. Every variant trains into a fresh folder. With
``--threads`` every run gets that many torch threads in both variants (same models bit for bit);
without it ``jobs: 1`` uses torch's default and ``jobs: N`` the cores divided by N, which is what a
user gets. Writes ``benchmarks/results/experiment.{json,md}`` (``--name`` changes the stem).

    python benchmarks/experiment.py EMOSET [--jobs 2] [--epochs 5] [--config ...] [--set ...]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path

from emonet.files import write_json, write_text
from emonet.recipes.experiment import load_experiment, plan, run_experiment

HERE = Path(__file__).resolve().parent


def timed(config: Path, emoset: Path, out: Path, jobs: int, args: argparse.Namespace) -> dict:
    """Wall seconds and test UARs of the experiment with ``jobs`` runs at a time."""
    shutil.rmtree(out, ignore_errors=True)
    overrides = [f"emoset={emoset}", f"out={out}", "seeds=[0]", "settings=[scratch,adapters]",
                 "baselines=[]", f"jobs={jobs}", f"train.optim.max_epochs={args.epochs}",
                 *args.set]  # fmt: skip
    if args.threads:
        overrides.append(f"train.engine.threads={args.threads}")
    cfg = load_experiment(config, overrides)
    load = os.getloadavg()
    t0 = time.perf_counter()
    result = run_experiment(cfg, show_progress=False)
    wall = time.perf_counter() - t0
    return {"jobs": jobs, "runs": len(plan(cfg)), "seconds": round(wall, 1),
            "loadavg_before": [round(x, 2) for x in load], "uar": result["uar"]}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("emoset", type=Path)
    parser.add_argument("--config", type=Path, default=HERE.parent / "configs" / "experiment.yaml")
    parser.add_argument("--jobs", type=int, default=2, help="runs at a time, against 1")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None, help="torch threads per run")
    parser.add_argument("--set", action="append", default=[], help="extra experiment keys")
    parser.add_argument("--name", default="experiment", help="stem of the result files")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="emonet-bench-experiment-"))
    try:
        rows = [timed(args.config, args.emoset.resolve(), root / f"jobs-{j}", j, args)
                for j in (1, args.jobs)]  # fmt: skip
    finally:
        shutil.rmtree(root, ignore_errors=True)
    speedup = rows[0]["seconds"] / rows[1]["seconds"]
    result = {"config": str(args.config), "epochs": args.epochs, "threads": args.threads,
              "cpus": os.cpu_count(), "platform": platform.platform(), "rows": rows,
              "speedup": round(speedup, 2), "loadavg_after": list(os.getloadavg())}  # fmt: skip
    table = [
        "| jobs | runs | wall s | loadavg (1 min) before |",
        "|---:|---:|---:|---:|",
        *(
            f"| {r['jobs']} | {r['runs']} | {r['seconds']} | {r['loadavg_before'][0]} |"
            for r in rows
        ),
    ]
    md = (
        f"# Experiment runs at once (`jobs`)\n\n{args.config.name}, one seed, scratch + adapters, "
        f"{args.epochs} epochs, {os.cpu_count()} CPUs, threads per run: "
        f"{args.threads or 'default (jobs 1) / cores ÷ jobs'}.\n\n" + "\n".join(table)
        + f"\n\nSpeed-up of jobs {args.jobs} over jobs 1: **{speedup:.2f}×**.\n"
    )  # fmt: skip
    write_json(HERE / "results" / f"{args.name}.json", result)
    write_text(HERE / "results" / f"{args.name}.md", md)
    print(md)


if __name__ == "__main__":
    main()
