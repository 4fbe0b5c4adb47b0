"""Data over EmoSet partitions: decoded-once audio, on-device training crops, whole utterances."""

from emonet.data.cache import AudioCache
from emonet.data.datasets import UtteranceDataset, collate_padded
from emonet.data.feeder import CropFeeder
from emonet.data.sampling import corpus_schedule

__all__ = ["AudioCache", "CropFeeder", "UtteranceDataset", "collate_padded", "corpus_schedule"]
