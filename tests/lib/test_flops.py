"""lib.flops: output sizes, parameter and cost formulas (against Keras layers and the lectures),
and the layer-walking profiler (against model.count_params() and keras.applications)."""

import inspect
import math
import re

import keras
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from keras import layers

from lib import flops, timing, viz
from lib.ops import conv as C

# --------------------------------------------------------------------------------------
# output size
# --------------------------------------------------------------------------------------


def test_lecture_output_sizes():
    assert flops.conv_output_size(32, 5, stride=1, padding=0) == 28  # NTU: (32 - 5 + 0)/1 + 1
    assert flops.conv_output_size(32, 3) == 30  # UPV: I - k + 1
    assert flops.conv_output_size(32, 3, padding=1) == 32  # frame of k//2 zeros keeps the size
    assert flops.conv_output_size(7, 3, stride=2) == 3
    assert flops.conv_output_size(7, 3, stride=3, padding=1) == 3  # floor((7 + 2 - 3)/3 + 1)
    assert flops.conv_output_size(9, 3, stride=2, padding="same") == 5  # ceil(9 / 2)
    assert flops.conv_output_size(10, 3, dilation=2) == 6
    assert flops.conv_output_size(10, 3, padding=(0, 1)) == 9
    assert flops.conv2d_output_shape((64, 48), (5, 3), stride=(2, 1), padding="valid") == (30, 46)


@given(
    size=st.integers(1, 40),
    k=st.integers(1, 7),
    stride=st.integers(1, 4),
    dilation=st.integers(1, 3),
    padding=st.sampled_from(["valid", "same"]),
)
@settings(max_examples=80, deadline=None)
def test_output_size_matches_keras_conv1d(size, k, stride, dilation, padding):
    if stride > 1 and dilation > 1:
        dilation = 1  # Keras refuses both at once
    layer = layers.Conv1D(1, k, strides=stride, dilation_rate=dilation, padding=padding)
    k_eff = dilation * (k - 1) + 1
    if padding == "valid" and k_eff > size:
        with pytest.raises(ValueError, match="larger than the padded input"):
            flops.conv_output_size(size, k, stride, padding, dilation)
        return
    expected = layer.compute_output_shape((None, size, 1))[1]
    assert flops.conv_output_size(size, k, stride, padding, dilation) == expected


@given(size=st.integers(1, 30), k=st.integers(1, 7), stride=st.integers(1, 4), pad=st.integers(0, 4))
@settings(max_examples=80, deadline=None)
def test_output_size_counts_the_kernel_positions(size, k, stride, pad):
    positions = range(0, size + 2 * pad - k + 1, stride)
    if len(positions) == 0:
        with pytest.raises(ValueError):
            flops.conv_output_size(size, k, stride, pad)
    else:
        assert flops.conv_output_size(size, k, stride, pad) == len(positions)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(input_size=8, kernel_size=3, stride=0), "Expected strides to be a positive integer. Received: strides=0"),
        (dict(input_size=5, kernel_size=7), "Kernel of size 7 is larger than the padded input (5)"),
        (
            dict(input_size=5, kernel_size=3, padding=-1),
            "Expected padding to be a non-negative integer. Received: padding=-1",
        ),
        (dict(input_size=5, kernel_size=3, padding=True), "Expected padding to be a non-negative integer"),
        (dict(input_size=0, kernel_size=3), "Expected input_size to be a positive integer. Received: input_size=0"),
        (dict(input_size=5, kernel_size=-2), "Expected kernel_size to be a positive integer. Received: kernel_size=-2"),
        (dict(input_size=5, kernel_size=3, dilation=0), "Expected dilation_rate to be a positive integer"),
        (dict(input_size=5, kernel_size=3, padding="full"), "Expected padding to be 'valid', 'same'"),
        (dict(input_size=5.5, kernel_size=3), "Expected input_size to be a positive integer"),
    ],
)
def test_output_size_errors(kwargs, match):
    with pytest.raises(ValueError, match=re.escape(match)):
        flops.conv_output_size(**kwargs)


