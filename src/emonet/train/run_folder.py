"""A training run's folder: its checkpoints, swapped atomically, and the rules for resuming it.

```
<out>/config.yaml            the resolved configuration
<out>/metrics.csv            one row per epoch and corpus (and tensorboard/)
<out>/checkpoints/last       weights + trainer state after the latest epoch (resume from here)
<out>/checkpoints/best       weights of the best mean devel UAR
<out>/checkpoints/last-good  weights before a non-finite step (only after such a failure)
<out>/DONE.json              written when the schedule has ended
<out>/sources.json           the weights' SHA-256 of ``init`` and each of ``distill.teachers``
```

A checkpoint is written to ``.<name>.tmp`` and swapped in with two renames; a crash between
them leaves a complete ``.tmp`` or the previous ``.old``, which :meth:`RunFolder.recover` puts
back. A resumed run must have the same configuration, but for keys that cannot change its
results (:data:`RESUME_SAFE`), and learn from the same checkpoints: a teacher or ``init``
retrained under the same path is caught by its weights' digest.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import yaml

from emonet.files import replace_folder, swapped_out_path, write_json
from emonet.model import EmoNet, checkpoint_digest, resolve_checkpoint, save_checkpoint
from emonet.model.checkpoint import CheckpointError
from emonet.train.config import ConfigError, TrainConfig, dump_config, to_dict
from emonet.train.state import RunState, save_trainer_state

RESUME_SAFE = frozenset(
    {
        "engine.accelerator",
        "engine.threads",
        "engine.compile",
        "engine.compile_mode",
        "engine.cudnn_benchmark",
        "engine.deterministic",
        "data.cache",
        "data.placement",
        "data.eval_batch_size",
    }
)
"""Keys a resumed run may change: where and how fast it runs, never what it computes."""

STATE_FILE = "trainer_state.json"
SOURCES_FILE = "sources.json"


class RunFolder:
    """Paths and atomic checkpoint writes of one run (writes happen on rank 0 only)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.checkpoints = self.path / "checkpoints"
        self.last = self.checkpoints / "last"
        self.best = self.checkpoints / "best"
        self.last_good = self.checkpoints / "last-good"
        self.lock = self.path / ".lock"

    def has_state(self) -> bool:
        """True when a resumable ``checkpoints/last`` exists (after :meth:`recover`)."""
        return (self.last / STATE_FILE).is_file()

    def has_trained(self) -> bool:
        """True when the folder holds anything a run produced: a checkpoint, a logged epoch or
        the end of a run."""
        return (
            self.is_done()
            or any(self.checkpoints.glob("*/*"))
            or (self.path / "metrics.csv").is_file()
        )

    def is_done(self) -> bool:
        """True when the run finished (``DONE.json``)."""
        return (self.path / "DONE.json").is_file()

    def recover(self) -> None:
        """Finish or undo a checkpoint swap that a crash interrupted; drop leftovers."""
        for folder in (self.last, self.best, self.last_good):
            tmp, old = _tmp(folder), swapped_out_path(folder)
            if not folder.exists():
                if (tmp / STATE_FILE).is_file() or (tmp / "config.json").is_file():
                    tmp.replace(folder)
                elif old.exists():
                    old.replace(folder)
            for leftover in (tmp, old):
                if leftover.exists():
                    shutil.rmtree(leftover)

    def start(self, cfg: TrainConfig, resume: bool) -> None:
        """Create the folder for a new run, or check that ``cfg`` may resume the one in it (a run
        interrupted before its first checkpoint resumes from the beginning). A folder whose run
        failed before it trained anything (e.g. on a missing corpus) is free for a new run."""
        self.recover()
        if resume:
            if not (self.path / "config.yaml").is_file():
                raise ConfigError(f"--resume: {self.path} holds no run to resume")
            self.check_same_config(cfg)
            changed = self.changed_sources(cfg)
            if changed:
                raise ConfigError(
                    f"--resume: {self.path} learns from checkpoints that changed since it "
                    f"started ({changed}); restore them, or start a new run"
                )
        elif (self.path / "config.yaml").exists() and self.has_trained():
            raise ConfigError(
                f"out: {self.path} already holds a run; use --resume to continue it or another out"
            )
        self.checkpoints.mkdir(parents=True, exist_ok=True)
        dump_config(cfg, self.path / "config.yaml")
        if not resume:
            write_json(self.path / SOURCES_FILE, checkpoint_sources(cfg))

    def check_same_config(self, cfg: TrainConfig) -> None:
        """Refuse to resume with settings that change results; the error names each key."""
        unsafe = self.changed_settings(cfg, "--resume")
        if unsafe:
            raise ConfigError(
                f"--resume: {self.path} was started with other settings ({unsafe}); resume "
                f"with its config.yaml, or start a new run (only {sorted(RESUME_SAFE)} may change)"
            )

    def changed_settings(self, cfg: TrainConfig, what: str, ignore: frozenset = frozenset()) -> str:
        """The settings outside :data:`RESUME_SAFE` (and ``ignore``) in which ``cfg`` differs
        from the run's config.yaml, as ``"key: old -> new; …"`` ("" when none). ``what`` names
        the caller in the error for an unreadable config.yaml."""
        path = self.path / "config.yaml"
        try:
            saved = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"{what}: cannot read {path} ({exc})") from None
        if saved is not None and not isinstance(saved, dict):
            raise ConfigError(f"{what}: {path} is not a mapping of settings")
        # a key added to the schema after the run started counts as its default
        old = {**_flatten(to_dict(TrainConfig())), **_flatten(saved or {})}
        new = _flatten(to_dict(cfg))
        changed = sorted(k for k in old.keys() | new.keys() if not _same(k, old.get(k), new.get(k)))
        unsafe = [k for k in changed if k not in RESUME_SAFE | ignore]
        return "; ".join(f"{k}: {old.get(k)!r} -> {new.get(k)!r}" for k in unsafe[:6])

    def changed_sources(self, cfg: TrainConfig) -> str:
        """The checkpoints ``cfg`` learns from whose weights differ from those the run started
        with, as ``"key[i] path: SHA-256 old… -> new…; …"`` ("" when none, or for a run that
        recorded none)."""
        path = self.path / SOURCES_FILE
        try:
            saved = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot read {path} ({exc})") from None
        if not isinstance(saved, dict):
            saved = {}
        changed = []
        for key, paths in _source_paths(cfg).items():
            before = saved.get(key) or []
            for i, (name, old) in enumerate(zip(paths, before, strict=False)):
                new = _digest(name)
                if old and new and old != new:
                    changed.append(f"{key}[{i}] {name}: SHA-256 {old[:12]}… -> {new[:12]}…")
        return "; ".join(changed[:6])

    def save(
        self,
        folder: Path,
        module: EmoNet,
        cfg: TrainConfig,
        state: RunState | None = None,
        optimizer: Any = None,
        scaler: Any = None,
        training_weights: dict | None = None,
    ) -> None:
        """Write weights (and, with ``state``, the trainer state) to ``folder`` atomically."""
        tmp = _tmp(folder)
        if tmp.exists():
            shutil.rmtree(tmp)
        save_checkpoint(module, tmp, extra={"train_config": to_dict(cfg)})
        if state is not None:
            save_trainer_state(tmp, state, optimizer, scaler, training_weights)
        replace_folder(tmp, folder)


