"""Training fast: a CIFAR-10 speed-run recipe in Keras, its ablation and a throughput benchmark.

The recipe follows the CIFAR-10 speed-run records (Myrtle's ResNet-9, hlb-CIFAR10,
airbench): a small residual net of conv-BN-ReLU blocks and max-pooling, random
crops (reflect padding) and flips done on the device inside the model, label
smoothing, SGD with Nesterov momentum and decoupled weight decay, a warm-up then
linear-decay learning rate, an exponential moving average (EMA) of the weights,
flip test-time augmentation (TTA), mixed precision and XLA compilation.

Everything is backend-agnostic (``keras.ops``, NumPy arrays fed to
``model.fit``; no ``tf.data``, no ``tf.*``), so it runs under
``KERAS_BACKEND=jax`` as well as TensorFlow.

Benchmark entry point (prints timings, asserts nothing)::

    python -m lib.speedrun bench [--batch 512] [--steps 20] [--width 64]

Introduced in notebook 12 (training fast).
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from collections.abc import Iterable

import keras
import numpy as np

__all__ = [
    "TRICKS",
    "RandomShiftFlip",
    "Recipe",
    "WarmupLinearDecay",
    "ablate",
    "bench",
    "conv_bn",
    "device_name",
    "main",
    "make_optimizer",
    "normalize_images",
    "residual_block",
    "smooth_labels",
    "speedrun_net",
    "train",
    "tta_predict",
    "variant_names",
]

#: The tricks the recipe can switch off one at a time (the ablation's rows).
#: "ema" and "tta" act at evaluation: one trained model is scored with and without them.
TRICKS = ("augment", "label_smoothing", "schedule", "nesterov", "weight_decay",
          "ema", "tta", "mixed_precision", "jit")
EVAL_TRICKS = ("ema", "tta")


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _positive_int(name: str, value) -> int:
    if not _is_int(value) or value < 1:
        raise ValueError(f"Expected {name} to be a positive integer. Received: {name}={value!r}")
    return int(value)


def _non_negative(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not np.isfinite(value) or value < 0:
        raise ValueError(f"Expected {name} to be a non-negative number. Received: {name}={value!r}")
    return float(value)


def _check_tricks(tricks) -> frozenset:
    if isinstance(tricks, str):
        tricks = (tricks,)
    tricks = tuple(tricks)
    unknown = [t for t in tricks if t not in TRICKS]
    if unknown:
        raise ValueError(f"Expected trick names from {list(TRICKS)}. Received unknown: {unknown!r}")
    return frozenset(tricks)


def _check_images(x, name: str = "x") -> np.ndarray:
    x = np.asarray(x)
    if x.ndim != 4 or x.shape[-1] != 3 or x.shape[1] % 8 or x.shape[2] % 8 or x.shape[1] < 8 or x.shape[2] < 8:
        raise ValueError(f"Expected {name} as colour images of shape (N, H, W, 3) with H and W multiples of 8 "
                         f"(CIFAR-10: (N, 32, 32, 3)). Received: {name}.shape={x.shape}")
    return x


# --------------------------------------------------------------------------- #
# The recipe
# --------------------------------------------------------------------------- #
@dataclasses.dataclass(frozen=True)
class Recipe:
    """Hyper-parameters of one speed-run and the set of tricks switched on.

    ``width`` is the first block's channels (Myrtle's ResNet-9: 64; the blocks
    then have 2x, 4x and 8x as many). ``learning_rate`` is the peak of the
    warm-up/linear-decay schedule; ``weight_decay`` is decoupled (Keras
    multiplies it by the learning rate: ``w -= lr * weight_decay * w``).
    ``without("ema")`` returns a copy with one trick off. Introduced in notebook 12.
    """

    width: int = 64
    epochs: int = 10
    batch_size: int = 512
    learning_rate: float = 0.2
    momentum: float = 0.9
    weight_decay: float = 5e-3
    label_smoothing: float = 0.2
    warmup_fraction: float = 0.2
    max_shift: int = 2
    ema_momentum: float = 0.99
    mixed_policy: str = "mixed_bfloat16"
    tricks: frozenset = frozenset(TRICKS)

    def __post_init__(self):
        _positive_int("width", self.width)
        _positive_int("epochs", self.epochs)
        _positive_int("batch_size", self.batch_size)
        if not _is_int(self.max_shift) or self.max_shift < 0:
            raise ValueError(f"Expected max_shift to be a non-negative integer. Received: max_shift={self.max_shift!r}")
        if _non_negative("learning_rate", self.learning_rate) == 0:
            raise ValueError(f"Expected learning_rate > 0. Received: learning_rate={self.learning_rate!r}")
        _non_negative("weight_decay", self.weight_decay)
        for name in ("momentum", "ema_momentum", "label_smoothing", "warmup_fraction"):
            value = _non_negative(name, getattr(self, name))
            if value >= 1:
                raise ValueError(f"Expected {name} in [0, 1). Received: {name}={value!r}")
        if self.mixed_policy not in ("mixed_float16", "mixed_bfloat16"):
            raise ValueError("Expected mixed_policy 'mixed_float16' or 'mixed_bfloat16'. "
                             f"Received: mixed_policy={self.mixed_policy!r}")
        object.__setattr__(self, "tricks", _check_tricks(self.tricks))

    def without(self, *tricks: str) -> Recipe:
        """The same recipe with ``tricks`` switched off."""
        return dataclasses.replace(self, tricks=self.tricks - _check_tricks(tricks))

    def only(self, *tricks: str) -> Recipe:
        """The same recipe with exactly ``tricks`` switched on."""
        return dataclasses.replace(self, tricks=_check_tricks(tricks))

    def uses(self, trick: str) -> bool:
        return trick in _check_tricks(trick) & self.tricks


# --------------------------------------------------------------------------- #
# Augmentation on the device
# --------------------------------------------------------------------------- #
@keras.saving.register_keras_serializable(package="lib")
class RandomShiftFlip(keras.layers.Layer):
    """Random crop with reflect padding (a shift of up to ``max_shift`` pixels) and horizontal flip.

    Each image gets its own shift ``(dy, dx)`` in ``[-max_shift, max_shift]`` and
    a coin flip; only while training (``training=True``), otherwise the images
    pass through unchanged. Written with ``keras.ops`` so it runs inside the
    compiled training step on any backend: the crop of the padded image is a
    product with one-hot row and column selection matrices. Introduced in
    notebook 12.
    """

    def __init__(self, max_shift: int = 2, flip: bool = True, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not _is_int(max_shift) or max_shift < 0:
            raise ValueError(f"Expected max_shift to be a non-negative integer. Received: max_shift={max_shift!r}")
        self.max_shift = int(max_shift)
        self.flip = bool(flip)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.supports_masking = True

    def build(self, input_shape):
        if len(input_shape) != 4:
            raise ValueError(f"Expected images of shape (N, H, W, C). Received: input_shape={input_shape}")
        h, w = input_shape[1], input_shape[2]
        if h is not None and self.max_shift >= h or w is not None and self.max_shift >= w:
            raise ValueError(f"Expected max_shift smaller than the image. Received: max_shift={self.max_shift}, "
                             f"input_shape={input_shape}")

    def transform(self, images, shifts, flips):
        """Apply given shifts ((N, 2) ints in [-s, s]) and flips ((N,) bools): the deterministic part."""
        ops = keras.ops
        s = self.max_shift
        dtype = images.dtype
        if s:
            h, w = images.shape[1], images.shape[2]
            padded = ops.pad(images, ((0, 0), (s, s), (s, s), (0, 0)), mode="reflect")
            oy = ops.cast(shifts[:, 0], "int32") + s  # top row of the crop in the padded image
            ox = ops.cast(shifts[:, 1], "int32") + s
            rows = ops.one_hot(oy[:, None] + ops.arange(h, dtype="int32")[None], h + 2 * s, dtype=dtype)
            cols = ops.one_hot(ox[:, None] + ops.arange(w, dtype="int32")[None], w + 2 * s, dtype=dtype)
            images = ops.einsum("nik,nkwc->niwc", rows, padded)
            images = ops.einsum("njl,nilc->nijc", cols, images)
        if self.flip:
            mask = ops.reshape(ops.cast(flips, dtype), (-1, 1, 1, 1))
            images = mask * ops.flip(images, axis=2) + (1 - mask) * images
        return images

    def call(self, inputs, training=None):
        if not training:
            return inputs
        ops = keras.ops
        n = ops.shape(inputs)[0]
        s = self.max_shift
        shifts = keras.random.randint((n, 2), -s, s + 1, seed=self.seed_generator) if s else \
            ops.zeros((n, 2), "int32")
        flips = keras.random.uniform((n,), seed=self.seed_generator) < 0.5
        return self.transform(inputs, shifts, flips)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "max_shift": self.max_shift, "flip": self.flip, "seed": self.seed}


@keras.saving.register_keras_serializable(package="lib")
class WarmupLinearDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Learning rate rising linearly from 0 to ``peak`` over ``warmup_steps``, then falling linearly to
    ``final_fraction * peak`` at ``total_steps`` (and staying there): the triangular "one-cycle" shape of
    the CIFAR-10 speed-runs. Introduced in notebook 12.
    """

    def __init__(self, peak, total_steps, warmup_steps=0, final_fraction=0.0, name="warmup_linear_decay"):
        super().__init__()
        if _non_negative("peak", peak) == 0:
            raise ValueError(f"Expected peak > 0. Received: peak={peak!r}")
        total_steps = _positive_int("total_steps", total_steps)
        if not _is_int(warmup_steps) or not 0 <= warmup_steps < total_steps:
            raise ValueError(f"Expected warmup_steps an integer in [0, total_steps={total_steps}). "
                             f"Received: warmup_steps={warmup_steps!r}")
        if not 0 <= _non_negative("final_fraction", final_fraction) <= 1:
            raise ValueError(f"Expected final_fraction in [0, 1]. Received: final_fraction={final_fraction!r}")
        self.peak, self.total_steps = float(peak), total_steps
        self.warmup_steps, self.final_fraction, self.name = int(warmup_steps), float(final_fraction), name

    def __call__(self, step):
        ops = keras.ops
        step = ops.cast(step, "float32")
        warm = float(max(self.warmup_steps, 1))
        up = self.peak * ops.minimum(step / warm, 1.0) if self.warmup_steps else self.peak
        decay_len = float(self.total_steps - self.warmup_steps)
        t = ops.clip((step - self.warmup_steps) / decay_len, 0.0, 1.0)
        down = self.peak * (1.0 - (1.0 - self.final_fraction) * t)
        return ops.where(step < self.warmup_steps, up, down)

    def get_config(self):
        return {"peak": self.peak, "total_steps": self.total_steps, "warmup_steps": self.warmup_steps,
                "final_fraction": self.final_fraction, "name": self.name}



