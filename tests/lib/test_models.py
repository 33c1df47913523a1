"""lib.models: LeNet-5 and the lectures' MNIST network - shapes, parameter counts, training, saving, errors."""

import keras
import numpy as np
import pytest

from lib import anatomy, models

BUILDERS = {"lenet5": models.lenet5, "mnist_net": models.mnist_net}


def _hand_count(input_shape, layers):
    return anatomy.totals(anatomy.walk(input_shape, layers))["params"]


def test_mnist_net_is_the_lecture_network():
    keras.backend.clear_session()
    model = models.mnist_net()
    names = [layer.name for layer in model.layers]
    assert names == ["conv1", "pool1", "conv2", "pool2", "flatten", "fc1", "fc2"]
    assert model.get_layer("conv1").output.shape[1:] == (24, 24, 20)   # 28 + 1 - 5
    assert model.get_layer("pool2").output.shape[1:] == (4, 4, 50)     # the deck's view(-1, 4*4*50)
    assert model.get_layer("fc1").count_params() == (4 * 4 * 50 + 1) * 500
    assert model.count_params() == 431_080 == _hand_count((28, 28, 1), models.mnist_net_layers())


def test_lenet5_is_about_sixty_thousand_parameters():
    keras.backend.clear_session()
    model = models.lenet5()
    assert model.get_layer("c1").output.shape[1:] == (28, 28, 6)
    assert model.get_layer("s4").output.shape[1:] == (5, 5, 16)
    assert [type(layer).__name__ for layer in model.layers if "Pool" in type(layer).__name__] == \
        ["AveragePooling2D", "AveragePooling2D"]
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
    rows = anatomy.count(model)
    assert all(r.params == model.get_layer(r.name).count_params() for r in rows[1:])


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
    with pytest.raises(ValueError, match=rf"Expected an input of at least 16x16 for {builder} .*"
                                         r"Received: input_shape=\(15, 15, 1\)"):
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
    with pytest.raises(ValueError, match=r"Expected pooling to be 'max' or 'average'. Received: pooling='l2'"):
        models.lenet5(pooling="l2")
