"""Regularization from scratch: weight penalties, max-norm,
a KL sparsity penalty, dropout and stochastic depth.

* :func:`l1_penalty`, :func:`l2_penalty` and their gradients :func:`l1_gradient`,
  :func:`l2_gradient` - NumPy, in Keras's convention: ``keras.regularizers.L2(l2)``
  adds ``l2 * sum(w**2)`` to the loss, so its gradient is ``2 * l2 * w`` (the
  lecture's "lambda w" is the gradient of ``lambda / 2 * ||w||^2``).
* :func:`max_norm` - project each weight vector onto the ball of radius ``c``,
  exactly as ``keras.constraints.MaxNorm`` does (same ``axis`` semantics).
* :func:`bernoulli_kl` and :class:`KLSparsity` - the sparsity penalty
  ``weight * sum_j KL(p || q_j)`` on the mean activation ``q_j`` of each unit,
  as a serializable Keras activity regularizer.
* :func:`dropout` - Bernoulli masks with inverted (``1 / (1 - rate)``) or the
  original test-time scaling, in NumPy.
* :class:`StochasticDepth` - drop a residual branch for whole samples
  (Huang et al., 2016), and :func:`survival_probabilities`, their linear decay rule.

Bad arguments raise ``ValueError`` worded like Keras.

Introduced in notebook 05 (regularization).
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from lib import checks

# fmt: off
__all__ = [
    "l1_penalty", "l2_penalty", "l1_gradient", "l2_gradient", "max_norm", "bernoulli_kl", "KLSparsity",
    "dropout", "StochasticDepth", "survival_probabilities",
]
# fmt: on


# --------------------------------------------------------------------------- #
# weight penalties (Keras's convention)
# --------------------------------------------------------------------------- #
def l2_penalty(weights, l2: float = 0.01) -> float:
    """``l2 * sum(w**2)``: what ``keras.regularizers.L2(l2)`` adds to the loss.

    Introduced in notebook 05.
    """
    l2 = checks.non_negative(l2, "l2")
    w = np.asarray(weights, dtype=np.float64)
    return float(l2 * np.sum(w * w))


def l1_penalty(weights, l1: float = 0.01) -> float:
    """``l1 * sum(|w|)``: what ``keras.regularizers.L1(l1)`` adds to the loss.

    Introduced in notebook 05.
    """
    l1 = checks.non_negative(l1, "l1")
    return float(l1 * np.sum(np.abs(np.asarray(weights, dtype=np.float64))))


def l2_gradient(weights, l2: float = 0.01) -> np.ndarray:
    """Gradient of :func:`l2_penalty`: ``2 * l2 * w``.

    The lecture writes the L2 gradient as ``lambda * w``, the gradient of
    ``lambda / 2 * ||w||^2``; Keras has no 1/2, so ``lambda = 2 * l2``.
    Introduced in notebook 05.
    """
    l2 = checks.non_negative(l2, "l2")
    return 2.0 * l2 * np.asarray(weights, dtype=np.float64)


def l1_gradient(weights, l1: float = 0.01) -> np.ndarray:
    """Gradient of :func:`l1_penalty`: ``l1 * sign(w)``.

    ``|w|`` has no derivative at 0; like ``np.sign`` and TensorFlow's autodiff this
    returns the subgradient 0 there (JAX's autodiff picks +1; any value in [-1, 1]
    is a subgradient). Introduced in notebook 05.
    """
    l1 = checks.non_negative(l1, "l1")
    return l1 * np.sign(np.asarray(weights, dtype=np.float64))


# --------------------------------------------------------------------------- #
# max-norm
# --------------------------------------------------------------------------- #
def max_norm(kernel, max_value: float = 2.0, axis=0, epsilon: float = 1e-7) -> np.ndarray:
    """Project each weight vector of ``kernel`` onto the L2 ball of radius ``max_value``.

    A vector is the slice along ``axis`` (an int or a tuple of ints): for a
    ``Dense`` kernel ``(inputs, units)`` ``axis=0`` takes each unit's incoming
    weights; for a ``Conv2D`` kernel ``(h, w, in, out)`` ``axis=(0, 1, 2)`` takes
    each filter. Vectors longer than ``max_value`` are rescaled to it:
    ``w * min(||w||, c) / (epsilon + ||w||)`` - the same formula, ``epsilon``
    included, as ``keras.constraints.MaxNorm``. Introduced in notebook 05.
    """
    max_value = checks.non_negative(max_value, "max_value")
    w = np.asarray(kernel, dtype=np.float64)
    axes = tuple(axis) if isinstance(axis, (list, tuple)) else (axis,)
    norms = np.sqrt(np.sum(w * w, axis=axes, keepdims=True))
    return w * (np.clip(norms, 0, max_value) / (epsilon + norms))


# --------------------------------------------------------------------------- #
# sparsity: KL(p || q)
# --------------------------------------------------------------------------- #
def bernoulli_kl(p, q):
    """KL divergence between Bernoulli(p) and Bernoulli(q), elementwise, in NumPy.

    ``p log(p / q) + (1 - p) log((1 - p) / (1 - q))``: zero when ``q == p``,
    growing without bound as ``q`` goes to 0 or 1. Introduced in notebook 05.
    """
    p = np.asarray(p, dtype=np.float64)
    q = np.asarray(q, dtype=np.float64)
    return p * np.log(p / q) + (1 - p) * np.log((1 - p) / (1 - q))


@keras.saving.register_keras_serializable(package="lib")
class KLSparsity(keras.regularizers.Regularizer):
    """Activity regularizer pulling each unit's mean activation toward a small target.

    For activations ``x`` of shape ``(batch, ..., units)`` in (0, 1) (a sigmoid),
    ``q_j`` is unit ``j``'s mean over every axis but the last (the batch), clipped
    to ``[epsilon, 1 - epsilon]``, and the penalty is

        weight * sum_j KL(target || q_j)
          = weight * sum_j [p log(p / q_j) + (1 - p) log((1 - p) / (1 - q_j))].

    It differs from the lecture's cross-entropy ``-p log q_j - (1 - p) log(1 - q_j)``
    by the entropy of ``p``, a constant: same gradient, but zero at the target.

    Use it as ``Dense(..., activation="sigmoid", activity_regularizer=KLSparsity(0.05, 1.0))``.
    Note that Keras (3.x ``Layer.__call__``) divides every activity penalty by the
    batch size before adding it to the loss, so the loss grows by
    ``weight * sum_j KL / batch_size``. Introduced in notebook 05.
    """

    def __init__(self, target=0.05, weight=1.0, epsilon=1e-7):
        self.target = checks.number(target, "target", 0.0, 1.0, low_open=True, high_open=True)
        self.weight = checks.non_negative(weight, "weight")
        self.epsilon = checks.number(epsilon, "epsilon", 0.0, 0.5, low_open=True, high_open=True)

    def __call__(self, x):
        x = ops.convert_to_tensor(x)
        if len(x.shape) < 2:
            raise ValueError(
                f"Expected activations of shape (batch, ..., units), rank >= 2. Received shape {tuple(x.shape)}"
            )
        x = ops.cast(x, "float32")
        q = ops.mean(x, axis=tuple(range(len(x.shape) - 1)))
        q = ops.clip(q, self.epsilon, 1.0 - self.epsilon)
        p = self.target
        kl = p * ops.log(p / q) + (1.0 - p) * ops.log((1.0 - p) / (1.0 - q))
        return self.weight * ops.sum(kl)

    def get_config(self):
        return {"target": self.target, "weight": self.weight, "epsilon": self.epsilon}


# --------------------------------------------------------------------------- #
# dropout
# --------------------------------------------------------------------------- #
def dropout(x, rate: float, rng=None, inverted: bool = True):
    """Dropout in NumPy; returns ``(outputs, mask)``.

    Each entry is kept with probability ``1 - rate`` (``mask`` is True where kept,
    a Bernoulli(1 - rate) draw per entry). ``inverted=True`` (what Keras does)
    scales the kept entries by ``1 / (1 - rate)`` so that ``E[outputs] = x`` and the
    test-time network is used as is; ``inverted=False`` is the original recipe
    (Srivastava et al.): no scaling in training, ``E[outputs] = (1 - rate) x``, so
    at test time the outputs (or the outgoing weights) are multiplied by
    ``1 - rate``. ``rng`` is a ``numpy.random.Generator`` or a seed.
    Introduced in notebook 05.
    """
    rate = checks.probability(rate, "rate")
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    x = np.asarray(x)
    mask = rng.random(x.shape) >= rate
    outputs = x * mask
    if inverted:
        outputs = outputs / (1.0 - rate)
    return outputs, mask


# --------------------------------------------------------------------------- #
# stochastic depth
# --------------------------------------------------------------------------- #
def survival_probabilities(num_blocks: int, final: float = 0.5) -> list[float]:
    """Huang et al.'s linear decay rule: block ``l`` of ``L`` survives with ``1 - l / L * (1 - final)``.

    The first block is almost always kept, the last with probability ``final``;
    the expected number of blocks used in training is the sum of the list.
    Introduced in notebook 05.
    """
    num_blocks = checks.positive_int(num_blocks, "num_blocks")
    final = checks.number(final, "final", 0.0, 1.0, low_open=True)
    return [1.0 - (block / num_blocks) * (1.0 - final) for block in range(1, num_blocks + 1)]


@keras.saving.register_keras_serializable(package="lib")
class StochasticDepth(keras.layers.Layer):
    """Stochastic depth for a residual block: ``shortcut + gate * residual``.

    Called on ``[shortcut, residual]`` (same shapes), like keras-cv's layer of
    the same name. In training the residual branch of each *sample* is kept with
    probability ``survival_probability`` (``gate`` ~ Bernoulli(p), one draw per
    sample, broadcast over the other axes) and dropped otherwise, leaving the
    identity. At inference every branch is used, scaled by its expected gate ``p``
    (Huang et al., 2016). With ``inverted=True`` the kept branches are scaled by
    ``1 / p`` in training instead and inference uses the branch as is
    (torchvision's convention); both give ``E[train output] = inference output``.

    Introduced in notebook 05.
    """

    def __init__(self, survival_probability=0.5, inverted=False, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.survival_probability = checks.number(survival_probability, "survival_probability", 0.0, 1.0, low_open=True)
        self.inverted = bool(inverted)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def _check_inputs_shape(self, input_shape):
        if (
            not isinstance(input_shape, (list, tuple))
            or len(input_shape) != 2
            or not all(isinstance(s, (list, tuple)) for s in input_shape)
        ):
            raise ValueError(f"Expected two inputs, [shortcut, residual]. Received: input_shape={input_shape}")
        shortcut, residual = (tuple(s) for s in input_shape)
        if len(shortcut) != len(residual) or any(
            a is not None and b is not None and a != b for a, b in zip(shortcut, residual)
        ):
            raise ValueError(f"Expected shortcut and residual of the same shape. Received: {shortcut} and {residual}")
        return shortcut, residual

    def build(self, input_shape):
        self._check_inputs_shape(input_shape)

    def call(self, inputs, training=None):
        shortcut, residual = inputs
        p = self.survival_probability
        if training and p < 1.0:
            gate_shape = (ops.shape(residual)[0],) + (1,) * (len(residual.shape) - 1)
            gate = ops.cast(keras.random.uniform(gate_shape, seed=self.seed_generator) < p, residual.dtype)
            if self.inverted:
                gate = gate / p
            return shortcut + gate * residual
        if self.inverted or p == 1.0:
            return shortcut + residual
        return shortcut + p * residual

    def compute_output_shape(self, input_shape):
        shortcut, _ = self._check_inputs_shape(input_shape)
        return shortcut

    def get_config(self):
        return {
            **super().get_config(),
            "survival_probability": self.survival_probability,
            "inverted": self.inverted,
            "seed": self.seed,
        }
