"""Large Movie Review Dataset (aclImdb, Maas et al. 2011), labelled train/test reviews, for chapters 7 and 9."""

from __future__ import annotations

import os
import re
import tarfile
from pathlib import Path

import numpy as np

from zoo.data.fetch import Archive, Source, default_data_dir, fetch, verify
from zoo.errors import CorruptData

IMDB = Source(
    name="imdb",
    folder="imdb",
    files=("train/pos", "train/neg", "test/pos", "test/neg"),
    archives=(
        Archive(
            "aclImdb_v1.tar.gz",
            "c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe",
            "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",
        ),
        # The same release without train/unsup (../shared/data): accepted locally, never downloaded.
        Archive("aclImdb_labeled.tar.gz", "382de811aefe3badb2d2ec1a5a249646e1c25acfad56cdd87ac93608dc1846f9"),
    ),
    title="Large Movie Review Dataset v1.0 (IMDB, aclImdb)",
    size="25,000 train + 25,000 test labelled reviews (+50,000 unlabelled), 84 MB archive",
    licence="research use",
    citation="Andrew L. Maas et al. Learning Word Vectors for Sentiment Analysis. ACL 2011.",
    homepage="https://ai.stanford.edu/~amaas/data/sentiment/",
)

_REVIEW = re.compile(r"(?:^|/)(train|test)/(pos|neg)/(\d+)_(\d+)\.txt$")


def _add(reviews: dict, name: str, raw: bytes) -> None:
    match = _REVIEW.search(name)
    if match is None:
        return
    split, label, review_id, rating = match.groups()
    rating = int(rating)
    if (label == "pos") != (rating >= 7) or not 1 <= rating <= 10:
        raise CorruptData(f"{name}: rating {rating} contradicts its folder {label!r}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise CorruptData(f"{name}: not UTF-8 ({error})") from None
    reviews[split].append((label, int(review_id), text))


def _finish(reviews: dict, where: Path) -> dict[str, tuple[list[str], np.ndarray]]:
    out = {}
    for split, items in reviews.items():
        labels = {label for label, _, _ in items}
        if labels != {"pos", "neg"}:
            raise CorruptData(f"{where}: the {split} split lacks pos or neg reviews (found {sorted(labels)})")
        items.sort(key=lambda item: (item[0] != "pos", item[1]))  # positives first, by review id
        out[split] = ([text for _, _, text in items], np.array([label == "pos" for label, _, _ in items], "int32"))
    return out


def read_archive(path: Path) -> dict[str, tuple[list[str], np.ndarray]]:
    """Reviews straight from the tarball (no extraction, so a read-only data folder works)."""
    reviews: dict[str, list] = {"train": [], "test": []}
    try:
        with tarfile.open(path, "r:*") as archive:
            for member in archive:
                if member.isfile() and _REVIEW.search(member.name):
                    _add(reviews, member.name, archive.extractfile(member).read())
    except (tarfile.TarError, EOFError, OSError) as error:
        raise CorruptData(f"{path}: not a readable tar archive ({error})") from None
    return _finish(reviews, path)


def read_folders(root: Path) -> dict[str, tuple[list[str], np.ndarray]]:
    """Reviews from extracted `train/{pos,neg}` and `test/{pos,neg}` folders under `root`."""
    reviews: dict[str, list] = {"train": [], "test": []}
    for path in sorted(root.glob("**/*.txt")):
        _add(reviews, path.relative_to(root).as_posix(), path.read_bytes())
    return _finish(reviews, root)


def load(data_dir: str | os.PathLike | None = None) -> dict[str, tuple[list[str], np.ndarray]]:
    """`{"train": (texts, labels), "test": (texts, labels)}`, labels 1 = positive.

    A local archive (official or the trimmed labelled copy) is read in place after its checksum;
    otherwise extracted folders are used, downloading the official archive if needed.
    """
    folder = Path(data_dir or default_data_dir()).expanduser().resolve() / IMDB.folder
    for archive in IMDB.archives:
        path = folder / archive.name
        if path.exists():
            verify(path, archive.sha256, IMDB)
            return read_archive(path)
    paths = fetch(IMDB, folder.parent)
    return read_folders(paths["train/pos"].parent.parent)
