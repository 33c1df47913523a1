"""Checks for notebook 10 (adversarial examples). Each computes the right answer with Keras, NumPy or lib.attacks."""

from __future__ import annotations

import math

import numpy as np

from lib.exercises import Wrong, exercise, expect_close, expect_equal, expect_true, is_number

LOGITS_1, LABEL_1 = (2.0, -1.0, 0.5), 1  # exercise 10.1: one image's logits and its true class
PANDA_EPS, PHOTO_INPUTS = 0.007, 224 * 224 * 3  # exercise 10.3: the lecture's eps, a 224x224 colour photo

CHOICES_1 = {
    "a": "Keras does not detect logits: with from_logits=False it takes the numbers as they are. Try a = softmax(z) "
    "and compare: the loss it returns is not the softmax cross-entropy.",
    "b": None,  # the right answer
    "c": "the loss is computed the same way eagerly and in a compiled function; nothing checks that the inputs are "
    "probabilities.",
    "d": "nothing in Keras makes negative probabilities valid; they are clipped away before the log.",
}


def wrong_loss_tensorflow_order() -> float:
    """Exercise 10.1's answer: Keras's loss with ``from_logits=False`` on logits, as its TensorFlow backend does it.

    TensorFlow clips to ``[eps, 1 - eps]``, takes the log and applies a softmax
    cross-entropy: the clipped numbers divided by their sum. Keras's JAX backend
    divides first and clips after, which gives a different (equally finite,
    equally wrong) number; the exercise asks for the TensorFlow order on every backend.
    """
    import keras

    clipped = np.clip(np.asarray(LOGITS_1, dtype="float64"), keras.backend.epsilon(), 1 - keras.backend.epsilon())
    return float(-np.log(clipped[LABEL_1] / clipped.sum()))


def _numpy(value):
    import keras

    return np.asarray(keras.ops.convert_to_numpy(value), dtype="float64")


@exercise("10.1", "Forget from_logits")
def _forget_from_logits(wrong_loss_1, right_loss_1, choice_1):
    import keras

    for name, value in (("wrong_loss_1", wrong_loss_1), ("right_loss_1", right_loss_1)):
        expect_true(is_number(value), f"{name}: expected a number (a loss), received {value!r}.")
    logits, label = np.array([LOGITS_1]), np.array([LABEL_1])
    wrong = wrong_loss_tensorflow_order()
    right = float(keras.losses.SparseCategoricalCrossentropy(from_logits=True)(label, logits))
    if abs(wrong_loss_1 - right) < 1e-4:
        raise Wrong(
            "wrong_loss_1 is the correct softmax cross-entropy; the question is what Keras returns when the "
            "logits are read as probabilities (from_logits=False)."
        )
    expect_close(
        "wrong_loss_1 (Keras's loss with from_logits=False on logits)",
        wrong_loss_1,
        wrong,
        rtol=1e-4,
        hint="Keras (TensorFlow backend) clips the numbers to [1e-7, 1 - 1e-7], then divides them by their "
        "sum, and takes -log of the true class's entry.",
    )
    expect_close(
        "right_loss_1 (the softmax cross-entropy)",
        right_loss_1,
        right,
        rtol=1e-4,
        hint="-log softmax(z)[y] = log(sum(exp(z))) - z[y].",
    )
    choice = str(choice_1).strip().lower().strip("()")
    expect_true(
        choice in CHOICES_1, f"choice_1: expected one of the letters {', '.join(CHOICES_1)}; received {choice_1!r}."
    )
    if CHOICES_1[choice] is not None:
        raise Wrong(f"choice_1 = {choice!r}: {CHOICES_1[choice]}")


def _linear_case():
    """A 2-class linear model on 2x2x1 images with known margins: FGSM flips image i when eps > margin_i / ||dw||_1."""
    import keras

    w = np.array([[0.5, -0.5], [-1.0, 1.0], [0.25, -0.25], [-0.75, 0.75]])  # ||w_0 - w_1||_1 = 5
    x = np.array(
        [
            [0.6, 0.2375, 0.5, 0.5],
            [0.6, 0.1575, 0.5, 0.5],
            [0.5, 0.2375, 0.5, 0.5],
            [0.55, 0.45, 0.5, 0.5],
            [0.85, 0.0125, 0.5, 0.5],
            [0.7, 0.3, 0.6, 0.35],
        ]
    )
    b = np.array([0.0, 0.0])
    model = keras.Sequential([keras.Input((2, 2, 1)), keras.layers.Flatten(), keras.layers.Dense(2)], name="linear")
    model.layers[-1].set_weights([w, b])
    logits = x @ w + b
    y = logits.argmax(axis=1)
    margin = np.abs(logits[:, 0] - logits[:, 1])
    dw = np.abs(w[:, 0] - w[:, 1]).sum()
    return model, x.reshape(-1, 2, 2, 1).astype("float32"), y, margin / dw


