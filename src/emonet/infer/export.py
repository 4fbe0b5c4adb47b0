"""ONNX export: one graph from raw waveforms (at the model's rate) to one corpus's probabilities.

The graph takes ``waves`` ``(batch, samples)`` float32 (zero-padded) and ``lengths`` ``(batch,)``
int64 and returns ``probabilities`` ``(batch, labels)``; batch and samples are dynamic axes. It
reproduces :meth:`EmoNet.predict_logits` followed by a softmax:

- attention head: each utterance whole, padding masked;
- avgpool head (fixed window): each utterance is cut into windows of the model's ``window`` with
  50 % hop (the last/short one zero-padded), the logits of an utterance's windows are averaged —
  exactly the model's own scoring, so any length goes in.

The log-mel front end is inside the graph (framing + real FFT as the ONNX ``DFT`` op). The model's
``forward`` holds shape-dependent Python branches that ``torch.export`` cannot keep dynamic (e.g.
"mask only if some item is padded", "pad if the time axis is odd"), so the graph is built from
:meth:`EmoNet.forward_masked` (the always-masked path, time padded to a multiple of 8 frames) on
:meth:`EmoNet.window_grid`'s windows; masked padding does not change an item's result, and the
tests check it.

Metadata (``metadata_props``): ``emonet.corpus``, ``emonet.labels`` (JSON list, output order),
``emonet.frontend`` (JSON), ``emonet.head``, ``emonet.window``, ``emonet.sample_rate``,
``emonet.inputs``/``emonet.outputs`` and the checkpoint's ``emonet.model`` name.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import logging
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from emonet.errors import EmoNetError
from emonet.files import atomic_path

if TYPE_CHECKING:
    from emonet.model import EmoNet

OPSET = 18
"""ONNX opset of the exported graph (DFT needs ≥ 17)."""


class ExportError(EmoNetError, RuntimeError):
    """The export failed or the exported graph does not reproduce the PyTorch model."""


class OnnxScorer(nn.Module):
    """``(waves, lengths) -> probabilities`` of one corpus along the model's export-friendly path
    (:meth:`EmoNet.forward_masked` on :meth:`EmoNet.window_grid`'s windows).

    Numerically the same as ``softmax(model.predict_logits(waves, lengths, corpus))``, also in
    PyTorch, so it doubles as a reference for what the graph computes.
    """

    def __init__(self, model: EmoNet, corpus: str) -> None:
        super().__init__()
        if corpus not in model.corpora:
            raise ValueError(f"corpus {corpus!r} is not in the model; it has {list(model.corpora)}")
        self.model = model.eval()
        self.corpus = corpus
        self.avgpool = model.config.head == "avgpool"

    def logits(self, waves: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Logits of whole inputs (one window each for the avgpool head)."""
        return self.model.forward_masked(waves, lengths, self.corpus)

    def forward(self, waves: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Probabilities ``(B, labels)`` of padded waves ``(B, T)`` with valid ``lengths``."""
        lengths = lengths.to(torch.long)
        if not self.avgpool:
            return torch.softmax(self.logits(waves, lengths).float(), dim=-1)
        segments, seg_lengths, valid, n_win = self.model.window_grid(waves, lengths)
        logits = self.logits(segments, seg_lengths).float()
        logits = logits.reshape(waves.shape[0], valid.shape[1], -1)
        mean = (logits * valid[..., None]).sum(1) / n_win[:, None].float()
        return torch.softmax(mean, dim=-1)


def export_metadata(model: EmoNet, corpus: str) -> dict[str, str]:
    """The ``metadata_props`` written into the ONNX model (all values strings, JSON where
    structured)."""
    c = model.config
    return {
        "emonet.model": str(model.name or ""),
        "emonet.corpus": corpus,
        "emonet.labels": json.dumps(list(model.corpora[corpus]), ensure_ascii=False),
        "emonet.frontend": json.dumps(dataclasses.asdict(c.frontend)),
        "emonet.sample_rate": str(c.frontend.sample_rate),
        "emonet.head": c.head,
        "emonet.window": str(c.window) if c.head == "avgpool" else "",
        "emonet.inputs": json.dumps(
            {
                "waves": "float32 (batch, samples): mono waveforms at sample_rate, zero-padded",
                "lengths": "int64 (batch,): valid samples of each row",
            }
        ),
        "emonet.outputs": json.dumps({"probabilities": "float32 (batch, labels): softmax"}),
    }


def export_onnx(
    model: EmoNet | str | Path,
    out: str | Path,
    corpus: str | None = None,
    *,
    verify: bool = True,
    tolerance: float = 1e-4,
    verify_signals: list[np.ndarray] | None = None,
) -> Path:
    """Export one corpus of a model (or checkpoint/run folder) as a self-contained ONNX graph.

    With ``verify`` the file is checked with ``onnx.checker`` and run in onnxruntime on a padded
    batch of test signals (``verify_signals``, default: generated noise of several lengths); the
    probabilities must match PyTorch within ``tolerance`` (max abs diff) or ExportError is raised.
    """
    from emonet.infer.predictor import check_output_file, choose_corpus, load_model

    out = check_output_file(out, "ONNX model", ExportError)  # before minutes of exporting
    if isinstance(model, (str, Path)):
        model = load_model(model)
    corpus = choose_corpus(list(model.corpora), corpus)
    scorer = OnnxScorer(model.cpu().eval(), corpus).eval()
    sr = model.config.frontend.sample_rate
    rng = np.random.default_rng(0)
    example = torch.from_numpy(rng.standard_normal((2, int(1.5 * sr))).astype(np.float32) * 0.1)
    lengths = torch.tensor([example.shape[1], example.shape[1] - sr // 2])
    batch = torch.export.Dim("batch", min=1)
    samples = torch.export.Dim("samples", min=1)
    try:
        with _quiet(), torch.no_grad():
            program = torch.onnx.export(
                scorer,
                (example, lengths),
                dynamo=True,
                input_names=["waves", "lengths"],
                output_names=["probabilities"],
                dynamic_shapes={"waves": {0: batch, 1: samples}, "lengths": {0: batch}},
                opset_version=OPSET,
                external_data=False,
                optimize=True,
            )
    except Exception as exc:
        raise ExportError(f"torch.onnx.export failed: {type(exc).__name__}: {exc}") from exc
    import onnx

    proto = program.model_proto
    for key, value in export_metadata(model, corpus).items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    with atomic_path(out) as tmp:  # only a checked model reaches ``out``
        onnx.save_model(proto, str(tmp))
        if verify:
            onnx.checker.check_model(str(tmp), full_check=True)
            if verify_signals is None:
                verify_signals = [
                    (rng.standard_normal(n) * 0.1).astype(np.float32)
                    for n in (int(0.05 * sr), int(2.3 * sr), int(7.7 * sr), 13 * sr)
                ]
            diff = verify_onnx(tmp, model, corpus, verify_signals)
            if not diff <= tolerance:  # also refuses NaN (NaN compares false with anything)
                if not np.isfinite(diff):
                    raise ExportError(
                        f"{out}: the model gives non-finite probabilities (NaN or inf) in "
                        "onnxruntime or PyTorch; are its weights damaged?"
                    )
                raise ExportError(
                    f"{out}: onnxruntime differs from PyTorch by {diff:.2e} (> {tolerance:g})"
                )
    return out


def pad_batch(signals: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Zero-padded ``(B, T)`` float32 batch and int64 lengths of 1-D signals."""
    lengths = np.array([len(s) for s in signals], dtype=np.int64)
    waves = np.zeros((len(signals), int(lengths.max())), dtype=np.float32)
    for i, s in enumerate(signals):
        waves[i, : len(s)] = s
    return waves, lengths


def onnx_session(path: str | Path, threads: int | None = None):
    """An onnxruntime CPU session for an exported model (``threads``: intra-op threads)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    if threads is not None:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def read_metadata(path: str | Path) -> dict:
    """The emonet metadata of an exported model, JSON values decoded (labels, frontend, …)."""
    import onnx

    props = {p.key: p.value for p in onnx.load(str(path), load_external_data=False).metadata_props}
    out: dict = {}
    for key, value in props.items():
        if not key.startswith("emonet."):
            continue
        name = key.removeprefix("emonet.")
        try:
            out[name] = (
                json.loads(value) if name in ("labels", "frontend", "inputs", "outputs") else value
            )
        except json.JSONDecodeError:
            out[name] = value
    return out


def verify_onnx(path: str | Path, model: EmoNet, corpus: str, signals: list[np.ndarray]) -> float:
    """Max abs difference of probabilities, onnxruntime vs ``predict_logits`` + softmax, over the
    signals as one padded batch and one at a time; ``inf`` if either side gives a non-finite
    probability (Python's ``max()`` would step over a NaN and report a match)."""
    from emonet.model.scoring import softmax

    session = onnx_session(path)
    worst = 0.0
    batches = [signals, *([s] for s in signals)]
    with torch.no_grad():
        for group in batches:
            waves, lengths = pad_batch(group)
            got = session.run(None, {"waves": waves, "lengths": lengths})[0]
            logits = model.predict_logits(
                torch.from_numpy(waves), torch.from_numpy(lengths), corpus
            )
            ref = softmax(logits.float().numpy())
            if not (np.isfinite(got).all() and np.isfinite(ref).all()):
                return float("inf")
            worst = max(worst, float(np.abs(got - ref).max()))
    return worst


@contextlib.contextmanager
def _quiet():
    """Silence the exporter's progress prints and warnings (errors still raise)."""
    loggers = [logging.getLogger(n) for n in ("torch.onnx", "torch.export", "torch._dynamo")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        with (
            warnings.catch_warnings(),
            contextlib.redirect_stdout(io.StringIO()),
        ):
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)
