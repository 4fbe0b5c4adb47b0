"""GPU benchmark and check of the training engine (one CUDA GPU, at most ~6 minutes).

Needs only generated audio (a GPU check machine takes at most 64 MiB with it). In one run:

1. every mode (scratch, multi, finetune, last-layer, adapters) trains a few steps on CUDA in
   bf16-mixed and 32-true through the real ``emonet.train.train``;
2. a CUDA-trained checkpoint loads on the CPU with the same logits, and a CUDA run killed with
   SIGKILL resumes on the CPU;
3. (a) the bare model's training step (forward, backward, SGD step) at batch 64 and 256, bf16 and
   fp32/TF32, on device-resident random audio; (b) the real loop (``train``, data on the device)
   at the same batches: samples/s and data-wait share, and with ``engine.compile``;
   (c) achieved TFLOP/s against the matmul peak measured in the same run; (d) the loop with the
   CPU table's training options (augmentation and the weight average) beside the plain loop.

Writes ``benchmarks/results/gpu.json`` and ``gpu.md`` after every part (and copies them to
``$OUT`` when set), so a run cut short keeps what it measured; a failing part records its
traceback and the next one runs. ``--only PARTS`` reruns some parts into the existing results.
On the GPU check machine (no network, no soundfile, soxr or lightning-fabric), fetch their wheels
here once with ``benchmarks/gpu_wheels.sh`` and run ``benchmarks/gpu_session.sh`` there with
``.whl`` carried: it installs them and runs this script.

    python benchmarks/gpu.py [--model emonet-wrn-attention] [--quick] [--no-compile]
                             [--only resume,throughput]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

import numpy as np
import pandas as pd
import torch

HERE = Path(__file__).resolve().parent
SR = 16_000
LABELS = ("anger", "happiness", "neutral", "sadness")
PARTS = ("modes", "cross_device", "resume", "cli", "throughput", "compile", "options")
DEVICE = "cuda"  # --device cpu runs the same script as a (slow) smoke test of its logic


def make_emoset(root: Path, corpora: int, items: int, seconds: float) -> Path:
    """Generated corpora (harmonic tones with noise, a pitch per label) prepared as an EmoSet."""
    from emonet import audio
    from emonet.corpora.prepare import prepare

    rng = np.random.default_rng(0)
    emoset = root / "emoset"
    for c in range(corpora):
        source = root / "sources" / f"gen{c}"
        for i in range(items):
            label = LABELS[i % len(LABELS)]
            n = int(SR * rng.uniform(seconds, seconds + 1.5))
            t = np.arange(n) / SR
            f0 = 110 * (1 + LABELS.index(label) * 0.25) * rng.uniform(0.9, 1.1)
            x = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 6)) * 0.1
            x = (x + rng.normal(0, 0.01, n)).astype(np.float32)
            path = source / label / f"s{i % 8:02d}_{label}_{i:04d}.wav"
            path.parent.mkdir(parents=True, exist_ok=True)
            audio.write(path, x, SR)
        prepare("folders", source, emoset, name=f"gen{c}", workers=os.cpu_count() or 2,
                show_progress=False)  # fmt: skip
    return emoset


def base_config(emoset: Path, out: Path, model: str, **extra) -> dict:
    cfg = {
        "mode": "scratch", "out": str(out), "seed": 0, "eval_every": 1,
        "data": {"emoset": str(emoset), "corpora": ["gen0"], "window": 6.0, "batch_size": 64,
                 "eval_batch_size": 128},
        "model": {"name": model},
        "optim": {"schedule": "cosine", "lr": 0.002, "max_epochs": 1, "warmup_epochs": 0},
        "engine": {"accelerator": DEVICE, "precision": "bf16-mixed"},
    }  # fmt: skip
    for key, value in extra.items():
        section, _, name = key.partition("__")
        if name:
            cfg.setdefault(section, {})[name] = value
        else:
            cfg[key] = value
    return cfg


def train_run(cfg: dict) -> pd.DataFrame:
    from emonet.train.config import config_from_dict
    from emonet.train.loop import train

    shutil.rmtree(cfg["out"], ignore_errors=True)
    run = train(config_from_dict(cfg), show_progress=False)
    return pd.read_csv(run / "metrics.csv")


def every_mode(emoset: Path, root: Path, model: str) -> list[dict]:
    """A few steps of each mode in bf16 and fp32 on CUDA, through the real loop; and scratch
    training distilled from the scratch run (its teacher on the device too)."""
    rows = []
    for precision in ("bf16-mixed", "32-true"):
        tag = precision.split("-")[0]
        multi = root / f"modes-{tag}-multi"
        plan = [
            ("scratch", "scratch", {}),
            ("multi", "multi", {"data__corpora": ["gen0", "gen1"], "multi__steps_per_epoch": 3}),
        ] + [
            (mode, mode, {"init": str(multi / "checkpoints" / "last"), "data__corpora": ["gen2"]})
            for mode in ("finetune", "last-layer", "adapters")
        ] + [("scratch + distill", "scratch",
              {"distill__teachers": [str(root / f"modes-{tag}-scratch")]})]  # fmt: skip
        for label, mode, extra in plan:
            out = root / f"modes-{tag}-{label.replace(' + ', '-')}"
            cfg = base_config(emoset, out, model, mode=mode, data__limit=128,
                              data__batch_size=16, engine__precision=precision,
                              **extra)  # fmt: skip
            t0 = time.perf_counter()
            m = train_run(cfg)
            rows.append({"mode": label, "precision": precision, "steps": int(m["step"].max()),
                         "train_loss": float(m["train_loss"].iloc[-1]),
                         "finite": bool(np.isfinite(m["train_loss"]).all()),
                         "seconds": round(time.perf_counter() - t0, 1)})  # fmt: skip
    return rows


def cross_device(emoset: Path, root: Path) -> dict:
    """CUDA checkpoint → CPU logits; a CUDA run killed mid-epoch resumes on the CPU."""
    from emonet.model import load_checkpoint

    cfg = base_config(emoset, root / "xdev", "emonet-tiny", data__limit=96, data__window=2.0,
                      data__batch_size=32, optim__max_epochs=2, engine__precision="32-true")  # fmt: skip
    path = root / "xdev.yaml"
    import yaml

    path.write_text(yaml.safe_dump(cfg))
    sys.path.insert(0, str(HERE.parent / "tests"))
    from faults import train_killed_at_step

    killed = train_killed_at_step(path, 4)
    ckpt = root / "xdev" / "checkpoints" / "last"
    gpu = load_checkpoint(ckpt, device=DEVICE)
    cpu = load_checkpoint(ckpt, device="cpu")
    x = torch.randn(4, 2 * SR) * 0.1
    with torch.no_grad():
        diff = (gpu(x.to(DEVICE), None, "gen0").cpu() - cpu(x, None, "gen0")).abs().max().item()
    resumed = subprocess.run(
        [sys.executable, "-m", "emonet", "train", str(path), "--resume", "--quiet",
         "--set", "engine.accelerator=cpu"], capture_output=True, text=True,
    )  # fmt: skip
    m = pd.read_csv(root / "xdev" / "metrics.csv")
    return {
        "killed_with_sigkill": killed.returncode == -signal.SIGKILL,
        "cuda_vs_cpu_max_abs_logit_diff": diff,
        "resumed_on_cpu_exit_code": resumed.returncode,
        "resumed_on_cpu_error": resumed.stderr.strip()[-300:] if resumed.returncode else "",
        "epochs_logged": sorted(set(m["epoch"])),
    }


def resume_on_cuda(emoset: Path, root: Path) -> dict:
    """The reference schedule on CUDA, straight vs SIGKILLed inside stage 2 and resumed on CUDA.

    With ``engine.deterministic`` the two must end bit-identical, as on the CPU; without it two
    straight runs already differ (cuDNN's and cuBLAS's default kernels are not reproducible),
    which the run measures beside it.
    """
    import yaml

    from emonet.model import load_checkpoint

    sys.path.insert(0, str(HERE.parent / "tests"))
    from faults import train_killed_at_step

    def cfg(name: str, deterministic: bool) -> dict:
        c = base_config(emoset, root / name, "emonet-tiny", data__limit=96, data__window=2.0,
                        data__batch_size=16, engine__precision="32-true",
                        engine__deterministic=deterministic)  # fmt: skip
        c["optim"] = {"schedule": "reference", "lr_stages": [0.02, 0.005, 0.001], "max_epochs": 2,
                      "patience": 100, "weight_decay": 1e-4}  # fmt: skip
        return c

    def max_diff(a: str, b: str) -> float:
        x, y = (load_checkpoint(root / n / "checkpoints" / "last", device="cpu").state_dict()
                for n in (a, b))  # fmt: skip
        return max((x[k] - y[k]).abs().max().item() for k in x if x[k].is_floating_point())

    straight = train_run(cfg("ref-straight", True))
    per_epoch = int(straight.groupby("epoch")["step"].first().iloc[0])
    path = root / "ref-killed.yaml"
    path.write_text(yaml.safe_dump(cfg("ref-killed", True)))
    killed = train_killed_at_step(path, 2 * per_epoch + 1)
    resumed = subprocess.run([sys.executable, "-m", "emonet", "train", str(path), "--resume",
                              "--quiet"], capture_output=True, text=True)  # fmt: skip
    again = pd.read_csv(root / "ref-killed" / "metrics.csv")
    for name in ("ref-default-a", "ref-default-b"):
        train_run(cfg(name, False))
    torch.use_deterministic_algorithms(False)
    cols = ["epoch", "stage", "step", "train_loss", "devel_uar"]
    return {
        "killed_with_sigkill": killed.returncode == -signal.SIGKILL,
        "resumed_exit_code": resumed.returncode,
        "resumed_error": resumed.stderr.strip()[-300:] if resumed.returncode else "",
        "same_metrics_rows": straight[cols].equals(again[cols]),
        "stages": sorted(set(straight["stage"])),
        "max_abs_weight_diff": max_diff("ref-straight", "ref-killed"),
        "two_default_runs_max_abs_weight_diff": max_diff("ref-default-a", "ref-default-b"),
    }


def cli_on_cuda(emoset: Path, root: Path) -> dict:
    """evaluate and predict with --device cuda on a CUDA-trained run, and their CPU twins."""
    run = root / "modes-bf16-scratch"
    clips = sorted((root / "sources" / "gen0").rglob("*.wav"))[:8]
    out: dict = {}
    for device in dict.fromkeys((DEVICE, "cpu")):
        ev = subprocess.run([sys.executable, "-m", "emonet", "evaluate", str(run), str(emoset),
                             "-p", "test", "--device", device, "--out", str(root / f"ev-{device}"),
                             "--quiet"], capture_output=True, text=True)  # fmt: skip
        table = root / f"pred-{device}.csv"
        pr = subprocess.run([sys.executable, "-m", "emonet", "predict", str(run),
                             *map(str, clips), "--device", device, "-o", str(table), "--quiet"],
                            capture_output=True, text=True)  # fmt: skip
        metrics = root / f"ev-{device}" / "metrics.json"
        out[device] = {
            "evaluate_exit_code": ev.returncode,
            "evaluate_error": ev.stderr.strip()[-300:] if ev.returncode else "",
            "evaluate_uar": {c: {p: round(m["uar"], 4) for p, m in per.items()} for c, per in
                             json.loads(metrics.read_text())["results"].items()}
            if metrics.exists() else None,
            "predict_exit_code": pr.returncode,
            "predict_error": pr.stderr.strip()[-300:] if pr.returncode else "",
            "predicted": pd.read_csv(table).iloc[:, :3].to_dict("records") if table.exists()
            else None,
        }  # fmt: skip
    return out


def synchronize() -> None:
    if DEVICE == "cuda":
        torch.cuda.synchronize()


def sync_time(fn, steps: int, warmup: int) -> float:
    """Seconds per call of ``fn`` on the device (after ``warmup`` calls)."""
    for _ in range(warmup):
        fn()
    synchronize()
    t0 = time.perf_counter()
    for _ in range(steps):
        fn()
    synchronize()
    return (time.perf_counter() - t0) / steps


def matmul_peak(dtype: torch.dtype) -> float:
    """Measured dense matmul TFLOP/s in ``dtype`` (TF32 allowed for float32)."""
    n = 8192 if DEVICE == "cuda" else 2048
    a = torch.randn(n, n, device=DEVICE, dtype=dtype)
    b = torch.randn(n, n, device=DEVICE, dtype=dtype)
    seconds = sync_time(lambda: torch.mm(a, b), 20, 5)
    return 2 * n**3 / seconds / 1e12


def step_flops(model, corpus: str, samples: int) -> float:
    """FLOPs of one training step (forward + backward) per sample."""
    from torch.utils.flop_counter import FlopCounterMode

    x = torch.randn(2, samples, device=DEVICE)
    counter = FlopCounterMode(display=False)
    with counter:
        model(x, None, corpus).float().sum().backward()
    model.zero_grad(set_to_none=True)
    return counter.get_total_flops() / 2


def bare_step(model_name: str, batch: int, precision: str, steps: int) -> dict:
    """The model alone: forward, backward and SGD step on device-resident random audio."""
    from emonet.model import create_model

    torch.manual_seed(0)
    model = create_model(model_name, window=6.0)
    model.add_corpus("gen0", list(LABELS))
    model.set_mode("scratch", "gen0")
    model.to(DEVICE).train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = torch.randn(batch, 6 * SR, device=DEVICE) * 0.1
    y = torch.randint(0, len(LABELS), (batch,), device=DEVICE)
    dtype = torch.bfloat16 if precision == "bf16-mixed" else torch.float32
    flops = step_flops(model, "gen0", 6 * SR)

    def step() -> None:
        with torch.autocast(DEVICE, dtype=dtype, enabled=dtype == torch.bfloat16):
            loss = torch.nn.functional.cross_entropy(model(x, None, "gen0").float(), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    seconds = sync_time(step, steps, 5)
    return {"samples_per_s": batch / seconds, "tflop_per_s": flops * batch / seconds / 1e12,
            "gflop_per_sample": flops / 1e9}  # fmt: skip


# the training options of the CPU table's best column (docs/results.md): SpecAugment, mixup,
# random gain and the weight average, each run on the device inside the step
RECIPE_OPTIONS = {
    "augment": {"freq_masks": 2, "freq_mask_width": 8, "time_masks": 2, "time_mask_width": 40,
                "mixup": 0.2, "gain_db": 6.0},
    "ema_decay": 0.995,
}  # fmt: skip


def loop_rate(emoset: Path, root: Path, model: str, batch: int, precision: str,
              compile_: str | None, epochs: int, options: bool = False) -> dict:  # fmt: skip
    """The real loop on two generated corpora (multi mode, data on the device, no devel), with
    the bare step's optimiser (SGD with momentum: the reference schedule); ``compile_``: an
    ``engine.compile_mode`` (None: eager); ``options``: with :data:`RECIPE_OPTIONS`."""
    out = root / f"loop-{batch}-{precision}-{compile_ or 'eager'}-{options}"
    cfg = base_config(emoset, out, model, mode="multi", eval_every=10_000,
                      data__corpora=["gen0", "gen1"], data__batch_size=batch,
                      multi__steps_per_epoch=20, engine__precision=precision,
                      engine__compile=compile_ is not None,
                      engine__compile_mode=compile_ or "default")  # fmt: skip
    cfg["optim"] = {"schedule": "reference", "lr_stages": [0.01], "max_epochs": epochs,
                    "patience": 100}  # fmt: skip
    if options:
        cfg["augment"] = RECIPE_OPTIONS["augment"]
        cfg["optim"]["ema_decay"] = RECIPE_OPTIONS["ema_decay"]
    m = train_run(cfg)
    last = m[m["epoch"] == m["epoch"].max()].iloc[0]
    return {"samples_per_s": float(last["samples_per_s"]), "data_share": float(last["data_share"])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="emonet-wrn-attention")
    parser.add_argument("--quick", action="store_true", help="fewer steps (a smoke test)")
    parser.add_argument("--no-compile", action="store_true", help="skip engine.compile runs")
    parser.add_argument("--device", default="cuda", help="cpu: a slow smoke test of the script")
    parser.add_argument(
        "--budget",
        type=float,
        default=330.0,
        help="seconds after which the engine.compile run is skipped",
    )
    parser.add_argument("--only", type=lambda v: set(v.split(",")), default=set(PARTS),
                        help=f"comma-separated parts to (re)run into the existing results: "
                             f"{','.join(PARTS)} (cli needs modes)")  # fmt: skip
    args = parser.parse_args()
    if args.only - set(PARTS):
        parser.error(f"--only: unknown parts {sorted(args.only - set(PARTS))}; known: {PARTS}")
    global DEVICE
    DEVICE = args.device
    if DEVICE == "cuda" and not torch.cuda.is_available():
        raise SystemExit("benchmarks/gpu.py needs a CUDA GPU (torch.cuda.is_available() is False)")
    t_start = time.perf_counter()
    root = Path(tempfile.mkdtemp(prefix="emonet-gpu-"))
    steps = 5 if args.quick else 20
    epochs = 2 if args.quick else 3
    batches = (8, 16) if DEVICE == "cpu" else (64, 256)
    stem = "gpu" if DEVICE == "cuda" else f"gpu-smoke-{DEVICE}"
    previous = HERE / "results" / f"{stem}.json"
    partial = args.only != set(PARTS) and previous.is_file()
    results: dict = json.loads(previous.read_text()) if partial else {}
    if results:  # a partial rerun: the other parts stay as they were measured
        results.setdefault("reruns", []).append(
            {"parts": sorted(args.only), "date": time.strftime("%Y-%m-%d")}
        )
        for part in args.only:
            results.pop(part, None)
        results["throughput"] = [
            t for t in results.get("throughput", []) if _part(t) not in args.only
        ]
    results |= {
        "device": torch.cuda.get_device_name() if DEVICE == "cuda" else platform.processor(),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "python": platform.python_version(),
        "model": args.model,
        "host_load_average": os.getloadavg(),
        "errors": {k: v for k, v in results.get("errors", {}).items()  # of parts kept as they were
                   if k.split(" ")[0] in set(PARTS) - args.only},
        "throughput": results.get("throughput", []),
    }  # fmt: skip

    def section(name: str, fn, *fn_args):
        """Run one part; a failure is recorded with its traceback and the next part still runs.

        The results are rewritten after every part, so a run cut short still reports the rest.
        """
        print(f"{name} …", flush=True)
        t0 = time.perf_counter()
        try:
            value = fn(*fn_args)
        except Exception:
            results["errors"][name] = traceback.format_exc()[-2000:]
            print(results["errors"][name], file=sys.stderr, flush=True)
            value = None
        results.setdefault("part_seconds", {})[name] = round(time.perf_counter() - t0, 1)
        results["seconds"] = round(time.perf_counter() - t_start, 1)
        write(results, stem)
        return value

    emoset = section("generated EmoSet", make_emoset, root, 3, 96 if args.quick else 320, 6.2)
    if emoset is None:
        raise SystemExit(1)
    parts = {"modes": every_mode, "cross_device": cross_device, "resume": resume_on_cuda,
             "cli": cli_on_cuda}  # fmt: skip
    for name, fn in parts.items():
        if name in args.only:
            results[name] = section(name, fn, emoset, root, *([args.model] * (fn is every_mode)))
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
    torch.backends.cudnn.benchmark = True
    if "throughput" in args.only:
        peaks = section("throughput matmul peaks", lambda: {"bf16-mixed": matmul_peak(torch.bfloat16),
                                                 "32-true": matmul_peak(torch.float32)})  # fmt: skip
        results["matmul_peak_tflop_per_s"] = {k: round(v, 1) for k, v in (peaks or {}).items()}
    peaks = results.get("matmul_peak_tflop_per_s", {})
    for batch in batches if "throughput" in args.only else ():
        for precision in ("bf16-mixed", "32-true"):

            def measure(batch=batch, precision=precision) -> None:
                bare = bare_step(args.model, batch, precision, steps)
                real = loop_rate(emoset, root, args.model, batch, precision, None, epochs)
                peak = peaks.get(precision)
                results["throughput"].append({
                    "batch": batch, "precision": precision, "compile": False,
                    "bare_samples_per_s": round(bare["samples_per_s"], 1),
                    "loop_samples_per_s": round(real["samples_per_s"], 1),
                    "loop_vs_bare": round(real["samples_per_s"] / bare["samples_per_s"], 3),
                    "data_share": round(real["data_share"], 4),
                    "bare_tflop_per_s": round(bare["tflop_per_s"], 1),
                    "percent_of_matmul_peak": round(100 * bare["tflop_per_s"] / peak, 1)
                    if peak else None,
                    "gflop_per_sample": round(bare["gflop_per_sample"], 2),
                })  # fmt: skip

            section(f"throughput batch {batch} {precision}", measure)
    elapsed = time.perf_counter() - t_start
    if "compile" in args.only and (args.no_compile or elapsed > args.budget):
        results["compile_skipped"] = "--no-compile" if args.no_compile else (
            f"{elapsed:.0f} s spent, over the --budget of {args.budget:.0f} s")  # fmt: skip
    elif "compile" in args.only:
        results.pop("compile_skipped", None)

        def compiled(mode: str) -> None:
            real = loop_rate(emoset, root, args.model, batches[0], "bf16-mixed", mode, epochs + 1)
            plain = plain_row(results, batches[0])
            results["throughput"].append(beside_plain(plain, batches[0], real, compile=mode))

        # reduce-overhead replays CUDA graphs: batch 64 is bound by the host's kernel launches
        for mode in ("default", "reduce-overhead") if DEVICE == "cuda" else ("default",):
            if time.perf_counter() - t_start > args.budget:
                results["compile_skipped"] = f"{mode}: over the --budget of {args.budget:.0f} s"
                break
            section(f"compile {mode} batch {batches[0]} bf16", compiled, mode)
    if "options" in args.only:

        def with_options() -> None:
            real = loop_rate(emoset, root, args.model, batches[0], "bf16-mixed", None, epochs,
                             options=True)  # fmt: skip
            plain = plain_row(results, batches[0])
            row = beside_plain(plain, batches[0], real, compile=False, options="augment + ema")
            row["vs_plain_loop"] = (
                round(real["samples_per_s"] / plain["loop_samples_per_s"], 3) if plain else None
            )
            results["throughput"].append(row)

        section(f"options (augment + ema) batch {batches[0]} bf16", with_options)
    results["seconds"] = round(time.perf_counter() - t_start, 1)
    write(results, stem)
    print(markdown(results))
    shutil.rmtree(root, ignore_errors=True)


def plain_row(results: dict, batch: int) -> dict | None:
    """The eager bf16 loop's throughput row at ``batch`` (part ``throughput``), if measured."""
    return next((t for t in results["throughput"] if _part(t) == "throughput"
                 and (t["batch"], t["precision"]) == (batch, "bf16-mixed")), None)  # fmt: skip


