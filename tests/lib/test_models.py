"""lib.models: the package's map, the small networks (LeNet-5, the lectures' MNIST net, deep_mlp, small_cnn,
random_vgg) and the speed-run ResNet-9 - shapes, parameter counts, training, saving, errors.

The zoo and the pretrained networks have their own files (test_zoo.py, test_pretrained.py).
"""

import inspect

import keras
import numpy as np
import pytest
from keras import ops

import lib.models
from lib import anatomy, flops, init, models
from lib.models import pretrained, resnet9, small, zoo

np_ = ops.convert_to_numpy


# --------------------------------------------------------------------------- #
# the package
# --------------------------------------------------------------------------- #
def test_the_package_re_exports_its_modules_builders_and_maps_them():
    for name in models.__all__:
        module = inspect.getmodule(getattr(models, name))
        assert module in (small, zoo, pretrained, resnet9) and name in module.__all__, name
    for module in (small, resnet9, pretrained):  # the map in lib.models' docstring names each of these
        for name in module.__all__:
            if callable(getattr(module, name)) and name[0].islower() or name == "RandomShiftFlip":
                assert f"`{name}`" in lib.models.__doc__, name
    assert all(hasattr(zoo, name) for name in ("alexnet", "vgg", "googlenet", "resnet", "densenet", "mobilenet"))


# --------------------------------------------------------------------------- #
# small: LeNet-5 and the lectures' MNIST net (notebook 02)
# --------------------------------------------------------------------------- #
def _hand_count(input_shape, layers):
    return anatomy.totals(anatomy.walk(input_shape, layers))["params"]


BUILDERS = {"lenet5": models.lenet5, "mnist_net": models.mnist_net}
BUILDERS_LAYERS = {"lenet5": models.lenet5_layers, "mnist_net": models.mnist_net_layers}


def test_mnist_net_is_the_lecture_network():
    keras.backend.clear_session()
    model = models.mnist_net()
    names = [layer.name for layer in model.layers]
    assert names == ["conv1", "pool1", "conv2", "pool2", "flatten", "fc1", "fc2"]
    assert model.get_layer("conv1").output.shape[1:] == (24, 24, 20)  # 28 + 1 - 5
    assert model.get_layer("pool2").output.shape[1:] == (4, 4, 50)  # the deck's view(-1, 4*4*50)
    assert model.get_layer("fc1").count_params() == (4 * 4 * 50 + 1) * 500
    assert model.count_params() == 431_080 == _hand_count((28, 28, 1), models.mnist_net_layers())


def test_lenet5_is_about_sixty_thousand_parameters():
    keras.backend.clear_session()
    model = models.lenet5()
    assert model.get_layer("c1").output.shape[1:] == (28, 28, 6)
    assert model.get_layer("s4").output.shape[1:] == (5, 5, 16)
    assert [type(layer).__name__ for layer in model.layers if "Pool" in type(layer).__name__] == [
        "AveragePooling2D",
        "AveragePooling2D",
    ]
    assert model.count_params() == 61_706 == _hand_count((32, 32, 1), models.lenet5_layers())
    same = models.lenet5((28, 28, 1), c1_padding="same", pooling="max")
    assert same.count_params() == model.count_params()
    assert same.get_layer("s2").__class__.__name__ == "MaxPooling2D"


@pytest.mark.parametrize("builder", BUILDERS)
@pytest.mark.parametrize("input_shape,num_classes", [((28, 28, 1), 10), ((32, 32, 3), 5), ((16, 16, 1), 2)])
def test_configurable_input_and_classes(builder, input_shape, num_classes):
    keras.backend.clear_session()
    model = BUILDERS[builder](input_shape, num_classes)
    x = np.random.default_rng(0).uniform(size=(3, *input_shape)).astype(np.float32)
    probs = model.predict(x, verbose=0)
    assert probs.shape == (3, num_classes)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    rows = flops.profile(model)
    assert all(r.params == model.get_layer(r.name).count_params() for r in rows[1:])
    hand = anatomy.walk(input_shape, BUILDERS_LAYERS[builder](num_classes))
    assert [r.params for r in rows] == [r.params for r in hand]


