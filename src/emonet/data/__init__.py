"""Torch datasets over EmoSet partitions: decoded-once audio, random crops, whole utterances."""

from emonet.data.cache import AudioCache
from emonet.data.datasets import CropDataset, UtteranceDataset, collate_padded
from emonet.data.sampling import corpus_schedule

__all__ = ["AudioCache", "CropDataset", "UtteranceDataset", "collate_padded", "corpus_schedule"]
