"""The training loop: every mode of the paper, on one CPU or many GPUs, resumable exactly.

Read top to bottom: :func:`train` takes the run folder's lock and launches the processes
(Lightning Fabric); :func:`_worker` sets up data, model and optimiser (setup.py) and runs epochs
until the :class:`Schedule` (schedule.py) says the run is over; :func:`run_epoch` (step.py) takes
one epoch's steps, each :func:`train_step`. The data of every step is cut on the model's device (:class:`CropFeeder`),
losses and the finiteness check stay on the device, and the host waits for the device once per
epoch, when the epoch's numbers are logged. Checkpoints and the resume rules live in
:class:`RunFolder`; the counters that shape a run's future in :class:`RunState`.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import logging
import os
import tempfile
import time
from contextlib import nullcontext
from functools import partial
from pathlib import Path

import numpy as np
import torch
from rich.console import Console

from emonet.config import ConfigError
from emonet.data.sampling import epoch_batches, epoch_plan
from emonet.errors import EmoNetError
from emonet.files import write_json
from emonet.locking import exclusive_lock
from emonet.model import EmoNet, load_checkpoint
from emonet.model.scoring import predict_dataset
from emonet.progress import progress_bar
from emonet.results.metrics import uar
from emonet.runtime import DeviceError, torch_device
from emonet.train.augment import BatchAugment
from emonet.train.average import WeightAverage
from emonet.train.config import TrainConfig
from emonet.train.distill import Teachers, check_teachers
from emonet.train.run_folder import RunFolder
from emonet.train.schedule import Schedule
from emonet.train.setup import (
    CorpusData,
    build_model,
    configure_backends,
    configure_cuda,
    crop_to_checkpoint_window,
    load_data,
    make_optimizer,
    mixed_precision,
    resolve_precision,
)
from emonet.train.state import (
    MetricsLog,
    RunState,
    TrainingError,
    load_trainer_state,
    load_training_weights,
)
from emonet.train.step import run_epoch, set_lr


def evaluate_devel(
    model: EmoNet,
    corpus: CorpusData,
    batch_size: int,
    window: float,
    autocast,
    device: torch.device | str | None = None,
) -> tuple[float, float, float]:
    """(UAR, accuracy, loss) on devel: whole utterances, or averaged windows for the avgpool head."""
    logits = predict_dataset(
        model, corpus.devel, corpus.name, batch_size, window, autocast, device=device
    )
    y = corpus.devel.labels
    loss = torch.nn.functional.cross_entropy(torch.from_numpy(logits), torch.as_tensor(np.array(y)))
    p = logits.argmax(1)
    return uar(y, p), float(np.mean(y == p)), float(loss)


def train(cfg: TrainConfig, resume: bool = False, show_progress: bool = True) -> Path:
    """Train according to ``cfg``; returns the run folder. Launches DDP processes when asked.

    ``resume`` continues from ``checkpoints/last`` with the same settings; resuming a finished
    run does nothing. A second process training into the same folder is refused.
    """
    from lightning_fabric import Fabric

    folder = RunFolder(cfg.out)
    if resume and folder.is_done():
        Console().print(f"{cfg.out} has already finished; nothing to resume")
        return folder.path
    if cfg.init:
        crop_to_checkpoint_window(cfg)
    check_teachers(cfg.distill.teachers)
    try:  # before Fabric, whose own refusal is a traceback
        device = torch_device(cfg.engine.accelerator)
    except DeviceError as exc:
        raise ConfigError(f"engine.accelerator: {exc}") from None
    if device.startswith("cuda"):
        configure_cuda(cfg)
    # Lightning's info lines ("Using bfloat16 Automatic Mixed Precision") only where progress shows
    logging.getLogger("lightning_fabric").setLevel(
        logging.INFO if show_progress else logging.WARNING
    )
    resolve_precision(cfg, device)
    strategy = cfg.engine.strategy
    world = cfg.engine.devices * cfg.engine.num_nodes
    if strategy == "auto" and world > 1:
        strategy = "ddp" if "LOCAL_RANK" in os.environ else "ddp_spawn"
    mixed = mixed_precision(cfg.engine.precision, torch.device(device).type)
    fabric = Fabric(
        accelerator=cfg.engine.accelerator,
        devices=cfg.engine.devices,
        num_nodes=cfg.engine.num_nodes,
        precision=None if mixed else cfg.engine.precision,
        plugins=mixed,
        strategy=strategy,
    )
    if int(os.environ.get("RANK", "0")) != 0:  # under torchrun, rank 0 holds the lock
        fabric.launch(_worker, cfg, resume, show_progress)
        return folder.path
    folder.path.mkdir(parents=True, exist_ok=True)
    with exclusive_lock(folder.lock, f"run folder {folder.path}"):
        if strategy != "ddp_spawn":
            fabric.launch(_worker, cfg, resume, show_progress)
        else:
            _launch_spawned(fabric, cfg, resume, show_progress)
    return folder.path


def _launch_spawned(fabric, cfg: TrainConfig, resume: bool, show_progress: bool) -> None:
    """Launch spawned workers so that a user error in one of them stays a user error here.

    A spawned process's exception reaches the parent only as traceback text; the worker that
    raised an :class:`EmoNetError` also leaves its kind and message in a file, re-raised here.
    """
    preset_port = os.environ.get("MASTER_PORT")
    with tempfile.TemporaryDirectory(prefix="emonet-launch-") as tmp:
        report = Path(tmp) / "user_error.json"
        try:
            fabric.launch(_reporting_worker, report, cfg, resume, show_progress)
        except Exception:
            if report.is_file():
                raise _user_error(json.loads(report.read_text())) from None
            raise
        finally:  # Lightning leaves its free port in the environment: the next launch in this
            if preset_port is None:  # process (an experiment's next run) must find a new one
                os.environ.pop("MASTER_PORT", None)


def _reporting_worker(fabric, report: Path, cfg: TrainConfig, resume: bool, show: bool) -> str:
    """:func:`_worker`, writing a user error's kind and message to ``report`` before it fails."""
    try:
        return _worker(fabric, cfg, resume, show)
    except EmoNetError as exc:
        kind = type(exc)
        write_json(
            report, {"module": kind.__module__, "kind": kind.__qualname__, "message": str(exc)}
        )
        raise


