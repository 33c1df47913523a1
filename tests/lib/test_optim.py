"""lib.optim against independent references: keras.optimizers and keras.optimizers.schedules
(step by step), the lecture decks' loops written out in NumPy, numerical gradients, and the
algebraic identities between the update forms."""

import math

import keras
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib import gradcheck, optim

STEPS = 120  # >= 100 steps of every optimizer against Keras


def f32(value):
    return float(np.float32(value))


# --------------------------------------------------------------------------------------
# the test problem: least squares with two parameter arrays, optimum far from the start
# --------------------------------------------------------------------------------------
_rng = np.random.default_rng(0)
X = _rng.normal(size=(64, 3))
W_TRUE = _rng.choice([-1.0, 1.0], size=(3, 2)) * _rng.uniform(1.0, 2.0, size=(3, 2))
B_TRUE = np.array([1.5, -2.0])
Y = X @ W_TRUE + B_TRUE


def grads(w, b):
    r = X @ w + b - Y
    return [X.T @ r / len(X), r.mean(axis=0)]


def run_against_keras(ours, theirs, steps=STEPS, dtype="float64", rtol=1e-9, atol=1e-12, grad_fn=grads):
    params = [np.zeros((3, 2), dtype), np.zeros(2, dtype)]
    variables = [keras.Variable(p.copy(), dtype=dtype, name=n) for p, n in zip(params, ("w", "b"))]
    for step in range(steps):
        ours.step(params, [g.astype(dtype) for g in grad_fn(*params)])
        values = [keras.ops.convert_to_numpy(v) for v in variables]
        theirs.apply([g.astype(dtype) for g in grad_fn(*values)], variables)
        for p, v in zip(params, variables):
            np.testing.assert_allclose(p, keras.ops.convert_to_numpy(v), rtol=rtol, atol=atol, err_msg=f"step {step}")
    return params


# Each lib.optim configuration with its Keras twin (float32-exact hyperparameters on both sides).
KERAS_PAIRS = {
    "sgd": (lambda: optim.SGD(f32(0.05)), lambda: keras.optimizers.SGD(f32(0.05))),
    "sgd_small_lr": (lambda: optim.SGD(f32(0.003)), lambda: keras.optimizers.SGD(f32(0.003))),
    "momentum_0.9": (
        lambda: optim.SGD(f32(0.05), momentum=f32(0.9)),
        lambda: keras.optimizers.SGD(f32(0.05), momentum=f32(0.9)),
    ),
    "momentum_0.5": (lambda: optim.SGD(f32(0.1), momentum=0.5), lambda: keras.optimizers.SGD(f32(0.1), momentum=0.5)),
    "nesterov_0.9": (
        lambda: optim.SGD(f32(0.05), momentum=f32(0.9), nesterov=True),
        lambda: keras.optimizers.SGD(f32(0.05), momentum=f32(0.9), nesterov=True),
    ),
    "nesterov_0.99": (
        lambda: optim.SGD(f32(0.01), momentum=f32(0.99), nesterov=True),
        lambda: keras.optimizers.SGD(f32(0.01), momentum=f32(0.99), nesterov=True),
    ),
    "adagrad_default_keras": (
        lambda: optim.AdaGrad(
            f32(0.1), epsilon=f32(1e-7), initial_accumulator_value=f32(0.1), epsilon_placement="inside"
        ),
        lambda: keras.optimizers.Adagrad(f32(0.1), epsilon=f32(1e-7), initial_accumulator_value=f32(0.1)),
    ),
    "adagrad_zero_accumulator": (
        lambda: optim.AdaGrad(f32(0.3), epsilon=f32(1e-6), epsilon_placement="inside"),
        lambda: keras.optimizers.Adagrad(f32(0.3), epsilon=f32(1e-6), initial_accumulator_value=0.0),
    ),
    "rmsprop_rho_0.9": (
        lambda: optim.RMSProp(f32(0.001), rho=f32(0.9), epsilon=f32(1e-7), epsilon_placement="inside"),
        lambda: keras.optimizers.RMSprop(f32(0.001), rho=f32(0.9), epsilon=f32(1e-7)),
    ),
    "rmsprop_rho_0.99": (
        lambda: optim.RMSProp(f32(0.002), rho=f32(0.99), epsilon=f32(1e-7), epsilon_placement="inside"),
        lambda: keras.optimizers.RMSprop(f32(0.002), rho=f32(0.99), epsilon=f32(1e-7)),
    ),
    "adam_default_keras": (
        lambda: optim.Adam(f32(0.01), f32(0.9), f32(0.999), epsilon=f32(1e-7), epsilon_hat=True),
        lambda: keras.optimizers.Adam(f32(0.01), beta_1=f32(0.9), beta_2=f32(0.999), epsilon=f32(1e-7)),
    ),
    "adam_other_betas": (
        lambda: optim.Adam(f32(0.005), f32(0.8), f32(0.99), epsilon=f32(1e-5), epsilon_hat=True),
        lambda: keras.optimizers.Adam(f32(0.005), beta_1=f32(0.8), beta_2=f32(0.99), epsilon=f32(1e-5)),
    ),
}


