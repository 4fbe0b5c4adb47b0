"""SpecAugment (Park et al., 2019): random frequency and time masks on the log-mel, in training,
and a random stretch of the mel axis (a vocal-tract-length change, as VTLP; Jaitly & Hinton, 2013).

It sits inside :class:`~emonet.model.EmoNet` between the front end and the backbone and acts only
in training mode, so scoring, export and checkpoints are unchanged (it has no weights). Masks are
drawn with torch's generator on the spectrogram's device, like dropout: no host sync, and a run
seeded per epoch retraces them exactly on resume.
"""

from __future__ import annotations

import torch
from torch import nn


class SpecAugment(nn.Module):
    """``freq_masks`` bands of up to ``freq_width`` mel bins and ``time_masks`` spans of up to
    ``time_width`` frames per item, filled with the item's mean log-mel; before them, with
    ``freq_warp`` > 0, the mel axis of each item stretched by a factor drawn from 1 +- freq_warp."""

    def __init__(
        self,
        freq_masks: int = 0,
        freq_width: int = 16,
        time_masks: int = 0,
        time_width: int = 20,
        freq_warp: float = 0.0,
    ) -> None:
        super().__init__()
        for key, value in (("freq_masks", freq_masks), ("freq_width", freq_width),
                           ("time_masks", time_masks), ("time_width", time_width)):  # fmt: skip
            if value < 0:
                raise ValueError(f"{key}: must be >= 0, got {value}")
        if not 0.0 <= freq_warp < 1.0:
            raise ValueError(f"freq_warp: must be in [0, 1), got {freq_warp}")
        self.freq_masks, self.freq_width = freq_masks, freq_width
        self.time_masks, self.time_width = time_masks, time_width
        self.freq_warp = freq_warp

    def forward(self, spec: torch.Tensor) -> torch.Tensor:
        """``spec`` ``(B, 1, n_mels, frames)`` with masks in training mode, unchanged otherwise."""
        if not self.training:
            return spec
        if self.freq_warp > 0:
            spec = self._warp(spec)
        fill = spec.mean(dim=(-2, -1), keepdim=True)
        mask = self._bands(spec, -2, self.freq_masks, self.freq_width)
        mask = mask | self._bands(spec, -1, self.time_masks, self.time_width)
        return torch.where(mask, fill, spec)

    def _warp(self, spec: torch.Tensor) -> torch.Tensor:
        """Each item's mel axis stretched by its own factor: output bin m reads bin m * factor
        (linear interpolation, the top bin repeated where that lies beyond the axis)."""
        batch, n_mels = spec.shape[0], spec.shape[-2]
        factor = 1 + (torch.rand(batch, device=spec.device) * 2 - 1) * self.freq_warp
        pos = torch.arange(n_mels, device=spec.device, dtype=torch.float32) * factor[:, None]
        pos = pos.clamp(max=n_mels - 1)
        lo = pos.floor().long()
        hi = (lo + 1).clamp(max=n_mels - 1)
        frac = (pos - lo).to(spec.dtype)[:, None, :, None]
        expand = (-1, spec.shape[1], -1, spec.shape[-1])
        below = spec.gather(-2, lo[:, None, :, None].expand(expand))
        above = spec.gather(-2, hi[:, None, :, None].expand(expand))
        return below + (above - below) * frac

    @staticmethod
    def _bands(spec: torch.Tensor, dim: int, count: int, width: int) -> torch.Tensor:
        """Boolean mask broadcastable to ``spec``: ``count`` random bands along ``dim``."""
        batch, size = spec.shape[0], spec.shape[dim]
        shape = [batch, 1, 1, 1]
        shape[dim] = size
        if count == 0 or width == 0:
            return torch.zeros(shape, dtype=torch.bool, device=spec.device)
        widths = torch.randint(0, min(width, size) + 1, (batch, count), device=spec.device)
        starts = (torch.rand(batch, count, device=spec.device) * (size - widths + 1)).long()
        pos = torch.arange(size, device=spec.device)
        inside = (pos >= starts[..., None]) & (pos < (starts + widths)[..., None])
        return inside.any(dim=1).view(shape)

    def extra_repr(self) -> str:
        return (
            f"freq_masks={self.freq_masks}, freq_width={self.freq_width}, "
            f"time_masks={self.time_masks}, time_width={self.time_width}, "
            f"freq_warp={self.freq_warp}"
        )
