"""lib.data: offline datasets, sample images, and full-profile loaders tested without network."""

import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib import data


# ---------------------------------------------------------------- offline sets
def test_digits_are_28x28_in_unit_range_and_stratified():
    (x_train, y_train), (x_test, y_test) = data.digits()
    assert x_train.shape[1:] == (28, 28, 1) and x_train.dtype == np.float32
    assert len(x_train) + len(x_test) == 1797
    assert 0.0 <= x_train.min() and x_train.max() <= 1.0
    assert set(np.unique(y_train)) == set(range(10)) == set(np.unique(y_test))


def test_digits_upsampling_keeps_the_8x8_picture():
    from sklearn.datasets import load_digits

    (x, _), _ = data.digits(image_size=8, test_fraction=0.5, seed=0)
    originals = load_digits().images / 16.0
    # every returned image is one of the originals (nothing but a split at size 8)
    assert any(np.allclose(x[0, ..., 0], o, atol=1e-6) for o in originals)


def test_shapes_are_deterministic_balanced_and_in_range():
    x1, y1 = data.shapes(200, seed=3)
    x2, y2 = data.shapes(200, seed=3)
    x3, _ = data.shapes(200, seed=4)
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(x1, x3)
    assert x1.shape == (200, 32, 32, 3) and x1.dtype == np.float32
    assert 0.0 <= x1.min() and x1.max() <= 1.0
    assert np.bincount(y1).tolist() == [20] * 10


@settings(max_examples=15, deadline=None)
@given(n=st.integers(1, 40), size=st.integers(8, 40), classes=st.integers(2, 10))
def test_shapes_shape_rule(n, size, classes):
    x, y = data.shapes(n, image_size=size, num_classes=classes, seed=0)
    assert x.shape == (n, size, size, 3)
    assert y.min() >= 0 and y.max() < classes


def test_shape_classes_differ_on_average():
    # Mean images per class must differ: the label is in the pixels.
    x, y = data.shapes(1000, seed=0)
    gray = x.mean(axis=-1)
    means = np.stack([gray[y == c].mean(axis=0) for c in range(10)])
    centred = means - means.mean(axis=0)
    distances = np.linalg.norm(centred[:, None] - centred[None], axis=(-1, -2))
    assert distances[~np.eye(10, dtype=bool)].min() > 0.3


def test_load_returns_dataset_with_subsets():
    ds = data.load("digits", train_size=500, test_size=100, seed=0)
    assert ds.x_train.shape == (500, 28, 28, 1) and ds.x_test.shape == (100, 28, 28, 1)
    assert ds.num_classes == 10 and "NOT MNIST" in ds.description
    shapes = data.load("shapes", train_size=100, test_size=50, seed=1)
    assert shapes.input_shape == (32, 32, 3) and len(shapes.y_test) == 50
    again = data.load("shapes", train_size=100, test_size=50, seed=1)
    np.testing.assert_array_equal(shapes.x_test, again.x_test)
    assert not np.array_equal(shapes.x_train[:50], shapes.x_test)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: data.load("imagenet"), "Expected a dataset name"),
        (lambda: data.load("digits", train_size=0), "train_size"),
        (lambda: data.shapes(0), "positive integer"),
        (lambda: data.shapes(5, num_classes=11), "num_classes"),
        (lambda: data.shapes(5, image_size=4), "image_size"),
        (lambda: data.digits(image_size=4), "image_size"),
        (lambda: data.sample_image("lena"), "Expected an image name"),
        (lambda: data.sample_image("chelsea", size=0), "Expected size to be a positive integer. Received: size=0"),
        (lambda: data.load_keras_dataset("svhn"), "Expected one of"),
    ],
)
def test_bad_input_is_a_clear_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("name", sorted(data.SAMPLE_IMAGES))
def test_sample_images_ship_offline(name):
    img = data.sample_image(name)
    assert img.ndim == 3 and img.shape[-1] == 3 and img.dtype == np.float32
    assert 0.0 <= img.min() and img.max() <= 1.0 and img.std() > 0.02


