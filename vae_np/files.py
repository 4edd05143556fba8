"""Writing files without losing the old one: every file ``vae_np`` writes goes through here.

:func:`atomic_write` writes to a temporary file in the target's own folder and moves it
into place with :func:`os.replace`, which is atomic on POSIX and Windows. A failure or an
interrupt at any moment (a full disk, an exception half-way through ``write``, Ctrl-C)
therefore leaves the previous file as it was, and never a half-written file under the
target's name. Errors of the file system are raised as :class:`OSError` naming the path.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Callable

__all__ = ["atomic_write", "write_text"]


def atomic_write(path: str | os.PathLike, write: Callable[[Any], None], mode: str = "wb") -> Path:
    """Create or replace ``path`` with what ``write(f)`` writes to the open file ``f``.

    Parameters
    ----------
    path : str or PathLike
        The target. Its folder must exist.
    write : callable
        Called once with a file object opened in ``mode``; it writes the whole content.
    mode : "wb" or "w"
        Binary, or text in UTF-8 (with ``newline=""``, so csv writers behave).

    Returns
    -------
    Path
        ``path``, after the new content is in place.

    Raises
    ------
    OSError
        Naming ``path`` when the folder is missing or not writable, or the write fails;
        the previous file, if any, is untouched. Any exception raised by ``write``
        propagates after the temporary file is removed.
    """
    path = Path(path)
    folder = path.parent
    if not folder.is_dir():
        raise FileNotFoundError(f"cannot write {path}: the folder {folder} does not exist")
    if path.is_dir():
        raise IsADirectoryError(f"cannot write {path}: it is a directory")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as err:
        raise OSError(f"cannot write {path}: {err.strerror or err}") from None
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
        kwargs = {"encoding": "utf-8", "newline": ""} if "b" not in mode else {}
        with os.fdopen(fd, mode, **kwargs) as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as err:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(err, OSError) and str(path) not in str(err):
            raise OSError(f"cannot write {path}: {err.strerror or err}") from None
        raise
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Create or replace the UTF-8 text file ``path`` atomically (see :func:`atomic_write`)."""
    return atomic_write(path, lambda f: f.write(text), mode="w")
