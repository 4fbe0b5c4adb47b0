"""A run's state and bookkeeping: the counters that shape its future, metrics.csv, TensorBoard.

Everything a resumed run needs besides the weights is :class:`RunState` (stage, epoch, step,
early-stopping counters), the optimizer's tensors and the gradient scaler's state, saved beside
the model checkpoint as ``trainer_state.json`` + ``optimizer.safetensors``: no pickle anywhere.
Every random stream of the loop (crops, batch order, corpus order, dropout) is a function of
``(seed, epoch, rank)``, so the epoch counter is the whole random state and resume is exact by
construction.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from emonet.errors import EmoNetError
from emonet.files import atomic_path


class TrainingError(EmoNetError, RuntimeError):
    """Training cannot go on (non-finite loss, a damaged trainer state, replicas that drifted)."""


@dataclass
class RunState:
    """The counters of a run; with the weights, optimizer and scaler, all that shapes its future."""

    stage: int = 0
    """Index of the current learning-rate stage."""
    epoch: int = 0
    """Epochs finished since the run's start (all stages)."""
    step: int = 0
    """Optimizer steps taken."""
    stage_epochs: int = 0
    """Epochs finished in the current stage."""
    best_uar: float = -1.0
    """Best mean devel UAR of the run (``checkpoints/best``)."""
    stage_best: float = -1.0
    """Best mean devel UAR of the current stage (early stopping)."""
    bad_epochs: int = 0
    """Scored epochs of this stage without a gain of ``min_delta``."""
    finished: bool = False
    """The schedule has ended."""


class MetricsLog:
    """Append rows to ``metrics.csv`` (one per epoch and corpus) and mirror them to TensorBoard."""

    COLUMNS = (
        "epoch",
        "stage",
        "step",
        "lr",
        "corpus",
        "train_loss",
        "devel_loss",
        "devel_uar",
        "devel_accuracy",
        "seconds",
        "samples_per_s",
        "data_share",
    )

    def __init__(self, folder: Path, enabled: bool = True) -> None:
        self.path = folder / "metrics.csv"
        self.enabled = enabled
        self.writer = None
        if enabled:
            from torch.utils.tensorboard import SummaryWriter

            self.writer = SummaryWriter(str(folder / "tensorboard"))

    def truncate_after(self, epoch: int) -> None:
        """Drop rows of epochs after ``epoch`` (they belong to an interrupted attempt)."""
        if not self.enabled or not self.path.exists():
            return
        with open(self.path, newline="") as f:
            rows = [r for r in csv.DictReader(f) if int(r["epoch"]) <= epoch]
        with atomic_path(self.path) as tmp, open(tmp, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=self.COLUMNS)
            w.writeheader()
            w.writerows(rows)

    def log(self, row: dict[str, Any]) -> None:
        if not self.enabled:
            return
        new = not self.path.exists()
        with open(self.path, "a", newline="") as f:
            w = csv.DictWriter(f, fieldnames=self.COLUMNS)
            if new:
                w.writeheader()
            w.writerow({k: row.get(k, "") for k in self.COLUMNS})
            f.flush()
            os.fsync(f.fileno())
        if self.writer is not None:
            tag = row["corpus"]
            for key in ("train_loss", "devel_loss", "devel_uar", "devel_accuracy", "lr"):
                value = row.get(key)
                if isinstance(value, (int, float)):
                    self.writer.add_scalar(f"{tag}/{key}", value, row["epoch"])
            self.writer.flush()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def optimizer_to_tensors(optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict]:
    """Split an optimizer state dict into tensors (for safetensors) and JSON-able scalars."""
    sd = optimizer.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for pid, st in sd["state"].items():
        for k, v in st.items():
            if torch.is_tensor(v):
                tensors[f"{pid}.{k}"] = v.detach().cpu().contiguous()
            else:
                scalars.setdefault(str(pid), {})[k] = v
    groups = [{k: v for k, v in g.items()} for g in sd["param_groups"]]
    return tensors, {"scalars": scalars, "param_groups": groups}


def optimizer_from_tensors(
    optimizer: torch.optim.Optimizer, tensors: dict[str, torch.Tensor], meta: dict
) -> None:
    """Inverse of :func:`optimizer_to_tensors`."""
    state: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        pid, _, name = key.partition(".")
        state.setdefault(int(pid), {})[name] = value
    for pid, st in meta["scalars"].items():
        state.setdefault(int(pid), {}).update(st)
    optimizer.load_state_dict({"state": state, "param_groups": meta["param_groups"]})


TRAINING_WEIGHTS = "training_weights.safetensors"
"""The weights being trained, beside a checkpoint whose own weights are their average."""


def save_trainer_state(
    folder: Path,
    state: RunState,
    optimizer: torch.optim.Optimizer,
    scaler: Any = None,
    training_weights: dict[str, torch.Tensor] | None = None,
) -> None:
    """Write ``optimizer.safetensors`` (and the training weights, when the checkpoint holds
    their average) then ``trainer_state.json`` (its presence marks a complete checkpoint)."""
    tensors, meta = optimizer_to_tensors(optimizer)
    save_file(tensors, str(folder / "optimizer.safetensors"))
    if training_weights is not None:
        weights = {k: v.detach().cpu().contiguous() for k, v in training_weights.items()}
        save_file(weights, str(folder / TRAINING_WEIGHTS))
    record = {
        "state": dataclasses.asdict(state),
        "optimizer": meta,
        "scaler": _scaler_state(scaler),
    }
    (folder / "trainer_state.json").write_text(json.dumps(record, indent=1))


def load_trainer_state(
    folder: Path, optimizer: torch.optim.Optimizer, scaler: Any = None
) -> RunState:
    """Restore what :func:`save_trainer_state` wrote into ``optimizer`` (and ``scaler``); a
    truncated or garbled file is a TrainingError naming it."""
    from safetensors import SafetensorError

    record_file = path = folder / "trainer_state.json"
    try:
        record = json.loads(record_file.read_text())
        path = folder / "optimizer.safetensors"
        tensors = load_file(str(path))
        path = record_file  # the rest reads the record's fields
        optimizer_from_tensors(optimizer, tensors, record["optimizer"])
        if scaler is not None and record.get("scaler"):
            scaler.load_state_dict(record["scaler"])
        return RunState(**record["state"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError, SafetensorError) as exc:
        raise TrainingError(
            f"{path}: cannot resume from it, the file is truncated or damaged "
            f"({type(exc).__name__}: {exc}); restore it, or train anew in another out folder"
        ) from None


def load_training_weights(folder: Path) -> dict[str, torch.Tensor]:
    """The training weights saved beside an averaged checkpoint; TrainingError if missing."""
    from safetensors import SafetensorError

    path = folder / TRAINING_WEIGHTS
    try:
        return load_file(str(path))
    except (OSError, SafetensorError) as exc:
        raise TrainingError(
            f"{path}: cannot resume without the training weights beside the averaged ones "
            f"({type(exc).__name__}: {exc}); train anew in another out folder"
        ) from None


def _scaler_state(scaler: Any) -> dict | None:
    """A gradient scaler's state as JSON-able numbers (None without a scaler)."""
    if scaler is None or not scaler.is_enabled():
        return None
    return {k: float(v) if torch.is_tensor(v) else v for k, v in scaler.state_dict().items()}