def test_sample_image_resize_and_grayscale():
    assert data.sample_image("chelsea", size=64).shape == (64, 64, 3)
    assert data.sample_image("chelsea", size=(30, 40)).shape == (30, 40, 3)
    assert data.sample_image("brick", size=32, grayscale=True).shape == (32, 32, 1)


# ---------------------------------------------------- full profile, no network
@pytest.fixture
def keras_home(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))

    def no_network(*args, **kwargs):
        raise ConnectionError("network disabled in tests")

    import keras
    import keras.src.utils.file_utils as file_utils

    monkeypatch.setattr(keras.utils, "get_file", no_network)
    monkeypatch.setattr(file_utils, "get_file", no_network)
    for mod in ("mnist", "fashion_mnist", "cifar10"):
        module = __import__(f"keras.src.datasets.{mod}", fromlist=["get_file"])
        monkeypatch.setattr(module, "get_file", no_network)
    (tmp_path / "datasets").mkdir()
    return tmp_path / "datasets"


def _fake_manifest(monkeypatch, tmp_path, edit):
    """Read a copy of data/manifest.json changed by ``edit`` (lib checks every file's sha256)."""
    import json

    fake = json.loads(json.dumps(data.manifest()))
    edit(fake)
    path = tmp_path / "fake_manifest.json"
    path.write_text(json.dumps(fake))
    monkeypatch.setenv("COURSE_DATA_MANIFEST", str(path))
    monkeypatch.setattr(data, "_MANIFEST", None)


def test_mnist_from_a_file_in_keras_home(keras_home, monkeypatch, tmp_path):
    rng = np.random.default_rng(0)
    np.savez(
        keras_home / "mnist.npz",
        x_train=rng.integers(0, 256, (60, 28, 28), dtype=np.uint8),
        y_train=np.arange(60) % 10,
        x_test=rng.integers(0, 256, (20, 28, 28), dtype=np.uint8),
        y_test=np.arange(20) % 10,
    )
    with pytest.raises(data.DataIntegrityError, match="mnist.npz"):  # not the real file
        data.load("mnist")
    fake_sha = data.sha256_of(keras_home / "mnist.npz")
    _fake_manifest(monkeypatch, tmp_path, lambda m: m["mnist"]["files"]["mnist.npz"].update(sha256=fake_sha))
    ds = data.load("mnist", train_size=30, test_size=10)
    assert ds.x_train.shape == (30, 28, 28, 1) and ds.x_train.max() <= 1.0
    assert ds.x_test.shape == (10, 28, 28, 1)
    assert "MNIST" in ds.description and "NOT" not in ds.description


def test_cifar10_from_extracted_batches_in_keras_home(keras_home):
    folder = keras_home / "cifar-10-batches-py"
    folder.mkdir()
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        with open(folder / name, "wb") as f:
            pickle.dump({b"data": np.zeros((4, 3072), np.uint8), b"labels": [0, 1, 2, 3]}, f)
    ds = data.load("cifar10")
    assert ds.x_train.shape == (20, 32, 32, 3) and ds.x_test.shape == (4, 32, 32, 3)


@pytest.mark.parametrize("name, expected", [("mnist", "mnist.npz"), ("cifar10", "cifar-10-batches-py")])
def test_missing_dataset_says_which_file_and_where(keras_home, name, expected):
    with pytest.raises(data.DatasetUnavailableError) as info:
        data.load(name)
    message = str(info.value)
    assert expected in message and str(keras_home) in message and "KERAS_HOME" in message


def test_tfds_loader_with_mock_data(tmp_path):
    tfds = pytest.importorskip("tensorflow_datasets")
    with tfds.testing.mock_data(num_examples=5):
        ds = data.load_tfds("tf_flowers", split="train", data_dir=tmp_path)
        examples = list(ds.take(5))
    assert len(examples) == 5
    image, label = examples[0]
    assert image.shape[-1] == 3 and label.dtype.is_integer


def test_tfds_missing_dataset_is_a_clear_error(tmp_path):
    pytest.importorskip("tensorflow_datasets")
    with pytest.raises(data.DatasetUnavailableError, match="tfds build tf_flowers") as info:
        data.load_tfds("tf_flowers", data_dir=tmp_path)
    assert "could not find data" in str(info.value) and "before trying to access the )" not in str(info.value)