@pytest.mark.parametrize("name", sorted(KERAS_PAIRS))
def test_matches_keras_step_by_step_float64(name):
    ours, theirs = KERAS_PAIRS[name]
    params = run_against_keras(ours(), theirs())
    assert np.abs(params[0]).max() > 1e-2  # it really moved


@pytest.mark.parametrize("name", ["momentum_0.9", "adagrad_default_keras", "rmsprop_rho_0.9", "adam_default_keras"])
def test_matches_keras_in_float32(name):
    ours, theirs = KERAS_PAIRS[name]
    run_against_keras(ours(), theirs(), dtype="float32", rtol=2e-5, atol=1e-6)


@pytest.mark.parametrize("name", sorted(KERAS_PAIRS))
def test_to_keras_builds_the_matching_optimizer(name):
    ours, _ = KERAS_PAIRS[name]
    run_against_keras(ours(), ours().to_keras(), steps=30)


@pytest.mark.parametrize(
    "ours, match",
    [
        (optim.AdaGrad(0.1), "epsilon_placement='inside'"),
        (optim.RMSProp(0.1), "epsilon_placement='inside'"),
        (optim.Adam(0.1), "epsilon_hat=True"),
        (optim.SGD(lambda t: 0.1 / (1 + t), momentum=0.9, form="gradient"), "form='velocity'"),
    ],
)
def test_to_keras_refuses_when_keras_has_no_equivalent(ours, match):
    with pytest.raises(ValueError, match=match):
        ours.to_keras()


def test_gradient_form_with_constant_rate_has_a_keras_twin():
    ours = optim.SGD(f32(0.05), momentum=f32(0.9), form="gradient")
    run_against_keras(ours, ours.to_keras())


def test_keras_details_matter():
    """Left at the decks' forms, lib.optim does not match Keras: the details are real."""
    pairs = [
        (optim.AdaGrad(f32(0.1), epsilon=f32(1e-7)), keras.optimizers.Adagrad(f32(0.1), epsilon=f32(1e-7))),
        (
            optim.RMSProp(f32(0.002), rho=f32(0.99), epsilon_placement="inside"),
            keras.optimizers.RMSprop(f32(0.002), rho=f32(0.9)),
        ),
    ]
    for ours, theirs in pairs:
        with pytest.raises(AssertionError):
            run_against_keras(ours, theirs, steps=30)


def test_schedule_as_learning_rate_matches_keras():
    kwargs = optim.annealing_as_inverse_time_decay(0.5, 8.0)
    ours = optim.SGD(lambda t: optim.annealing(t, 0.5, 8.0), momentum=0.9)
    theirs = keras.optimizers.SGD(keras.optimizers.schedules.InverseTimeDecay(**kwargs), momentum=0.9)
    run_against_keras(ours, theirs, rtol=1e-6, atol=1e-8)  # Keras computes the schedule in float32


def test_keras_schedule_object_is_accepted_as_learning_rate():
    schedule = keras.optimizers.schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    opt = optim.SGD(schedule)
    x = np.zeros(1)
    for _ in range(20):
        opt.step(x, np.ones(1))
    expected = sum(0.1 * 0.5 ** (t / 10) for t in range(20))
    np.testing.assert_allclose(-x, expected, rtol=1e-6)


