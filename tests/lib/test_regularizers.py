"""lib.regularizers: weight penalties and their gradients against keras.regularizers, autodiff and
central differences; Adam/AdamW steps against keras.optimizers; max-norm against
keras.constraints.MaxNorm; the KL sparsity regularizer against NumPy and through a .keras round trip;
dropout against keras.layers.Dropout (statistically); stochastic depth as a layer."""

import keras
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from lib import gradcheck
from lib import regularizers as reg
from lib.autodiff import value_and_input_grad


def np_(t):
    return keras.ops.convert_to_numpy(t)


def weights(shape=(5, 4), seed=0, zeros=0):
    w = np.random.default_rng(seed).normal(size=shape).astype(np.float32)
    w.flat[:zeros] = 0.0
    return w


def binomial_bounds(n, prob, sigmas=5.0):
    """Counts of a Binomial(n, prob) fall inside mean +- 5 standard deviations (odds ~1e-6 of failing)."""
    sd = np.sqrt(n * prob * (1 - prob))
    return n * prob - sigmas * sd, n * prob + sigmas * sd


# --------------------------------------------------------------------------- #
# L1 / L2 penalties and gradients
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("factor", [0.0, 1e-3, 0.01, 0.5])
@pytest.mark.parametrize("shape", [(7,), (5, 4), (3, 3, 2, 4)])
def test_penalties_match_keras_regularizers(factor, shape):
    w = weights(shape)
    np.testing.assert_allclose(reg.l2_penalty(w, factor), float(keras.regularizers.L2(factor)(w)), rtol=1e-5)
    np.testing.assert_allclose(reg.l1_penalty(w, factor), float(keras.regularizers.L1(factor)(w)), rtol=1e-5)
    both = keras.regularizers.L1L2(l1=factor, l2=2 * factor)(w)
    np.testing.assert_allclose(reg.l1_penalty(w, factor) + reg.l2_penalty(w, 2 * factor), float(both), rtol=1e-5)


@pytest.mark.parametrize("factor", [1e-3, 0.01, 0.5])
def test_gradients_match_autodiff_of_keras_regularizers(factor):
    w = weights((6, 5), zeros=3)  # includes exact zeros, where |w| has no derivative
    _, g2 = value_and_input_grad(lambda x: keras.regularizers.L2(factor)(x), w)
    _, g1 = value_and_input_grad(lambda x: keras.regularizers.L1(factor)(x), w)
    np.testing.assert_allclose(reg.l2_gradient(w, factor), np_(g2), rtol=1e-5, atol=1e-8)
    off_zero = w != 0  # where |w| has a derivative; at 0 each backend picks its own subgradient
    np.testing.assert_allclose(reg.l1_gradient(w, factor)[off_zero], np_(g1)[off_zero], rtol=1e-5, atol=1e-8)
    assert np.all(reg.l1_gradient(w, factor).flat[:3] == 0)  # the subgradient 0 at w = 0, as np.sign picks
    assert np.all(np.abs(np_(g1).flat[:3]) <= factor)  # the backend's pick is a subgradient too


@pytest.mark.tf_only("TensorFlow's autodiff picks the subgradient 0 of |w| at 0, JAX's picks +1")
def test_l1_subgradient_at_zero_is_tensorflows():
    w = weights((6, 5), zeros=3)
    _, g1 = value_and_input_grad(lambda x: keras.regularizers.L1(0.01)(x), w)
    np.testing.assert_allclose(reg.l1_gradient(w, 0.01), np_(g1), rtol=1e-5, atol=1e-8)


def test_gradients_match_central_differences():
    w = weights((4, 3), seed=3).astype(np.float64)
    for penalty, gradient in ((reg.l2_penalty, reg.l2_gradient), (reg.l1_penalty, reg.l1_gradient)):
        numeric = gradcheck.numerical_gradient(lambda a, penalty=penalty: penalty(a, 0.3), w, h=1e-6)
        np.testing.assert_allclose(gradient(w, 0.3), numeric, rtol=1e-5, atol=1e-7)


def test_lecture_lambda_is_twice_keras_l2():
    w = weights()
    lam = 0.2  # the lecture's gradient lambda * w is that of lambda / 2 * ||w||^2 = L2(lambda / 2)
    np.testing.assert_allclose(reg.l2_gradient(w, lam / 2), lam * w, rtol=1e-6)