@pytest.mark.parametrize("builder", BUILDERS)
def test_one_training_step_changes_weights_and_lowers_loss(builder):
    keras.utils.set_random_seed(0)
    keras.backend.clear_session()
    model = BUILDERS[builder]((28, 28, 1), 3)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(16, 28, 28, 1)).astype(np.float32)
    y = rng.integers(0, 3, size=16)
    before = [w.copy() for w in model.get_weights()]
    loss0 = model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=5, batch_size=16, verbose=0)
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    assert model.evaluate(x, y, verbose=0) < loss0


@pytest.mark.parametrize("builder", BUILDERS)
def test_config_round_trip_and_keras_file(builder, tmp_path):
    keras.backend.clear_session()
    model = BUILDERS[builder]((20, 20, 1), 4)
    clone = keras.Sequential.from_config(model.get_config())
    assert clone.count_params() == model.count_params()
    assert [layer.name for layer in clone.layers] == [layer.name for layer in model.layers]
    path = tmp_path / f"{builder}.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    x = np.random.default_rng(1).uniform(size=(2, 20, 20, 1)).astype(np.float32)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)


# ---------------------------------------------------------------- bad arguments
@pytest.mark.parametrize("builder", BUILDERS)
@pytest.mark.parametrize("num_classes", [0, 1, -3, 2.5, True])
def test_bad_num_classes(builder, num_classes):
    with pytest.raises(ValueError, match=r"Expected num_classes to be an integer >= 2. Received: num_classes="):
        BUILDERS[builder]((28, 28, 1), num_classes)


@pytest.mark.parametrize("builder", BUILDERS)
def test_input_too_small_for_the_poolings(builder):
    with pytest.raises(
        ValueError,
        match=rf"Expected an input of at least 16x16 for {builder} .*"
        r"Received: input_shape=\(15, 15, 1\)",
    ):
        BUILDERS[builder]((15, 15, 1))
    BUILDERS[builder]((16, 16, 1))  # the smallest that fits


def test_lenet5_same_padding_fits_smaller_inputs():
    with pytest.raises(ValueError, match=r"at least 12x12"):
        models.lenet5((11, 11, 1), c1_padding="same")
    models.lenet5((12, 12, 1), c1_padding="same")


@pytest.mark.parametrize("input_shape", [(28, 28), (28, 28, 0), (28, 28, 1, 1), "28x28"])
def test_bad_input_shape(input_shape):
    with pytest.raises(ValueError, match=r"Expected input_shape \(height, width, channels\)"):
        models.mnist_net(input_shape)


def test_bad_pooling():
    with pytest.raises(ValueError, match=r"Expected pooling to be one of \['max', 'average'\]. Received: pooling='l2'"):
        models.lenet5(pooling="l2")


# --------------------------------------------------------------------------- #
# small: deep_mlp (notebook 03)
# --------------------------------------------------------------------------- #
def test_deep_mlp_structure():
    model = models.deep_mlp((8, 8, 1), depth=5, width=16, activation="tanh", init="xavier", seed=0)
    dense = init.kernel_layers(model)
    assert len(dense) == 5
    assert [d.units for d in dense] == [16, 16, 16, 16, 10]
    assert dense[0].kernel.shape == (64, 16)
    assert dense[-1].activation is keras.activations.linear
    # Seeded per layer: two square hidden layers must not get the same weights.
    assert not np.allclose(np_(dense[1].kernel), np_(dense[2].kernel))
    again = models.deep_mlp((8, 8, 1), depth=5, width=16, activation="tanh", init="xavier", seed=0)
    np.testing.assert_array_equal(np_(dense[1].kernel), np_(init.kernel_layers(again)[1].kernel))


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"depth": 0}, "Expected depth to be a positive integer. Received: depth=0"),
        ({"width": 2.5}, "Expected width to be a positive integer"),
        ({"num_classes": 1}, "Expected num_classes to be an integer >= 2. Received: num_classes=1"),
        ({"init": "he"}, r"Expected an initializer name in \[.*\]. Received: name='he'"),
    ],
)
def test_deep_mlp_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        models.deep_mlp(4, **{"depth": 3, "width": 4, **kwargs})


