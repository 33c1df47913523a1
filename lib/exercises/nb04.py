"""Checks for notebook 04 (optimizers and schedules). Each computes the right answer itself (NumPy/Keras/lib)."""

from __future__ import annotations

import math

import numpy as np

from lib.exercises import Wrong, exercise, expect_bool, expect_close, expect_equal, expect_true, is_number


def _number(name, value):
    expect_true(is_number(value), f"{name}: expected a number, received {type(value).__name__} {value!r}.")
    return float(value)


def _choice(name, value, choices):
    text = value.strip().lower() if isinstance(value, str) else None
    expect_true(text in choices, f"{name}: expected one of {', '.join(map(repr, choices))}, received {value!r}.")
    return text


def _rosenbrock_momentum(momentum_at, lr=0.002, steps=500):
    """Velocity-form heavy ball on (1 - x)^2 + 100 (y - x^2)^2 from (-1.2, 1), in plain NumPy."""
    p, v = np.array([-1.2, 1.0]), np.zeros(2)
    for t in range(steps):
        x, y = p
        grad = np.array([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)])
        v = momentum_at(t) * v - lr * grad
        p = p + v
    return float(np.linalg.norm(p - np.array([1.0, 1.0])))


@exercise("04.1", "The NTU deck's momentum warm-up")
def _momentum_warm_up(distance_constant_1, distance_warm_1, closer_1):
    constant = _rosenbrock_momentum(lambda t: 0.9)
    warm = _rosenbrock_momentum(lambda t: 0.1 if t < 50 else 0.9)
    got_constant, got_warm = (
        _number("distance_constant_1", distance_constant_1),
        _number("distance_warm_1", distance_warm_1),
    )
    if math.isclose(got_constant, warm, rel_tol=1e-4) and math.isclose(got_warm, constant, rel_tol=1e-4):
        raise Wrong("distance_constant_1 and distance_warm_1 are swapped.")
    expect_close(
        "distance after 500 steps, constant momentum 0.9",
        got_constant,
        constant,
        rtol=1e-4,
        hint="optim.SGD(0.002, momentum=0.9), 500 steps from rosenbrock().start.",
    )
    expect_close(
        "distance after 500 steps, momentum 0.1 then 0.9",
        got_warm,
        warm,
        rtol=1e-4,
        hint="set optimizer.momentum = 0.9 before step 50 (steps counted from 0), keep the same optimizer.",
    )
    best = "warm-up" if warm < constant else "constant"
    expect_equal(
        "closer_1",
        _choice("closer_1", closer_1, ("constant", "warm-up")),
        best,
        hint=f"the run with the smaller final distance ({min(warm, constant):.4f}).",
    )


_WHY_2 = {
    "a": "",
    "b": "the best rate was picked for every angle separately, for AdaGrad as well; that alone cannot make a count "
    "independent of the angle.",
    "c": "that is what AdaGrad (and Adam) do, and it is why their counts do depend on the angle: the coordinates "
    "they scale separately stop being the ravine's axes.",
    "d": "a rotation changes no eigenvalue of the Hessian; the condition number stays 50 at every angle.",
}


def _best_steps(make, angle):
    from lib import optim

    surface = optim.ravine(50, angle=math.radians(angle))
    best = None
    for lr in np.geomspace(1e-4, 3.0, 16)[::2]:
        path = optim.trajectory(make(lr), surface, 500)
        steps = surface.steps_to_reach(path, 0.01)
        final = surface.distances(path)[-1]
        key = (steps if steps is not None else math.inf, final if np.isfinite(final) else math.inf)
        best = key if best is None or key < best else best
    return best[0]


@exercise("04.2", "Adaptivity is per coordinate")
def _adaptivity_per_coordinate(momentum_steps_2, adagrad_steps_2, why_2):
    from lib import optim

    angles = (0, 15, 30, 45)
    for name, value in (("momentum_steps_2", momentum_steps_2), ("adagrad_steps_2", adagrad_steps_2)):
        expect_true(
            isinstance(value, (list, tuple, np.ndarray))
            and len(value) == len(angles)
            and all(is_number(v) or v == math.inf for v in value),
            f"{name}: expected four step counts (angles 0, 15, 30, 45), received {value!r}.",
        )
    momentum = [_best_steps(lambda lr: optim.SGD(lr, momentum=0.9), a) for a in angles]
    adagrad = [_best_steps(lambda lr: optim.AdaGrad(lr), a) for a in angles]
    expect_equal(
        "momentum's steps to reach, angles 0/15/30/45",
        [float(v) for v in momentum_steps_2],
        [float(v) for v in momentum],
        hint="best rate from grid[::2] for each angle, ranked with score.",
    )
    expect_equal(
        "AdaGrad's steps to reach, angles 0/15/30/45",
        [float(v) for v in adagrad_steps_2],
        [float(v) for v in adagrad],
        hint="best rate from grid[::2] for each angle, ranked with score.",
    )
    letter = _choice("why_2", why_2.strip("()") if isinstance(why_2, str) else why_2, tuple(_WHY_2))
    if letter != "a":
        raise Wrong(f"why_2: not ({letter}): {_WHY_2[letter]}")
    return (
        f"correct: momentum needs {momentum[0]} steps at every angle; AdaGrad goes from {adagrad[0]} "
        f"(axis-aligned) to {adagrad[-1]} (45 degrees)."
    )