# --------------------------------------------------------------------------- #
# The network
# --------------------------------------------------------------------------- #
def conv_bn(x, filters: int, name: str, pool: bool = False):
    """3x3 convolution (no bias) -> BatchNorm -> ReLU, then 2x2 max-pooling if ``pool``.

    The speed-run records' building block. Introduced in notebook 12.
    """
    layers = keras.layers
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv")(x)
    if pool:  # pool before BN/ReLU (Myrtle): the same result for max-pool + ReLU, 4x less BN work
        x = layers.MaxPooling2D(2, name=f"{name}_pool")(x)
    x = layers.BatchNormalization(momentum=0.9, epsilon=1e-5, name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x)


def residual_block(x, filters: int, name: str):
    """``x + conv_bn(conv_bn(x))``: two conv-BN-ReLU blocks with an identity shortcut. Introduced in notebook 12."""
    y = conv_bn(x, filters, f"{name}_a")
    y = conv_bn(y, filters, f"{name}_b")
    return keras.layers.Add(name=f"{name}_add")([x, y])


def speedrun_net(input_shape=(32, 32, 3), num_classes: int = 10, width: int = 64, max_shift: int | None = 2,
                 flip: bool = True, seed=None, name: str = "speedrun_net"):
    """Myrtle's ResNet-9 with base width ``width`` (64 in the original), augmentation built in.

    prep conv_bn(w) -> conv_bn(2w)+pool + residual(2w) -> conv_bn(4w)+pool ->
    conv_bn(8w)+pool + residual(8w) -> global max-pool -> Dense(num_classes) x 0.125,
    logits in float32 (also under a mixed-precision policy). With ``max_shift``
    not None, a :class:`RandomShiftFlip` layer first augments in training only.
    Introduced in notebook 12.
    """
    layers = keras.layers
    width = _positive_int("width", width)
    num_classes = _positive_int("num_classes", num_classes)
    if num_classes < 2:
        raise ValueError(f"Expected num_classes >= 2. Received: num_classes={num_classes}")
    shape = tuple(input_shape)
    if len(shape) != 3 or shape[-1] != 3 or any(not _is_int(s) or s < 8 or s % 8 for s in shape[:2]):
        raise ValueError(f"Expected input_shape (H, W, 3) with H and W multiples of 8 (CIFAR-10: (32, 32, 3)). "
                         f"Received: input_shape={input_shape!r}")
    inputs = keras.Input(shape, name="images")
    x = inputs
    if max_shift is not None:
        x = RandomShiftFlip(max_shift, flip=flip, seed=seed, name="augment")(x)
    x = conv_bn(x, width, "prep")
    x = conv_bn(x, 2 * width, "layer1", pool=True)
    x = residual_block(x, 2 * width, "res1")
    x = conv_bn(x, 4 * width, "layer2", pool=True)
    x = conv_bn(x, 8 * width, "layer3", pool=True)
    x = residual_block(x, 8 * width, "res3")
    x = layers.GlobalMaxPooling2D(name="global_pool")(x)
    x = layers.Dense(num_classes, use_bias=False, name="logits_dense")(x)
    x = layers.Rescaling(0.125, name="logit_scale")(x)
    outputs = layers.Activation("linear", dtype="float32", name="logits")(x)
    return keras.Model(inputs, outputs, name=name)


