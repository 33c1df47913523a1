"""Adversarial examples: FGSM, targeted FGSM, BIM, PGD and adversarial training.

All attacks work in the model's *input* space and keep two promises, which the
tests check:

* the perturbation is at most ``eps`` in the L-infinity norm,
  ``max |x_adv - x| <= eps``;
* the adversarial image stays in the valid input range ``clip=(lo, hi)``
  (``(0., 1.)`` for the course's images; a backbone that wants another range
  applies its own preprocessing *inside* the model, see notebook 10).

The untargeted attacks use the TRUE label and *increase* the loss; the targeted
ones take the target labels as ``y`` and *decrease* the loss of that class.

* :func:`fgsm`: fast gradient sign method (Goodfellow et al., 2015),
  ``x_adv = clip(x + eps * sign(grad_x J(theta, x, y)), lo, hi)``; targeted:
  ``x - eps * sign(grad_x J(theta, x, y_target))``.
* :func:`pgd`: projected gradient descent (Madry et al., 2018): a random start
  in the eps-ball, then ``steps`` signed-gradient steps of size ``alpha``, each
  followed by the projection onto the eps-ball and the valid range. With
  ``random_start=False`` it is :func:`bim`, the basic iterative method
  (Kurakin et al., 2017); with ``steps=1, alpha=1.25 * eps`` it is the FGSM with
  random start of "fast adversarial training" (Wong et al., 2020).
* :func:`robust_accuracy`: accuracy on the adversarial examples of an attack.
* :func:`adversarial_fit`: train on adversarial examples made on the fly.

The attacks are backend-agnostic: the only backend-specific piece, the gradient
of the loss with respect to the input, comes from
:func:`lib.autodiff.value_and_input_grad`; the rest is NumPy on float32 arrays.
The model is always called with ``training=False`` (dropout off, BatchNorm on
its moving statistics), so an attack sees the network that is evaluated.

``from_logits`` says what the model outputs: ``True`` for logits (no softmax at
the end), ``False`` for probabilities. It has no default on purpose: computing
the cross-entropy of logits as if they were probabilities gives a silently
wrong gradient.

Introduced in notebook 10 (adversarial examples).
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Callable

import numpy as np

from lib import autodiff, checks

__all__ = [
    "input_gradient",
    "fgsm",
    "bim",
    "pgd",
    "project_linf",
    "predict_classes",
    "robust_accuracy",
    "adversarial_fit",
    "ATTACKS",
]


# --------------------------------------------------------------------------- #
# Argument checks (errors worded like Keras's)
# --------------------------------------------------------------------------- #
def _check_clip(clip) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in clip)
    except (TypeError, ValueError):
        raise ValueError(f"Expected clip=(low, high), the valid input range. Received: clip={clip!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ValueError(f"Expected clip=(low, high) with low < high. Received: clip={clip!r}")
    return lo, hi


def _check_from_logits(from_logits, loss):
    if loss is None and not isinstance(from_logits, bool):
        raise ValueError(
            "Expected from_logits=True (the model outputs logits) or from_logits=False (it outputs "
            f"probabilities, e.g. ends with a softmax). Received: from_logits={from_logits!r}"
        )


def _check_batch(x, y, clip) -> tuple[np.ndarray, np.ndarray]:
    """Images ``x`` (a batch inside ``clip``) and their integer labels ``y``, as float32 and int64 arrays."""
    x = checks.image_batch(np.asarray(_to_numpy(x), dtype=np.float32), "x")
    y = np.asarray(_to_numpy(y))
    if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(
            "Expected y to hold one integer class id per image, shape (batch,) (not one-hot). "
            f"Received: y.shape={y.shape}, y.dtype={y.dtype}"
        )
    if len(y) != len(x):
        raise ValueError(
            f"Expected one label per image. Received: {len(y)} labels for {len(x)} images "
            f"(x.shape={x.shape}, y.shape={y.shape})"
        )
    lo, hi = clip
    if x.size and (x.min() < lo - 1e-6 or x.max() > hi + 1e-6):
        raise ValueError(
            f"Expected images inside the valid input range clip={clip}. Received values in "
            f"[{x.min():.4g}, {x.max():.4g}]; rescale the images (e.g. /255) or pass the model's range as clip="
        )
    return x, y.astype(np.int64)


def _attack_arguments(x, y, eps, clip, from_logits, loss) -> tuple[np.ndarray, np.ndarray, float, tuple]:
    """``(x, y, eps, clip)`` checked: what every attack starts from."""
    eps = checks.non_negative(eps, "eps")
    clip = _check_clip(clip)
    _check_from_logits(from_logits, loss)
    x, y = _check_batch(x, y, clip)
    return x, y, eps, clip


def _to_numpy(t):
    if isinstance(t, np.ndarray):
        return t
    import keras

    try:
        return keras.ops.convert_to_numpy(t)
    except Exception:  # lists, Python scalars
        return np.asarray(t)


# --------------------------------------------------------------------------- #
# The gradient with respect to the input
# --------------------------------------------------------------------------- #
def _loss_fn(model, y, from_logits, loss):
    import keras

    y_tensor = keras.ops.convert_to_tensor(y, dtype="int64")

    def fn(x):
        out = model(x, training=False)
        if loss is None:
            value = keras.losses.sparse_categorical_crossentropy(y_tensor, out, from_logits=from_logits)
        else:
            value = loss(y_tensor, out)
        # A sum, not a mean: each image's gradient is then that image's own, not 1/batch of it.
        return keras.ops.sum(value)

    return fn


#: model -> {from_logits: traced gradient function}; TensorFlow only (see :func:`_traced_gradient`).
_TRACED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _traced_gradient(model, from_logits: bool):
    """On TensorFlow, the default loss's input gradient traced once per model as a ``tf.function``.

    The same computation as :func:`lib.autodiff.value_and_input_grad` (a
    ``GradientTape`` watching the input), without eager dispatch per operation:
    about ten times faster on small models, which is what makes adversarial
    training affordable on a CPU. ``None`` on other backends.
    """
    import keras

    if keras.backend.backend() != "tensorflow":
        return None
    import tensorflow as tf

    functions = _TRACED.setdefault(model, {})
    if from_logits not in functions:

        def value_and_grad(x, y):
            with tf.GradientTape() as tape:
                tape.watch(x)
                out = model(x, training=False)
                value = tf.reduce_sum(keras.losses.sparse_categorical_crossentropy(y, out, from_logits=from_logits))
            return value, tape.gradient(value, x)

        functions[from_logits] = tf.function(value_and_grad, reduce_retracing=True)
    return functions[from_logits]


def input_gradient(model, x, y, *, from_logits: bool | None = None, loss: Callable | None = None, clip=(0.0, 1.0)):
    """Return ``(loss, grad)``: the summed loss ``J(theta, x, y)`` and ``grad_x J``, as NumPy.

    ``loss(y_true, y_pred)`` defaults to the sparse categorical cross-entropy
    (with ``from_logits``); its per-image values are summed, so each image's
    gradient is its own. The model runs with ``training=False``. The gradient
    comes from :func:`lib.autodiff.value_and_input_grad`, the course's one
    place for input gradients; with the default loss on TensorFlow the same
    tape runs inside a ``tf.function`` traced once per model (faster, equal up
    to float32 rounding; a test compares them). Introduced in notebook 10
    (adversarial examples).
    """
    clip = _check_clip(clip)
    _check_from_logits(from_logits, loss)
    x, y = _check_batch(x, y, clip)
    traced = _traced_gradient(model, bool(from_logits)) if loss is None else None
    if traced is not None:
        import tensorflow as tf

        value, grad = traced(tf.constant(x, tf.float32), tf.constant(y, tf.int64))
    else:
        value, grad = autodiff.value_and_input_grad(_loss_fn(model, y, from_logits, loss), x)
    return float(_to_numpy(value)), np.asarray(_to_numpy(grad), dtype=np.float32)


def project_linf(x_adv, x, eps: float, clip=(0.0, 1.0)) -> np.ndarray:
    """Project ``x_adv`` onto the L-inf ball of radius ``eps`` around ``x``, then onto ``clip``.

    Both sets are boxes, so the projection is two element-wise clips; a point
    in their intersection stays where it is. Introduced in notebook 10.
    """
    eps = checks.non_negative(eps, "eps")
    lo, hi = _check_clip(clip)
    x = np.asarray(x, dtype=np.float32)
    x_adv = np.asarray(x_adv, dtype=np.float32)
    if x_adv.shape != x.shape:
        raise ValueError(f"Expected x_adv and x of the same shape. Received: {x_adv.shape} and {x.shape}")
    out = np.clip(x_adv, x - np.float32(eps), x + np.float32(eps))
    return np.clip(out, lo, hi).astype(np.float32)


# --------------------------------------------------------------------------- #
# Attacks
# --------------------------------------------------------------------------- #
def fgsm(
    model,
    x,
    y,
    eps: float,
    *,
    targeted: bool = False,
    clip=(0.0, 1.0),
    from_logits: bool | None = None,
    loss: Callable | None = None,
) -> np.ndarray:
    """Fast gradient sign method: one step of size ``eps`` along the sign of the input gradient.

    Untargeted (``y`` = the true labels): ``clip(x + eps * sign(grad_x J(x, y)), *clip)``.
    Targeted (``y`` = the target classes): ``clip(x - eps * sign(grad_x J(x, y)), *clip)``.
    ``x`` is (batch, height, width, channels) inside ``clip``; ``y`` integer
    class ids (batch,). Returns the adversarial images as a float32 array.
    Introduced in notebook 10 (adversarial examples).
    """
    x, y, eps, clip = _attack_arguments(x, y, eps, clip, from_logits, loss)
    if eps == 0:
        return x.copy()
    _, grad = input_gradient(model, x, y, from_logits=from_logits, loss=loss, clip=clip)
    direction = -1.0 if targeted else 1.0
    x_adv = x + np.float32(direction * eps) * np.sign(grad)
    return project_linf(x_adv, x, eps, clip)


def pgd(
    model,
    x,
    y,
    eps: float,
    alpha: float,
    steps: int,
    random_start: bool = True,
    seed: int | None = None,
    *,
    targeted: bool = False,
    clip=(0.0, 1.0),
    from_logits: bool | None = None,
    loss: Callable | None = None,
) -> np.ndarray:
    """Projected gradient descent in the L-inf ball (Madry et al., 2018).

    With ``random_start`` the start is ``x`` plus uniform noise in ``[-eps, eps]``
    (seeded by ``seed``), clipped to the valid range. Then ``steps`` times:
    ``x_adv <- x_adv +- alpha * sign(grad_x J(x_adv, y))`` (``+`` untargeted,
    ``-`` targeted) followed by the projection onto the eps-ball around ``x``
    and the valid range (:func:`project_linf`). Returns float32 images.
    ``random_start=False`` is :func:`bim`; ``steps=1, alpha=1.25 * eps`` is the
    FGSM with random start of fast adversarial training (Wong et al., 2020).
    Introduced in notebook 10 (adversarial examples).
    """
    x, y, eps, clip = _attack_arguments(x, y, eps, clip, from_logits, loss)
    alpha = checks.positive(alpha, "alpha")
    steps = checks.positive_int(steps, "steps")
    if eps == 0:
        return x.copy()
    x_adv = x.copy()
    if random_start:
        rng = np.random.default_rng(seed)
        x_adv = project_linf(x + rng.uniform(-eps, eps, size=x.shape).astype(np.float32), x, eps, clip)
    direction = np.float32(-alpha if targeted else alpha)
    for _ in range(steps):
        _, grad = input_gradient(model, x_adv, y, from_logits=from_logits, loss=loss, clip=clip)
        x_adv = project_linf(x_adv + direction * np.sign(grad), x, eps, clip)
    return x_adv


def bim(
    model,
    x,
    y,
    eps: float,
    alpha: float,
    steps: int,
    *,
    targeted: bool = False,
    clip=(0.0, 1.0),
    from_logits: bool | None = None,
    loss: Callable | None = None,
) -> np.ndarray:
    """Basic iterative method (iterative FGSM; Kurakin et al., 2017): PGD started at ``x`` itself.

    ``steps`` signed-gradient steps of size ``alpha``, each clipped back into the
    eps-ball and the valid range. Introduced in notebook 10 (adversarial examples).
    """
    return pgd(
        model,
        x,
        y,
        eps,
        alpha,
        steps,
        random_start=False,
        targeted=targeted,
        clip=clip,
        from_logits=from_logits,
        loss=loss,
    )


#: The attacks by name, for :func:`robust_accuracy`.
ATTACKS = {"fgsm": fgsm, "bim": bim, "pgd": pgd}


# --------------------------------------------------------------------------- #
# Evaluation and adversarial training
# --------------------------------------------------------------------------- #
def predict_classes(model, x, batch_size: int = 256) -> np.ndarray:
    """Arg-max class of each image (the same for logits and probabilities), in batches.

    Introduced in notebook 10 (adversarial examples).
    """
    x = np.asarray(_to_numpy(x), dtype=np.float32)
    out = [
        np.argmax(_to_numpy(model(x[i : i + batch_size], training=False)), axis=-1)
        for i in range(0, len(x), batch_size)
    ]
    return np.concatenate(out).astype(np.int64) if out else np.zeros((0,), np.int64)


def robust_accuracy(
    model,
    x,
    y,
    attack="pgd",
    *,
    batch_size: int = 256,
    return_adversarial: bool = False,
    seed: int | None = None,
    **attack_kwargs,
):
    """Accuracy of ``model`` on the adversarial examples that ``attack`` makes for ``(x, y)``.

    ``attack`` is ``"fgsm"``, ``"bim"``, ``"pgd"`` or a function with
    :func:`fgsm`'s signature; ``attack_kwargs`` go to it (``eps``,
    ``from_logits``, ``alpha``, ``steps``, ...). Images are attacked in batches
    of ``batch_size``; PGD's random start uses ``seed + batch index``. With
    ``return_adversarial=True`` returns ``(accuracy, x_adv)``.
    Introduced in notebook 10 (adversarial examples).
    """
    if isinstance(attack, str):
        if attack not in ATTACKS:
            raise ValueError(f"Expected attack in {sorted(ATTACKS)} or a function. Received: attack={attack!r}")
        attack = ATTACKS[attack]
    batch_size = checks.positive_int(batch_size, "batch_size")
    x, y = _check_batch(x, y, _check_clip(attack_kwargs.get("clip", (0.0, 1.0))))
    pieces = []
    for b, i in enumerate(range(0, len(x), batch_size)):
        kwargs = dict(attack_kwargs)
        if attack is pgd:
            kwargs["seed"] = None if seed is None else seed + b
        pieces.append(attack(model, x[i : i + batch_size], y[i : i + batch_size], **kwargs))
    x_adv = np.concatenate(pieces) if pieces else x.copy()
    accuracy = float(np.mean(predict_classes(model, x_adv, batch_size) == y)) if len(y) else float("nan")
    return (accuracy, x_adv) if return_adversarial else accuracy


def adversarial_fit(
    model,
    x,
    y,
    *,
    eps: float,
    alpha: float | None = None,
    steps: int = 1,
    random_start: bool = True,
    epochs: int = 1,
    batch_size: int = 128,
    seed: int = 0,
    clip=(0.0, 1.0),
    from_logits: bool | None = None,
    loss: Callable | None = None,
    verbose: int = 0,
) -> dict:
    """Adversarial training: each batch is replaced by its PGD examples before the update.

    The defaults (``steps=1``, ``random_start=True``, ``alpha=1.25 * eps``) are
    the FGSM with random start of "fast adversarial training" (Wong et al.,
    2020); ``steps=7..10`` with ``alpha=eps/4`` is Madry et al.'s PGD training.
    ``model`` must be compiled; the update is its ``train_on_batch``, so the
    optimizer (and its learning-rate schedule) carries on across calls. The
    attack uses the model as it is at that step, with ``training=False``.
    Returns the history ``{"loss": [...], <metric>: [...]}``, one value per
    epoch (the mean over that epoch's adversarial batches, weighted by their size).
    Introduced in notebook 10 (adversarial examples).
    """
    eps = checks.non_negative(eps, "eps")
    if alpha is None:
        alpha = 1.25 * eps if eps > 0 else 1.0  # with eps = 0 no step is taken: plain training
    alpha = checks.positive(alpha, "alpha")
    steps = checks.positive_int(steps, "steps")
    epochs = checks.positive_int(epochs, "epochs")
    batch_size = checks.positive_int(batch_size, "batch_size")
    if getattr(model, "optimizer", None) is None:
        raise ValueError("Expected a compiled model (model.compile(optimizer=..., loss=...)) for adversarial_fit.")
    x, y, eps, clip = _attack_arguments(x, y, eps, clip, from_logits, loss)
    rng = np.random.default_rng(seed)
    history: dict[str, list] = {}
    for epoch in range(epochs):
        order = rng.permutation(len(x))
        sums = {}
        for i in range(0, len(x), batch_size):
            idx = order[i : i + batch_size]
            x_adv = pgd(
                model,
                x[idx],
                y[idx],
                eps,
                alpha,
                steps,
                random_start=random_start,
                seed=int(rng.integers(2**31)),
                clip=clip,
                from_logits=from_logits,
                loss=loss,
            )
            # train_on_batch resets the metrics first: its logs are this batch's alone.
            logs = model.train_on_batch(x_adv, y[idx], return_dict=True)
            for key, value in logs.items():
                sums[key] = sums.get(key, 0.0) + float(value) * len(idx)
        for key, total in sums.items():
            history.setdefault(key, []).append(total / len(x))
        if verbose:
            print(
                f"epoch {epoch + 1}/{epochs} (adversarial, eps={eps:.4g}): "
                + ", ".join(f"{k}={v[-1]:.4f}" for k, v in history.items())
            )
    return history