# --------------------------------------------------------------------------- #
# small: small_cnn (notebook 09)
# --------------------------------------------------------------------------- #
def test_small_cnn_blocks_and_errors():
    keras.backend.clear_session()
    base = models.small_cnn((32, 32, 3), filters=(4, 8, 16))
    assert base.output_shape == (None, 4, 4, 16)  # stride 2, then two 2x2 poolings
    assert [layer.name for layer in base.layers if layer.name.startswith("block2")] == [
        "block2_conv",
        "block2_bn",
        "block2_relu",
        "block2_pool",
    ]
    assert base.get_layer("block1_conv").use_bias is False
    with pytest.raises(ValueError, match="Expected filters to be a positive integer. Received: filters=0"):
        models.small_cnn(filters=(4, 0))
    with pytest.raises(ValueError, match="Expected filters to be a non-empty list"):
        models.small_cnn(filters=())
    with pytest.raises(ValueError, match=r"Expected input_shape \(height, width, channels\)"):
        models.small_cnn(input_shape=(32, 32))


# --------------------------------------------------------------------------- #
# small: random_vgg (notebook 11)
# --------------------------------------------------------------------------- #
def test_random_vgg_weights_come_from_the_seed_with_numpy():
    """The same network on every backend: He-normal kernels drawn by NumPy from the seed, zero biases."""
    a, b, c = (models.random_vgg(widths=(8, 16), convs_per_block=(1, 1), seed=s) for s in (3, 3, 4))
    ka = keras.ops.convert_to_numpy(a.get_layer("block2_conv1").kernel)
    np.testing.assert_array_equal(ka, keras.ops.convert_to_numpy(b.get_layer("block2_conv1").kernel))
    assert not np.allclose(ka, keras.ops.convert_to_numpy(c.get_layer("block2_conv1").kernel))
    rng = np.random.default_rng(3)
    first = rng.normal(0.0, np.sqrt(2.0 / 27), size=(3, 3, 3, 8)).astype("float32")
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(a.get_layer("block1_conv1").kernel), first)
    assert abs(ka.std() / np.sqrt(2.0 / (9 * 8)) - 1) < 0.1
    assert not np.any(keras.ops.convert_to_numpy(a.get_layer("block1_conv1").bias))


def test_random_vgg_layer_names_and_errors():
    model = models.random_vgg(widths=(2, 3), convs_per_block=(1, 2))
    names = [layer.name for layer in model.layers]
    assert names == [
        "image",
        "preprocess",
        "block1_conv1",
        "block1_pool",
        "block2_conv1",
        "block2_conv2",
        "block2_pool",
    ]
    with pytest.raises(ValueError, match="one number of convolutions per block"):
        models.random_vgg(widths=(2, 3), convs_per_block=(1,))
    with pytest.raises(ValueError, match=r"Expected pooling to be one of \['avg', 'max'\]"):
        models.random_vgg(pooling="min")


# --------------------------------------------------------------------------- #
# resnet9: the speed-run net and its on-device augmentation (notebook 12)
# --------------------------------------------------------------------------- #
def test_net_output_shape_float32_logits_and_augment_layer():
    model = models.speedrun_net((16, 16, 3), num_classes=7, width=2, max_shift=1)
    out = model(np.zeros((3, 16, 16, 3), "float32"))
    assert tuple(out.shape) == (3, 7)
    assert model.get_layer("augment").max_shift == 1
    assert model.get_layer("logits").dtype_policy.name == "float32"
    assert "augment" not in [layer.name for layer in models.speedrun_net((16, 16, 3), 10, 2, max_shift=None).layers]


