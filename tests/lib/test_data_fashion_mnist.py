"""lib.data: Fashion-MNIST from the Debian package, checked by sha256, behind Keras's own loader.

These tests read the real files (``dataset-fashion-mnist``, which ``python3 course.py``
installs); they are what the default profile trains on.
"""

import gzip
import json
import shutil

import numpy as np
import pytest

from lib import data

ENTRY = data.manifest("fashion_mnist")
DEBIAN_DIR = ENTRY["debian_dir"]


@pytest.fixture
def fresh_keras_home(tmp_path, monkeypatch):
    """An empty KERAS_HOME, for lib and for Keras (which read the variable at import)."""
    import keras.src.backend.config as config

    home = tmp_path / "keras_home"
    home.mkdir()
    monkeypatch.setenv("KERAS_HOME", str(home))
    monkeypatch.setattr(config, "_KERAS_DIR", str(home))
    return home


def test_fashion_mnist_is_the_real_data_set(fresh_keras_home):
    (x_train, y_train), (x_test, y_test) = data.load_keras_dataset("fashion_mnist")
    assert x_train.shape == (60000, 28, 28, 1) and x_test.shape == (10000, 28, 28, 1)
    assert x_train.dtype == np.float32 and y_train.dtype == np.int64
    assert 0.0 == x_train.min() and x_train.max() == 1.0
    assert np.bincount(y_train).tolist() == [6000] * 10  # Zalando: 6,000 / 1,000 images per class
    assert np.bincount(y_test).tolist() == [1000] * 10
    # the content hashes: each decompressed file as the manifest has it
    for fname, facts in ENTRY["files"].items():
        assert (
            data.sha256_of(fresh_keras_home / ENTRY["keras_subdir"] / fname, decompress=True) == facts["sha256_content"]
        )


def test_keras_own_loader_reads_it_offline_after_setup(fresh_keras_home, block_network):
    import keras

    data.prepare_fashion_mnist()
    (x, y), (xt, yt) = keras.datasets.fashion_mnist.load_data()
    assert x.shape == (60000, 28, 28) and x.dtype == np.uint8 and xt.shape == (10000, 28, 28)
    ours = data.load("fashion_mnist")
    np.testing.assert_array_equal(ours.x_train[..., 0], (x / np.float32(255)).astype(np.float32))
    assert ours.class_names[0] == "t-shirt/top" and ours.class_names[9] == "ankle boot"


def test_subsets_and_validation_split_are_stratified_and_disjoint(fresh_keras_home):
    ds = data.load("fashion_mnist", train_size=1000, val_size=500, test_size=2000, seed=3)
    assert len(ds.x_train) == 1000 and len(ds.x_val) == 500 and len(ds.x_test) == 2000
    assert np.bincount(ds.y_train).tolist() == [100] * 10
    assert np.bincount(ds.y_val).tolist() == [50] * 10
    train_rows = {row.tobytes() for row in ds.x_train.reshape(1000, -1)}
    assert not any(row.tobytes() in train_rows for row in ds.x_val.reshape(500, -1))
    again = data.load("fashion_mnist", train_size=1000, val_size=500, test_size=2000, seed=3)
    np.testing.assert_array_equal(ds.x_val, again.x_val)
    assert "val (500, 28, 28, 1)" in repr(ds)


@pytest.mark.parametrize("bad", [0, -5, 2.5, True, "100"])
def test_bad_sizes_say_what_was_expected(bad):
    with pytest.raises(ValueError, match="Expected val_size to be a positive integer"):
        data.load("fashion_mnist", val_size=bad)


def test_missing_files_say_which_package_and_command(fresh_keras_home, tmp_path, monkeypatch, block_network):
    monkeypatch.setenv("FASHION_MNIST_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(data.DatasetUnavailableError) as info:
        data.load("fashion_mnist")
    message = str(info.value)
    assert "dataset-fashion-mnist" in message and "apt-get install" in message
    assert "train-labels-idx1-ubyte.gz" in message and "download=True" in message


def test_a_corrupted_file_is_refused_with_its_name(fresh_keras_home, tmp_path, monkeypatch):
    copy = tmp_path / "copy"
    shutil.copytree(DEBIAN_DIR, copy)
    with gzip.open(copy / "t10k-labels-idx1-ubyte.gz", "rb") as f:
        labels = bytearray(f.read())
    labels[100] = (labels[100] + 1) % 10  # one label changed
    with gzip.open(copy / "t10k-labels-idx1-ubyte.gz", "wb") as f:
        f.write(bytes(labels))
    monkeypatch.setenv("FASHION_MNIST_DIR", str(copy))
    with pytest.raises(data.DataIntegrityError) as info:
        data.prepare_fashion_mnist()
    message = str(info.value)
    assert (
        "t10k-labels-idx1-ubyte.gz" in message
        and ENTRY["files"]["t10k-labels-idx1-ubyte.gz"]["sha256_content"] in message
        and "dataset-fashion-mnist" in message
    )


def test_verification_is_remembered_until_the_file_changes(fresh_keras_home, tmp_path, monkeypatch):
    path = tmp_path / "x.bin"
    path.write_bytes(b"abc")
    sha = data.sha256_of(path)
    data.verified_file(path, sha, what="x", how_to_get="-")
    stamps = json.loads((fresh_keras_home / ".cnn-course-verified.json").read_text())
    assert sha in stamps.values()
    path.write_bytes(b"abd")  # new content, new mtime: checked again, and refused
    with pytest.raises(data.DataIntegrityError, match="x.bin"):
        data.verified_file(path, sha, what="x", how_to_get="-")


def test_anchors_name_their_sources():
    for value, source in data.FASHION_MNIST_ANCHORS.values():
        assert 0.8 < value < 1.0 and len(source) > 20