def test_receptive_field():
    assert flops.receptive_field([3, 3, 3]) == 7
    assert flops.receptive_field([7]) == 7
    assert flops.receptive_field([3, 3], strides=[2, 1]) == 7
    with pytest.raises(ValueError, match="one stride per kernel"):
        flops.receptive_field([3, 3], strides=[1])
    with pytest.raises(ValueError, match="at least one kernel"):
        flops.receptive_field([])


# --------------------------------------------------------------------------------------
# parameters and cost, against the lectures and against Keras layers
# --------------------------------------------------------------------------------------


def test_ntu_lecture_numbers():
    assert flops.conv2d_params(3, 10, 5) == (5 * 5 * 3 + 1) * 10 == 760
    assert flops.conv2d_flops(3, 1, 5, 28) == 117_600
    d1, f, d2, h2, w2 = 3, 5, 1, 28, 28
    assert flops.conv2d_flops(3, 1, 5, 28) == ((d1 * f**2) + (d1 * f**2 - 1) + 1) * d2 * h2 * w2
    assert flops.conv2d_macs(3, 1, 5, (28, 28)) == 58_800


def test_upv_cost_formula_is_macs():
    # Cost N x O_R x O_C x K_r x K_c x K_M; parameters N x K_r x K_c x K_M + N
    n, o_r, o_c, k_r, k_c, k_m = 64, 30, 30, 3, 3, 3
    assert flops.conv2d_macs(k_m, n, (k_r, k_c), (o_r, o_c)) == n * o_r * o_c * k_r * k_c * k_m
    assert flops.conv2d_params(k_m, n, (k_r, k_c)) == n * k_r * k_c * k_m + n
    # the UPV "as a layer" question: M = 3 maps of 32x32, 64 kernels of 3x3 -> 64@30x30
    assert flops.conv2d_cost((32, 32, 3), 64, 3)["output_shape"] == (30, 30, 64)


def test_upv_exercise_32_at_64x64_same_padding():
    """Input 32@64x64; 'same' padding and stride 1 assumed (the deck does not say)."""
    c5 = flops.conv2d_cost((64, 64, 32), 64, 5, padding="same")
    c3 = flops.conv2d_cost((64, 64, 32), 64, 3, padding="same")
    c3b = flops.conv2d_cost(c3["output_shape"], 64, 3, padding="same")
    assert c5["output_shape"] == c3["output_shape"] == c3b["output_shape"] == (64, 64, 64)
    assert c5["macs"] == 64 * 64 * 64 * 5 * 5 * 32 == 209_715_200
    assert c3["macs"] == 64 * 64 * 64 * 3 * 3 * 32 == 75_497_472
    assert c3["macs"] + c3b["macs"] == 75_497_472 + 150_994_944 == 226_492_416
    assert c5["params"] == 51_264 and c3["params"] == 18_496 and c3b["params"] == 36_928
    # With 'valid' padding the maps shrink instead.
    assert flops.conv2d_cost((64, 64, 32), 64, 5)["output_shape"] == (60, 60, 64)
    assert flops.conv2d_cost((62, 62, 64), 64, 3)["output_shape"] == (60, 60, 64)


def test_three_3x3_versus_one_7x7():
    for c in [1, 16, 64, 512]:
        r = flops.stack_vs_single_params(c)
        assert r["stacked"] == 27 * c * c and r["single"] == 49 * c * c
        assert r["stacked_receptive_field"] == r["single_receptive_field"] == 7
    assert round(flops.stack_vs_single_params(8)["ratio"] - 1, 2) == 0.81  # "81% more"
    # ... and the same with real Keras layers
    c = 8
    stack = keras.Sequential([keras.Input((16, 16, c))] + [layers.Conv2D(c, 3, use_bias=False) for _ in range(3)])
    single = keras.Sequential([keras.Input((16, 16, c)), layers.Conv2D(c, 7, use_bias=False)])
    assert stack.count_params() == 27 * c * c and single.count_params() == 49 * c * c
    assert stack.output_shape == single.output_shape


