"""The run folder: checked before any work, built as `DIR.partial`, renamed to `DIR` when complete.

A run folder holds `config.json` (enough to rerun), `history.csv`, the backup a stopped run resumes
from, and in the end `metrics.json`, `model.keras` and `saved_model/`. Non-chief workers of a
multi-worker run write the same files to a temporary folder that is deleted at the end.

One process at a time works in a run folder: the chief holds an exclusive, non-blocking `flock` on
`DIR.partial/.lock` while it runs. A second process on the same `--out` is refused in one line; the
OS releases the lock when its holder dies (even by SIGKILL), so a crashed run never leaves a stale
lock and the same command resumes it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import json
import os
import shlex
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import keras
import tensorflow as tf

from zoo import disk, json_files
from zoo.errors import UserError

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; runs on one folder are not guarded there
    fcntl = None
from zoo.recipes.base import HParams, Recipe

if TYPE_CHECKING:
    import pandas as pd


@dataclasses.dataclass(frozen=True)
class RunFolder:
    """Where one run writes: `work` while it runs, `final` once it is complete.

    Args:
        final: the finished run folder (`--out`).
        work: `final.partial` on the chief, a temporary folder on other workers.
        chief: whether this process writes the run folder that is kept.
        fresh: `work` did not exist before this attempt (nothing to resume from).
        created: the top-most folder this attempt created (removed if it fails before training).
        lock: the chief's lock on `work` (released by `release`, or by the OS when the process dies).
    """

    final: Path
    work: Path
    chief: bool
    fresh: bool
    created: Path
    lock: FolderLock | None = None

    @classmethod
    def open(cls, final: Path, chief: bool) -> RunFolder:
        """Create (or reopen, to resume) the folder this process works in, and lock it (chief).

        Raises `RunFolderBusy` if another process works in it, and `UserError` if another process
        finished the same run meanwhile.
        """
        work = final.with_name(final.name + ".partial") if chief else Path(tempfile.mkdtemp(prefix="zoo-worker-"))
        fresh = not work.exists()
        folder = cls(final=final, work=work, chief=chief, fresh=fresh, created=make_folder(work))
        if chief:
            folder = dataclasses.replace(folder, lock=FolderLock.acquire(work, final))
            if (final / "config.json").exists():  # finished by another process since `check_out`
                folder.release()
                if fresh:
                    shutil.rmtree(folder.created, ignore_errors=True)
                raise UserError(f"--out {final} already holds a finished run; choose another folder")
        return folder

    def release(self) -> None:
        """Let other processes use the folder (the end of `fit`, whatever the outcome)."""
        if self.lock is not None:
            self.lock.release()

    @contextlib.contextmanager
    def removed_on_failure(self) -> Iterator[None]:
        """On any exception (Ctrl-C included), leave no run folder behind if this attempt made it."""
        try:
            yield
        except BaseException:
            if self.fresh:  # nothing was trained yet: no empty folder (nor the parents made for it)
                shutil.rmtree(self.created, ignore_errors=True)
            raise

    def finish(self) -> Path:
        """Rename `DIR.partial` to `DIR` (chief) or delete the worker's folder; returns where the run is."""
        if self.chief:
            os.replace(self.work, self.final)  # the lock file goes along, still locked: no one enters meanwhile
            (self.final / LOCK_NAME).unlink(missing_ok=True)
            self.release()
            return self.final
        shutil.rmtree(self.work, ignore_errors=True)
        return self.work

    @property
    def backup(self) -> Path:
        """`BackupAndRestore`'s folder: the state of the last backed-up epoch."""
        return self.work / "backup"

    @property
    def checkpoints(self) -> Path:
        return self.work / "checkpoints"

    @property
    def history_csv(self) -> Path:
        return self.work / "history.csv"

    def backup_epoch(self) -> int | None:
        """The last epoch (0-based) the backup holds, or None without a backup."""
        meta = self.backup / "training_metadata.json"
        if not meta.exists():
            return None
        return int(json.loads(meta.read_text())["epoch"])

    def history(self) -> pd.DataFrame:
        """The per-epoch metrics logged so far (all attempts), one row per epoch; empty if none."""
        import pandas as pd

        if not self.history_csv.exists() or self.history_csv.stat().st_size == 0:
            return pd.DataFrame()
        # A line cut short (a full disk, a kill mid-write) or a second header is skipped, not fatal.
        frame = pd.read_csv(self.history_csv, on_bad_lines="skip")
        if "epoch" not in frame:
            return pd.DataFrame()
        frame["epoch"] = pd.to_numeric(frame["epoch"], errors="coerce")
        frame = frame.dropna(subset=["epoch"]).astype({"epoch": int})
        frame = frame.apply(lambda column: pd.to_numeric(column, errors="coerce"))
        # A run killed between two callbacks may have logged an epoch twice: keep the last.
        return frame.drop_duplicates("epoch", keep="last").reset_index(drop=True)

    def save_trained(self, model: keras.Model, metrics: dict[str, Any]) -> None:
        """Keep the trained model until the run is complete (Keras deletes its backup when `fit` ends).

        A stop during evaluation, report or export then does not train again.
        """
        write_json(self.checkpoints / "train_metrics.json", metrics)
        disk.save_weights(model, self.checkpoints / "trained.weights.h5")  # last: its presence means "trained"

    def load_trained(self, model: keras.Model) -> dict[str, Any] | None:
        """Load the model an earlier attempt finished training and return its training metrics, or None."""
        trained = self.checkpoints / "trained.weights.h5"
        if not trained.exists():
            return None
        model.load_weights(trained)
        return json.loads((self.checkpoints / "train_metrics.json").read_text())

    def forget_trained(self) -> None:
        """Drop the kept trained model once `model.keras` holds it."""
        (self.checkpoints / "trained.weights.h5").unlink(missing_ok=True)
        (self.checkpoints / "train_metrics.json").unlink(missing_ok=True)

    def check_resume(self, recipe: Recipe, hp: HParams) -> None:
        """An unfinished run in `work` must be of the same recipe with the same hyper-parameters."""
        config = self.work / "config.json"
        if not config.exists():
            return
        previous = json.loads(config.read_text())
        changed = changed_hparams(
            previous.get("hparams") or {},
            jsonable(hp.to_dict()),
            jsonable({k: p.default for k, p in recipe.params().items()}),
        )
        if previous.get("recipe") != recipe.name or changed:
            raise UserError(
                f"{self.work} holds an unfinished run of {previous.get('recipe')} with other hyper-parameters "
                f"({', '.join(changed) or 'another recipe'}); resume it with the same settings "
                f"({previous.get('command')}) or choose another --out"
            )