# --------------------------------------------------------------------------- #
# Data, labels, optimizer, evaluation
# --------------------------------------------------------------------------- #
def normalize_images(x_train, x_test):
    """Per-channel standardisation with the training set's mean and std (float32). Introduced in notebook 12."""
    x_train, x_test = _check_images(x_train, "x_train"), _check_images(x_test, "x_test")
    mean = x_train.mean(axis=(0, 1, 2), dtype=np.float64)
    std = x_train.std(axis=(0, 1, 2), dtype=np.float64) + 1e-7
    f = lambda x: ((x - mean) / std).astype(np.float32)
    return f(x_train), f(x_test)


def smooth_labels(labels, num_classes: int, smoothing: float):
    """One-hot targets with label smoothing: ``(1 - eps) * one_hot + eps / K``.

    What ``keras.losses.CategoricalCrossentropy(label_smoothing=eps)`` does to its
    targets. Introduced in notebook 12.
    """
    num_classes = _positive_int("num_classes", num_classes)
    eps = _non_negative("smoothing", smoothing)
    if eps > 1:
        raise ValueError(f"Expected smoothing in [0, 1]. Received: smoothing={smoothing!r}")
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"Expected integer labels of shape (N,) in [0, {num_classes}). Received: labels "
                         f"of shape {labels.shape}")
    one_hot = np.eye(num_classes, dtype=np.float32)[labels.astype(np.int64)]
    return (1 - eps) * one_hot + eps / num_classes


