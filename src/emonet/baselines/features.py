"""openSMILE functionals per file, extracted once in parallel worker processes and cached on disk.

The cache of one corpus and feature set is a folder holding ``features-<token>.npy`` (float32,
one row per file), ``index.json`` (opensmile version, feature set, feature names, and per row the
file with its size and mtime) and ``failed.csv`` (files whose extraction failed, with the error).
A row is reused only while its file keeps the same size and mtime and opensmile the same version;
everything else is extracted again. The matrix and the index are swapped in atomically.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from emonet import audio
from emonet.errors import EmoNetError
from emonet.files import atomic_path, write_json, write_table
from emonet.progress import progress_bar

CACHE_VERSION = 1
FEATURE_SETS = ("eGeMAPSv02", "ComParE_2016")
"""The feature sets the baselines are documented for (any ``opensmile.FeatureSet`` name works)."""

_SMILES: dict[str, Any] = {}


class FeatureError(EmoNetError, ValueError):
    """A feature set that opensmile does not know, or a cache that cannot be used."""


def _opensmile() -> Any:
    """The ``opensmile`` module, imported only when a baseline runs; FeatureError if missing."""
    try:
        import opensmile
    except ImportError:
        raise FeatureError(
            "the openSMILE baselines need the opensmile package: pip install 'emonet[baselines]'"
        ) from None
    return opensmile


def opensmile_version() -> str:
    """Version of the installed ``opensmile`` package (part of every cache key)."""
    return str(_opensmile().__version__)


def known_feature_sets() -> list[str]:
    """Names of every feature set the installed opensmile offers."""
    return [m.name for m in _opensmile().FeatureSet]


def smile(feature_set: str) -> Any:
    """An ``opensmile.Smile`` computing functionals of ``feature_set`` (one per process)."""
    if feature_set not in _SMILES:
        opensmile = _opensmile()
        try:
            fs = opensmile.FeatureSet[feature_set]
        except KeyError:
            raise FeatureError(
                f"unknown openSMILE feature set {feature_set!r}; known: {known_feature_sets()}"
            ) from None
        _SMILES[feature_set] = opensmile.Smile(
            feature_set=fs, feature_level=opensmile.FeatureLevel.Functionals
        )
    return _SMILES[feature_set]


def extract_file(path: str | Path, feature_set: str) -> np.ndarray:
    """Functionals of one file as a float32 vector; raises on unreadable audio or NaN features.

    Audio is decoded by :mod:`emonet.audio` at its own sample rate (EmoSet: 16 kHz mono), so the
    result equals ``opensmile.Smile(...).process_file(path)`` on EmoSet files.
    """
    data, sr = audio.read(path)
    values = smile(feature_set).process_signal(audio.downmix(data), sr).to_numpy(np.float32)
    if values.shape[0] != 1:
        raise FeatureError(f"{path}: expected one row of functionals, got {values.shape[0]}")
    if not np.isfinite(values).all():
        raise FeatureError(f"{path}: openSMILE returned NaN or infinite functionals")
    return values[0]


def _extract_chunk(task: tuple[str, list[str]]) -> list[tuple[np.ndarray | None, str | None]]:
    """Worker: (features, None) or (None, error) for every path of a chunk, in order."""
    feature_set, paths = task
    out: list[tuple[np.ndarray | None, str | None]] = []
    for p in paths:
        try:
            out.append((extract_file(p, feature_set), None))
        except audio.AudioError as exc:
            out.append((None, exc.problem))
        except FeatureError as exc:
            out.append((None, str(exc).removeprefix(f"{p}: ")))
        except Exception as exc:  # an unexpected failure still becomes a reported failure
            out.append((None, f"{type(exc).__name__}: {exc}"))
    return out


def feature_names(feature_set: str) -> list[str]:
    """Names of the functionals of ``feature_set``, in column order."""
    return list(smile(feature_set).feature_names)


def _chunks(items: list[str], size: int) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def run_extraction(
    paths: Sequence[str], feature_set: str, workers: int = 1, show_progress: bool = True
) -> list[tuple[np.ndarray | None, str | None]]:
    """Extract every path, in ``workers`` spawned processes when > 1; results in input order."""
    paths = [str(p) for p in paths]
    results: list[tuple[np.ndarray | None, str | None]] = []
    with progress_bar(show_progress, transient=False) as progress:
        bar = progress.add_task(f"openSMILE {feature_set}", total=len(paths))
        if workers <= 1 or len(paths) < 2:
            for chunk in _chunks(paths, 16):
                results.extend(_extract_chunk((feature_set, chunk)))
                progress.advance(bar, len(chunk))
            return results
        size = max(1, min(32, len(paths) // (workers * 4)))
        chunks = _chunks(paths, size)
        done: dict[int, list] = {}
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
            futures = {
                pool.submit(_extract_chunk, (feature_set, c)): k for k, c in enumerate(chunks)
            }
            for fut in as_completed(futures):
                k = futures[fut]
                done[k] = fut.result()
                progress.advance(bar, len(chunks[k]))
    for k in range(len(chunks)):
        results.extend(done[k])
    return results


@dataclass
class Features:
    """Functionals of the requested files (failed files excluded) and what happened to get them."""

    files: list[str]
    """Files with features, in request order (relative to the corpus folder)."""
    values: np.ndarray
    """(files, features) float32."""
    names: list[str]
    """Feature names."""
    failed: pd.DataFrame
    """``file,error`` for every requested file whose extraction failed."""
    extracted: int = 0
    """Files extracted by this call (0: everything came from the cache)."""
    reused: int = 0
    """Files (including cached failures) taken from the cache."""
    cache: Path | None = None
    """Cache folder."""
    key: str = ""
    """Hash of opensmile version, feature set and the requested files with their size/mtime."""
    meta: dict[str, Any] = field(default_factory=dict)

    def rows(self, files: Sequence[str]) -> np.ndarray:
        """Feature rows of ``files`` (each must have features)."""
        index = {f: i for i, f in enumerate(self.files)}
        return self.values[[index[f] for f in files]]


def _stat(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


def _read_cache(folder: Path, feature_set: str, version: str) -> tuple[dict, np.ndarray]:
    """(index, matrix) of a cache folder; an empty pair when absent or made by other settings."""
    empty: tuple[dict, np.ndarray] = ({"rows": [], "failed": []}, np.zeros((0, 0), np.float32))
    index_path = folder / "index.json"
    if not index_path.is_file():
        return empty
    try:
        index = json.loads(index_path.read_text(encoding="utf-8"))
        if (
            index.get("cache_version") != CACHE_VERSION
            or index.get("feature_set") != feature_set
            or index.get("opensmile") != version
        ):
            return empty
        values = np.load(folder / index["matrix"], allow_pickle=False)
        if values.shape[0] != len(index["rows"]):
            return empty
    except (OSError, ValueError, KeyError):
        return empty  # a damaged cache is rebuilt, never trusted
    return index, values


def _write_cache(folder: Path, index: dict, values: np.ndarray, failed: list[dict]) -> None:
    """Write matrix, ``failed.csv`` and ``index.json`` atomically; the index switches last."""
    folder.mkdir(parents=True, exist_ok=True)
    token = hashlib.sha256(values.tobytes()).hexdigest()[:16]
    name = f"features-{token}.npy"
    with atomic_path(folder / name) as tmp, open(tmp, "wb") as f:
        np.save(f, values, allow_pickle=False)
    index["matrix"] = name
    write_table(folder / "failed.csv", pd.DataFrame(failed, columns=["file", "error"]))
    write_json(folder / "index.json", index)
    for old in folder.glob("features-*.npy"):
        if old.name != name:
            old.unlink(missing_ok=True)


def corpus_features(
    root: str | Path,
    files: Sequence[str],
    feature_set: str,
    cache: str | Path,
    workers: int = 1,
    show_progress: bool = True,
) -> Features:
    """Functionals of ``files`` (relative to corpus folder ``root``), through the cache ``cache``.

    Files whose features are cached with the same size/mtime/opensmile version are reused, the
    others extracted (in parallel) and added to the cache. Failures are returned in ``failed``
    (and kept in the cache's ``failed.csv``), never dropped silently.
    """
    root, cache = Path(root), Path(cache)
    files = list(dict.fromkeys(files))
    version = opensmile_version()
    names = feature_names(feature_set)
    index, values = _read_cache(cache, feature_set, version)
    stats = {f: _stat(root / f) for f in files}
    key = hashlib.sha256(json.dumps([CACHE_VERSION, version, feature_set]).encode())
    for f in files:
        key.update(f"\0{f}\0{stats[f]}".encode())
    have = {r["file"]: (i, r) for i, r in enumerate(index["rows"])}
    have_failed = {r["file"]: r for r in index["failed"]}

    def fresh(entry: dict, f: str) -> bool:
        st = stats[f]
        return st is not None and [entry["size"], entry["mtime_ns"]] == list(st)

    todo = [
        f
        for f in files
        if not (f in have and fresh(have[f][1], f))
        and not (f in have_failed and fresh(have_failed[f], f))
    ]
    rows = list(index["rows"])
    failed_rows = [r for r in index["failed"] if r["file"] not in set(todo)]
    matrix = values if len(rows) else np.zeros((0, len(names)), np.float32)
    if todo:
        results = run_extraction([str(root / f) for f in todo], feature_set, workers, show_progress)
        keep = [i for i, r in enumerate(rows) if r["file"] not in set(todo)]
        rows = [rows[i] for i in keep]
        matrix = matrix[keep]
        new_rows, new_values = [], []
        for f, (vec, error) in zip(todo, results, strict=True):
            size, mtime = stats[f] or (-1, -1)
            if error is None:
                new_rows.append({"file": f, "size": size, "mtime_ns": mtime})
                new_values.append(vec)
            else:
                failed_rows.append({"file": f, "size": size, "mtime_ns": mtime, "error": error})
        if new_values:
            matrix = np.concatenate([matrix, np.stack(new_values).astype(np.float32)])
        rows += new_rows
        index = {
            "cache_version": CACHE_VERSION,
            "opensmile": version,
            "feature_set": feature_set,
            "feature_level": "Functionals",
            "names": names,
            "rows": rows,
            "failed": failed_rows,
            "last_key": key.hexdigest(),
        }
        _write_cache(
            cache, index, matrix, [{"file": r["file"], "error": r["error"]} for r in failed_rows]
        )
    position = {r["file"]: i for i, r in enumerate(rows)}
    errors = {r["file"]: r["error"] for r in failed_rows}
    ok = [f for f in files if f in position and f not in errors]
    failed = pd.DataFrame(
        [{"file": f, "error": errors[f]} for f in files if f in errors], columns=["file", "error"]
    )
    return Features(
        files=ok,
        values=matrix[[position[f] for f in ok]] if ok else np.zeros((0, len(names)), np.float32),
        names=names,
        failed=failed,
        extracted=len(todo),
        reused=len(files) - len(todo),
        cache=cache,
        key=key.hexdigest(),
        meta={"opensmile": version, "feature_set": feature_set},
    )
