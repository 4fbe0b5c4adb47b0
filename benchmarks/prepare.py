"""Benchmark ``prepare`` on RAVDESS with 1 and 2 worker processes (files/s, audio-seconds/s).

Writes ``benchmarks/results/prepare.json`` and ``prepare.md``. The ratio of the two runs shows
whether decoding/resampling really runs in parallel.

    python benchmarks/prepare.py [--source ../shared/corpora/ravdess] [--corpus ravdess]
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

from emonet.corpora.prepare import prepare

HERE = Path(__file__).resolve().parent
DEFAULT_SOURCE = HERE.parent.parent / "shared" / "corpora" / "ravdess"


def run(corpus: str, source: Path, workers: int) -> dict:
    """One full prepare into a fresh folder; wall time, files/s, audio-s/s."""
    out = Path(tempfile.mkdtemp(prefix="emonet-bench-"))
    try:
        t0 = time.perf_counter()
        res = prepare(corpus, source, out, workers=workers, show_progress=False)
        dt = time.perf_counter() - t0
    finally:
        shutil.rmtree(out, ignore_errors=True)
    return {
        "workers": workers,
        "files": res.items,
        "audio_seconds": round(res.audio_seconds, 1),
        "wall_seconds": round(dt, 2),
        "files_per_s": round(res.items / dt, 1),
        "audio_seconds_per_s": round(res.audio_seconds / dt, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", default="ravdess")
    ap.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    ap.add_argument("--out", type=Path, default=HERE / "results")
    args = ap.parse_args()
    rows = [run(args.corpus, args.source, w) for w in (1, 2)]
    speedup = rows[0]["wall_seconds"] / rows[1]["wall_seconds"]
    result = {
        "benchmark": "prepare",
        "corpus": args.corpus,
        "machine": {
            "cpus": os.cpu_count(),
            "processor": platform.processor() or platform.machine(),
        },
        "runs": rows,
        "speedup_2_vs_1_workers": round(speedup, 2),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "prepare.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = [
        f"# prepare on {args.corpus} ({rows[0]['files']} files, {rows[0]['audio_seconds']:.0f} s of audio)",
        "",
        "| workers | wall s | files/s | audio-s/s |",
        "|---:|---:|---:|---:|",
        *(
            f"| {r['workers']} | {r['wall_seconds']} | {r['files_per_s']} | {r['audio_seconds_per_s']} |"
            for r in rows
        ),
        "",
        f"Speed-up with 2 workers over 1: **{speedup:.2f}×** on {os.cpu_count()} CPU cores.",
        "",
    ]
    (args.out / "prepare.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
