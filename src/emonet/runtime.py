"""Process-level settings: devices, and what makes CPU training and inference faster."""

from __future__ import annotations

from typing import TYPE_CHECKING

from emonet.errors import EmoNetError

if TYPE_CHECKING:
    import torch


def keep_freed_memory() -> None:
    """glibc: reuse freed activation memory instead of returning it to the kernel every step.

    Large tensors are otherwise mmap-ed and unmapped each step, and page-faulting them in again
    costs up to a third of a CPU training step (measured in benchmarks/model.py).
    """
    import ctypes
    import sys

    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return
    libc.mallopt(-4, 0)  # M_MMAP_MAX: no mmap for large blocks
    libc.mallopt(-1, 1 << 40)  # M_TRIM_THRESHOLD: never trim the heap


def default_device() -> str:
    """``cuda`` when a GPU is available, else ``cpu`` (the default of every ``--device``)."""
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def torch_device(accelerator: str | None) -> str:
    """The torch device of an accelerator name (cpu, cuda, cuda:1, gpu, mps; None or auto: the
    default), checked by :func:`check_device`."""
    if accelerator in (None, "auto"):
        return default_device()
    name = "cuda" if accelerator == "gpu" else str(accelerator)
    check_device(name)
    return name


class DeviceError(EmoNetError, ValueError):
    """A device that is not a torch device or not available here; the message names it."""


def check_device(device: str | torch.device | None = None) -> torch.device:
    """The torch device ``device`` names (None: cpu), checked to exist on this machine.

    Without the check, ``cuda`` on a CPU-only build fails deep inside PyTorch with an
    AssertionError; here it is a :class:`DeviceError` naming the device and the reason.
    """
    import torch

    if device is None:
        return torch.device("cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        raise DeviceError(
            f"device {str(device)!r}: not a torch device name (e.g. cpu, cuda, cuda:1)"
        ) from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            why = (
                f"this PyTorch ({torch.__version__}) is a CPU-only build"
                if torch.version.cuda is None
                else "no CUDA GPU is visible"
            )
            raise DeviceError(f"device {str(device)!r}: CUDA is not available ({why}); use cpu")
        count = torch.cuda.device_count()
        if dev.index is not None and dev.index >= count:
            raise DeviceError(f"device {str(device)!r}: only {count} CUDA device(s) are visible")
    elif dev.type != "cpu":
        backend = getattr(torch.backends, dev.type, None) or getattr(torch, dev.type, None)
        available = getattr(backend, "is_available", None)
        if available is None or not available():
            raise DeviceError(f"device {str(device)!r}: not available on this machine; use cpu")
    return dev
