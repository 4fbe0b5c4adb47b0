"""Score a model on a list of utterances (batched by similar length, returned in input order) and
turn logits into probabilities; used by training (devel), evaluation and inference alike."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext

import numpy as np
import torch

from emonet.data.datasets import UtteranceDataset, collate_padded


@torch.no_grad()
def predict_dataset(
    model: torch.nn.Module,
    dataset: UtteranceDataset,
    corpus: str,
    batch_size: int = 32,
    window: float | None = None,
    autocast: Callable = nullcontext,
    device: torch.device | str | None = None,
) -> np.ndarray:
    """Logits ``(N, n_labels)`` of every utterance, through the model's ``predict_logits``.

    Batches are moved to ``device`` (default: the model's). Utterances are batched in order of
    length so that little padding is computed; the model masks the padding, so the order does
    not change any score.
    """
    if device is None:
        device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    lengths = np.array([dataset.cache.length(i) for i in range(len(dataset))])
    order = np.argsort(lengths, kind="stable")
    out: np.ndarray | None = None
    try:
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            waves, lens, _ = collate_padded([dataset[int(i)] for i in idx])
            waves, lens = waves.to(device), lens.to(device)
            with autocast():
                logits = model.predict_logits(waves, lens, corpus, window=window)
            logits = logits.float().cpu().numpy()
            if out is None:
                out = np.empty((len(dataset), logits.shape[1]), dtype=np.float32)
            out[idx] = logits
    finally:
        model.train(was_training)
    assert out is not None, "empty dataset"
    return out


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax in float64."""
    z = np.asarray(logits, dtype=np.float64)
    z = z - z.max(1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(1, keepdims=True)
