"""The training loop: every mode of the paper, on one CPU or many GPUs, resumable.

Read top to bottom: set up the engine (Lightning Fabric), the data (decoded once), the model for
the mode, the optimiser groups; then stages of epochs (the reference schedule has three learning
rates, each until devel UAR stops improving) with evaluation, checkpoints and metrics. All
randomness of an epoch derives from (seed, epoch), so a run resumed from ``checkpoints/last``
retraces the interrupted epoch exactly.
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from emonet.corpora.emoset import EmoSetError, open_emoset
from emonet.data.datasets import CropDataset, UtteranceDataset, collate_padded, load_partition
from emonet.data.sampling import corpus_schedule
from emonet.evaluate.metrics import uar
from emonet.evaluate.scoring import predict_dataset
from emonet.model import EmoNet, create_model, load_checkpoint, save_checkpoint
from emonet.runtime import keep_freed_memory
from emonet.train.config import ConfigError, TrainConfig, dump_config, to_dict
from emonet.train.losses import balanced_class_weights, make_loss
from emonet.train.state import (
    MetricsLog,
    load_trainer_state,
    optimizer_from_tensors,
    save_trainer_state,
)


class TrainingError(RuntimeError):
    """Training cannot go on (non-finite loss, incompatible resume state, …)."""


@dataclass
class CorpusData:
    """Decoded train/devel audio of one corpus and its training crops."""

    name: str
    labels: list[str]
    train: CropDataset
    devel: UtteranceDataset


def adapter_weight_decay(n_train: int) -> float:
    """The reference's adapter weight decay by training-set size (here applied as real decay)."""
    if n_train >= 10_000:
        return 1e-6
    if n_train >= 1_000:
        return 5e-4
    if n_train >= 500:
        return 2e-3
    return 5e-3


def _epoch_batches(
    n: int, batch: int, seed: int, epoch: int, key: int, world: int = 1
) -> list[np.ndarray]:
    """Shuffled index batches of one pass, a function of (seed, epoch, key) only.

    A last batch too small to give every process two items is dropped (one item breaks batch
    norm); every process computes the same plan, so they agree on it.
    """
    perm = np.random.default_rng((seed, epoch, key, 17)).permutation(n)
    batches = [perm[i : i + batch] for i in range(0, n, batch)]
    if len(batches) > 1 and len(batches[-1]) < 2 * world:
        batches.pop()
    return batches


def _load_data(cfg: TrainConfig, show_progress: bool) -> dict[str, CorpusData]:
    emoset = open_emoset(cfg.data.emoset)
    missing = [c for c in cfg.data.corpora if c not in emoset]
    if missing:
        raise ConfigError(
            f"data.corpora: {missing} not found in EmoSet {cfg.data.emoset} "
            f"(it holds: {sorted(emoset) or 'nothing'})"
        )
    cache_dir = Path(cfg.out) / "cache" if cfg.data.cache == "mmap" else None
    out = {}
    for k, name in enumerate(cfg.data.corpora):
        corpus = emoset[name]
        tr_cache, tr_labels, _ = load_partition(
            corpus, "train", cache_dir, show_progress, cfg.data.limit
        )
        dv_cache, dv_labels, _ = load_partition(
            corpus, "devel", cache_dir, show_progress, cfg.data.limit
        )
        out[name] = CorpusData(
            name,
            corpus.labels,
            CropDataset(tr_cache, tr_labels, cfg.data.window, seed=cfg.seed * 1000 + k),
            UtteranceDataset(dv_cache, dv_labels),
        )
    return out


def _build_model(cfg: TrainConfig, data: dict[str, CorpusData]) -> EmoNet:
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
    return model