LOCK_NAME = ".lock"


class RunFolderBusy(UserError):
    """Another process is working in the run folder (`--out`) this run asked for."""


class FolderLock:
    """An exclusive, non-blocking `flock` on `folder/.lock`, holding the holder's process id."""

    def __init__(self, fd: int | None):
        self.fd = fd

    @classmethod
    def acquire(cls, folder: Path, final: Path) -> FolderLock:
        """Lock `folder` or raise `RunFolderBusy` (naming `final`, the `--out`, and the holder's pid)."""
        if fcntl is None:
            return cls(None)
        path = folder / LOCK_NAME
        for _ in range(5):  # the folder may be removed (a failed fresh run) between opening and locking
            make_folder(folder)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as error:
                holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
                os.close(fd)
                if error.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    raise
                raise RunFolderBusy(
                    f"--out {final} is in use: another run (process {holder}) is writing {folder}; "
                    "wait for it to finish or choose another --out"
                ) from None
            if path.exists() and os.stat(path).st_ino == os.fstat(fd).st_ino:
                os.ftruncate(fd, 0)
                os.pwrite(fd, str(os.getpid()).encode(), 0)
                return cls(fd)
            os.close(fd)  # locked a file that was deleted meanwhile: try again on the new one
        raise RunFolderBusy(f"--out {final}: could not lock {folder} (another run keeps replacing it)")

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing the descriptor releases the flock
            self.fd = None


def check_out(final: Path) -> None:
    """Every way `--out` can be wrong, said in one line before any work is done."""
    if final.is_file():
        raise UserError(f"--out {final} is a file; name a folder for the run")
    if final.is_dir():
        if (final / "config.json").exists() or (final / "metrics.json").exists():
            raise UserError(f"--out {final} already holds a finished run; choose another folder")
        if any(final.iterdir()):
            raise UserError(f"--out {final} is a folder that is not empty (and not a run); choose another folder")
        final.rmdir()  # an empty folder: the finished run takes its place
    ancestor = final.parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise UserError(f"--out {final}: {ancestor} is a file, not a folder")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise UserError(f"--out {final}: no permission to write in {ancestor}")


def make_folder(folder: Path) -> Path:
    """`mkdir -p folder`; returns the top-most folder it created (to remove on failure) or `folder`."""
    top = folder
    while not top.parent.exists():
        top = top.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(
            f"--out {folder.with_name(folder.name.removesuffix('.partial'))}: cannot create the run "
            f"folder ({error.strerror})"
        ) from None
    return top


def changed_hparams(previous: dict, current: dict, defaults: dict) -> list[str]:
    """Names whose value differs between an unfinished run and this one.

    A parameter the earlier run does not record came with a newer version of the recipe: it matches
    when this run leaves it at its default, so updating the zoo does not strand a half-trained run.
    """
    return sorted(k for k in set(previous) | set(current) if previous.get(k, defaults.get(k)) != current.get(k))


def config(recipe: Recipe, hp: HParams, run: dict[str, Any], final: Path) -> dict[str, Any]:
    """`config.json`: the recipe, its hyper-parameters, the run's options and the command that reruns it."""
    command = ["python", "-m", "zoo.run", recipe.name, "--out", str(final), "--strategy", run["strategy"]]
    if run["cpu_replicas"]:
        command += ["--cpu-replicas", str(run["cpu_replicas"])]
    if run["max_steps"]:
        command += ["--max-steps", str(run["max_steps"])]
    command += ["--data-dir", run["data_dir"]]
    for key, value in hp.to_dict().items():
        value = ",".join(map(str, value)) if isinstance(value, (tuple, list)) else value
        command += ["--set", f"{key}={value}"]
    return {
        "recipe": recipe.name,
        "chapter": recipe.chapter,
        "hparams": jsonable(hp.to_dict()),
        "run": run,
        "command": shlex.join(command),
        "versions": {"tensorflow": tf.__version__, "keras": keras.__version__, "python": sys.version.split()[0]},
    }


def jsonable(value: Any) -> Any:
    """`value` as strict JSON reads it back (tuples become lists, NaN/inf None, anything else unknown a string)."""
    return json.loads(json_files.dumps(value))


def write_json(path: Path, value: Any) -> None:
    """Write `value` as indented strict JSON, atomically (`zoo.json_files.write_json`); `DiskFull` if full."""
    with disk.writing(path):
        json_files.write_json(path, value)