def make_optimizer(recipe: Recipe, total_steps: int):
    """SGD (Nesterov momentum, decoupled weight decay, EMA) on the recipe's schedule.

    Without "schedule" the learning rate is the constant ``recipe.learning_rate``.
    BatchNorm's gamma/beta are excluded from weight decay. Introduced in notebook 12.
    """
    total_steps = _positive_int("total_steps", total_steps)
    if recipe.uses("schedule"):
        warmup = min(round(recipe.warmup_fraction * total_steps), total_steps - 1)
        lr = WarmupLinearDecay(recipe.learning_rate, total_steps, warmup, final_fraction=0.0)
    else:
        lr = recipe.learning_rate
    optimizer = keras.optimizers.SGD(
        learning_rate=lr,
        momentum=recipe.momentum,
        nesterov=recipe.uses("nesterov"),
        weight_decay=recipe.weight_decay if recipe.uses("weight_decay") and recipe.weight_decay > 0 else None,
        use_ema=recipe.uses("ema"),
        ema_momentum=recipe.ema_momentum,
    )
    if recipe.uses("weight_decay"):
        optimizer.exclude_from_weight_decay(var_names=["gamma", "beta"])
    return optimizer


def _softmax(logits):
    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def tta_predict(model, x, batch_size: int = 512, flip: bool = True):
    """Class probabilities averaged over the images and their mirror images (flip TTA).

    ``flip=False`` gives the plain probabilities. Returns float32 (N, classes).
    Introduced in notebook 12.
    """
    x = np.asarray(x)
    if x.ndim != 4:
        raise ValueError(f"Expected images of shape (N, H, W, C). Received: x.shape={x.shape}")
    probs = _softmax(np.asarray(model.predict(x, batch_size=batch_size, verbose=0), np.float32))
    if flip:
        probs = 0.5 * (probs + _softmax(np.asarray(model.predict(x[:, :, ::-1], batch_size=batch_size, verbose=0),
                                                   np.float32)))
    return probs.astype(np.float32)