def _param_groups(model: EmoNet, cfg: TrainConfig, data: dict[str, CorpusData]) -> list[dict]:
    """Trainable parameters in groups: adapters (decay by corpus size), norms/biases, the rest."""
    wd_auto = cfg.optim.adapter_weight_decay == "auto"
    groups: dict[tuple[str, float], list[torch.nn.Parameter]] = {}
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        corpus = model.corpus_of_parameter(name)
        if model.is_adapter_parameter(name):
            if wd_auto:
                n = len(data[corpus].train) if corpus in data else 0
                wd = adapter_weight_decay(n)
            else:
                wd = float(cfg.optim.adapter_weight_decay)
            key = ("adapter", wd)
        elif p.ndim <= 1:
            key = ("norm_bias", 0.0)
        else:
            key = ("weight", cfg.optim.weight_decay)
        groups.setdefault(key, []).append(p)
    return [
        {"params": ps, "weight_decay": wd, "name": f"{kind}@{wd:g}"}
        for (kind, wd), ps in groups.items()
    ]


def _make_optimizer(params: list[dict], cfg: TrainConfig, lr: float) -> torch.optim.Optimizer:
    if cfg.optim.schedule == "reference":
        return torch.optim.SGD(params, lr=lr, momentum=cfg.optim.momentum)
    return torch.optim.AdamW(params, lr=lr)


def evaluate_devel(
    model: EmoNet, corpus: CorpusData, batch_size: int, window: float, autocast
) -> tuple[float, float, float]:
    """(UAR, accuracy, loss) on devel: whole utterances, or averaged windows for the avgpool head."""
    logits = predict_dataset(model, corpus.devel, corpus.name, batch_size, window, autocast)
    y = corpus.devel.labels
    loss = torch.nn.functional.cross_entropy(torch.from_numpy(logits), torch.as_tensor(np.array(y)))
    p = logits.argmax(1)
    return uar(y, p), float(np.mean(y == p)), float(loss)


def train(cfg: TrainConfig, resume: bool = False, show_progress: bool = True) -> Path:
    """Train according to ``cfg``; returns the run folder. Launches DDP processes when asked.

    ``resume`` continues from ``checkpoints/last``; resuming a finished run does nothing.
    """
    from lightning_fabric import Fabric

    if resume and (Path(cfg.out) / "DONE.json").is_file():
        Console().print(f"{cfg.out} has already finished; nothing to resume")
        return Path(cfg.out)
    if cfg.init:
        _crop_to_checkpoint_window(cfg)

    strategy = cfg.engine.strategy
    world = cfg.engine.devices * cfg.engine.num_nodes
    if strategy == "auto" and world > 1:
        import os

        strategy = "ddp" if "LOCAL_RANK" in os.environ else "ddp_spawn"
    fabric = Fabric(
        accelerator=cfg.engine.accelerator,
        devices=cfg.engine.devices,
        num_nodes=cfg.engine.num_nodes,
        precision=cfg.engine.precision,
        strategy=strategy,
    )
    out = fabric.launch(_train_worker, cfg, resume, show_progress)
    return Path(out) if out is not None else Path(cfg.out)


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