@pytest.mark.parametrize("fn", [reg.l1_penalty, reg.l2_penalty, reg.l1_gradient, reg.l2_gradient])
def test_negative_penalty_factor_raises(fn):
    name = "l1" if "l1" in fn.__name__ else "l2"
    with pytest.raises(ValueError, match=rf"Expected {name} >= 0. Received: {name}=-0.1"):
        fn(weights(), -0.1)


# --------------------------------------------------------------------------- #
# max-norm
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("max_value", [2.0, 3.0, 0.5])
@pytest.mark.parametrize("shape, axis", [((20, 8), 0), ((8, 20), 1), ((3, 3, 4, 6), [0, 1, 2]), ((3, 3, 4, 6), 3)])
def test_max_norm_matches_keras_constraint(max_value, shape, axis):
    w = weights(shape, seed=4) * 0.8
    keras_w = np_(keras.constraints.MaxNorm(max_value=max_value, axis=axis)(w))
    np.testing.assert_allclose(reg.max_norm(w, max_value, axis=axis), keras_w, rtol=1e-5, atol=1e-7)


def test_max_norm_axis_zero_constrains_each_dense_units_incoming_weights():
    w = np.zeros((3, 2))
    w[:, 0] = [3.0, 4.0, 0.0]  # unit 0: norm 5
    w[:, 1] = [0.6, 0.8, 0.0]  # unit 1: norm 1
    out = reg.max_norm(w, 2.0, axis=0)
    np.testing.assert_allclose(out[:, 0], [1.2, 1.6, 0.0], rtol=1e-6)
    np.testing.assert_allclose(out[:, 1], w[:, 1], rtol=1e-6)


@settings(max_examples=40, deadline=None)
@given(
    rows=st.integers(1, 12),
    cols=st.integers(1, 6),
    scale=st.floats(0.01, 20.0),
    c=st.floats(0.1, 5.0),
    seed=st.integers(0, 10**6),
)
def test_max_norm_properties(rows, cols, scale, c, seed):
    w = np.random.default_rng(seed).normal(size=(rows, cols)) * scale
    out = reg.max_norm(w, c, axis=0)
    before, after = np.linalg.norm(w, axis=0), np.linalg.norm(out, axis=0)
    assert np.all(after <= c * (1 + 1e-6))  # inside the ball
    np.testing.assert_allclose(after, np.minimum(before, c), rtol=1e-5, atol=1e-6)  # length min(|w|, c)
    cosine = np.sum(w * out, axis=0) / np.maximum(before * after, 1e-30)
    np.testing.assert_allclose(cosine[before > 1e-6], 1.0, rtol=1e-6)  # direction kept
    np.testing.assert_allclose(reg.max_norm(out, c, axis=0), out, rtol=1e-5, atol=1e-7)  # a projection


def test_max_norm_holds_after_training_a_constrained_dense_layer():
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((16,)),
            keras.layers.Dense(
                8, activation="relu", kernel_constraint=keras.constraints.MaxNorm(2.0, axis=0), name="dense"
            ),
        ]
    )
    model.compile(keras.optimizers.SGD(5.0), "mse")
    x = np.random.default_rng(0).normal(size=(64, 16)).astype(np.float32)
    model.fit(x, 10 * np.ones((64, 8), np.float32), epochs=2, batch_size=16, verbose=0)
    assert np.linalg.norm(np_(model.get_layer("dense").kernel), axis=0).max() <= 2.0 + 1e-5


# --------------------------------------------------------------------------- #
# KL sparsity
# --------------------------------------------------------------------------- #
def kl_reference(activations, target, weight, epsilon=1e-7):
    q = np.clip(activations.reshape(-1, activations.shape[-1]).mean(axis=0), epsilon, 1 - epsilon).astype(np.float64)
    return weight * sum(stats.entropy([target, 1 - target], [qj, 1 - qj]) for qj in q)


@settings(max_examples=40, deadline=None)
@given(p=st.floats(0.01, 0.99), q=st.floats(0.01, 0.99))
def test_bernoulli_kl_is_non_negative_and_zero_only_at_target(p, q):
    kl = reg.bernoulli_kl(p, q)
    np.testing.assert_allclose(kl, stats.entropy([p, 1 - p], [q, 1 - q]), rtol=1e-9, atol=1e-12)
    assert kl >= -1e-12
    assert reg.bernoulli_kl(p, p) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("target", [0.05, 0.2, 0.5])
