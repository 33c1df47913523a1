"""lib.attacks: FGSM / BIM / PGD against a NumPy reference (a softmax-regression model, whose
input gradient is known in closed form), finite differences, and the promises every attack
keeps (L-inf bound, valid range, loss up, target probability up, PGD >= FGSM), plus bad input."""

import keras
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lib.data
from lib import attacks, gradcheck

TOL = 1e-6  # float32 rounding of x + eps - x


# --------------------------------------------------------------------------- #
# Fixtures: a trained small CNN on digits (logits), the same network ending in a softmax,
# and a softmax-regression model whose gradient we can write down.
# --------------------------------------------------------------------------- #
@pytest.fixture(scope="module")
def digits():
    (x_train, y_train), (x_test, y_test) = lib.data.digits(image_size=16, seed=0)
    return x_train, y_train, x_test[:96], y_test[:96]


@pytest.fixture(scope="module")
def cnn(digits):
    x_train, y_train, _, _ = digits
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((16, 16, 1)),
            keras.layers.Conv2D(8, 3, activation="relu", name="conv"),
            keras.layers.MaxPooling2D(name="pool"),
            keras.layers.Flatten(name="flatten"),
            keras.layers.Dense(10, name="logits"),
        ],
        name="small_cnn",
    )
    model.compile(
        keras.optimizers.Adam(3e-3), keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"]
    )
    model.fit(x_train, y_train, epochs=6, batch_size=64, verbose=0)
    return model


@pytest.fixture(scope="module")
def cnn_probabilities(cnn):
    """The same weights, followed by a softmax: outputs probabilities."""
    return keras.Sequential([keras.Input((16, 16, 1)), cnn, keras.layers.Softmax(name="softmax")])


def linear_model(shape=(4, 5, 2), classes=3, seed=0):
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape))
    w = rng.normal(0, 1, (n, classes)).astype(np.float32)
    b = rng.normal(0, 0.1, classes).astype(np.float32)
    model = keras.Sequential([keras.Input(shape), keras.layers.Flatten(), keras.layers.Dense(classes)])
    model.layers[-1].set_weights([w, b])
    return model, w, b


def numpy_ce_grad(x, y, w, b):
    """d/dx of sum_i CE(softmax(W^T x_i + b), y_i), in float64: W (p - onehot)."""
    flat = x.reshape(len(x), -1).astype(np.float64)
    z = flat @ w + b
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(len(y)), y] -= 1
    return (p @ w.T.astype(np.float64)).reshape(x.shape)


def ce(model, x, y):
    """Per-image cross-entropy of a logits model, NumPy."""
    z = keras.ops.convert_to_numpy(model(x, training=False)).astype(np.float64)
    z -= z.max(axis=1, keepdims=True)
    return np.log(np.exp(z).sum(axis=1)) - z[np.arange(len(y)), y]


def probs(model, x):
    return keras.ops.convert_to_numpy(keras.ops.softmax(model(x, training=False)))


def accuracy(model, x, y):
    return float(np.mean(attacks.predict_classes(model, x) == y))


def run(name, model, x, y, eps, **kwargs):
    if name == "fgsm":
        return attacks.fgsm(model, x, y, eps, **kwargs)
    if name == "bim":
        return attacks.bim(model, x, y, eps, alpha=max(eps, 1e-3) / 4, steps=5, **kwargs)
    return attacks.pgd(model, x, y, eps, alpha=max(eps, 1e-3) / 4, steps=5, seed=1, **kwargs)


