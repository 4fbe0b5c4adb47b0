"""Advisory locks between EmoNet processes.

``exclusive_lock(path, what)`` guards one thing written by one process at a time (an EmoSet
corpus during ``emonet prepare``, a training run folder). It uses ``fcntl.flock`` on a lock file,
so the kernel releases the lock when its holder exits, however it exits; the file holds the
holder's pid so that a refusal can name it. Locks are per open file, not re-entrant: a process
that takes the same lock twice is refused like any other.
"""

from __future__ import annotations

import contextlib
import errno
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from emonet.errors import EmoNetError

POLL_SECONDS = 0.1


class LockedError(EmoNetError, RuntimeError):
    """Another process holds the lock on what we were about to write; names it and its pid."""

    def __init__(self, path: Path, what: str, holder: str | None, waited: float) -> None:
        self.path, self.what, self.holder, self.waited = path, what, holder, waited
        who = f"another EmoNet process ({holder})" if holder else "another EmoNet process"
        after = f" (still after waiting {waited:g} s)" if waited > 0 else ""
        super().__init__(f"{what} is in use by {who}{after}; try again when it has finished")


def _holder(path: Path) -> str | None:
    """What the lock file says about its holder ("pid 123 on host, since 12:00:01"), if anything."""
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return text or None


def _try_lock(path: Path) -> int | None:
    """Open and lock ``path``; the fd, or None while someone else holds it."""
    import fcntl  # POSIX only

    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                return None
            raise
        # The previous holder unlinks the file before releasing it: a lock on an unlinked file
        # guards nothing, so check that the path still names the file we locked.
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return fd
        os.close(fd)


@contextmanager
def exclusive_lock(path: str | Path, what: str, wait: float = 0.0) -> Iterator[Path]:
    """Hold an exclusive lock on ``path`` (a lock file, created if needed) for the ``with`` block.

    ``what`` names the guarded thing in the error ("EmoSet corpus emoset/urdu"). ``wait`` is how
    many seconds to wait for a holder to finish (``math.inf``: as long as it takes); after that,
    or at once with the default 0, :class:`LockedError` names the holder's pid. The lock file is
    removed on release; a holder that dies releases the lock with it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    while (fd := _try_lock(path)) is None:
        waited = time.monotonic() - start
        if waited >= wait:
            raise LockedError(path, what, _holder(path), wait)
        time.sleep(min(POLL_SECONDS, wait - waited))
    try:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()} on {socket.gethostname()}, since {stamp}\n".encode())
        yield path
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)  # before unlocking, so that no waiter locks a file about to vanish
        os.close(fd)


__all__ = ["LockedError", "exclusive_lock"]