# --------------------------------------------------------------------------------------
# the decks' own loops, written out independently
# --------------------------------------------------------------------------------------
def deck_loop(rule, steps=STEPS, lr=0.01, **kw):
    """The ShanghaiTech deck's code (with the SGD sign fixed), and Kingma & Ba's Algorithm 1."""
    w, b = np.zeros((3, 2)), np.zeros(2)
    state = [dict(), dict()]
    for t in range(1, steps + 1):
        for p, g, s in zip((w, b), grads(w, b), state):
            if rule == "sgd":
                p -= lr * g
            elif rule == "momentum":
                s["v"] = kw["rho"] * s.get("v", 0) + g
                p -= lr * s["v"]
            elif rule == "adagrad":
                s["r"] = s.get("r", 0) + g * g
                p -= lr * g / (np.sqrt(s["r"]) + 1e-7)
            elif rule == "rmsprop":
                s["r"] = kw["decay_rate"] * s.get("r", 0) + (1 - kw["decay_rate"]) * g * g
                p -= lr * g / (np.sqrt(s["r"]) + 1e-7)
            elif rule == "adam_almost":
                s["m1"] = kw["beta1"] * s.get("m1", 0) + (1 - kw["beta1"]) * g
                s["m2"] = kw["beta2"] * s.get("m2", 0) + (1 - kw["beta2"]) * g * g
                p -= lr * s["m1"] / (np.sqrt(s["m2"]) + 1e-7)
            elif rule == "adam":
                s["m"] = kw["beta1"] * s.get("m", 0) + (1 - kw["beta1"]) * g
                s["v"] = kw["beta2"] * s.get("v", 0) + (1 - kw["beta2"]) * g * g
                m_hat = s["m"] / (1 - kw["beta1"] ** t)
                v_hat = s["v"] / (1 - kw["beta2"] ** t)
                p -= lr * m_hat / (np.sqrt(v_hat) + 1e-8)
    return w, b


@pytest.mark.parametrize(
    "rule, ours, kw",
    [
        ("sgd", optim.SGD(0.01), {}),
        ("momentum", optim.SGD(0.01, momentum=0.9, form="gradient"), {"rho": 0.9}),
        ("momentum", optim.SGD(0.01, momentum=0.99, form="gradient"), {"rho": 0.99}),
        ("adagrad", optim.AdaGrad(0.01, epsilon=1e-7), {}),
        ("rmsprop", optim.RMSProp(0.01, rho=0.9, epsilon=1e-7), {"decay_rate": 0.9}),
        ("rmsprop", optim.RMSProp(0.01, rho=0.99, epsilon=1e-7), {"decay_rate": 0.99}),
        ("adam_almost", optim.Adam(0.01, epsilon=1e-7, bias_correction=False), {"beta1": 0.9, "beta2": 0.999}),
        ("adam", optim.Adam(0.01), {"beta1": 0.9, "beta2": 0.999}),
        ("adam", optim.Adam(0.01, beta_1=0.5, beta_2=0.9), {"beta1": 0.5, "beta2": 0.9}),
    ],
)
def test_matches_the_decks_loops(rule, ours, kw):
    expected = deck_loop(rule, **kw)
    params = [np.zeros((3, 2)), np.zeros(2)]
    for _ in range(STEPS):
        ours.step(params, grads(*params))
    for p, e in zip(params, expected):
        np.testing.assert_allclose(p, e, rtol=1e-12, atol=1e-14)


@settings(max_examples=30, deadline=None)
@given(lr=st.floats(1e-4, 0.05), mu=st.floats(0.0, 0.99), nesterov=st.booleans())
def test_momentum_forms_are_one_trajectory_with_a_constant_rate(lr, mu, nesterov):
    surface = optim.ravine(20)
    a = optim.trajectory(optim.SGD(lr, mu, nesterov, form="velocity"), surface, 60)
    b = optim.trajectory(optim.SGD(lr, mu, nesterov, form="gradient"), surface, 60)
    np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def test_momentum_forms_differ_under_a_schedule():
    surface = optim.ravine(50)
    schedule = lambda t: optim.annealing(t, 0.2, 5.0)  # noqa: E731
    a = optim.trajectory(optim.SGD(schedule, 0.9, form="velocity"), surface, 50)
    b = optim.trajectory(optim.SGD(schedule, 0.9, form="gradient"), surface, 50)
    assert np.abs(a - b).max() > 1e-3