# --------------------------------------------------------------------------- #
# Against a reference
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("shape,classes", [((4, 5, 2), 3), ((6, 6, 1), 10), ((3, 3, 3), 2)])
def test_input_gradient_matches_closed_form(shape, classes):
    model, w, b = linear_model(shape, classes)
    rng = np.random.default_rng(1)
    x = rng.random((7, *shape), dtype=np.float32)
    y = rng.integers(0, classes, 7)
    _, grad = attacks.input_gradient(model, x, y, from_logits=True)
    np.testing.assert_allclose(grad, numpy_ce_grad(x, y, w, b), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("targeted", [False, True])
@pytest.mark.parametrize("eps", [0.01, 0.1, 0.5])
def test_fgsm_matches_numpy_reference(eps, targeted):
    model, w, b = linear_model()
    rng = np.random.default_rng(2)
    x = rng.random((9, 4, 5, 2), dtype=np.float32)
    y = rng.integers(0, 3, 9)
    grad = numpy_ce_grad(x, y, w, b)
    expected = np.clip(x + (-eps if targeted else eps) * np.sign(grad), 0, 1)
    out = attacks.fgsm(model, x, y, eps, targeted=targeted, from_logits=True)
    clear = np.abs(grad) > 1e-4  # where float32 and float64 cannot disagree on the sign
    np.testing.assert_allclose(out[clear], expected[clear], atol=1e-6)


def test_input_gradient_matches_finite_differences(cnn, digits):
    x, y = digits[2][:4], digits[3][:4]
    loss, grad = attacks.input_gradient(cnn, x, y, from_logits=True)
    np.testing.assert_allclose(loss, ce(cnn, x, y).sum(), rtol=1e-4)
    rng = np.random.default_rng(0)
    picks = [tuple(rng.integers(0, s) for s in x.shape) for _ in range(6)]
    picks += [tuple(np.unravel_index(np.argmax(np.abs(grad)), x.shape))]
    where = tuple(np.array(picks).T)

    def loss_at(values):  # the summed loss as a function of the picked pixels only
        z = x.astype(np.float64).copy()
        z[where] = values
        return ce(cnn, z.astype(np.float32), y).sum()

    numeric = gradcheck.numerical_gradient(loss_at, x[where], h=1e-2)  # float32 model: a large step
    np.testing.assert_allclose(numeric, grad[where], atol=2e-2 * max(1.0, abs(grad).max()))


def test_logits_and_probabilities_give_the_same_attack(cnn, cnn_probabilities, digits):
    x, y = digits[2], digits[3]
    _, g_logits = attacks.input_gradient(cnn, x, y, from_logits=True)
    _, g_probs = attacks.input_gradient(cnn_probabilities, x, y, from_logits=False)
    np.testing.assert_allclose(g_probs, g_logits, rtol=1e-3, atol=1e-6)
    a = attacks.fgsm(cnn, x, y, 0.1, from_logits=True)
    b = attacks.fgsm(cnn_probabilities, x, y, 0.1, from_logits=False)
    assert np.mean(a == b) > 0.999


def test_a_keras_loss_object_gives_the_default_attack(cnn, digits):
    x, y = digits[2], digits[3]
    default = attacks.fgsm(cnn, x, y, 0.05, from_logits=True)
    custom = attacks.fgsm(cnn, x, y, 0.05, loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    np.testing.assert_array_equal(default, custom)


# --------------------------------------------------------------------------- #
# The promises: L-inf bound, valid range, the loss and the target probability move the right way
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("targeted", [False, True])
@pytest.mark.parametrize("eps", [0.0, 0.01, 0.1, 0.3])
@pytest.mark.parametrize("name", ["fgsm", "bim", "pgd"])
def test_perturbation_within_eps_and_range(cnn, digits, name, eps, targeted):
    x, y = digits[2], digits[3]
    labels = (y + 1) % 10 if targeted else y
    x_adv = run(name, cnn, x, labels, eps, targeted=targeted, from_logits=True)
    assert x_adv.shape == x.shape and x_adv.dtype == np.float32
    assert np.abs(x_adv - x).max() <= eps + TOL
    assert x_adv.min() >= 0.0 and x_adv.max() <= 1.0
    if eps == 0:
        np.testing.assert_array_equal(x_adv, x)
    elif name == "fgsm":
        assert np.abs(x_adv - x).max() >= eps - TOL  # a full step somewhere


@pytest.mark.parametrize("name", ["fgsm", "bim", "pgd"])
def test_other_input_range_is_respected(cnn, digits, name):
    """A model that takes [-1, 1] (rescaling inside): attack in that range with clip=(-1, 1)."""
    model = keras.Sequential([keras.Input((16, 16, 1)), keras.layers.Rescaling(0.5, offset=0.5), cnn])
    x, y = digits[2] * 2 - 1, digits[3]
    x_adv = run(name, model, x, y, 0.2, clip=(-1.0, 1.0), from_logits=True)
    assert np.abs(x_adv - x).max() <= 0.2 + TOL
    assert x_adv.min() >= -1.0 and x_adv.max() <= 1.0 and x_adv.min() < 0.0


def test_gradient_is_not_none_and_not_all_zero(cnn, digits):
    _, grad = attacks.input_gradient(cnn, digits[2], digits[3], from_logits=True)
    assert grad is not None and grad.shape == digits[2].shape
    assert np.isfinite(grad).all()
    assert np.abs(grad).reshape(len(grad), -1).max(axis=1).min() > 0  # every image gets a gradient


def test_trained_model_is_accurate(cnn, digits):
    assert accuracy(cnn, digits[2], digits[3]) > 0.8


@pytest.mark.parametrize("name", ["fgsm", "bim", "pgd"])
@pytest.mark.parametrize("eps", [0.02, 0.1])
def test_untargeted_attack_increases_the_loss(cnn, digits, name, eps):
    x, y = digits[2], digits[3]
    before, after = ce(cnn, x, y), ce(cnn, run(name, cnn, x, y, eps, from_logits=True), y)
    assert after.sum() > before.sum()
    assert np.mean(after > before) > 0.9
    assert accuracy(cnn, run(name, cnn, x, y, eps, from_logits=True), y) <= accuracy(cnn, x, y)


@pytest.mark.parametrize("name", ["fgsm", "bim", "pgd"])
def test_targeted_attack_increases_the_target_probability(cnn, digits, name):
    x, y = digits[2], digits[3]
    target = (y + 3) % 10
    rows = np.arange(len(y))
    before = probs(cnn, x)[rows, target]
    after = probs(cnn, run(name, cnn, x, target, 0.1, targeted=True, from_logits=True))[rows, target]
    assert after.mean() > before.mean()
    assert np.mean(after > before) > 0.9


def test_pgd_is_at_least_as_strong_as_fgsm(cnn, digits):
    x, y = digits[2], digits[3]
    for eps in (0.03, 0.1, 0.2):
        x_fgsm = attacks.fgsm(cnn, x, y, eps, from_logits=True)
        x_pgd = attacks.pgd(cnn, x, y, eps, alpha=eps / 4, steps=10, seed=0, from_logits=True)
        assert accuracy(cnn, x_pgd, y) <= accuracy(cnn, x_fgsm, y)
        assert ce(cnn, x_pgd, y).sum() >= ce(cnn, x_fgsm, y).sum()


def test_targeted_pgd_succeeds_more_often_than_targeted_fgsm(cnn, digits):
    x, y = digits[2], digits[3]
    target = (y + 5) % 10
    hit_fgsm = np.mean(
        attacks.predict_classes(cnn, attacks.fgsm(cnn, x, target, 0.15, targeted=True, from_logits=True)) == target
    )
    hit_pgd = np.mean(
        attacks.predict_classes(
            cnn, attacks.pgd(cnn, x, target, 0.15, 0.03, 10, seed=0, targeted=True, from_logits=True)
        )
        == target
    )
    assert hit_pgd >= hit_fgsm and hit_pgd > 0.5


# --------------------------------------------------------------------------- #
# Relations between the attacks
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("eps", [0.03, 0.2])
def test_one_bim_step_of_size_eps_is_fgsm(cnn, digits, eps):
    x, y = digits[2], digits[3]
    np.testing.assert_array_equal(
        attacks.bim(cnn, x, y, eps, alpha=eps, steps=1, from_logits=True),
        attacks.fgsm(cnn, x, y, eps, from_logits=True),
    )


def test_pgd_without_random_start_is_bim(cnn, digits):
    x, y = digits[2], digits[3]
    np.testing.assert_array_equal(
        attacks.pgd(cnn, x, y, 0.1, 0.02, 4, random_start=False, from_logits=True),
        attacks.bim(cnn, x, y, 0.1, 0.02, 4, from_logits=True),
    )


def test_pgd_random_start_is_seeded(cnn, digits):
    x, y = digits[2][:16], digits[3][:16]
    a = attacks.pgd(cnn, x, y, 0.1, 0.02, 2, seed=3, from_logits=True)
    b = attacks.pgd(cnn, x, y, 0.1, 0.02, 2, seed=3, from_logits=True)
    c = attacks.pgd(cnn, x, y, 0.1, 0.02, 2, seed=4, from_logits=True)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_robust_accuracy_batches_like_one_call(cnn, digits):
    x, y = digits[2], digits[3]
    acc, x_adv = attacks.robust_accuracy(
        cnn, x, y, "fgsm", eps=0.1, from_logits=True, batch_size=20, return_adversarial=True
    )
    np.testing.assert_array_equal(x_adv, attacks.fgsm(cnn, x, y, 0.1, from_logits=True))
    assert acc == pytest.approx(accuracy(cnn, x_adv, y))
    assert attacks.robust_accuracy(cnn, x, y, "fgsm", eps=0.0, from_logits=True) == pytest.approx(accuracy(cnn, x, y))


def test_predict_classes_is_argmax_for_logits_and_probabilities(cnn, cnn_probabilities, digits):
    x = digits[2]
    expected = np.argmax(keras.ops.convert_to_numpy(cnn(x)), axis=1)
    np.testing.assert_array_equal(attacks.predict_classes(cnn, x, batch_size=7), expected)
    np.testing.assert_array_equal(attacks.predict_classes(cnn_probabilities, x), expected)


@settings(max_examples=40, deadline=None)
@given(eps=st.floats(0, 1), seed=st.integers(0, 10**6), lo=st.floats(-2, 0.5), width=st.floats(0.1, 3))
def test_project_linf_lands_in_both_boxes_and_is_idempotent(eps, seed, lo, width):
    rng = np.random.default_rng(seed)
    hi = lo + width
    x = rng.uniform(lo, hi, (2, 3, 3, 1)).astype(np.float32)
    x_adv = (x + rng.normal(0, 1, x.shape)).astype(np.float32)
    p = attacks.project_linf(x_adv, x, eps, clip=(lo, hi))
    assert np.abs(p - x).max() <= eps + 1e-5
    assert p.min() >= np.float32(lo) and p.max() <= np.float32(hi)
    np.testing.assert_array_equal(attacks.project_linf(p, x, eps, clip=(lo, hi)), p)
    inside = (np.abs(x_adv - x) <= eps) & (x_adv >= lo) & (x_adv <= hi)
    np.testing.assert_array_equal(p[inside], x_adv[inside])  # points already inside do not move


@settings(max_examples=10, deadline=None)
@given(eps=st.floats(0, 0.5), seed=st.integers(0, 10**6), targeted=st.booleans())
def test_fgsm_on_a_linear_model_stays_in_the_box(eps, seed, targeted):
    model, _, _ = linear_model(seed=seed % 7)
    rng = np.random.default_rng(seed)
    x = rng.random((3, 4, 5, 2), dtype=np.float32)
    y = rng.integers(0, 3, 3)
    out = attacks.fgsm(model, x, y, eps, targeted=targeted, from_logits=True)
    assert np.abs(out - x).max() <= eps + TOL and out.min() >= 0 and out.max() <= 1


# --------------------------------------------------------------------------- #
# Adversarial training
# --------------------------------------------------------------------------- #
def test_adversarial_fit_trains_on_attacked_batches(digits):
    x, y = digits[0][:256], digits[1][:256]
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((16, 16, 1)), keras.layers.Flatten(), keras.layers.Dense(10)])
    model.compile(
        keras.optimizers.Adam(1e-2), keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"]
    )
    before = [w.copy() for w in model.get_weights()]
    history = attacks.adversarial_fit(model, x, y, eps=0.1, epochs=2, batch_size=64, from_logits=True, seed=0)
    assert set(history) >= {"loss", "accuracy"} and len(history["loss"]) == 2
    assert np.isfinite(history["loss"]).all() and history["loss"][1] < history["loss"][0]
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    assert int(keras.ops.convert_to_numpy(model.optimizer.iterations)) == 2 * 4
    # Uneven batches (100, 100, 56): the epoch's accuracy is over all 256 images, not the last batch's.
    history = attacks.adversarial_fit(model, x, y, eps=0.1, epochs=1, batch_size=100, from_logits=True, seed=1)
    correct = history["accuracy"][0] * 256
    assert abs(correct - round(correct)) < 1e-3


