"""The training engine: exact resume after SIGKILL under every schedule and mode, device
placement audited without a GPU, the schedule policy, the run folder's lock and resume rules.

Resume tests kill a real ``emonet train`` process with SIGKILL at a chosen optimiser step (a
wrapper around ``train_step`` in a child process sends the signal to itself), resume it with
``emonet train --resume`` and require bit-identical final weights and the same metrics rows as
the uninterrupted run.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from faults import train_killed_at_step
from test_distill import untrained_teacher
from test_train import base

from emonet.model import load_checkpoint
from emonet.train.config import ConfigError, config_from_dict, dump_config
from emonet.train.loop import train, weights_digest
from emonet.train.run_folder import RunFolder
from emonet.train.schedule import Schedule
from emonet.train.state import RunState

TIMING = ["seconds", "samples_per_s", "data_share"]


def rows(run: Path) -> pd.DataFrame:
    """metrics.csv without the timing columns (they differ between any two runs)."""
    return pd.read_csv(run / "metrics.csv").drop(columns=TIMING)


def final_digests(run: Path) -> tuple[str, str]:
    ckpt = run / "checkpoints"
    return tuple(weights_digest(load_checkpoint(ckpt / n)) for n in ("last", "best"))


def kill_and_resume(cfg: dict, tmp_path: Path, kill_at: int) -> Path:
    """Run ``cfg`` in a child killed after optimiser step ``kill_at``, then resume it."""
    run = Path(cfg["out"])
    path = tmp_path / f"{run.name}.yaml"
    path.write_text(yaml.safe_dump(cfg))
    killed = train_killed_at_step(path, kill_at)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert not (run / "DONE.json").exists()
    resumed = subprocess.run(
        [sys.executable, "-m", "emonet", "train", str(path), "--resume", "--quiet"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    return run


def assert_same_run(a: Path, b: Path) -> None:
    assert final_digests(a) == final_digests(b)
    pd.testing.assert_frame_equal(rows(a), rows(b))
    done_a, done_b = (json.loads((r / "DONE.json").read_text()) for r in (a, b))
    assert (
        done_a["steps"] == done_b["steps"] and done_a["best_devel_uar"] == done_b["best_devel_uar"]
    )


def reference(real_emoset: Path, out: Path, **optim) -> dict:
    """Three short stages of the reference schedule on a small EmoDB subset."""
    cfg = base(real_emoset, out, data__limit=96, engine__threads=1)
    cfg["optim"] = {"schedule": "reference", "lr_stages": [0.02, 0.005, 0.001], "max_epochs": 2,
                    "patience": 100, "weight_decay": 1e-4, **optim}  # fmt: skip
    return cfg


def steps_of(run: Path) -> pd.DataFrame:
    """Per epoch: its stage and the step count at its end."""
    return pd.read_csv(run / "metrics.csv").groupby("epoch")[["stage", "step"]].first()


@pytest.mark.parametrize(
    ("name", "where"),
    [
        ("cosine", "mid-epoch"),
        ("cosine-augmented", "mid-epoch, with SpecAugment, mixup and random gain"),
        ("cosine-bucket", "mid-epoch, length-bucketed crops"),
        ("reference-max-epochs", "inside a stage"),
        ("reference-patience", "right after a stage switch"),
        ("cosine-averaged", "mid-epoch, with a moving average of the weights"),
        ("cosine-distilled", "mid-epoch, with a teacher (distill)"),
        ("reference-patience-averaged", "right after a switch, which restarts the average"),
    ],
)
def test_resume_is_exact_for_every_schedule(name, where, real_emoset, tmp_path):
    """Killed mid-epoch (cosine), inside a stage, or one step after a switch (reference)."""
    if name.startswith("cosine"):
        cfg = base(real_emoset, tmp_path / "a", data__limit=96, optim__max_epochs=3,
                   engine__threads=1)  # fmt: skip
        if name == "cosine-augmented":
            cfg["augment"] = {"freq_masks": 2, "time_masks": 2, "mixup": 0.4, "gain_db": 6.0}
        if name == "cosine-bucket":
            cfg["data"]["crops"] = "bucket"
        if name == "cosine-distilled":
            teacher = untrained_teacher(tmp_path / "teacher", "emodb", real_emoset)
            cfg["distill"] = {"teachers": [str(teacher)]}
    elif name == "reference-max-epochs":
        cfg = reference(real_emoset, tmp_path / "a")
    else:  # every epoch after the first is "no gain": stages end by patience after 2 epochs
        cfg = reference(real_emoset, tmp_path / "a", patience=1, min_delta=1.0)
    if name.endswith("-averaged"):
        cfg["optim"]["ema_decay"] = 0.9
    straight = train(config_from_dict(cfg), show_progress=False)
    epochs = steps_of(straight)
    per_epoch = int(epochs["step"].iloc[0])
    if name.startswith("cosine"):
        kill_at = per_epoch + per_epoch // 2
    elif name == "reference-max-epochs":
        assert list(epochs["stage"]) == [1, 1, 2, 2, 3, 3]
        kill_at = 2 * per_epoch + 1  # inside stage 2
    else:
        assert list(epochs["stage"]) == [1, 1, 2, 2, 3, 3]  # ended by patience, not max_epochs
        kill_at = 2 * per_epoch + 1  # one step after the first switch
    resumed = kill_and_resume({**cfg, "out": str(tmp_path / "b")}, tmp_path, kill_at)
    assert_same_run(straight, resumed)


@pytest.fixture(scope="module")
def multi_source(real_emoset, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("src") / "run"
    cfg = base(real_emoset, out, "multi", ("ravdess", "urdu"), data__limit=64,
               multi__steps_per_epoch=2, optim__max_epochs=1)  # fmt: skip
    return train(config_from_dict(cfg), show_progress=False)


@pytest.mark.parametrize("mode", ["multi", "adapters"])
def test_resume_is_exact_for_multi_and_adapters(mode, multi_source, real_emoset, tmp_path):
    if mode == "multi":
        cfg = base(real_emoset, tmp_path / "a", "multi", ("emodb", "urdu"), data__limit=64,
                   multi__steps_per_epoch=3, multi__sampling="temperature",
                   optim__max_epochs=3, engine__threads=1)  # fmt: skip
    else:
        cfg = base(real_emoset, tmp_path / "a", "adapters", init=str(multi_source / "checkpoints"
                   / "last"), data__limit=96, optim__max_epochs=3, engine__threads=1)  # fmt: skip
    straight = train(config_from_dict(cfg), show_progress=False)
    per_epoch = int(steps_of(straight)["step"].iloc[0])
    resumed = kill_and_resume({**cfg, "out": str(tmp_path / "b")}, tmp_path, per_epoch + 2)
    assert_same_run(straight, resumed)


def test_resume_is_exact_for_ddp_two_processes(real_emoset, tmp_path):
    """Two gloo processes (ddp_spawn), the whole process group killed after the first epoch."""
    cfg = base(real_emoset, tmp_path / "a", data__limit=128, optim__max_epochs=3,
               engine__devices=2, engine__threads=1)  # fmt: skip
    straight = train(config_from_dict(cfg), show_progress=False)
    cfg["out"] = str(tmp_path / "b")
    path = tmp_path / "b.yaml"
    path.write_text(yaml.safe_dump(cfg))
    cmd = [sys.executable, "-m", "emonet", "train", str(path), "--quiet"]
    proc = subprocess.Popen(cmd, start_new_session=True, stderr=subprocess.PIPE)
    state = tmp_path / "b" / "checkpoints" / "last" / "trainer_state.json"
    deadline = time.time() + 300
    while not state.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    assert proc.poll() is None, proc.stderr.read().decode()
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (tmp_path / "b" / "DONE.json").exists()
    res = subprocess.run([*cmd, "--resume"], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert_same_run(straight, tmp_path / "b")
    done = json.loads((tmp_path / "b" / "DONE.json").read_text())
    assert len(done["replicas"]) == 2 and len(set(done["replicas"])) == 1


def test_user_error_in_spawned_workers_is_one_line(real_emoset, tmp_path):
    """A user error raised inside two ddp_spawn workers (a corpus the EmoSet lacks, found when
    the workers load data) reaches the command as itself: one ``error:`` line, exit code 2; the
    run folder of a start that trained nothing does not block the corrected run."""
    cfg = base(real_emoset, tmp_path / "run", data__corpora=["nosuch"], engine__devices=2,
               engine__threads=1)  # fmt: skip
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(cfg))
    res = subprocess.run(
        [sys.executable, "-m", "emonet", "train", str(path), "--quiet"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert res.returncode == 2, res.stderr
    assert "Traceback" not in res.stderr
    errors = [line for line in res.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "data.corpora" in errors[0] and "nosuch" in errors[0], res.stderr
    # the failed start trained nothing, so the folder stays free for the same or a fixed run
    with pytest.raises(ConfigError, match="nosuch"):  # the library raises the worker's class
        train(config_from_dict(cfg), show_progress=False)
    fixed = {**cfg, "data": {**cfg["data"], "corpora": ["emodb"], "limit": 32}}
    fixed["engine"] = {**cfg["engine"], "devices": 1}
    fixed["optim"] = {**cfg["optim"], "max_epochs": 1}
    assert (train(config_from_dict(fixed), show_progress=False) / "DONE.json").is_file()


# --- device placement ----------------------------------------------------------------------


def test_every_tensor_of_an_epoch_lives_on_the_models_device(real_emoset, tmp_path):
    """Device audit without a GPU: PyTorch's ``meta`` device stands in for CUDA.

    The real data loader, feeder, losses, model, optimiser and :func:`run_epoch` run with the
    model and the training audio on ``meta``. A tensor that the loop, the feeder or a loss makes
    on the CPU meets a meta tensor and raises ("Tensor on device cpu is not on the expected
    device meta"), exactly as a CPU tensor meets a CUDA one; and a host synchronisation inside
    the epoch (``.item()``, ``bool()``, ``.tolist()``) raises too, because meta tensors hold no
    values. Only ``EpochTotals.read`` (once per epoch) may look at numbers.
    """
    from lightning_fabric import Fabric

    from emonet.train.augment import BatchAugment
    from emonet.train.average import WeightAverage
    from emonet.train.distill import Teachers
    from emonet.train.setup import build_model, load_data, make_optimizer
    from emonet.train.step import run_epoch

    meta = torch.device("meta")
    # "bucket": length-bucketed crops, SpecAugment with the mel-axis stretch, random gain and the
    # weight average (mixup's Beta draw has no meta kernel; it draws on the device with
    # validate_args=False, which never syncs)
    # "distilled": two teachers of EmoDB, loaded onto meta, score every crop (in eval mode, with
    # the adapters' folded inference kernels); "multi": low-rank adapters (adapter_rank)
    teacher = untrained_teacher(tmp_path / "teacher", "emodb", real_emoset)
    modes = (("scratch", ("emodb",)), ("multi", ("emodb", "urdu")), ("bucket", ("emodb",)),
             ("distilled", ("emodb",)))  # fmt: skip
    for mode, corpora in modes:
        cfg = config_from_dict(
            base(
                real_emoset,
                tmp_path / mode,
                "multi" if mode == "multi" else "scratch",
                corpora,
                data__limit=24,
                data__placement="device",
                data__batch_size=8,
                data__crops="bucket" if mode == "bucket" else "pad",
                multi__steps_per_epoch=2,
                optim__grad_clip=1.0,
                loss__name="focal",
                augment__freq_masks=2 if mode == "bucket" else 0,
                augment__time_masks=2 if mode == "bucket" else 0,
                augment__gain_db=6.0 if mode == "bucket" else 0.0,
                augment__freq_warp=0.1 if mode == "bucket" else 0.0,
                model__overrides={"adapter_rank": 4} if mode == "multi" else {},
            )
        )
        data = load_data(cfg, meta)
        assert all(c.train.audio.device == meta for c in data.values())
        net = build_model(cfg, data).to(meta)
        assert (mode == "multi") == any(n.endswith(".up") for n, _ in net.named_parameters())
        optimizer = make_optimizer(net, cfg, data)
        fabric = Fabric(accelerator="cpu", devices=1)  # backward only; no device of its own
        from emonet.data.sampling import epoch_plan

        sizes = {n: len(c.train) for n, c in data.items()}
        steps = 4 if mode == "multi" else None
        lengths = {n: c.train.sizes_np for n, c in data.items()} if mode == "bucket" else None
        plan = epoch_plan(sizes, 8, 0, 0, steps, "round-robin", lengths=lengths)
        assert mode != "bucket" or net.spec_augment is not None
        augment = BatchAugment(cfg.augment) if mode == "bucket" else None
        average = WeightAverage(net, 0.995) if mode == "bucket" else None
        teachers = (
            Teachers([str(teacher)] * 2, dict(net.corpora), net, meta, 0.5, 2.0)
            if mode == "distilled"
            else None
        )
        assert teachers is None or all(
            t.device == meta for m in teachers.by_corpus["emodb"] for t in m.state_dict().values()
        )
        state = RunState()
        totals = run_epoch(fabric, net, net, optimizer, data, plan, Schedule(cfg.optim, 3),
                           state, 0, augment=augment, average=average, teachers=teachers)  # fmt: skip
        assert state.step == len(plan)
        assert average is None or all(v.device == meta for v in average.state_dict().values())
        assert totals.loss_sums.device == meta and totals.first_bad.device == meta
        with pytest.raises(RuntimeError, match="meta"):
            totals.loss_sums.tolist()  # the audit would have caught a sync

    # and the audit does catch a tensor left on the CPU: a loss whose class weights stayed there
    data["emodb"].loss = torch.nn.CrossEntropyLoss(weight=torch.ones(7))
    with pytest.raises(RuntimeError, match="expected device meta"):
        run_epoch(fabric, net, net, optimizer, data, plan, Schedule(cfg.optim, 3), state, 0,
                  augment=augment)  # fmt: skip


def test_checkpoints_load_onto_another_device(real_emoset, tmp_path):
    """Weights and trainer state are saved device-free: they load onto another device."""
    from emonet.train.setup import build_model, load_data, make_optimizer
    from emonet.train.state import load_trainer_state

    cfg = base(real_emoset, tmp_path / "r", data__limit=32, optim__max_epochs=1)
    run = train(config_from_dict(cfg), show_progress=False)
    meta = torch.device("meta")
    model = load_checkpoint(run / "checkpoints" / "last", device=meta)
    assert {t.device for t in model.state_dict().values()} == {meta}
    c = config_from_dict(cfg)
    data = load_data(c, torch.device("cpu"))
    net = build_model(c, data).to(meta)
    optimizer = make_optimizer(net, c, data)
    state = load_trainer_state(run / "checkpoints" / "last", optimizer)
    assert state.epoch == 1 and state.finished
    moments = [t for s in optimizer.state.values() for t in s.values() if torch.is_tensor(t)]
    assert moments and all(t.device == meta for t in moments if t.ndim > 0)


# --- the schedule policy -------------------------------------------------------------------


def test_reference_schedule_stages_end_by_patience_or_epoch_limit():
    cfg = config_from_dict({"data": {"corpora": ["x"]},
                            "optim": {"max_epochs": 3, "patience": 2, "min_delta": 0.01}})  # fmt: skip
    schedule, state = Schedule(cfg.optim, 10), RunState()
    trace = []
    for score in [0.5, 0.505, 0.506, 0.4, 0.6, 0.61, 0.2, 0.3, 0.9]:
        state.epoch += 1
        out = schedule.after_epoch(state, score)
        trace.append((state.stage, out.new_best, out.stage_over, out.finished))
        if out.finished:
            break
    # stage 1: 0.5 then two epochs without a 0.01 gain -> over by patience after epoch 3
    # stage 2: 0.4, 0.6, 0.61 -> over by max_epochs (3); stage 3: 0.2, 0.3, 0.9 -> finished
    assert [t[2] for t in trace] == [False, False, True, False, False, True, False, False, True]
    assert trace[-1][3] and state.stage == 3 and state.best_uar == 0.9
    assert [t[1] for t in trace] == [True, True, True, False, True, True, False, False, True]
    assert schedule.lr(RunState(stage=1)) == cfg.optim.lr_stages[1]


def test_cosine_schedule_warms_up_then_decays_to_zero():
    cfg = config_from_dict({"data": {"corpora": ["x"]},
                            "optim": {"schedule": "cosine", "lr": 0.01, "max_epochs": 4,
                                      "warmup_epochs": 1}})  # fmt: skip
    schedule = Schedule(cfg.optim, 5)
    lrs = [schedule.lr(RunState(step=s)) for s in range(20)]
    assert lrs[:5] == pytest.approx([0.002, 0.004, 0.006, 0.008, 0.01])
    assert all(a > b for a, b in itertools.pairwise(lrs[5:])) and lrs[-1] < 0.02 * lrs[4]
    state = RunState()
    for _ in range(4):
        state.epoch += 1
        out = schedule.after_epoch(state, None)
    assert out.finished and not out.stage_over


# --- the run folder ------------------------------------------------------------------------


def test_resume_refuses_another_config_and_names_the_keys(real_emoset, tmp_path):
    cfg = base(real_emoset, tmp_path / "r", data__limit=32, optim__max_epochs=3)
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(cfg))
    killed = train_killed_at_step(path, 2)
    assert killed.returncode == -signal.SIGKILL  # after epoch 1's checkpoint
    cmd = [sys.executable, "-m", "emonet", "train", str(path), "--quiet", "--resume"]
    proc = subprocess.run([*cmd, "--set", "seed=3", "--set", "optim.lr=0.1"],
                          capture_output=True, text=True)  # fmt: skip
    assert proc.returncode != 0 and "Traceback" not in proc.stderr, proc.stderr
    assert "seed: 0 -> 3" in proc.stderr and "optim.lr: 0.003 -> 0.1" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    # keys that cannot change the results may change; a key added to the schema after the run
    # started (missing from its config.yaml) counts as its default
    saved = yaml.safe_load((tmp_path / "r" / "config.yaml").read_text())
    del saved["transfer"]
    (tmp_path / "r" / "config.yaml").write_text(yaml.safe_dump(saved))
    proc = subprocess.run([*cmd, "--set", "engine.threads=1"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert yaml.safe_load((tmp_path / "r" / "config.yaml").read_text())["seed"] == 0
    with pytest.raises(ConfigError, match="holds no run to resume"):
        train(config_from_dict({**cfg, "out": str(tmp_path / "none")}), resume=True,
              show_progress=False)  # fmt: skip


def test_a_path_given_relative_or_absolute_is_the_same_setting(tmp_path, monkeypatch):
    """Resume compares path settings by the file or folder they name, not by their text."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "emoset").mkdir()
    cfg = config_from_dict({"data": {"corpora": ["emodb"], "emoset": "emoset"}, "out": "r"})
    folder = RunFolder(tmp_path / "r")
    folder.path.mkdir()
    dump_config(cfg, folder.path / "config.yaml")
    same = config_from_dict({"data": {"corpora": ["emodb"], "emoset": str(tmp_path / "emoset")},
                             "out": str(tmp_path / "r")})  # fmt: skip
    assert folder.changed_settings(same, "resume") == ""
    other = config_from_dict({"data": {"corpora": ["emodb"], "emoset": "elsewhere"}, "out": "r"})
    assert "data.emoset: 'emoset' -> 'elsewhere'" in folder.changed_settings(other, "resume")


def test_interrupted_checkpoint_swap_is_recovered(real_emoset, tmp_path):
    """A crash inside a checkpoint swap leaves ``.last.old`` + a complete ``.last.tmp`` (between
    the renames) or ``last`` + a partial ``.last.tmp`` (while writing): both resume."""
    cfg = config_from_dict(base(real_emoset, tmp_path / "r", data__limit=32, optim__max_epochs=2))
    run = train(cfg, show_progress=False)
    ckpt = run / "checkpoints"
    digest = weights_digest(load_checkpoint(ckpt / "last"))
    for crash in ("between renames", "while writing"):
        (run / "DONE.json").unlink()
        if crash == "between renames":
            shutil.copytree(ckpt / "last", ckpt / ".last.old")
            (ckpt / "last").rename(ckpt / ".last.tmp")
        else:
            (ckpt / ".last.tmp").mkdir()
            (ckpt / ".last.tmp" / "model.safetensors").write_bytes(b"partial")
        train(cfg, resume=True, show_progress=False)
        assert weights_digest(load_checkpoint(ckpt / "last")) == digest
        assert not (ckpt / ".last.tmp").exists() and not (ckpt / ".last.old").exists()
        assert (run / "DONE.json").is_file()


def test_second_run_into_the_same_folder_is_refused_while_the_first_runs(real_emoset, tmp_path):
    cfg = base(real_emoset, tmp_path / "r", data__limit=64, optim__max_epochs=30)
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(cfg))
    cmd = [sys.executable, "-m", "emonet", "train", str(path), "--quiet"]
    first = subprocess.Popen(cmd, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while not (tmp_path / "r" / ".lock").exists() and time.time() < deadline:
        time.sleep(0.02)
    second = subprocess.run([*cmd, "--resume"], capture_output=True, text=True)
    first.kill()
    first.wait()
    assert second.returncode != 0 and "Traceback" not in second.stderr
    assert "in use by another EmoNet process (pid" in second.stderr
    assert len(second.stderr.strip().splitlines()) == 1


def test_feeder_crops_are_reproducible_and_padded(real_emoset):
    from emonet.corpora.emoset import open_emoset
    from emonet.data.datasets import load_partition
    from emonet.data.feeder import CropFeeder

    cache, labels, _ = load_partition(open_emoset(real_emoset)["emodb"], "train", limit=40)
    feeder = CropFeeder(cache, labels, 3.0, seed=1)
    idx = torch.arange(len(feeder))
    feeder.set_epoch(2)
    a = feeder.batch(idx)
    feeder.set_epoch(3)
    b = feeder.batch(idx)
    feeder.set_epoch(2)
    c = feeder.batch(idx)
    assert all(torch.equal(x, y) for x, y in zip(a, c, strict=True))
    assert not torch.equal(a[0], b[0])
    waves, lengths, y = a
    assert waves.shape == (len(feeder), 48000) and torch.equal(y, torch.tensor(labels))
    for i in range(len(feeder)):
        n = cache.length(i)
        assert int(lengths[i]) == min(n, 48000)
        if n <= 48000:  # whole utterance, zeros after it
            assert torch.equal(waves[i, :n], torch.from_numpy(np.asarray(cache.get(i))))
            assert not waves[i, n:].any()
        else:  # a contiguous slice of the utterance
            start = int(feeder.starts[i]) - int(cache.offsets[i])
            assert 0 <= start <= n - 48000
            assert torch.equal(
                waves[i], torch.from_numpy(np.asarray(cache.get(i, start, start + 48000)))
            )
    assert feeder.padded(np.arange(len(feeder))) == any(
        cache.length(i) < 48000 for i in range(len(feeder))
    )


def test_config_refuses_impossible_combinations(real_emoset, tmp_path):
    """Settings that used to run silently wrong (or die deep inside) are refused by name."""
    cfg = base(real_emoset, tmp_path / "r")
    bad = {
        "engine.precision: 16-mixed needs a GPU": {"engine": {"precision": "16-mixed"}},
        "engine.sync_batchnorm: needs engine.accelerator cuda": {"engine": {"sync_batchnorm": True}},
        "engine.compile_mode: max-autotune needs engine.compile: true": {
            "engine": {"compile_mode": "max-autotune"}},
        "engine.compile_mode: reduce-overhead (CUDA graphs) needs a GPU": {
            "engine": {"compile": True, "compile_mode": "reduce-overhead"}},
        "data.corpora: a corpus is listed twice": {
            "mode": "multi", "data": {"corpora": ["emodb", "emodb"]}},
        "data.batch_size: batch norm needs at least 2 items per process": {
            "data": {"batch_size": 1}},
        "data.limit: at least 2 items are needed": {"data": {"limit": 1}},
    }  # fmt: skip
    for message, change in bad.items():
        broken = json.loads(json.dumps(cfg))
        for key, value in change.items():
            if isinstance(value, dict):
                broken[key] = {**broken.get(key, {}), **value}
            else:
                broken[key] = value
        with pytest.raises(ConfigError, match=re.escape(message)):
            config_from_dict(broken)
    from emonet.train.setup import configure_backends

    slow = config_from_dict({**cfg, "engine": {"precision": "bf16-mixed"}})
    warning = configure_backends(slow, torch.device("cpu"))
    native = torch.ops.mkldnn._is_mkldnn_bf16_supported()
    assert (warning is None) == native, warning
    if warning:
        assert "no native bfloat16" in warning and "32-true" in warning


def test_auto_precision_is_resolved_for_this_machine_and_recorded(real_emoset, tmp_path):
    cfg = base(real_emoset, tmp_path / "r", data__limit=32, optim__max_epochs=1)
    cfg["engine"]["precision"] = "auto"
    run = train(config_from_dict(cfg), show_progress=False)
    native = torch.ops.mkldnn._is_mkldnn_bf16_supported()
    recorded = yaml.safe_load((run / "config.yaml").read_text())["engine"]["precision"]
    assert recorded == ("bf16-mixed" if native else "32-true")


def test_quiet_training_prints_only_its_summary_not_lightnings_precision_line(
    real_emoset, tmp_path
):
    cfg = base(real_emoset, tmp_path / "r", data__limit=32, optim__max_epochs=1)
    cfg["engine"]["precision"] = "bf16-mixed"
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(cfg))
    cmd = [sys.executable, "-m", "emonet", "train", str(path), "--quiet"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("run folder:")  # the summary, nothing before it
    assert "Mixed Precision" not in proc.stderr  # only the non-native-bf16 warning may remain


def test_deterministic_engine_sets_the_gpu_backends_and_a_later_run_resets_them(monkeypatch):
    """What engine.deterministic switches for a CUDA run (the flags need no GPU to be read).

    benchmarks/gpu.py shows the effect on a GPU: a run killed and resumed on CUDA ends
    bit-identical only with it.
    """
    from emonet.train.config import TrainConfig
    from emonet.train.setup import configure_backends

    monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG", raising=False)
    cfg, cuda = TrainConfig(), torch.device("cuda")
    cfg.engine.deterministic = True
    try:
        configure_backends(cfg, cuda)
        assert torch.are_deterministic_algorithms_enabled()
        assert torch.backends.cudnn.deterministic and not torch.backends.cudnn.benchmark
        assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == ":4096:8"
        cfg.engine.deterministic = False
        configure_backends(cfg, cuda)
        assert not torch.are_deterministic_algorithms_enabled()
        assert not torch.backends.cudnn.deterministic and torch.backends.cudnn.benchmark
    finally:
        torch.use_deterministic_algorithms(False)
        torch.backends.cudnn.deterministic = torch.backends.cudnn.benchmark = False


@pytest.mark.parametrize("precision", ["bf16-mixed", "32-true"])
def test_training_audio_reaches_the_front_end_in_float32(precision, real_emoset, tmp_path,
                                                         monkeypatch):  # fmt: skip
    """Under bf16-mixed Lightning would round the waveforms to bf16 before the model (about
    -48 dB of noise that devel/test scoring never hears); the front end must see float32."""
    from emonet.model.frontend import LogMel

    seen, forward = set(), LogMel.forward

    def recording(self, waves, lengths=None):
        seen.add(waves.dtype)
        return forward(self, waves, lengths)

    monkeypatch.setattr(LogMel, "forward", recording)
    cfg = base(real_emoset, tmp_path / "r", data__limit=32, optim__max_epochs=1)
    cfg["engine"]["precision"] = precision
    train(config_from_dict(cfg), show_progress=False)
    assert seen == {torch.float32}