def _user_error(record: dict) -> EmoNetError:
    """The user error a worker reported, as its own class where that can be rebuilt."""
    try:
        kind = getattr(importlib.import_module(record["module"]), record["kind"])
        if issubclass(kind, EmoNetError):
            return kind(record["message"])
    except Exception:  # any failure to rebuild the class falls back to the base one
        pass
    return EmoNetError(record["message"])


def _worker(fabric, cfg: TrainConfig, resume: bool, show_progress: bool) -> str:
    """One process's whole run."""
    rank0, world = fabric.global_rank == 0, fabric.world_size
    console = Console(quiet=not rank0)
    folder = RunFolder(cfg.out)
    if rank0:
        folder.start(cfg, resume)
    fabric.barrier()
    device = fabric.device
    warning = configure_backends(cfg, device)
    if warning and rank0:
        Console(stderr=True).print(f"[yellow]warning:[/] {warning}", highlight=False)

    data = load_data(cfg, device, show_progress and rank0)
    net = build_model(cfg, data)
    state = RunState()
    resuming = resume and folder.has_state()
    if resuming:
        net.load_state_dict(load_checkpoint(folder.last).state_dict())
    if cfg.engine.sync_batchnorm and world > 1:
        net = torch.nn.SyncBatchNorm.convert_sync_batchnorm(net)
    model = torch.compile(net, mode=cfg.engine.compile_mode) if cfg.engine.compile else net
    if cfg.engine.compile:
        torch._dynamo.config.cache_size_limit = max(8, 4 * len(data))  # a graph per corpus
    model = fabric.setup_module(model)
    optimizer = fabric.setup_optimizers(make_optimizer(net, cfg, data))
    scaler = getattr(fabric.strategy.precision, "scaler", None)
    # made on the device: the average of what ``last`` holds, with ema_decay
    average = WeightAverage(net, cfg.optim.ema_decay) if cfg.optim.ema_decay else None
    if resuming:
        state = load_trainer_state(folder.last, optimizer, scaler)
        if average is not None:
            net.load_state_dict(load_training_weights(folder.last))
        console.print(f"resuming {folder.path} at stage {state.stage + 1}, epoch {state.epoch}")

    names = list(data)
    multi_steps = cfg.multi.steps_per_epoch * len(names) if cfg.mode == "multi" else None
    steps_per_epoch = multi_steps or len(
        epoch_batches(len(data[names[0]].train), cfg.data.batch_size, 0, 0, 0, world)
    )
    schedule = Schedule(cfg.optim, steps_per_epoch)
    set_lr(optimizer, schedule.lr(state))
    log = MetricsLog(folder.path, enabled=rank0)
    log.truncate_after(state.epoch)
    # In a log file (no terminal) the per-epoch line below replaces the bar.
    progress = progress_bar(
        show_progress and rank0, transient=False, console=console, description="{task.description}"
    )
    clock = _Clock(schedule)
    augment = BatchAugment(cfg.augment) if cfg.augment.gain_db or cfg.augment.mixup else None
    teachers = None
    if cfg.distill.teachers:
        labels = {n: c.labels for n, c in data.items()}
        teachers = Teachers(cfg.distill.teachers, labels, net, device, cfg.distill.weight,
                            cfg.distill.temperature)  # fmt: skip
    with progress:
        while not state.finished:
            t0 = time.perf_counter()
            plan = epoch_plan(
                {n: len(c.train) for n, c in data.items()},
                cfg.data.batch_size,
                cfg.seed,
                state.epoch,
                multi_steps,
                cfg.multi.sampling,
                cfg.multi.temperature,
                world,
                {n: c.train.sizes_np for n, c in data.items()}
                if cfg.data.crops == "bucket"
                else None,
            )
            description = (
                f"stage {state.stage + 1}/{schedule.stages} epoch {state.epoch + 1}"
                f"/{schedule.epoch_limit(state)}"
            )
            limit = schedule.epoch_limit(state)
            task = progress.add_task(description, total=len(plan))
            start = {k: v.detach().clone() for k, v in net.state_dict().items()}
            first_step = state.step
            stats = run_epoch(
                fabric, model, net, optimizer, data, plan, schedule, state, cfg.seed,
                partial(progress.advance, task), augment,
                cfg.engine.compile_mode == "reduce-overhead",  # (validated: with compile)
                average, teachers,
            ).read(fabric)  # fmt: skip
            progress.remove_task(task)
            if stats.first_bad is not None:
                net.load_state_dict(start)
                _save(fabric, folder, folder.last_good, net, cfg)
                corpus = plan[stats.first_bad][0]
                raise TrainingError(
                    f"non-finite loss or gradients at step {first_step + stats.first_bad} (epoch "
                    f"{state.epoch + 1}, corpus {corpus}); the weights from the start of that "
                    f"epoch are in {folder.last_good}"
                )
            del start
            state.epoch += 1
            scores = {}
            if state.epoch % cfg.eval_every == 0:
                with _averaged(average):
                    scores = _score_devel(fabric, net, data, cfg)
            mean = float(np.mean([s[0] for s in scores.values()])) if scores else None
            stage, lr = state.stage, optimizer.param_groups[0]["lr"]
            outcome = schedule.after_epoch(state, mean)
            seconds = time.perf_counter() - t0
            _log_epoch(log, state, stage, lr, stats, scores, seconds)
            if show_progress:
                console.print(
                    clock.line(state, stage, limit, scores, seconds),
                    highlight=False,
                    soft_wrap=True,
                )
            if outcome.new_best:
                with _averaged(average):
                    _save(fabric, folder, folder.best, net, cfg)
            if outcome.stage_over and not outcome.finished:
                if folder.best.exists():
                    net.load_state_dict(load_checkpoint(folder.best).state_dict())
                optimizer.state.clear()  # a new stage starts without old momentum
                if average is not None:
                    average.reset()  # ... and averages from the best weights
            set_lr(optimizer, schedule.lr(state))
            with _averaged(average) as training:
                _save(fabric, folder, folder.last, net, cfg, state, optimizer, scaler, training)
    log.close()
    digests = _check_replicas(fabric, net)
    if rank0:
        done = {"steps": state.step, "best_devel_uar": state.best_uar, "replicas": digests}
        (folder.path / "DONE.json").write_text(json.dumps(done, indent=2) + "\n")
    fabric.barrier()
    return str(folder.path)


