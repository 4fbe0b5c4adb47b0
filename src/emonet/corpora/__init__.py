"""EmoSet assembly: corpus parsers, partitions, the on-disk format and preparation."""

from emonet.corpora.base import CorpusSpec, Item, ParseResult, Skipped
from emonet.corpora.registry import CORPORA, get_corpus, list_corpora

__all__ = ["CORPORA", "CorpusSpec", "Item", "ParseResult", "Skipped", "get_corpus", "list_corpora"]