@settings(max_examples=30, deadline=None)
@given(
    t=st.integers(1, 5000),
    g=st.floats(1e-4, 10.0),
    m=st.floats(-1.0, 1.0),
    v=st.floats(1e-10, 1.0),
    beta_2=st.sampled_from([0.9, 0.99, 0.999]),
)
def test_adam_epsilon_hat_is_algorithm_1_with_a_rescaled_epsilon(t, g, m, v, beta_2):
    eps = 1e-7
    hat = optim.Adam(0.01, beta_2=beta_2, epsilon=eps, epsilon_hat=True)
    paper = optim.Adam(0.01, beta_2=beta_2, epsilon=eps / math.sqrt(1 - beta_2**t))
    xs = []
    for opt in (hat, paper):
        opt.iterations = t - 1
        opt.state[0] = {"m": np.array([m]), "v": np.array([v])}
        x = np.zeros(1)
        opt.step([x], [np.array([g])])
        xs.append(x)
    np.testing.assert_allclose(xs[0], xs[1], rtol=1e-9, atol=1e-15)


@settings(max_examples=30, deadline=None)
@given(g=st.lists(st.floats(1e-2, 1e3), min_size=1, max_size=4), lr=st.floats(1e-4, 1.0))
def test_adam_first_step_is_the_learning_rate_and_uncorrected_is_3_16_times_larger(g, lr):
    g = np.array(g)
    corrected, almost = np.zeros_like(g), np.zeros_like(g)
    optim.Adam(lr, epsilon=1e-12).step(corrected, g)
    optim.Adam(lr, epsilon=1e-12, bias_correction=False).step(almost, g)
    np.testing.assert_allclose(-corrected, lr, rtol=1e-6)
    np.testing.assert_allclose(almost / corrected, 0.1 / math.sqrt(0.001), rtol=1e-6)


# --------------------------------------------------------------------------------------
# gradient accumulation and weight averaging
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("make", [lambda: optim.SGD(0.05, momentum=0.9), lambda: optim.Adam(0.01)])
def test_accumulated_micro_batches_equal_one_large_batch(make):
    rows = np.arange(64)
    micro = [rows[i : i + 16] for i in range(0, 64, 16)]

    def batch_grads(w, b, idx):
        r = X[idx] @ w + b - Y[idx]
        return [X[idx].T @ r / len(idx), r.mean(axis=0)]

    large = [np.zeros((3, 2)), np.zeros(2)]
    small = [np.zeros((3, 2)), np.zeros(2)]
    big_opt, acc = make(), optim.GradientAccumulator(make(), steps=4)
    for _ in range(10):
        big_opt.step(large, batch_grads(*large, rows))
        applied = [acc.step(small, batch_grads(*small, idx)) for idx in micro]
        assert applied == [False, False, False, True]
    for a, b in zip(large, small):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    assert acc.optimizer.iterations == 10 and acc.micro_steps == 40


def test_gradient_accumulator_matches_keras_gradient_accumulation_steps():
    rng = np.random.default_rng(1)
    micro_grads = [[rng.normal(size=(3, 2)), rng.normal(size=2)] for _ in range(12)]
    params = [np.zeros((3, 2)), np.zeros(2)]
    variables = [keras.Variable(p.copy(), dtype="float64", name=n) for p, n in zip(params, ("w", "b"))]
    acc = optim.GradientAccumulator(optim.SGD(f32(0.1), momentum=f32(0.9)), steps=3)
    theirs = keras.optimizers.SGD(f32(0.1), momentum=f32(0.9), gradient_accumulation_steps=3)
    for g in micro_grads:
        acc.step(params, g)
        theirs.apply(g, variables)
        for p, v in zip(params, variables):
            np.testing.assert_allclose(p, keras.ops.convert_to_numpy(v), rtol=1e-12, atol=1e-14)
    assert int(theirs.iterations) == acc.optimizer.iterations == 4


def test_ema_matches_keras_use_ema():
    rng = np.random.default_rng(2)
    x = np.array([1.0, -1.0])
    w = keras.Variable(x.copy(), dtype="float64", name="x")
    ours_opt, ema = optim.SGD(f32(0.1)), optim.ExponentialMovingAverage(0.9)
    theirs = keras.optimizers.SGD(f32(0.1), use_ema=True, ema_momentum=0.9)
    for _ in range(STEPS):
        g = rng.normal(size=2)
        ours_opt.step([x], [g])
        ema.update([x])
        theirs.apply([g], [w])
        np.testing.assert_allclose(ema.average[0], optim.keras_slot(theirs, w, "average"), rtol=1e-12, atol=1e-14)