def test_mixed_precision_computes_in_bfloat16_but_returns_float32():
    previous = keras.config.dtype_policy().name
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        model = models.speedrun_net((8, 8, 3), 10, 2, max_shift=None)
    finally:
        keras.config.set_dtype_policy(previous)
    assert model.get_layer("prep_conv").compute_dtype == "bfloat16"
    assert model.get_layer("prep_conv").kernel.dtype == "float32"
    assert keras.backend.standardize_dtype(model(np.zeros((1, 8, 8, 3), "float32")).dtype) == "float32"


def test_residual_block_parameter_count():
    x = keras.Input((8, 8, 4))
    model = keras.Model(x, resnet9.residual_block(x, 4, "r"))
    # two 3x3 convolutions without bias (4*4*9 each) and two BatchNorms (4 x 4 numbers each)
    assert model.count_params() == 2 * (9 * 4 * 4) + 2 * 4 * 4


def _layer(shift=2, flip=True):
    layer = models.RandomShiftFlip(shift, flip=flip, seed=1)
    layer.build((None, 6, 6, 2))
    return layer


def _reference_shift_flip(images, shifts, flips, s):
    padded = np.pad(images, ((0, 0), (s, s), (s, s), (0, 0)), mode="reflect")
    out = np.stack(
        [
            padded[i, s + dy : s + dy + images.shape[1], s + dx : s + dx + images.shape[2]]
            for i, (dy, dx) in enumerate(shifts)
        ]
    )
    return np.where(np.asarray(flips)[:, None, None, None], out[:, :, ::-1], out)


def test_shift_flip_matches_numpy_crop_of_reflect_padding():
    rng = np.random.default_rng(0)
    images = rng.standard_normal((5, 6, 6, 2)).astype("float32")
    shifts = np.array([[0, 0], [2, -2], [-1, 1], [-2, 0], [1, 2]])
    flips = np.array([False, True, False, True, True])
    got = keras.ops.convert_to_numpy(_layer().transform(images, shifts, flips))
    np.testing.assert_allclose(got, _reference_shift_flip(images, shifts, flips, 2), atol=1e-6)


def test_flip_matches_keras_random_flip_and_training_only():
    images = np.arange(2 * 6 * 6 * 2, dtype="float32").reshape(2, 6, 6, 2)
    layer = _layer(shift=0)
    flipped = keras.ops.convert_to_numpy(layer.transform(images, np.zeros((2, 2), int), np.array([True, True])))
    np.testing.assert_array_equal(flipped, images[:, :, ::-1])
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer(images, training=False)), images)
    out = keras.ops.convert_to_numpy(_layer(2)(images, training=True))
    assert out.shape == images.shape
    # every output image is a crop of its own padded image, possibly flipped: pixel values come from the input
    assert set(np.unique(out)) <= set(np.unique(images))


def test_shift_flip_config_round_trip():
    layer = models.RandomShiftFlip(3, flip=False, seed=4, name="aug")
    clone = models.RandomShiftFlip.from_config(layer.get_config())
    assert (clone.max_shift, clone.flip, clone.seed, clone.name) == (3, False, 4, "aug")


def test_speedrun_net_bad_arguments():
    with pytest.raises(ValueError, match=r"input_shape .*Received: input_shape=\(30, 30, 3\)"):
        models.speedrun_net((30, 30, 3))
    with pytest.raises(ValueError, match=r"Expected input_shape \(height, width, 3\)"):
        models.speedrun_net((32, 32, 1))
    with pytest.raises(ValueError, match="Expected width to be a positive integer"):
        models.speedrun_net(width=0)
    with pytest.raises(ValueError, match="Expected num_classes to be an integer >= 2"):
        models.speedrun_net(num_classes=1)
    with pytest.raises(ValueError, match="Expected max_shift to be a non-negative integer. Received: max_shift=-1"):
        models.RandomShiftFlip(-1)