@pytest.mark.parametrize(
    "cin,cout,k,bias,groups",
    [
        (1, 1, 1, True, 1),
        (3, 10, 5, True, 1),
        (3, 4, (3, 2), False, 1),
        (4, 6, 3, True, 2),
        (8, 8, 3, False, 8),
    ],
)
def test_conv2d_params_and_macs_match_keras(cin, cout, k, bias, groups):
    layer = layers.Conv2D(cout, k, use_bias=bias, groups=groups)
    y = layer(np.zeros((1, 9, 9, cin), "float32"))
    assert flops.conv2d_params(cin, cout, k, bias, groups) == layer.count_params()
    rows = flops.profile(keras.Sequential([keras.Input((9, 9, cin)), layer]))
    assert rows[-1].macs == flops.conv2d_macs(cin, cout, k, tuple(y.shape[1:3]), groups)


@pytest.mark.parametrize(
    "cin,cout,k,m,bias", [(1, 1, 1, 1, True), (3, 8, 3, 1, True), (4, 6, 5, 2, False), (8, 16, (3, 1), 3, True)]
)
def test_depthwise_pointwise_separable_params_match_keras(cin, cout, k, m, bias):
    x = np.zeros((1, 8, 8, cin), "float32")
    dw = layers.DepthwiseConv2D(k, depth_multiplier=m, use_bias=bias)
    dw(x)
    pw = layers.Conv2D(cout, 1, use_bias=bias)
    pw(x)
    sep = layers.SeparableConv2D(cout, k, depth_multiplier=m, use_bias=bias)
    sep(x)
    dense = layers.Dense(cout, use_bias=bias)
    dense(np.zeros((1, cin), "float32"))
    assert flops.depthwise_params(cin, k, m, bias) == dw.count_params()
    assert flops.pointwise_params(cin, cout, bias) == pw.count_params()
    assert flops.separable_params(cin, cout, k, m, bias) == sep.count_params()
    assert flops.dense_params(cin, cout, bias) == dense.count_params()


def test_ntu_depthwise_pointwise_formulas_and_ratio():
    d1, d2, f, h2, w2 = 32, 64, 3, 16, 16
    assert flops.conv2d_flops(d1, d2, f, (h2, w2)) == (2 * d1 * f**2) * d2 * h2 * w2
    assert flops.depthwise_flops(d1, f, (h2, w2)) == (2 * f**2) * d1 * h2 * w2
    assert flops.pointwise_flops(d1, d2, (h2, w2)) == (2 * d1) * d2 * h2 * w2
    assert flops.separable_flops(d1, d2, f, (h2, w2)) == (
        flops.depthwise_flops(d1, f, (h2, w2)) + flops.pointwise_flops(d1, d2, (h2, w2))
    )
    assert flops.dense_flops(100, 10) == 2 * flops.dense_macs(100, 10) == 2000


@pytest.mark.parametrize("d1,d2,f,size", [(3, 8, 3, 10), (32, 64, 3, 16), (16, 256, 3, 7), (8, 24, 5, 9), (4, 4, 1, 3)])
def test_separable_cost_ratio_is_exact(d1, d2, f, size):
    ratio = flops.separable_flops(d1, d2, f, size) / flops.conv2d_flops(d1, d2, f, size)
    assert math.isclose(ratio, flops.separable_cost_ratio(d2, f))
    assert math.isclose(flops.separable_cost_ratio(d2, f), 1 / d2 + 1 / f**2)


def test_separable_ratio_is_roughly_one_eighth_to_one_ninth_for_3x3():
    for d2 in [128, 256, 512, 1024]:
        assert 1 / 9 < flops.separable_cost_ratio(d2, 3) < 1 / 8