def test_ema_first_update_copies_then_averages():
    ema = optim.ExponentialMovingAverage(0.995)
    x = np.array([2.0])
    assert ema.update([x])[0] is not x
    np.testing.assert_array_equal(ema.average[0], [2.0])
    ema.update([np.array([4.0])])
    np.testing.assert_allclose(ema.average[0], [0.995 * 2.0 + 0.005 * 4.0])


@settings(max_examples=30, deadline=None)
@given(values=st.lists(st.floats(-100, 100), min_size=1, max_size=30), momentum=st.floats(0.0, 0.999))
def test_ema_stays_within_the_range_of_what_it_averaged(values, momentum):
    ema = optim.ExponentialMovingAverage(momentum)
    for v in values:
        ema.update([np.array([v])])
    assert min(values) - 1e-9 <= ema.average[0][0] <= max(values) + 1e-9


def test_keras_slot_reads_momentum_and_names_what_exists():
    w = keras.Variable(np.zeros(2), dtype="float64", name="w")
    opt = keras.optimizers.SGD(0.5, momentum=0.9)
    opt.apply([np.array([1.0, 2.0])], [w])
    np.testing.assert_allclose(optim.keras_slot(opt, w, "momentum"), [-0.5, -1.0])
    with pytest.raises(KeyError, match="w_momentum"):
        optim.keras_slot(opt, w, "velocity")


# --------------------------------------------------------------------------------------
# schedules against keras.optimizers.schedules
# --------------------------------------------------------------------------------------
STEP_GRID = np.arange(0, 1500)
# Schedules Keras evaluates one Python step at a time (warm-up uses ops.cond): a coarser grid, plus
# both sides of the warm-up ends, since each call costs a few ms of op dispatch (more on JAX).
SCALAR_GRID = np.unique(np.r_[STEP_GRID[::25], 99, 100, 101, 249, 250, 251])


def keras_values(schedule, scalar=False):
    if scalar:
        return np.array([float(schedule(float(s))) for s in SCALAR_GRID])
    return keras.ops.convert_to_numpy(schedule(STEP_GRID.astype("float32")))


S = keras.optimizers.schedules


@pytest.mark.parametrize(
    "ours, theirs, scalar",
    [
        (
            lambda t: optim.annealing(t, 1.0, 10.0),
            S.InverseTimeDecay(**optim.annealing_as_inverse_time_decay(1.0, 10.0)),
            False,
        ),
        (
            lambda t: optim.annealing(t, 0.3, 2.5),
            S.InverseTimeDecay(**optim.annealing_as_inverse_time_decay(0.3, 2.5)),
            False,
        ),
        (
            lambda t: optim.piecewise_constant(t, [300, 600], [0.1, 0.01, 0.001]),
            S.PiecewiseConstantDecay([300, 600], [0.1, 0.01, 0.001]),
            False,
        ),
        (lambda t: optim.piecewise_constant(t, [10], [1.0, 0.5]), S.PiecewiseConstantDecay([10], [1.0, 0.5]), False),
        (lambda t: optim.exponential_decay(t, 0.1, 100, 0.8), S.ExponentialDecay(0.1, 100, 0.8), False),
        (
            lambda t: optim.exponential_decay(t, 0.1, 100, 0.8, staircase=True),
            S.ExponentialDecay(0.1, 100, 0.8, staircase=True),
            False,
        ),
        (lambda t: optim.cosine_decay(t, 0.1, 1000), S.CosineDecay(0.1, 1000), False),
        (lambda t: optim.cosine_decay(t, 0.1, 700, alpha=0.1), S.CosineDecay(0.1, 700, alpha=0.1), False),
        (
            lambda t: optim.cosine_decay(t, 0.0, 900, warmup_target=0.1, warmup_steps=100),
            S.CosineDecay(0.0, 900, warmup_target=0.1, warmup_steps=100),
            True,
        ),
        (
            lambda t: optim.cosine_decay(t, 0.01, 500, alpha=0.05, warmup_target=0.2, warmup_steps=250),
            S.CosineDecay(0.01, 500, alpha=0.05, warmup_target=0.2, warmup_steps=250),
            True,
        ),
        (lambda t: optim.cosine_decay_restarts(t, 0.1, 100), S.CosineDecayRestarts(0.1, 100), False),
        (
            lambda t: optim.cosine_decay_restarts(t, 0.1, 100, t_mul=1.0),
            S.CosineDecayRestarts(0.1, 100, t_mul=1.0),
            False,
        ),
        (
            lambda t: optim.cosine_decay_restarts(t, 0.1, 60, t_mul=1.5, m_mul=0.7, alpha=0.05),
            S.CosineDecayRestarts(0.1, 60, t_mul=1.5, m_mul=0.7, alpha=0.05),
            False,
        ),
    ],
)
def test_schedules_match_keras(ours, theirs, scalar):
    expected = keras_values(theirs, scalar)
    steps = SCALAR_GRID if scalar else STEP_GRID
    np.testing.assert_allclose(ours(steps), expected, rtol=2e-5, atol=1e-7)


