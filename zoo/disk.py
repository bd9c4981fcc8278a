"""Writing run files safely: atomic replacement, and a full disk as one line instead of a crash.

Every file a run writes goes to a temporary name first and then `os.replace`s the previous one, so a
failed write never clobbers the last good file. A full disk or quota (`ENOSPC`, `EDQUOT`, however a
library reports it: an `OSError`, h5py's `RuntimeError`, a TensorFlow error) becomes `DiskFull`, a
`UserError` naming the file: the command line prints it in one line and exits 2.

HDF5 must not meet a full disk: after a failed write its file object is broken, and the process
then crashes when it exits (a segmentation fault). So `save_weights` and `save_model` first check
that the file's estimated size can be allocated (`reserve`), and stop cleanly if it cannot.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import keras
import numpy as np

from zoo.errors import DiskFull

NO_SPACE = (errno.ENOSPC, errno.EDQUOT)
_NO_SPACE_TEXT = ("No space left on device", "Disk quota exceeded", "errno = 28,", f"errno = {errno.EDQUOT},")
_OVERHEAD = 1 << 16  # bytes: an HDF5 or zip file's own structures, beyond its arrays


def is_no_space(error: BaseException) -> bool:
    """Whether `error` says the disk or quota is full (an `OSError`, or a library's error that wraps one)."""
    if isinstance(error, DiskFull):
        return False
    if isinstance(error, OSError) and error.errno in NO_SPACE:
        return True
    return any(text in str(error) for text in _NO_SPACE_TEXT)


def disk_full(path: str | os.PathLike) -> DiskFull:
    """The one-line error for a write to `path` that found no space."""
    return DiskFull(
        f"no space left on device while writing {path}: free some space and rerun the same command to resume"
    )


@contextlib.contextmanager
def writing(path: str | os.PathLike, *, tmp: str | os.PathLike | None = None) -> Iterator[None]:
    """A full disk inside the block becomes `DiskFull` naming `path`; any failure removes `tmp` (file or folder)."""
    try:
        yield
    except BaseException as error:
        if tmp is not None:
            remove(Path(tmp))
        if is_no_space(error):
            raise disk_full(path) from None
        raise


def remove(path: Path) -> None:
    """Delete a file or folder if it is there."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def reserve(path: Path, nbytes: int) -> None:
    """Raise `OSError(ENOSPC)` if `nbytes` cannot be written beside `path` (nothing is left allocated).

    The free space is read first; when it is tight, the bytes are allocated for real (`posix_fallocate`
    on a probe file, then deleted), which also finds a full quota.
    """
    free = shutil.disk_usage(path.parent).free
    if free < nbytes:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
    if free > 4 * nbytes or not hasattr(os, "posix_fallocate"):
        return
    probe = path.with_name(path.name + ".space")
    fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.posix_fallocate(fd, 0, nbytes)
    except OSError as error:
        if error.errno in NO_SPACE:
            raise OSError(error.errno, os.strerror(error.errno), str(path)) from None
        # EOPNOTSUPP, EINVAL: the file system cannot tell; the write itself will
    finally:
        os.close(fd)
        probe.unlink(missing_ok=True)


def estimated_size(model: keras.Model, previous: Path | None = None) -> int:
    """Bytes a weights file of `model` (its optimizer included) takes, at least `previous`'s size."""
    variables = list(model.variables)
    if getattr(model, "optimizer", None) is not None:
        variables += list(model.optimizer.variables)
    size = _OVERHEAD
    for variable in variables:
        try:
            itemsize = np.dtype(variable.dtype).itemsize
        except TypeError:
            itemsize = 8
        size += int(np.prod(variable.shape)) * itemsize + 2048
    if previous is not None and previous.exists():
        size = max(size, previous.stat().st_size + _OVERHEAD)
    return size


def temporary_name(path: Path, suffix: str) -> Path:
    """`dir/name.tmp<suffix>` for `dir/name<suffix>` (Keras checks the suffix of what it writes)."""
    return path.with_name(path.name.removesuffix(suffix) + ".tmp" + suffix)


def save_weights(model: keras.Model, path: str | os.PathLike) -> None:
    """`model.save_weights(path)` atomically; a full disk is `DiskFull` and leaves `path` as it was."""
    path = Path(path)
    tmp = temporary_name(path, ".weights.h5")
    with writing(path, tmp=tmp):
        reserve(path, estimated_size(model, path))
        model.save_weights(tmp, overwrite=True)
        os.replace(tmp, path)


def save_model(model: keras.Model, path: str | os.PathLike) -> None:
    """`model.save(path)` (a `.keras` file) atomically; a full disk is `DiskFull` and leaves `path` as it was."""
    path = Path(path)
    tmp = temporary_name(path, ".keras")
    with writing(path, tmp=tmp):
        reserve(path, estimated_size(model, path))
        model.save(tmp, overwrite=True)
        os.replace(tmp, path)


def write_with(path: str | os.PathLike, write, suffix: str = "") -> None:
    """`write(tmp)` then `os.replace(tmp, path)`: any writer made atomic (a CSV, a picture); `DiskFull` if full."""
    path = Path(path)
    tmp = temporary_name(path, suffix or path.suffix)
    with writing(path, tmp=tmp):
        write(tmp)
        os.replace(tmp, path)
