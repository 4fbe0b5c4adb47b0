"""Run-folder bookkeeping: metrics.csv, TensorBoard, and resumable trainer state.

The trainer state (optimizer tensors, epoch, stage, early-stopping counters) is saved beside the
model checkpoint as ``optimizer.safetensors`` + ``trainer_state.json``: no pickle anywhere.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file


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
            try:
                from torch.utils.tensorboard import SummaryWriter

                self.writer = SummaryWriter(str(folder / "tensorboard"))
            except ImportError:  # tensorboard is optional; metrics.csv is always written
                self.writer = None

    def truncate_after(self, epoch: int) -> None:
        """Drop rows of epochs after ``epoch`` (they belong to an interrupted attempt)."""
        if not self.enabled or not self.path.exists():
            return
        with open(self.path, newline="") as f:
            rows = [r for r in csv.DictReader(f) if int(r["epoch"]) <= epoch]
        tmp = self.path.with_name(".metrics.csv.tmp")
        with open(tmp, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=self.COLUMNS)
            w.writeheader()
            w.writerows(rows)
        tmp.replace(self.path)

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
                tensors[f"{pid}.{k}"] = v.detach().clone().contiguous()
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


def save_trainer_state(folder: Path, optimizer: torch.optim.Optimizer, state: dict) -> None:
    """Write ``optimizer.safetensors`` and ``trainer_state.json`` into a checkpoint folder."""
    tensors, meta = optimizer_to_tensors(optimizer)
    save_file(tensors, str(folder / "optimizer.safetensors"))
    (folder / "trainer_state.json").write_text(json.dumps({**state, "optimizer": meta}, indent=1))


def load_trainer_state(folder: Path) -> tuple[dict[str, torch.Tensor], dict]:
    """Read what :func:`save_trainer_state` wrote."""
    meta = json.loads((folder / "trainer_state.json").read_text())
    return load_file(str(folder / "optimizer.safetensors")), meta