def _averaged(average: WeightAverage | None):
    """Hold the averaged weights in the model for the block (yields the training weights); a
    no-op without ``optim.ema_decay``."""
    return average.applied() if average is not None else nullcontext()


def _score_devel(fabric, net: EmoNet, data: dict[str, CorpusData], cfg: TrainConfig) -> dict:
    """(UAR, accuracy, loss) per corpus, scored on rank 0 (the model it saves: other ranks'
    batch-norm statistics differ) and broadcast, so that every process takes the same decisions."""
    scores = {}
    if fabric.global_rank == 0:
        for c in data.values():
            scores[c.name] = evaluate_devel(
                net, c, cfg.data.eval_batch_size, cfg.data.window, fabric.autocast, fabric.device
            )
    return fabric.broadcast(scores, src=0) if fabric.world_size > 1 else scores


def _log_epoch(log, state: RunState, stage: int, lr: float, stats, scores: dict,
               seconds: float) -> None:  # fmt: skip
    """One metrics row per corpus (metrics.csv, TensorBoard)."""
    for n, loss in stats.losses.items():
        row = {
            "epoch": state.epoch, "stage": stage + 1, "step": state.step, "lr": lr, "corpus": n,
            "train_loss": round(loss, 6), "seconds": round(seconds, 2),
            "samples_per_s": round(stats.samples_per_s, 3), "data_share": round(stats.data_share, 5),
        }  # fmt: skip
        if n in scores:
            u, acc, dl = scores[n]
            row.update(devel_uar=round(u, 6), devel_accuracy=round(acc, 6), devel_loss=round(dl, 6))
        log.log(row)


