"""The training loop: every mode of the paper, on one CPU or many GPUs, resumable exactly.

Read top to bottom: :func:`train` takes the run folder's lock and launches the processes
(Lightning Fabric); :func:`_worker` sets up data, model and optimiser and runs epochs until the
:class:`Schedule` says the run is over; :func:`run_epoch` takes one epoch's steps, each
:func:`train_step`. The data of every step is cut on the model's device (:class:`CropFeeder`),
losses and the finiteness check stay on the device, and the host waits for the device once per
epoch, when the epoch's numbers are logged. Checkpoints and the resume rules live in
:class:`RunFolder`; the counters that shape a run's future in :class:`RunState`.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import torch
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from emonet.corpora.emoset import open_emoset
from emonet.data.datasets import UtteranceDataset, load_partition
from emonet.data.feeder import CropFeeder
from emonet.data.sampling import epoch_batches, epoch_plan
from emonet.errors import EmoNetError
from emonet.locking import exclusive_lock
from emonet.model import EmoNet, create_model, load_checkpoint
from emonet.model.scoring import predict_dataset
from emonet.results.metrics import uar
from emonet.runtime import keep_freed_memory
from emonet.train.config import ConfigError, TrainConfig
from emonet.train.losses import balanced_class_weights, make_loss
from emonet.train.run_folder import RunFolder
from emonet.train.schedule import Schedule
from emonet.train.state import MetricsLog, RunState, load_trainer_state


class TrainingError(EmoNetError, RuntimeError):
    """Training cannot go on (non-finite loss, replicas that drifted apart, …)."""


@dataclass
class CorpusData:
    """One corpus's training crops (on the training device), devel utterances and loss."""

    name: str
    labels: list[str]
    train: CropFeeder
    devel: UtteranceDataset
    loss: torch.nn.Module


def adapter_weight_decay(n_train: int) -> float:
    """The reference's adapter weight decay by training-set size (here applied as real decay)."""
    if n_train >= 10_000:
        return 1e-6
    if n_train >= 1_000:
        return 5e-4
    if n_train >= 500:
        return 2e-3
    return 5e-3


def load_data(
    cfg: TrainConfig, device: torch.device, show_progress: bool = False
) -> dict[str, CorpusData]:
    """Decode each corpus's train and devel partitions; training audio goes where
    ``data.placement`` says (the device on GPUs by default)."""
    emoset = open_emoset(cfg.data.emoset)
    missing = [c for c in cfg.data.corpora if c not in emoset]
    if missing:
        raise ConfigError(
            f"data.corpora: {missing} not found in EmoSet {cfg.data.emoset} "
            f"(it holds: {sorted(emoset) or 'nothing'})"
        )
    placement = cfg.data.placement
    if placement == "auto":
        placement = "host" if device.type == "cpu" else "device"
    feed_device = device if placement == "device" else torch.device("cpu")
    dtype = getattr(torch, cfg.data.device_dtype) if feed_device.type != "cpu" else torch.float32
    cache_dir = Path(cfg.out) / "cache" if cfg.data.cache == "mmap" else None
    out = {}
    for k, name in enumerate(cfg.data.corpora):
        corpus = emoset[name]
        parts = {
            p: load_partition(corpus, p, cache_dir, show_progress, cfg.data.limit)
            for p in ("train", "devel")
        }
        (train_audio, train_y, _), (devel_audio, devel_y, _) = parts["train"], parts["devel"]
        weight = None
        if cfg.loss.class_weights:
            weight = balanced_class_weights(train_y, len(corpus.labels))
        loss = make_loss(
            cfg.loss.name,
            weight,
            cfg.loss.focal_gamma,
            cfg.loss.focal_alpha,
            cfg.loss.label_smoothing,
        )
        feeder = CropFeeder(
            train_audio, train_y, cfg.data.window, cfg.seed * 1000 + k, feed_device, dtype
        )
        out[name] = CorpusData(
            name, corpus.labels, feeder, UtteranceDataset(devel_audio, devel_y), loss.to(device)
        )
    return out


