"""Writing the files of a validation run so that no reader ever sees a partial file.

Every file of a report folder (``results.json``, ``report.md``, figures) is written to a
temporary file with a unique name in the same folder and then moved over the target with
:func:`os.replace`, which is atomic on POSIX and Windows: a reader (or a run killed
mid-write) sees the old file or the new one, never a truncated one, and two writers never
share a temporary file.  Every I/O problem is raised as :class:`OutputDirError`, one line
naming the file and the reason, so that ``deeplimits validate`` can report it with exit code 2.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

__all__ = ["OutputDirError", "atomic_write", "atomic_write_text", "atomic_copy", "prepare_outdir"]


class OutputDirError(OSError):
    """The output folder of a validation run cannot be used: not creatable, not writable, or in use.

    The message is one line that starts with ``outdir`` and names the file and the reason.

    Examples
    --------
    >>> str(OutputDirError("outdir 'x' is not writable: Permission denied"))
    "outdir 'x' is not writable: Permission denied"
    """


def _read_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# Temporary files are created private (0600); the finished file gets the mode an ordinary
# ``open(path, "w")`` would give it.
_FILE_MODE = 0o666 & ~_read_umask()


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def atomic_write(path: str | Path, write: Callable[[Path], object]) -> Path:
    """Write a file atomically: ``write(tmp)`` fills a temporary file, which then replaces ``path``.

    Parameters
    ----------
    path : str or Path
        The target file.
    write : callable
        Called with the path of a new, empty temporary file in the same folder (same suffix
        as ``path``, so that writers which infer the format from the name work); it must
        write the whole content there.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    OutputDirError
        If the temporary file cannot be created, written or moved; the temporary file is removed.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> atomic_write(d / "a.txt", lambda tmp: tmp.write_text("hello")).read_text()
    'hello'
    >>> sorted(p.name for p in d.iterdir())  # no temporary file left behind
    ['a.txt']
    """
    path = Path(path)
    try:
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=f".tmp{path.suffix}")
    except OSError as exc:
        raise OutputDirError(f"outdir {str(path.parent)!r} is not writable: {_reason(exc)}") from None
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        os.chmod(tmp, _FILE_MODE)
        os.replace(tmp, path)
    except OSError as exc:
        raise OutputDirError(f"outdir: cannot write {str(path)!r}: {_reason(exc)}") from None
    finally:
        tmp.unlink(missing_ok=True)
    return path


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically, flushed to disk before it replaces the target.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "r.json"
    >>> atomic_write_text(p, "{}\\n").read_text()
    '{}\\n'
    """

    def write(tmp: Path) -> None:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())  # a crash right after the rename must not leave an empty file

    return atomic_write(path, write)


def atomic_copy(source: str | Path, target: str | Path) -> Path:
    """Copy a file (content and timestamps) to ``target`` atomically.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "a.png").write_bytes(b"png")
    >>> atomic_copy(d / "a.png", d / "b.png").read_bytes()
    b'png'
    """
    return atomic_write(target, lambda tmp: shutil.copy2(source, tmp))


def prepare_outdir(outdir: str | Path, *, files: tuple[str, ...] = (), folders: tuple[str, ...] = ()) -> Path:
    """Create the output folder if needed and check that a run can write everything it will write.

    Called before any experiment runs, so that a bad ``--out`` costs nothing.

    Parameters
    ----------
    outdir : str or Path
        The output folder.
    files : tuple of str
        Names of files the run will replace (e.g. ``results.json``): each must be absent or a file.
    folders : tuple of str
        Names of sub-folders the run will write into: each must be absent or a folder.

    Returns
    -------
    Path
        The folder, resolved.

    Raises
    ------
    OutputDirError
        The folder cannot be created, is not writable, or one of ``files``/``folders`` is
        in the way; one line naming the path and the reason.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> prepare_outdir(d / "new" / "report").is_dir()
    True
    >>> _ = (d / "file").write_text("x")
    >>> prepare_outdir(d / "file" / "report")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    deeplimits.validation._atomic.OutputDirError: outdir '...' cannot be created: Not a directory
    """
    if not isinstance(outdir, (str, os.PathLike)):
        raise TypeError(f"outdir must be a folder path (str or os.PathLike), got {type(outdir).__name__} {outdir!r}")
    if not os.fspath(outdir).strip():
        raise ValueError("outdir must be a folder path, got the empty string")
    path = Path(outdir).expanduser()
    if path.exists() and not path.is_dir():
        raise OutputDirError(f"outdir {str(path)!r} exists and is not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputDirError(f"outdir {str(path)!r} cannot be created: {_reason(exc)}") from None
    path = path.resolve()
    try:
        tempfile.TemporaryFile(dir=path).close()
    except OSError as exc:
        raise OutputDirError(f"outdir {str(path)!r} is not writable: {_reason(exc)}") from None
    for name in files:
        if (path / name).exists() and not (path / name).is_file():
            raise OutputDirError(f"outdir: {str(path / name)!r} is in the way: it must be a file, not a folder")
    for name in folders:
        if (path / name).exists() and not (path / name).is_dir():
            raise OutputDirError(f"outdir: {str(path / name)!r} is in the way: it must be a folder, not a file")
    return path