@pytest.mark.parametrize("weight", [0.0, 0.1, 3.0])
@pytest.mark.parametrize("shape", [(32, 10), (4, 5, 5, 6)])
def test_kl_sparsity_matches_numpy(target, weight, shape):
    x = np.random.default_rng(5).beta(1, 6, size=shape).astype(np.float32)
    value = float(reg.KLSparsity(target, weight)(x))
    np.testing.assert_allclose(value, kl_reference(x, target, weight), rtol=1e-4, atol=1e-6)


def test_kl_sparsity_is_zero_at_the_target_and_its_gradient_matches_numpy():
    p, weight = 0.1, 2.0
    np.testing.assert_allclose(float(reg.KLSparsity(p, weight)(np.full((8, 4), p, np.float32))), 0.0, atol=1e-5)
    x = np.random.default_rng(6).uniform(0.02, 0.6, size=(16, 5)).astype(np.float32)
    _, grad = value_and_input_grad(lambda a: reg.KLSparsity(p, weight)(a), x)
    q = x.mean(axis=0)
    expected = weight * (-p / q + (1 - p) / (1 - q)) / len(x)  # d/dx_ij of sum_j KL(p || mean_i x_ij)
    np.testing.assert_allclose(np_(grad), np.broadcast_to(expected, x.shape), rtol=1e-4)


def test_kl_sparsity_as_activity_regularizer_is_divided_by_batch_size():
    x = np.random.default_rng(7).normal(size=(24, 6)).astype(np.float32)
    regularizer = reg.KLSparsity(0.05, 1.5)
    layer = keras.layers.Dense(5, activation="sigmoid", activity_regularizer=regularizer)
    out = layer(x)
    (loss,) = layer.losses
    np.testing.assert_allclose(float(loss), kl_reference(np_(out), 0.05, 1.5) / len(x), rtol=1e-4)


def test_kl_sparsity_config_round_trip_and_keras_save_load(tmp_path):
    regularizer = reg.KLSparsity(target=0.1, weight=0.3)
    config = keras.regularizers.serialize(regularizer)
    again = keras.regularizers.deserialize(config)
    assert isinstance(again, reg.KLSparsity) and again.get_config() == regularizer.get_config()

    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((12,)),
            keras.layers.Dense(8, activation="sigmoid", activity_regularizer=regularizer, name="hidden"),
            keras.layers.Dense(3, name="out"),
        ]
    )
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(32, 12)).astype(np.float32), rng.integers(0, 3, 32)
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    path = tmp_path / "sparse.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
    loaded_reg = loaded.get_layer("hidden").activity_regularizer
    assert isinstance(loaded_reg, reg.KLSparsity) and loaded_reg.get_config() == regularizer.get_config()


def test_kl_sparsity_training_pulls_mean_activation_toward_target():
    keras.utils.set_random_seed(1)
    x = np.random.default_rng(1).normal(size=(64, 10)).astype(np.float32)
    layer = keras.layers.Dense(
        6,
        activation="sigmoid",
        bias_initializer=keras.initializers.Constant(1.0),
        activity_regularizer=reg.KLSparsity(0.05, 64.0),
    )
    model = keras.Sequential([keras.Input((10,)), layer])
    before = np_(model(x)).mean()
    model.compile(keras.optimizers.SGD(0.5), loss=lambda y_true, y_pred: 0.0 * keras.ops.sum(y_pred))
    model.fit(x, np.zeros((64, 6), np.float32), epochs=20, batch_size=64, verbose=0)
    after = np_(model(x)).mean()
    assert before > 0.5 and abs(after - 0.05) < abs(before - 0.05) / 4


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"target": 0.0}, r"Expected target in \(0, 1\). Received: target=0.0"),
        ({"target": 1.0}, r"Expected target in \(0, 1\). Received: target=1.0"),
        ({"target": 1.5}, r"Expected target in \(0, 1\). Received: target=1.5"),
        ({"weight": -0.5}, r"Expected weight >= 0. Received: weight=-0.5"),
        ({"epsilon": 0.0}, r"Expected epsilon in \(0, 0.5\). Received: epsilon=0.0"),
    ],
)
def test_kl_sparsity_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        reg.KLSparsity(**kwargs)