# --------------------------------------------------------------------------- #
# Bad input gets a clear error
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"eps": -0.1}, r"Expected eps >= 0. Received: eps=-0.1"),
        ({"eps": float("nan")}, r"Expected eps"),
        ({"eps": True}, r"Expected eps"),
        ({"alpha": 0.0}, r"Expected alpha > 0. Received: alpha=0.0"),
        ({"alpha": -1.0}, r"Expected alpha"),
        ({"steps": 0}, r"Expected steps to be a positive integer. Received: steps=0"),
        ({"steps": 2.5}, r"Expected steps"),
        ({"clip": (1.0, 0.0)}, r"Expected clip=\(low, high\) with low < high"),
        ({"clip": 1.0}, r"Expected clip=\(low, high\)"),
        ({"from_logits": None}, r"Expected from_logits=True"),
    ],
)
def test_pgd_rejects_bad_arguments(cnn, digits, kwargs, match):
    args = {"eps": 0.1, "alpha": 0.01, "steps": 2, "from_logits": True, **kwargs}
    with pytest.raises(ValueError, match=match):
        attacks.pgd(cnn, digits[2][:4], digits[3][:4], **args)


@pytest.mark.parametrize("name", ["fgsm", "bim", "pgd"])
def test_attacks_reject_bad_images_and_labels(cnn, digits, name):
    x, y = digits[2][:4], digits[3][:4]
    with pytest.raises(ValueError, match=r"Expected x of shape \(batch, height, width, channels\)\. Received: x of"):
        run(name, cnn, x[0], y[:1], 0.1, from_logits=True)
    with pytest.raises(ValueError, match=r"Expected one label per image. Received: 3 labels for 4 images"):
        run(name, cnn, x, y[:3], 0.1, from_logits=True)
    with pytest.raises(ValueError, match=r"not one-hot"):
        run(name, cnn, x, np.eye(10)[y], 0.1, from_logits=True)
    with pytest.raises(ValueError, match=r"Expected images inside the valid input range"):
        run(name, cnn, x * 255, y, 0.1, from_logits=True)
    with pytest.raises(ValueError, match=r"Expected from_logits=True"):
        run(name, cnn, x, y, 0.1)
    with pytest.raises(ValueError, match=r"Expected eps"):
        run(name, cnn, x, y, -1.0, from_logits=True)


