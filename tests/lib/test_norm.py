"""lib.norm against independent references: NumPy, keras.layers.Normalization/BatchNormalization/
LayerNormalization/GroupNormalization/SpectralNormalization, autodiff (lib.autodiff, any backend), central differences
and np.linalg.svd, over grids of shapes and hyper-parameters."""

import itertools

import keras
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from lib import autodiff, gradcheck, norm

RTOL = ATOL = 1e-4


def np_(x):
    return keras.ops.convert_to_numpy(x)


def rand(shape, seed=0, loc=0.0, scale=1.0):
    return np.random.default_rng(seed).normal(loc, scale, shape).astype("float32")


# --------------------------------------------------------------------------------------
# input normalization
# --------------------------------------------------------------------------------------
IMAGES = np.random.default_rng(1).uniform(0, 1, (20, 6, 5, 3)).astype("float32") * [1.0, 0.5, 2.0] + [0, 0.3, -1]


def test_input_statistics_against_numpy():
    mean, std = norm.input_statistics(IMAGES, "mean_image")
    np.testing.assert_allclose(mean, IMAGES.mean(0), rtol=1e-6)
    assert mean.shape == (6, 5, 3) and np.all(std == 1)
    mean, std = norm.input_statistics(IMAGES, "channel_mean")
    np.testing.assert_allclose(mean, IMAGES.reshape(-1, 3).mean(0), rtol=1e-6)
    assert mean.shape == (3,) and np.all(std == 1)
    mean, std = norm.input_statistics(IMAGES, "channel_mean_std")
    np.testing.assert_allclose(std, IMAGES.reshape(-1, 3).std(0), rtol=1e-6)
    mean, std = norm.input_statistics(IMAGES, "none")
    assert np.all(mean == 0) and np.all(std == 1)


