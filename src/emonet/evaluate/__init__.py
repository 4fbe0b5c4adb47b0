"""Scoring trained models on EmoSet partitions, paired statistics between runs, cross-corpus
matrices; the metrics and files they write are :mod:`emonet.results`."""