def build_model(cfg: TrainConfig, data: dict[str, CorpusData]) -> EmoNet:
    """The model of the mode, on the CPU: new (scratch, multi) or from ``init`` (transfer)."""
    if cfg.mode in ("scratch", "multi"):
        torch.manual_seed(cfg.seed)
        # the training window is the avgpool head's input size (attention heads ignore it)
        model = create_model(cfg.model.name, **{"window": cfg.data.window, **cfg.model.overrides})
        for c in data.values():
            model.add_corpus(c.name, c.labels)
    else:
        assert cfg.init is not None
        model = load_checkpoint(cfg.init)
        (c,) = data.values()
        if c.name in model.corpora:
            if list(model.corpora[c.name]) != c.labels:
                raise ConfigError(
                    f"init: checkpoint {cfg.init} has corpus {c.name} with labels "
                    f"{list(model.corpora[c.name])}, EmoSet has {c.labels}"
                )
        else:
            torch.manual_seed(cfg.seed)
            model.add_corpus(c.name, c.labels)
    model.set_mode(cfg.mode, cfg.data.corpora if cfg.mode == "multi" else cfg.data.corpora[0])
    if not cfg.engine.channels_last:
        model.to(memory_format=torch.contiguous_format)
    return model


def make_optimizer(
    model: EmoNet, cfg: TrainConfig, data: dict[str, CorpusData]
) -> torch.optim.Optimizer:
    """SGD (reference) or AdamW (cosine) over the trainable parameters, in decay groups:
    adapters (by their corpus's size), norms and biases (none), the rest."""
    wd_auto = cfg.optim.adapter_weight_decay == "auto"
    groups: dict[tuple[str, float], list[torch.nn.Parameter]] = {}
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        corpus = model.corpus_of_parameter(name)
        if model.is_adapter_parameter(name):
            if wd_auto:
                wd = adapter_weight_decay(len(data[corpus].train) if corpus in data else 0)
            else:
                wd = float(cfg.optim.adapter_weight_decay)
            key = ("adapter", wd)
        elif p.ndim <= 1:
            key = ("norm_bias", 0.0)
        else:
            key = ("weight", cfg.optim.weight_decay)
        groups.setdefault(key, []).append(p)
    params = [
        {"params": ps, "weight_decay": wd, "name": f"{kind}@{wd:g}"}
        for (kind, wd), ps in groups.items()
    ]
    if cfg.optim.schedule == "reference":
        return torch.optim.SGD(params, lr=cfg.optim.lr_stages[0], momentum=cfg.optim.momentum)
    return torch.optim.AdamW(params, lr=cfg.optim.lr)


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
        _crop_to_checkpoint_window(cfg)
    strategy = cfg.engine.strategy
    world = cfg.engine.devices * cfg.engine.num_nodes
    if strategy == "auto" and world > 1:
        strategy = "ddp" if "LOCAL_RANK" in os.environ else "ddp_spawn"
    fabric = Fabric(
        accelerator=cfg.engine.accelerator,
        devices=cfg.engine.devices,
        num_nodes=cfg.engine.num_nodes,
        precision=cfg.engine.precision,
        strategy=strategy,
    )
    if int(os.environ.get("RANK", "0")) != 0:  # under torchrun, rank 0 holds the lock
        fabric.launch(_worker, cfg, resume, show_progress)
        return folder.path
    folder.path.mkdir(parents=True, exist_ok=True)
    with exclusive_lock(folder.lock, f"run folder {folder.path}"):
        fabric.launch(_worker, cfg, resume, show_progress)
    return folder.path


def _crop_to_checkpoint_window(cfg: TrainConfig) -> None:
    """An avgpool checkpoint takes inputs of its own window: transfer crops must match it."""
    from emonet.model import read_checkpoint_config

    model = read_checkpoint_config(cfg.init)["config"]
    if model.get("head") == "avgpool" and model.get("window") != cfg.data.window:
        Console(stderr=True).print(
            f"data.window: the checkpoint {cfg.init} has an average-pool head built for "
            f"{model['window']} s inputs; training crops of {model['window']} s instead of "
            f"{cfg.data.window} s"
        )
        cfg.data.window = float(model["window"])


