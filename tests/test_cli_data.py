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
