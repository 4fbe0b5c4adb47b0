"""The corpus registry: name → :class:`CorpusSpec`. Adding a corpus is one module and one line here."""

from __future__ import annotations

from emonet.corpora import (
    aesdd,
    audformat_db,
    baved,
    cafe,
    casia,
    cremad,
    csv_table,
    emodb,
    emovdb,
    emovo,
    enterface,
    esd,
    folders,
    iemocap,
    jlcorpus,
    mesd,
    msppodcast,
    nemo,
    ravdess,
    savee,
    shemo,
    subesco,
    tess,
    turev,
    urdu,
)
from emonet.corpora.base import CorpusSpec
from emonet.errors import UnknownNameError

CORPORA: dict[str, CorpusSpec] = {
    spec.name: spec
    for spec in (
        aesdd.SPEC,
        audformat_db.SPEC,
        baved.SPEC,
        cafe.SPEC,
        casia.SPEC,
        cremad.SPEC,
        csv_table.SPEC,
        emodb.SPEC,
        emovdb.SPEC,
        emovo.SPEC,
        enterface.SPEC,
        esd.SPEC,
        folders.SPEC,
        iemocap.SPEC,
        jlcorpus.SPEC,
        mesd.SPEC,
        msppodcast.SPEC,
        nemo.SPEC,
        ravdess.SPEC,
        savee.SPEC,
        shemo.SPEC,
        subesco.SPEC,
        tess.SPEC,
        turev.SPEC,
        urdu.SPEC,
    )
}


def get_corpus(name: str) -> CorpusSpec:
    """The spec registered under ``name``; the error lists the known names."""
    try:
        return CORPORA[name]
    except KeyError:
        known = ", ".join(sorted(CORPORA))
        raise UnknownNameError(f"unknown corpus {name!r}; known corpora: {known}") from None


def list_corpora() -> list[CorpusSpec]:
    """All registered corpora, specific ones first, then the generic importers, each by name."""
    return sorted(CORPORA.values(), key=lambda s: (s.generic, s.name))
