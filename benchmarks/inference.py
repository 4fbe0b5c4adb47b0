"""Benchmark inference: real-time factor of PyTorch eager vs ONNX Runtime, and peak memory of a
long recording.

Real-time factor (RTF) = compute time / audio duration, for 10-s clips with the default model
(``emonet-wrn``: avgpool head over 6-s windows with 50 % hop, so a 10-s clip is 3 windows;
untrained weights, which cost the same as trained ones), on 1 and 2 threads, batch 1 and 32.
Peak memory is the peak RSS (``VmHWM``) of a fresh process that predicts a generated 10-minute file with
``window``/``hop`` segments (streamed), next to one that only loads the model and one that decodes
the whole file at once.

Writes ``benchmarks/results/inference.json`` and ``inference.md``.

    python benchmarks/inference.py [--reps 10] [--skip-memory]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from emonet.runtime import keep_freed_memory

HERE = Path(__file__).resolve().parent
CLIP_SECONDS = 10.0
SR = 16_000
LABELS = ["anger", "boredom", "disgust", "fear", "happiness", "sadness", "neutral"]


def build_model():
    """emonet-wrn with one 7-label corpus, in eval mode."""
    from emonet.model import create_model

    torch.manual_seed(0)
    model = create_model("emonet-wrn")
    model.add_corpus("emodb", LABELS)
    return model.eval()


def clips(batch: int) -> tuple[np.ndarray, np.ndarray]:
    """``batch`` clips of 10 s of noise (the cost does not depend on the content)."""
    rng = np.random.default_rng(batch)
    n = int(CLIP_SECONDS * SR)
    waves = (rng.standard_normal((batch, n)) * 0.1).astype(np.float32)
    return waves, np.full(batch, n, dtype=np.int64)


def speed(model, onnx_path: Path, threads: int, batch: int, reps: int) -> list[dict]:
    """Median and best time and RTF of eager PyTorch and ONNX Runtime for one thread count and
    batch size; the two engines' calls alternate so that both see the same background load."""
    from emonet.infer.export import onnx_session

    waves, lengths = clips(batch)
    tw, tl = torch.from_numpy(waves), torch.from_numpy(lengths)
    torch.set_num_threads(threads)

    def eager():
        with torch.inference_mode():
            logits = model.predict_logits(tw, tl, "emodb")
            torch.softmax(logits, -1)

    session = onnx_session(onnx_path, threads=threads)

    def ort():
        session.run(None, {"waves": waves, "lengths": lengths})

    engines = {"pytorch-eager": eager, "onnxruntime": ort}
    times: dict[str, list[float]] = {name: [] for name in engines}
    for fn in engines.values():
        for _ in range(1 if batch > 1 else 3):
            fn()  # warm-up
    for _ in range(max(3, reps // 4) if batch > 1 else reps):
        for name, fn in engines.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    rows = []
    for name, ts in times.items():
        med, best = statistics.median(ts), min(ts)
        audio_s = batch * CLIP_SECONDS
        rows.append(
            {
                "engine": name,
                "threads": threads,
                "batch": batch,
                "calls": len(ts),
                "median_s": round(med, 4),
                "best_s": round(best, 4),
                "rtf": round(med / audio_s, 5),
                "rtf_best": round(best / audio_s, 5),
                "ms_per_clip": round(1000 * med / batch, 1),
            }
        )
    return rows


MEMORY_SCRIPT = r"""
import sys, time
mode, ckpt, path = sys.argv[1:4]
import torch
torch.set_num_threads(2)
from emonet.infer import Predictor
t0 = time.perf_counter()
rows = 0
if mode == "segments":
    rows = len(Predictor(ckpt, window=6.0, hop=3.0, batch_size=16).predict_file(path))
elif mode == "whole":
    rows = len(Predictor(ckpt, batch_size=16).predict_file(path))
# VmHWM: peak RSS of this process image (ru_maxrss would carry the parent's over fork + exec)
hwm = [line for line in open("/proc/self/status") if line.startswith("VmHWM")][0].split()[1]
print(rows, round(time.perf_counter() - t0, 2), hwm)
"""

MEMORY_CASES = (
    ("model-only", "short", "load the model only"),
    ("segments", "short", "predict a 1-minute file in segments (window 6 s, hop 3 s)"),
    ("segments", "long", "predict the long file in segments, streamed (window 6 s, hop 3 s)"),
    ("whole", "long", "predict the long file whole (decoded at once, all windows scored)"),
)
"""(mode, file, description): segments are scored 16 at a time, so the 1-minute file already
fills the batches and the long file shows what its length adds (nothing, if streaming works)."""


def memory(model, minutes: float) -> dict:
    """Peak RSS (MB) of fresh processes predicting a 10-s and a long file (see MEMORY_CASES)."""
    import soundfile as sf

    from emonet.model import save_checkpoint

    with tempfile.TemporaryDirectory(prefix="emonet-bench-") as tmp:
        ckpt = save_checkpoint(model, Path(tmp) / "ckpt")
        files = {"short": Path(tmp) / "short.wav", "long": Path(tmp) / "long.wav"}
        rng = np.random.default_rng(0)
        for name, seconds in (("short", 60), ("long", minutes * 60)):
            with sf.SoundFile(files[name], "w", SR, 1, subtype="PCM_16") as f:
                for _ in range(int(seconds)):
                    f.write((rng.standard_normal(SR) * 0.05).astype(np.float32))
        out = {"file_minutes": minutes, "file_mb_float32": round(minutes * 60 * SR * 4 / 1e6, 1)}
        cases = []
        for mode, which, what in MEMORY_CASES:
            res = subprocess.run(
                [sys.executable, "-c", MEMORY_SCRIPT, mode, str(ckpt), str(files[which])],
                check=True,
                capture_output=True,
                text=True,
            )
            rows, seconds, hwm_kb = res.stdout.split()[-3:]
            cases.append(
                {
                    "what": what,
                    "mode": mode,
                    "file": which,
                    "rows": int(rows),
                    "seconds": float(seconds),
                    "peak_rss_mb": round(int(hwm_kb) / 1024, 1),
                }
            )
        out["cases"] = cases
    return out


def main() -> None:
    keep_freed_memory()  # as emonet.infer.Predictor does on the CPU
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=10, help="timed calls at batch 1 (fewer at 32)")
    ap.add_argument("--minutes", type=float, default=10.0, help="length of the long file")
    ap.add_argument("--skip-memory", action="store_true")
    ap.add_argument("--out", type=Path, default=HERE / "results")
    args = ap.parse_args()

    import onnxruntime

    from emonet.infer.export import export_onnx

    load_before = [round(x, 2) for x in os.getloadavg()]
    model = build_model()
    with tempfile.TemporaryDirectory(prefix="emonet-bench-") as tmp:
        t0 = time.perf_counter()
        onnx_path = export_onnx(model, Path(tmp) / "emonet-wrn.onnx", corpus="emodb")
        export_s = time.perf_counter() - t0
        runs = []
        for threads in (1, 2):
            for batch in (1, 32):
                runs += speed(model, onnx_path, threads, batch, args.reps)
                print(runs[-2], runs[-1], sep="\n", flush=True)
    mem = None if args.skip_memory else memory(model, args.minutes)
    result = {
        "benchmark": "inference",
        "model": "emonet-wrn (avgpool head, 6-s windows, 50 % hop; 7 labels; untrained)",
        "clip_seconds": CLIP_SECONDS,
        "machine": {
            "cpus": os.cpu_count(),
            "processor": platform.processor() or platform.machine(),
            "load_average_at_start": load_before,
            "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        },
        "versions": {"torch": torch.__version__, "onnxruntime": onnxruntime.__version__},
        "export_seconds": round(export_s, 1),
        "runs": runs,
        "memory": mem,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "inference.json").write_text(json.dumps(result, indent=2) + "\n")
    md = markdown(result)
    (args.out / "inference.md").write_text(md)
    print(md)


def markdown(result: dict) -> str:
    """The results as a markdown page."""
    runs = result["runs"]
    by = {(r["engine"], r["threads"], r["batch"]): r for r in runs}
    lines = [
        f"# Inference speed and memory ({result['model']})",
        "",
        f"10-s clips; real-time factor (RTF) = compute time / audio duration. "
        f"{result['machine']['cpus']} CPU cores ({result['machine']['processor']}), "
        f"torch {result['versions']['torch']}, onnxruntime {result['versions']['onnxruntime']}; "
        f"load average (1, 5, 15 min) at the start {result['machine']['load_average_at_start']}, "
        f"at the end {result['machine']['load_average_at_end']} (other jobs share the cores).",
        "",
        "Median (best) of alternating calls; the speed-up compares medians.",
        "",
        *(
            [
                "**The cores were shared** (load average above 1 at the start): times are upper "
                "bounds, and 2 threads suffer most (a busy core stalls every parallel region). "
                "Rerun on an idle machine for clean numbers.",
                "",
            ]
            if result["machine"]["load_average_at_start"][0] > 1
            else []
        ),
        "| threads | batch | PyTorch eager RTF | ONNX Runtime RTF | ms/clip eager | ms/clip ORT | ORT speed-up |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for threads in (1, 2):
        for batch in (1, 32):
            e, o = by[("pytorch-eager", threads, batch)], by[("onnxruntime", threads, batch)]
            lines.append(
                f"| {threads} | {batch} | {e['rtf']:.4f} ({e['rtf_best']:.4f}) | "
                f"{o['rtf']:.4f} ({o['rtf_best']:.4f}) | {e['ms_per_clip']} | {o['ms_per_clip']} | "
                f"{e['median_s'] / o['median_s']:.2f}× |"
            )
    one, best = by[("pytorch-eager", 1, 1)]["rtf"], by[("pytorch-eager", 1, 1)]["rtf_best"]
    lines += [
        "",
        f"Target RTF ≤ 0.01 on one thread: eager batch 1 is **{one:.4f}** median, "
        f"**{best:.4f}** best ({'met' if best <= 0.01 else 'missed'} at best). "
        f"Export took {result['export_seconds']} s.",
        "",
    ]
    mem = result["memory"]
    if mem:
        lines += [
            f"## Peak memory (RSS) with a {mem['file_minutes']:g}-minute file "
            f"({mem['file_mb_float32']} MB as float32)",
            "",
            "Each row is a fresh process (2 threads).",
            "",
            "| process | rows | seconds | peak RSS MB |",
            "|---|---:|---:|---:|",
            *(
                f"| {c['what']} | {c['rows'] or ''} | {c['seconds'] or ''} | {c['peak_rss_mb']} |"
                for c in mem["cases"]
            ),
            "",
        ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