def _source_paths(cfg: TrainConfig) -> dict[str, list[str]]:
    """The checkpoints the run learns from, by setting (only those it names)."""
    sources = {"init": [cfg.init] if cfg.init else [], "distill.teachers": cfg.distill.teachers}
    return {key: paths for key, paths in sources.items() if paths}


def checkpoint_sources(cfg: TrainConfig) -> dict[str, list[str | None]]:
    """The weights' SHA-256 of each checkpoint the run learns from (``init``, every teacher);
    None for one that cannot be read now (training refuses it with its own error)."""
    return {key: [_digest(p) for p in paths] for key, paths in _source_paths(cfg).items()}


def _digest(path: str) -> str | None:
    try:
        return checkpoint_digest(resolve_checkpoint(path, notify=False))
    except CheckpointError:
        return None


PATH_KEYS = frozenset({"data.emoset", "init", "out"})
"""Settings that name a file or folder: equal when they name the same one."""


def _same(key: str, old: Any, new: Any) -> bool:
    """Whether setting ``key`` is unchanged; a path given once relative and once absolute (from
    this working directory) is the same path."""
    if old == new:
        return True
    if key in PATH_KEYS and isinstance(old, str) and isinstance(new, str):
        return Path(old).resolve() == Path(new).resolve()
    return False


def _tmp(folder: Path) -> Path:
    return folder.with_name(f".{folder.name}.tmp")


def _flatten(tree: dict, prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` → ``{"a.b": 1}`` (lists and leaves kept as values)."""
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value and name != "model.overrides":
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat
