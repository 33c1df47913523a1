"""Tests for lib.transfer: frozen BatchNorm statistics, trainable counts, the backbone registry, errors, tfds path.

Fast: tiny inputs, weights=None (nothing downloaded), a few training steps.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest

from lib import models, transfer


def _data(n=32, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(0, 1, (n, 32, 32, 3)).astype("float32"), rng.integers(0, classes, n)


def _compile_fit(model, x, y, steps=2):
    model.compile(
        optimizer=keras.optimizers.Adam(1e-2),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        run_eagerly=keras.backend.backend() == "tensorflow",  # for two steps: quicker than tracing; JAX: one compile
    )
    model.fit(x[: 16 * steps], y[: 16 * steps], batch_size=16, epochs=1, verbose=0)


# --------------------------------------------------------------------------- #
# BatchNorm statistics: what keeps them fixed
# --------------------------------------------------------------------------- #
def test_frozen_base_keeps_batchnorm_statistics_while_the_head_trains():
    keras.utils.set_random_seed(0)
    base = models.small_cnn()
    transfer.freeze(base)
    model = transfer.build_transfer_model(base, 3, dropout=0.0)
    before = transfer.batchnorm_statistics(base)
    head_before = keras.ops.convert_to_numpy(model.get_layer("head").kernel).copy()
    base_before = [keras.ops.convert_to_numpy(w).copy() for w in base.weights]
    x, y = _data()
    _compile_fit(model, x, y)
    assert len(before) == 4
    assert transfer.max_statistics_change(before, transfer.batchnorm_statistics(base)) == 0.0
    for w, b in zip(base.weights, base_before):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(w), b)
    assert not np.allclose(keras.ops.convert_to_numpy(model.get_layer("head").kernel), head_before)


def test_training_false_does_not_survive_fit_once_unfrozen_but_frozen_batchnorm_does():
    # Keras 3: fit() passes training=True to every layer of a Functional model, replacing the recorded
    # base(x, training=False) (keras-team/keras#20285). If this starts failing, Keras changed: update notebook 09.
    x, y = _data()
    keras.utils.set_random_seed(0)
    base = models.small_cnn()
    base.trainable = True
    model = transfer.build_transfer_model(base, 3, dropout=0.0, base_training=False)
    before = transfer.batchnorm_statistics(base)
    _compile_fit(model, x, y)
    assert transfer.max_statistics_change(before, transfer.batchnorm_statistics(base)) > 1e-4

    keras.utils.set_random_seed(0)
    base = models.small_cnn()
    transfer.unfreeze_top(base, len(base.layers))  # BatchNorm kept frozen
    model = transfer.build_transfer_model(base, 3, dropout=0.0)
    before = transfer.batchnorm_statistics(base)
    conv_before = keras.ops.convert_to_numpy(base.get_layer("block1_conv").kernel).copy()
    _compile_fit(model, x, y)
    assert transfer.max_statistics_change(before, transfer.batchnorm_statistics(base)) == 0.0
    assert not np.allclose(keras.ops.convert_to_numpy(base.get_layer("block1_conv").kernel), conv_before)


# --------------------------------------------------------------------------- #
# counting what trains
# --------------------------------------------------------------------------- #
def test_trainable_counts_after_freeze_and_unfreeze_top():
    base = models.small_cnn(filters=(8, 16, 32))
    model = transfer.build_transfer_model(base, 4, dropout=0.0)
    total = model.count_params()
    transfer.freeze(base)
    counts = transfer.param_counts(model)
    assert counts == {"trainable": 32 * 4 + 4, "non_trainable": base.count_params(), "total": total}

    block3 = [layer.name for layer in base.layers if layer.name.startswith("block3")]
    assert block3 == ["block3_conv", "block3_bn", "block3_relu", "block3_pool"]
    assert transfer.unfreeze_top(base, len(block3)) == ["block3_conv"]
    assert transfer.param_counts(model)["trainable"] == 32 * 4 + 4 + 3 * 3 * 16 * 32
    assert not base.get_layer("block3_bn").trainable

    transfer.unfreeze_top(base, len(block3), keep_batchnorm_frozen=False)
    assert transfer.param_counts(model)["trainable"] == 32 * 4 + 4 + 3 * 3 * 16 * 32 + 2 * 32

    assert transfer.unfreeze_top(base, 0) == []
    assert transfer.param_counts(model)["trainable"] == 32 * 4 + 4


@pytest.mark.parametrize("n", [-1, 100, 1.5, True, "3"])
def test_unfreeze_top_rejects_bad_counts(n):
    base = models.small_cnn(filters=(4, 8))
    with pytest.raises(ValueError, match="Expected n_layers to be an integer in"):
        transfer.unfreeze_top(base, n)


def test_build_transfer_model_errors():
    base = models.small_cnn(filters=(4, 8))
    model = transfer.build_transfer_model(base, 7)
    assert model.output_shape == (None, 7)
    assert [layer.name for layer in model.layers][-3:] == ["pool", "dropout", "head"]
    with pytest.raises(ValueError, match="num_classes"):
        transfer.build_transfer_model(base, 0)
    with pytest.raises(ValueError, match="dropout"):
        transfer.build_transfer_model(base, 3, dropout=1.0)


# --------------------------------------------------------------------------- #
# the backbone registry: preprocessing declared once, checked against keras.applications
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("name", sorted(transfer.BACKBONES))
def test_preprocessing_maps_uint8_to_the_declared_range_and_order(name):
    spec = transfer.BACKBONES[name]
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (2, 5, 5, 3)).astype("uint8")
    out = transfer.preprocess(name, pixels)
    order = pixels[..., ::-1] if spec.channel_order == "BGR" else pixels
    np.testing.assert_allclose(out, order * spec.scale + np.array(spec.offset), atol=1e-3)
    np.testing.assert_allclose(transfer.unpreprocess(name, out), pixels, atol=1e-3)  # round trip

    extremes = transfer.preprocess(name, np.array([[[[0, 0, 0], [255, 255, 255]]]], dtype="uint8"))
    low, high = spec.input_range
    assert extremes.min() == pytest.approx(low, abs=1e-3) and extremes.max() == pytest.approx(high, abs=1e-3)
    expected_range = {
        "mobilenet_v2": (-1.0, 1.0),
        "efficientnet_b0": (0.0, 255.0),
        "resnet50": (-123.68, 255 - 103.939),
    }[name]
    assert spec.input_range == pytest.approx(expected_range, abs=1e-3)

    red = transfer.preprocess(name, np.array([255, 0, 0], "uint8").reshape(1, 1, 1, 3))[0, 0, 0]
    red_channel = 2 if spec.channel_order == "BGR" else 0
    assert int(np.argmax(red - transfer.preprocess(name, np.zeros((1, 1, 1, 3), "uint8"))[0, 0, 0])) == red_channel


def test_preprocess_leaves_its_input_alone():
    x = np.full((1, 2, 2, 3), 200.0, dtype="float32")
    transfer.preprocess("resnet50", x)  # keras' preprocess_input alone would modify x in place
    assert np.all(x == 200.0)


def test_registry_documents_accuracy_and_source():
    tops = {name: spec.imagenet_top1 for name, spec in transfer.BACKBONES.items()}
    assert tops == {"mobilenet_v2": 0.713, "efficientnet_b0": 0.771, "resnet50": 0.749}
    assert all(spec.source == "https://keras.io/api/applications/" for spec in transfer.BACKBONES.values())


@pytest.mark.parametrize("shape", [(4, 4), (2, 4, 4, 1), (1, 2, 4, 4, 3), (3,)])
def test_preprocess_rejects_wrong_image_rank(shape):
    with pytest.raises(
        ValueError,
        match=r"Expected images of shape \(batch, height, width, channels\) or "
        r"\(height, width, channels\) with 3 channel",
    ):
        transfer.preprocess("mobilenet_v2", np.zeros(shape, "uint8"))


def test_unknown_backbone_lists_the_known_ones():
    with pytest.raises(ValueError, match="efficientnet_b0.*mobilenet_v2.*resnet50.*Received: name='vgg16'"):
        transfer.build_backbone("vgg16", weights=None)
    with pytest.raises(ValueError, match="Unknown backbone"):
        transfer.preprocess("xception", np.zeros((1, 2, 2, 3)))


# --------------------------------------------------------------------------- #
# weights: None, a path, "imagenet" offline
# --------------------------------------------------------------------------- #
@pytest.mark.backend_independent("file and download handling")
def test_missing_imagenet_weights_offline_name_file_and_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(transfer.WeightsUnavailableError) as err:
        transfer.build_backbone("mobilenet_v2", weights="imagenet", input_shape=(32, 32, 3), download=False)
    text = str(err.value)
    assert "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5" in text
    assert str(tmp_path / "models") in text and "$KERAS_HOME/models/" in text
    assert "https://storage.googleapis.com/" in text and "weights=None" in text


@pytest.mark.backend_independent("file and download handling")
def test_failed_download_becomes_a_clear_error(tmp_path, monkeypatch):
    from keras.src.utils import file_utils

    def no_network(*args, **kwargs):
        raise OSError("network unreachable")

    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setattr(file_utils, "get_file", no_network)
    with pytest.raises(transfer.WeightsUnavailableError, match="could not be downloaded.*network unreachable"):
        transfer.build_backbone("mobilenet_v2", weights="imagenet", input_shape=(32, 32, 3))
    assert file_utils.get_file is no_network  # restored after the call


@pytest.mark.parametrize("weights,match", [("nowhere.h5", "path of an existing weights file"), (3, "Expected weights")])
def test_bad_weights_argument(weights, match):
    with pytest.raises(ValueError, match=match):
        transfer.build_backbone("mobilenet_v2", weights=weights, input_shape=(32, 32, 3))


@pytest.mark.parametrize("shape", [(32, 32), (32, 32, 1), (1, 32, 32, 3)])
def test_build_backbone_rejects_wrong_input_shape(shape):
    with pytest.raises(ValueError, match=r"Expected input_shape \(height, width, 3\)"):
        transfer.build_backbone("mobilenet_v2", weights=None, input_shape=shape)


def test_max_statistics_change_needs_the_same_layers():
    a = {"bn": (np.zeros(2), np.ones(2))}
    assert transfer.max_statistics_change(a, {"bn": (np.array([0.0, 0.5]), np.ones(2))}) == 0.5
    with pytest.raises(ValueError, match="same layers"):
        transfer.max_statistics_change(a, {})


# --------------------------------------------------------------------------- #
# the full profile's data path, offline: tfds mock data + a weights file
# --------------------------------------------------------------------------- #
@pytest.mark.backend_independent("a tf.data pipeline over mock TFDS data")
def test_tf_flowers_mock_data_through_tfds_images_and_preprocess_feeds_a_transfer_model(tmp_path):
    tfds = pytest.importorskip("tensorflow_datasets")
    keras.utils.set_random_seed(0)
    path = tmp_path / "base.weights.h5"  # weights=None weights saved to a file stand in for ImageNet's
    first = transfer.build_backbone("mobilenet_v2", weights=None, input_shape=(32, 32, 3))
    first.save_weights(path)
    with tfds.testing.mock_data(num_examples=8):
        images, y = transfer.tfds_images("tf_flowers", 32, take=4)
        x = transfer.preprocess("mobilenet_v2", images)
        assert x.shape == (4, 32, 32, 3) and float(x.min()) >= -1 and float(x.max()) <= 1
        assert y.dtype == np.int64
        base = transfer.build_backbone("mobilenet_v2", weights=path, input_shape=(32, 32, 3))
        for a, b in zip(first.weights, base.weights):
            np.testing.assert_array_equal(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b))
        transfer.freeze(base)
        model = transfer.build_transfer_model(base, 5)
        logits = keras.ops.convert_to_numpy(model(x, training=False))
    assert logits.shape == (4, 5) and np.all(np.isfinite(logits))
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(y, logits)
    assert np.isfinite(float(loss))


@pytest.mark.backend_independent("a tf.data reader over mock TFDS data")
def test_tfds_images_reads_mock_tf_flowers_into_uint8_arrays_of_one_size():
    tfds = pytest.importorskip("tensorflow_datasets")
    with tfds.testing.mock_data(num_examples=12):  # random images of random sizes, 5 classes
        images, labels = transfer.tfds_images("tf_flowers", 24)
        first, _ = transfer.tfds_images("tf_flowers", 24, take=3)
    assert images.shape == (12, 24, 24, 3) and images.dtype == np.uint8 and images.max() > images.min()
    assert labels.shape == (12,) and labels.dtype == np.int64 and 0 <= labels.min() and labels.max() < 5
    np.testing.assert_array_equal(first, images[:3])
    with pytest.raises(ValueError, match="positive integer"):
        transfer.tfds_images("tf_flowers", 0)


def test_tfds_images_without_prepared_data_says_how_to_prepare_them(tmp_path):
    pytest.importorskip("tensorflow_datasets")
    from lib import data

    with pytest.raises(data.DatasetUnavailableError, match="tfds build tf_flowers"):
        transfer.tfds_images("tf_flowers", 24, data_dir=tmp_path)
