"""``prepare``: parse a corpus's official layout, decode/resample in parallel, split, write EmoSet.

The work happens in ``<emoset>/.<name>.partial/``; every audio file lands there atomically, so an
interrupted run resumes where it stopped, and the finished corpus is renamed into place in one
step. A corpus already prepared from the same source with the same settings is left untouched.
One run at a time writes a corpus (a lock file ``<emoset>/.<name>.lock``); nothing is read from
outside the source folder and nothing is written outside the corpus folder.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import shutil
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import soundfile as sf

import emonet
from emonet import audio
from emonet.corpora.base import CorpusSpec, Item, Skipped, inside, relative_names
from emonet.corpora.emoset import (
    CorpusInfo,
    EmoSetError,
    open_corpus,
    write_corpus_tables,
)
from emonet.corpora.registry import get_corpus
from emonet.corpora.splits import make_split
from emonet.errors import EmoNetError
from emonet.files import TEMPORARY_GLOB, replace_folder
from emonet.locking import exclusive_lock
from emonet.progress import progress_bar

AUDIO_FORMATS = ("flac", "wav")


class PrepareError(EmoNetError, RuntimeError):
    """Preparation cannot finish (strict mode with skips, nothing usable, bad options)."""


@dataclass
class PrepareResult:
    """What a run did: where the corpus is, how many items, what was skipped, how much was reused."""

    folder: Path
    items: int
    skipped: list[Skipped]
    converted: int = 0
    reused: int = 0
    up_to_date: bool = False
    audio_seconds: float = 0.0
    info: CorpusInfo | None = None
    counts: dict[str, int] = field(default_factory=dict)


def _fingerprint(corpus: str, options: dict, audio_format: str, items: Iterable[Item]) -> str:
    """Identity of a preparation: corpus, options, output format and every source file's stat."""
    h = hashlib.sha256(json.dumps([corpus, sorted(options.items()), audio_format]).encode())
    for it in items:
        st = it.path.stat()
        h.update(f"\0{it.path}\0{st.st_size}\0{st.st_mtime_ns}\0{it.label}\0{it.speaker}".encode())
    return h.hexdigest()


def _convert(task: tuple[str, str]) -> tuple[float, str | None]:
    """Worker: decode + resample one source file and write it; (seconds, error or None)."""
    src, dst = task
    try:
        x = audio.load(src)
        audio.write(dst, x)
        return len(x) / audio.SAMPLE_RATE, None
    except audio.AudioError as exc:
        return 0.0, exc.problem
    except Exception as exc:  # an unexpected failure still becomes a reported skip
        return 0.0, f"{type(exc).__name__}: {exc}"


def _existing_duration(path: Path) -> float | None:
    """Seconds of an already written output file, or None if it is unreadable (then redo it)."""
    try:
        info = sf.info(str(path))
        return info.frames / info.samplerate if info.frames > 0 else None
    except Exception:
        return None


