"""Training crops (data.sampling, data.feeder): padded window crops as in the reference, and
length-bucketed batches cut to their shortest item, so that no crop is padded."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from emonet.data.cache import AudioCache
from emonet.data.feeder import CropFeeder
from emonet.data.sampling import epoch_batches, epoch_plan
from emonet.train.config import ConfigError, config_from_dict

RATE = 100  # samples per "second" in these tests: a 2-s window is 200 samples


def feeder(sizes: list[int], bucket: bool, window: float = 2.0) -> CropFeeder:
    """Utterance i holds the values i*10000 + 0, 1, 2, ... (so a crop shows where it came from)."""
    data = np.concatenate([i * 10_000 + np.arange(n) for i, n in enumerate(sizes)]).astype(
        np.float32
    )
    cache = AudioCache(data, np.cumsum([0, *sizes]))
    return CropFeeder(cache, list(range(len(sizes))), window, seed=3, sample_rate=RATE,
                      bucket=bucket)  # fmt: skip


def test_bucketed_batches_hold_similar_lengths_and_cover_every_item_once():
    rng = np.random.default_rng(0)
    lengths = rng.integers(100, 1000, 256)
    batches = epoch_batches(256, 16, seed=0, epoch=0, key=0, lengths=lengths)
    assert sorted(np.concatenate(batches).tolist()) == list(range(256))
    spread = [lengths[b].max() / lengths[b].min() for b in batches]
    shuffled = epoch_batches(256, 16, seed=0, epoch=0, key=0)
    assert np.median(spread) < 1.3 < np.median([lengths[b].max() / lengths[b].min()
                                                for b in shuffled])  # fmt: skip
    again = epoch_batches(256, 16, seed=0, epoch=0, key=0, lengths=lengths)
    other = epoch_batches(256, 16, seed=0, epoch=1, key=0, lengths=lengths)
    assert all(np.array_equal(a, b) for a, b in zip(batches, again, strict=True))
    assert not all(np.array_equal(a, b) for a, b in zip(batches, other, strict=True))


def test_bucketed_plan_for_several_corpora():
    rng = np.random.default_rng(1)
    lengths = {"a": rng.integers(100, 10_000, 64), "b": rng.integers(50, 5000, 32)}
    plan = epoch_plan({"a": 64, "b": 32}, 8, 0, 0, steps=6, lengths=lengths)
    plain = epoch_plan({"a": 64, "b": 32}, 8, 0, 0, steps=6)
    assert [n for n, _ in plan] == [n for n, _ in plain] == ["a", "b"] * 3

    def spread(p):
        return np.median([lengths[n][i].max() / lengths[n][i].min() for n, i in p])

    assert spread(plan) < 1.5 < 3 < spread(plain)


def test_padded_crops_keep_the_reference_behaviour():
    f = feeder([50, 300], bucket=False)
    idx = np.array([0, 1])
    assert f.crop_length(idx) == 200 and f.padded(idx)
    waves, lengths, _ = f.batch(torch.from_numpy(idx), f.crop_length(idx))
    assert waves.shape == (2, 200) and lengths.tolist() == [50, 200]
    assert torch.equal(waves[0, :50], torch.arange(50.0)) and not waves[0, 50:].any()


@pytest.mark.parametrize("epoch", [0, 1])
def test_bucketed_crops_are_cut_to_the_shortest_item_never_padded(epoch):
    f = feeder([120, 150, 400, 900], bucket=True)
    f.set_epoch(epoch)
    idx = np.array([0, 1, 2, 3])
    n = f.crop_length(idx)
    assert n == 120 and not f.padded(idx)
    waves, lengths, _ = f.batch(torch.from_numpy(idx), n)
    assert waves.shape == (4, 120) and lengths.tolist() == [120] * 4
    for i, row in enumerate(waves):  # a contiguous part of utterance i
        start = int(row[0]) - i * 10_000
        assert torch.equal(row, i * 10_000 + start + torch.arange(120.0))
        assert 0 <= start <= [120, 150, 400, 900][i] - 120
    long = np.array([2, 3])
    assert f.crop_length(long) == 200  # the window caps a bucket of long items
    assert f.batch(torch.from_numpy(long), 200)[0].shape == (2, 200)


def test_bucket_needs_an_attention_head():
    base = {"data": {"corpora": ["emodb"], "crops": "bucket"}}
    with pytest.raises(ConfigError, match=r"data\.crops: bucket .* avgpool head"):
        config_from_dict({**base, "model": {"name": "emonet-wrn"}})
    assert config_from_dict({**base, "model": {"name": "emonet-tiny"}}).data.crops == "bucket"


def test_training_with_buckets_uses_them(real_emoset, tmp_path, monkeypatch):
    """Every training batch of a bucketed run on the real EmoDB is cut to its shortest item:
    no crop is padded (so the model gets no masks), and the weights differ from a padded run."""
    from test_train import base

    from emonet.model import load_checkpoint
    from emonet.train.loop import train, weights_digest

    seen = []
    original = CropFeeder.batch

    def spy(self, idx, length=None):
        out = original(self, idx, length)
        seen.append(bool((out[1] < out[0].shape[1]).any()))
        return out

    monkeypatch.setattr(CropFeeder, "batch", spy)
    digests = {}
    for crops in ("pad", "bucket"):
        cfg = base(real_emoset, tmp_path / crops, data__limit=48, data__window=3.0,
                   data__crops=crops, optim__max_epochs=1)  # fmt: skip
        run = train(config_from_dict(cfg), show_progress=False)
        digests[crops] = weights_digest(load_checkpoint(run / "checkpoints" / "last"))
        padded, seen[:] = any(seen), []
        assert padded == (crops == "pad"), crops  # EmoDB has utterances under 3 s
    assert digests["pad"] != digests["bucket"]
