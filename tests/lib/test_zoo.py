"""Tests for lib.models.zoo: parameter counts equal keras.applications, published costs, shapes, errors."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from lib import flops
from lib.models import zoo

# --------------------------------------------------------------------------- #
# equal to keras.applications (weights=None, nothing downloaded); big models built once
# --------------------------------------------------------------------------- #
KERAS_APPS = {
    "vgg16": keras.applications.VGG16,
    "resnet50": keras.applications.ResNet50,
    "densenet121": keras.applications.DenseNet121,
    "mobilenet": keras.applications.MobileNet,
}


@pytest.fixture(scope="module")
def vgg16(shapes_only):
    with shapes_only():  # structure-only tests: weight shapes, no values (see tests/lib/conftest.py)
        return zoo.build("vgg16")


@pytest.fixture(scope="module")
def vgg16_rows(vgg16):
    return flops.profile(vgg16)


@pytest.mark.parametrize("name", sorted(KERAS_APPS))
def test_param_count_equals_keras_applications(name, vgg16, shapes_only):
    with shapes_only():
        ours = vgg16 if name == "vgg16" else zoo.build(name)
        reference = KERAS_APPS[name](weights=None)
    assert ours.count_params() == reference.count_params()
    assert ours.output_shape == reference.output_shape


@pytest.mark.parametrize(
    "name,expected", [("vgg19", 143_667_240), ("resnet101", 44_707_176), ("resnet152", 60_419_944)]
)
def test_param_count_other_keras_models(name, expected, shapes_only):
    # the counts keras.applications gives for VGG19 / ResNet101 / ResNet152 with weights=None
    with shapes_only():
        assert zoo.build(name).count_params() == expected


# --------------------------------------------------------------------------- #
# the lectures' VGG-16 table (CS182 deck), layer by layer
# --------------------------------------------------------------------------- #
VGG_TABLE = [  # (layer, memory = activations, params without biases)
    ("block1_conv1", 224 * 224 * 64, 3 * 3 * 3 * 64),
    ("block1_conv2", 224 * 224 * 64, 3 * 3 * 64 * 64),
    ("block1_pool", 112 * 112 * 64, 0),
    ("block2_conv1", 112 * 112 * 128, 3 * 3 * 64 * 128),
    ("block2_conv2", 112 * 112 * 128, 3 * 3 * 128 * 128),
    ("block2_pool", 56 * 56 * 128, 0),
    ("block3_conv1", 56 * 56 * 256, 3 * 3 * 128 * 256),
    ("block3_conv3", 56 * 56 * 256, 3 * 3 * 256 * 256),
    ("block4_conv1", 28 * 28 * 512, 3 * 3 * 256 * 512),
    ("block5_conv3", 14 * 14 * 512, 3 * 3 * 512 * 512),
    ("block5_pool", 7 * 7 * 512, 0),
    ("fc1", 4096, 7 * 7 * 512 * 4096),
    ("fc2", 4096, 4096 * 4096),
    ("predictions", 1000, 4096 * 1000),
]


@pytest.mark.parametrize("layer,memory,weights", VGG_TABLE)
def test_vgg16_table_rows(vgg16_rows, layer, memory, weights):
    row = next(r for r in vgg16_rows if r.name == layer)
    assert row.activations == memory
    bias = row.output_shape[-1] if weights else 0
    assert row.params == weights + bias


def test_vgg16_totals_and_where_memory_and_params_live(vgg16_rows):
    total = flops.summarize(vgg16_rows)
    assert total["params"] == 138_357_544
    assert total["macs"] == 15_470_264_320
    # the table's rows sum to ~15.2M values (with the input), ~61 MB at 4 bytes, per image, forward only
    with_input = total["activations"] + 224 * 224 * 3
    assert 15.2e6 < with_input < 15.3e6
    convs = [r for r in vgg16_rows if r.type == "Conv2D"]
    fcs = [r for r in vgg16_rows if r.type == "Dense"]
    assert sum(r.activations for r in convs[:4]) > 0.5 * total["activations"]  # early convs: most memory
    assert sum(r.params for r in fcs) > 0.85 * total["params"]  # late FCs: most parameters


# --------------------------------------------------------------------------- #
# published costs
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("depth,gmacs", [(18, 1.8), (34, 3.6), (50, 3.8), (101, 7.6), (152, 11.3)])
def test_resnet_multiply_adds_match_the_paper(depth, gmacs, shapes_only):
    with shapes_only():
        macs = flops.summarize(flops.profile(zoo.build(f"resnet{depth}")))["macs"]
    assert abs(macs / 1e9 - gmacs) / gmacs < 0.10


def test_alexnet_params_and_first_layer(shapes_only):
    with shapes_only():
        model, ungrouped = zoo.alexnet(), zoo.alexnet(groups=1)
    assert model.get_layer("conv1").output.shape[1:] == (55, 55, 96)
    assert model.get_layer("conv1").count_params() == 11 * 11 * 3 * 96 + 96 == 34_944
    assert 60e6 < model.count_params() < 62e6  # the paper's ~61M (two-GPU groups)
    assert model.count_params() == 60_965_224
    assert ungrouped.count_params() == 62_378_344


def test_googlenet_has_about_12x_fewer_params_than_alexnet(shapes_only):
    with shapes_only():
        ratio = zoo.alexnet().count_params() / zoo.googlenet().count_params()
    assert 8.0 < ratio < 13.0  # computed ~8.7 (7.0M with its FC); the decks say "12x" (5M)


def test_inception_reductions_save_compute():
    def module_macs(naive):
        inputs = keras.Input((28, 28, 256))
        out = zoo.inception_module(inputs, 128, 64, 192, 64, 96, 64, name="m", naive=naive)
        return flops.summarize(flops.profile(keras.Model(inputs, out)))["macs"], out.shape[-1]

    naive, naive_ch = module_macs(True)
    reduced, reduced_ch = module_macs(False)
    assert naive == 28 * 28 * 256 * (128 * 1 + 192 * 9 + 96 * 25) == 854_196_224
    assert naive_ch == 128 + 192 + 96 + 256
    assert reduced_ch == 128 + 192 + 96 + 64
    assert reduced < naive / 2


def test_mobilenet_cost_and_separable_saving(shapes_only):
    with shapes_only():
        sep = flops.summarize(flops.profile(zoo.mobilenet()))
        std = flops.summarize(flops.profile(zoo.mobilenet(separable=False)))
    assert 560e6 < sep["macs"] < 580e6  # the paper's 569M mult-adds
    assert std["macs"] > 8 * sep["macs"]  # the paper: 4866M vs 569M
    assert 4.2e6 < sep["params"] < 4.3e6


# --------------------------------------------------------------------------- #
# every builder: shape, width, a forward pass, a training step on small inputs
# --------------------------------------------------------------------------- #
SMALL = {"alexnet": (67, 67, 3), "cifar_resnet": (16, 16, 3)}


@pytest.mark.backend_independent(
    "Keras's layers assembled; lib's own (ChannelPad, ShortcutGate) run in models in this file's other tests"
)
@pytest.mark.parametrize(
    "name",
    ["alexnet", "vgg11", "vgg13", "googlenet", "resnet18", "resnet34", "densenet121", "mobilenet", "cifar_resnet"],
)
def test_builders_small_input_forward(name, forward):
    shape = SMALL.get(name, (32, 32, 3))
    model = zoo.build(name, input_shape=shape, num_classes=5)
    x = np.random.default_rng(0).random((2, *shape), dtype=np.float32)
    y = forward(model, x)
    assert y.shape == (2, 5)
    np.testing.assert_allclose(y.sum(axis=1), 1.0, rtol=1e-5)
    names = [layer.name for layer in model.layers]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("name", ["vgg11", "resnet18", "mobilenet", "googlenet"])
def test_width_multiplier_shrinks_the_model(name, shapes_only):
    with shapes_only():
        full = zoo.build(name, input_shape=(32, 32, 3), num_classes=10)
        half = zoo.build(name, input_shape=(32, 32, 3), num_classes=10, width=0.5)
    assert half.count_params() < 0.4 * full.count_params()


@pytest.mark.parametrize("option", ["A", "B", "C"])
def test_resnet_shortcut_options(option, shapes_only):
    with shapes_only():
        model = zoo.resnet(18, input_shape=(32, 32, 3), num_classes=10, shortcut=option)
    projections = [layer for layer in model.layers if layer.name.endswith("_0_conv")]
    assert len(projections) == {"A": 0, "B": 3, "C": 8}[option]
    pads = [layer for layer in model.layers if isinstance(layer, zoo.ChannelPad)]
    assert len(pads) == (3 if option == "A" else 0)


def test_cifar_resnet_plain_vs_residual_and_training_step():
    residual = zoo.cifar_resnet(20, input_shape=(16, 16, 3), width=0.5)
    plain = zoo.cifar_resnet(20, input_shape=(16, 16, 3), width=0.5, residual=False)
    assert residual.count_params() == plain.count_params()  # option A shortcuts add no weights
    assert sum(isinstance(layer, keras.layers.Add) for layer in residual.layers) == 9
    assert not any(isinstance(layer, keras.layers.Add) for layer in plain.layers)
    convs = [layer for layer in residual.layers if isinstance(layer, keras.layers.Conv2D)]
    assert len(convs) + 1 == 20  # 19 convolutions + 1 FC
    residual.compile("sgd", "sparse_categorical_crossentropy")
    x = np.random.default_rng(0).random((8, 16, 16, 3), dtype=np.float32)
    before = [w.copy() for w in residual.get_weights()]
    residual.train_on_batch(x, np.arange(8) % 10)
    assert any(not np.allclose(a, b) for a, b in zip(before, residual.get_weights(), strict=True))


def test_densenet_channel_growth(shapes_only):
    with shapes_only():
        model = zoo.densenet(input_shape=(32, 32, 3), num_classes=10)
    # block 1: 64 + 6 x 32 = 256 channels, halved by the transition
    assert model.get_layer("conv2_block6_concat").output.shape[-1] == 64 + 6 * 32
    assert model.get_layer("pool2_conv").output.shape[-1] == 128
    assert model.get_layer("conv5_block16_concat").output.shape[-1] == 1024


# --------------------------------------------------------------------------- #
# ChannelPad layer and saving
# --------------------------------------------------------------------------- #
def test_channel_pad_layer(tmp_path):
    layer = zoo.ChannelPad(3, name="pad")
    x = np.random.default_rng(0).random((2, 4, 4, 2), dtype=np.float32)
    y = keras.ops.convert_to_numpy(layer(x))
    np.testing.assert_array_equal(y, np.concatenate([x, np.zeros((2, 4, 4, 3), np.float32)], axis=-1))
    assert layer.compute_output_shape((None, 4, 4, 2)) == (None, 4, 4, 5)
    assert zoo.ChannelPad.from_config(layer.get_config()).extra == 3
    model = zoo.cifar_resnet(8, input_shape=(8, 8, 3), shortcut="A")
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    xs = np.random.default_rng(1).random((2, 8, 8, 3), dtype=np.float32)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loaded(xs)), keras.ops.convert_to_numpy(model(xs)), atol=1e-6)
    with pytest.raises(ValueError, match="Expected extra to be a non-negative integer"):
        zoo.ChannelPad(-1)


# --------------------------------------------------------------------------- #
# bad configurations
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: zoo.build("vgg17"), "Unknown model name 'vgg17'"),
        (lambda: zoo.vgg(17), r"Expected depth to be one of \[11, 13, 16, 19\]"),
        (lambda: zoo.resnet(20), r"Expected depth to be one of \[18, 34, 50, 101, 152\]"),
        (lambda: zoo.densenet(100), "Expected depth to be one of"),
        (lambda: zoo.cifar_resnet(True), "Expected depth to be an integer >= 8"),
        (lambda: zoo.cifar_resnet(21), "Expected depth = 6n"),
        (lambda: zoo.build("vgg16", input_shape=(16, 16, 3)), "at least 32x32 for VGG-16"),
        (lambda: zoo.build("resnet50", input_shape=(31, 31, 3)), "at least 32x32 for ResNet-50"),
        (lambda: zoo.alexnet(input_shape=(64, 64, 3)), "at least 67x67 for AlexNet"),
        (lambda: zoo.build("mobilenet", num_classes=0), "Expected num_classes to be an integer >= 2"),
        (
            lambda: zoo.build("vgg11", num_classes=1),
            r"Expected num_classes to be an integer >= 2. Received: num_classes=1",
        ),
        (lambda: zoo.build("resnet18", width=0), r"Expected width > 0. Received: width=0"),
        (lambda: zoo.build("googlenet", width=-0.5), r"Expected width > 0"),
        (lambda: zoo.build("resnet18", shortcut="D"), r"Expected shortcut to be one of \['A', 'B', 'C'\]"),
        (lambda: zoo.build("vgg11", input_shape=(32, 32)), "Expected input_shape"),
        (lambda: zoo.densenet(growth_rate=0), "Expected growth_rate"),
    ],
)
def test_bad_configurations_raise(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.backend_independent("the rows of a benchmark table; the models' forward passes are tested above")
def test_zoo_benchmark_rows():
    rows = zoo.zoo_benchmark(names=("mobilenet", "cifar_resnet"), input_size=32, repeats=1)
    assert [r["model"] for r in rows] == ["mobilenet", "cifar_resnet"]
    assert all(r["seconds"] > 0 and r["images_per_s"] > 0 for r in rows)


# --------------------------------------------------------------------------- #
# the experiments' helpers: ShortcutGate, cifar_resnet's options, norm_convnet, reinitialize
# --------------------------------------------------------------------------- #
def test_shortcut_gate_switches_one_model_between_plain_and_residual():
    keras.utils.set_random_seed(0)
    gated = zoo.cifar_resnet(8, input_shape=(16, 16, 1), width=0.5, stem_stride=2, bn_momentum=0.9, shortcut_gate=True)
    plain = zoo.cifar_resnet(8, input_shape=(16, 16, 1), width=0.5, stem_stride=2, residual=False)
    residual = zoo.cifar_resnet(8, input_shape=(16, 16, 1), width=0.5, stem_stride=2)
    assert gated.get_layer("conv1_conv").output.shape[1:3] == (8, 8)  # the stem halves the image
    assert all(bn.momentum == 0.9 for bn in gated.layers if isinstance(bn, keras.layers.BatchNormalization))
    assert gated.count_params() == residual.count_params() + 3  # one non-trainable gate per block
    x = np.random.default_rng(0).random((4, 16, 16, 1), dtype=np.float32)
    weights = {w.path.split("/")[-2] + w.name: keras.ops.convert_to_numpy(w) for w in gated.weights}
    for other in (plain, residual):  # copy the gated model's weights by layer name
        for layer in other.layers:
            for w in layer.weights:
                w.assign(weights[layer.name + w.name])
    assert zoo.set_shortcut_gate(gated, 0.0) == 3
    np.testing.assert_allclose(gated.predict(x, verbose=0), plain.predict(x, verbose=0), rtol=1e-5, atol=1e-6)
    zoo.set_shortcut_gate(gated, 1.0)
    np.testing.assert_allclose(gated.predict(x, verbose=0), residual.predict(x, verbose=0), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="Expected a model with ShortcutGate layers"):
        zoo.set_shortcut_gate(plain, 1.0)
    with pytest.raises(ValueError, match="Expected residual=True with shortcut_gate=True"):
        zoo.cifar_resnet(8, residual=False, shortcut_gate=True)


@pytest.mark.parametrize("norm", sorted(zoo.NORMALIZATIONS, key=str))
def test_norm_convnet_layers(norm):
    model = zoo.norm_convnet(norm, widths=(4, 8), hidden=8, groups=2)
    kinds = {type(layer).__name__ for layer in model.layers}
    expected = {None: set(), "batch": {"BatchNormalization"}, "group": {"GroupNormalization"}}.get(
        norm, {"GroupNormalization"}
    )
    assert expected <= kinds and (norm is not None or not kinds & {"BatchNormalization", "GroupNormalization"})
    assert all(layer.use_bias == (norm is None) for layer in model.layers if isinstance(layer, keras.layers.Conv2D))
    assert model.output.shape[1:] == (10,) and model.get_layer("conv1").output.shape[1:] == (7, 7, 8)
    if norm == "layer":
        assert model.get_layer("norm0").groups == 1


def test_norm_convnet_noise_and_ghost_batch():
    from lib import norm as lib_norm

    noisy = zoo.norm_convnet("batch", widths=(4,), hidden=8, shift_noise=0.5)
    assert sum(isinstance(layer, lib_norm.CovariateShiftNoise) for layer in noisy.layers) == 2
    ghost = zoo.norm_convnet("batch", widths=(4,), hidden=8, virtual_batch_size=2)
    assert ghost.get_layer("norm0").virtual_batch_size == 2
    for kwargs, match in (
        ({"norm": "group", "shift_noise": 0.5}, "Expected norm='batch'"),
        ({"norm": "batch", "widths": ()}, "Expected widths"),
        ({"norm": "group", "widths": (6,), "groups": 4}, "Expected groups to divide"),
        ({"norm": "instance"}, "Expected norm to be one of"),
    ):
        with pytest.raises(ValueError, match=match):
            zoo.norm_convnet(**kwargs)


def test_reinitialize_is_seeded_and_resets_the_optimizer():
    model = zoo.norm_convnet("batch", widths=(4, 8), hidden=8)
    model.compile(keras.optimizers.SGD(0.1, momentum=0.9), "sparse_categorical_crossentropy")
    x, y = np.random.default_rng(0).random((8, 28, 28, 1), dtype=np.float32), np.arange(8) % 10
    zoo.reinitialize(model, 3)
    first = [w.copy() for w in model.get_weights()]
    model.train_on_batch(x, y)
    zoo.reinitialize(model, 3)
    for a, b in zip(first, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    slots = [v for v in model.optimizer.variables if "learning_rate" not in v.path]
    assert slots and all(not np.any(keras.ops.convert_to_numpy(v)) for v in slots)
    assert float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)) == pytest.approx(0.1)
    zoo.reinitialize(model, 4)
    assert not np.allclose(first[0], model.get_weights()[0])
    zoo.reinitialize(model, 3, kernel_std=0.01)
    assert abs(float(keras.ops.convert_to_numpy(model.get_layer("conv1").kernel).std()) - 0.01) < 0.003
    with pytest.raises(ValueError, match="Expected kernel_std > 0"):
        zoo.reinitialize(model, 0, kernel_std=0)