def _keras_path(keras_optimizer, grads_fn, steps, shapes):
    import keras

    from lib.environment import float64

    path = []
    with float64():  # float64 variables on every backend (JAX: x64 mode inside)
        params = [keras.Variable(np.zeros(s), dtype="float64") for s in shapes]
        for _ in range(steps):
            values = [keras.ops.convert_to_numpy(p) for p in params]
            keras_optimizer.apply(grads_fn(*values), params)
            path.append([keras.ops.convert_to_numpy(p).copy() for p in params])
    return path


@exercise("04.3", "AMSGrad")
def _amsgrad(amsgrad_class_3):
    import keras

    from lib import optim

    expect_true(
        isinstance(amsgrad_class_3, type) and issubclass(amsgrad_class_3, optim.Adam),
        f"amsgrad_class_3: expected a subclass of optim.Adam (the class itself, not an instance), "
        f"received {amsgrad_class_3!r}.",
    )
    f32 = lambda v: float(np.float32(v))
    rng = np.random.default_rng(4)
    x = rng.normal(size=(32, 3)) * np.array([5.0, 1.0, 0.2])  # uneven scales: the max of v matters early
    y = x @ rng.normal(size=(3, 2)) + 1.0

    def grads(w, b):
        r = x @ w + b - y
        return [x.T @ r / len(x), r.mean(axis=0)]

    steps = 40
    ours = amsgrad_class_3(f32(0.05), f32(0.9), f32(0.999), epsilon=1e-7, epsilon_hat=True)
    params = [np.zeros((3, 2)), np.zeros(2)]
    path = []
    for _ in range(steps):
        ours.step(params, grads(*params))
        path.append([p.copy() for p in params])
    make = lambda ams: keras.optimizers.Adam(
        learning_rate=f32(0.05), beta_1=f32(0.9), beta_2=f32(0.999), epsilon=f32(1e-7), amsgrad=ams
    )
    keras_ams = _keras_path(make(True), grads, steps, [(3, 2), (2,)])
    for t, (mine, theirs) in enumerate(zip(path, keras_ams), start=1):
        if all(np.allclose(a, b, rtol=1e-9, atol=1e-12) for a, b in zip(mine, theirs)):
            continue
        plain = _keras_path(make(False), grads, t, [(3, 2), (2,)])[-1]  # plain Adam, only to explain a mismatch
        if all(np.allclose(a, b, rtol=1e-9, atol=1e-12) for a, b in zip(mine, plain)):
            raise Wrong(
                f"step {t}: your steps are plain Adam's, not AMSGrad's. Hint: keep a slot with the running "
                f"maximum of v (np.maximum) and divide by its square root."
            )
        worst = max(float(np.max(np.abs(a - b))) for a, b in zip(mine, theirs))
        raise Wrong(
            f"step {t}: parameters differ from Keras's Adam(amsgrad=True) by {worst:.3g}. Hint: Keras "
            f"updates m and v, takes v_max = max(v_max, v), and steps lr * sqrt(1 - b2^t) / (1 - b1^t) * m "
            f"/ (sqrt(v_max) + epsilon)."
        )
    return f"correct: {steps} steps equal to Keras's Adam(amsgrad=True)."


def _ravine_gd_y(rate, steps=50, condition=50.0):
    """Gradient descent on 0.5 (x^2 + condition y^2) from (-4.5, 0.6) (lib.optim.ravine's start), in plain NumPy;
    ``rate`` is a number or a function of the step. The steep coordinate y after every step."""
    p, curvature, ys = np.array([-4.5, 0.6]), np.array([1.0, condition]), []
    for t in range(steps):
        p = p - (rate(t) if callable(rate) else rate) * curvature * p
        ys.append(p[1])
    return np.array(ys)


