"""One validation run per output folder: a lock file created atomically, removed at exit.

Two runs writing into one folder would overwrite each other's ``results.json`` and lose
results, so a run holds ``OUTDIR/.deeplimits-validate.lock`` while it writes there.  The file
is created with ``O_CREAT | O_EXCL`` (the operating system lets exactly one process create it)
and holds the owner's pid, host name, start time and a random token.  A second run finds it
and stops with :class:`OutputDirInUseError` before running anything.

A lock left behind by a run that was killed (``SIGKILL``, power loss) is *stale* when its
host is this host and its pid no longer exists; the next run takes it over with a warning.
Of several runs that find the same stale lock, only the one that creates the guard file
``.deeplimits-validate.lock.takeover`` (``O_EXCL`` again) removes it, so exactly one of them
gets the folder.  A lock from another host, or one that cannot be read, is never taken over automatically:
the message names the file to delete once no run uses the folder.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import secrets
import socket
import warnings
from pathlib import Path
from types import TracebackType
from typing import Any

from ._atomic import OutputDirError

__all__ = ["LOCK_NAME", "OutputDirInUseError", "RunLock", "pid_alive"]

#: Name of the lock file inside the output folder.
LOCK_NAME = ".deeplimits-validate.lock"


class OutputDirInUseError(OutputDirError):
    """Another validation run is writing into the same output folder."""


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists on this host (True when it cannot be told).

    Examples
    --------
    >>> import os
    >>> pid_alive(os.getpid())
    True
    """
    if os.name == "nt":  # os.kill(pid, 0) would send CTRL_C_EVENT there: never guess
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: it exists but belongs to another user
        return True
    return True


def _read(path: Path) -> dict[str, Any] | None:
    """The lock's content; None if it is empty or not ours to parse. FileNotFoundError if gone."""
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        info = json.loads(text)
    except ValueError:
        return None
    return info if isinstance(info, dict) else None


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def _holder(info: dict[str, Any]) -> str:
    return f"pid {info.get('pid')} on host {info.get('host')!r}, started {info.get('started')}"


class RunLock:
    """Exclusive use of an output folder by one validation run (a context manager).

    Parameters
    ----------
    outdir : str or Path
        An existing output folder.

    Examples
    --------
    >>> import tempfile
    >>> d = tempfile.mkdtemp()
    >>> with RunLock(d) as lock:
    ...     try:
    ...         RunLock(d).acquire()
    ...     except OutputDirInUseError as exc:
    ...         print("refused:", "in use by another validation run" in str(exc))
    refused: True
    >>> lock.path.exists()  # removed when the run ends
    False
    """

    def __init__(self, outdir: str | Path) -> None:
        self.path = Path(outdir) / LOCK_NAME
        self._token: str | None = None

    @property
    def held(self) -> bool:
        """Whether this object holds the lock."""
        return self._token is not None

    def acquire(self) -> None:
        """Create the lock file, or take over a stale one (with a :class:`RuntimeWarning`).

        Raises
        ------
        OutputDirInUseError
            Another live run holds the folder (or its lock file cannot be read).
        OutputDirError
            The lock file cannot be created (the folder is not writable).
        """
        token = secrets.token_hex(8)
        info = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "token": token,
        }
        for _ in range(5):  # a stale lock cleared or a lock released meanwhile: try again
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                self._clear_if_stale()  # raises OutputDirInUseError when the holder is alive
                continue
            except OSError as exc:
                raise OutputDirError(
                    f"outdir {str(self.path.parent)!r} is not writable: cannot create {LOCK_NAME}: {_reason(exc)}"
                ) from None
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(info, fh)
            self._token = token
            return
        raise OutputDirInUseError(
            f"outdir {str(self.path.parent)!r} is in use by another validation run (its lock file {self.path} "
            "keeps changing)"
        )

    def release(self) -> None:
        """Remove the lock file if this object holds it (never someone else's lock)."""
        if self._token is None:
            return
        try:
            info = _read(self.path)
            if info is not None and info.get("token") == self._token:
                self.path.unlink()
        except OSError:  # already gone, or the folder was removed: nothing left to release
            pass
        self._token = None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()

    def _clear_if_stale(self) -> None:
        folder = str(self.path.parent)
        try:
            info = _read(self.path)
        except FileNotFoundError:
            return  # released meanwhile
        except OSError as exc:
            raise OutputDirError(f"outdir {folder!r}: cannot read the lock file {self.path}: {_reason(exc)}") from None
        if info is None:  # being written right now, or damaged: never guess
            raise OutputDirInUseError(
                f"outdir {folder!r} is in use by another validation run (its lock file {self.path} cannot be "
                "read; delete it if no run uses this folder)"
            )
        pid = info.get("pid")
        if info.get("host") != socket.gethostname() or not isinstance(pid, int) or pid_alive(pid):
            raise OutputDirInUseError(
                f"outdir {folder!r} is in use by another validation run ({_holder(info)}); wait for it to "
                f"finish or choose another output folder (delete {self.path} only if that run is gone)"
            )
        # Of several runs that find the same stale lock, exactly one may remove it: the one that
        # creates the takeover guard (O_EXCL again).  Under the guard nobody else can replace or
        # remove the lock file (a live holder only removes its own), so "still the same stale
        # content" read here stays true until the unlink.
        guard = self.path.with_name(LOCK_NAME + ".takeover")
        try:
            fd = os.open(guard, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            raise OutputDirInUseError(
                f"outdir {folder!r} is in use: another validation run is taking over the stale lock of "
                f"{_holder(info)} (delete {guard} if no run is starting)"
            ) from None
        except OSError as exc:
            raise OutputDirError(
                f"outdir {folder!r} is not writable: cannot create {guard.name}: {_reason(exc)}"
            ) from None
        try:
            os.close(fd)
            try:
                current = _read(self.path)
            except FileNotFoundError:
                return
            if current != info:  # replaced meanwhile by a live run: judge again
                return
            self.path.unlink()
        finally:
            guard.unlink(missing_ok=True)
        warnings.warn(
            f"outdir {folder!r}: took over the lock of a validation run that no longer runs ({_holder(info)})",
            RuntimeWarning,
            stacklevel=4,
        )