def test_fgsm_rejects_negative_eps_before_any_work(cnn, digits):
    with pytest.raises(ValueError, match=r"Received: eps=-0.5"):
        attacks.fgsm(cnn, digits[2][:2], digits[3][:2], -0.5, from_logits=True)


def test_robust_accuracy_and_adversarial_fit_reject_bad_arguments(cnn, digits):
    x, y = digits[2][:4], digits[3][:4]
    with pytest.raises(ValueError, match=r"Expected attack in \['bim', 'fgsm', 'pgd'\]"):
        attacks.robust_accuracy(cnn, x, y, "cw", eps=0.1, from_logits=True)
    with pytest.raises(ValueError, match=r"Expected batch_size"):
        attacks.robust_accuracy(cnn, x, y, "fgsm", eps=0.1, from_logits=True, batch_size=0)
    uncompiled = keras.Sequential([keras.Input((16, 16, 1)), keras.layers.Flatten(), keras.layers.Dense(10)])
    with pytest.raises(ValueError, match=r"Expected a compiled model"):
        attacks.adversarial_fit(uncompiled, x, y, eps=0.1, from_logits=True)
    with pytest.raises(ValueError, match=r"Expected epochs"):
        attacks.adversarial_fit(cnn, x, y, eps=0.1, epochs=0, from_logits=True)
    with pytest.raises(ValueError, match=r"Expected x_adv and x of the same shape"):
        attacks.project_linf(x[:2], x, 0.1)


def test_traced_gradient_equals_the_autodiff_one(cnn, digits):
    # On TensorFlow input_gradient runs the tape inside a tf.function; it must give lib.autodiff's numbers.
    from lib import autodiff

    x, y = digits[2][:32], digits[3][:32]
    value, grad = attacks.input_gradient(cnn, x, y, from_logits=True)
    ref_value, ref_grad = autodiff.value_and_input_grad(attacks._loss_fn(cnn, y, True, None), x)
    np.testing.assert_allclose(value, float(keras.ops.convert_to_numpy(ref_value)), rtol=1e-5)
    np.testing.assert_allclose(grad, keras.ops.convert_to_numpy(ref_grad), rtol=1e-4, atol=1e-7)
    assert (attacks._traced_gradient(cnn, True) is None) == (keras.backend.backend() != "tensorflow")