@pytest.mark.parametrize("mode, axis", [("channel_mean_std", -1), ("mean_image", (1, 2, 3))])
def test_input_statistics_match_keras_normalization_adapt(mode, axis):
    layer = keras.layers.Normalization(axis=axis)
    layer.adapt(IMAGES)
    mean, std = norm.input_statistics(IMAGES, mode)
    np.testing.assert_allclose(np_(layer.mean).reshape(mean.shape), mean, rtol=1e-5, atol=1e-6)
    if mode == "channel_mean_std":
        np.testing.assert_allclose(np.sqrt(np_(layer.variance)).reshape(std.shape), std, rtol=1e-5)
        ours = norm.apply_input_normalization(IMAGES, mean, std)
        np.testing.assert_allclose(np_(layer(IMAGES)), ours, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("mode", ["mean_image", "channel_mean", "channel_mean_std"])
def test_apply_input_normalization_centres(mode):
    out = norm.apply_input_normalization(IMAGES, *norm.input_statistics(IMAGES, mode))
    axes = 0 if mode == "mean_image" else (0, 1, 2)
    np.testing.assert_allclose(out.mean(axis=axes), 0, atol=1e-5)
    if mode == "channel_mean_std":
        np.testing.assert_allclose(out.std(axis=axes), 1, rtol=1e-5)


def test_input_statistics_bad_arguments():
    with pytest.raises(ValueError, match="Expected mode in"):
        norm.input_statistics(IMAGES, "zca")
    with pytest.raises(ValueError, match="Expected a batch of images"):
        norm.input_statistics(np.ones(3), "channel_mean")
    with pytest.raises(ValueError, match="Expected std > 0"):
        norm.apply_input_normalization(IMAGES, 0, np.zeros(3))


# --------------------------------------------------------------------------------------
# batch norm forward and backward (NumPy)
# --------------------------------------------------------------------------------------
SHAPES = [(8, 5), (4, 3, 3, 2), (2, 5, 4, 3), (16, 1)]


@pytest.mark.parametrize("shape, epsilon", itertools.product(SHAPES, [1e-3, 1e-5, 0.5]))
def test_forward_matches_keras_batchnorm_training(shape, epsilon):
    x = rand(shape, seed=len(shape), loc=2.0, scale=3.0)
    c = shape[-1]
    gamma, beta = rand((c,), 1), rand((c,), 2)
    y, cache = norm.batch_norm_forward(x, gamma, beta, epsilon)
    bn = keras.layers.BatchNormalization(epsilon=epsilon)
    bn.build(shape)
    bn.set_weights([gamma, beta, np.zeros(c), np.ones(c)])
    np.testing.assert_allclose(y, np_(bn(x, training=True)), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(cache["mu"], x.reshape(-1, c).mean(0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(cache["var"], x.reshape(-1, c).var(0), rtol=1e-5)


def _tape_grads(x, gamma, beta, dy, epsilon):
    """Autodiff (float64, any backend): dl/dx, dl/dgamma, dl/dbeta of l = sum(dy * BN(x)), and dl/dvar,
    dl/dmu with mu, var as the independent intermediate variables of the lecture's graph."""
    ops = keras.ops
    axes = tuple(range(x.ndim - 1))
    xv, gv, bv = (keras.Variable(np.asarray(a, np.float64), dtype="float64") for a in (x, gamma, beta))
    dyt = ops.convert_to_tensor(np.asarray(dy, np.float64))

    n = int(np.prod([x.shape[a] for a in axes]))

    def loss():  # sum / n, not ops.mean: on JAX, Keras reduces float64 means in float32
        mu = ops.sum(xv, axes) / n
        var = ops.sum(ops.square(xv - mu), axes) / n
        return ops.sum(dyt * (gv * (xv - mu) / ops.sqrt(var + epsilon) + bv))

    _, (dx, dg, db) = autodiff.value_and_grads(loss, [xv, gv, bv])
    x64 = np.asarray(x, np.float64)
    mu_v = keras.Variable(x64.mean(axes), dtype="float64")
    var_v = keras.Variable(x64.var(axes), dtype="float64")

    def loss_given_statistics():
        return ops.sum(dyt * (gv * (xv - mu_v) / ops.sqrt(var_v + epsilon) + bv))

    _, (dmu, dvar) = autodiff.value_and_grads(loss_given_statistics, [mu_v, var_v])
    return {"dx": dx, "dgamma": dg, "dbeta": db, "dmu": dmu, "dvar": dvar}


@pytest.mark.parametrize("shape, epsilon", itertools.product(SHAPES, [1e-3, 1e-5]))
def test_backward_matches_gradient_tape(shape, epsilon):
    x = rand(shape, 3, loc=1.0, scale=2.0).astype(np.float64)
    c = shape[-1]
    gamma, beta, dy = rand((c,), 4), rand((c,), 5), rand(shape, 6)
    _, cache = norm.batch_norm_forward(x, gamma, beta, epsilon)
    ours = norm.batch_norm_backward(dy, cache)
    ref = _tape_grads(x, gamma, beta, dy, epsilon)
    for key, value in ref.items():
        np.testing.assert_allclose(ours[key], np_(value), rtol=1e-7, atol=1e-9, err_msg=key)


@pytest.mark.parametrize("shape", [(6, 3), (3, 2, 2, 2)])
def test_backward_matches_central_differences(shape):
    x = rand(shape, 7, loc=-1.0, scale=2.0).astype(np.float64)
    c = shape[-1]
    gamma, beta, dy = rand((c,), 8), rand((c,), 9), rand(shape, 10)
    eps = 1e-3
    grads = norm.batch_norm_backward(dy, norm.batch_norm_forward(x, gamma, beta, eps)[1])

    def loss(x_=x, g=gamma, b=beta):
        return np.sum(dy * norm.batch_norm_forward(x_, g, b, eps)[0])

    for key, numeric in (
        ("dx", gradcheck.numerical_gradient(lambda a: loss(x_=a), x)),
        ("dgamma", gradcheck.numerical_gradient(lambda a: loss(g=a), gamma)),
        ("dbeta", gradcheck.numerical_gradient(lambda a: loss(b=a), beta)),
    ):
        np.testing.assert_allclose(grads[key], numeric, rtol=1e-5, atol=1e-7, err_msg=key)


def test_backward_laws():
    """dx sums to zero per channel and is orthogonal to x_hat: shifting or scaling a channel's inputs
    does not change BN's output, so the gradient has no component along those directions."""
    x, dy = rand((10, 4), 11, loc=3.0), rand((10, 4), 12)
    _, cache = norm.batch_norm_forward(x, np.ones(4), np.zeros(4), epsilon=1e-12)  # exact invariance needs eps -> 0
    g = norm.batch_norm_backward(dy, cache)
    np.testing.assert_allclose(g["dx"].sum(0), 0, atol=1e-9)
    np.testing.assert_allclose((g["dx"] * cache["x_hat"]).sum(0), 0, atol=1e-6)
    # the term the lecture's dl/dmu leaves out, dl/dvar * sum(-2 (x - mu)) / m, is zero
    np.testing.assert_allclose(g["dvar"] * np.sum(-2 * (cache["x"] - cache["mu"]), 0) / 10, 0, atol=1e-9)


def test_forward_backward_bad_arguments():
    with pytest.raises(ValueError, match=r"Expected epsilon > 0. Received: epsilon=0"):
        norm.batch_norm_forward(np.ones((2, 3)), np.ones(3), np.zeros(3), epsilon=0)
    with pytest.raises(ValueError, match="Expected gamma and beta of shape"):
        norm.batch_norm_forward(np.ones((2, 3)), np.ones(2), np.zeros(3))
    with pytest.raises(ValueError, match="rank >= 2"):
        norm.batch_norm_forward(np.ones(3), np.ones(3), np.zeros(3))
    _, cache = norm.batch_norm_forward(np.ones((2, 3)), np.ones(3), np.zeros(3))
    with pytest.raises(ValueError, match="Expected dy of shape"):
        norm.batch_norm_backward(np.ones((3, 3)), cache)


# --------------------------------------------------------------------------------------
# BatchNorm layer against keras.layers.BatchNormalization
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "momentum, epsilon, shape",
    [
        (0.99, 1e-3, (8, 4)),
        (0.9, 1e-5, (4, 3, 3, 2)),
        (0.0, 1e-3, (6, 5)),
        (0.5, 0.1, (2, 4, 4, 3)),
        (1.0, 1e-3, (5, 2)),
    ],
)
def test_batchnorm_matches_keras_in_both_modes(momentum, epsilon, shape):
    ours = norm.BatchNorm(momentum=momentum, epsilon=epsilon)
    ref = keras.layers.BatchNormalization(momentum=momentum, epsilon=epsilon)
    c = shape[-1]
    for layer in (ours, ref):
        layer.build(shape)
        layer.set_weights([rand((c,), 1), rand((c,), 2), np.zeros(c), np.ones(c)])
    for step in range(4):  # several training steps on different batches
        x = rand(shape, 20 + step, loc=step, scale=1 + step)
        np.testing.assert_allclose(np_(ours(x, training=True)), np_(ref(x, training=True)), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(np_(ours.moving_mean), np_(ref.moving_mean), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np_(ours.moving_variance), np_(ref.moving_variance), rtol=1e-5, atol=1e-6)
    x = rand(shape, 99)
    np.testing.assert_allclose(np_(ours(x, training=False)), np_(ref(x, training=False)), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(np_(ours(x)), np_(ref(x)), rtol=RTOL, atol=ATOL)  # default: inference


def test_batchnorm_moving_average_formula():
    layer = norm.BatchNorm(momentum=0.75)
    xs = [rand((6, 2), s, loc=s) for s in range(3)]
    mean, var = np.zeros(2), np.ones(2)
    for x in xs:
        layer(x, training=True)
        mean = 0.75 * mean + 0.25 * x.mean(0)
        var = 0.75 * var + 0.25 * x.var(0)
    np.testing.assert_allclose(np_(layer.moving_mean), mean, rtol=1e-5)
    np.testing.assert_allclose(np_(layer.moving_variance), var, rtol=1e-5)


def _bn_model(layer_cls, seed=0):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((6, 6, 2))
    x = keras.layers.Conv2D(3, 3, name="conv")(inputs)
    x = layer_cls(momentum=0.9, name="bn")(x)
    x = keras.layers.Activation("relu")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(2, name="head")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss=keras.losses.MeanSquaredError())
    return model


def test_batchnorm_trains_like_keras_in_a_model():
    x, y = rand((32, 6, 6, 2), 30), rand((32, 2), 31)
    ours, ref = _bn_model(norm.BatchNorm), _bn_model(keras.layers.BatchNormalization)
    ref.set_weights(ours.get_weights())
    for model in (ours, ref):
        model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    for a, b in zip(ours.get_weights(), ref.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ours.predict(x, verbose=0), ref.predict(x, verbose=0), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("center, scale, weights", [(True, True, 4), (False, True, 3), (False, False, 2)])
def test_batchnorm_layer_contract(tmp_path, center, scale, weights):
    layer = norm.BatchNorm(center=center, scale=scale, name="bn")
    x = rand((4, 5, 5, 3), 40, loc=1.0)
    assert layer(x).shape == (4, 5, 5, 3)
    assert layer.compute_output_shape((None, 5, 5, 3)) == (None, 5, 5, 3)
    assert len(layer.weights) == weights and len(layer.non_trainable_weights) == 2
    clone = norm.BatchNorm.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    model = keras.Sequential([keras.Input((5, 5, 3)), layer, keras.layers.Flatten(), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, np.ones((4, 1)), epochs=1, verbose=0)
    assert not np.allclose(np_(layer.moving_mean), 0)  # one training step moved the statistics
    path = tmp_path / "bn.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded.layers[0], norm.BatchNorm)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)


def test_frozen_batchnorm_keeps_its_statistics():
    layer = norm.BatchNorm()
    x = rand((8, 3), 41, loc=5.0)
    layer.build(x.shape)
    layer.trainable = False
    out = layer(x, training=True)  # trainable=False means inference mode, as in Keras
    np.testing.assert_allclose(np_(layer.moving_mean), 0)
    np.testing.assert_allclose(np_(out), x / np.sqrt(1 + 1e-3), rtol=1e-5)


def test_batchnorm_bad_arguments():
    with pytest.raises(ValueError, match=r"Expected momentum in \[0, 1\]. Received: momentum=1.5"):
        norm.BatchNorm(momentum=1.5)
    with pytest.raises(ValueError, match=r"Expected epsilon > 0. Received: epsilon=-1"):
        norm.BatchNorm(epsilon=-1)


# --------------------------------------------------------------------------------------
# normalize(): BN, LN, IN, GN as axes
# --------------------------------------------------------------------------------------
IMAGE_SHAPES = [(3, 4, 4, 6), (1, 5, 3, 4), (5, 2, 2, 2)]


@pytest.mark.parametrize("shape, epsilon", itertools.product(IMAGE_SHAPES, [1e-3, 1e-5]))
def test_normalize_batch_and_layer_match_keras(shape, epsilon):
    x = rand(shape, 50, loc=1.0, scale=2.0)
    bn = keras.layers.BatchNormalization(epsilon=epsilon)
    np.testing.assert_allclose(
        np_(norm.normalize(x, (0, 1, 2), epsilon=epsilon)), np_(bn(x, training=True)), rtol=RTOL, atol=ATOL
    )
    ln = keras.layers.LayerNormalization(axis=[1, 2, 3], epsilon=epsilon)
    np.testing.assert_allclose(np_(norm.normalize(x, (1, 2, 3), epsilon=epsilon)), np_(ln(x)), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(np_(norm.normalize(x, (-3, -2, -1), epsilon=epsilon)), np_(ln(x)), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("shape", IMAGE_SHAPES)
def test_normalize_instance_and_group_match_keras_group_normalization(shape):
    x = rand(shape, 51, loc=-1.0, scale=3.0)
    c = shape[-1]
    for groups in [g for g in range(1, c + 1) if c % g == 0]:
        gn = keras.layers.GroupNormalization(groups=groups)
        np.testing.assert_allclose(np_(norm.normalize(x, (1, 2), groups=groups)), np_(gn(x)), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(
        np_(norm.normalize(x, (1, 2))), np_(keras.layers.GroupNormalization(groups=c)(x)), rtol=RTOL, atol=ATOL
    )  # IN = GN with one channel per group
    np.testing.assert_allclose(
        np_(norm.normalize(x, (1, 2, 3))), np_(keras.layers.GroupNormalization(groups=1)(x)), rtol=RTOL, atol=ATOL
    )  # LN = GN with one group


def test_normalize_affine_and_named_normalizers():
    x = rand((2, 3, 3, 4), 52)
    gamma, beta = rand((4,), 53), rand((4,), 54)
    gn = keras.layers.GroupNormalization(groups=2)
    gn.build(x.shape)
    gn.set_weights([gamma, beta])
    axes, groups = norm.NORMALIZERS["group"]
    np.testing.assert_allclose(
        np_(norm.normalize(x, axes, groups, gamma=gamma, beta=beta)), np_(gn(x)), rtol=RTOL, atol=ATOL
    )
    assert set(norm.NORMALIZERS) == {"batch", "layer", "instance", "group"}


def test_normalize_works_on_vectors_and_sequences():
    x = rand((6, 5), 55, loc=2.0)
    np.testing.assert_allclose(
        np_(norm.normalize(x, 1)), np_(keras.layers.LayerNormalization()(x)), rtol=RTOL, atol=ATOL
    )
    s = rand((2, 7, 4), 56)
    np.testing.assert_allclose(
        np_(norm.normalize(s, 1, groups=2)), np_(keras.layers.GroupNormalization(2)(s)), rtol=RTOL, atol=ATOL
    )


@settings(max_examples=25, deadline=None)
@given(
    x=hnp.arrays(np.float64, (3, 2, 2, 4), elements=st.floats(-10, 10, allow_nan=False)),
    kind=st.sampled_from(["layer", "instance", "group"]),
    a=st.floats(0.5, 4.0),
    b=st.floats(-5, 5),
)
def test_per_example_normalizers_ignore_the_rest_of_the_batch_and_affine_changes(x, kind, a, b):
    """LN/IN/GN: an example's output depends on that example only, and not on a positive scale or shift of it."""
    x = x + np.random.default_rng(0).normal(0, 1, x.shape)  # keep variances well above epsilon
    axes, groups = norm.NORMALIZERS[kind]
    full = np_(norm.normalize(x, axes, groups, epsilon=1e-6))
    alone = np_(norm.normalize(x[:1] * a + b, axes, groups, epsilon=1e-6))
    np.testing.assert_allclose(full[:1], alone, rtol=1e-3, atol=1e-3)


@settings(max_examples=25 if keras.backend.backend() == "tensorflow" else 6, deadline=None)  # JAX compiles each shape
@given(
    shape=st.tuples(st.integers(1, 4), st.integers(1, 3), st.integers(1, 3), st.sampled_from([2, 4, 6])),
    axes=st.sampled_from([(0, 1, 2), (1, 2), (1, 2, 3), (0, 3), (2,)]),
)
def test_normalize_gives_zero_mean_and_var_over_axes(shape, axes):
    x = np.random.default_rng(sum(shape)).normal(3.0, 2.0, shape)
    y = np_(norm.normalize(x, axes, epsilon=1e-8))
    var = x.var(axis=axes, keepdims=True)
    np.testing.assert_allclose(y.mean(axis=axes), 0, atol=1e-4)
    np.testing.assert_allclose(y.var(axis=axes, keepdims=True), var / (var + 1e-8), rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"axes": (4,)}, r"Expected axes to be an integer in \[-4, 3\]. Received: axes=4"),
        ({"axes": (-5,)}, r"Expected axes to be an integer in \[-4, 3\]. Received: axes=-5"),
        ({"axes": (1, True)}, r"Expected axes to be an integer in \[-4, 3\]. Received: axes=True"),
        ({"axes": (1, 1)}, "Expected distinct axes"),
        ({"axes": ()}, "Expected at least one axis"),
        ({"axes": "hw"}, "Expected axes to be an integer in \\[-4, 3\\]. Received: axes='hw'"),
        ({"axes": (1, 2), "groups": 4}, r"Expected groups to divide the number of channels \(6\). Received: groups=4"),
        ({"axes": (1, 2), "groups": 0}, "Expected groups to be a positive integer"),
        ({"axes": (1, 2, 3), "groups": 2}, "leave it out of axes"),
        ({"axes": (1, 2), "epsilon": 0}, r"Expected epsilon > 0. Received: epsilon=0"),
        ({"axes": (1, 2), "epsilon": -1e-3}, r"Expected epsilon > 0"),
    ],
)
def test_normalize_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        norm.normalize(np.ones((2, 3, 3, 6), "float32"), **kwargs)


# --------------------------------------------------------------------------------------
# weight normalization
# --------------------------------------------------------------------------------------
WN_CASES = [
    (lambda: keras.layers.Dense(4, activation="tanh"), (3, 5)),
    (lambda: keras.layers.Dense(3, use_bias=False), (2, 4, 6)),
    (lambda: keras.layers.Conv2D(4, 3, padding="same", activation="relu"), (2, 6, 6, 3)),
    (lambda: keras.layers.Conv2D(2, 2, strides=2, dilation_rate=1), (1, 6, 6, 1)),
    (lambda: keras.layers.Conv1D(3, 3, padding="causal"), (2, 7, 2)),
    (lambda: keras.layers.Conv3D(2, 2), (1, 4, 4, 4, 1)),
]


@pytest.mark.parametrize("make, shape", WN_CASES)
def test_weight_normalization_starts_as_the_wrapped_layer(make, shape):
    inner = make()
    wn = norm.WeightNormalization(inner)
    x = rand(shape, 60)
    y = wn(x)
    np.testing.assert_allclose(np_(y), np_(inner(x)), rtol=RTOL, atol=ATOL)
    assert tuple(y.shape) == tuple(wn.compute_output_shape(shape))
    assert len(wn.trainable_weights) == 1 + len(inner.trainable_weights)


@pytest.mark.parametrize("make, shape", WN_CASES)
def test_weight_normalization_kernel_norm_is_g(make, shape):
    wn = norm.WeightNormalization(make())
    x = rand(shape, 61)
    wn(x)
    g = rand(wn.g.shape, 62)
    wn.g.assign(g)
    w = np_(wn.normalized_kernel())
    axes = tuple(range(w.ndim - 1))
    np.testing.assert_allclose(np.sqrt((w**2).sum(axes)), np.abs(g), rtol=1e-5)
    # and the output equals the plain layer run with that kernel
    inner = wn.layer
    v = np_(inner.kernel).copy()
    inner.kernel.assign(w)
    expected = np_(inner(x))
    inner.kernel.assign(v)
    np.testing.assert_allclose(np_(wn(x)), expected, rtol=RTOL, atol=ATOL)
    # scaling v does not change the output: only its direction counts
    inner.kernel.assign(3.0 * v)
    np.testing.assert_allclose(np_(wn(x)), expected, rtol=RTOL, atol=ATOL)


def test_weight_normalization_gradient_is_orthogonal_to_v():
    """The gradient w.r.t. v is the projection of the gradient w.r.t. w off v (the paper's eq. 3)."""
    wn = norm.WeightNormalization(keras.layers.Dense(3, use_bias=False))
    x = rand((5, 4), 63)
    wn(x)
    _, (dv, dg) = autodiff.value_and_grads(
        lambda: keras.ops.sum(keras.ops.square(wn(x) - 1.0)), [wn.layer.kernel, wn.g]
    )
    assert dv is not None and dg is not None
    v = np_(wn.layer.kernel)
    np.testing.assert_allclose((np_(dv) * v).sum(0), 0, atol=1e-4)


def test_weight_normalization_trains_saves_and_loads(tmp_path):
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((8, 8, 2)),
            norm.WeightNormalization(keras.layers.Conv2D(4, 3, activation="relu"), name="wn_conv"),
            keras.layers.GlobalAveragePooling2D(),
            norm.WeightNormalization(keras.layers.Dense(2), name="wn_dense"),
        ]
    )
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    x, y = rand((16, 8, 8, 2), 64), rand((16, 2), 65)
    before = [w.copy() for w in model.get_weights()]
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    assert all(not np.allclose(a, b) for a, b in zip(before, model.get_weights()))
    assert len(model.weights) == 6  # (g, v, bias) twice
    layer = model.get_layer("wn_conv")
    clone = norm.WeightNormalization.from_config(layer.get_config())
    assert clone.get_config()["layer"] == layer.get_config()["layer"]
    path = tmp_path / "wn.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded.get_layer("wn_dense"), norm.WeightNormalization)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)


@pytest.mark.parametrize(
    "layer",
    [
        keras.layers.DepthwiseConv2D(3),
        keras.layers.Conv2DTranspose(2, 3),
        keras.layers.BatchNormalization(),
    ],
)
def test_weight_normalization_bad_layers(layer):
    with pytest.raises(ValueError, match="Expected a Dense, Conv1D, Conv2D or Conv3D layer to wrap"):
        norm.WeightNormalization(layer)


def test_weight_normalization_bad_epsilon():
    with pytest.raises(ValueError, match="Expected epsilon > 0"):
        norm.WeightNormalization(keras.layers.Dense(2), epsilon=0.0)


# --------------------------------------------------------------------------------------
# spectral normalization
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(5, 3), (3, 3, 4, 8), (10, 10), (1, 6), (2, 2, 3, 1)])
def test_power_iteration_converges_to_svd(shape):
    w = rand(shape, 70)
    sigma, u = norm.spectral_norm(w, iterations=500)
    top = np.linalg.svd(w.reshape(-1, shape[-1]), compute_uv=False)[0]
    np.testing.assert_allclose(sigma, top, rtol=1e-4)
    assert u.shape == (1, shape[-1])
    assert norm.spectral_norm(w, iterations=1)[0] <= top + 1e-6  # a Rayleigh quotient never overshoots


@pytest.mark.parametrize(
    "power_iterations, make, shape",
    [
        (1, lambda: keras.layers.Dense(5), (2, 7)),
        (3, lambda: keras.layers.Dense(4), (2, 6)),
        (1, lambda: keras.layers.Conv2D(4, 3), (1, 6, 6, 2)),
        (2, lambda: keras.layers.Conv2D(3, 2), (1, 5, 5, 3)),
    ],
)
def test_power_iteration_matches_what_keras_spectral_normalization_divides_by(power_iterations, make, shape):
    sn = keras.layers.SpectralNormalization(make(), power_iterations=power_iterations)
    sn.build(shape)
    kernel, u = np_(sn.layer.kernel).copy(), np_(sn.vector_u).copy()
    sn(rand(shape, 71), training=True)
    divided_by = kernel / np_(sn.layer.kernel)
    sigma, new_u = norm.spectral_norm(kernel, power_iterations, u=u)
    np.testing.assert_allclose(divided_by, sigma, rtol=1e-4)
    np.testing.assert_allclose(np_(sn.vector_u), new_u, rtol=1e-4, atol=1e-6)


def test_spectral_norm_bad_arguments():
    with pytest.raises(ValueError, match="Expected iterations to be a positive integer. Received: iterations=0"):
        norm.spectral_norm(np.ones((2, 2)), iterations=0)
    with pytest.raises(ValueError, match="rank >= 2"):
        norm.spectral_norm(np.ones(3))
    with pytest.raises(ValueError, match="Expected u with 2 entries"):
        norm.spectral_norm(np.ones((3, 2)), u=np.ones(3))


# --------------------------------------------------------------------------------------
# AdaIN
# --------------------------------------------------------------------------------------
def adain_numpy(content, style, eps=1e-5):
    axes = tuple(range(1, content.ndim - 1))
    cm, cv = content.mean(axes, keepdims=True), content.var(axes, keepdims=True)
    sm, sv = style.mean(axes, keepdims=True), style.var(axes, keepdims=True)
    return np.sqrt(sv + eps) * (content - cm) / np.sqrt(cv + eps) + sm


@pytest.mark.parametrize(
    "content_shape, style_shape",
    [
        ((2, 6, 6, 3), (2, 6, 6, 3)),
        ((2, 8, 5, 4), (2, 3, 3, 4)),
        ((3, 5, 5, 2), (1, 7, 7, 2)),
        ((2, 9, 3), (2, 4, 3)),
    ],
)
def test_adain_matches_numpy_and_takes_the_style_statistics(content_shape, style_shape):
    content = rand(content_shape, 80, loc=0.5, scale=2.0)
    style = rand(style_shape, 81, loc=-3.0, scale=0.5)
    out = np_(norm.AdaIN()([content, style]))
    np.testing.assert_allclose(out, adain_numpy(content, style), rtol=RTOL, atol=ATOL)
    axes = tuple(range(1, len(content_shape) - 1))
    target_mean = np.broadcast_to(style.mean(axes), out.mean(axes).shape)
    target_std = np.broadcast_to(style.std(axes), out.std(axes).shape)
    np.testing.assert_allclose(out.mean(axes), target_mean, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(out.std(axes), target_std, rtol=1e-3)
    assert norm.AdaIN().compute_output_shape([content_shape, style_shape]) == content_shape


def test_adain_layer_in_a_model_saves_and_loads(tmp_path):
    content_in, style_in = keras.Input((6, 6, 3), name="content"), keras.Input((4, 4, 3), name="style")
    out = norm.AdaIN(epsilon=1e-4, name="adain")([keras.layers.Conv2D(3, 1, name="enc")(content_in), style_in])
    model = keras.Model([content_in, style_in], out)
    assert not model.get_layer("adain").weights
    assert model.output_shape == (None, 6, 6, 3)
    c, s = rand((2, 6, 6, 3), 82), rand((2, 4, 4, 3), 83, loc=2)
    model.compile(optimizer="sgd", loss="mse")
    model.fit([c, s], c, epochs=1, verbose=0)
    config = model.get_layer("adain").get_config()
    assert norm.AdaIN.from_config(config).epsilon == 1e-4
    path = tmp_path / "adain.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(loaded.predict([c, s], verbose=0), model.predict([c, s], verbose=0), rtol=1e-6)


@pytest.mark.parametrize(
    "inputs, message",
    [
        (lambda: rand((1, 4, 4, 3), 0), "Expected a list of two inputs"),
        (lambda: [rand((1, 4, 4, 3), 0)], "Expected a list of two inputs"),
        (lambda: [rand((1, 4, 4, 3), 0), rand((1, 4, 4, 2), 1)], "the same number of channels"),
        (lambda: [rand((1, 4, 4, 3), 0), rand((1, 4, 3), 1)], "the same rank"),
        (lambda: [rand((3, 4, 4, 3), 0), rand((2, 4, 4, 3), 1)], "style batch of 1 or the content's batch size"),
        (lambda: [rand((3, 4), 0), rand((3, 4), 1)], "rank >= 3"),
    ],
)
def test_adain_mismatched_inputs(inputs, message):
    with pytest.raises(ValueError, match=message):
        norm.AdaIN()(inputs())


def test_adain_bad_epsilon():
    with pytest.raises(ValueError, match="Expected epsilon > 0"):
        norm.AdaIN(epsilon=0)


# --------------------------------------------------------------------------------------
# folding BN into the previous layer
# --------------------------------------------------------------------------------------
def _trained_bn(bn, channels, seed):
    rng = np.random.default_rng(seed)
    weights = {
        "gamma": rng.uniform(0.5, 2, channels),
        "beta": rng.normal(0, 1, channels),
        "moving_mean": rng.normal(0, 2, channels),
        "moving_variance": rng.uniform(0.1, 3, channels),
    }
    for var in bn.weights:
        var.assign(weights[var.name].astype("float32"))
    return bn


@pytest.mark.parametrize(
    "make, shape, bn_cls, bn_kwargs",
    [
        (lambda: keras.layers.Conv2D(4, 3, padding="same"), (2, 6, 6, 3), keras.layers.BatchNormalization, {}),
        (
            lambda: keras.layers.Conv2D(5, 3, strides=2, use_bias=False),
            (2, 7, 7, 2),
            keras.layers.BatchNormalization,
            {"epsilon": 1e-5},
        ),
        (lambda: keras.layers.Conv2D(3, 1), (1, 4, 4, 2), keras.layers.BatchNormalization, {"center": False}),
        (lambda: keras.layers.Conv2D(2, 3, groups=2), (1, 5, 5, 4), keras.layers.BatchNormalization, {"scale": False}),
        (lambda: keras.layers.Dense(3), (4, 5), keras.layers.BatchNormalization, {}),
        (lambda: keras.layers.Conv1D(3, 2), (2, 6, 2), keras.layers.BatchNormalization, {}),
        (lambda: keras.layers.Conv2D(4, 3), (2, 6, 6, 3), norm.BatchNorm, {"epsilon": 0.01}),
    ],
)
def test_fold_batchnorm_matches_conv_then_bn(make, shape, bn_cls, bn_kwargs):
    layer, bn = make(), bn_cls(**bn_kwargs)
    x = rand(shape, 90)
    z = layer(x)
    keras.utils.set_random_seed(1)
    _trained_bn(bn, z.shape[-1], 91)(z)
    expected = np_(bn(layer(x), training=False))
    kernel, bias = norm.fold_batchnorm(layer, bn)
    assert kernel.shape == tuple(layer.kernel.shape) and bias.shape == (z.shape[-1],)
    folded = norm.folded_layer(layer, bn, name="folded")
    assert folded.name == "folded" and folded.use_bias
    np.testing.assert_allclose(np_(folded(x)), expected, rtol=1e-4, atol=1e-4)


def test_fold_batchnorm_bad_arguments():
    conv, bn = keras.layers.Conv2D(2, 3, activation="relu"), keras.layers.BatchNormalization()
    with pytest.raises(ValueError, match="Expected built layers"):
        norm.fold_batchnorm(keras.layers.Conv2D(2, 3), keras.layers.BatchNormalization())
    bn(conv(np.ones((1, 4, 4, 1), "float32")))
    with pytest.raises(ValueError, match="Expected a linear layer"):
        norm.fold_batchnorm(conv, bn)
    with pytest.raises(ValueError, match="Expected a Dense or Conv1D/2D/3D layer"):
        norm.fold_batchnorm(keras.layers.DepthwiseConv2D(3), bn)
    with pytest.raises(ValueError, match="Expected a BatchNormalization layer"):
        norm.fold_batchnorm(keras.layers.Conv2D(2, 3), keras.layers.LayerNormalization())
    linear = keras.layers.Conv2D(2, 3)
    wrong = keras.layers.BatchNormalization()
    wrong(np.ones((1, 3, 3, 5), "float32"))
    linear(np.ones((1, 4, 4, 1), "float32"))
    with pytest.raises(ValueError, match=r"Expected BN over 2 channels"):
        norm.fold_batchnorm(linear, wrong)
    axis1 = keras.layers.BatchNormalization(axis=1)
    axis1(np.ones((1, 2, 2, 2), "float32"))
    with pytest.raises(ValueError, match="Expected BN over the last"):
        norm.fold_batchnorm(linear, axis1)


# --------------------------------------------------------------------------------------
# ghost batch norm, the convolution's operator norm, injected covariate shift (notebook 07)
# --------------------------------------------------------------------------------------
def test_virtual_batch_size_normalizes_each_group_and_averages_the_statistics():
    x = rand((6, 3, 3, 4), seed=2, loc=1.0, scale=2.0)
    layer = norm.BatchNorm(momentum=0.0, virtual_batch_size=2)
    out = np_(layer(x, training=True))
    for g in range(3):
        group = x[2 * g : 2 * g + 2]
        want = np_(norm.normalize(group, (0, 1, 2), epsilon=1e-3))
        np.testing.assert_allclose(out[2 * g : 2 * g + 2], want, rtol=RTOL, atol=ATOL)
    groups = x.reshape(3, -1, 4)
    np.testing.assert_allclose(np_(layer.moving_mean), groups.mean(1).mean(0), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(np_(layer.moving_variance), groups.var(1).mean(0), rtol=RTOL, atol=ATOL)
    assert norm.BatchNorm(virtual_batch_size=2).get_config()["virtual_batch_size"] == 2
    with pytest.raises(ValueError, match="virtual_batch_size"):
        norm.BatchNorm(virtual_batch_size=0)


def _conv_matrix(kernel, n):
    """The circular 2D convolution of n x n images as a dense matrix, built column by column."""
    kh, kw, cin, cout = kernel.shape
    cols = []
    for c in range(cin):
        for i in range(n):
            for j in range(n):
                e = np.zeros((n, n, cin))
                e[i, j, c] = 1
                out = np.zeros((n, n, cout))
                for a in range(kh):
                    for b in range(kw):
                        out += np.roll(np.roll(e, a, axis=0), b, axis=1) @ kernel[a, b]
                cols.append(out.ravel())
    return np.stack(cols, axis=1)


@pytest.mark.parametrize("shape", [(3, 3, 1, 4), (3, 3, 2, 3), (2, 3, 3, 2)])
def test_conv_operator_norm_is_the_largest_singular_value_of_the_convolution(shape):
    kernel = np.random.default_rng(0).normal(size=shape)
    want = np.linalg.svd(_conv_matrix(kernel, 6), compute_uv=False)[0]
    assert norm.conv_operator_norm(kernel, 6) == pytest.approx(want, rel=1e-9)
    reshaped = np.linalg.svd(kernel.reshape(-1, shape[-1]), compute_uv=False)[0]
    assert reshaped <= want * (1 + 1e-9) and want <= reshaped * np.sqrt(shape[0] * shape[1]) * (1 + 1e-9)
    with pytest.raises(ValueError, match="Expected image_size >= the kernel size"):
        norm.conv_operator_norm(kernel, 1)
    with pytest.raises(ValueError, match="Expected a 2D convolution kernel"):
        norm.conv_operator_norm(kernel[0], 6)


def test_covariate_shift_noise_shifts_channels_in_training_only(tmp_path):
    x = rand((64, 4, 4, 3), seed=5)
    layer = norm.CovariateShiftNoise(0.5, seed=1)
    np.testing.assert_array_equal(np_(layer(x, training=False)), x)
    a, b = np_(layer(x, training=True)), np_(layer(x, training=True))
    assert not np.allclose(a, b)  # drawn anew at every call
    shift = (a - x).mean(axis=(0, 1, 2))
    assert np.abs(shift).max() <= 0.5 * 1.5 * np.abs(x).max() + 0.5 and np.abs(shift).max() > 0.01
    np.testing.assert_array_equal(np_(norm.CovariateShiftNoise(0.0)(x, training=True)), x)
    model = keras.Sequential([keras.Input((4, 4, 3)), norm.CovariateShiftNoise(0.25, seed=2)])
    model.save(tmp_path / "noise.keras")
    assert keras.saving.load_model(tmp_path / "noise.keras").layers[0].level == 0.25
    with pytest.raises(ValueError, match="level"):
        norm.CovariateShiftNoise(-1.0)