@settings(max_examples=40, deadline=None)
@given(a=st.floats(1e-3, 10.0), epsilon=st.floats(0.1, 1000.0), t=st.integers(0, 10**6))
def test_annealing_is_inverse_time_decay(a, epsilon, t):
    kw = optim.annealing_as_inverse_time_decay(a, epsilon)
    inverse_time = kw["initial_learning_rate"] / (1 + kw["decay_rate"] * t / kw["decay_steps"])  # InverseTimeDecay's
    np.testing.assert_allclose(optim.annealing(t, a, epsilon), inverse_time, rtol=1e-12)
    assert optim.annealing(0, a, epsilon) == pytest.approx(a / epsilon)


@pytest.mark.parametrize("t_mul, m_mul", [(1.0, 1.0), (2.0, 1.0), (2.0, 0.8), (1.5, 0.9)])
def test_restart_ends_are_where_the_rate_bottoms_out_and_restarts(t_mul, m_mul):
    ends = optim.restart_ends(40, cycles=4, t_mul=t_mul)
    values = optim.cosine_decay_restarts(np.arange(ends[-1] + 1), 0.1, 40, t_mul=t_mul, m_mul=m_mul)
    for k, e in enumerate(ends):
        assert values[e - 1] < 0.1 * 0.01
        np.testing.assert_allclose(values[e], 0.1 * m_mul ** (k + 1), rtol=1e-9)


def test_restart_ends_values():
    assert optim.restart_ends(100, 3, t_mul=2.0) == [100, 300, 700]
    assert optim.restart_ends(48, 3, t_mul=1.0) == [48, 96, 144]


# --------------------------------------------------------------------------------------
# surfaces, trajectories, plotting
# --------------------------------------------------------------------------------------
SURFACES = [optim.ravine(50), optim.ravine(50, angle=0.7), optim.saddle(), optim.saddle(3.0), optim.rosenbrock()]


