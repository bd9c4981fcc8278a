"""Finding, verifying and extracting dataset files (no network: downloads must fail clearly)."""

import tarfile
import zipfile

import pytest

from zoo.data.fetch import Archive, Source, fetch, locate, sha256sum


def _source(archive_sha: str, file_sha: dict | None = None) -> Source:
    return Source(
        name="demo",
        folder="demo",
        files=("a.txt", "b.txt"),
        archives=(Archive("demo.tar.gz", archive_sha, "http://127.0.0.1:9/demo.tar.gz"),),
        file_sha256=file_sha or {},
    )


def _tarball(tmp_path):
    src = tmp_path / "src" / "demo-1.0"
    src.mkdir(parents=True)
    (src / "a.txt").write_text("alpha\n")
    (src / "b.txt").write_text("beta\n")
    folder = tmp_path / "data" / "demo"
    folder.mkdir(parents=True)
    with tarfile.open(folder / "demo.tar.gz", "w:gz") as t:
        t.add(src, arcname="demo-1.0")
    return folder / "demo.tar.gz"


def test_archive_is_verified_and_extracted_once(tmp_path):
    archive = _tarball(tmp_path)
    paths = fetch(_source(sha256sum(archive)), tmp_path / "data")
    assert paths["a.txt"].read_text() == "alpha\n"
    assert paths["b.txt"].parent.name == "demo-1.0"
    assert not list(archive.parent.glob(".extract-*"))
    archive.unlink()  # extracted files are found without the archive
    assert locate(_source("0" * 64), tmp_path / "data")["b.txt"].read_text() == "beta\n"


def test_corrupt_archive_names_file_and_checksums(tmp_path):
    archive = _tarball(tmp_path)
    with pytest.raises(ValueError, match=rf"demo.tar.gz: sha256 is {sha256sum(archive)}, expected 1111"):
        fetch(_source("1" * 64), tmp_path / "data")
    assert not (archive.parent / "demo-1.0").exists()  # nothing half-extracted


def test_corrupt_extracted_file_is_refused(tmp_path):
    folder = tmp_path / "data" / "demo"
    folder.mkdir(parents=True)
    (folder / "a.txt").write_text("alpha\n")
    (folder / "b.txt").write_text("tampered\n")
    with pytest.raises(ValueError, match="b.txt: sha256 is"):
        locate(_source("0" * 64, {"b.txt": "2" * 64}), tmp_path / "data")


def test_missing_offline_says_url_checksum_and_where(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        fetch(_source("3" * 64), tmp_path / "data")
    message = str(info.value)
    assert "dataset 'demo' not found" in message
    assert "http://127.0.0.1:9/demo.tar.gz" in message and "3" * 64 in message
    assert str(tmp_path / "data" / "demo" / "demo.tar.gz") in message


def test_zip_archives_extract_too(tmp_path):
    folder = tmp_path / "data" / "demo"
    folder.mkdir(parents=True)
    with zipfile.ZipFile(folder / "demo.zip", "w") as z:
        z.writestr("a.txt", "alpha\n")
        z.writestr("b.txt", "beta\n")
    source = Source(
        name="demo",
        folder="demo",
        files=("a.txt", "b.txt"),
        archives=(Archive("demo.zip", sha256sum(folder / "demo.zip")),),
    )
    assert fetch(source, tmp_path / "data")["a.txt"].read_text() == "alpha\n"