def _train_worker(fabric, cfg: TrainConfig, resume: bool, show_progress: bool) -> str:
    if cfg.engine.accelerator == "cpu":
        keep_freed_memory()
    if cfg.engine.threads:
        torch.set_num_threads(cfg.engine.threads)
    rank0 = fabric.global_rank == 0
    console = Console(quiet=not rank0)
    run = Path(cfg.out)
    last_dir, best_dir = run / "checkpoints" / "last", run / "checkpoints" / "best"
    if rank0:
        if run.exists() and not resume and (last_dir / "trainer_state.json").exists():
            raise TrainingError(
                f"{run} already holds a run; use --resume to continue it or another out"
            )
        run.mkdir(parents=True, exist_ok=True)
        (run / "checkpoints").mkdir(exist_ok=True)
        dump_config(cfg, run / "config.yaml")
    fabric.barrier()

    data = _load_data(cfg, show_progress and rank0)
    model = _build_model(cfg, data)
    names = list(data)
    loss_fns = {}
    for c in data.values():
        weight = (
            balanced_class_weights(c.train.labels, len(c.labels))
            if cfg.loss.class_weights
            else None
        )
        loss_fns[c.name] = make_loss(
            cfg.loss.name,
            weight,
            cfg.loss.focal_gamma,
            cfg.loss.focal_alpha,
            cfg.loss.label_smoothing,
        )

    stages = cfg.optim.lr_stages if cfg.optim.schedule == "reference" else [cfg.optim.lr]
    state = {
        "stage": 0,
        "epoch": 0,
        "step": 0,
        "best_uar": -1.0,
        "stage_best": -1.0,
        "bad_epochs": 0,
    }
    params = _param_groups(model, cfg, data)
    optimizer = _make_optimizer(params, cfg, stages[0])
    if resume:
        if not (last_dir / "trainer_state.json").exists():
            raise TrainingError(f"--resume: no checkpoint to resume in {last_dir}")
        loaded = load_checkpoint(last_dir)
        model.load_state_dict(loaded.state_dict())
        model.set_mode(cfg.mode, cfg.data.corpora if cfg.mode == "multi" else cfg.data.corpora[0])
        tensors, meta = load_trainer_state(last_dir)
        optimizer = _make_optimizer(params, cfg, stages[meta["stage"]])
        optimizer_from_tensors(optimizer, tensors, meta.pop("optimizer"))
        state.update({k: meta[k] for k in state})
        console.print(f"resuming {run} at stage {state['stage'] + 1}, epoch {state['epoch']}")

    model, optimizer = fabric.setup(model, optimizer)
    module: EmoNet = model.module if hasattr(model, "module") else model
    log = MetricsLog(run, enabled=rank0)
    log.truncate_after(state["epoch"])
    world, rank = fabric.world_size, fabric.global_rank

    def save(folder: Path, with_state: bool) -> None:
        if rank0:
            tmp = folder.with_name(f".{folder.name}.tmp")
            if tmp.exists():
                shutil.rmtree(tmp)
            save_checkpoint(module, tmp, extra={"train_config": to_dict(cfg)})
            if with_state:
                save_trainer_state(tmp, optimizer, state)
            old = folder.with_name(f".{folder.name}.old")
            if folder.exists():
                folder.replace(old)
            tmp.replace(folder)
            if old.exists():
                shutil.rmtree(old)
        fabric.barrier()

    def reload_best() -> None:
        best = load_checkpoint(best_dir)
        module.load_state_dict(best.state_dict())

    steps_per_epoch = (
        cfg.multi.steps_per_epoch * len(names)
        if cfg.mode == "multi"
        else len(_epoch_batches(len(data[names[0]].train), cfg.data.batch_size, 0, 0, 0, world))
    )
    total_epochs = cfg.optim.max_epochs
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    autocast = fabric.autocast
    with Progress(*columns, disable=not (show_progress and rank0), console=console) as progress:
        while state["stage"] < len(stages):
            while True:
                epoch = state["epoch"]
                stage_epoch = epoch  # epochs are counted across stages
                if cfg.optim.schedule == "cosine" and epoch >= total_epochs:
                    break
                t0 = time.time()
                for c in data.values():
                    c.train.set_epoch(epoch)
                torch.manual_seed(cfg.seed * 100_003 + epoch * 31 + rank)  # dropout of this epoch
                plan = _epoch_plan(cfg, data, epoch, world)
                task = progress.add_task(
                    f"stage {state['stage'] + 1}/{len(stages)} epoch {epoch + 1}", total=len(plan)
                )
                sums = {n: [0.0, 0] for n in names}
                model.train()
                wait, samples, t_loop = 0.0, 0, time.perf_counter()
                for corpus, idx in plan:
                    t_data = time.perf_counter()
                    ds = data[corpus].train
                    mine = np.array_split(idx, world)[rank] if world > 1 else idx
                    waves, lengths, labels = collate_padded([ds[int(i)] for i in mine])
                    waves, lengths, labels = (fabric.to_device(t) for t in (waves, lengths, labels))
                    wait += time.perf_counter() - t_data
                    samples += len(idx)
                    if cfg.optim.schedule == "cosine":
                        _set_lr(optimizer, _cosine_lr(cfg, state["step"], steps_per_epoch))
                    # batch-norm statistics before this step: restored if the step goes non-finite
                    buffers = {n: b.detach().clone() for n, b in module.named_buffers()}
                    logits = model(waves, lengths, corpus=corpus)
                    loss = loss_fns[corpus](logits.float(), labels)
                    optimizer.zero_grad(set_to_none=True)
                    fabric.backward(loss)
                    module.drop_other_corpus_grads(corpus)
                    if cfg.engine.precision == "16-mixed":  # the scaler unscales, skips inf steps
                        if cfg.optim.grad_clip:
                            fabric.clip_gradients(model, optimizer, max_norm=cfg.optim.grad_clip)
                        norm = 0.0
                    else:
                        norm = _grad_norm(module, cfg.optim.grad_clip)
                    if not _all_finite(fabric, loss, norm):
                        # parameters are still those of the last finite step; statistics too
                        module.load_state_dict(buffers, strict=False)
                        save(run / "checkpoints" / "last-good", with_state=False)
                        raise TrainingError(
                            f"non-finite loss {loss.item()} (gradient norm {norm:.3g}) at step "
                            f"{state['step']} (epoch {epoch + 1}, corpus {corpus}); the last good "
                            f"weights are in {run / 'checkpoints' / 'last-good'}"
                        )
                    optimizer.step()
                    state["step"] += 1
                    sums[corpus][0] += loss.item() * len(mine)
                    sums[corpus][1] += len(mine)
                    progress.advance(task)
                progress.remove_task(task)
                t_loop = time.perf_counter() - t_loop
                state["epoch"] = epoch + 1
                current_lr = optimizer.param_groups[0]["lr"]
                scores = {}
                if (epoch + 1) % cfg.eval_every == 0:
                    for c in data.values():
                        scores[c.name] = evaluate_devel(
                            module, c, cfg.data.eval_batch_size, cfg.data.window, autocast
                        )
                seconds = time.time() - t0
                for n in names:
                    s, k = sums[n]
                    row = {
                        "epoch": epoch + 1,
                        "stage": state["stage"] + 1,
                        "step": state["step"],
                        "lr": current_lr,
                        "corpus": n,
                        "train_loss": round(s / max(k, 1), 6),
                        "seconds": round(seconds, 2),
                        "samples_per_s": round(samples / t_loop, 3),
                        "data_share": round(wait / t_loop, 5),
                    }
                    if n in scores:
                        u, acc, dl = scores[n]
                        row.update(
                            devel_uar=round(u, 6),
                            devel_accuracy=round(acc, 6),
                            devel_loss=round(dl, 6),
                        )
                    log.log(row)
                stop_stage = False
                if scores:
                    mean_uar = float(np.mean([scores[n][0] for n in names]))
                    summary = " ".join(f"{n} {scores[n][0]:.3f}" for n in names)
                    console.print(f"epoch {epoch + 1}: devel UAR {summary} (mean {mean_uar:.3f})")
                    if mean_uar > state["best_uar"]:
                        state["best_uar"] = mean_uar
                        save(best_dir, with_state=False)
                    if mean_uar > state["stage_best"] + cfg.optim.min_delta:
                        state["stage_best"], state["bad_epochs"] = mean_uar, 0
                    else:
                        state["bad_epochs"] += 1
                        stop_stage = state["bad_epochs"] >= cfg.optim.patience
                epochs_in_stage = state.setdefault("stage_epochs", 0) + 1
                state["stage_epochs"] = epochs_in_stage
                if cfg.optim.schedule == "reference" and epochs_in_stage >= total_epochs:
                    stop_stage = True
                if stop_stage and cfg.optim.schedule == "reference":
                    state["stage"] += 1
                    state["stage_best"], state["bad_epochs"], state["stage_epochs"] = -1.0, 0, 0
                    if best_dir.exists():
                        reload_best()
                    if state["stage"] < len(stages):
                        _set_lr(optimizer, stages[state["stage"]])
                        optimizer.state.clear()  # a new stage starts without old momentum
                save(last_dir, with_state=True)
                del stage_epoch
                if stop_stage or (
                    cfg.optim.schedule == "cosine" and state["epoch"] >= total_epochs
                ):
                    break
            if cfg.optim.schedule == "cosine":
                break
    log.close()
    digests = _check_replicas(fabric, module)
    if rank0:
        done = {"steps": state["step"], "best_devel_uar": state["best_uar"], "replicas": digests}
        (run / "DONE.json").write_text(json.dumps(done, indent=2) + "\n")
    fabric.barrier()
    return str(run)


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
    mine = torch.tensor(list(bytes.fromhex(digest)), dtype=torch.int64)
    gathered = fabric.all_gather(mine).reshape(fabric.world_size, -1)
    digests = [bytes(row.tolist()).hex() for row in gathered]
    if len(set(digests)) != 1:
        raise TrainingError(f"DDP replicas ended with different weights: {digests}")
    return digests


