"""Benchmark the model: log-mel front end vs librosa, forward and training throughput of the default
model (fp32 and bf16 autocast, 6-s and 2-s windows), achieved GFLOP/s against the machine's
measured matmul peak, and batch-1 latency.

Writes ``benchmarks/results/model.json`` and ``model.md``. Medians of repeated runs after a
warm-up; the peak is measured in the same run, so ratios stay meaningful on a busy machine (the
load average before and after is recorded: other processes on the machine slow everything).

    python benchmarks/model.py [--quick] [--batch 64] [--threads N] [--tune-malloc]

``--tune-malloc`` tells glibc to keep freed memory instead of returning it to the kernel (no
``mmap`` for large blocks), so the large activation tensors of every step are not page-faulted
in afresh; see docs/model.md.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from emonet.model import LogMel, create_model

HERE = Path(__file__).resolve().parent
SR = 16_000
REFERENCE = {  # DESIGN.md: TF 2.21 reference on a 2-core AVX-512/AMX Xeon, batch 64, 6-s windows
    "train_fp32_samples_per_s": 17.0,
    "train_adapters_fp32_samples_per_s": 18.8,
    "infer_fp32_samples_per_s": 59.5,
    "latency_ms_graph": 23.9,
    "latency_ms_eager": 65.0,
    "frontend_audio_s_per_s": 8600.0,
    "librosa_audio_s_per_s": 4100.0,
}


def tune_malloc() -> bool:
    """glibc: no mmap for large blocks and no trimming, so freed activations are reused."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    m_trim_threshold, m_mmap_max = -1, -4
    return bool(libc.mallopt(m_mmap_max, 0)) and bool(libc.mallopt(m_trim_threshold, 1 << 40))


def autocast_for(precision: str) -> torch.autocast:
    """bf16 autocast on the CPU, or a disabled autocast for fp32."""
    return torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16")


