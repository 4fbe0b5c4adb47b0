"""What autocast is doing, asked in a way that works on every device type.

``torch.is_autocast_enabled("meta")`` raises: the device audit (tests) runs the model on PyTorch's
``meta`` device in place of CUDA, so the model asks only about device types autocast knows.
Compiled code runs on autocast devices and Dynamo cannot ask whether one is available.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext

import torch


def _knows(device_type: str) -> bool:
    return torch.compiler.is_compiling() or torch.amp.is_autocast_available(device_type)


def autocast_dtype(device_type: str) -> torch.dtype | None:
    """The dtype autocast computes in on ``device_type`` now (None: autocast is off there)."""
    if _knows(device_type) and torch.is_autocast_enabled(device_type):
        return torch.get_autocast_dtype(device_type)
    return None


def full_precision(device_type: str) -> AbstractContextManager:
    """A context in which autocast is off on ``device_type`` (for numerically delicate parts)."""
    return torch.autocast(device_type, enabled=False) if _knows(device_type) else nullcontext()
