"""Chapters 3-5: UCI, MNIST and HAR loaders, every recipe through `zoo.fit`, and served exports."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
from pathlib import Path

import keras
import numpy as np
import pytest

import zoo
from tests.conftest import serve_in_fresh_process
from zoo.data import har, mnist, uci
from zoo.recipes import get, resolve_hparams
from zoo.recipes.base import RunContext

# --- generated files in the datasets' real layouts ----------------------------------------------


def write_idx(path: Path, array: np.ndarray) -> str:
    """A gzipped IDX file (magic 2049 labels / 2051 images); returns the sha256 of its content."""
    magic = 2049 if array.ndim == 1 else 2051
    raw = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape) + array.tobytes()
    path.write_bytes(gzip.compress(raw))
    return hashlib.sha256(raw).hexdigest()


def write_mnist_npz(folder: Path, n_train: int = 60, n_test: int = 30, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "mnist.npz"
    np.savez(
        path,
        x_train=rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        y_train=rng.integers(0, 10, n_train, dtype=np.uint8),
        x_test=rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        y_test=rng.integers(0, 10, n_test, dtype=np.uint8),
    )
    return path


def write_har(root: Path, sizes: dict[str, int] | None = None) -> Path:
    """`root/har/UCI HAR Dataset/{train,test}/Inertial Signals/*_{split}.txt` and `y_{split}.txt`.

    Channel c of window i holds values c + i / 1000 (so the test can check the channel order).
    """
    base = root / "har" / "UCI HAR Dataset"
    for split, n in (sizes or {"train": 40, "test": 16}).items():
        signals = base / split / "Inertial Signals"
        signals.mkdir(parents=True, exist_ok=True)
        for c, name in enumerate(har.SIGNALS):
            rows = c + np.arange(n)[:, None] / 1000 + np.zeros((1, har.STEPS))
            np.savetxt(signals / f"{name}_{split}.txt", rows, fmt="%15.7e")
        np.savetxt(base / split / f"y_{split}.txt", np.arange(n) % 6 + 1, fmt="%d")
    return root


@pytest.fixture
def fake_mnist(tmp_path, monkeypatch) -> Path:
    """A data dir holding a small generated `mnist.npz` (its checksum patched in for the test)."""
    path = write_mnist_npz(tmp_path / "data" / "mnist")
    source = dataclasses.replace(mnist.MNIST, file_sha256={"mnist.npz": hashlib.sha256(path.read_bytes()).hexdigest()})
    monkeypatch.setattr(mnist, "MNIST", source)
    return tmp_path / "data"


# --- loaders --------------------------------------------------------------------------------------


def test_uci_loaders_on_real_files(shared_data):
    x, y = uci.load_ionosphere(shared_data)
    assert x.shape == (351, 34) and set(np.unique(y)) == {0, 1} and y.sum() == 225
    x, y, names = uci.load_iris(shared_data)  # the file ends with a blank line
    assert x.shape == (150, 4) and names == ["Iris-setosa", "Iris-versicolor", "Iris-virginica"]
    assert np.bincount(y).tolist() == [50, 50, 50]
    x, y = uci.load_boston(shared_data)
    assert x.shape == (506, 13) and y[0] == pytest.approx(24.0)


def test_uci_wrong_checksum_raises_naming_the_file(tmp_path):
    (tmp_path / "uci").mkdir()
    (tmp_path / "uci" / "iris.data").write_text("5.1,3.5,1.4,0.2,Iris-setosa\n")
    with pytest.raises(ValueError, match=r"iris\.data.*sha256"):
        uci.load_iris(tmp_path)


def test_uci_malformed_row_raises(tmp_path, monkeypatch):
    (tmp_path / "uci").mkdir()
    path = tmp_path / "uci" / "housing.data"
    path.write_text(" 1 " * 14 + "\n" + " 1 " * 13 + "\n")
    monkeypatch.setattr(uci, "BOSTON", dataclasses.replace(uci.BOSTON, file_sha256={}))
    with pytest.raises(ValueError, match=r"housing\.data:2: expected 14 fields"):
        uci.load_boston(tmp_path)


def test_mnist_from_generated_npz(fake_mnist):
    splits = mnist.load(fake_mnist)
    assert splits["train"][0].shape == (60, 28, 28) and splits["test"][1].shape == (30,)


def test_mnist_npz_with_wrong_checksum_raises(tmp_path):
    write_mnist_npz(tmp_path / "mnist")
    with pytest.raises(ValueError, match=r"mnist\.npz.*sha256"):
        mnist.load(tmp_path)


def test_mnist_from_generated_idx_files(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "mnist"
    folder.mkdir()
    rng = np.random.default_rng(1)
    digests = {}
    for prefix, n in (("t10k", 12), ("train", 20)):
        digests[f"{prefix}-images-idx3-ubyte.gz"] = write_idx(
            folder / f"{prefix}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        )
        digests[f"{prefix}-labels-idx1-ubyte.gz"] = write_idx(
            folder / f"{prefix}-labels-idx1-ubyte.gz", rng.integers(0, 10, n, dtype=np.uint8)
        )
    monkeypatch.setattr(mnist, "IDX_SHA256", digests)
    splits = mnist.load(tmp_path)
    assert splits["train"][0].shape == (20, 28, 28) and splits["test"][0].shape == (12, 28, 28)
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"):
        (folder / name).unlink()
    splits = mnist.load(tmp_path)
    assert set(splits) == {"test"} and "only the test set" in capsys.readouterr().err
    # a file whose content does not match the published checksum is refused
    write_idx(folder / "t10k-labels-idx1-ubyte.gz", np.zeros(12, np.uint8))
    with pytest.raises(ValueError, match=r"t10k-labels-idx1-ubyte\.gz: decompressed sha256"):
        mnist.load(tmp_path)


def test_mnist_idx_truncated_file_raises(tmp_path):
    path = tmp_path / "x.gz"
    path.write_bytes(
        gzip.compress((2051).to_bytes(4, "big") + (5).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2 + bytes(100))
    )
    with pytest.raises(ValueError, match="header promises"):
        mnist.read_idx(path)


def test_mnist_real_test_set_only(shared_data):
    splits = mnist.load(shared_data)
    assert set(splits) == {"test"}
    x, y = splits["test"]
    assert x.shape == (10000, 28, 28) and np.bincount(y)[:3].tolist() == [980, 1135, 1032]


def test_har_loader_on_generated_files_in_the_real_layout(tmp_path):
    splits = har.load(write_har(tmp_path, {"train": 10, "test": 7}))
    x, y = splits["train"]
    assert x.shape == (10, 128, 9) and x.dtype == np.float32
    assert np.allclose(x[3, 5], np.arange(9) + 0.003)  # channels in SIGNALS order
    assert y.tolist() == [0, 1, 2, 3, 4, 5, 0, 1, 2, 3]
    assert splits["test"][0].shape == (7, 128, 9)


def test_har_malformed_signal_file_raises(tmp_path):
    write_har(tmp_path, {"train": 4, "test": 3})
    bad = tmp_path / "har" / "UCI HAR Dataset" / "test" / "Inertial Signals" / "body_gyro_y_test.txt"
    lines = bad.read_text().splitlines()
    lines[1] = lines[1].rsplit(" ", 1)[0]  # 127 values on the second line
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match="body_gyro_y_test.txt"):
        har.load(tmp_path)


# --- recipes through the driver --------------------------------------------------------------------

ALL = [
    "food_price",
    "ionosphere_mlp",
    "iris_mlp",
    "boston_mlp",
    "sine_fit",
    "mnist_softmax",
    "mnist_mlp",
    "mnist_cnn",
    "har_cnn1d",
]


@pytest.mark.slow
@pytest.mark.parametrize("name", ALL)
def test_recipe_trains_two_steps_and_exports(name, tmp_path, request):
    """Two steps through `zoo.fit`, a complete run folder; iris_mlp and mnist_cnn are also served."""
    if name in ("ionosphere_mlp", "iris_mlp", "boston_mlp"):
        data_dir = request.getfixturevalue("shared_data")
    elif name.startswith("mnist"):
        data_dir = request.getfixturevalue("fake_mnist")
    else:
        data_dir = write_har(tmp_path / "data")
    result = zoo.fit(name, data_dir=data_dir, out=tmp_path / "run", max_steps=2, epochs=1, verbose=0)
    files = {p.name for p in result.run_dir.iterdir()}
    assert {"config.json", "metrics.json", "history.csv", "model.keras", "saved_model"} <= files
    assert result.metrics["epochs_trained"] == 1
    extras = {"boston_mlp": {"scatter_mlp.png", "scatter_svr.png", "scatter_linear.png"}, "sine_fit": {"sine_fit.png"}}
    assert extras.get(name, set()) <= files
    if name == "boston_mlp":
        assert result.metrics["test_mse_linear"] < 40  # the sklearn baselines are fitted in full
    if name == "food_price":
        assert len(result.metrics["weights"]) == 3
    if name in ("iris_mlp", "mnist_cnn"):
        assert_served_equals_keras_file(result.run_dir, data_dir, name)


def assert_served_equals_keras_file(run_dir: Path, data_dir: Path, name: str) -> None:
    """TFSMLayer over the SavedModel, in a process without `zoo`, equals the `.keras` model (1e-5)."""
    if name == "iris_mlp":
        x = uci.load_iris(data_dir)[0][:7]  # raw feature rows: scaling happens inside the model
    else:
        x = mnist.load(data_dir)["test"][0][:5].astype(np.float32)  # raw 0-255 pixels
    served = serve_in_fresh_process(run_dir / "saved_model", x)
    expected = keras.ops.convert_to_numpy(keras.saving.load_model(run_dir / "model.keras")(x))
    if name == "mnist_cnn":  # trained on logits; the export serves probabilities
        expected = keras.ops.convert_to_numpy(keras.ops.softmax(expected))
    np.testing.assert_allclose(served, expected, atol=1e-5)
    np.testing.assert_allclose(served.sum(axis=-1), 1.0, atol=1e-5)


def test_food_price_learns_the_book_weights(tmp_path):
    """The recipe's own data, model and defaults (SGD 0.01, batch 1, 500 epochs) with a bare `fit`."""
    recipe = get("food_price")
    hp = resolve_hparams(recipe)
    keras.utils.set_random_seed(hp.seed)
    data = recipe.data(hp, RunContext(data_dir=tmp_path, run_dir=tmp_path))
    model = recipe.model(hp, data)
    model.fit(data.train, epochs=hp.epochs, verbose=0)
    weights = recipe.report(hp, data, model, RunContext(data_dir=tmp_path, run_dir=tmp_path))["weights"]
    np.testing.assert_allclose(weights, [150, 50, 100], atol=2.0)