@pytest.mark.parametrize("surface", SURFACES, ids=[s.name for s in SURFACES])
@settings(max_examples=20, deadline=None)
@given(x=st.floats(-2, 2), y=st.floats(-2, 2))
def test_surface_gradient_matches_numerical_gradient(surface, x, y):
    p = np.array([x, y])
    numerical = gradcheck.numerical_gradient(surface.f, p, h=1e-6)
    np.testing.assert_allclose(surface.grad(p), numerical, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("surface", SURFACES, ids=[s.name for s in SURFACES])
def test_surface_minima_have_zero_gradient_and_lowest_value(surface):
    for m in surface.minima:
        np.testing.assert_allclose(surface.grad(m), 0.0, atol=1e-12)
        xs = m + np.random.default_rng(0).normal(scale=0.1, size=(50, 2))
        assert np.all(surface.f(xs) >= surface.f(m))


def test_ravine_condition_number():
    for angle in (0.0, 0.3):
        surface = optim.ravine(50, angle=angle)
        hessian = np.array([surface.grad(e) for e in np.eye(2)])
        eig = np.linalg.eigvalsh(hessian)
        np.testing.assert_allclose(eig.max() / eig.min(), 50.0)


def test_trajectory_and_steps_to_reach():
    surface = optim.ravine(10)
    path = optim.trajectory(optim.SGD(0.1), surface, 200)
    assert path.shape == (201, 2)
    np.testing.assert_array_equal(path[0], surface.start)
    steps = surface.steps_to_reach(path, 0.01)
    assert steps is not None and surface.distances(path)[steps] <= 0.01 < surface.distances(path)[steps - 1]
    assert surface.steps_to_reach(path[:3], 0.01) is None


def test_divergent_trajectory_gives_nans_not_an_error():
    surface = optim.ravine(50)
    path = optim.trajectory(optim.SGD(1.0), surface, 100)
    assert np.isnan(path[-1]).all() and np.isfinite(path[0]).all()
    assert surface.steps_to_reach(path, 0.01) is None


def test_momentum_shortens_the_ravine_and_adam_leaves_the_saddle_sooner():
    ravine = optim.ravine(50)
    sgd = ravine.steps_to_reach(optim.trajectory(optim.SGD(0.035), ravine, 1000), 0.01)
    momentum = ravine.steps_to_reach(optim.trajectory(optim.SGD(0.01, momentum=0.8), ravine, 1000), 0.01)
    assert momentum < sgd
    saddle = optim.saddle()
    leave = lambda path: int(np.argmax(np.abs(path[:, 1]) > 0.5))  # noqa: E731
    adam, sgd = optim.trajectory(optim.Adam(0.05), saddle, 300), optim.trajectory(optim.SGD(0.15), saddle, 300)
    assert leave(adam) < leave(sgd)


def test_plot_paths_returns_a_figure():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    surface = optim.rosenbrock()
    fig = optim.plot_paths(surface, {"SGD": optim.trajectory(optim.SGD(1e-3), surface, 20)}, title="t")
    assert fig.axes[0].get_title() == "t" and len(fig.axes[0].lines) >= 2
    plt.close(fig)


# --------------------------------------------------------------------------------------
# interface and bad arguments
# --------------------------------------------------------------------------------------
def test_step_updates_in_place_and_accepts_a_single_array():
    x = np.array([1.0, 2.0])
    out = optim.SGD(0.5).step(x, np.array([1.0, 1.0]))
    assert out is x
    np.testing.assert_array_equal(x, [0.5, 1.5])
    params = [np.ones(2), np.ones((2, 2))]
    opt = optim.SGD(0.1, momentum=0.9)
    assert opt.step(params, [np.ones(2), np.ones((2, 2))]) is params
    assert opt.iterations == 1 and set(opt.state) == {0, 1}


def test_float32_parameters_stay_float32():
    x = np.ones(3, dtype="float32")
    for opt in (optim.SGD(0.1, 0.9), optim.AdaGrad(0.1), optim.RMSProp(0.1), optim.Adam(0.1)):
        opt.step(x, np.ones(3))
        assert x.dtype == np.float32


def test_config_and_repr():
    opt = optim.Adam(0.01, beta_1=0.8, epsilon_hat=True)
    assert opt.get_config()["beta_1"] == 0.8 and "epsilon_hat=True" in repr(opt)
    assert optim.SGD(0.1, 0.9, form="gradient").get_config()["form"] == "gradient"


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: optim.SGD(-0.1), r"Expected learning_rate >= 0. Received: learning_rate=-0.1"),
        (lambda: optim.Adam(learning_rate=-1e-3), r"learning_rate=-0.001"),
        (lambda: optim.SGD("0.1"), r"learning_rate='0.1'"),
        (lambda: optim.SGD(float("nan")), r"learning_rate=nan"),
        (lambda: optim.SGD(0.1, momentum=1.0), r"Expected momentum in \[0, 1\)\. Received: momentum=1.0"),
        (lambda: optim.SGD(0.1, momentum=-0.1), r"Expected momentum in \[0, 1\)\. Received: momentum=-0.1"),
        (lambda: optim.SGD(0.1, momentum=1.5), r"momentum=1.5"),
        (lambda: optim.RMSProp(0.1, rho=1.0), r"Expected rho in \[0, 1\)\. Received: rho=1.0"),
        (lambda: optim.RMSProp(0.1, rho=-0.5), r"Expected rho in \[0, 1\)\. Received: rho=-0.5"),
        (lambda: optim.Adam(0.1, beta_1=1.0), r"Expected beta_1 in \[0, 1\)\. Received: beta_1=1.0"),
        (lambda: optim.Adam(0.1, beta_2=1.2), r"Expected beta_2 in \[0, 1\)\. Received: beta_2=1.2"),
        (lambda: optim.AdaGrad(0.1, epsilon=0.0), r"Expected epsilon > 0\. Received: epsilon=0.0"),
        (lambda: optim.RMSProp(0.1, epsilon=-1e-7), r"Expected epsilon > 0\. Received: epsilon=-1e-07"),
        (lambda: optim.Adam(0.1, epsilon=0), r"Expected epsilon > 0\. Received: epsilon=0"),
        (lambda: optim.AdaGrad(0.1, initial_accumulator_value=-1), r"initial_accumulator_value >= 0"),
        (lambda: optim.SGD(0.1, form="pytorch"), r"Expected form to be one of \['velocity', 'gradient'\]"),
        (lambda: optim.RMSProp(0.1, epsilon_placement="middle"), r"Expected epsilon_placement to be one of"),
        (lambda: optim.Adam(0.1, bias_correction=False, epsilon_hat=True), r"needs bias_correction=True"),
        (lambda: optim.GradientAccumulator(optim.SGD(0.1), steps=0), r"Expected steps to be a positive integer"),
        (lambda: optim.ExponentialMovingAverage(1.0), r"Expected momentum in \[0, 1\)\. Received: momentum=1.0"),
        (lambda: optim.annealing(1, a=1.0, epsilon=0.0), r"Expected epsilon > 0"),
        (lambda: optim.piecewise_constant(1, [10, 20], [1.0, 0.5]), r"len\(values\) == len\(boundaries\) \+ 1"),
        (lambda: optim.piecewise_constant(1, [20, 10], [1.0, 0.5, 0.1]), r"increasing boundaries"),
        (lambda: optim.exponential_decay(1, 0.1, 0, 0.5), r"Expected decay_steps > 0"),
        (lambda: optim.cosine_decay(1, 0.0, 10, warmup_target=0.1), r"warmup_steps > 0"),
        (lambda: optim.restart_ends(10, 0), r"Expected cycles to be a positive integer"),
        (lambda: optim.ravine(-1.0), r"Expected condition > 0"),
    ],
)
def test_bad_arguments_raise_clear_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_gradient_accumulator_needs_a_lib_optimizer():
    with pytest.raises(TypeError, match="lib.optim.Optimizer"):
        optim.GradientAccumulator(keras.optimizers.SGD(0.1), steps=2)


