"""Activation functions from scratch: the ReLU family, ELU, SELU, softplus, the stepped
sigmoid, randomized ReLU and maxout.

Everything is written with ``keras.ops`` (backend-agnostic): the functions take NumPy
arrays or tensors and return backend tensors, so autodiff can check the hand-written
derivatives (``*_grad``).

* :func:`relu`, :func:`leaky_relu`, :func:`prelu`, :func:`elu`, :func:`selu`,
  :func:`softplus` and their derivatives :func:`relu_grad`, :func:`leaky_relu_grad`,
  :func:`elu_grad`, :func:`selu_grad`, :func:`softplus_grad`. At the kink ``x = 0``
  the derivatives take the left-hand slope, the lecture's ``f'(0) = 0`` for ReLU (also
  what TensorFlow returns for ReLU and leaky ReLU; TensorFlow's SELU takes the
  right-hand slope there).
* :func:`stepped_sigmoid`: ``sum_{i=1..N} sigmoid(x - i + 0.5)``, Nair & Hinton's
  stepped sigmoid units, which approximate ``softplus(x) = log(1 + e^x)``.
* :class:`RReLU`: randomized leaky ReLU (Xu et al. 2015): a negative slope drawn
  uniformly from ``[lower, upper]`` per element in training, the average slope
  ``(lower + upper) / 2`` at test time.
* :class:`Maxout`: ``max_k (x W_k + b_k)`` over ``pieces`` linear functions per unit
  (Goodfellow et al. 2013).

Introduced in notebook 03 (activations and initialization).
"""

from __future__ import annotations

import keras
from keras import ops

from lib import checks

__all__ = [
    "SELU_ALPHA",
    "SELU_SCALE",
    "relu",
    "relu_grad",
    "leaky_relu",
    "leaky_relu_grad",
    "prelu",
    "elu",
    "elu_grad",
    "selu",
    "selu_grad",
    "softplus",
    "softplus_grad",
    "stepped_sigmoid",
    "FUNCTIONS",
    "RReLU",
    "Maxout",
]

#: SELU's constants (Klambauer et al. 2017), the values Keras and TensorFlow use.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _x(x):
    x = ops.convert_to_tensor(x)
    if "float" not in keras.backend.standardize_dtype(x.dtype):
        x = ops.cast(x, "float32")
    return x


# --------------------------------------------------------------------------- #
# The ReLU family and its smooth relatives
# --------------------------------------------------------------------------- #
def relu(x):
    """``max(0, x)``. Introduced in notebook 03."""
    x = _x(x)
    return ops.where(x > 0, x, ops.zeros_like(x))  # where, not maximum: autodiff then gives f'(0) = 0


def relu_grad(x):
    """ReLU's derivative: 1 where ``x > 0``, else 0 (the lecture's ``f'(0) = 0``).

    Introduced in notebook 03.
    """
    x = _x(x)
    return ops.cast(x > 0, x.dtype)


def leaky_relu(x, negative_slope=0.2):
    """``x`` for ``x > 0``, ``negative_slope * x`` otherwise (``keras.activations.leaky_relu``).

    Introduced in notebook 03.
    """
    negative_slope = checks.number(negative_slope, "negative_slope")
    x = _x(x)
    return ops.where(x > 0, x, negative_slope * x)


def leaky_relu_grad(x, negative_slope=0.2):
    """Leaky ReLU's derivative: 1 for ``x > 0``, ``negative_slope`` otherwise.

    Introduced in notebook 03.
    """
    negative_slope = checks.number(negative_slope, "negative_slope")
    x = _x(x)
    return ops.where(x > 0, ops.ones_like(x), negative_slope * ops.ones_like(x))


def prelu(x, alpha):
    """Parametric ReLU: a leaky ReLU whose slope ``alpha`` is learned (broadcast over ``x``).

    ``keras.layers.PReLU`` holds ``alpha`` as a weight, one per feature by default.
    Introduced in notebook 03.
    """
    x = _x(x)
    alpha = ops.cast(ops.convert_to_tensor(alpha), x.dtype)
    return ops.where(x > 0, x, alpha * x)