class _Clock:
    """The console line of an epoch: where the run is, its devel UAR, and how long it has left."""

    def __init__(self, schedule: Schedule) -> None:
        self.schedule, self.elapsed, self.epochs = schedule, 0.0, 0

    def line(self, state: RunState, stage: int, limit: int, scores: dict, seconds: float) -> str:
        """E.g. ``stage 1/3 epoch 5/100 · devel UAR emodb 0.512 (best 0.540) · 12 s/epoch ·
        elapsed 1:02 · at most 19:40 left`` (an upper bound while stages may stop early)."""
        self.elapsed, self.epochs = self.elapsed + seconds, self.epochs + 1
        where = f"epoch {state.epoch}/{limit}"
        if self.schedule.stages > 1:
            where = f"stage {stage + 1}/{self.schedule.stages} {where}"
        parts = [where]
        if scores:
            uars = " ".join(f"{n} {s[0]:.3f}" for n, s in scores.items())
            mean = (
                f"mean {np.mean([s[0] for s in scores.values()]):.3f}, " if len(scores) > 1 else ""
            )
            parts.append(f"devel UAR {uars} ({mean}best {state.best_uar:.3f})")
        left = self.schedule.epochs_left(state) * self.elapsed / self.epochs
        bound = "about" if self.schedule.stages == 1 else "at most"
        parts += [f"{seconds:.1f} s/epoch", f"elapsed {_clock(self.elapsed)}"]
        parts.append(f"{bound} {_clock(left)} left" if left else "done")
        return " · ".join(parts)


def _clock(seconds: float) -> str:
    """``h:mm:ss`` or ``m:ss``."""
    m, s = divmod(round(seconds), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def _save(
    fabric,
    folder: RunFolder,
    where: Path,
    net: EmoNet,
    cfg: TrainConfig,
    state: RunState | None = None,
    optimizer=None,
    scaler=None,
    training_weights: dict | None = None,
) -> None:
    """Rank 0 writes a checkpoint; every process waits for it."""
    if fabric.global_rank == 0:
        folder.save(where, net, cfg, state, optimizer, scaler, training_weights)
    fabric.barrier()


def weights_digest(module: torch.nn.Module, buffers: bool = True) -> str:
    """SHA-256 of every parameter (and buffer), in state-dict order: bit-exact identity."""
    h = hashlib.sha256()
    tensors = module.state_dict() if buffers else dict(module.named_parameters())
    for name, t in tensors.items():
        h.update(name.encode())
        h.update(t.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def _check_replicas(fabric, module: torch.nn.Module) -> list[str]:
    """Digest of the parameters on every rank; DDP replicas that drifted apart are an error.

    Batch-norm running statistics are left out: each process updates them from its own part of
    the batch (DDP re-broadcasts rank 0's before every forward, and rank 0 writes checkpoints).
    """
    digest = weights_digest(module, buffers=False)
    if fabric.world_size == 1:
        return [digest]
    mine = torch.tensor(list(bytes.fromhex(digest)), dtype=torch.int64, device=fabric.device)
    gathered = fabric.all_gather(mine).reshape(fabric.world_size, -1).cpu()
    digests = [bytes(row.tolist()).hex() for row in gathered]
    if len(set(digests)) != 1:
        raise TrainingError(f"DDP replicas ended with different weights: {digests}")
    return digests