@exercise("04.4", "Warm-up cannot fix a rate that stays too large")
def _warm_up_too_large(threshold_4, growth_4, warmup_fixes_4):
    threshold = 2 / 50.0
    got = _number("threshold_4", threshold_4)
    if math.isclose(got, 1 / 50, rel_tol=1e-6):
        raise Wrong(
            "threshold_4: 1/50 is the rate that removes the steep direction in one step; gradient descent "
            "stays stable up to twice that: |1 - lr * 50| < 1."
        )
    expect_close("largest stable rate 2 / lambda_max", got, threshold, rtol=1e-6, hint="|1 - lr * lambda_max| < 1.")
    expect_true(
        isinstance(growth_4, (list, tuple, np.ndarray)) and len(growth_4) == 2 and all(is_number(v) for v in growth_4),
        f"growth_4: expected two growth factors [constant, with warm-up], received {growth_4!r}.",
    )
    ys = [_ravine_gd_y(0.045), _ravine_gd_y(lambda t: 0.045 * min(1.0, (t + 1) / 20))]
    want = [float(abs(y[-1] / y[-11])) for y in ys]
    got_growth = [float(v) for v in growth_4]
    if np.allclose(got_growth, [1 / w for w in want], rtol=1e-3):
        raise Wrong("growth_4: upside down; give |y after step 50| / |y after step 40|.")
    expect_close(
        "growth of |y| over steps 41-50 [constant, warm-up]",
        got_growth,
        want,
        rtol=1e-3,
        hint="path = optim.trajectory(optim.SGD(rate), optim.ravine(50), 50); abs(path[50, 1] / path[40, 1]); "
        "the warm-up rate is lambda t: 0.045 * min(1, (t + 1) / 20).",
    )
    expect_bool("warmup_fixes_4", warmup_fixes_4)
    if warmup_fixes_4:
        raise Wrong(
            f"warmup_fixes_4: after the 20 warm-up steps the rate is 0.045 > 2/50 for good, and the steep direction "
            f"grows by |1 - 0.045 * 50| = 1.25 per step in both runs (x {want[1]:.3g} over ten steps): warm-up only "
            f"made y small before the growth started."
        )
    return (
        f"correct: both runs multiply |y| by {want[0]:.3g} every ten steps once the rate is 0.045; warm-up only "
        f"postpones the divergence. A rate above 2 / lambda_max must come down, not ramp up."
    )


def _step_sizes(form, steps=100, mu=0.9):
    """Momentum in either form with g = 1 and the rate 0.2 / (5 + t), in plain NumPy."""
    x, v, sizes = 0.0, 0.0, []
    for t in range(steps):
        lr = 0.2 / (5.0 + t)
        if form == "velocity":
            v = mu * v - lr * 1.0
            step = v
        else:
            v = mu * v + 1.0
            step = -lr * v
        x += step
        sizes.append(abs(step))
    return sizes


@exercise("04.5", "Momentum with a schedule")
def _momentum_with_schedule(velocity_step_100_5, gradient_step_100_5, larger_5):
    velocity, gradient = _step_sizes("velocity"), _step_sizes("gradient")
    got_v, got_g = (
        _number("velocity_step_100_5", velocity_step_100_5),
        _number("gradient_step_100_5", gradient_step_100_5),
    )
    if math.isclose(got_v, gradient[-1], rel_tol=1e-6) and math.isclose(got_g, velocity[-1], rel_tol=1e-6):
        raise Wrong(
            "velocity_step_100_5 and gradient_step_100_5 are swapped. Velocity form: V <- mu V - lr g, "
            "x <- x + V; gradient form: v <- mu v + g, x <- x - lr v."
        )
    if math.isclose(got_v, velocity[0], rel_tol=1e-6):
        raise Wrong(f"velocity_step_100_5: received {got_v:.4g}, the size of the first step. Expected the 100th.")
    expect_close(
        "size of the velocity form's 100th step",
        got_v,
        velocity[-1],
        rtol=1e-6,
        hint="|x after step 100 - x before it|, with the rate optim.annealing(t, 0.2, 5.0) at t = 0..99.",
    )
    expect_close(
        "size of the gradient form's 100th step",
        got_g,
        gradient[-1],
        rtol=1e-6,
        hint="|x after step 100 - x before it|, with the rate optim.annealing(t, 0.2, 5.0) at t = 0..99.",
    )
    larger = "velocity" if velocity[-1] > gradient[-1] else "gradient"
    expect_equal(
        "the form with the larger steps",
        _choice("larger_5", larger_5, ("velocity", "gradient")),
        larger,
        hint="the velocity form keeps each past step at the rate it was taken with.",
    )