def elu(x, alpha=1.0):
    """``x`` for ``x > 0``, ``alpha * (exp(x) - 1)`` otherwise. Introduced in notebook 03."""
    alpha = checks.number(alpha, "alpha")
    x = _x(x)
    # exp of the clipped value, so the unused branch never overflows.
    return ops.where(x > 0, x, alpha * (ops.exp(ops.minimum(x, 0.0)) - 1.0))


def elu_grad(x, alpha=1.0):
    """ELU's derivative: 1 for ``x > 0``, ``alpha * exp(x)`` otherwise. Introduced in notebook 03."""
    alpha = checks.number(alpha, "alpha")
    x = _x(x)
    return ops.where(x > 0, ops.ones_like(x), alpha * ops.exp(ops.minimum(x, 0.0)))


def selu(x):
    """``SELU_SCALE * elu(x, SELU_ALPHA)``: the self-normalizing ELU. Introduced in notebook 03."""
    return SELU_SCALE * elu(x, SELU_ALPHA)


def selu_grad(x):
    """SELU's derivative: ``SELU_SCALE * elu_grad(x, SELU_ALPHA)``. Introduced in notebook 03."""
    return SELU_SCALE * elu_grad(x, SELU_ALPHA)


def softplus(x):
    """``log(1 + e^x)``; for ``x > 20`` it is ``x`` to float precision, which avoids overflow.

    (The textbook ``max(x, 0) + log1p(exp(-|x|))`` is as stable, but its autodiff
    derivative at 0 is 1 instead of 1/2: the two kinks do not cancel.)
    Introduced in notebook 03.
    """
    x = _x(x)
    return ops.where(x > 20.0, x, ops.log1p(ops.exp(ops.minimum(x, 20.0))))


def softplus_grad(x):
    """Softplus's derivative is the logistic sigmoid ``1 / (1 + e^-x)``. Introduced in notebook 03."""
    return ops.sigmoid(_x(x))


def stepped_sigmoid(x, n):
    """Stepped sigmoid units: ``sum_{i=1..n} sigmoid(x - i + 0.5)``, which approximates softplus.

    ``n`` copies of a sigmoid unit share weights and have biases offset by
    ``-0.5, -1.5, ...`` (Nair & Hinton 2010). The sum saturates at ``n``.
    Introduced in notebook 03.
    """
    n = checks.positive_int(n, "n")
    x = _x(x)
    offsets = ops.cast(ops.arange(1, n + 1), x.dtype) - 0.5
    return ops.sum(ops.sigmoid(ops.expand_dims(x, -1) - offsets), axis=-1)


#: name -> (function, derivative, the Keras built-in it must match). Default arguments.
FUNCTIONS = {
    "relu": (relu, relu_grad, keras.activations.relu),
    "leaky_relu": (leaky_relu, leaky_relu_grad, keras.activations.leaky_relu),
    "elu": (elu, elu_grad, keras.activations.elu),
    "selu": (selu, selu_grad, keras.activations.selu),
    "softplus": (softplus, softplus_grad, keras.activations.softplus),
}