def beside_plain(plain: dict | None, batch: int, real: dict, **fields) -> dict:
    """A bf16 loop variant's throughput row, against the bare step of the plain loop's row."""
    bare = plain["bare_samples_per_s"] if plain else None
    return {
        "batch": batch, "precision": "bf16-mixed", **fields, "bare_samples_per_s": bare,
        "loop_samples_per_s": round(real["samples_per_s"], 1),
        "loop_vs_bare": round(real["samples_per_s"] / bare, 3) if bare else None,
        "data_share": round(real["data_share"], 4),
    }  # fmt: skip


def _part(row: dict) -> str:
    """The part that measured a throughput row."""
    return "options" if row.get("options") else "compile" if row["compile"] else "throughput"


def markdown(r: dict) -> str:
    """The results as a report; parts that failed or did not run yet are said so."""
    peak = r.get("matmul_peak_tflop_per_s") or {}
    lines = [
        "# GPU benchmark",
        "",
        f"{r['device']}, torch {r['torch']} (CUDA {r['cuda']}), model `{r['model']}`, 6-s "
        f"windows; written by `benchmarks/gpu.py` in {r.get('seconds')} s. Matmul peak measured "
        f"in the same run: bf16 {peak.get('bf16-mixed')} TFLOP/s, fp32/TF32 "
        f"{peak.get('32-true')} TFLOP/s. Bare step: forward, backward and SGD step of the model "
        "alone on device-resident random audio; loop: `emonet.train.train` in multi mode on two "
        "generated corpora (data on the device, the same SGD), its last epoch.",
        *[
            f"Rerun on {x['date']} with `--only {','.join(x['parts'])}`."
            for x in r.get("reruns", [])
        ],
        "",
        "| batch | precision | compile / options | bare step samples/s | loop samples/s | loop / bare "
        "| data wait | bare TFLOP/s | % of matmul peak |",
        "|---:|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for t in r.get("throughput") or []:
        lines.append(
            f"| {t['batch']} | {t['precision']} | {t.get('options') or t['compile']} | "
            f"{t['bare_samples_per_s']} | "
            f"{t['loop_samples_per_s']} | {t['loop_vs_bare']} | {100 * t['data_share']:.1f} % | "
            f"{t.get('bare_tflop_per_s', '')} | {t.get('percent_of_matmul_peak', '')} |"
        )
    if r.get("compile_skipped"):
        lines += ["", f"engine.compile not measured: {r['compile_skipped']}."]
    if r.get("modes"):
        lines += ["", "## Every mode on CUDA", "", "| mode | precision | steps | last train loss "
                  "| finite | seconds |", "|---|---|---:|---:|---|---:|"]  # fmt: skip
        for m in r["modes"]:
            lines.append(f"| {m['mode']} | {m['precision']} | {m['steps']} | "
                         f"{m['train_loss']:.4f} | {m['finite']} | {m['seconds']} |")  # fmt: skip
    lines += ["", "## Across devices", ""]
    if x := r.get("cross_device"):
        lines += [
            f"- CUDA checkpoint loaded on the CPU: max |Δlogit| "
            f"{x['cuda_vs_cpu_max_abs_logit_diff']:.2e}",
            f"- CUDA run killed with SIGKILL: {x['killed_with_sigkill']}; resumed on the CPU: "
            f"exit code {x['resumed_on_cpu_exit_code']}, epochs logged {x['epochs_logged']} "
            f"{x['resumed_on_cpu_error']}",
        ]
    if x := r.get("resume"):
        lines.append(
            f"- Reference schedule (stages {x['stages']}) on CUDA with `engine.deterministic`, "
            f"killed inside stage 2 (SIGKILL: {x['killed_with_sigkill']}) and resumed on CUDA: "
            f"exit code {x['resumed_exit_code']}, same metrics rows as the straight run: "
            f"{x['same_metrics_rows']}, max |Δweight| {x['max_abs_weight_diff']:.2e}; two "
            f"straight runs without it: max |Δweight| "
            f"{x['two_default_runs_max_abs_weight_diff']:.2e} {x['resumed_error']}"
        )
    for device, c in (r.get("cli") or {}).items():
        lines.append(
            f"- `emonet evaluate --device {device}`: exit code {c['evaluate_exit_code']}, UAR "
            f"{c['evaluate_uar']} {c['evaluate_error']}; `emonet predict --device {device}`: "
            f"exit code {c['predict_exit_code']} {c['predict_error']}"
        )
    if r.get("notes"):
        lines += ["", "## Notes", "", *[f"- {n}" for n in r["notes"]]]
    for name, error in (r.get("errors") or {}).items():
        lines += ["", f"## Failed: {name}", "", "```", error.strip(), "```"]
    return "\n".join([*lines, ""])


def write(results: dict, stem: str) -> None:
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / f"{stem}.json").write_text(json.dumps(results, indent=2) + "\n")
    (out / f"{stem}.md").write_text(markdown(results))
    if os.environ.get("OUT"):
        for name in (f"{stem}.json", f"{stem}.md"):
            shutil.copy(out / name, Path(os.environ["OUT"]) / name)


if __name__ == "__main__":
    main()
