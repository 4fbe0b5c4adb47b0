"""Parameter accounting of a model configuration: per training mode, per corpus, and the size of
a shared multi-corpus model against single-corpus ones (what ``emonet model-info`` prints)."""

from __future__ import annotations

from typing import Any

from emonet.model.emonet import TRANSFER_MODES
from emonet.model.registry import create_model


def parameter_report(
    name: str, classes: int = 7, corpora: int = 26, overrides: dict[str, Any] | None = None
) -> dict:
    """Parameter counts of configuration ``name``: per mode, per corpus, and shared-vs-single ratios.

    Single-corpus models are built without adapters (the reference's single models); the shared
    model has adapters for all ``corpora`` corpora, and transfer modes add one corpus to it.
    Counts come from real models with one or two corpora and :meth:`EmoNet.set_mode`; a model with
    n corpora of equal label sets has ``shared + n · per_corpus`` parameters, which gives the
    totals for ``corpora`` corpora without building them.
    """
    overrides = overrides or {}
    labels = [f"class{i}" for i in range(classes)]

    attention_only = ("attention_hidden", "attention_scale", "share_pooling")

    def build(n: int, **extra: Any):
        merged = {**overrides, **extra}
        if merged.get("head") == "avgpool":  # a comparison's avgpool model: no attention settings
            merged = {k: v for k, v in merged.items() if k not in attention_only}
        model = create_model(name, **merged)
        for i in range(n):
            model.add_corpus(f"corpus{i + 1:02d}", labels)
        return model

    def shared_and_per(**extra: Any) -> tuple[int, int]:
        counts = build(1, **extra).parameter_counts()
        return counts["shared"], counts["corpora"]["corpus01"]["total"]

    def total(n: int, **extra: Any) -> int:
        shared, per = shared_and_per(**extra)
        return shared + n * per

    single = build(1, adapters=False, adapter_rank=None)
    single.set_mode("scratch", "corpus01")
    single_total = single.parameter_counts()["total"]
    pair = build(2)  # an existing corpus + a new one
    counts = pair.parameter_counts()
    shared, per = counts["shared"], counts["corpora"]["corpus01"]["total"]
    modes = [("scratch", "single corpus, no adapters", single_total, single_total)]
    pair.set_mode("multi", ["corpus01", "corpus02"])
    multi_trainable = pair.parameter_counts()["trainable"] + (corpora - 2) * per
    modes.append(("multi", f"{corpora} corpora", shared + corpora * per, multi_trainable))
    for mode in TRANSFER_MODES:
        pair.set_mode(mode, "corpus02")
        trainable = pair.parameter_counts()["trainable"]
        modes.append((mode, f"{corpora} corpora + 1 new", shared + (corpora + 1) * per, trainable))

    ratios = []
    for label, shared_kw, single_kw in (
        ("configured head, like for like", {}, {}),
        ("attention head, like for like", {"head": "attention"}, {"head": "attention"}),
        (
            "shared attention model vs single avgpool model (the paper's 3.5×)",
            {"head": "attention"},
            {"head": "avgpool"},
        ),
        (
            "shared attention pooling vs single attention model (beyond the paper)",
            {"head": "attention", "share_pooling": True},
            {"head": "attention"},
        ),
    ):
        multi_total = total(corpora, **shared_kw)
        one = build(1, adapters=False, adapter_rank=None, **single_kw).parameter_counts()["total"]
        ratios.append((label, multi_total, one, multi_total / one))
    return {
        "name": name,
        "classes": classes,
        "corpora": corpora,
        "config": pair.config,
        "shared": shared,
        "shared_conv3x3": counts["shared_conv3x3"],
        "per_corpus": counts["corpora"]["corpus01"],
        "single": single.parameter_counts(),
        "modes": modes,
        "ratios": ratios,
    }
