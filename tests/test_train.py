"""Training: configuration errors, every mode on real corpora, DDP, resume after SIGKILL, NaN stop.

All runs use the small ``emonet-tiny`` configuration on 2-s crops of the real EmoDB, RAVDESS and
URDU copies (EmoSet prepared once per session), so that the file runs in a few minutes on 2 cores.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch
import yaml

from emonet.model import create_model, load_checkpoint
from emonet.train.config import ConfigError, config_from_dict, load_config
from emonet.train.loop import TrainingError, train

CHANCE_EMODB = 1 / 7
REPO = Path(__file__).resolve().parents[1]


def base(emoset: Path, out: Path, mode: str = "scratch", corpora=("emodb",), **extra) -> dict:
    """A small, fast configuration for tests."""
    cfg = {
        "mode": mode,
        "out": str(out),
        "seed": 0,
        "data": {"emoset": str(emoset), "corpora": list(corpora), "window": 2.0,
                 "batch_size": 32, "eval_batch_size": 64},
        "model": {"name": "emonet-tiny"},
        "optim": {"schedule": "cosine", "lr": 0.003, "max_epochs": 8, "warmup_epochs": 1,
                  "weight_decay": 0.01},
        "loss": {"class_weights": True},
        "engine": {"threads": 2},
    }  # fmt: skip
    for key, value in extra.items():
        section, _, name = key.partition("__")
        if name:
            cfg.setdefault(section, {})[name] = value
        else:
            cfg[key] = value
    return cfg


def metrics(run: Path) -> pd.DataFrame:
    return pd.read_csv(run / "metrics.csv")


# --- configuration ---------------------------------------------------------------------------


def test_config_errors_name_the_key(tmp_path, real_emoset):
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(base(real_emoset, tmp_path / "r")))
    assert load_config(path).data.window == 2.0
    with pytest.raises(ConfigError, match=r"unknown key optim\.learning_rate"):
        load_config(path, ["optim.learning_rate=0.1"])
    with pytest.raises(ConfigError, match=r"data\.batch_size: expected int, got 'big'"):
        load_config(path, ["data.batch_size=big"])
    with pytest.raises(ConfigError, match="mode"):
        load_config(path, ["mode=transfer"])
    with pytest.raises(ConfigError, match="init: mode adapters needs a trained checkpoint"):
        load_config(path, ["mode=adapters"])
    with pytest.raises(ConfigError, match=r"init: checkpoint .*nowhere not found"):
        load_config(path, ["mode=adapters", f"init={tmp_path / 'nowhere'}"])
    cfg = config_from_dict(
        base(real_emoset, tmp_path / "r", "multi", ("emodb", "iemocap")),
    )
    with pytest.raises(ConfigError, match=r"data\.corpora: \['iemocap'\] not found in EmoSet"):
        train(cfg, show_progress=False)
    proc = subprocess.run(
        [sys.executable, "-m", "emonet", "train", str(path), "--set", "optim.lr=fast"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == 2 and "optim.lr" in proc.stderr and "Traceback" not in proc.stderr


# --- modes on real data ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", sorted(p for p in (REPO / "configs").rglob("*.yaml") if "mode:" in p.read_text())
)
def test_shipped_training_configs_load(path, tmp_path):
    """Every training config in configs/ (full size and CPU presets) is valid as shipped."""
    from emonet.model import save_checkpoint

    save_checkpoint(create_model("emonet-tiny"), tmp_path / "ckpt")
    cfg = load_config(path, [f"init={tmp_path / 'ckpt'}"] if "init:" in path.read_text() else [])
    assert cfg.out.startswith("runs/") and cfg.data.emoset == "emoset"
    if path.parent.name == "cpu":  # the README's laptop quick start
        assert cfg.optim.max_epochs <= 20 and (cfg.init or cfg.model.name == "emonet-tiny")


@pytest.fixture(scope="module")
def scratch_run(real_emoset, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("scratch") / "run"
    return train(config_from_dict(base(real_emoset, out)), show_progress=False)


def test_scratch_emodb_learns(scratch_run):
    m = metrics(scratch_run)
    assert len(m) == 8 and set(m["corpus"]) == {"emodb"}
    assert m["devel_uar"].max() > 2.5 * CHANCE_EMODB, m
    assert m["train_loss"].iloc[-1] < m["train_loss"].iloc[0]
    for name in ("config.yaml", "metrics.csv", "DONE.json"):
        assert (scratch_run / name).is_file()
    assert any((scratch_run / "tensorboard").iterdir())
    best = load_checkpoint(scratch_run / "checkpoints" / "best")
    assert list(best.corpora) == ["emodb"] and best.checkpoint_extra["train_config"]["seed"] == 0
    resolved = yaml.safe_load((scratch_run / "config.yaml").read_text())
    assert resolved["model"]["name"] == "emonet-tiny" and resolved["optim"]["max_epochs"] == 8


@pytest.fixture(scope="module")
def multi_run(real_emoset, tmp_path_factory) -> Path:
    """A multi-corpus model on RAVDESS + URDU subsets (the source of the transfer tests)."""
    out = tmp_path_factory.mktemp("multi") / "run"
    cfg = base(real_emoset, out, "multi", ("ravdess", "urdu"), data__limit=300,
               multi__steps_per_epoch=8, optim__max_epochs=6)  # fmt: skip
    return train(config_from_dict(cfg), show_progress=False)


def test_multi_round_robin(multi_run):
    m = metrics(multi_run)
    assert sorted(set(m["corpus"])) == ["ravdess", "urdu"] and len(m) == 12
    assert (m.groupby("epoch")["step"].first().diff().dropna() == 16).all()
    model = load_checkpoint(multi_run / "checkpoints" / "last")
    assert list(model.corpora) == ["ravdess", "urdu"]


def test_multi_with_emodb_learns(real_emoset, tmp_path):
    cfg = base(real_emoset, tmp_path / "m", "multi", ("emodb", "ravdess", "urdu"),
               data__limit=240, multi__steps_per_epoch=6, optim__max_epochs=6)  # fmt: skip
    run = train(config_from_dict(cfg), show_progress=False)
    m = metrics(run)
    assert m[m["corpus"] == "emodb"]["devel_uar"].max() > 2 * CHANCE_EMODB, m


@pytest.mark.parametrize("mode", ["adapters", "finetune", "last-layer"])
def test_transfer_modes_learn_emodb(mode, multi_run, real_emoset, tmp_path):
    init = multi_run / "checkpoints" / "best"
    before = load_checkpoint(init)
    cfg = base(real_emoset, tmp_path / mode, mode, init=str(init), optim__max_epochs=10,
               optim__lr=0.01 if mode == "last-layer" else 0.003)  # fmt: skip
    run = train(config_from_dict(cfg), show_progress=False)
    assert metrics(run)["devel_uar"].max() > 2 * CHANCE_EMODB, metrics(run)
    after = load_checkpoint(run / "checkpoints" / "last")
    assert list(after.corpora) == ["ravdess", "urdu", "emodb"]  # one file serves all corpora
    old, new = before.state_dict(), after.state_dict()
    shared = [k for k in old if before.corpus_of_parameter(k) is None]
    changed = [k for k in shared if not torch.equal(old[k], new[k])]
    if mode == "finetune":
        assert changed  # the shared backbone moved
    else:
        assert changed == []  # frozen shared weights are bit-identical
    for k in old:  # the source corpora's own parameters are never touched
        if before.corpus_of_parameter(k) in ("ravdess", "urdu"):
            assert torch.equal(old[k], new[k]), k


def test_transfer_like_and_head_options(multi_run, real_emoset, tmp_path):
    """transfer.like picks the source corpus the new one starts from (an unknown one is a config
    error naming it); transfer.head: like starts the new head's pooling from that corpus's."""
    init = multi_run / "checkpoints" / "best"
    cfg = base(real_emoset, tmp_path / "bad", "adapters", init=str(init), data__limit=32,
               optim__max_epochs=1)  # fmt: skip
    cfg["transfer"] = {"like": "casia", "head": "like"}
    with pytest.raises(ConfigError, match=r"transfer\.like: corpus 'casia' is not in the check"):
        train(config_from_dict(cfg), show_progress=False)
    cfg["transfer"]["like"] = "urdu"
    cfg["optim"]["lr"] = 0.0  # nothing moves: the new corpus is exactly what it started from
    run = train(config_from_dict({**cfg, "out": str(tmp_path / "ok")}), show_progress=False)
    state = load_checkpoint(run / "checkpoints" / "last").state_dict()
    assert torch.equal(state["heads.emodb.pool.proj.weight"], state["heads.urdu.pool.proj.weight"])
    assert torch.equal(
        state["backbone.final_bns.emodb.weight"], state["backbone.final_bns.urdu.weight"]
    )


# --- engine ------------------------------------------------------------------------------------


def test_ddp_two_processes_match_one(real_emoset, tmp_path, monkeypatch):
    """Two gloo processes: identical weights on both ranks, close to one process (same batch).

    Dropout is off so both runs see the same randomness. Batch-norm statistics are still computed
    per process under DDP (SyncBatchNorm does not run on CPU/gloo): at initialisation that alone
    changes per-step gradients by about 60 % (measured on this model), so the runs cannot be
    bit-identical. Stated tolerance: per-epoch training loss within 5 % and the weights no
    further apart than 75 % of the distance they moved from their common start.
    """
    monkeypatch.delenv("MASTER_PORT", raising=False)
    runs = {}
    overrides = {"dropout2": 0.0, "head_dropout": 0.0}
    for devices in (1, 2):
        cfg = base(real_emoset, tmp_path / f"d{devices}", data__limit=96, optim__max_epochs=2,
                   engine__devices=devices, engine__threads=1, eval_every=100)  # fmt: skip
        cfg["optim"].update(schedule="reference", lr_stages=[0.01], patience=100)
        cfg["model"]["overrides"] = overrides
        runs[devices] = train(config_from_dict(cfg), show_progress=False)
    # the next launch in this process picks a free port of its own, not the last one
    assert "MASTER_PORT" not in os.environ
    done = json.loads((runs[2] / "DONE.json").read_text())
    assert len(done["replicas"]) == 2 and done["replicas"][0] == done["replicas"][1]
    one = load_checkpoint(runs[1] / "checkpoints" / "last")
    two = load_checkpoint(runs[2] / "checkpoints" / "last")
    labels = list(one.corpora["emodb"])
    torch.manual_seed(0)  # the run's start: seed, then model, then corpus (as the loop does)
    start = create_model("emonet-tiny", **overrides)
    start.add_corpus("emodb", labels)
    a, b, s = one.state_dict(), two.state_dict(), start.state_dict()
    keys = [k for k, v in one.named_parameters()]
    moved = sum(float((a[k] - s[k]).pow(2).sum()) for k in keys) ** 0.5
    apart = sum(float((a[k] - b[k]).pow(2).sum()) for k in keys) ** 0.5
    assert moved > 0 and apart < 0.75 * moved, (apart, moved)
    m1, m2 = metrics(runs[1]), metrics(runs[2])
    assert list(m1["step"]) == list(m2["step"])
    rel = (m1["train_loss"] - m2["train_loss"]).abs() / m1["train_loss"]
    assert (rel < 0.05).all(), (list(m1["train_loss"]), list(m2["train_loss"]))


def test_same_seed_same_result_and_refuses_to_overwrite(real_emoset, tmp_path):
    cfg = base(real_emoset, tmp_path / "a", data__limit=64, optim__max_epochs=1, eval_every=5)
    a = train(config_from_dict(cfg), show_progress=False)
    b = train(config_from_dict({**cfg, "out": str(tmp_path / "b")}), show_progress=False)
    da, db = (json.loads((r / "DONE.json").read_text())["replicas"][0] for r in (a, b))
    assert da == db
    with pytest.raises(ConfigError, match="already holds a run; use --resume"):
        train(config_from_dict(cfg), show_progress=False)


def test_nan_loss_stops_with_step_and_corpus(real_emoset, tmp_path):
    cfg = base(real_emoset, tmp_path / "nan", data__limit=64, optim__max_epochs=3)
    cfg["optim"].update(schedule="reference", lr_stages=[1e30], weight_decay=0.0)
    with pytest.raises(
        TrainingError, match=r"non-finite loss .* at step \d+ \(epoch \d+, corpus emodb\)"
    ):
        train(config_from_dict(cfg), show_progress=False)
    good = load_checkpoint(tmp_path / "nan" / "checkpoints" / "last-good")
    assert all(torch.isfinite(t).all() for t in good.state_dict().values() if t.is_floating_point())


def test_transfer_from_avgpool_checkpoint_crops_its_window(real_emoset, tmp_path):
    """An average-pool head takes inputs of its own window: transfer crops follow the checkpoint."""
    from emonet.model import save_checkpoint

    model = create_model("emonet-tiny", head="avgpool", window=2.0)
    model.add_corpus("urdu", ["angry", "happy", "neutral", "sad"])
    save_checkpoint(model, tmp_path / "ckpt")
    cfg = base(real_emoset, tmp_path / "t", "adapters", init=str(tmp_path / "ckpt"),
               data__window=3.0, data__limit=32, optim__max_epochs=1)  # fmt: skip
    run = train(config_from_dict(cfg), show_progress=False)
    assert yaml.safe_load((run / "config.yaml").read_text())["data"]["window"] == 2.0
    assert list(load_checkpoint(run / "checkpoints" / "last").corpora) == ["urdu", "emodb"]


def test_log_file_gets_one_line_per_epoch_with_time_left(real_emoset, tmp_path):
    """Without a terminal there is no bar: each epoch is one line with its place, devel UAR and
    time left (per stage of the reference schedule), and the run ends with the next command."""
    cfg = base(real_emoset, tmp_path / "run", data__limit=64, optim__max_epochs=2)
    cfg["optim"].update(schedule="reference", lr_stages=[0.01, 0.001], patience=5)
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(cfg))
    cmd = [sys.executable, "-m", "emonet", "train", str(path)]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert all(line.strip() for line in lines), lines  # no blank bar fragments
    epochs = [line for line in lines if " epoch " in f" {line}"]
    assert [e.split(" · ")[0] for e in epochs] == [
        "stage 1/2 epoch 1/2", "stage 1/2 epoch 2/2", "stage 2/2 epoch 3/4", "stage 2/2 epoch 4/4"
    ]  # fmt: skip
    assert all("devel UAR emodb 0." in e and "elapsed" in e for e in epochs)
    assert "at most" in epochs[0] and epochs[-1].endswith("done")
    assert lines[-1] == f"next: emonet evaluate {tmp_path / 'run'} {real_emoset}"


def test_weight_average_follows_steps_and_swaps_back():
    """The average's arithmetic (with its warm-up), integer buffers copied, and applied()."""
    from emonet.train.average import WeightAverage

    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))
    average = WeightAverage(module, decay=0.9)
    start = module[0].weight.detach().clone()
    with torch.no_grad():
        module[0].weight.add_(1.0)
    module[1].num_batches_tracked.fill_(7)
    average.update(step=1)  # warm-up: min(0.9, 2 / 11)
    d = 2 / 11
    torch.testing.assert_close(average.state_dict()["0.weight"], d * start + (1 - d) * (start + 1))
    assert int(average.state_dict()["1.num_batches_tracked"]) == 7
    live = module[0].weight.detach().clone()
    with average.applied() as training:
        torch.testing.assert_close(module[0].weight, average.state_dict()["0.weight"])
        torch.testing.assert_close(training["0.weight"], live)
    torch.testing.assert_close(module[0].weight, live)  # the training weights are back
    with pytest.raises(ValueError, match="decay"):
        WeightAverage(module, decay=1.0)