def _grad_norm(module: torch.nn.Module, clip: float | None) -> float:
    """Total gradient norm (after DDP's all-reduce), clipping to ``clip`` when set."""
    grads = [p for p in module.parameters() if p.grad is not None]
    if not grads:
        return 0.0
    return float(torch.nn.utils.clip_grad_norm_(grads, clip or float("inf")))


def _all_finite(fabric, loss: torch.Tensor, norm: float) -> bool:
    """True when loss and gradients are finite on every rank (all ranks then agree)."""
    ok = bool(torch.isfinite(loss)) and math.isfinite(norm)
    if fabric.world_size > 1:
        flag = fabric.all_reduce(torch.tensor(float(ok)), reduce_op="min")
        ok = bool(flag >= 1.0)
    return ok


def _set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    for g in optimizer.param_groups:
        g["lr"] = lr


def _cosine_lr(cfg: TrainConfig, step: int, steps_per_epoch: int) -> float:
    warm = cfg.optim.warmup_epochs * steps_per_epoch
    total = cfg.optim.max_epochs * steps_per_epoch
    if step < warm:
        return cfg.optim.lr * (step + 1) / warm
    progress = (step - warm) / max(1, total - warm)
    return cfg.optim.lr * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


def _epoch_plan(
    cfg: TrainConfig, data: dict[str, CorpusData], epoch: int, world: int = 1
) -> list[tuple[str, np.ndarray]]:
    """(corpus, global batch indices) per step of one epoch; a function of (seed, epoch) only."""
    names = list(data)
    bs = cfg.data.batch_size
    if cfg.mode != "multi":
        (name,) = names
        batches = _epoch_batches(len(data[name].train), bs, cfg.seed, epoch, 0, world)
        return [(name, b) for b in batches]
    order = corpus_schedule(
        {n: len(data[n].train) for n in names},
        cfg.multi.steps_per_epoch * len(names),
        cfg.multi.sampling,
        cfg.multi.temperature,
        seed=cfg.seed * 7919 + epoch,
    )
    queues: dict[str, list[np.ndarray]] = {n: [] for n in names}
    passes = dict.fromkeys(names, 0)
    plan = []
    for n in order:
        if not queues[n]:
            k = names.index(n)
            queues[n] = _epoch_batches(
                len(data[n].train), bs, cfg.seed, epoch * 1000 + passes[n], k + 1, world
            )
            passes[n] += 1
        plan.append((n, queues[n].pop(0)))
    return plan


def describe_failure(exc: Exception) -> str:
    """One line for the CLI."""
    if isinstance(exc, (ConfigError, EmoSetError, TrainingError)):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"