@pytest.mark.parametrize(
    "fn,args,match",
    [
        (flops.conv2d_params, (0, 4, 3), "Expected in_channels to be a positive integer"),
        (flops.conv2d_params, (3, 4, 0), "Expected kernel_size to be an integer >= 1 or a pair of them"),
        (flops.conv2d_params, (3, 4, 3, True, 2), "divisible by groups"),
        (flops.conv2d_macs, (3, 4, 3, -1), "Expected output_size to be an integer >= 1 or a pair of them"),
        (flops.conv2d_cost, ((8, 8), 4, 3), "Expected input_shape (height, width, channels)"),
        (
            flops.conv2d_cost,
            ((8, 8, 3), 4, 3, 0),
            "Expected strides to be an integer >= 1 or a pair of them. Received: strides=0",
        ),
        (flops.conv2d_cost, ((4, 4, 3), 4, 5), "Kernel of size 5 is larger than the padded input (4)"),
        (flops.dense_params, (0, 10), "Expected in_features to be a positive integer"),
        (flops.depthwise_params, (3, 3, 0), "Expected depth_multiplier to be a positive integer"),
        (flops.separable_cost_ratio, (0, 3), "Expected out_channels to be a positive integer"),
        (flops.stack_vs_single_params, (-4,), "Expected channels to be a positive integer"),
    ],
)
def test_cost_function_errors(fn, args, match):
    with pytest.raises(ValueError, match=re.escape(match)):
        fn(*args)


# --------------------------------------------------------------------------------------
# profile()
# --------------------------------------------------------------------------------------


def _zoo_model():
    """One of (nearly) every supported layer type, with a nested Sequential and a shared layer."""
    keras.backend.clear_session()
    inp = keras.Input((16, 16, 3), name="image")
    x = layers.Rescaling(1 / 255, name="rescale")(inp)
    x = layers.ZeroPadding2D(1, name="pad")(x)
    x = layers.Conv2D(8, 3, strides=2, name="conv")(x)  # 8x8x8
    x = layers.BatchNormalization(name="bn")(x)
    x = layers.ReLU(name="relu")(x)
    block = keras.Sequential(
        [
            keras.Input((8, 8, 8)),
            layers.DepthwiseConv2D(3, padding="same", name="dw"),
            layers.Conv2D(8, 1, name="pw", activation="relu"),
        ],
        name="block",
    )
    y = block(x)
    y = block(y)  # nested model called twice
    shared = layers.Conv2D(8, 3, padding="same", groups=2, name="grouped")
    a, b = shared(x), shared(y)  # shared layer called twice
    x = layers.Add(name="add")([a, b])
    z = layers.SeparableConv2D(16, 3, padding="same", name="sep")(x)
    z = layers.Conv2DTranspose(4, 2, strides=2, name="up")(z)  # 16x16x4
    z = layers.MaxPooling2D(2, name="maxpool")(z)  # 8x8x4
    z = layers.AveragePooling2D(2, name="avgpool")(z)  # 4x4x4
    c = layers.Concatenate(name="concat")([z, layers.AveragePooling2D(2, name="avgpool2")(x)])
    g = layers.GlobalAveragePooling2D(name="gap")(c)
    f = layers.Flatten(name="flatten")(layers.GlobalMaxPooling2D(name="gmp", keepdims=True)(c))
    h = layers.Concatenate(name="concat2")([g, f])
    h = layers.Dropout(0.5, name="drop")(h)
    h = layers.Dense(10, name="dense")(h)
    h = layers.Dense(20, name="d20")(h)
    seq = layers.Conv1D(4, 3, name="conv1d")(layers.Reshape((5, 4), name="reshape")(h))  # 3x4
    out = layers.Activation("softmax", name="softmax")(layers.Flatten(name="flat2")(seq))
    return keras.Model(inp, out, name="zoo")


@pytest.fixture(scope="module")
def zoo():
    return _zoo_model()


def test_profile_params_match_keras_row_by_row(zoo):
    rows = flops.profile(zoo)
    by_name = {r.name: r for r in rows}
    for layer in zoo.layers:
        if isinstance(layer, keras.Model):
            for inner in layer.layers:
                assert by_name[f"{layer.name}/{inner.name}"].params == inner.count_params()
        else:
            assert by_name[layer.name].params == layer.count_params()
    assert flops.summarize(rows)["params"] == zoo.count_params()