def test_weight_average_is_what_is_scored_and_saved(real_emoset, tmp_path):
    """With optim.ema_decay the checkpoints hold the average that devel scored; the training
    weights travel beside ``last`` for resume."""
    from safetensors.torch import load_file

    from emonet.evaluate.runner import evaluate

    cfg = base(real_emoset, tmp_path / "run", optim__max_epochs=2, optim__ema_decay=0.9)
    run = train(config_from_dict(cfg), show_progress=False)
    last = run / "checkpoints" / "last"
    averaged = load_checkpoint(last).state_dict()
    training = load_file(str(last / "training_weights.safetensors"))
    assert averaged.keys() == training.keys()
    assert any(not torch.equal(averaged[k], training[k]) for k in averaged)
    scored = evaluate(last, real_emoset, partitions=("devel",), out=tmp_path / "eval",
                      show_progress=False, device="cpu")  # fmt: skip
    logged = metrics(run)["devel_uar"].iloc[-1]
    assert scored["emodb"]["devel"]["uar"] == pytest.approx(logged, abs=1e-6)
    assert not (run / "checkpoints" / "best" / "training_weights.safetensors").exists()
    with pytest.raises(ConfigError, match=r"optim\.ema_decay"):
        config_from_dict(base(real_emoset, tmp_path / "x", optim__ema_decay=1.0))