# --------------------------------------------------------------------------- #
# One timed run
# --------------------------------------------------------------------------- #
class _RawWeights:
    """Keeps the raw (non-EMA) trainable weights seen at the end of the last epoch."""

    def __init__(self):
        self.values = None

    def callback(self):
        holder = self

        class _Snapshot(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                holder.values = [np.array(keras.ops.convert_to_numpy(v)) for v in self.model.trainable_variables]

        return _Snapshot()


def _unalias(model):
    """Give every trainable variable its own buffer again.

    ``use_ema`` ends ``fit`` by assigning the EMA average to each weight; on JAX
    the two then share one array, and the next compiled step, which donates its
    inputs' buffers, fails ("donate the same buffer twice"). A copy separates them.
    """
    for var in model.trainable_variables:
        var.assign(np.array(keras.ops.convert_to_numpy(var)))


def _trim(x, y, batch_size):
    n = (len(x) // batch_size) * batch_size
    if n == 0:
        raise ValueError(f"Expected at least batch_size={batch_size} training images. Received: {len(x)}")
    return x[:n], y[:n]


def train(recipe: Recipe, x_train, y_train, x_test, y_test, num_classes: int = 10, seed: int = 0,
          verbose: int = 0, keep_model: bool = False) -> dict:
    """Train the speed-run net with ``recipe`` and measure it the way the records do.

    Images must be normalised already (:func:`normalize_images`); labels are int
    class ids. The training set is cut to whole batches. A warm-up (one short
    ``fit`` and a ``predict``) compiles everything first; then weights and
    optimizer state are restored and ``fit`` is timed (data already in memory).
    Returns a dict: ``train_seconds``, ``warmup_seconds``, ``accuracy`` (with the
    recipe's EMA/TTA), ``accuracy_plain``/``accuracy_tta``/``accuracy_ema``/
    ``accuracy_ema_tta`` (each evaluation trick on or off, from this one model),
    ``loss_first``/``loss_last`` (epoch means), ``ema_weight_change`` (relative
    L2 distance between EMA and raw weights, 0 without EMA), ``steps``,
    ``images_per_second``; and ``model`` if ``keep_model``. Introduced in notebook 12.
    """
    if not isinstance(recipe, Recipe):
        raise TypeError(f"Expected a lib.speedrun.Recipe. Received: {type(recipe).__name__}")
    x_train, x_test = _check_images(x_train, "x_train"), _check_images(x_test, "x_test")
    num_classes = _positive_int("num_classes", num_classes)
    y_train, y_test = np.asarray(y_train).astype(np.int64), np.asarray(y_test).astype(np.int64)
    if len(y_train) != len(x_train) or len(y_test) != len(x_test):
        raise ValueError(f"Expected one label per image. Received: {len(x_train)} train images, {len(y_train)} "
                         f"labels; {len(x_test)} test images, {len(y_test)} labels")
    x_train, y_train = _trim(x_train, y_train, recipe.batch_size)
    smoothing = recipe.label_smoothing if recipe.uses("label_smoothing") else 0.0
    targets = np.eye(num_classes, dtype=np.float32)[y_train]  # the loss applies the smoothing

    previous_policy = keras.config.dtype_policy().name
    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    keras.config.set_dtype_policy(recipe.mixed_policy if recipe.uses("mixed_precision") else "float32")
    try:
        model = speedrun_net(x_train.shape[1:], num_classes, recipe.width,
                             max_shift=recipe.max_shift if recipe.uses("augment") else None, seed=seed)
    finally:
        keras.config.set_dtype_policy(previous_policy)
    steps_per_epoch = len(x_train) // recipe.batch_size
    total_steps = steps_per_epoch * recipe.epochs
    model.compile(
        optimizer=make_optimizer(recipe, total_steps),
        loss=keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=smoothing),
        metrics=["categorical_accuracy"],
        jit_compile=recipe.uses("jit"),
    )

    # Warm-up: compile the train and predict functions, then put everything back.
    start = time.perf_counter()
    model.optimizer.build(model.trainable_variables)
    weights = model.get_weights()
    opt_state = [np.array(keras.ops.convert_to_numpy(v)) for v in model.optimizer.variables]
    n_warm = min(len(x_train), 2 * recipe.batch_size)
    model.fit(x_train[:n_warm], targets[:n_warm], batch_size=recipe.batch_size, epochs=1, shuffle=False, verbose=0)
    model.predict(x_test[: recipe.batch_size], batch_size=recipe.batch_size, verbose=0)
    model.set_weights(weights)
    for var, value in zip(model.optimizer.variables, opt_state):
        var.assign(value)
    warmup_seconds = time.perf_counter() - start

    raw = _RawWeights()
    start = time.perf_counter()
    history = model.fit(x_train, targets, batch_size=recipe.batch_size, epochs=recipe.epochs, shuffle=True,
                        verbose=verbose, callbacks=[raw.callback()])
    train_seconds = time.perf_counter() - start
    _unalias(model)

    def accuracy(tta: bool) -> float:
        probs = tta_predict(model, x_test, batch_size=recipe.batch_size, flip=tta)
        return float(np.mean(probs.argmax(-1) == y_test))

    out = {"steps": total_steps, "train_seconds": train_seconds, "warmup_seconds": warmup_seconds,
           "images_per_second": total_steps * recipe.batch_size / train_seconds,
           "loss_first": float(history.history["loss"][0]), "loss_last": float(history.history["loss"][-1])}
    ema_on = recipe.uses("ema")
    final = [np.array(keras.ops.convert_to_numpy(v)) for v in model.trainable_variables]
    scored = {}
    for ema in (True, False):  # fit leaves the EMA weights in the model; score them, then the raw ones
        if not ema and ema_on:
            for var, value in zip(model.trainable_variables, raw.values):
                var.assign(value)
        key = "ema" if ema and ema_on else "plain"
        if ema and not ema_on:
            continue
        start = time.perf_counter()
        scored[f"accuracy_{key}"] = accuracy(False)
        scored[f"accuracy_{key}_tta"] = accuracy(True)
        scored[f"eval_seconds_{key}"] = time.perf_counter() - start
    if ema_on:
        for var, value in zip(model.trainable_variables, final):  # leave the EMA weights in the model
            var.assign(value)
        diff = np.sqrt(sum(float(np.sum((a - b) ** 2)) for a, b in zip(final, raw.values)))
        norm = np.sqrt(sum(float(np.sum(b ** 2)) for b in raw.values))
        out["ema_weight_change"] = diff / norm
    else:
        out["ema_weight_change"] = 0.0
    out.update(scored)
    out["accuracy_tta"] = scored["accuracy_plain_tta"]
    key = ("ema" if ema_on else "plain") + ("_tta" if recipe.uses("tta") else "")
    out["accuracy"] = scored[f"accuracy_{key}"]
    if keep_model:
        out["model"] = model
    return out


# --------------------------------------------------------------------------- #
# The ablation
# --------------------------------------------------------------------------- #
def variant_names(tricks: Iterable[str]) -> list[str]:
    """Rows of a leave-one-out ablation: ``"all tricks"``, then ``"- trick"`` for each. Introduced in notebook 12."""
    return ["all tricks"] + [f"- {t}" for t in sorted(_check_tricks(tricks), key=TRICKS.index)]


def ablate(recipe: Recipe, data, tricks: Iterable[str] = TRICKS, seeds: Iterable[int] = (0,),
           num_classes: int = 10, verbose: int = 0) -> list[dict]:
    """Leave-one-out ablation: the full recipe, then each trick in ``tricks`` switched off.

    ``data`` is ``(x_train, y_train, x_test, y_test)`` (normalised). Tricks that act
    at evaluation ("ema", "tta") are scored on the full recipe's models, with no
    extra training. Returns one row per variant (``variant``, ``accuracy`` and
    ``train_seconds`` as means over ``seeds``, ``accuracies``, ``trained``).
    Unknown trick names raise ``ValueError``. Introduced in notebook 12.
    """
    tricks = sorted(_check_tricks(tricks), key=TRICKS.index)
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("Expected at least one seed. Received: seeds=[]")
    missing = [t for t in tricks if not recipe.uses(t)]
    if missing:
        raise ValueError(f"Expected the recipe to use every trick it ablates. Received tricks not in the recipe: "
                         f"{missing!r}")
    x_train, y_train, x_test, y_test = data

    def run(r):
        return [train(r, x_train, y_train, x_test, y_test, num_classes=num_classes, seed=s, verbose=verbose)
                for s in seeds]

    def row(name, runs, acc_key="accuracy", trained=True):
        accs = [r[acc_key] for r in runs]
        return {"variant": name, "accuracy": float(np.mean(accs)), "accuracies": accs,
                "train_seconds": float(np.mean([r["train_seconds"] for r in runs])),
                "loss_first": float(np.mean([r["loss_first"] for r in runs])),
                "loss_last": float(np.mean([r["loss_last"] for r in runs])), "trained": trained,
                "ema_weight_change": float(np.mean([r["ema_weight_change"] for r in runs])),
                "warmup_seconds": float(np.mean([r["warmup_seconds"] for r in runs]))}

    full = run(recipe)
    tta = "_tta" if recipe.uses("tta") else ""
    rows = [row("all tricks", full)]
    for trick in tricks:
        if trick == "ema":
            rows.append(row("- ema", full, f"accuracy_plain{tta}", trained=False))
        elif trick == "tta":
            rows.append(row("- tta", full, "accuracy_ema" if recipe.uses("ema") else "accuracy_plain",
                            trained=False))
        else:
            rows.append(row(f"- {trick}", run(recipe.without(trick))))
    return rows


# --------------------------------------------------------------------------- #
# Benchmark
# --------------------------------------------------------------------------- #
def device_name() -> str:
    """The accelerator Keras's backend will use, in words ("GPU: ...", or "CPU"). Introduced in notebook 12."""
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        devices = jax.devices()
        kinds = sorted({f"{d.platform.upper()}: {getattr(d, 'device_kind', d)}" for d in devices})
        return f"{', '.join(kinds)} (jax, {len(devices)} device{'s' if len(devices) > 1 else ''})"
    if backend == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        return f"GPU: {', '.join(g.name for g in gpus)} (tensorflow)" if gpus else "CPU (tensorflow)"
    if backend == "torch":
        import torch

        return f"GPU: {torch.cuda.get_device_name(0)} (torch)" if torch.cuda.is_available() else "CPU (torch)"
    return f"CPU ({backend})"


def _on_gpu() -> bool:
    return device_name().startswith("GPU")


def bench(batch: int = 512, steps: int = 20, width: int = 64, policies=("float32", "mixed_bfloat16"),
          jit=(True, False), seed: int = 0) -> list[dict]:
    """Time training steps of the speed-run net on random CIFAR-shaped data (32x32x3, 10 classes).

    For every dtype policy and jit setting: one warm-up ``fit`` epoch of ``steps``
    batches (compilation), then a timed one. Returns rows with ``policy``, ``jit``,
    ``seconds``, ``images_per_second``. Timings only: nothing is asserted.
    Introduced in notebook 12.
    """
    batch, steps, width = (_positive_int(n, v) for n, v in (("batch", batch), ("steps", steps), ("width", width)))
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch * steps, 32, 32, 3)).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, batch * steps)]
    rows = []
    for policy in policies:
        for use_jit in jit:
            recipe = Recipe(width=width, batch_size=batch, epochs=1, mixed_policy=policy
                            if policy != "float32" else "mixed_bfloat16")
            previous = keras.config.dtype_policy().name
            keras.backend.clear_session()
            keras.config.set_dtype_policy(policy)
            try:
                model = speedrun_net((32, 32, 3), 10, width, max_shift=recipe.max_shift, seed=seed)
            finally:
                keras.config.set_dtype_policy(previous)
            model.compile(optimizer=make_optimizer(recipe, steps), jit_compile=use_jit,
                          loss=keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.2))
            model.fit(x[: 2 * batch], y[: 2 * batch], batch_size=batch, epochs=1, verbose=0)  # compile
            _unalias(model)
            start = time.perf_counter()
            model.fit(x, y, batch_size=batch, epochs=1, verbose=0, shuffle=False)
            seconds = time.perf_counter() - start
            rows.append({"policy": policy, "jit": use_jit, "seconds": seconds,
                         "images_per_second": batch * steps / seconds})
    return rows


