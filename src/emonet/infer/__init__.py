"""Using a trained model: predictions for files, folders and long recordings; embeddings; ONNX."""

from __future__ import annotations

from emonet.infer.predictor import (
    CheckpointNotFound,
    Embeddings,
    Predictor,
    PredictorError,
    check_output_file,
    collect_audio_files,
    load_model,
    resolve_checkpoint,
    save_embeddings,
    segment_bounds,
)


def export_onnx(*args, **kwargs):
    """Export a checkpoint's corpus as one ONNX graph; see :func:`emonet.infer.export.export_onnx`."""
    from emonet.infer.export import export_onnx as _export

    return _export(*args, **kwargs)


__all__ = [
    "CheckpointNotFound",
    "Embeddings",
    "Predictor",
    "PredictorError",
    "check_output_file",
    "collect_audio_files",
    "export_onnx",
    "load_model",
    "resolve_checkpoint",
    "save_embeddings",
    "segment_bounds",
]