def test_kl_sparsity_needs_a_batch_axis():
    with pytest.raises(ValueError, match="rank >= 2"):
        reg.KLSparsity()(np.full((5,), 0.5, np.float32))


# --------------------------------------------------------------------------- #
# dropout
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("rate", [0.1, 0.5, 0.8])
def test_dropout_from_scratch_drop_fraction_and_scaling(rate):
    x = np.random.default_rng(8).uniform(1, 2, size=(200, 100))
    out, mask = reg.dropout(x, rate, rng=0)
    lo, hi = binomial_bounds(x.size, rate)
    assert lo <= (~mask).sum() <= hi
    np.testing.assert_array_equal(out[~mask], 0.0)
    np.testing.assert_allclose(out[mask], x[mask] / (1 - rate))
    plain, plain_mask = reg.dropout(x, rate, rng=0, inverted=False)
    np.testing.assert_array_equal(plain_mask, mask)
    np.testing.assert_allclose(plain, x * mask)


@pytest.mark.parametrize("rate", [0.2, 0.5])
def test_dropout_expectation_matches_keras_dropout(rate):
    """Averaged over many masks, ours and keras.layers.Dropout both give back x (inverted scaling)."""
    n = 2000
    x = np.random.default_rng(9).uniform(0.5, 1.5, size=(1, 64)).astype(np.float32)
    batch = np.repeat(x, n, axis=0)
    keras_out = np_(keras.layers.Dropout(rate, seed=3)(batch, training=True))
    ours, _ = reg.dropout(batch, rate, rng=3)
    # each column's mean of n draws: sd = x * sqrt(rate / (1 - rate) / n); allow 5 sd
    tol = 5 * x[0] * np.sqrt(rate / (1 - rate) / n)
    for out in (keras_out, ours):
        assert np.all(np.abs(out.mean(axis=0) - x[0]) <= tol)
    lo, hi = binomial_bounds(batch.size, rate)
    for out in (keras_out, ours):
        assert lo <= (out == 0).sum() <= hi
    kept = keras_out != 0
    np.testing.assert_allclose(keras_out[kept], (batch / (1 - rate))[kept], rtol=1e-6)
    np.testing.assert_allclose(ours.mean(), keras_out.mean(), rtol=0.02)


def test_dropout_rate_zero_is_identity_and_original_expectation_is_scaled():
    x = np.arange(12.0).reshape(3, 4)
    out, mask = reg.dropout(x, 0.0, rng=0)
    np.testing.assert_array_equal(out, x)
    assert mask.all()
    rate, n = 0.3, 20000
    plain, _ = reg.dropout(np.ones(n), rate, rng=1, inverted=False)
    assert abs(plain.mean() - (1 - rate)) < 5 * np.sqrt(rate * (1 - rate) / n)


@pytest.mark.parametrize("rate", [1.0, 1.5, -0.1])
def test_dropout_bad_rate_raises(rate):
    with pytest.raises(ValueError, match=rf"Expected rate in \[0, 1\). Received: rate={rate}"):
        reg.dropout(np.ones(3), rate)


# --------------------------------------------------------------------------- #
# stochastic depth
# --------------------------------------------------------------------------- #
def residual_model(p, inverted=False, seed=0, width=6):
    inputs = keras.Input((width,), name="inputs")
    branch = keras.layers.Dense(width, activation="relu", name="branch_1")(inputs)
    branch = keras.layers.Dense(width, name="branch_2")(branch)
    outputs = reg.StochasticDepth(p, inverted=inverted, seed=seed, name="stochastic_depth")([inputs, branch])
    outputs = keras.layers.Dense(2, name="head")(outputs)
    return keras.Model(inputs, outputs)


