"""Checkpoints: a folder with ``config.json`` (everything needed to rebuild the model) and
``model.safetensors`` (the weights). Never pickle.

``config.json`` holds the format and its version, the package version that wrote it, the
architecture id, the registered name, the full model configuration (front end included, also
copied to a top-level ``frontend`` for readers), the corpora with their ordered label lists, and a
caller's ``extra`` dict (e.g. the training configuration), and ``weights``: the SHA-256 of
``model.safetensors`` as written and ``config_sha256``, the SHA-256 of the model section of
``config.json`` (architecture, model configuration, front end, corpora and label order). Both
files are written to temporary names and renamed, so a reader never sees half a file.

Loading checks that the weights file still has its digest (a file overwritten or damaged after
saving is refused), that the model section is the one saved with those weights (an edited
``n_mels``, hop or label order changes no tensor shape but every prediction), and that every
floating-point tensor is finite (also for checkpoints written before the digests existed): NaN
weights otherwise turn into empty predictions and NaN scores that ``max()`` and ``argmax``
silently step over.

:func:`resolve_checkpoint` is the one rule for "a checkpoint or a run folder" that ``predict``,
``export``, ``evaluate`` and the Python API share.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch

from emonet.errors import EmoNetError
from emonet.files import atomic_path, write_text
from emonet.model.emonet import ARCHITECTURE, EmoNet
from emonet.model.registry import config_from_dict

FORMAT = "emonet-checkpoint"
FORMAT_VERSION = 1
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"


class CheckpointError(EmoNetError, ValueError):
    """A checkpoint cannot be used; the message names the folder and the problem."""


class CheckpointNotFound(CheckpointError, FileNotFoundError):
    """A path is neither a checkpoint folder nor a run folder holding one."""


def resolve_checkpoint(path: str | Path, notify: bool = True) -> Path:
    """The checkpoint folder that ``path`` means, by one rule for every command.

    A folder with ``config.json`` or ``model.safetensors`` is a checkpoint itself. A run folder
    means ``checkpoints/best`` (selected on devel); if the run has none (no validation has run
    yet, or training stopped before it), ``checkpoints/last`` is used and a notice saying so is
    printed on stderr (unless ``notify`` is False: a caller that said it already), so a score is
    never silently that of an unselected model. Otherwise :class:`CheckpointNotFound`.
    """
    path = Path(path)
    if (path / CONFIG_FILE).is_file() or (path / WEIGHTS_FILE).is_file():
        return path
    best, last = path / "checkpoints" / "best", path / "checkpoints" / "last"
    if best.is_dir():
        return best
    if last.is_dir():
        if notify:
            print(
                f"note: {path} has no checkpoints/best (not selected on devel); using {last}",
                file=sys.stderr,
            )
        return last
    raise CheckpointNotFound(
        f"{path}: neither a checkpoint folder ({CONFIG_FILE} + {WEIGHTS_FILE}) nor a run folder "
        "with checkpoints/best or checkpoints/last"
    )


def checkpoint_digest(folder: str | Path) -> str:
    """The SHA-256 of a checkpoint's weights file: what identifies the weights a run learnt from
    (recorded in ``config.json``; computed from the file for checkpoints written before)."""
    folder = Path(folder)
    saved = read_checkpoint_config(folder).get("weights")
    if isinstance(saved, dict) and isinstance(saved.get("sha256"), str):
        return saved["sha256"]
    try:
        return weights_file_sha256((folder / WEIGHTS_FILE).read_bytes())
    except OSError as exc:
        raise CheckpointError(f"{folder / WEIGHTS_FILE}: cannot read ({exc})") from None


def weights_file_sha256(data: bytes) -> str:
    """SHA-256 (hex) of a weights file's bytes, as stored in ``config.json``."""
    return hashlib.sha256(data).hexdigest()


MODEL_SECTION = ("architecture", "config", "frontend", "corpora")
"""Keys of ``config.json`` that decide what the weights mean; ``config_sha256`` covers them."""


