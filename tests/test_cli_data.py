"""Bad data through the CLI: missing offline and corrupt files are one-line errors that lose nothing."""

import shutil

from zoo import run


def test_missing_dataset_offline_names_url_checksum_and_place(tmp_path, capsys):
    code = run.main(["iris_mlp", "--data-dir", str(tmp_path / "data"), "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "dataset 'iris' not found" in err and "iris.data" in err
    assert "6f608b71a7317216319b4d27b4d9bc84e6abd734eda7872b71a458569e2656c0" in err
    assert str(tmp_path / "data" / "uci") in err
    assert not (tmp_path / "run.partial").exists() and not (tmp_path / "run").exists()


def test_corrupt_dataset_file_is_refused_before_parsing(tmp_path, capsys, shared_data):
    folder = tmp_path / "data" / "uci"
    folder.mkdir(parents=True)
    shutil.copy(shared_data / "uci" / "iris.data", folder / "iris.data")
    with open(folder / "iris.data", "a") as f:
        f.write("5.0,3.0,1.0,0.2,Iris-setosa\n")  # one extra row: a different file
    code = run.main(["iris_mlp", "--data-dir", str(tmp_path / "data"), "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 2
    assert f"{folder / 'iris.data'}: sha256 is" in err and "expected 6f608b71" in err


def test_checksum_mismatch_after_a_download_is_reported_as_such(tmp_path, monkeypatch):
    """A download whose sha256 is wrong is `CorruptData` (not "not found"), and the bad file is deleted."""
    import keras
    import pytest

    from zoo.data import uci
    from zoo.data.fetch import fetch
    from zoo.errors import CorruptData

    def fake_get_file(fname, origin, cache_dir, cache_subdir, **kwargs):
        path = tmp_path / "data" / cache_subdir / fname
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("<html>a captive portal, not the dataset</html>")
        return str(path)

    monkeypatch.setattr(keras.utils, "get_file", fake_get_file)
    with pytest.raises(CorruptData, match="sha256 is .* expected 6f608b71") as caught:
        fetch(uci.IRIS, tmp_path / "data")
    assert "downloaded https://" in str(caught.value) and "deleted" in str(caught.value)
    assert not list((tmp_path / "data").rglob("iris.data"))


def test_a_bug_keeps_its_traceback_while_a_user_error_is_one_line(tmp_path, capsys):
    """`zoo.run` turns only `UserError` into one line and exit 2; a ValueError from inside a model is a bug."""
    import dataclasses

    import pytest

    from tests.toy_recipe import TOY
    from zoo import recipes
    from zoo.errors import UserError

    def shape_bug(hp, data):
        raise ValueError("Dimensions must be equal, but are 4 and 5")

    recipes.register(dataclasses.replace(TOY, name="toy_bug", model=shape_bug), replace=True)
    try:
        with pytest.raises(ValueError, match="Dimensions must be equal") as caught:
            run.main(["toy_bug", "--out", str(tmp_path / "bug")])
        assert not isinstance(caught.value, UserError)
        assert run.main(["toy_bug", "--set", "epochs=many", "--out", str(tmp_path / "user")]) == 2
        err = capsys.readouterr().err.strip()
        assert err == "error: --set epochs=many: expected a value of type int >= 1"
    finally:
        recipes.unregister("toy_bug")


def test_corrupt_archives_and_binary_vectors_are_one_line_errors_naming_the_file(tmp_path):
    """A truncated zip, tar or tar.gz given as a corpus, and a binary file given as vectors."""
    import io
    import tarfile
    import zipfile

    import pytest

    from zoo.data import corpus
    from zoo.data.vectors import load_word_vectors
    from zoo.errors import CorruptData

    texts = {f"doc{i}.txt": f"words of document {i} ".encode() * 400 for i in range(3)}
    zipped, tarred = io.BytesIO(), {}
    with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in texts.items():
            z.writestr(name, data)
    for mode, suffix in (("w", ".tar"), ("w:gz", ".tar.gz")):
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode=mode) as t:
            for name, data in texts.items():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                t.addfile(info, io.BytesIO(data))
        tarred[suffix] = buffer.getvalue()
    for suffix, whole in ((".zip", zipped.getvalue()), *tarred.items()):
        path = tmp_path / f"corpus{suffix}"
        path.write_bytes(whole[: len(whole) // 2])
        with pytest.raises(CorruptData, match=rf"{path}: not a readable (zip|tar) archive"):
            corpus.read_texts(path)
    binary = tmp_path / "vectors.bin"
    binary.write_bytes(b"3 2\nking \x81\xfe\x00\x12\x99\n")
    with pytest.raises(CorruptData, match=rf"^vectors={binary}: not UTF-8 text"):
        load_word_vectors(binary, ["", "[UNK]", "king"])


def test_a_failed_download_leaves_no_empty_folders(tmp_path, capsys):
    """Offline: the data folder the run would have filled is not left behind, empty."""
    data = tmp_path / "fresh" / "data"
    code = run.main(["iris_mlp", "--data-dir", str(data), "--out", str(tmp_path / "run")])
    assert code == 2 and "not found" in capsys.readouterr().err
    assert not data.exists() and not (tmp_path / "run.partial").exists()