def test_step_rejects_mismatched_or_non_float_inputs():
    opt = optim.SGD(0.1)
    with pytest.raises(ValueError, match="one gradient per parameter"):
        opt.step([np.zeros(2), np.zeros(2)], [np.zeros(2)])
    with pytest.raises(ValueError, match=r"gradient 0 of shape \(2,\)"):
        opt.step([np.zeros(2)], [np.zeros(3)])
    with pytest.raises(TypeError, match="floating-point NumPy arrays"):
        opt.step([np.zeros(2, dtype=int)], [np.zeros(2)])
    with pytest.raises(TypeError, match="floating-point NumPy arrays"):
        opt.step([[0.0, 0.0]], [np.zeros(2)])


# --------------------------------------------------------------------------------------
# softmax regression: the loss and gradients, and the training loop against Keras's SGD
# --------------------------------------------------------------------------------------
def test_softmax_cross_entropy_matches_keras_and_its_gradient_is_the_numerical_one():
    rng = np.random.default_rng(0)
    logits, labels = 5 * rng.normal(size=(6, 4)), rng.integers(0, 4, 6)
    loss, grad = optim.softmax_cross_entropy(logits, labels)
    keras_loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(labels, logits.astype("float32"))
    assert loss == pytest.approx(float(keras_loss), rel=1e-5)
    numeric = gradcheck.numerical_gradient(lambda z: optim.softmax_cross_entropy(z, labels)[0], logits)
    assert gradcheck.relative_error(grad, numeric) < 1e-7
    big, _ = optim.softmax_cross_entropy(logits + 1e4, labels)  # the row max is subtracted: no overflow
    assert big == pytest.approx(loss, rel=1e-9)
    with pytest.raises(ValueError, match=r"Expected logits \(n, classes\) and n integer labels"):
        optim.softmax_cross_entropy(logits, labels[:3])


def test_softmax_regression_gradients_are_the_numerical_ones():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(8, 5)), rng.integers(0, 3, 8)
    kernel, bias = rng.normal(size=(5, 3)), rng.normal(size=3)
    loss, (d_kernel, d_bias) = optim.softmax_regression(kernel, bias, x, y)
    assert loss == optim.softmax_cross_entropy(x @ kernel + bias, y)[0]
    numeric_kernel = gradcheck.numerical_gradient(lambda k: optim.softmax_regression(k, bias, x, y)[0], kernel)
    numeric_bias = gradcheck.numerical_gradient(lambda b: optim.softmax_regression(kernel, b, x, y)[0], bias)
    assert gradcheck.relative_error(d_kernel, numeric_kernel) < 1e-7
    assert gradcheck.relative_error(d_bias, numeric_bias) < 1e-7