def test_profile_costs_by_hand(zoo):
    r = {row.name: row for row in flops.profile(zoo)}
    assert r["image"].activations == 16 * 16 * 3 and r["image"].macs == 0
    assert r["conv"].output_shape == (None, 8, 8, 8)
    assert r["conv"].macs == 8 * 8 * 8 * 3 * 3 * 3 and r["conv"].flops == 2 * r["conv"].macs
    assert r["rescale"].flops == 2 * 16 * 16 * 3
    assert r["pad"].flops == 0 and r["pad"].activations == 18 * 18 * 3
    assert r["bn"].flops == 2 * 8 * 8 * 8 and r["bn"].params == 4 * 8
    assert r["relu"].flops == 8 * 8 * 8
    # nested model called twice: costs doubled, parameters once
    assert r["block/dw"].calls == 2 and r["block/dw"].macs == 2 * 8 * 8 * 8 * 9
    assert r["block/pw"].macs == 2 * 8 * 8 * 8 * 8
    # shared grouped conv: two calls, 4 input channels per group
    assert r["grouped"].calls == 2 and r["grouped"].macs == 2 * 8 * 8 * 8 * 9 * 4
    assert r["grouped"].params == 9 * 4 * 8 + 8
    assert r["add"].flops == 8 * 8 * 8
    assert r["sep"].macs == flops.separable_macs(8, 16, 3, 8)
    assert r["up"].macs == 8 * 8 * 16 * 2 * 2 * 4 and r["up"].output_shape == (None, 16, 16, 4)
    assert r["maxpool"].flops == 8 * 8 * 4 * 3
    assert r["avgpool"].flops == 4 * 4 * 4 * 4
    assert r["gap"].flops == 4 * 4 * 12 and r["gmp"].flops == 4 * 4 * 12 - 12
    assert r["concat"].flops == r["flatten"].flops == r["drop"].flops == r["reshape"].flops == 0
    assert r["dense"].macs == 24 * 10
    assert r["conv1d"].macs == 3 * 4 * 4 * 3 and r["conv1d"].params == 3 * 4 * 4 + 4
    assert r["softmax"].flops == 12


def test_summarize_and_format(zoo):
    rows = flops.profile(zoo)
    totals = flops.summarize(rows)
    assert totals["macs"] == sum(r.macs for r in rows)
    assert totals["flops"] == sum(r.flops for r in rows)
    assert totals["activations"] == sum(r.activations for r in rows) - 16 * 16 * 3
    assert totals["layers"] == len(rows) - 1
    text = flops.format_profile(rows, max_rows=6)
    assert "total" in text and f"{totals['params']:,}" in text and "..." in text


def test_profile_errors():
    keras.backend.clear_session()
    m = keras.Sequential([keras.Input((5,)), layers.Embedding(10, 3, name="emb")])
    with pytest.raises(ValueError, match="no cost rule for layer 'emb' of class Embedding"):
        flops.profile(m)
    with pytest.raises(ValueError, match="Expected a built model"):
        flops.profile(keras.Sequential([layers.Dense(3)]))
    with pytest.raises(ValueError, match="Expected a keras.Model"):
        flops.profile(layers.Dense(3))
    with pytest.raises(ValueError, match="needs fully defined shapes"):
        flops.profile(keras.Sequential([keras.Input((None, None, 3)), layers.Conv2D(2, 3)]))

    class Scaled(layers.Conv2D):
        def build(self, input_shape):
            super().build(input_shape)
            self.alpha = self.add_weight(name="alpha", shape=(), initializer="ones")

    with pytest.raises(ValueError, match="counted .* parameters for layer 'scaled'"):
        flops.profile(keras.Sequential([keras.Input((6, 6, 1)), Scaled(2, 3, name="scaled")]))


def test_profile_counts_unknown_weightless_layers_as_zero_with_a_note():
    class Double(layers.Layer):
        def call(self, x):
            return 2 * x

    keras.backend.clear_session()
    rows = flops.profile(keras.Sequential([keras.Input((4,)), Double(name="double")]))
    assert rows[-1].flops == 0 and "not counted" in rows[-1].note


# --------------------------------------------------------------------------------------
# keras.applications (weights=None: offline)
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def applications(shapes_only):
    out = {}
    for name in ["VGG16", "ResNet50", "MobileNet"]:
        keras.backend.clear_session()
        with shapes_only():  # counts and profiles need the weights' shapes only
            model = getattr(keras.applications, name)(weights=None, input_shape=(224, 224, 3), include_top=True)
        out[name] = (model.count_params(), flops.profile(model))
        del model
    keras.backend.clear_session()
    return out