@exercise("10.2", "How many grey levels?")
def _smallest_flip_eps(smallest_flip_eps_2):
    expect_true(
        callable(smallest_flip_eps_2),
        f"smallest_flip_eps_2: expected a function smallest_flip_eps_2(model, x, y, grid), received "
        f"{type(smallest_flip_eps_2).__name__}.",
    )
    model, x, y, threshold = _linear_case()
    grid = np.arange(1, 13) / 100  # 0.01 ... 0.12: no threshold sits on a grid point
    expect_true(np.min(np.abs(threshold[:, None] - grid[None])) > 1e-3, "internal: a threshold is on the grid")
    want = np.array([grid[grid > t][0] if np.any(grid > t) else np.nan for t in threshold])
    got = _numpy(smallest_flip_eps_2(model, x, y, grid)).ravel()
    expect_true(
        got.shape == want.shape,
        f"smallest_flip_eps_2: expected one eps per image, shape {want.shape}; received shape {got.shape}.",
    )
    never = np.isnan(want)
    if np.any(never) and not np.all(np.isnan(got[never])):
        raise Wrong(
            f"smallest_flip_eps_2: an image that no eps in the grid flips should get np.nan; received "
            f"{got[never]} for it."
        )
    below = np.array([grid[grid < t][-1] if np.any(grid < t) else np.nan for t in threshold])
    if np.allclose(got[~never], below[~never]):
        raise Wrong(
            "smallest_flip_eps_2 returns the largest eps that does not flip the prediction; expected the "
            "smallest eps that does."
        )
    expect_close(
        "smallest flipping eps on a linear model whose thresholds are known (margin / ||w_y - w_k||_1)",
        got[~never],
        want[~never],
        atol=1e-6,
        hint="for each eps in the grid (smallest first), attack with lib.attacks.fgsm(..., from_logits=True) "
        "and record eps for the images whose prediction changed for the first time.",
    )


@exercise("10.3", "The linear explanation in numbers")
def _linear_explanation(sign_gain_3, random_gain_3):
    for name, value in (("sign_gain_3", sign_gain_3), ("random_gain_3", random_gain_3)):
        expect_true(is_number(value), f"{name}: expected a number (a change of the score), received {value!r}.")
    w = np.random.default_rng(10).normal(size=PHOTO_INPUTS)  # a sample: its norms are within 0.5% of the expectation
    sign, rms = PANDA_EPS * np.abs(w).sum(), PANDA_EPS * np.sqrt(np.sum(w**2))
    if abs(sign_gain_3 - rms) / rms < 0.02:
        raise Wrong(
            f"sign_gain_3 = {sign_gain_3:.4g} is the typical change for random signs; the sign of w aligns "
            "every term: eps * ||w||_1."
        )
    if abs(sign_gain_3 - PANDA_EPS * PHOTO_INPUTS) / sign < 0.01:
        raise Wrong(f"sign_gain_3 = {sign_gain_3:.4g} takes |w_i| = 1; for w_i ~ N(0, 1), E|w_i| = sqrt(2 / pi).")
    expect_close(
        f"sign_gain_3 (eps ||w||_1, n = {PHOTO_INPUTS}, eps = {PANDA_EPS})",
        sign_gain_3,
        sign,
        rtol=0.01,
        hint="E||w||_1 = n sqrt(2 / pi) for w ~ N(0, 1).",
    )
    expect_close(
        "random_gain_3 (root-mean-square change for random +-eps, eps ||w||_2)",
        random_gain_3,
        rms,
        rtol=0.01,
        hint="the variance of sum_i w_i eta_i is eps^2 sum_i w_i^2 = eps^2 n (in expectation).",
    )
    return f"correct: the sign perturbation moves the score {sign / rms:.0f} times more than random signs."


def _random_mlp():
    import keras

    init = keras.initializers.RandomNormal(stddev=1.0, seed=10)
    return keras.Sequential(
        [
            keras.Input((2, 2, 1)),
            keras.layers.Flatten(),
            keras.layers.Dense(16, activation="relu", kernel_initializer=init),
            keras.layers.Dense(3, kernel_initializer=init),
        ],
        name="mlp",
    )


@exercise("10.4", "Restarts")
def _restarts(robust_over_restarts_4):
    from lib import attacks

    expect_true(
        callable(robust_over_restarts_4),
        f"robust_over_restarts_4: expected a function robust_over_restarts_4(model, x, y, eps, alpha, steps, "
        f"seeds), received {type(robust_over_restarts_4).__name__}.",
    )
    model = _random_mlp()
    x = np.random.default_rng(4).uniform(0.2, 0.8, size=(128, 2, 2, 1)).astype("float32")
    y = attacks.predict_classes(model, x)  # the model is right on every clean image
    eps, alpha, steps, seeds = 0.08, 0.1, 1, (1, 2, 3)
    correct = np.stack(
        [
            attacks.predict_classes(model, attacks.pgd(model, x, y, eps, alpha, steps, seed=s, from_logits=True)) == y
            for s in seeds
        ]
    )
    want = float(np.mean(correct.all(axis=0)))
    got = robust_over_restarts_4(model, x, y, eps, alpha, steps, seeds)
    expect_true(is_number(got), f"robust_over_restarts_4: expected an accuracy (a number), received {got!r}.")
    if not math.isclose(got, want, abs_tol=1e-9):
        if math.isclose(got, float(correct.mean()), abs_tol=1e-9):
            raise Wrong(
                f"robust_over_restarts_4 returned {got:.4f}, the mean accuracy over the restarts. An image "
                f"counts as robust only if it survives every restart: expected {want:.4f}."
            )
        if math.isclose(got, float(correct.any(axis=0).mean()), abs_tol=1e-9):
            raise Wrong(
                f"robust_over_restarts_4 returned {got:.4f}: images that survive any restart. Expected those "
                f"that survive all of them: {want:.4f}."
            )
    expect_close(
        "robust accuracy over restarts",
        got,
        want,
        atol=1e-9,
        hint="run lib.attacks.pgd once per seed (from_logits=True), keep a boolean 'still right' per image, "
        "combine with &, and average.",
    )
    expect_equal("more restarts cannot raise the accuracy", got <= float(correct[0].mean()) + 1e-12, True)