def main(argv: list[str] | None = None) -> int:
    """``python -m lib.speedrun bench [--batch 512] [--steps 20] [--width 64] [--policies ...] [--no-eager]``."""
    parser = argparse.ArgumentParser(prog="python -m lib.speedrun", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("bench", help="images/s of training steps: float32 vs mixed precision, jit on vs off")
    b.add_argument("--batch", type=int, default=512)
    b.add_argument("--steps", type=int, default=20)
    b.add_argument("--width", type=int, default=64)
    b.add_argument("--policies", nargs="+", default=None,
                   help="dtype policies (default: float32 and mixed_bfloat16 on a GPU, float32 on a CPU)")
    b.add_argument("--no-eager", action="store_true", help="skip the jit-off rows (slow, above all on JAX)")
    args = parser.parse_args(argv)
    import keras

    device = device_name()
    policies = args.policies or (("float32", "mixed_bfloat16") if device.startswith("GPU") else ("float32",))
    print(f"backend={keras.backend.backend()} | keras {keras.__version__} | device: {device}")
    print(f"speed-run net width {args.width}, batch {args.batch}, {args.steps} timed steps, random 32x32x3 data")
    rows = bench(args.batch, args.steps, args.width, policies=policies,
                 jit=(True,) if args.no_eager else (True, False))
    print(f"{'policy':16s} {'jit':>5s} {'seconds':>9s} {'images/s':>10s}")
    for r in rows:
        print(f"{r['policy']:16s} {r['jit']!s:>5s} {r['seconds']:9.3f} {r['images_per_second']:10.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
