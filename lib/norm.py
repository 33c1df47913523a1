"""Normalization from scratch: inputs, batch norm (forward and backward), BN/LN/IN/GN as
choices of axes, weight and spectral normalization, AdaIN, and folding BN into a conv.

Layout follows Keras: channels last, ``(batch, ..., channels)``; kernels
``(..., in_channels, out_channels)``.

* :func:`input_statistics`: the three input normalizations of the lectures -
  subtract the mean image (AlexNet), the per-channel mean (VGG), per-channel mean
  and std (ResNet).
* :func:`batch_norm_forward` / :func:`batch_norm_backward`: NumPy, the lecture's
  algorithm and its backward formulas (d/dgamma, d/dbeta, d/dsigma^2, d/dmu, d/dx);
  :func:`lib.gradcheck.numerical_gradient` checks them by central differences.
* :class:`BatchNorm`: a from-scratch Keras layer with moving averages, same
  ``momentum``/``epsilon`` semantics as ``keras.layers.BatchNormalization``, and
  Keras 2's ``virtual_batch_size`` (statistics from groups of a few examples).
* :func:`normalize`: one normalizer over chosen ``axes`` (and ``groups``) that is
  BN, LN, IN or GN depending on the axes.
* :class:`WeightNormalization`: ``w = g v / ||v||`` around a ``Dense`` or ``Conv*D``.
* :func:`spectral_norm`: power iteration for the largest singular value, the way
  ``keras.layers.SpectralNormalization`` does it; :func:`conv_operator_norm`: the
  largest singular value of a convolution as a linear map of images (not the same
  number: a convolution is not 1-Lipschitz because its reshaped kernel is).
* :class:`CovariateShiftNoise`: a layer that shifts
  and rescales every channel at random, anew at every training step - the "noisy
  BatchNorm" of Santurkar et al. (2018), which injects internal covariate shift
  on purpose.
* :class:`AdaIN`: adaptive instance normalization of ``[content, style]``.
* :func:`fold_batchnorm`, :func:`folded_layer`: fold an inference-mode BN into the
  preceding conv/dense layer.

Bad arguments raise ``ValueError`` worded like Keras.

Introduced in notebook 07 (normalization).
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from lib import checks

# fmt: off
__all__ = [
    "INPUT_NORMALIZATIONS", "input_statistics", "apply_input_normalization", "batch_norm_forward",
    "batch_norm_backward", "BatchNorm", "normalize", "NORMALIZERS", "WeightNormalization", "spectral_norm",
    "conv_operator_norm", "CovariateShiftNoise", "AdaIN", "fold_batchnorm", "folded_layer",
]
# fmt: on


# ---------------------------------------------------------------------------
# validation
# ---------------------------------------------------------------------------
def _check_axes(axes, ndim):
    """Axes as a sorted tuple of distinct non-negative ints, each in [-ndim, ndim)."""
    axes = tuple(axes) if isinstance(axes, (tuple, list, range)) else (axes,)
    if not axes:
        raise ValueError(f"Expected at least one axis to normalize over. Received: axes={axes!r}")
    out = [checks.integer(a, "axes", -ndim, ndim - 1) % ndim for a in axes]
    if len(set(out)) != len(out):
        raise ValueError(f"Expected distinct axes. Received: axes={axes!r}")
    return tuple(sorted(out))


# ---------------------------------------------------------------------------
# input normalization
# ---------------------------------------------------------------------------
#: mode -> (which network made it famous, what is subtracted / divided)
INPUT_NORMALIZATIONS = {
    "none": "raw pixels",
    "mean_image": "subtract the mean image, an (H, W, C) array (AlexNet)",
    "channel_mean": "subtract the per-channel mean, C numbers (VGG)",
    "channel_mean_std": "subtract the per-channel mean, divide by the per-channel std (ResNet)",
}


def input_statistics(x, mode: str = "channel_mean_std"):
    """The ``(mean, std)`` to normalize images ``x`` (N, H, W, C) with, for one of the lectures' modes.

    ``mode`` is a key of :data:`INPUT_NORMALIZATIONS`: ``"mean_image"`` gives a mean
    of shape (H, W, C) and std 1; ``"channel_mean"`` a mean of shape (C,) and std 1;
    ``"channel_mean_std"`` both of shape (C,) (the population std, ``ddof=0``, as
    ``keras.layers.Normalization(axis=-1).adapt`` computes it); ``"none"`` gives
    0 and 1. Compute them on the training set only and reuse them for the test set.
    Normalize with :func:`apply_input_normalization`.

    Introduced in notebook 07 (normalization).
    """
    if mode not in INPUT_NORMALIZATIONS:
        raise ValueError(f"Expected mode in {sorted(INPUT_NORMALIZATIONS)}. Received: mode={mode!r}")
    x = np.asarray(x, dtype=np.float64)
    if x.ndim < 2:
        raise ValueError(f"Expected a batch of images (N, ..., C). Received shape {x.shape}")
    channels = x.shape[-1]
    if mode == "none":
        return np.zeros(channels), np.ones(channels)
    if mode == "mean_image":
        return x.mean(axis=0), np.ones(x.shape[1:])
    axes = tuple(range(x.ndim - 1))
    mean = x.mean(axis=axes)
    std = x.std(axis=axes) if mode == "channel_mean_std" else np.ones(channels)
    return mean, std


def apply_input_normalization(x, mean, std):
    """``(x - mean) / std`` as float32 (broadcast over the batch).

    Introduced in notebook 07 (normalization).
    """
    std = np.asarray(std, dtype=np.float64)
    if np.any(std <= 0):
        raise ValueError(f"Expected std > 0 everywhere. Received: min(std)={std.min()!r}")
    return ((np.asarray(x, dtype=np.float64) - mean) / std).astype(np.float32)


# ---------------------------------------------------------------------------
# batch normalization in NumPy: the lecture's forward and backward
# ---------------------------------------------------------------------------
def batch_norm_forward(x, gamma, beta, epsilon: float = 1e-3):
    """Batch normalization with the statistics of the batch ``x``; returns ``(y, cache)``.

    ``x`` is (N, D) or (N, H, W, C): the statistics are per channel (the last axis)
    over every other axis, so convolutional BN ("spatial BN") treats each of the
    N*H*W positions as one example. The lecture's four steps:

        mu = mean(x);  var = mean((x - mu)^2);  x_hat = (x - mu) / sqrt(var + eps);
        y = gamma * x_hat + beta

    ``cache`` holds what the backward pass needs. Computed in float64.

    Introduced in notebook 07 (normalization).
    """
    epsilon = checks.positive(epsilon, "epsilon")
    x = np.asarray(x, dtype=np.float64)
    if x.ndim < 2:
        raise ValueError(f"Expected x of rank >= 2, (N, ..., C). Received shape {x.shape}")
    gamma = np.asarray(gamma, dtype=np.float64)
    beta = np.asarray(beta, dtype=np.float64)
    channels = x.shape[-1]
    if gamma.shape != (channels,) or beta.shape != (channels,):
        raise ValueError(
            f"Expected gamma and beta of shape ({channels},). Received: gamma {gamma.shape}, beta {beta.shape}"
        )
    axes = tuple(range(x.ndim - 1))
    mu = x.mean(axis=axes)  # step 1: mini-batch mean
    var = ((x - mu) ** 2).mean(axis=axes)  #         mini-batch variance (biased, 1/m)
    inv_std = 1.0 / np.sqrt(var + epsilon)
    x_hat = (x - mu) * inv_std  # step 2: normalize
    y = gamma * x_hat + beta  # step 3: scale and shift
    cache = {"x": x, "mu": mu, "var": var, "x_hat": x_hat, "gamma": gamma, "epsilon": epsilon, "axes": axes}
    return y, cache


def batch_norm_backward(dy, cache) -> dict:
    """The backward pass of :func:`batch_norm_forward`, written from the lecture's formulas.

    With m = the number of values per channel (N, or N*H*W):

        dl/dx_hat = dl/dy * gamma
        dl/dvar   = sum dl/dx_hat * (x - mu) * (-1/2) (var + eps)^(-3/2)
        dl/dmu    = sum dl/dx_hat * (-1 / sqrt(var + eps))
                    [+ dl/dvar * sum(-2 (x - mu)) / m, which is exactly 0]
        dl/dx     = dl/dx_hat / sqrt(var + eps) + dl/dvar * 2 (x - mu) / m + dl/dmu / m
        dl/dgamma = sum dl/dy * x_hat
        dl/dbeta  = sum dl/dy

    Returns ``{"dx", "dgamma", "dbeta", "dvar", "dmu", "dx_hat"}``.

    Introduced in notebook 07 (normalization).
    """
    dy = np.asarray(dy, dtype=np.float64)
    x, mu, var, x_hat = cache["x"], cache["mu"], cache["var"], cache["x_hat"]
    if dy.shape != x.shape:
        raise ValueError(f"Expected dy of shape {x.shape} (the forward input's). Received shape {dy.shape}")
    gamma, eps, axes = cache["gamma"], cache["epsilon"], cache["axes"]
    m = int(np.prod([x.shape[a] for a in axes]))
    dx_hat = dy * gamma
    dvar = np.sum(dx_hat * (x - mu), axis=axes) * -0.5 * (var + eps) ** -1.5
    dmu = np.sum(dx_hat * -1.0 / np.sqrt(var + eps), axis=axes)
    dx = dx_hat / np.sqrt(var + eps) + dvar * 2.0 * (x - mu) / m + dmu / m
    dgamma = np.sum(dy * x_hat, axis=axes)
    dbeta = np.sum(dy, axis=axes)
    return {"dx": dx, "dgamma": dgamma, "dbeta": dbeta, "dvar": dvar, "dmu": dmu, "dx_hat": dx_hat}


@keras.saving.register_keras_serializable(package="lib")
class BatchNorm(keras.layers.Layer):
    """Batch normalization from scratch (channels last), with moving averages for inference.

    Training (``training=True``): normalize with the batch's mean and (biased)
    variance over every axis but the last, then update

        moving_mean     = moving_mean * momentum + batch_mean * (1 - momentum)
        moving_variance = moving_variance * momentum + batch_var * (1 - momentum)

    Inference: normalize with the moving statistics. Same ``momentum``/``epsilon``
    semantics and defaults as ``keras.layers.BatchNormalization``, including that a
    layer with ``trainable=False`` always runs in inference mode. The gradient
    comes from autodiff (see :func:`batch_norm_backward` for the formulas).

    ``virtual_batch_size=v`` ("ghost" batch norm, Hoffer et al. 2017; Keras 2's
    argument of that name): in training the batch is cut into consecutive groups
    of ``v`` examples and each group is normalized with its own statistics - what
    each device of a data-parallel run with ``v`` examples per device computes
    without synchronized BN. The moving averages are updated with the groups'
    mean mean and mean variance. The batch size must be a multiple of ``v``.

    Introduced in notebook 07 (normalization).
    """

    def __init__(self, momentum=0.99, epsilon=1e-3, center=True, scale=True, virtual_batch_size=None, **kwargs):
        super().__init__(**kwargs)
        self.momentum = checks.probability(momentum, "momentum", allow_one=True)
        self.epsilon = checks.positive(epsilon, "epsilon")
        self.center = bool(center)
        self.scale = bool(scale)
        self.virtual_batch_size = (
            None if virtual_batch_size is None else checks.positive_int(virtual_batch_size, "virtual_batch_size")
        )
        self.supports_masking = True

    def build(self, input_shape):
        channels = input_shape[-1]
        if channels is None:
            raise ValueError(f"Expected a known number of channels (last axis). Received: input_shape={input_shape}")
        shape = (channels,)
        self.gamma = self.add_weight(name="gamma", shape=shape, initializer="ones") if self.scale else None
        self.beta = self.add_weight(name="beta", shape=shape, initializer="zeros") if self.center else None
        self.moving_mean = self.add_weight(name="moving_mean", shape=shape, initializer="zeros", trainable=False)
        self.moving_variance = self.add_weight(name="moving_variance", shape=shape, initializer="ones", trainable=False)

    def call(self, inputs, training=None):
        inputs = ops.cast(inputs, "float32")
        if training and self.trainable:
            axes = list(range(len(inputs.shape) - 1))
            if self.virtual_batch_size is None:
                mean, variance = ops.moments(inputs, axes=axes)
                outputs = (inputs - mean) * ops.rsqrt(variance + self.epsilon)
            else:  # (N, ...) -> (N / v, v, ...): one mean and variance per group of v examples
                shape = ops.shape(inputs)
                groups = ops.reshape(inputs, (-1, self.virtual_batch_size, *shape[1:]))
                group_mean, group_var = ops.moments(groups, axes=[a + 1 for a in axes], keepdims=True)
                outputs = ops.reshape((groups - group_mean) * ops.rsqrt(group_var + self.epsilon), shape)
                channels = inputs.shape[-1]
                mean = ops.mean(ops.reshape(group_mean, (-1, channels)), axis=0)
                variance = ops.mean(ops.reshape(group_var, (-1, channels)), axis=0)
            self.moving_mean.assign(self.moving_mean * self.momentum + mean * (1.0 - self.momentum))
            self.moving_variance.assign(self.moving_variance * self.momentum + variance * (1.0 - self.momentum))
        else:
            outputs = (inputs - self.moving_mean) * ops.rsqrt(self.moving_variance + self.epsilon)
        if self.scale:
            outputs = outputs * self.gamma
        if self.center:
            outputs = outputs + self.beta
        return ops.cast(outputs, self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "virtual_batch_size": self.virtual_batch_size,
        }


# ---------------------------------------------------------------------------
# one normalizer, many axes: BN, LN, IN, GN
# ---------------------------------------------------------------------------
#: name -> (axes, groups) for images (N, H, W, C); "group" takes groups=G (here 2 as an example).
NORMALIZERS = {
    "batch": ((0, 1, 2), None),
    "layer": ((1, 2, 3), None),
    "instance": ((1, 2), None),
    "group": ((1, 2), 2),
}


def normalize(x, axes, groups: int | None = None, epsilon: float = 1e-3, gamma=None, beta=None):
    """Normalize ``x`` to zero mean and unit variance over ``axes`` (and within channel groups).

    ``y = gamma * (x - mean) / sqrt(var + epsilon) + beta`` with mean and (biased)
    variance taken over ``axes``. For images (N, H, W, C):

    * batch norm (training mode): ``axes=(0, 1, 2)`` - one statistic per channel;
    * layer norm: ``axes=(1, 2, 3)`` - one per example;
    * instance norm: ``axes=(1, 2)`` - one per example and channel;
    * group norm: ``axes=(1, 2), groups=G`` - the channel axis (last) is split into
      G groups of C/G channels and the statistics also run over the channels of a
      group: one per example and group. ``groups=1`` is LN, ``groups=C`` is IN.

    ``gamma``/``beta`` (optional) are per channel, shape (C,). Written with
    ``keras.ops``; returns a backend tensor.

    Introduced in notebook 07 (normalization).
    """
    x = ops.convert_to_tensor(x)
    x = ops.cast(x, "float32") if "int" in str(x.dtype) else x
    ndim = len(x.shape)
    axes = _check_axes(axes, ndim)
    epsilon = checks.positive(epsilon, "epsilon")
    channels = x.shape[-1]
    if groups is None:
        mean, var = ops.moments(x, axes=list(axes), keepdims=True)
        y = (x - mean) * ops.rsqrt(var + epsilon)
    else:
        groups = checks.positive_int(groups, "groups")
        if channels is None or channels % groups:
            raise ValueError(
                f"Expected groups to divide the number of channels ({channels}). Received: groups={groups}"
            )
        if ndim - 1 in axes:
            raise ValueError(
                "With groups, the channel axis (the last) is normalized within each group; leave it out of "
                f"axes. Received: axes={axes}, groups={groups}"
            )
        shape = ops.shape(x)
        grouped = ops.reshape(x, (*shape[:-1], groups, channels // groups))
        mean, var = ops.moments(grouped, axes=[*axes, ndim], keepdims=True)
        y = ops.reshape((grouped - mean) * ops.rsqrt(var + epsilon), shape)
    if gamma is not None:
        y = y * ops.cast(ops.convert_to_tensor(gamma), y.dtype)
    if beta is not None:
        y = y + ops.cast(ops.convert_to_tensor(beta), y.dtype)
    return y


# ---------------------------------------------------------------------------
# weight normalization
# ---------------------------------------------------------------------------
@keras.saving.register_keras_serializable(package="lib")
class WeightNormalization(keras.layers.Wrapper):
    """Weight normalization (Salimans & Kingma, 2016) of a ``Dense`` or ``Conv1D/2D/3D`` layer.

    The wrapped layer's kernel becomes the direction ``v``; a new weight ``g``
    (one per output unit/filter) is its length:

        w = g * v / ||v||     (the norm over every kernel axis but the last)

    so each output unit's weight vector has norm exactly ``|g|`` whatever ``v`` is.
    ``g`` starts at ``||v||`` so the wrapped layer starts out computing what it
    would without the wrapper. Usage: ``WeightNormalization(keras.layers.Dense(10))``.

    Introduced in notebook 07 (normalization).
    """

    _SUPPORTED = (keras.layers.Dense, keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D)

    def __init__(self, layer, epsilon=1e-12, **kwargs):
        if not isinstance(layer, self._SUPPORTED) or isinstance(
            layer, (keras.layers.Conv1DTranspose, keras.layers.Conv2DTranspose, keras.layers.Conv3DTranspose)
        ):
            raise ValueError(
                f"Expected a Dense, Conv1D, Conv2D or Conv3D layer to wrap. Received: layer={type(layer).__name__}"
            )
        super().__init__(layer, **kwargs)
        self.epsilon = checks.positive(epsilon, "epsilon")

    def build(self, input_shape):
        super().build(input_shape)  # builds the wrapped layer: its kernel is v
        kernel = self.layer.kernel
        self._norm_axes = list(range(len(kernel.shape) - 1))
        v_norm = np.sqrt(np.sum(np.square(ops.convert_to_numpy(kernel)), axis=tuple(self._norm_axes)))
        self.g = self.add_weight(name="g", shape=(kernel.shape[-1],), initializer=keras.initializers.Constant(v_norm))

    def normalized_kernel(self):
        """The kernel actually used, ``w = g * v / ||v||``."""
        v = self.layer.kernel
        norm = ops.sqrt(ops.sum(ops.square(v), axis=self._norm_axes, keepdims=True) + self.epsilon)
        return v * (self.g / norm)

    def call(self, inputs, training=None):
        layer = self.layer
        w = self.normalized_kernel()
        if isinstance(layer, keras.layers.Dense):
            outputs = ops.matmul(inputs, w)
            if layer.use_bias:
                outputs = outputs + layer.bias
        else:
            if isinstance(layer, keras.layers.Conv1D) and layer.padding == "causal":
                inputs = ops.pad(inputs, layer._compute_causal_padding())
                outputs = ops.conv(
                    inputs,
                    w,
                    strides=list(layer.strides),
                    padding="valid",
                    dilation_rate=layer.dilation_rate,
                    data_format=layer.data_format,
                )
            else:
                outputs = layer.convolution_op(inputs, w)
            if layer.use_bias:
                if layer.data_format == "channels_last":
                    bias_shape = (1,) * (layer.rank + 1) + (layer.filters,)
                else:
                    bias_shape = (1, layer.filters) + (1,) * layer.rank
                outputs = outputs + ops.reshape(layer.bias, bias_shape)
        if layer.activation is not None:
            outputs = layer.activation(outputs)
        return outputs

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}


# ---------------------------------------------------------------------------
# spectral normalization
# ---------------------------------------------------------------------------
def spectral_norm(kernel, iterations: int = 1, u=None, seed: int = 0):
    """Estimate the largest singular value of ``kernel`` by power iteration; returns ``(sigma, u)``.

    As ``keras.layers.SpectralNormalization`` does: the kernel is reshaped to a
    matrix W of shape (-1, out) and, from a row vector ``u`` (1, out),

        v = normalize(u W^T);  u = normalize(v W)     (``iterations`` times)
        sigma = v W u^T

    Started from the layer's own ``vector_u``, one iteration reproduces the sigma
    the layer divides its kernel by; many iterations converge to the top singular
    value (``np.linalg.svd(W, compute_uv=False)[0]``). ``u=None`` starts from a
    seeded random vector. NumPy, float64.

    Introduced in notebook 07 (normalization).
    """
    iterations = checks.positive_int(iterations, "iterations")
    w = np.asarray(kernel, dtype=np.float64)
    if w.ndim < 2:
        raise ValueError(f"Expected a kernel of rank >= 2. Received shape {w.shape}")
    w = w.reshape(-1, w.shape[-1])
    if u is None:
        u = np.random.default_rng(seed).standard_normal((1, w.shape[1]))
    u = np.asarray(u, dtype=np.float64).reshape(1, -1)
    if u.shape[1] != w.shape[1]:
        raise ValueError(f"Expected u with {w.shape[1]} entries (the kernel's last axis). Received shape {u.shape}")
    for _ in range(iterations):
        v = u @ w.T
        v = v / max(np.linalg.norm(v), 1e-12)
        u = v @ w
        u = u / max(np.linalg.norm(u), 1e-12)
    sigma = float((v @ w @ u.T)[0, 0])
    return sigma, u


def conv_operator_norm(kernel, image_size) -> float:
    """The largest singular value of a stride-1 2D convolution as a linear map of ``image_size`` images.

    ``kernel`` has Keras's layout ``(kh, kw, in_channels, out_channels)``; the
    convolution wraps around the image borders (circular padding). Then the
    convolution is diagonalised by the 2D DFT: at each of the ``n x n``
    frequencies it acts on the channels as the ``(in, out)`` matrix of the
    kernel's DFT, and its singular values are those of these ``n^2`` small
    matrices (Sedghi, Gupta and Long, ICLR 2019). This is the Lipschitz
    constant of the convolution; :func:`spectral_norm` of the *reshaped*
    kernel, what ``keras.layers.SpectralNormalization`` divides by, is a lower
    bound of it (up to ``sqrt(kh * kw)`` times smaller). With zero
    ("same") padding the norm is at most this value. NumPy, float64.

    Introduced in notebook 07 (normalization).
    """
    k = np.asarray(kernel, dtype=np.float64)
    if k.ndim != 4:
        raise ValueError(f"Expected a 2D convolution kernel (kh, kw, in, out). Received shape {k.shape}")
    n = checks.positive_int(image_size, "image_size")
    if n < max(k.shape[:2]):
        raise ValueError(f"Expected image_size >= the kernel size {k.shape[:2]}. Received: image_size={n}")
    padded = np.zeros((n, n) + k.shape[2:])
    padded[: k.shape[0], : k.shape[1]] = k
    per_frequency = np.fft.fft2(padded, axes=(0, 1))  # (n, n, in, out): one channel matrix per frequency
    return float(np.linalg.svd(per_frequency, compute_uv=False).max())


@keras.saving.register_keras_serializable(package="lib")
class CovariateShiftNoise(keras.layers.Layer):
    """Random per-channel shift and rescaling, drawn anew at every training step (identity at inference).

    In training, each call draws for every channel a scale ``a = (1 + level)^u`` with
    ``u ~ U(-1, 1)`` (between ``1/(1+level)`` and ``1+level``) and a shift
    ``b ~ U(-level, level)``, and adds i.i.d. Gaussian noise of standard deviation
    ``level / 2`` to every value:

        y = a * x + b + level / 2 * N(0, 1)

    Put after a ``BatchNormalization`` layer it undoes what BN is supposed to buy -
    the next layer's inputs no longer have a stable mean and variance; they jump at
    every step. This is the "noisy BatchNorm" experiment of Santurkar et al. (2018,
    "How Does Batch Normalization Help Optimization?"), who injected noise with a
    non-zero mean and non-unit variance that changes at each step.

    ``level = 0`` is exactly the identity.

    Introduced in notebook 07 (normalization).
    """

    def __init__(self, level=0.5, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.level = float(checks.non_negative(level, "level"))
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def build(self, input_shape):
        if input_shape[-1] is None:
            raise ValueError(f"Expected a known number of channels (last axis). Received: input_shape={input_shape}")

    def call(self, inputs, training=None):
        if not training or self.level == 0:
            return inputs
        level = self.level
        stats_shape = (1,) * (len(inputs.shape) - 1) + (inputs.shape[-1],)
        u = keras.random.uniform(stats_shape, -1.0, 1.0, seed=self.seed_generator)
        scale = ops.exp(u * float(np.log1p(level)))
        shift = keras.random.uniform(stats_shape, -1.0, 1.0, seed=self.seed_generator) * level
        noise = keras.random.normal(ops.shape(inputs), seed=self.seed_generator) * (level / 2)
        return ops.cast(inputs * scale + shift + noise, inputs.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "level": self.level, "seed": self.seed}


# ---------------------------------------------------------------------------
# adaptive instance normalization
# ---------------------------------------------------------------------------
@keras.saving.register_keras_serializable(package="lib")
class AdaIN(keras.layers.Layer):
    """Adaptive instance normalization (Huang & Belongie, 2017) of ``[content, style]``.

        AdaIN(x, y) = sigma(y) * (x - mu(x)) / sigma(x) + mu(y)

    with mean and std per example and channel over the spatial axes (every axis
    but the first and the last), ``sigma = sqrt(var + epsilon)``. The output keeps
    the content's layout but carries the style's per-channel statistics. Content
    and style must have the same rank and number of channels; their spatial sizes
    may differ and a style batch of 1 is broadcast over the content batch.
    No weights.

    Introduced in notebook 07 (normalization).
    """

    def __init__(self, epsilon=1e-5, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = checks.positive(epsilon, "epsilon")

    @staticmethod
    def _check_shapes(input_shape):
        if (
            not isinstance(input_shape, (list, tuple))
            or len(input_shape) != 2
            or not all(isinstance(s, (list, tuple)) for s in input_shape)
        ):
            raise ValueError(f"Expected a list of two inputs [content, style]. Received: input_shape={input_shape}")
        content, style = (tuple(s) for s in input_shape)
        if len(content) < 3 or len(content) != len(style):
            raise ValueError(
                "Expected content and style of the same rank >= 3, (batch, ..., channels). "
                f"Received: content shape {content}, style shape {style}"
            )
        if content[-1] is not None and style[-1] is not None and content[-1] != style[-1]:
            raise ValueError(
                f"Expected content and style with the same number of channels. Received: content shape {content}, "
                f"style shape {style}"
            )
        if None not in (content[0], style[0]) and style[0] not in (1, content[0]):
            raise ValueError(
                f"Expected a style batch of 1 or the content's batch size. Received: content shape {content}, "
                f"style shape {style}"
            )
        return content, style

    def build(self, input_shape):
        self._check_shapes(input_shape)

    def call(self, inputs):
        if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
            raise ValueError(f"Expected a list of two inputs [content, style]. Received: {type(inputs).__name__}")
        content, style = inputs
        self._check_shapes([tuple(content.shape), tuple(style.shape)])
        axes = list(range(1, len(content.shape) - 1))
        c_mean, c_var = ops.moments(content, axes=axes, keepdims=True)
        s_mean, s_var = ops.moments(style, axes=axes, keepdims=True)
        normalized = (content - c_mean) * ops.rsqrt(c_var + self.epsilon)
        return normalized * ops.sqrt(s_var + self.epsilon) + s_mean

    def compute_output_shape(self, input_shape):
        content, _ = self._check_shapes(input_shape)
        return content

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}


# ---------------------------------------------------------------------------
# folding BN into the layer before it
# ---------------------------------------------------------------------------
_FOLDABLE = (keras.layers.Dense, keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D)


def fold_batchnorm(layer, bn):
    """Fold an inference-mode ``BatchNormalization`` into the ``Dense``/``Conv*D`` layer before it.

    At test time BN is the per-channel affine map ``gamma (z - mean) / sqrt(var + eps) + beta``
    of the layer's output ``z = x * w + b``, so it folds into new weights:

        w' = w * gamma / sqrt(var + eps)      (scaling each output channel)
        b' = gamma (b - mean) / sqrt(var + eps) + beta

    Returns ``(kernel, bias)`` as float32 NumPy arrays (``b = 0`` when the layer has
    no bias). The layer must be built, linear (no activation between it and BN), and
    BN must normalize its last axis (channels last). Works with
    :class:`BatchNorm` too.

    Introduced in notebook 07 (normalization).
    """
    if not isinstance(layer, _FOLDABLE) or isinstance(
        layer, (keras.layers.Conv1DTranspose, keras.layers.Conv2DTranspose, keras.layers.Conv3DTranspose)
    ):
        raise ValueError(f"Expected a Dense or Conv1D/2D/3D layer to fold into. Received: {type(layer).__name__}")
    if not isinstance(bn, (keras.layers.BatchNormalization, BatchNorm)):
        raise ValueError(f"Expected a BatchNormalization layer to fold. Received: {type(bn).__name__}")
    if not layer.built or not bn.built:
        raise ValueError("Expected built layers (call them on data or build them first) to fold.")
    if layer.activation is not None and layer.activation is not keras.activations.linear:
        raise ValueError(
            "Expected a linear layer (activation=None): BN can only be folded when nothing non-linear sits "
            f"between the layer and BN. Received: activation={keras.activations.serialize(layer.activation)!r}"
        )
    if isinstance(layer, (keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D)) and (
        layer.data_format != "channels_last"
    ):
        raise ValueError(f"Expected data_format='channels_last'. Received: data_format={layer.data_format!r}")
    axis = getattr(bn, "axis", -1)
    spec = getattr(bn, "input_spec", None)
    ndim = getattr(spec, "ndim", None)
    if not (axis == -1 or (ndim is not None and axis == ndim - 1)):
        raise ValueError(f"Expected BN over the last (channels) axis. Received: axis={axis!r}")
    kernel = np.asarray(ops.convert_to_numpy(layer.kernel), dtype=np.float64)
    channels = kernel.shape[-1]
    mean = np.asarray(ops.convert_to_numpy(bn.moving_mean), dtype=np.float64)
    var = np.asarray(ops.convert_to_numpy(bn.moving_variance), dtype=np.float64)
    if mean.shape != (channels,):
        raise ValueError(f"Expected BN over {channels} channels (the layer's outputs). Received: {mean.shape[0]}")
    gamma = np.asarray(ops.convert_to_numpy(bn.gamma), dtype=np.float64) if bn.scale else np.ones(channels)
    beta = np.asarray(ops.convert_to_numpy(bn.beta), dtype=np.float64) if bn.center else np.zeros(channels)
    bias = np.asarray(ops.convert_to_numpy(layer.bias), dtype=np.float64) if layer.use_bias else np.zeros(channels)
    scale = gamma / np.sqrt(var + bn.epsilon)
    return (kernel * scale).astype(np.float32), ((bias - mean) * scale + beta).astype(np.float32)


def folded_layer(layer, bn, name: str | None = None):
    """A new layer like ``layer`` (with a bias) holding :func:`fold_batchnorm`'s weights.

    ``folded_layer(conv, bn)(x)`` equals ``bn(conv(x), training=False)`` up to float
    rounding, with one layer fewer. Introduced in notebook 07 (normalization).
    """
    kernel, bias = fold_batchnorm(layer, bn)
    config = {
        **layer.get_config(),
        "use_bias": True,
        "bias_initializer": "zeros",
        "name": name or f"{layer.name}_folded",
    }
    new = type(layer).from_config(config)
    if isinstance(layer, keras.layers.Dense):
        new.build((None, kernel.shape[0]))
    else:
        in_channels = kernel.shape[-2] * getattr(layer, "groups", 1)
        new.build((None,) + (None,) * layer.rank + (in_channels,))
    new.set_weights([kernel, bias])
    return new