def configure_backends(cfg: TrainConfig, device: torch.device) -> None:
    """Process-wide speed settings for the training device (threads, allocator, cuDNN, TF32)."""
    if cfg.engine.threads:
        torch.set_num_threads(cfg.engine.threads)
    if device.type == "cpu":
        keep_freed_memory()
    elif device.type == "cuda":
        torch.backends.cudnn.benchmark = cfg.engine.cudnn_benchmark
        torch.backends.cuda.matmul.allow_tf32 = cfg.engine.tf32
        torch.backends.cudnn.allow_tf32 = cfg.engine.tf32


def _worker(fabric, cfg: TrainConfig, resume: bool, show_progress: bool) -> str:
    """One process's whole run."""
    rank0, world = fabric.global_rank == 0, fabric.world_size
    console = Console(quiet=not rank0)
    folder = RunFolder(cfg.out)
    if rank0:
        folder.start(cfg, resume)
    fabric.barrier()
    device = fabric.device
    configure_backends(cfg, device)

    data = load_data(cfg, device, show_progress and rank0)
    net = build_model(cfg, data)
    state = RunState()
    resuming = resume and folder.has_state()
    if resuming:
        net.load_state_dict(load_checkpoint(folder.last).state_dict())
    if cfg.engine.sync_batchnorm and world > 1:
        net = torch.nn.SyncBatchNorm.convert_sync_batchnorm(net)
    model = torch.compile(net) if cfg.engine.compile else net
    if cfg.engine.compile:
        torch._dynamo.config.cache_size_limit = max(8, 4 * len(data))  # a graph per corpus
    model = fabric.setup_module(model)
    optimizer = fabric.setup_optimizers(make_optimizer(net, cfg, data))
    scaler = getattr(fabric.strategy.precision, "scaler", None)
    if resuming:
        state = load_trainer_state(folder.last, optimizer, scaler)
        console.print(f"resuming {folder.path} at stage {state.stage + 1}, epoch {state.epoch}")

    names = list(data)
    multi_steps = cfg.multi.steps_per_epoch * len(names) if cfg.mode == "multi" else None
    steps_per_epoch = multi_steps or len(
        epoch_batches(len(data[names[0]].train), cfg.data.batch_size, 0, 0, 0, world)
    )
    schedule = Schedule(cfg.optim, steps_per_epoch)
    _set_lr(optimizer, schedule.lr(state))
    log = MetricsLog(folder.path, enabled=rank0)
    log.truncate_after(state.epoch)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("left"),
        TimeRemainingColumn(),
    )
    progress = Progress(*columns, disable=not (show_progress and rank0), console=console)
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
            )
            description = (
                f"stage {state.stage + 1}/{schedule.stages} epoch {state.epoch + 1}"
                f"/{schedule.epoch_limit(state)}"
            )
            task = progress.add_task(description, total=len(plan))
            start = {k: v.detach().clone() for k, v in net.state_dict().items()}
            first_step = state.step
            stats = run_epoch(
                fabric, model, net, optimizer, data, plan, schedule, state, cfg.seed,
                partial(progress.advance, task),
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
                if rank0:  # the model rank 0 saves (other ranks' batch-norm statistics differ)
                    for c in data.values():
                        scores[c.name] = evaluate_devel(
                            net, c, cfg.data.eval_batch_size, cfg.data.window, fabric.autocast,
                            device,
                        )  # fmt: skip
                if world > 1:  # every process takes the same decisions
                    scores = fabric.broadcast(scores, src=0)
            mean = float(np.mean([s[0] for s in scores.values()])) if scores else None
            stage, lr = state.stage, optimizer.param_groups[0]["lr"]
            outcome = schedule.after_epoch(state, mean)
            seconds = time.perf_counter() - t0
            for n in names:
                row = {
                    "epoch": state.epoch, "stage": stage + 1, "step": state.step, "lr": lr,
                    "corpus": n, "train_loss": round(stats.losses[n], 6),
                    "seconds": round(seconds, 2), "samples_per_s": round(stats.samples_per_s, 3),
                    "data_share": round(stats.data_share, 5),
                }  # fmt: skip
                if n in scores:
                    u, acc, dl = scores[n]
                    row.update(devel_uar=round(u, 6), devel_accuracy=round(acc, 6))
                    row.update(devel_loss=round(dl, 6))
                log.log(row)
            if scores:
                summary = " ".join(f"{n} {scores[n][0]:.3f}" for n in names)
                console.print(
                    f"epoch {state.epoch}: devel UAR {summary} (mean {mean:.3f}, best "
                    f"{state.best_uar:.3f}) · {stats.samples_per_s:.1f} samples/s"
                )
            if outcome.new_best:
                _save(fabric, folder, folder.best, net, cfg)
            if outcome.stage_over and not outcome.finished:
                if folder.best.exists():
                    net.load_state_dict(load_checkpoint(folder.best).state_dict())
                optimizer.state.clear()  # a new stage starts without old momentum
            _set_lr(optimizer, schedule.lr(state))
            _save(fabric, folder, folder.last, net, cfg, state, optimizer, scaler)
    log.close()
    digests = _check_replicas(fabric, net)
    if rank0:
        done = {"steps": state.step, "best_devel_uar": state.best_uar, "replicas": digests}
        (folder.path / "DONE.json").write_text(json.dumps(done, indent=2) + "\n")
    fabric.barrier()
    return str(folder.path)


@dataclass
class EpochStats:
    """What one epoch's steps report (read from the device once, at the epoch's end)."""

    losses: dict[str, float]
    samples_per_s: float
    data_share: float
    first_bad: int | None
    """Index in the plan of the first step whose loss or gradients were not finite."""


def run_epoch(
    fabric,
    model: torch.nn.Module,
    net: EmoNet,
    optimizer: torch.optim.Optimizer,
    data: dict[str, CorpusData],
    plan: list[tuple[str, np.ndarray]],
    schedule: Schedule,
    state: RunState,
    seed: int,
    advance=lambda: None,
) -> EpochTotals:
    """Take the steps of ``plan`` (this process's share of each batch); advances ``state.step``.

    Item indices go to the device once; each step is a gather, a forward/backward and an update
    with no host synchronisation (the totals stay on the device until read). Dropout is seeded
    from ``(seed, epoch, rank)``.
    """
    world, rank = fabric.world_size, fabric.global_rank
    device = next(net.parameters()).device  # fabric put the model there; everything follows
    torch.manual_seed(seed * 100_003 + state.epoch * 31 + rank)
    names = list(data)
    mine = [np.array_split(idx, world)[rank] if world > 1 else idx for _, idx in plan]
    bounds = np.cumsum([0, *map(len, mine)])
    for c in data.values():
        c.train.set_epoch(state.epoch)
    index = torch.from_numpy(np.concatenate(mine))
    flat = {dev: index.to(dev) for dev in {c.train.device for c in data.values()}}
    loss_sums = torch.zeros(len(names), device=device)
    counts = np.zeros(len(names))
    big = len(plan)
    first_bad = torch.full((), big, dtype=torch.long, device=device)
    check_grads = fabric.strategy.precision.precision != "16-mixed"
    clip = schedule.optim.grad_clip
    net.train()
    model.train()
    wait, t_loop = 0.0, time.perf_counter()
    for i, (corpus, _) in enumerate(plan):
        t_data = time.perf_counter()
        c = data[corpus]
        idx = flat[c.train.device][bounds[i] : bounds[i + 1]]
        waves, lengths, labels = (t.to(device, non_blocking=True) for t in c.train.batch(idx))
        if not c.train.padded(mine[i]):
            lengths = None  # no padding to mask: the same numbers, fewer operations
        wait += time.perf_counter() - t_data
        if schedule.optim.schedule == "cosine":
            _set_lr(optimizer, schedule.lr(state))
        loss, finite = train_step(
            fabric, model, net, optimizer, c.loss, waves, lengths, labels, corpus, clip,
            check_grads,
        )  # fmt: skip
        k = names.index(corpus)
        loss_sums[k] += loss * len(labels)
        counts[k] += len(labels)
        first_bad = torch.where(finite, first_bad, first_bad.clamp(max=i))
        state.step += 1
        advance()
    samples = sum(len(idx) for _, idx in plan)
    return EpochTotals(names, loss_sums, counts, first_bad, len(plan), samples, wait, t_loop)


@dataclass
class EpochTotals:
    """One epoch's sums, still on the device: :meth:`read` waits for the device, once."""

    names: list[str]
    loss_sums: torch.Tensor
    counts: np.ndarray
    first_bad: torch.Tensor
    steps: int
    samples: int
    wait: float
    started: float

    def read(self, fabric) -> EpochStats:
        """The epoch's numbers (agreed between processes on whether a step went non-finite)."""
        first_bad = self.first_bad
        if fabric.world_size > 1:
            first_bad = fabric.all_reduce(first_bad, reduce_op="min")
        sums, bad = self.loss_sums.tolist(), int(first_bad)
        seconds = time.perf_counter() - self.started
        return EpochStats(
            losses={n: sums[k] / max(self.counts[k], 1) for k, n in enumerate(self.names)},
            samples_per_s=self.samples / seconds,
            data_share=self.wait / seconds,
            first_bad=None if bad >= self.steps else bad,
        )


def train_step(
    fabric,
    model: torch.nn.Module,
    net: EmoNet,
    optimizer: torch.optim.Optimizer,
    loss_fn: torch.nn.Module,
    waves: torch.Tensor,
    lengths: torch.Tensor,
    labels: torch.Tensor,
    corpus: str,
    clip: float | None = None,
    check_grads: bool = True,
) -> tuple[torch.Tensor, torch.Tensor]:
    """One optimiser step on one corpus's batch: (loss, all finite) as device tensors.

    Gradients of the other corpora's parameters are dropped (no momentum or decay on them).
    Under 16-mixed, the gradient scaler unscales and skips non-finite steps itself.
    """
    logits = model(waves, lengths, corpus=corpus)
    loss = loss_fn(logits.float(), labels)
    optimizer.zero_grad(set_to_none=True)
    fabric.backward(loss)
    net.drop_other_corpus_grads(corpus)
    finite = torch.isfinite(loss.detach())
    if check_grads:
        grads = [p.grad for p in net.parameters() if p.grad is not None]
        if clip:
            norm = torch.nn.utils.clip_grad_norm_(
                [p for p in net.parameters() if p.grad is not None], clip
            )
        else:
            norm = torch.nn.utils.get_total_norm(grads)
        finite = finite & torch.isfinite(norm)
    elif clip:
        fabric.clip_gradients(model, optimizer, max_norm=clip)
    optimizer.step()
    return loss.detach(), finite


def _save(
    fabric,
    folder: RunFolder,
    where: Path,
    net: EmoNet,
    cfg: TrainConfig,
    state: RunState | None = None,
    optimizer=None,
    scaler=None,
) -> None:
    """Rank 0 writes a checkpoint; every process waits for it."""
    if fabric.global_rank == 0:
        folder.save(where, net, cfg, state, optimizer, scaler)
    fabric.barrier()


def _set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    for g in optimizer.param_groups:
        g["lr"] = lr


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


def describe_failure(exc: Exception) -> str:
    """One line for the CLI."""
    return (
        str(exc)
        if isinstance(exc, (ConfigError, TrainingError))
        else f"{type(exc).__name__}: {exc}"
    )