def timeit(fn: Callable[[], object], repeats: int, warmup: int = 1) -> float:
    """Median wall time of ``fn`` in seconds after ``warmup`` calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def matmul_peak(dtype: torch.dtype, n: int = 4096, repeats: int = 5) -> float:
    """GFLOP/s of an n×n×n matmul (the machine's practical peak for that dtype)."""
    a, b = torch.randn(n, n).to(dtype), torch.randn(n, n).to(dtype)
    return 2 * n**3 / timeit(lambda: torch.mm(a, b), repeats) / 1e9


def bench_frontend(batch: int, seconds: float, repeats: int) -> dict:
    """Audio-seconds per second of our log-mel and of librosa with the same settings."""
    import librosa

    x = torch.randn(batch, round(seconds * SR)) * 0.1
    lengths = torch.full((batch,), x.shape[1])
    fe = LogMel()
    ours = timeit(lambda: fe(x, lengths), repeats)
    xn = x.numpy()

    def with_librosa():
        return librosa.feature.melspectrogram(
            y=xn, sr=SR, n_fft=1024, hop_length=512, center=False, power=2.0, n_mels=128,
            fmin=20, fmax=8000, htk=True, norm=None,
        )  # fmt: skip

    theirs = timeit(with_librosa, max(2, repeats // 2))
    audio = batch * seconds
    return {
        "batch": batch,
        "seconds": seconds,
        "ours_ms": round(ours * 1e3, 2),
        "librosa_ms": round(theirs * 1e3, 2),
        "ours_audio_s_per_s": round(audio / ours),
        "librosa_audio_s_per_s": round(audio / theirs),
        "ratio": round(theirs / ours, 2),
    }


def count_flops(model, seconds: float, train: bool) -> dict:
    """Convolution and matmul FLOPs per sample (FlopCounterMode on a batch of 2)."""
    from torch.utils.flop_counter import FlopCounterMode

    x = torch.randn(2, round(seconds * SR))
    model.train(train)
    counter = FlopCounterMode(display=False)
    with counter:
        out = model(x, None, "bench")
        if train:
            out.float().sum().backward()
    model.zero_grad(set_to_none=True)
    per_op = {str(k): v / 2 for k, v in counter.get_flop_counts()["Global"].items()}
    conv = sum(v for k, v in per_op.items() if "convolution" in k)
    return {"total": sum(per_op.values()), "conv": conv, "by_op": per_op}


def bench_model(
    name: str, seconds: float, batch: int, repeats: int, mode: str = "scratch", **overrides
) -> list[dict]:
    """Forward (eval, no grad) and training step (fwd + bwd + SGD) in fp32 and bf16 autocast."""
    torch.manual_seed(0)
    model = create_model(name, window=seconds, **overrides)
    model.add_corpus("bench", [f"c{i}" for i in range(7)])
    if mode != "scratch":
        model.add_corpus("new", [f"c{i}" for i in range(7)])
        model.set_mode(mode, "new")
        corpus = "new"
    else:
        model.set_mode("scratch", "bench")
        corpus = "bench"
    x = torch.randn(batch, round(seconds * SR)) * 0.1
    lengths = torch.full((batch,), x.shape[1])
    y = torch.randint(0, 7, (batch,))
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.SGD(params, lr=0.01, momentum=0.9)
    flops_fwd = count_flops(model, seconds, train=False)["total"] if mode == "scratch" else None
    flops_train = count_flops(model, seconds, train=True)["total"] if mode == "scratch" else None
    rows = []
    for precision in ("fp32", "bf16"):

        def step(precision: str = precision) -> None:
            with autocast_for(precision):
                loss = torch.nn.functional.cross_entropy(model(x, lengths, corpus).float(), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()

        def forward(precision: str = precision) -> None:
            with torch.no_grad(), autocast_for(precision):
                model(x, lengths, corpus)

        for kind, fn, flops in (("forward", forward, flops_fwd), ("train", step, flops_train)):
            if mode != "scratch" and kind == "forward":
                continue
            model.train(kind == "train")
            dt = timeit(fn, repeats)
            row = {
                "model": name,
                "mode": mode,
                "seconds": seconds,
                "batch": batch,
                "precision": precision,
                "kind": kind,
                "step_s": round(dt, 3),
                "samples_per_s": round(batch / dt, 2),
            }
            if flops:
                row["gflop_per_sample"] = round(flops / 1e9, 3)
                row["gflop_per_s"] = round(flops * batch / dt / 1e9, 1)
            rows.append(row)
            print(row, flush=True)
    return rows


def bench_latency(name: str, repeats: int) -> list[dict]:
    """Batch-1 latency of one 6-s clip (eval, no grad), fp32 and bf16."""
    model = create_model(name)
    model.add_corpus("bench", [f"c{i}" for i in range(7)])
    model.eval()
    x = torch.randn(1, 6 * SR) * 0.1
    rows = []
    for precision in ("fp32", "bf16"):

        def once(precision: str = precision) -> None:
            with torch.no_grad(), autocast_for(precision):
                model(x, None, "bench")

        dt = timeit(once, repeats * 5, warmup=3)
        rows.append({"precision": precision, "latency_ms": round(dt * 1e3, 1)})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="Batch 16, fewer repeats, 6-s only.")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--model", default="emonet-wrn")
    ap.add_argument("--tune-malloc", action="store_true", help="Keep freed memory (glibc).")
    ap.add_argument("--out", type=Path, default=HERE / "results")
    args = ap.parse_args()
    tuned = tune_malloc() if args.tune_malloc else False
    if args.threads:
        torch.set_num_threads(args.threads)
    batch = 16 if args.quick else args.batch
    repeats = 2 if args.quick else 3
    load_before = os.getloadavg()
    t_start = time.time()

    peaks = {"fp32": matmul_peak(torch.float32), "bf16": matmul_peak(torch.bfloat16)}
    print("matmul peak GFLOP/s", peaks, flush=True)
    frontend = bench_frontend(64, 6.0, 5 if not args.quick else 3)
    print("front end", frontend, flush=True)
    rows = []
    for seconds in (6.0,) if args.quick else (6.0, 2.0):
        # the reference's single-corpus model has no adapters
        rows += bench_model(args.model, seconds, batch, repeats, adapters=False)
    rows += bench_model(args.model, 6.0, batch, repeats, mode="adapters")
    latency = bench_latency(args.model, repeats)
    peaks_after = {"fp32": matmul_peak(torch.float32)}
    for row in rows:
        if "gflop_per_s" in row:
            row["percent_of_peak"] = round(100 * row["gflop_per_s"] / peaks[row["precision"]], 1)
            row["percent_of_fp32_peak"] = round(100 * row["gflop_per_s"] / peaks["fp32"], 1)

    def find(kind: str, precision: str, seconds: float = 6.0, mode: str = "scratch") -> dict:
        return next(
            r
            for r in rows
            if (r["kind"], r["precision"], r["seconds"], r["mode"])
            == (kind, precision, seconds, mode)
        )

    summary = {
        "frontend_vs_librosa": frontend["ratio"],
        "train_fp32_samples_per_s": find("train", "fp32")["samples_per_s"],
        "train_bf16_samples_per_s": find("train", "bf16")["samples_per_s"],
        "train_fp32_percent_of_fp32_peak": find("train", "fp32")["percent_of_peak"],
        "bf16_over_fp32_train": round(
            find("train", "bf16")["samples_per_s"] / find("train", "fp32")["samples_per_s"], 2
        ),
        "forward_fp32_samples_per_s": find("forward", "fp32")["samples_per_s"],
        "forward_bf16_samples_per_s": find("forward", "bf16")["samples_per_s"],
        "train_fp32_vs_reference": round(
            find("train", "fp32")["samples_per_s"] / REFERENCE["train_fp32_samples_per_s"], 2
        ),
        "train_bf16_vs_reference": round(
            find("train", "bf16")["samples_per_s"] / REFERENCE["train_fp32_samples_per_s"], 2
        ),
    }
    result = {
        "benchmark": "model",
        "machine": {
            "cpus": os.cpu_count(),
            "threads": torch.get_num_threads(),
            "processor": platform.processor() or platform.machine(),
            "torch": torch.__version__,
            "load_average_before": [round(v, 2) for v in load_before],
            "load_average_after": [round(v, 2) for v in os.getloadavg()],
            "malloc_tuned": tuned,
        },
        "quick": args.quick,
        "matmul_peak_gflop_per_s": {k: round(v, 1) for k, v in peaks.items()},
        "matmul_peak_fp32_at_end": round(peaks_after["fp32"], 1),
        "frontend": frontend,
        "runs": rows,
        "latency_batch1_6s": latency,
        "summary": summary,
        "reference": REFERENCE,
        "wall_seconds": round(time.time() - t_start, 1),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "model.json").write_text(json.dumps(result, indent=2) + "\n")
    md = markdown(result)
    (args.out / "model.md").write_text(md)
    print(md)


def markdown(r: dict) -> str:
    """The result as a markdown report."""
    m, fe, s = r["machine"], r["frontend"], r["summary"]
    lines = [
        f"# Model benchmark ({r['runs'][0]['model']}, batch {r['runs'][0]['batch']})",
        "",
        f"{m['cpus']} CPUs ({m['processor']}), {m['threads']} threads, torch {m['torch']}, "
        f"malloc tuned: {m['malloc_tuned']}; load average before/after "
        f"{m['load_average_before'][0]} / {m['load_average_after'][0]} (other processes slow "
        "every number down). Medians after a warm-up.",
        "",
        f"Matmul peak (4096²): fp32 **{r['matmul_peak_gflop_per_s']['fp32']} GFLOP/s** "
        f"({r['matmul_peak_fp32_at_end']} at the end of the run), bf16 "
        f"**{r['matmul_peak_gflop_per_s']['bf16']} GFLOP/s**.",
        "",
        "## Front end (64 × 6 s)",
        "",
        "| | ms | audio-s/s |",
        "|---|---:|---:|",
        f"| EmoNet LogMel | {fe['ours_ms']} | {fe['ours_audio_s_per_s']:,} |",
        f"| librosa (same settings) | {fe['librosa_ms']} | {fe['librosa_audio_s_per_s']:,} |",
        "",
        f"Ratio **{fe['ratio']}×** librosa (target ≥ 2×; the TF reference: 8,600 vs 4,100).",
        "",
        "## Throughput",
        "",
        "| mode | window | precision | pass | samples/s | GFLOP/sample | GFLOP/s | % of peak (same dtype) | % of fp32 peak |",
        "|---|---:|---|---|---:|---:|---:|---:|---:|",
    ]
    for row in r["runs"]:
        lines.append(
            f"| {row['mode']} | {row['seconds']:g} s | {row['precision']} | {row['kind']} | "
            f"{row['samples_per_s']} | {row.get('gflop_per_sample', '')} | "
            f"{row.get('gflop_per_s', '')} | {row.get('percent_of_peak', '')} | "
            f"{row.get('percent_of_fp32_peak', '')} |"
        )
    lat = {x["precision"]: x["latency_ms"] for x in r["latency_batch1_6s"]}
    lines += [
        "",
        f"Batch-1 latency, one 6-s clip: fp32 {lat['fp32']} ms, bf16 {lat['bf16']} ms "
        "(reference: 23.9 ms graph / 65 ms eager).",
        "",
        "## Against the targets and the TF reference (17.0 samples/s fp32 training)",
        "",
        f"- front end: {s['frontend_vs_librosa']}× librosa (target ≥ 2×)",
        f"- training fp32: {s['train_fp32_samples_per_s']} samples/s = "
        f"{s['train_fp32_percent_of_fp32_peak']} % of the fp32 matmul peak (target ≥ 40 %), "
        f"{s['train_fp32_vs_reference']}× the reference",
        f"- training bf16: {s['train_bf16_samples_per_s']} samples/s = {s['bf16_over_fp32_train']}× "
        f"fp32 (target ≥ 1.5×), {s['train_bf16_vs_reference']}× the reference",
        f"- forward: fp32 {s['forward_fp32_samples_per_s']}, bf16 {s['forward_bf16_samples_per_s']} "
        "samples/s (reference fp32 inference: 59.5)",
        "",
        f"Run time {r['wall_seconds']} s.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    np.random.seed(0)
    main()
