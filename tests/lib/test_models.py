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
    with pytest.raises(
        ValueError, match=r"Expected pooling to be one of \['max', 'average', 'subsample'\]. Received: pooling='l2'"
    ):
        models.lenet5(pooling="l2")


# --------------------------------------------------------------------------- #
# small: LeNet-5's subsampling and the shift experiment's nets (notebook 02)
# --------------------------------------------------------------------------- #
def _subsample_reference(x, coefficient, bias, k=2):
    n, h, w, c = x.shape
    sums = x[:, : h // k * k, : w // k * k].reshape(n, h // k, k, w // k, k, c).sum(axis=(2, 4))
    return np.tanh(sums * coefficient + bias)


def test_lenet_subsampling_is_the_papers_trainable_coefficient_and_bias():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 9, 8, 3)).astype("float32")
    layer = small.LeNetSubsampling(2, name="s2")
    out = np_(layer(x))
    assert out.shape == (2, 4, 4, 3) and layer.count_params() == 6
    np.testing.assert_allclose(out, np.tanh(np_(keras.layers.AveragePooling2D(2)(x))), rtol=1e-5, atol=1e-6)
    coefficient, bias = rng.uniform(0.1, 1, 3).astype("float32"), rng.standard_normal(3).astype("float32")
    layer.set_weights([coefficient, bias])
    np.testing.assert_allclose(np_(layer(x)), _subsample_reference(x, coefficient, bias), rtol=1e-5, atol=1e-6)
    linear = small.LeNetSubsampling(2, activation=None)
    np.testing.assert_allclose(np_(linear(x)), np_(keras.layers.AveragePooling2D(2)(x)), rtol=1e-5, atol=1e-6)
    assert tuple(layer.compute_output_shape((None, 9, 8, 3))) == (None, 4, 4, 3)


def test_lenet5_with_the_papers_subsampling():
    keras.backend.clear_session()
    model = models.lenet5(pooling="subsample")
    assert [type(layer).__name__ for layer in model.layers[:4]] == ["Conv2D", "LeNetSubsampling"] * 2
    # 12 and 32 trainable parameters in S2 and S4, as in the paper
    assert (model.get_layer("s2").count_params(), model.get_layer("s4").count_params()) == (12, 32)
    hand = _hand_count((32, 32, 1), models.lenet5_layers(pooling="subsample"))
    assert model.count_params() == 61_706 + 12 + 32 == hand
    with pytest.raises(ValueError, match="LeNet's subsampling has no built-in Keras layer"):
        anatomy.to_keras((32, 32, 1), models.lenet5_layers(pooling="subsample"))


def test_lenet5_subsampling_trains_saves_and_loads(tmp_path):
    keras.utils.set_random_seed(0)
    keras.backend.clear_session()
    model = models.lenet5((28, 28, 1), 3, pooling="subsample", c1_padding="same")
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    x, y = rng.uniform(size=(16, 28, 28, 1)).astype(np.float32), rng.integers(0, 3, size=16)
    before = np_(model.get_layer("s2").coefficient).copy()
    loss0 = model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=5, batch_size=16, verbose=0)
    assert model.evaluate(x, y, verbose=0) < loss0
    assert not np.allclose(np_(model.get_layer("s2").coefficient), before)  # the coefficient is trained
    model.save(tmp_path / "lenet5.keras")
    loaded = keras.saving.load_model(tmp_path / "lenet5.keras")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)
    clone = keras.Sequential.from_config(model.get_config())
    assert clone.get_layer("s4").get_config()["pool_size"] == (2, 2)


@pytest.mark.parametrize("subsampling", ["max", "strided"])
@pytest.mark.parametrize("head", ["flatten", "global_max", "global_average"])
def test_subsampling_net_layers_and_shapes(subsampling, head):
    keras.backend.clear_session()
    model = small.subsampling_net((36, 36, 1), 10, subsampling, head)
    names = [layer.name for layer in model.layers]
    assert ("pool1" in names) == (subsampling == "max") and names[-2:] == ["features", "classifier"]
    side = {"max": 5, "strided": 6}[subsampling]  # 36 -> 34 -> 17 -> 15 -> 7 -> 5, or 36 -> 17 -> 8 -> 6
    assert model.get_layer("conv3").output.shape[1:] == (side, side, 32)
    assert model.get_layer("features").output.shape[1:] == ((side * side * 32,) if head == "flatten" else (32,))
    probs = model.predict(np.zeros((2, 36, 36, 1), "float32"), verbose=0)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    rows = flops.profile(model)
    assert sum(r.params for r in rows) == model.count_params()


def test_subsampling_net_bad_arguments():
    with pytest.raises(ValueError, match=r"Expected subsampling to be one of \['max', 'strided'\]"):
        small.subsampling_net((28, 28, 1), subsampling="average")
    with pytest.raises(ValueError, match=r"Expected head to be one of"):
        small.subsampling_net((28, 28, 1), head="dense")
    with pytest.raises(ValueError, match="Expected three numbers of filters"):
        small.subsampling_net((28, 28, 1), filters=(8, 16))
    with pytest.raises(ValueError, match="Expected an input large enough"):
        small.subsampling_net((10, 10, 1))


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


def test_deep_cnn_structure_strides_and_seeded_kernels():
    keras.backend.clear_session()
    model = models.deep_cnn((28, 28, 1), depth=6, filters=8, init="kaiming", seed=0)
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert len(convs) == 5 and [c.strides for c in convs[:3]] == [(2, 2), (2, 2), (1, 1)]
    assert model.output_shape[1:] == (10,) and convs[-1].output.shape[1:] == (7, 7, 8)
    again = models.deep_cnn((28, 28, 1), depth=6, filters=8, init="kaiming", seed=0)
    np.testing.assert_array_equal(np_(convs[2].kernel), np_(again.get_layer("conv_3").kernel))
    with pytest.raises(ValueError, match="Expected depth >= 2"):
        models.deep_cnn((28, 28, 1), depth=1, filters=8)