@pytest.mark.parametrize("name", ["VGG16", "ResNet50", "MobileNet"])
def test_application_params_equal_count_params(applications, name):
    count, rows = applications[name]
    assert flops.summarize(rows)["params"] == count


def test_vgg16(applications):
    count, rows = applications["VGG16"]
    assert count == 138_357_544
    totals = flops.summarize(rows)
    # computed: 15,470,264,320 multiply-adds (about 15.5 billion, as usually quoted)
    assert totals["macs"] == 15_470_264_320
    assert 15.3e9 < totals["macs"] < 15.6e9
    r = {row.name: row for row in rows}
    assert r["block1_conv1"].macs == 224 * 224 * 64 * 3 * 3 * 3
    assert r["block1_conv1"].params == 1_792
    assert r["fc1"].params == 7 * 7 * 512 * 4096 + 4096 == 102_764_544
    assert r["block5_pool"].activations == 7 * 7 * 512  # the CS182 table's 25K


def test_resnet50_macs_match_the_papers_3_8_billion(applications):
    _, rows = applications["ResNet50"]
    totals = flops.summarize(rows)
    # He et al. quote 3.8 x 10^9 "FLOPs" meaning multiply-adds; Keras's ResNet50 (biases, 1000-way fc):
    assert totals["macs"] == 3_857_973_248
    assert 3.8e9 <= totals["macs"] <= 4.1e9
    assert totals["flops"] > 2 * totals["macs"]  # elementwise BN/ReLU/Add work on top


def test_mobilenet_macs_match_the_papers_569_million(applications):
    count, rows = applications["MobileNet"]
    totals = flops.summarize(rows)
    assert count == 4_253_864
    assert totals["macs"] == 568_740_352  # Howard et al. (2017), table: 569 million mult-adds
    types = {r.type for r in rows}
    assert {"DepthwiseConv2D", "Conv2D", "BatchNormalization", "ReLU"} <= types


# --------------------------------------------------------------------------------------
# docstrings and the benchmark helper (structure only: timings are never asserted)
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("module", [flops, C, timing])
def test_every_public_function_names_its_notebook(module):
    for name in module.__all__:
        obj = getattr(module, name)
        if callable(obj) and (inspect.isfunction(obj) or inspect.isclass(obj)):
            doc = inspect.getdoc(obj) or ""
            if module is timing:  # lib.timing serves several notebooks (pooling, augmentation, ...)
                assert re.search(r"Introduced in notebook \d\d \(.+\)\.", doc), name
            else:
                assert "Introduced in notebook 01 (convolution)." in doc, name
    for name in ["profile", "summarize", "format_profile", "LayerProfile"]:
        assert "Also used in notebook 08." in inspect.getdoc(getattr(flops, name))


def test_conv_benchmark_rows():
    rows = timing.conv_benchmark(size=8, in_channels=2, out_channels=3, repeats=1)
    assert [r["method"] for r in rows] == ["keras.ops.conv", "direct", "im2col", "fft", "winograd"]
    for r in rows:
        assert set(r) == {"method", "shape", "seconds", "ratio", "max_abs_error"}
        assert r["seconds"] >= 0 and r["max_abs_error"] < 1e-4
    assert rows[0]["shape"] == "1x8x8x2 -> 1x8x8x3"
    rows = timing.conv_benchmark(methods=["im2col", "winograd"], size=8, kernel_size=5, repeats=1)
    assert [r["method"] for r in rows] == ["keras.ops.conv", "im2col"]  # winograd skipped: 3x3 only
    assert "method" in viz.table(rows)
    with pytest.raises(ValueError, match="unknown"):
        timing.conv_benchmark(methods=["magic"])


def test_sequential_profile_gets_an_input_row_like_functional():
    keras.backend.clear_session()
    seq = keras.Sequential([keras.Input((8, 8, 1), name="img"), layers.Conv2D(2, 3, name="c")])
    rows = flops.profile(seq)
    assert [r.type for r in rows] == ["InputLayer", "Conv2D"]
    assert rows[0].activations == 64 and rows[0].output_shape == (None, 8, 8, 1)
    assert [r.type for r in flops.profile(seq, include_input=False)] == ["Conv2D"]
