"""Finding, verifying, downloading and extracting dataset files under one data directory.

Layout: every dataset lives in `DATA_DIR/<folder>/`, either as extracted files or as its original
archive (extracted in place on first use); when neither is there, the archive is downloaded with
`keras.utils.get_file` and its sha256 checked. `../shared/data` follows the same layout.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
import tarfile
import tempfile
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path

from zoo.errors import CorruptData, DataNotFound


@dataclasses.dataclass(frozen=True)
class Archive:
    """A file that holds (or is) the dataset: where to download it and its sha256."""

    name: str
    sha256: str
    url: str = ""  # empty: accepted when found locally, never downloaded (e.g. a trimmed copy)


@dataclasses.dataclass(frozen=True)
class Source:
    """A dataset as published: what a loader needs from it, where it comes from, its terms.

    Args:
        name: dataset key, e.g. `"rt_polarity"`.
        folder: sub-folder of the data directory, e.g. `"rt-polarity"`.
        files: paths the loader reads, relative to the folder or to any folder below it
            (so both `rt-polarity.pos` and `rt-polaritydata/rt-polarity.pos` are found).
        archives: the downloadable original first, then other accepted local copies. An archive
            that is one of `files` itself (e.g. `iris.data`) is simply checked, not extracted.
        file_sha256: known checksums of extracted files, verified whenever they are read.
        title, size, licence, citation, homepage: for `datasets/README.md`.
    """

    name: str
    folder: str
    files: tuple[str, ...]
    archives: tuple[Archive, ...] = ()
    file_sha256: Mapping[str, str] = dataclasses.field(default_factory=dict)
    title: str = ""
    size: str = ""
    licence: str = ""
    citation: str = ""
    homepage: str = ""

    @property
    def url(self) -> str:
        return next((a.url for a in self.archives if a.url), "")


def default_data_dir() -> Path:
    """`$ZOO_DATA_DIR`, else `./datasets`."""
    return Path(os.environ.get("ZOO_DATA_DIR") or "datasets").expanduser().resolve()


def sha256sum(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify(path: Path, expected: str, source: Source | None = None) -> None:
    """Raise `CorruptData` naming the file, both checksums and the remedy if `path` is not `expected`."""
    actual = sha256sum(path)
    if actual != expected:
        where = f" Delete it and place the original from {source.url}" if source and source.url else ""
        raise CorruptData(
            f"{path}: sha256 is {actual}, expected {expected}; the file is corrupt or not the published version.{where}"
        )


def _find(folder: Path, rel: str) -> Path | None:
    direct = folder / rel
    if direct.exists():
        return direct
    return next(iter(sorted(folder.glob(f"**/{rel}"))), None)


def locate(source: Source, data_dir: str | os.PathLike | None = None) -> dict[str, Path] | None:
    """Paths of `source.files` if present (extracting a local archive if needed), else `None`.

    Never downloads. Checksums of files and archives are verified before anything is returned.
    """
    folder = Path(data_dir or default_data_dir()).expanduser().resolve() / source.folder
    found = _found_files(source, folder)
    if found is not None:
        return found
    for archive in source.archives:
        path = folder / archive.name
        if path.exists():
            verify(path, archive.sha256, source)
            _extract(path, folder)
            found = _found_files(source, folder)
            if found is None:
                raise CorruptData(f"{path} has the right checksum but lacks {', '.join(source.files)}")
            return found
    return None


def fetch(source: Source, data_dir: str | os.PathLike | None = None) -> dict[str, Path]:
    """Paths of `source.files`, downloading and extracting the original archive when absent.

    Raises:
        DataNotFound: not present and not downloadable (offline); says what to place where.
        CorruptData: a file or archive whose checksum is wrong (found locally or just downloaded;
            a bad download is deleted, so the next run downloads it again).
    """
    folder = Path(data_dir or default_data_dir()).expanduser().resolve() / source.folder
    found = locate(source, folder.parent)
    if found is not None:
        return found
    remote = next((a for a in source.archives if a.url), None)
    if remote is None:
        raise DataNotFound(_missing_message(source, folder, "it has no public download"))
    missing = [p for p in (folder, *folder.parents) if not p.exists()]  # what a failed download must not leave
    import keras  # here, not at the top: reading local files (and `zoo.data`'s loaders) needs no TensorFlow

    try:  # the checksum is verified below, so that a mismatch is reported as one, not as "not found"
        downloaded = Path(
            keras.utils.get_file(
                fname=remote.name,
                origin=remote.url,
                cache_dir=str(folder.parent),
                cache_subdir=source.folder,
            )
        )
    except Exception as error:  # offline, DNS or HTTP error
        for empty in missing:  # innermost first
            if empty.is_dir() and not any(empty.iterdir()):
                empty.rmdir()
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise DataNotFound(_missing_message(source, folder, f"download failed: {reason}")) from None
    try:
        verify(downloaded, remote.sha256, source)
    except CorruptData as error:
        downloaded.unlink(missing_ok=True)
        raise CorruptData(f"downloaded {remote.url}, but {error} The download was deleted.") from None
    found = locate(source, folder.parent)
    if found is None:
        raise CorruptData(f"{downloaded} was downloaded but lacks {', '.join(source.files)}")
    return found


def _found_files(source: Source, folder: Path) -> dict[str, Path] | None:
    if not folder.is_dir():
        return None
    paths = {rel: _find(folder, rel) for rel in source.files}
    if any(p is None for p in paths.values()):
        return None
    for rel, path in paths.items():
        if rel in source.file_sha256:
            verify(path, source.file_sha256[rel], source)
    return paths  # type: ignore[return-value]


def _missing_message(source: Source, folder: Path, reason: str) -> str:
    archive = next((a for a in source.archives if a.url), None)
    lines = [f"dataset {source.name!r} not found under {folder} ({reason})."]
    if archive:
        lines.append(
            f"Download {archive.url} (sha256 {archive.sha256}) on a machine with internet and put it "
            f"at {folder / archive.name}"
        )
    lines.append(f"or place the extracted files ({', '.join(source.files)}) in {folder}/.")
    return " ".join(lines)


def _extract(archive: Path, folder: Path) -> None:
    """Extract an archive into `folder` atomically (temp folder, then rename); plain files are left."""
    name = archive.name.lower()
    if not (tarfile.is_tarfile(archive) or zipfile.is_zipfile(archive)) or name.endswith((".json", ".txt")):
        return
    with tempfile.TemporaryDirectory(dir=folder, prefix=".extract-") as tmp:
        try:
            if zipfile.is_zipfile(archive):
                with zipfile.ZipFile(archive) as z:
                    z.extractall(tmp)
            else:
                with tarfile.open(archive) as t:
                    t.extractall(tmp, filter="data")
        except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError, zlib.error) as error:
            raise CorruptData(f"{archive}: not a readable archive ({error})") from None
        for entry in Path(tmp).iterdir():
            target = folder / entry.name
            if target.exists():
                shutil.rmtree(target) if target.is_dir() else target.unlink()
            os.replace(entry, target)
