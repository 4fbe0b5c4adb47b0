"""Knowledge distillation: one model learns the labels and the averaged predictions of trained ones.

On corpora of a few hundred utterances the seeds' models disagree, and their averaged predictions
(a seed ensemble) score about three points above a single model (docs/results.md). Distillation
(Hinton et al., 2015; "born-again networks", Furlanello et al., 2018, when the student has the
teachers' architecture) trains one model towards that average, for one model's inference cost.
The teachers score every augmented training crop as the student sees it, in eval mode.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from emonet.config import ConfigError
from emonet.model import EmoNet, load_checkpoint, resolve_checkpoint
from emonet.model.checkpoint import CheckpointError
from emonet.train.augment import Batch


class Teachers:
    """Frozen trained models whose averaged, temperature-softened predictions the student learns.

    A teacher teaches the training corpora it knows: a multi-corpus student may learn each corpus
    from that corpus's own single-corpus models (as in Clark et al., 2019, "BAM! Born-again
    multi-task networks"); every training corpus needs at least one teacher.
    """

    def __init__(
        self,
        paths: list[str],
        labels: dict[str, list[str]],
        student: EmoNet,
        device: torch.device,
        weight: float,
        temperature: float,
    ) -> None:
        self.weight, self.temperature = weight, temperature
        self.by_corpus: dict[str, list[EmoNet]] = {c: [] for c in labels}
        for path in paths:
            try:
                # check_teachers, before any process started, said which checkpoint it took
                model = load_checkpoint(resolve_checkpoint(path, notify=False), device=device)
            except CheckpointError as exc:
                raise ConfigError(f"distill.teachers: {exc}") from None
            _check_compatible(path, model, student)
            known = [c for c in labels if c in model.corpora]
            if not known:
                raise ConfigError(
                    f"distill.teachers: {path} knows none of the training corpora {list(labels)} "
                    f"(it has {list(model.corpora)})"
                )
            for c in known:
                if list(model.corpora[c]) != list(labels[c]):
                    raise ConfigError(
                        f"distill.teachers: {path} has corpus {c!r} with labels "
                        f"{list(model.corpora[c])}, the EmoSet {list(labels[c])}"
                    )
                self.by_corpus[c].append(model)
            model.requires_grad_(False)
        untaught = [c for c, models in self.by_corpus.items() if not models]
        if untaught:
            raise ConfigError(f"distill.teachers: no teacher knows the training corpora {untaught}")

    @torch.no_grad()
    def targets(self, fabric, batch: Batch, corpus: str) -> torch.Tensor:
        """The mean class probabilities at the temperature of ``corpus``'s teachers, ``(B, n)``."""
        models = self.by_corpus[corpus]
        probs = None
        with fabric.autocast():
            for model in models:
                logits = model(batch.waves, batch.lengths, corpus=corpus).float()
                p = torch.softmax(logits / self.temperature, dim=1)
                probs = p if probs is None else probs + p
        assert probs is not None
        return probs / len(models)

    def loss(self, hard: torch.Tensor, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """The labels' loss ``hard`` joined with the teachers' term (:func:`distillation_loss`)."""
        return distillation_loss(hard, logits, targets, self.weight, self.temperature)


def distillation_loss(
    hard: torch.Tensor,
    logits: torch.Tensor,
    targets: torch.Tensor,
    weight: float,
    temperature: float,
) -> torch.Tensor:
    """``(1 - weight)`` × ``hard`` + ``weight`` × T² × KL(targets ‖ softmax(logits / T)).

    T² keeps the soft term's gradients on the scale of the hard one's (Hinton et al.)."""
    log_p = F.log_softmax(logits / temperature, dim=1)
    soft = F.kl_div(log_p, targets, reduction="batchmean") * temperature**2
    return (1 - weight) * hard + weight * soft


def _check_compatible(path: str, teacher: EmoNet, student: EmoNet) -> None:
    """A teacher hears the student's crops: same sample rate; an avgpool head, the same window."""
    rate, want = teacher.config.frontend.sample_rate, student.config.frontend.sample_rate
    if rate != want:
        raise ConfigError(f"distill.teachers: {path} takes {rate} Hz audio, the student {want} Hz")
    if teacher.config.head == "avgpool" and teacher.config.window != student.config.window:
        raise ConfigError(
            f"distill.teachers: {path} has an average-pool head for {teacher.config.window} s "
            f"inputs; the student's crops are {student.config.window} s"
        )


def check_teachers(paths: list[str]) -> None:
    """Every teacher names a checkpoint, or a run folder that has one (checked before any
    process starts)."""
    for path in paths:
        try:
            resolve_checkpoint(path)
        except CheckpointError as exc:
            raise ConfigError(f"distill.teachers: {exc}") from None
