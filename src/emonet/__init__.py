"""EmoNet: multi-corpus speech emotion recognition with parallel residual adapters."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("emonet")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0"

__all__ = ["__version__"]