@pytest.mark.parametrize("shape", [(5, 7), (3, 4, 4, 2)])
@pytest.mark.parametrize("inverted", [False, True])
def test_stochastic_depth_shape_weights_and_inference(shape, inverted):
    rng = np.random.default_rng(10)
    shortcut, residual = rng.normal(size=shape).astype(np.float32), rng.normal(size=shape).astype(np.float32)
    layer = reg.StochasticDepth(0.7, inverted=inverted)
    out = np_(layer([shortcut, residual], training=False))
    assert out.shape == shape and layer.compute_output_shape([shape, shape]) == shape
    assert not layer.weights
    expected = shortcut + (residual if inverted else 0.7 * residual)
    np.testing.assert_allclose(out, expected, rtol=1e-6)


@pytest.mark.parametrize("p", [0.3, 0.8])
@pytest.mark.parametrize("inverted", [False, True])
def test_stochastic_depth_drops_whole_samples_at_rate_one_minus_p(p, inverted):
    n = 4000
    shortcut = np.zeros((n, 3, 3, 2), np.float32)
    residual = np.ones((n, 3, 3, 2), np.float32)
    out = np_(reg.StochasticDepth(p, inverted=inverted, seed=4)([shortcut, residual], training=True))
    per_sample = out.reshape(n, -1)
    assert np.all(per_sample == per_sample[:, :1])  # one gate per sample
    kept = per_sample[:, 0] != 0
    lo, hi = binomial_bounds(n, p)
    assert lo <= kept.sum() <= hi
    np.testing.assert_allclose(per_sample[kept, 0], 1 / p if inverted else 1.0, rtol=1e-6)
    # E[training output] = inference output, within 5 standard errors
    inference = np_(reg.StochasticDepth(p, inverted=inverted)([shortcut, residual], training=False))
    sd = (1 / p if inverted else 1.0) * np.sqrt(p * (1 - p) / n)
    assert abs(per_sample[:, 0].mean() - inference.reshape(n, -1)[0, 0]) <= 5 * sd


def test_stochastic_depth_survival_one_always_keeps_the_branch():
    x = np.random.default_rng(11).normal(size=(50, 4)).astype(np.float32)
    out = np_(reg.StochasticDepth(1.0)([x, 2 * x], training=True))
    np.testing.assert_allclose(out, 3 * x, rtol=1e-6)


def test_stochastic_depth_training_step_config_and_save_load(tmp_path):
    keras.utils.set_random_seed(0)
    model = residual_model(0.6, seed=7)
    assert len(model.get_layer("stochastic_depth").weights) == 0
    assert len(model.trainable_weights) == 6
    model.compile(keras.optimizers.SGD(0.1), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(64, 6)).astype(np.float32), rng.integers(0, 2, 64)
    before = [np_(w).copy() for w in model.trainable_weights]
    model.fit(x, y, epochs=1, batch_size=32, verbose=0)
    assert any(not np.allclose(b, np_(w)) for b, w in zip(before, model.trainable_weights))

    layer = model.get_layer("stochastic_depth")
    clone = reg.StochasticDepth.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    assert clone.survival_probability == 0.6 and clone.seed == 7 and clone.inverted is False

    path = tmp_path / "sd.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
    assert isinstance(loaded.get_layer("stochastic_depth"), reg.StochasticDepth)


@pytest.mark.parametrize("p", [0.0, 1.5, -0.2])
def test_stochastic_depth_bad_survival_probability(p):
    message = rf"Expected survival_probability in \(0, 1\]. Received: survival_probability={p}"
    with pytest.raises(ValueError, match=message):
        reg.StochasticDepth(p)


def test_stochastic_depth_needs_two_inputs_of_one_shape():
    layer = reg.StochasticDepth(0.5)
    with pytest.raises(ValueError, match="same shape"):
        layer([np.ones((2, 3), np.float32), np.ones((2, 4), np.float32)])
    with pytest.raises(ValueError, match=r"two inputs"):
        reg.StochasticDepth(0.5).compute_output_shape((2, 3))


def test_survival_probabilities_linear_decay():
    probs = reg.survival_probabilities(4, final=0.5)
    np.testing.assert_allclose(probs, [0.875, 0.75, 0.625, 0.5])
    assert reg.survival_probabilities(1, final=0.8) == [pytest.approx(0.8)]
    with pytest.raises(ValueError, match="Expected num_blocks to be a positive integer. Received: num_blocks=0"):
        reg.survival_probabilities(0)
    with pytest.raises(ValueError, match=r"Expected final in \(0, 1\]. Received: final=0.0"):
        reg.survival_probabilities(3, final=0.0)
