"""Lightning's mixed precision, minus its cast of the model's inputs.

A module of its own so that the plugin class pickles for ``ddp_spawn`` workers, and Lightning is
imported only when a mixed-precision run starts.
"""

from __future__ import annotations

from typing import Any

from lightning_fabric.plugins import MixedPrecision


class KeepInputs(MixedPrecision):
    """Autocast as Lightning does it, with the waveforms left in float32: Fabric would round
    them to bf16/fp16 before the front end, which computes in float32, so training would hear
    rounding noise (about -48 dB in bf16) that devel and test scoring never do."""

    def convert_input(self, data: Any) -> Any:
        return data
