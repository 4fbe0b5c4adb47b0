"""EmoNet: multi-corpus speech emotion recognition with parallel residual adapters."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from emonet.model import EmoNet

try:
    __version__ = version("emonet")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0"


def load(checkpoint: str | Path) -> EmoNet:
    """Load a trained model (checkpoint or run folder) for inference; it knows corpora and labels.

    torch is imported here, not at ``import emonet``, so that light tools stay light.
    """
    from emonet.infer.predictor import load_model

    return load_model(checkpoint)


__all__ = ["__version__", "load"]