def model_section_sha256(meta: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the model section of a ``config.json`` dict, as canonical JSON."""
    section = {k: meta.get(k) for k in MODEL_SECTION}
    text = json.dumps(section, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _check_finite(weights: Path, tensors: Mapping[str, torch.Tensor]) -> None:
    """CheckpointError naming the first tensor with NaN or infinite values."""
    for name, v in tensors.items():
        if v.is_floating_point() and not bool(torch.isfinite(v).all()):
            bad = int((~torch.isfinite(v)).sum())
            raise CheckpointError(
                f"{weights}: tensor {name} holds {bad} non-finite value(s) (NaN or inf) of "
                f"{v.numel()}; the weights are damaged (or training diverged) and cannot be used"
            )


def checkpoint_config(
    model: EmoNet, extra: dict | None = None, digest: str | None = None
) -> dict[str, Any]:
    """The ``config.json`` content for ``model`` (``digest``: SHA-256 of its weights file)."""
    from emonet import __version__

    config = json.loads(json.dumps(dataclasses.asdict(model.config)))  # as config.json reads
    meta: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "emonet_version": __version__,
        "architecture": ARCHITECTURE,
        "name": model.name,
        "config": config,
        "frontend": config["frontend"],
        "corpora": [{"name": c, "labels": list(labels)} for c, labels in model.corpora.items()],
        "extra": extra or {},
    }
    if digest is not None:
        meta["weights"] = {
            "file": WEIGHTS_FILE,
            "sha256": digest,
            "config_sha256": model_section_sha256(meta),
        }
    return meta


def save_checkpoint(model: EmoNet, folder: str | Path, extra: dict | None = None) -> Path:
    """Write ``config.json`` (with the weights' SHA-256) and ``model.safetensors`` into
    ``folder`` (created); returns it."""
    from safetensors.torch import save

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    json.dumps(checkpoint_config(model, extra))  # fails early, before any file, if not JSON
    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    # one key: safetensors writes its metadata in hash order, so with two the same weights
    # could give two different files, and the digest would no longer identify the weights
    header = {"format": FORMAT}
    data = save(tensors, header)
    meta = checkpoint_config(model, extra, weights_file_sha256(data))
    text = json.dumps(meta, indent=2, ensure_ascii=False) + "\n"
    with atomic_path(folder / WEIGHTS_FILE) as tmp:
        tmp.write_bytes(data)
    write_text(folder / CONFIG_FILE, text)
    return folder


def read_checkpoint_config(folder: str | Path) -> dict[str, Any]:
    """The validated ``config.json`` of a checkpoint folder (CheckpointError if unusable)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise CheckpointError(f"{folder}: checkpoint folder not found")
    path = folder / CONFIG_FILE
    if not path.is_file():
        raise CheckpointError(f"{folder}: no {CONFIG_FILE}; is this an EmoNet checkpoint folder?")
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not an EmoNet checkpoint (format {meta.get('format')!r})")
    if meta.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(
            f"{path}: checkpoint format version {meta.get('format_version')!r}, this EmoNet "
            f"reads version {FORMAT_VERSION}"
        )
    if meta.get("architecture") != ARCHITECTURE:
        raise CheckpointError(
            f"{path}: a checkpoint of architecture {meta.get('architecture')!r}, "
            f"this EmoNet builds {ARCHITECTURE!r}"
        )
    for key in ("config", "corpora"):
        if key not in meta:
            raise CheckpointError(f"{path}: missing key {key!r}")
    return meta


def _check_model_section(path: Path, meta: Mapping[str, Any]) -> None:
    """CheckpointError if the model section differs from the one saved with the weights."""
    saved = meta.get("weights")
    recorded = saved.get("config_sha256") if isinstance(saved, dict) else None
    if recorded is None:  # written before the digest existed
        return
    actual = model_section_sha256(meta)
    if actual != recorded:
        raise CheckpointError(
            f"{path}: the model section ({', '.join(MODEL_SECTION)}) was changed after the "
            f"weights were saved (SHA-256 {actual[:16]}…, recorded {str(recorded)[:16]}…); "
            "front-end settings, architecture and label order are fixed by the weights: restore "
            "the file or train a new model"
        )


def load_checkpoint(
    folder: str | Path,
    labels: Mapping[str, Sequence[str]] | None = None,
    device: str | torch.device = "cpu",
) -> EmoNet:
    """Rebuild the model of a checkpoint folder and load its weights (in eval mode).

    ``labels``: expected ordered label lists per corpus; a corpus missing from the checkpoint or
    with other labels raises CheckpointError. The weights and the model section must match the
    SHA-256s recorded in ``config.json`` (when there are some) and the weights be finite, else
    CheckpointError naming the file.
    ``model.checkpoint_extra`` holds the saved ``extra``.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load

    folder = Path(folder)
    meta = read_checkpoint_config(folder)
    _check_model_section(folder / CONFIG_FILE, meta)
    try:
        config = config_from_dict(meta["config"])
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"{folder / CONFIG_FILE}: bad model configuration: {exc}") from None
    corpora = {}
    for entry in meta["corpora"]:
        try:
            corpora[entry["name"]] = list(entry["labels"])
        except (KeyError, TypeError):
            raise CheckpointError(f"{folder / CONFIG_FILE}: bad corpus entry {entry!r}") from None
    for corpus, expected in (labels or {}).items():
        if corpus not in corpora:
            raise CheckpointError(
                f"{folder}: no corpus {corpus!r} in the checkpoint (it has {list(corpora)})"
            )
        if list(expected) != corpora[corpus]:
            raise CheckpointError(
                f"{folder}: corpus {corpus!r} has labels {corpora[corpus]}, expected {list(expected)}"
            )
    with torch.random.fork_rng(devices=[]):  # building must not move the caller's RNG
        model = EmoNet(config, name=meta.get("name"))
        for corpus, corpus_labels in corpora.items():
            model.add_corpus(corpus, corpus_labels)
    weights = folder / WEIGHTS_FILE
    if not weights.is_file():
        raise CheckpointError(f"{folder}: no {WEIGHTS_FILE}")
    try:
        data = weights.read_bytes()
    except OSError as exc:
        raise CheckpointError(f"{weights}: cannot read ({exc})") from None
    saved = meta.get("weights")  # absent in checkpoints written before the digest existed
    recorded = saved.get("sha256") if isinstance(saved, dict) else None
    actual = weights_file_sha256(data)
    if recorded is not None and actual != recorded:
        raise CheckpointError(
            f"{weights}: the file's SHA-256 {actual[:16]}… differs from the "
            f"{str(recorded)[:16]}… recorded in {CONFIG_FILE}: the weights were changed or damaged "
            "after they were saved"
        )
    try:
        tensors = load(data)
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f"{weights}: cannot read ({exc})") from None
    del data
    expected_state = model.state_dict()
    missing = [k for k in expected_state if k not in tensors]
    unexpected = [k for k in tensors if k not in expected_state]
    if missing:
        raise CheckpointError(f"{weights}: missing tensor(s) {', '.join(missing[:5])}")
    if unexpected:
        raise CheckpointError(f"{weights}: unexpected tensor(s) {', '.join(unexpected[:5])}")
    for k, v in tensors.items():
        want = expected_state[k]
        if v.shape != want.shape:
            raise CheckpointError(
                f"{weights}: tensor {k} has shape {tuple(v.shape)}, the model needs "
                f"{tuple(want.shape)}"
            )
        if v.dtype != want.dtype:
            raise CheckpointError(
                f"{weights}: tensor {k} has dtype {v.dtype}, expected {want.dtype}"
            )
    _check_finite(weights, tensors)
    model.load_state_dict(tensors, strict=True)
    model.checkpoint_extra = meta.get("extra") or {}
    return model.to(device).eval()


__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "CheckpointError",
    "CheckpointNotFound",
    "checkpoint_config",
    "load_checkpoint",
    "model_section_sha256",
    "read_checkpoint_config",
    "resolve_checkpoint",
    "save_checkpoint",
    "weights_file_sha256",
]