def _run_tasks(
    tasks: list[tuple[str, str]], workers: int, show_progress: bool, label: str
) -> list[tuple[float, str | None]]:
    """Run :func:`_convert` over tasks, in worker processes when ``workers > 1``."""
    results: list[tuple[float, str | None]] = []
    with progress_bar(show_progress, transient=False) as progress:
        bar = progress.add_task(label, total=len(tasks))
        if workers <= 1 or len(tasks) < 2:
            for t in tasks:
                results.append(_convert(t))
                progress.advance(bar)
        else:
            ctx = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
                chunk = max(1, min(16, len(tasks) // (workers * 8)))
                for r in pool.map(_convert, tasks, chunksize=chunk):
                    results.append(r)
                    progress.advance(bar)
    return results


def prepare(
    corpus: str,
    source: str | Path,
    emoset: str | Path,
    *,
    name: str | None = None,
    audio_format: str = "flac",
    workers: int | None = None,
    strict: bool = False,
    options: dict[str, str] | None = None,
    show_progress: bool = True,
    wait: float = 0.0,
) -> PrepareResult:
    """Turn ``source`` (the corpus in its official layout) into ``<emoset>/<name>``.

    Every source audio file that is not taken is listed in ``skipped.csv`` with its reason;
    ``strict`` turns any skip into a :class:`PrepareError`. While another process prepares the
    same corpus, wait up to ``wait`` seconds, then raise :class:`emonet.locking.LockedError`.
    """
    spec = get_corpus(corpus)
    options = dict(options or {})
    name = name or spec.name
    _check_name(name)
    if audio_format not in AUDIO_FORMATS:
        raise PrepareError(f"--format must be one of {AUDIO_FORMATS}, got {audio_format!r}")
    source, emoset = Path(source), Path(emoset)
    if not source.is_dir():
        raise PrepareError(f"source folder not found: {source}")
    try:
        parsed = spec.parse(source, **options)
    except TypeError as exc:
        raise PrepareError(f"bad options for corpus {corpus!r}: {exc}") from None
    except EmoNetError:
        raise
    except (ValueError, FileNotFoundError) as exc:  # parsers name the source or option refused
        raise PrepareError(str(exc)) from None
    skipped = list(parsed.skipped)
    items = []
    for it in parsed.items:  # whatever a parser or a table says, nothing outside is read
        if inside(it.path, source):
            items.append(it)
        else:
            skipped.append(Skipped(str(it.path), f"outside the source folder {source}; not read"))
    if parsed.labels is not None:
        labels: list[str] | None = list(parsed.labels)
    elif spec.labels is not None:
        labels = list(spec.labels)
    else:
        labels = _labels_option(options)
    if labels is not None:
        known = set(labels)
        for it in [i for i in items if i.label not in known]:
            skipped.append(Skipped(str(it.path), f"label {it.label!r} not in {labels}"))
        items = [i for i in items if i.label in known]
    else:
        labels = sorted({i.label for i in items})
    if not items:
        raise PrepareError(
            f"no usable {corpus} files found below {source}"
            + (
                f" ({len(skipped)} skipped, e.g. {skipped[0].path}: {skipped[0].reason})"
                if skipped
                else ""
            )
        )

    final = emoset / name
    fingerprint = _fingerprint(corpus, options, audio_format, items)
    with exclusive_lock(emoset / f".{name}.lock", f"EmoSet corpus {final}", wait=wait):
        done = _up_to_date(final, fingerprint)
        if done is not None:
            return done
        return _build(
            spec, name, source, final, fingerprint, items, skipped, labels, options,
            audio_format, workers, strict, show_progress,
        )  # fmt: skip


def _up_to_date(final: Path, fingerprint: str) -> PrepareResult | None:
    """The result of an earlier run with the same inputs, if its corpus is intact; else None."""
    if not (final / "corpus.json").exists():
        return None
    try:
        old = json.loads((final / "corpus.json").read_text(encoding="utf-8"))
        if old.get("source", {}).get("fingerprint") != fingerprint:
            return None
        done = open_corpus(final)  # checks the tables against their checksums
        done.table()
    except (EmoSetError, ValueError, KeyError, AttributeError):
        return None  # edited or damaged since: build it again
    counts = done.info.counts
    return PrepareResult(
        final,
        int(counts["items"]),
        [Skipped(r.file, r.reason) for r in done.skipped().itertuples()],
        up_to_date=True,
        audio_seconds=float(counts["hours"]) * 3600,
        info=done.info,
        counts=counts["partitions"],
    )


def _build(
    spec: CorpusSpec,
    name: str,
    source: Path,
    final: Path,
    fingerprint: str,
    items: list[Item],
    skipped: list[Skipped],
    labels: list[str],
    options: dict[str, str],
    audio_format: str,
    workers: int | None,
    strict: bool,
    show_progress: bool,
) -> PrepareResult:
    """Convert, split and write the corpus (the caller holds the corpus's lock)."""
    staging = final.with_name(f".{name}.partial")
    stamp = staging / ".fingerprint"
    if staging.exists() and (not stamp.exists() or stamp.read_text() != fingerprint):
        shutil.rmtree(staging)  # left by a run with other inputs: start over
    staging.mkdir(parents=True, exist_ok=True)
    for leftover in staging.rglob(TEMPORARY_GLOB):  # half-written by a run that was killed
        leftover.unlink()
    stamp.write_text(fingerprint)

    rel = [
        str(Path(r).with_suffix(f".{audio_format}"))
        for r in relative_names([Path(os.path.abspath(i.path)) for i in items])
    ]
    outputs = [f"audio/{r}" for r in rel]
    durations: list[float | None] = [None] * len(items)
    todo = []
    failed: set[int] = set()
    for k, out in enumerate(outputs):
        target = staging / out
        if not inside(target, staging / "audio"):  # the one place outputs are named
            failed.add(k)
            skipped.append(Skipped(str(items[k].path), f"output name {out!r} leaves the corpus"))
            continue
        if target.exists():
            durations[k] = _existing_duration(target)
        if durations[k] is None:
            todo.append(k)
    reused = len(items) - len(todo) - len(failed)
    workers = workers or min(os.cpu_count() or 1, 8)
    results = _run_tasks(
        [(str(items[k].path), str(staging / outputs[k])) for k in todo],
        workers,
        show_progress,
        f"prepare {name}",
    )
    for k, (seconds, error) in zip(todo, results, strict=True):
        if error is None:
            durations[k] = seconds
        else:
            failed.add(k)
            skipped.append(Skipped(str(items[k].path), error))
    if strict and skipped:
        listing = "\n".join(f"  {s.path}: {s.reason}" for s in skipped[:20])
        more = f"\n  … and {len(skipped) - 20} more" if len(skipped) > 20 else ""
        raise PrepareError(f"--strict: {len(skipped)} source files were skipped:\n{listing}{more}")
    keep = [k for k in range(len(items)) if k not in failed]
    if not keep:
        raise PrepareError(
            f"no file of {source} could be decoded; see the reasons in the skip list"
        )

    kept = [items[k] for k in keep]
    split = make_split(
        [i.label for i in kept],
        [i.speaker for i in kept],
        key=name,
        official=[i.partition for i in kept] if spec.official_split else None,
        texts=[i.extra.get("text", "") for i in kept]
        if all("text" in i.extra for i in kept)
        else None,
    )
    extra_cols = sorted({c for i in kept for c in i.extra})
    rows = []
    for k, it, part in zip(keep, kept, split.partition, strict=True):
        row = {"file": outputs[k], "label": it.label, "speaker": it.speaker}
        row["duration"] = round(float(durations[k] or 0.0), 4)
        row.update({_column(c): it.extra.get(c, "") for c in extra_cols})
        row["source"] = _relative_to(it.path, source)
        row["partition"] = part
        rows.append(row)
    table = pd.DataFrame(rows)
    skipped_frame = pd.DataFrame(
        [{"file": _relative_to(Path(s.path), source), "reason": s.reason} for s in skipped],
        columns=["file", "reason"],
    )
    seconds = float(table["duration"].sum())
    info = CorpusInfo(
        name=name,
        language=spec.language,
        labels=labels,
        license=spec.license,
        citation=spec.citation,
        source={
            "corpus": spec.name,
            "folder": str(source.resolve()),
            "options": options,
            "fingerprint": fingerprint,
        },
        protocol=split.protocol,
        split={"fractions": split.fractions, "max_class_share_gap": split.max_class_share_gap},
        counts={
            "items": len(table),
            "speakers": int(table["speaker"].nunique()),
            "skipped": len(skipped),
            "hours": round(seconds / 3600, 4),
            "partitions": {
                p: int((table["partition"] == p).sum()) for p in ("train", "devel", "test")
            },
            "labels": {lab: int((table["label"] == lab).sum()) for lab in labels},
        },
        audio_format=audio_format,
        emonet_version=emonet.__version__,
    )
    stamp.unlink()
    write_corpus_tables(staging, table, skipped_frame, info)
    replace_folder(staging, final)
    return PrepareResult(
        final,
        len(table),
        skipped,
        converted=len(todo) - len(failed),
        reused=reused,
        audio_seconds=seconds,
        info=info,
        counts=info.counts["partitions"],
    )


RESERVED_COLUMNS = frozenset({"file", "label", "speaker", "duration", "source", "partition"})


def _check_name(name: str) -> None:
    """A corpus name is one plain folder name, so the corpus cannot land outside the EmoSet."""
    if not name or name.startswith(".") or any(c in name for c in "/\\\0") or name != name.strip():
        raise PrepareError(
            f"corpus name {name!r} must be a plain folder name (no '/', '\\', leading '.' "
            "or surrounding spaces)"
        )


def _column(name: str) -> str:
    """Extra columns never overwrite EmoSet's own: a clashing name gets the prefix ``extra_``."""
    return f"extra_{name}" if name in RESERVED_COLUMNS else name


def _relative_to(path: Path, root: Path) -> str:
    try:
        return Path(os.path.abspath(path)).relative_to(os.path.abspath(root)).as_posix()
    except ValueError:
        return str(path)


def _labels_option(options: dict[str, str]) -> list[str] | None:
    """Label list and order for generic importers from their ``labels`` option, if given."""
    given = options.get("labels")
    if not given:
        return None
    return [s.strip() for s in str(given).split(",") if s.strip()]
