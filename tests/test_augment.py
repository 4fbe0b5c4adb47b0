"""Augmentation: SpecAugment inside the model (training mode only), random gain and mixup of a
batch, config keys off by default, and training with all of them on learns and resumes exactly."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from emonet.model import create_model
from emonet.model.augment import SpecAugment
from emonet.train.augment import Batch, BatchAugment, set_spec_augment
from emonet.train.config import AugmentConfig, ConfigError, config_from_dict


def test_spec_augment_masks_bands_in_training_only():
    torch.manual_seed(0)
    spec = torch.randn(4, 1, 64, 100)
    aug = SpecAugment(freq_masks=2, freq_width=10, time_masks=2, time_width=15).train()
    out = aug(spec)
    fill = spec.mean(dim=(-2, -1), keepdim=True).expand_as(spec)
    changed = out != spec
    assert changed.any() and torch.equal(out[changed], fill[changed])
    for b in range(4):  # masked cells form whole mel rows and whole frame columns
        rows = changed[b, 0].all(dim=1)
        cols = changed[b, 0].all(dim=0)
        assert torch.equal(changed[b, 0], rows[:, None] | cols[None, :])
        assert rows.sum() <= 2 * 10 and cols.sum() <= 2 * 15
    assert torch.equal(aug.eval()(spec), spec)
    with pytest.raises(ValueError, match="time_masks"):
        SpecAugment(time_masks=-1)


def test_freq_warp_stretches_each_items_mel_axis_within_its_bounds():
    torch.manual_seed(0)
    n_mels = 64
    ramp = torch.arange(n_mels, dtype=torch.float32)[None, None, :, None].expand(16, 1, n_mels, 7)
    aug = SpecAugment(freq_warp=0.2).train()
    out = aug(ramp.contiguous())
    # a ramp 0..63 over the mel axis becomes, per item, bin m -> min(m * factor, 63)
    factors = out[:, 0, 1, 0]  # bin 1 reads bin 1 * factor
    assert (factors >= 0.8 - 1e-6).all() and (factors <= 1.2 + 1e-6).all()
    assert factors.std() > 0.05  # each item its own factor
    expected = (torch.arange(n_mels)[None, :] * factors[:, None]).clamp(max=n_mels - 1)
    assert torch.allclose(out[:, 0, :, 3], expected, atol=1e-4)
    assert torch.equal(out[:, :, :, 0], out[:, :, :, 6])  # the same stretch in every frame
    assert torch.equal(aug.eval()(ramp), ramp)
    with pytest.raises(ValueError, match="freq_warp"):
        SpecAugment(freq_warp=1.0)
    with pytest.raises(ConfigError, match=r"augment\.freq_warp"):
        config_from_dict({"data": {"corpora": ["emodb"]}, "augment": {"freq_warp": 1.5}})


def test_spec_augment_adds_no_weights_and_changes_only_training():
    model = create_model("emonet-tiny")
    model.add_corpus("c", ["a", "b"])
    keys = set(model.state_dict())
    set_spec_augment(model, AugmentConfig(freq_masks=2, time_masks=2))
    assert set(model.state_dict()) == keys and model.spec_augment is not None
    x = torch.randn(2, 16000)
    model.eval()
    with torch.no_grad():
        a = model(x, corpus="c")
        set_spec_augment(model, AugmentConfig())
        assert model.spec_augment is None
        assert torch.equal(a, model(x, corpus="c"))


def test_gain_stays_within_its_decibels():
    torch.manual_seed(0)
    waves = torch.full((64, 100), 0.1)
    batch = BatchAugment(AugmentConfig(gain_db=6.0))(waves, None, torch.zeros(64, dtype=torch.long))
    ratio_db = 20 * torch.log10(batch.waves[:, 0] / 0.1)
    assert ratio_db.abs().max() <= 6.0 + 1e-4 and ratio_db.std() > 1.0
    assert batch.partner is None


def test_mixup_mixes_waves_lengths_and_losses_alike():
    torch.manual_seed(0)
    waves = torch.randn(8, 50)
    lengths = torch.arange(10, 50, 5)
    labels = torch.arange(8) % 3
    b = BatchAugment(AugmentConfig(mixup=0.4))(waves, lengths, labels)
    lam = float(b.lam)
    assert 0.5 <= lam <= 1.0
    # the partner of item i is the item j whose waves were mixed in
    j = [int(torch.argmin(((b.waves[i] - lam * waves[i]) / (1 - lam) - waves).abs().sum(1)))
         for i in range(8)]  # fmt: skip
    assert torch.equal(b.partner, labels[j])
    assert torch.equal(b.lengths, torch.maximum(lengths, lengths[j]))
    logits = torch.randn(8, 3)
    ce = nn.CrossEntropyLoss()
    expected = lam * ce(logits, labels) + (1 - lam) * ce(logits, labels[j])
    assert torch.allclose(b.loss(ce, logits), expected)
    assert torch.equal(Batch(waves, None, labels).loss(ce, logits), ce(logits, labels))


def test_augment_keys_are_off_by_default_and_checked():
    assert AugmentConfig() == AugmentConfig(0, 16, 0, 20, 0.0, 0.0)
    base = {"data": {"corpora": ["emodb"]}}
    with pytest.raises(ConfigError, match=r"augment\.mixup: must be >= 0"):
        config_from_dict({**base, "augment": {"mixup": -0.2}})
    with pytest.raises(ConfigError, match=r"unknown key augment\.specaugment"):
        config_from_dict({**base, "augment": {"specaugment": True}})


def test_training_with_augmentation_differs_from_without(real_emoset, tmp_path):
    """The keys reach the loop: same seed, same data, other weights (exact resume with them on:
    tests/test_train_engine.py::test_resume_is_exact_for_every_schedule[cosine-augmented])."""
    from test_train import base

    from emonet.model import load_checkpoint
    from emonet.train.loop import train, weights_digest

    digests = []
    for name, augment in [("plain", {}), ("spec", {"freq_masks": 2, "time_masks": 2}),
                          ("mix", {"mixup": 0.4, "gain_db": 6.0})]:  # fmt: skip
        cfg = base(real_emoset, tmp_path / name, data__limit=32, optim__max_epochs=1)
        cfg["augment"] = augment
        run = train(config_from_dict(cfg), show_progress=False)
        digests.append(weights_digest(load_checkpoint(run / "checkpoints" / "last")))
    assert len(set(digests)) == 3