def test_towers_compute_and_train_exactly_like_their_plain_nets():
    keras.backend.clear_session()
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((32, 6, 6, 1)).astype("float32"), rng.integers(0, 10, 32)
    acts = ["relu", "tanh", "relu"]
    nets = [models.deep_mlp((6, 6, 1), 3, 8, a, seed=10 * k) for k, a in enumerate(acts)]
    towers = models.tower_mlp((6, 6, 1), 3, 8, 3, activation=acts)
    models.set_tower_weights(towers, nets)
    assert towers.output.shape[1:] == (3, 10)
    for k, net in enumerate(nets):
        np.testing.assert_allclose(np_(towers(x))[:, k], np_(net(x)), rtol=1e-5, atol=1e-5)
    # the summed loss gives each tower its own gradient: one SGD step moves tower k as net k alone
    towers.compile(optimizer=keras.optimizers.SGD(0.1, momentum=0.9), loss=models.tower_loss([1.0, 2.0, 1.0]))
    towers.train_on_batch(x, y)
    for k, net in enumerate(nets):
        net.compile(optimizer=keras.optimizers.SGD(0.1 * (2.0 if k == 1 else 1.0), momentum=0.9),
                    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))  # fmt: skip
        net.train_on_batch(x, y)
        np.testing.assert_allclose(np_(towers(x))[:, k], np_(net(x)), rtol=1e-4, atol=1e-4)


def test_tower_errors():
    towers = models.tower_mlp(4, 2, 8, 2)
    with pytest.raises(ValueError, match="Expected one activation per tower"):
        models.tower_mlp(4, 2, 8, 2, activation=["relu"])
    with pytest.raises(ValueError, match="Expected one net per tower"):
        models.set_tower_weights(towers, [models.deep_mlp(4, 2, 8)])
    with pytest.raises(ValueError, match="Expected a kernel of shape"):
        models.set_tower_weights(towers, [models.deep_mlp(4, 2, 8), models.deep_mlp(4, 2, 5)])
    with pytest.raises(ValueError, match="Expected nets of 2 Dense layers"):
        models.set_tower_weights(towers, [models.deep_mlp(4, 2, 8), models.deep_mlp(4, 3, 8)])


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


def test_multipliers_set_each_stage_width_and_narrowing_the_last_stage_cuts_its_weights():
    myrtle = models.speedrun_net((28, 28, 1), 10, 4, max_shift=None, stem_stride=2)
    narrow = models.speedrun_net((28, 28, 1), 10, 4, max_shift=None, stem_stride=2, multipliers=(1, 2, 4, 4))
    widths = {name: narrow.get_layer(f"{name}_conv").filters for name in ("prep", "layer1", "layer2", "layer3")}
    assert widths == {"prep": 4, "layer1": 8, "layer2": 16, "layer3": 16}
    assert myrtle.get_layer("layer3_conv").filters == 32 and narrow.get_layer("res3_b_conv").filters == 16
    # stage 3 at 32 vs 16 channels: its three 3x3 convs, three BatchNorms (4 vectors each) and the classifier's input
    convs = (9 * 16 * 32 + 2 * 9 * 32 * 32) - (9 * 16 * 16 + 2 * 9 * 16 * 16)
    assert myrtle.count_params() - narrow.count_params() == convs + 3 * 4 * (32 - 16) + (32 - 16) * 10


def test_fashion_mnist_net_whitening_layer_is_frozen_strided_and_augmentation_switches_off():
    kernel = np.random.default_rng(0).standard_normal((3, 3, 1, 9)).astype("float32")
    model = models.speedrun_net((28, 28, 1), 10, 2, whitening=kernel, stem_stride=2)
    whiten = model.get_layer("whiten")
    assert not whiten.trainable and whiten.strides == (2, 2)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(whiten.kernel), kernel)
    assert model.get_layer("prep_conv").output.shape[1:3] == (14, 14)  # 28 -> 14, then 14 -> 7 -> 3
    assert model.get_layer("layer3_conv").output.shape[1:3] == (3, 3) and "layer3_pool" not in [
        layer.name for layer in model.layers
    ]
    images = np.random.default_rng(1).standard_normal((4, 28, 28, 1)).astype("float32")
    augment = model.get_layer("augment")
    augment.active.assign(0.0)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(augment(images, training=True)), images)


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
    with pytest.raises(ValueError, match=r"at least 8.*Received: input_shape=\(6, 6, 1\)"):
        models.speedrun_net((6, 6, 1))
    with pytest.raises(ValueError, match=r"Expected a whitening kernel \(p, p, 1, filters\)"):
        models.speedrun_net((28, 28, 1), whitening=np.zeros((3, 3, 3, 27)))
    with pytest.raises(ValueError, match="Expected width to be a positive integer"):
        models.speedrun_net(width=0)
    with pytest.raises(ValueError, match="Expected num_classes to be an integer >= 2"):
        models.speedrun_net(num_classes=1)
    with pytest.raises(ValueError, match=r"Expected multipliers: 4 positive integers.*Received: \(1, 2, 4\)"):
        models.speedrun_net(multipliers=(1, 2, 4))
    with pytest.raises(ValueError, match="Expected max_shift to be a non-negative integer. Received: max_shift=-1"):
        models.RandomShiftFlip(-1)
