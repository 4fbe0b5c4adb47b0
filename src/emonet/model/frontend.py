"""Log-mel front end as an ``nn.Module``, so a model takes raw 16 kHz waveforms and is self-contained.

Definition (the TF reference's): frames of ``n_fft`` samples every ``hop_length`` samples (no
centring), periodic Hann window, power spectrum, HTK mel filterbank with triangles in Hz
(``librosa.filters.mel(htk=True, norm=None)``), natural ``log(mel + log_offset)``.

Frames: ``1 + (length - n_fft) // hop_length`` without centring, ``1 + length // hop_length`` with
centring (zero padding of ``n_fft // 2`` on both sides). A clip shorter than ``n_fft`` is
zero-padded to ``n_fft`` and gives one frame. Samples past an item's length never enter its valid
frames, so the padding of a batch does not change them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from emonet.model.amp import full_precision
from emonet.model.resnet import time_mask


@dataclass
class FrontendConfig:
    """Settings of the log-mel front end (stored in every checkpoint)."""

    sample_rate: int = 16_000
    n_fft: int = 1024
    hop_length: int = 512
    n_mels: int = 128
    f_min: float = 20.0
    f_max: float = 8000.0
    power: float = 2.0
    log_offset: float = 1e-6
    center: bool = False
    window_fn: str = "hann"
    normalize: str = "none"
    """Per-utterance normalisation of each mel band over the item's valid frames: ``mean``
    subtracts the band's mean (removes the channel's and the speaker's long-term spectrum),
    ``meanvar`` also divides by its standard deviation; ``none`` (the reference) leaves it."""

    def validate(self) -> FrontendConfig:
        """Raise ValueError naming the first impossible setting; returns self."""
        if self.sample_rate <= 0 or self.n_fft <= 0 or self.hop_length <= 0 or self.n_mels <= 0:
            raise ValueError("frontend: sample_rate, n_fft, hop_length and n_mels must be positive")
        if not 0 <= self.f_min < self.f_max <= self.sample_rate / 2:
            raise ValueError(
                f"frontend: need 0 <= f_min < f_max <= sample_rate/2, got {self.f_min}, {self.f_max}"
            )
        if self.power not in (1.0, 2.0):
            raise ValueError(f"frontend.power: 1 (magnitude) or 2 (power), got {self.power}")
        if self.log_offset <= 0:
            raise ValueError(f"frontend.log_offset: must be positive, got {self.log_offset}")
        if self.window_fn not in ("hann", "hamming"):
            raise ValueError(f"frontend.window_fn: 'hann' or 'hamming', got {self.window_fn!r}")
        if self.normalize not in ("none", "mean", "meanvar"):
            raise ValueError(
                f"frontend.normalize: 'none', 'mean' or 'meanvar', got {self.normalize!r}"
            )
        return self


def hz_to_mel_htk(f: np.ndarray | float) -> np.ndarray:
    """HTK mel scale: ``2595 log10(1 + f / 700)``."""
    return 2595.0 * np.log10(1.0 + np.asarray(f, dtype=np.float64) / 700.0)


def mel_to_hz_htk(m: np.ndarray | float) -> np.ndarray:
    """Inverse of :func:`hz_to_mel_htk`."""
    return 700.0 * (10.0 ** (np.asarray(m, dtype=np.float64) / 2595.0) - 1.0)


def mel_filterbank(
    sample_rate: int, n_fft: int, n_mels: int, f_min: float, f_max: float
) -> np.ndarray:
    """HTK mel filterbank ``(n_fft // 2 + 1, n_mels)`` in float64: unnormalised triangles in Hz."""
    fft_freqs = np.linspace(0.0, sample_rate / 2, n_fft // 2 + 1)
    edges = mel_to_hz_htk(np.linspace(hz_to_mel_htk(f_min), hz_to_mel_htk(f_max), n_mels + 2))
    widths = np.diff(edges)
    ramps = edges[:, None] - fft_freqs[None, :]
    lower = -ramps[:-2] / widths[:-1, None]
    upper = ramps[2:] / widths[1:, None]
    return np.maximum(0.0, np.minimum(lower, upper)).T


def num_frames(length: int, config: FrontendConfig) -> int:
    """Frames the front end makes of ``length`` samples (at least one)."""
    if config.center:
        return 1 + max(length, 0) // config.hop_length
    return 1 + max(length - config.n_fft, 0) // config.hop_length


class LogMel(nn.Module):
    """Waveforms ``(B, T)`` + lengths ``(B,)`` → log-mel ``(B, 1, n_mels, frames)`` + frame lengths.

    Computed in float32 (float64 after ``.double()``) whatever the autocast setting (precision of the log matters more than
    speed here; the front end is < 1 % of the model's cost). Frames are processed in blocks of
    about ``block_frames`` so that intermediate buffers stay in cache and off the page-fault path.
    """

    block_frames = 1536

    def __init__(self, config: FrontendConfig | None = None) -> None:
        super().__init__()
        self.config = (config or FrontendConfig()).validate()
        c = self.config
        window_fn = torch.hann_window if c.window_fn == "hann" else torch.hamming_window
        self.register_buffer("window", window_fn(c.n_fft, periodic=True), persistent=False)
        fb = mel_filterbank(c.sample_rate, c.n_fft, c.n_mels, c.f_min, c.f_max)
        self.register_buffer("filterbank", torch.from_numpy(fb).float(), persistent=False)

    def frame_lengths(self, lengths: torch.Tensor) -> torch.Tensor:
        """Valid frames per item for sample ``lengths`` (int64 tensor, ≥ 1)."""
        c = self.config
        if c.center:
            return 1 + lengths.clamp(min=0) // c.hop_length
        return 1 + (lengths - c.n_fft).clamp(min=0) // c.hop_length

    def forward(
        self, waves: torch.Tensor, lengths: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Log-mel spectrogram ``(B, 1, n_mels, frames)`` and valid frames per item ``(B,)``
        (None when ``lengths`` is None: every frame is valid and nothing needs masking)."""
        if waves.ndim != 2:
            raise ValueError(f"waves: expected (batch, samples), got shape {tuple(waves.shape)}")
        c = self.config
        batch, total = waves.shape
        if lengths is not None:
            lengths = lengths.to(device=waves.device, dtype=torch.long)
            if lengths.shape != (batch,):
                raise ValueError(f"lengths: expected shape ({batch},), got {tuple(lengths.shape)}")
        with full_precision(waves.device.type):
            # float32, or float64 when the module was converted to double (for exact checks)
            dtype = torch.float64 if self.filterbank.dtype == torch.float64 else torch.float32
            x = waves.to(dtype)
            # Whatever the batch holds past an item's length must not enter its frames (masked
            # always: asking whether any item is short would wait for the device every step).
            if lengths is not None:
                keep = torch.arange(total, device=x.device) < lengths[:, None]
                x = torch.where(keep, x, x.new_zeros(()))
            if c.center:
                x = nn.functional.pad(x, (c.n_fft // 2, c.n_fft // 2))
            if x.shape[1] < c.n_fft:
                x = nn.functional.pad(x, (0, c.n_fft - x.shape[1]))
            mel = self._mel(x)
            mel.add_(c.log_offset).log_()
            frames = None if lengths is None else self.frame_lengths(lengths)
            mel = self.normalize(mel, frames)
        spec = mel.transpose(1, 2).unsqueeze(1)  # (B, 1, n_mels, frames)
        spec = spec.contiguous(memory_format=torch.channels_last)
        return spec, frames

    def normalize(self, mel: torch.Tensor, frames: torch.Tensor | None) -> torch.Tensor:
        """Log-mel ``(B, frames, n_mels)`` with each band's mean (and deviation) over the valid
        frames taken out; frames past an item's length become 0 (unchanged with ``none``)."""
        if self.config.normalize == "none":
            return mel
        steps = mel.shape[1]
        if frames is None:  # every frame valid
            frames = torch.full((mel.shape[0],), steps, device=mel.device)
        valid = time_mask(frames, steps, mel.dtype).view(-1, steps, 1)
        count = frames.clamp(min=1).to(mel.dtype)[:, None, None]
        centred = (mel - (mel * valid).sum(1, keepdim=True) / count) * valid
        if self.config.normalize == "meanvar":
            centred = centred * (centred.square().sum(1, keepdim=True) / count).add(1e-5).rsqrt()
        return centred

    def _mel(self, x: torch.Tensor) -> torch.Tensor:
        """Mel energies ``(B, frames, n_mels)`` of zero-padded float32 waveforms ``(B, T)``."""
        c = self.config
        frames = x.unfold(-1, c.n_fft, c.hop_length)  # (B, n, n_fft), a view
        batch, n = frames.shape[:2]
        out = x.new_empty(batch, n, c.n_mels)
        fb, window = self.filterbank.to(x.dtype), self.window.to(x.dtype)
        if x.device.type == "cpu":
            per_item = max(1, self.block_frames // n)
            blocks = [
                (slice(b, b + per_item), slice(f, f + self.block_frames))
                for b in range(0, batch, per_item)
                for f in range(0, n, self.block_frames)
            ]
        else:
            blocks = [(slice(None), slice(None))]
        for items, span in blocks:
            chunk = frames[items, span] * window  # contiguous copy of the frames
            rows = chunk.shape[0] * chunk.shape[1]
            spec = torch.view_as_real(torch.fft.rfft(chunk.view(rows, c.n_fft))).square_()
            power = spec[..., 0] + spec[..., 1]
            if c.power == 1.0:
                power = power.sqrt_()
            # Blocks are whole items or one item's consecutive frames: contiguous in ``out``.
            torch.mm(power, fb, out=out[items, span].view(rows, c.n_mels))
        return out


def frames_of_seconds(seconds: float, config: FrontendConfig) -> int:
    """Frames of a clip of ``seconds`` (rounded to whole samples)."""
    return num_frames(round(seconds * config.sample_rate), config)


__all__ = [
    "FrontendConfig",
    "LogMel",
    "frames_of_seconds",
    "hz_to_mel_htk",
    "mel_filterbank",
    "mel_to_hz_htk",
    "num_frames",
]
