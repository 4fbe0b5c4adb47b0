"""Benchmark training: samples/s per mode and precision, data-wait share, seconds per epoch, and
the real loop against the bare model's training step and the matmul peak, measured in the same run.

Runs the real ``emonet.train`` loop (Lightning Fabric, 1 process) on EmoSet copies of the shared
EmoDB, RAVDESS and URDU: a short run per mode (``scratch``, ``multi``, ``adapters``, ``finetune``,
``last-layer``) in fp32 and bf16 autocast with the default model, one full EmoDB epoch and one
round-robin epoch over the three corpora. Throughput and the share of step time spent waiting for
data come from the loop's own per-epoch timing in ``metrics.csv``. Writes
``benchmarks/results/train.json`` and ``train.md``.

The bare step (``benchmarks/model.py``'s case: forward, backward and SGD step of the same model on
random full-length audio already in memory) is the ceiling the loop can reach; the ratio loop /
bare is what the loop itself costs (crop gathering, padding masks, bookkeeping).

    python benchmarks/train.py [--quick] [--batch 64] [--model emonet-wrn]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path

import pandas as pd
import torch

from emonet.corpora.prepare import prepare
from emonet.train.config import config_from_dict
from emonet.train.loop import train

HERE = Path(__file__).resolve().parent
SHARED = HERE.parent.parent / "shared" / "corpora"
REFERENCE_FP32 = 17.0  # DESIGN.md: TF reference, scratch, batch 64, 6-s windows, 2 threads


def emoset(folder: Path) -> Path:
    """Prepare (or reuse) the three shared corpora."""
    for name in ("emodb", "ravdess", "urdu"):
        prepare(name, SHARED / name, folder, workers=2, show_progress=False)
    return folder


def run(root: Path, name: str, cfg: dict) -> dict:
    """Train one configuration; per-epoch timing from its metrics.csv."""
    out = root / name
    shutil.rmtree(out, ignore_errors=True)
    t0 = time.perf_counter()
    train(config_from_dict({**cfg, "out": str(out)}), show_progress=False)
    wall = time.perf_counter() - t0
    m = pd.read_csv(out / "metrics.csv")
    last = m[m["epoch"] == m["epoch"].max()]
    return {
        "run": name,
        "samples_per_s": round(float(last["samples_per_s"].iloc[0]), 2),
        "data_share": round(float(last["data_share"].iloc[0]), 4),
        "epoch_seconds": round(float(last["seconds"].iloc[0]), 2),
        "steps": int(last["step"].iloc[0]),
        "wall_seconds": round(wall, 1),
    }


def bare_steps(model: str, batch: int, rounds: int, precisions: list[str]) -> dict:
    """The bare model's training step and the matmul peak per precision, best of ``rounds``."""
    from model import Case, model_cases

    n = 2048
    a32, b32 = torch.randn(n, n), torch.randn(n, n)
    a16, b16 = a32.bfloat16(), b32.bfloat16()
    peaks = [Case("fp32", lambda: torch.mm(a32, b32)), Case("bf16", lambda: torch.mm(a16, b16))]
    peaks = [c for c in peaks if c.key in precisions]
    steps = [c for c in model_cases(model, 6.0, batch, "scratch") if c.meta["kind"] == "train"]
    steps = [c for c in steps if c.meta["precision"] in precisions]
    for case in peaks + steps:
        case.once()  # warm-up
        case.times.clear()
    for _ in range(rounds):  # round robin: a burst of load hits every case alike
        for case in peaks + steps:
            for _ in range(10 if case in peaks else 1):
                case.once()
    out = {}
    for case in steps:
        p = case.meta["precision"]
        peak = 2 * n**3 / next(c for c in peaks if c.key == p).best / 1e9
        gflops = case.meta["flops"] * batch / case.best / 1e9
        out[p] = {"samples_per_s": round(batch / case.best, 2), "gflop_per_s": round(gflops, 1),
                  "matmul_peak_gflop_per_s": round(peak, 1),
                  "percent_of_peak": round(100 * gflops / peak, 1)}  # fmt: skip
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer items, for a smoke test")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--model", default="emonet-wrn")
    parser.add_argument("--emoset", type=Path, default=None, help="reuse a prepared EmoSet")
    parser.add_argument(
        "--precision",
        nargs="+",
        default=["32-true", "bf16-mixed"],
        choices=["32-true", "bf16-mixed"],
        help="bf16-mixed only where the CPU has native bfloat16 (AMX, AVX-512-BF16)",
    )
    args = parser.parse_args()
    threads = torch.get_num_threads()
    tmp = Path(tempfile.mkdtemp(prefix="emonet-train-bench-"))
    data = args.emoset or emoset(tmp / "emoset")
    limit = 64 if args.quick else 4 * args.batch
    base = {
        "seed": 0,
        "eval_every": 1000,  # throughput runs: no devel scoring inside the epoch timing
        "model": {"name": args.model},
        "data": {"emoset": str(data), "batch_size": args.batch, "window": 6.0, "limit": limit},
        "optim": {"schedule": "reference", "lr_stages": [0.01], "max_epochs": 2, "patience": 100},
        "engine": {"threads": threads},
    }

    def cfg(mode: str, corpora: list[str], precision: str, **data) -> dict:
        c = json.loads(json.dumps(base))
        c.update(mode=mode)
        c["data"].update(corpora=corpora, **data)
        c["engine"]["precision"] = precision
        return c

    rows, epochs = [], []
    load0 = os.getloadavg()
    # a source checkpoint for the transfer modes (its quality does not matter for speed)
    source = tmp / "source"
    train(config_from_dict({**cfg("multi", ["ravdess", "urdu"], "32-true", window=2.0),
                            "out": str(source), "optim": {**base["optim"], "max_epochs": 1},
                            "multi": {"steps_per_epoch": 1}}), show_progress=False)  # fmt: skip
    init = str(source / "checkpoints" / "last")
    for precision in args.precision:
        for mode in ("scratch", "adapters", "finetune", "last-layer"):
            c = cfg(mode, ["emodb"], precision)
            if mode != "scratch":
                c["init"] = init
            r = run(tmp, f"{mode}-{precision}", c)
            rows.append({"mode": mode, "precision": precision, "window_s": 6.0, **r})
        c = cfg("multi", ["emodb", "ravdess", "urdu"], precision, window=2.0)
        c["multi"] = {"steps_per_epoch": 2 if args.quick else 4}
        r = run(tmp, f"multi-{precision}", c)
        rows.append({"mode": "multi", "precision": precision, "window_s": 2.0, **r})
    # whole epochs: full EmoDB (scratch, with devel scoring) and one round-robin epoch
    full = cfg("scratch", ["emodb"], "32-true", limit=None)
    full.update(eval_every=1)
    full["optim"]["max_epochs"] = 1
    epochs.append({"what": "scratch, full EmoDB (train + devel scoring), fp32",
                   **run(tmp, "epoch-emodb", full)})  # fmt: skip
    rr = cfg("multi", ["emodb", "ravdess", "urdu"], "32-true", window=2.0, limit=None)
    rr.update(eval_every=1)
    rr["optim"]["max_epochs"] = 1
    each = 5 if args.quick else 20
    rr["multi"] = {"steps_per_epoch": each}
    epochs.append({"what": f"multi round-robin epoch over EmoDB+RAVDESS+URDU ({each} steps each), "
                           "fp32", **run(tmp, "epoch-multi", rr)})  # fmt: skip
    short = ["bf16" if p == "bf16-mixed" else "fp32" for p in args.precision]
    bare = bare_steps(args.model, args.batch, 2 if args.quick else 4, short)
    for r in rows:
        if r["mode"] == "scratch":
            key = "bf16" if r["precision"] == "bf16-mixed" else "fp32"
            r["bare_samples_per_s"] = bare[key]["samples_per_s"]
            r["loop_vs_bare"] = round(r["samples_per_s"] / bare[key]["samples_per_s"], 3)
    load1 = os.getloadavg()
    shutil.rmtree(tmp, ignore_errors=True)
    scratch32 = next(r for r in rows if r["mode"] == "scratch" and r["precision"] == "32-true")
    result = {
        "quick": args.quick,
        "machine": {"cpu_count": os.cpu_count(), "threads": threads, "torch": torch.__version__,
                    "platform": platform.platform(), "cpu": cpu_name(), "loadavg_before": load0,
                    "cpu_capability": torch.backends.cpu.get_cpu_capability(),
                    "loadavg_after": load1},
        "settings": {"model": args.model, "batch": args.batch, "items_per_partition": limit},
        "throughput": rows,
        "bare_step": bare,
        "epochs": epochs,
        "reference_fp32_samples_per_s": REFERENCE_FP32,
        "scratch_fp32_vs_reference": round(scratch32["samples_per_s"] / REFERENCE_FP32, 2),
    }  # fmt: skip
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "train.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = [
        f"# Training throughput ({args.model}, batch {args.batch}, {threads} threads, "
        f"{cpu_name()}, {torch.backends.cpu.get_cpu_capability()})",
        "",
        f"Load average before {load0[0]:.2f}, after {load1[0]:.2f} (other work on the machine "
        "slows every row alike). Samples/s and data-wait share are of the last epoch of each "
        "short run, from the training loop's own timing.",
        "",
        "| mode | precision | window s | samples/s | data wait | epoch s |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(f"| {r['mode']} | {r['precision']} | {r['window_s']} | "
                     f"{r['samples_per_s']} | {100 * r['data_share']:.1f} % | "
                     f"{r['epoch_seconds']} |")  # fmt: skip
    lines += [
        "",
        "| scratch, 6-s windows | loop samples/s | bare step samples/s | loop / bare "
        "| bare GFLOP/s | % of matmul peak (same run) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        if "loop_vs_bare" in r:
            b = bare["bf16" if r["precision"] == "bf16-mixed" else "fp32"]
            lines.append(f"| {r['precision']} | {r['samples_per_s']} | {b['samples_per_s']} | "
                         f"{r['loop_vs_bare']:.2f}× | {b['gflop_per_s']} | "
                         f"{b['percent_of_peak']} % |")  # fmt: skip
    bf = {r["mode"]: r["samples_per_s"] for r in rows if r["precision"] == "bf16-mixed"}
    fp = {r["mode"]: r["samples_per_s"] for r in rows if r["precision"] == "32-true"}
    if bf and fp:
        lines += ["", "| mode | bf16 / fp32 |", "|---|---:|"]
        lines += [f"| {m} | {bf[m] / fp[m]:.2f}× |" for m in fp]
    lines += ["", "| whole epoch | seconds | steps | samples/s | data wait |",
              "|---|---:|---:|---:|---:|"]  # fmt: skip
    for e in epochs:
        lines.append(f"| {e['what']} | {e['epoch_seconds']} | {e['steps']} | "
                     f"{e['samples_per_s']} | {100 * e['data_share']:.1f} % |")  # fmt: skip
    lines += ["", f"Scratch fp32 against the TF reference's {REFERENCE_FP32} samples/s (6-s "
              f"windows, batch 64): **{result['scratch_fp32_vs_reference']}×**. The reference "
              "was measured on a 2-core AVX-512/AMX Xeon: on another CPU this ratio compares "
              "machines as much as code; the loop / bare ratio above does not."]  # fmt: skip
    (out / "train.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def cpu_name() -> str:
    """The CPU's model name (Linux), else what :mod:`platform` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


if __name__ == "__main__":
    main()
