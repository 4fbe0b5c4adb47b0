"""Knowledge distillation (``distill``): the loss, the teachers' checks, and training on EmoDB."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from test_train import base

from emonet.config import ConfigError
from emonet.model import load_checkpoint, save_checkpoint
from emonet.train.config import config_from_dict
from emonet.train.distill import distillation_loss
from emonet.train.loop import train, weights_digest


def test_the_teachers_term_is_zero_when_the_student_agrees_and_scaled_by_t_squared():
    torch.manual_seed(0)
    logits, hard = torch.randn(8, 5), torch.tensor(1.7)
    for t in (1.0, 2.0, 4.0):
        agree = torch.softmax(logits / t, dim=1)
        assert distillation_loss(hard, logits, agree, 0.5, t) == pytest.approx(0.85, abs=1e-6)
        assert distillation_loss(hard, logits, agree, 0.0, t) == hard
    other = torch.softmax(torch.randn(8, 5), dim=1)
    kl = torch.sum(other * (other.log() - torch.log_softmax(logits / 2, dim=1))) / 8
    assert distillation_loss(hard, logits, other, 1.0, 2.0) == pytest.approx(4 * kl.item(), 1e-5)


@pytest.mark.parametrize(
    ("distill", "message"),
    [({"weight": 1.5}, r"distill\.weight: must be in \[0, 1\]"),
     ({"temperature": 0}, r"distill\.temperature: must be positive")],
)  # fmt: skip
def test_bad_distillation_keys_are_refused(distill, message):
    with pytest.raises(ConfigError, match=message):
        config_from_dict({"data": {"corpora": ["emodb"]}, "distill": distill})


@pytest.fixture(scope="module")
def teacher(real_emoset, tmp_path_factory) -> Path:
    """An EmoDB scratch run to teach from (32 training items, 6 epochs)."""
    out = tmp_path_factory.mktemp("teacher") / "run"
    cfg = base(real_emoset, out, data__limit=32, optim__max_epochs=6)
    return train(config_from_dict(cfg), show_progress=False)


def _student(real_emoset, out: Path, teachers: list[str], weight: float, seed: int = 1) -> dict:
    cfg = base(real_emoset, out, data__limit=32, optim__max_epochs=4, seed=seed)
    if teachers:
        cfg["distill"] = {"teachers": teachers, "weight": weight, "temperature": 1.0}
    return cfg


def test_weight_zero_trains_exactly_the_model_without_teachers(real_emoset, teacher, tmp_path):
    """The teachers' forward passes consume no random numbers and change nothing else."""
    runs = [
        train(config_from_dict(_student(real_emoset, tmp_path / name, teachers, 0.0)),
              show_progress=False)
        for name, teachers in [("plain", []), ("zero", [str(teacher)])]
    ]  # fmt: skip
    a, b = (weights_digest(load_checkpoint(r / "checkpoints" / "last")) for r in runs)
    assert a == b


def test_a_student_learns_what_its_teacher_says_not_the_labels(real_emoset, teacher, tmp_path):
    """A teacher made to answer one class (its output bias raised) pulls a student trained on the
    teacher's term alone (weight 1) towards that class: its output bias for the class rises above
    the others', as it does not when the same training has the labels alone (weight 0)."""
    model = load_checkpoint(teacher / "checkpoints" / "best")
    k = 2
    with torch.no_grad():
        model.heads["emodb"].classifier.fc2.bias[k] += 20
    save_checkpoint(model, tmp_path / "biased")

    def lead(weight: float) -> float:
        cfg = _student(real_emoset, tmp_path / f"w{weight}", [str(tmp_path / "biased")], weight)
        cfg["data"]["batch_size"], cfg["optim"]["lr"] = 8, 0.01  # 16 steps
        run = train(config_from_dict(cfg), show_progress=False)
        bias = load_checkpoint(run / "checkpoints" / "last").heads["emodb"].classifier.fc2.bias
        return float(bias[k] - torch.cat([bias[:k], bias[k + 1 :]]).max())

    follows, labels = lead(1.0), lead(0.0)
    assert follows > labels + 0.05, (follows, labels)


