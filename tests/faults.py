"""Faults on purpose: run ``emonet train`` in a child process that SIGKILLs itself at a step.

Shared by the resume tests and ``benchmarks/gpu.py``. The child wraps ``train_step`` so that the
signal arrives right after optimiser step ``kill_at`` of that process: a real, uncatchable kill at
a chosen point, with no hook in the product code.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

KILL_AT_STEP = """
import os, signal, sys
import emonet.train.loop as loop
import emonet.train.step as step_module
from emonet.train.config import load_config

cfg, kill_at = load_config(sys.argv[1]), int(sys.argv[2])
original, calls = step_module.train_step, [0]

def step(*args, **kwargs):
    out = original(*args, **kwargs)
    calls[0] += 1
    if calls[0] == kill_at:
        os.kill(os.getpid(), signal.SIGKILL)
    return out

step_module.train_step = step
loop.train(cfg, show_progress=False)
"""


def train_killed_at_step(config: Path, kill_at: int) -> subprocess.CompletedProcess:
    """Train the YAML ``config`` in a child process killed after step ``kill_at``."""
    return subprocess.run(
        [sys.executable, "-c", KILL_AT_STEP, str(config), str(kill_at)],
        capture_output=True,
        text=True,
    )