# --------------------------------------------------------------------------- #
# Layers
# --------------------------------------------------------------------------- #
@keras.saving.register_keras_serializable(package="lib")
class RReLU(keras.layers.Layer):
    """Randomized leaky ReLU (Xu et al. 2015, "Empirical evaluation of rectified activations").

    ``f(x) = x`` for ``x >= 0`` and ``a * x`` otherwise. In training, ``a`` is drawn
    uniformly from ``[lower, upper]`` independently for every element (a source of
    noise, like dropout); at test time ``a`` is the average slope ``(lower + upper) / 2``,
    so the layer is a leaky ReLU. The defaults are PyTorch's ``nn.RReLU`` (1/8, 1/3);
    the paper writes the slope as ``1 / a`` with ``a ~ U(3, 8)``.

    Args:
        lower: smallest negative slope, ``0 <= lower <= upper``.
        upper: largest negative slope.
        seed: integer seed of the layer's ``SeedGenerator``.

    Introduced in notebook 03.
    """

    def __init__(self, lower=1.0 / 8.0, upper=1.0 / 3.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        lower = checks.non_negative(lower, "lower")
        upper = checks.number(upper, "upper")
        if lower > upper:
            raise ValueError(f"Expected lower <= upper. Received: lower={lower}, upper={upper}")
        self.lower = lower
        self.upper = upper
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.supports_masking = True
        self.built = True

    @property
    def average_slope(self):
        """The fixed slope used at test time, ``(lower + upper) / 2``."""
        return (self.lower + self.upper) / 2.0

    def call(self, inputs, training=None):
        if training and self.upper > self.lower:
            slope = keras.random.uniform(
                ops.shape(inputs),
                minval=self.lower,
                maxval=self.upper,
                dtype=inputs.dtype,
                seed=self.seed_generator,
            )
        else:
            slope = ops.cast(self.average_slope, inputs.dtype)  # lower == upper in training too
        return ops.where(inputs >= 0, inputs, slope * inputs)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "lower": self.lower, "upper": self.upper, "seed": self.seed}


@keras.saving.register_keras_serializable(package="lib")
class Maxout(keras.layers.Layer):
    """Maxout units (Goodfellow et al. 2013): ``h_j(x) = max_k (x W_{:, j, k} + b_{j, k})``.

    Each of the ``units`` outputs is the maximum of ``pieces`` affine functions of the
    input's last axis, so the weights form a tensor ``W`` of shape
    ``(input_dim, units, pieces)`` plus a bias ``(units, pieces)``:
    ``input_dim * units * pieces + units * pieces`` parameters. With ``pieces=2`` a
    unit can be ``max(x, 0)`` (ReLU) or ``max(x, -x) = |x|``; in general it is a
    learned convex piecewise-linear activation.

    Args:
        units: number of outputs.
        pieces: number of linear pieces ``k`` per unit (``>= 1``; 1 is a ``Dense`` layer).
        kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer:
            as in ``keras.layers.Dense``; the kernel is initialised as a Dense kernel of
            ``units * pieces`` outputs (fan_in = input_dim). ``"lecun_normal"`` keeps the
            variance from layer to layer: the larger of two zero-mean Gaussians has the
            same second moment as either.

    Introduced in notebook 03.
    """

    def __init__(
        self,
        units,
        pieces=2,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.units = checks.positive_int(units, "units")
        self.pieces = checks.positive_int(pieces, "pieces")
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)
        self.input_spec = keras.layers.InputSpec(min_ndim=2)

    def build(self, input_shape):
        input_dim = input_shape[-1]
        if input_dim is None:
            raise ValueError(f"Expected the last axis of the input to be defined. Received: input_shape={input_shape}")
        kernel_initializer = self.kernel_initializer

        def dense_like(shape, dtype=None):
            # Initialise as the Dense kernel (input_dim, units * pieces) it is, so that Keras
            # counts fan_in = input_dim (a 3D shape would count input_dim * units).
            return ops.reshape(kernel_initializer((shape[0], shape[1] * shape[2]), dtype=dtype), shape)

        self.kernel = self.add_weight(
            name="kernel",
            shape=(input_dim, self.units, self.pieces),
            initializer=dense_like,
            regularizer=self.kernel_regularizer,
        )
        self.bias = self.add_weight(
            name="bias",
            shape=(self.units, self.pieces),
            initializer=self.bias_initializer,
            regularizer=self.bias_regularizer,
        )
        self.input_spec = keras.layers.InputSpec(min_ndim=2, axes={-1: input_dim})

    def call(self, inputs, training=None):
        pieces = ops.tensordot(inputs, self.kernel, axes=1) + self.bias  # (..., units, pieces)
        return ops.max(pieces, axis=-1)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "pieces": self.pieces,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": keras.regularizers.serialize(self.bias_regularizer),
        }