def untrained_teacher(folder: Path, corpus: str, emoset: Path, seed: int = 5) -> Path:
    """An untrained emonet-tiny checkpoint that knows ``corpus``."""
    from emonet.corpora.emoset import open_emoset
    from emonet.model import create_model

    torch.manual_seed(seed)
    model = create_model("emonet-tiny")
    model.add_corpus(corpus, open_emoset(emoset)[corpus].labels)
    save_checkpoint(model, folder)
    return folder


def test_a_multi_corpus_student_learns_each_corpus_from_its_own_teachers(real_emoset, tmp_path):
    """Each teacher teaches the corpora it knows (BAM!-style); the run trains and every corpus's
    batches are scored by that corpus's teachers only."""
    from emonet.train.distill import Teachers

    emodb = untrained_teacher(tmp_path / "t-emodb", "emodb", real_emoset)
    urdu = untrained_teacher(tmp_path / "t-urdu", "urdu", real_emoset)
    cfg = base(real_emoset, tmp_path / "run", "multi", ("emodb", "urdu"), data__limit=32,
               multi__steps_per_epoch=2, optim__max_epochs=1,
               distill={"teachers": [str(emodb), str(urdu)]})  # fmt: skip
    run = train(config_from_dict(cfg), show_progress=False)
    assert (run / "DONE.json").is_file()
    net = load_checkpoint(run / "checkpoints" / "last")
    teachers = Teachers([str(emodb), str(urdu)], dict(net.corpora), net, torch.device("cpu"), 1, 1)
    assert [len(teachers.by_corpus[c]) for c in ("emodb", "urdu")] == [1, 1]
    assert teachers.by_corpus["urdu"][0].corpora.keys() == {"urdu"}


def test_teachers_that_cannot_teach_are_refused(real_emoset, teacher, tmp_path):
    cfg = _student(real_emoset, tmp_path / "a", [str(tmp_path / "nowhere")], 0.5)
    with pytest.raises(ConfigError, match=r"distill\.teachers: .*nowhere"):
        train(config_from_dict(cfg), show_progress=False)
    cfg = base(real_emoset, tmp_path / "b", corpora=("urdu",), data__limit=32,
               distill={"teachers": [str(teacher)]})  # fmt: skip
    with pytest.raises(ConfigError, match=r"knows none of the training corpora \['urdu'\]"):
        train(config_from_dict(cfg), show_progress=False)
    cfg = base(real_emoset, tmp_path / "c", "multi", ("emodb", "urdu"), data__limit=32,
               distill={"teachers": [str(teacher)]})  # fmt: skip
    with pytest.raises(ConfigError, match=r"no teacher knows the training corpora \['urdu'\]"):
        train(config_from_dict(cfg), show_progress=False)


def test_resume_refuses_teachers_retrained_under_the_same_path(real_emoset, tmp_path, capfd):
    """The run records its teachers' weights digests (sources.json); a teacher retrained under
    the same path is named on resume, and the same weights back let it resume. The "using
    last" notice for a run folder without ``best`` is printed once, not once per load."""
    teacher = tmp_path / "teacher"
    untrained_teacher(teacher / "checkpoints" / "last", "emodb", real_emoset, seed=5)
    cfg = config_from_dict(_student(real_emoset, tmp_path / "s", [str(teacher)], 0.5))
    cfg.optim.max_epochs = 1
    run = train(cfg, show_progress=False)
    assert capfd.readouterr().err.count("has no checkpoints/best") == 1
    (run / "DONE.json").unlink()  # as if killed after its last checkpoint
    untrained_teacher(teacher / "checkpoints" / "last", "emodb", real_emoset, seed=6)
    with pytest.raises(
        ConfigError, match=r"--resume: .*\(distill\.teachers\[0\] .*teacher: SHA-256"
    ):
        train(cfg, resume=True, show_progress=False)
    untrained_teacher(teacher / "checkpoints" / "last", "emodb", real_emoset, seed=5)
    train(cfg, resume=True, show_progress=False)
    assert (run / "DONE.json").is_file()
