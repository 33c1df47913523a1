"""Training fast: a CIFAR-10 speed-run recipe in Keras, its ablation and a throughput benchmark.

The recipe follows the CIFAR-10 speed-run records (Myrtle's ResNet-9, hlb-CIFAR10,
airbench): a small residual net of conv-BN-ReLU blocks and max-pooling, random
crops (reflect padding) and flips done on the device inside the model, label
smoothing, SGD with Nesterov momentum and decoupled weight decay, a warm-up then
linear-decay learning rate, an exponential moving average (EMA) of the weights,
flip test-time augmentation (TTA), mixed precision and XLA compilation. The
network and its on-device augmentation live with the other model builders, in
:mod:`lib.models.resnet9` (:func:`lib.models.speedrun_net`); this module trains,
ablates and times it.

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

from lib import checks
from lib.models.resnet9 import speedrun_net

__all__ = [
    "TRICKS",
    "Recipe",
    "WarmupLinearDecay",
    "ablate",
    "bench",
    "device_name",
    "main",
    "make_optimizer",
    "normalize_images",
    "smooth_labels",
    "train",
    "tta_predict",
    "variant_names",
]

#: The tricks the recipe can switch off one at a time (the ablation's rows).
#: "ema" and "tta" act at evaluation: one trained model is scored with and without them.
TRICKS = ("augment", "label_smoothing", "schedule", "nesterov", "weight_decay", "ema", "tta", "mixed_precision", "jit")
EVAL_TRICKS = ("ema", "tta")


def _check_tricks(tricks) -> frozenset:
    if isinstance(tricks, str):
        tricks = (tricks,)
    tricks = tuple(tricks)
    unknown = [t for t in tricks if t not in TRICKS]
    if unknown:
        raise ValueError(f"Expected trick names from {list(TRICKS)}. Received unknown: {unknown!r}")
    return frozenset(tricks)


def _check_images(x, name: str = "x") -> np.ndarray:
    """Colour images (N, H, W, 3) with H and W multiples of 8 (the net pools three times)."""
    x = checks.image_batch(x, name, channels=3)
    if x.shape[1] % 8 or x.shape[2] % 8:
        raise ValueError(
            f"Expected {name} with height and width multiples of 8 (CIFAR-10: (N, 32, 32, 3)). "
            f"Received: {name} of shape {x.shape}"
        )
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
        for name in ("width", "epochs", "batch_size"):
            checks.positive_int(getattr(self, name), name)
        checks.non_negative_int(self.max_shift, "max_shift")
        checks.positive(self.learning_rate, "learning_rate")
        checks.non_negative(self.weight_decay, "weight_decay")
        for name in ("momentum", "ema_momentum", "label_smoothing", "warmup_fraction"):
            checks.probability(getattr(self, name), name)
        checks.one_of(self.mixed_policy, "mixed_policy", ("mixed_float16", "mixed_bfloat16"))
        object.__setattr__(self, "tricks", _check_tricks(self.tricks))

    def without(self, *tricks: str) -> Recipe:
        """The same recipe with ``tricks`` switched off."""
        return dataclasses.replace(self, tricks=self.tricks - _check_tricks(tricks))

    def only(self, *tricks: str) -> Recipe:
        """The same recipe with exactly ``tricks`` switched on."""
        return dataclasses.replace(self, tricks=_check_tricks(tricks))

    def uses(self, trick: str) -> bool:
        return trick in _check_tricks(trick) & self.tricks


@keras.saving.register_keras_serializable(package="lib")
class WarmupLinearDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Learning rate rising linearly from 0 to ``peak`` over ``warmup_steps``, then falling linearly to
    ``final_fraction * peak`` at ``total_steps`` (and staying there): the triangular "one-cycle" shape of
    the CIFAR-10 speed-runs. Introduced in notebook 12.
    """

    def __init__(self, peak, total_steps, warmup_steps=0, final_fraction=0.0, name="warmup_linear_decay"):
        super().__init__()
        self.peak = checks.positive(peak, "peak")
        self.total_steps = checks.positive_int(total_steps, "total_steps")
        self.warmup_steps = checks.integer(warmup_steps, "warmup_steps", 0, self.total_steps - 1)
        self.final_fraction = checks.probability(final_fraction, "final_fraction", allow_one=True)
        self.name = name

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
        return {
            "peak": self.peak,
            "total_steps": self.total_steps,
            "warmup_steps": self.warmup_steps,
            "final_fraction": self.final_fraction,
            "name": self.name,
        }


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
    num_classes = checks.num_classes(num_classes)
    eps = checks.probability(smoothing, "smoothing", allow_one=True)
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(
            f"Expected integer labels of shape (N,) in [0, {num_classes}). Received: labels of shape {labels.shape}"
        )
    one_hot = np.eye(num_classes, dtype=np.float32)[labels.astype(np.int64)]
    return (1 - eps) * one_hot + eps / num_classes


def make_optimizer(recipe: Recipe, total_steps: int):
    """SGD (Nesterov momentum, decoupled weight decay, EMA) on the recipe's schedule.

    Without "schedule" the learning rate is the constant ``recipe.learning_rate``.
    BatchNorm's gamma/beta are excluded from weight decay. Introduced in notebook 12.
    """
    total_steps = checks.positive_int(total_steps, "total_steps")
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
        probs = 0.5 * (
            probs + _softmax(np.asarray(model.predict(x[:, :, ::-1], batch_size=batch_size, verbose=0), np.float32))
        )
    return probs.astype(np.float32)


# --------------------------------------------------------------------------- #
# One timed run
# --------------------------------------------------------------------------- #
def _check_data(x_train, y_train, x_test, y_test, batch_size: int):
    """The checked data of a run: the training set cut to whole batches, int64 labels."""
    x_train, x_test = _check_images(x_train, "x_train"), _check_images(x_test, "x_test")
    y_train, y_test = np.asarray(y_train).astype(np.int64), np.asarray(y_test).astype(np.int64)
    if len(y_train) != len(x_train) or len(y_test) != len(x_test):
        raise ValueError(
            f"Expected one label per image. Received: {len(x_train)} train images, {len(y_train)} "
            f"labels; {len(x_test)} test images, {len(y_test)} labels"
        )
    n = (len(x_train) // batch_size) * batch_size
    if n == 0:
        raise ValueError(f"Expected at least batch_size={batch_size} training images. Received: {len(x_train)}")
    return x_train[:n], y_train[:n], x_test, y_test


def _fresh_net(policy: str, input_shape, num_classes: int, width: int, max_shift, seed: int, reseed: bool = False):
    """A new speed-run net (after ``clear_session``; seeded globally with ``reseed``) whose layers compute in
    the dtype ``policy``. The global dtype policy is put back afterwards."""
    previous = keras.config.dtype_policy().name
    keras.backend.clear_session()
    if reseed:
        keras.utils.set_random_seed(seed)
    keras.config.set_dtype_policy(policy)
    try:
        return speedrun_net(input_shape, num_classes, width, max_shift=max_shift, seed=seed)
    finally:
        keras.config.set_dtype_policy(previous)


def _compiled_net(recipe: Recipe, input_shape, num_classes: int, total_steps: int, seed: int):
    """The net of ``recipe`` (its augmentation, dtype policy), compiled with its optimizer, loss and jit."""
    policy = recipe.mixed_policy if recipe.uses("mixed_precision") else "float32"
    max_shift = recipe.max_shift if recipe.uses("augment") else None
    model = _fresh_net(policy, input_shape, num_classes, recipe.width, max_shift, seed, reseed=True)
    smoothing = recipe.label_smoothing if recipe.uses("label_smoothing") else 0.0
    model.compile(
        optimizer=make_optimizer(recipe, total_steps),
        loss=keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=smoothing),
        metrics=["categorical_accuracy"],
        jit_compile=recipe.uses("jit"),
    )
    return model


def _snapshot(variables) -> list[np.ndarray]:
    return [np.array(keras.ops.convert_to_numpy(v)) for v in variables]


def _assign(variables, values) -> None:
    for var, value in zip(variables, values, strict=True):
        var.assign(value)


def _warm_up(model, x_train, targets, x_test, batch_size: int) -> float:
    """Compile the train and predict functions on two batches, then restore weights and optimizer state.

    Returns the seconds it took (compilation, mostly)."""
    start = time.perf_counter()
    model.optimizer.build(model.trainable_variables)
    weights, opt_state = model.get_weights(), _snapshot(model.optimizer.variables)
    n_warm = min(len(x_train), 2 * batch_size)
    model.fit(x_train[:n_warm], targets[:n_warm], batch_size=batch_size, epochs=1, shuffle=False, verbose=0)
    model.predict(x_test[:batch_size], batch_size=batch_size, verbose=0)
    model.set_weights(weights)
    _assign(model.optimizer.variables, opt_state)
    return time.perf_counter() - start


class _RawWeights(keras.callbacks.Callback):
    """Keeps the raw (non-EMA) trainable weights seen at the end of the last epoch."""

    def __init__(self):
        super().__init__()
        self.values = None

    def on_epoch_end(self, epoch, logs=None):
        self.values = _snapshot(self.model.trainable_variables)


def _unalias(model):
    """Give every trainable variable its own buffer again.

    ``use_ema`` ends ``fit`` by assigning the EMA average to each weight; on JAX
    the two then share one array, and the next compiled step, which donates its
    inputs' buffers, fails ("donate the same buffer twice"). A copy separates them.
    """
    for var in model.trainable_variables:
        var.assign(np.array(keras.ops.convert_to_numpy(var)))


def _timed_fit(model, x_train, targets, recipe: Recipe, verbose: int):
    """``fit`` for the recipe's epochs, timed; returns ``(history, seconds, raw weights at the end)``."""
    raw = _RawWeights()
    start = time.perf_counter()
    history = model.fit(
        x_train,
        targets,
        batch_size=recipe.batch_size,
        epochs=recipe.epochs,
        shuffle=True,
        verbose=verbose,
        callbacks=[raw],
    )
    seconds = time.perf_counter() - start
    _unalias(model)
    return history, seconds, raw.values


def _accuracies(model, x_test, y_test, batch_size: int, key: str) -> dict:
    """Test accuracy of the weights now in the model, without and with flip TTA, and the seconds it took:
    ``accuracy_{key}``, ``accuracy_{key}_tta``, ``eval_seconds_{key}``."""
    start = time.perf_counter()
    out = {}
    for tta in (False, True):
        probs = tta_predict(model, x_test, batch_size=batch_size, flip=tta)
        out[f"accuracy_{key}" + ("_tta" if tta else "")] = float(np.mean(probs.argmax(-1) == y_test))
    out[f"eval_seconds_{key}"] = time.perf_counter() - start
    return out


def _score(model, raw_weights, ema_on: bool, x_test, y_test, batch_size: int) -> dict:
    """Score the trained model with its raw weights (``*_plain``) and, with EMA on, the EMA weights ``fit``
    left in it (``*_ema``, left in the model afterwards); ``ema_weight_change`` is their relative L2 distance
    (0 without EMA)."""
    if not ema_on:
        return {**_accuracies(model, x_test, y_test, batch_size, "plain"), "ema_weight_change": 0.0}
    ema_weights = _snapshot(model.trainable_variables)
    scores = _accuracies(model, x_test, y_test, batch_size, "ema")
    _assign(model.trainable_variables, raw_weights)
    scores.update(_accuracies(model, x_test, y_test, batch_size, "plain"))
    _assign(model.trainable_variables, ema_weights)
    diff = np.sqrt(sum(float(np.sum((a - b) ** 2)) for a, b in zip(ema_weights, raw_weights)))
    scores["ema_weight_change"] = diff / np.sqrt(sum(float(np.sum(b**2)) for b in raw_weights))
    return scores


def train(
    recipe: Recipe,
    x_train,
    y_train,
    x_test,
    y_test,
    num_classes: int = 10,
    seed: int = 0,
    verbose: int = 0,
    keep_model: bool = False,
) -> dict:
    """Train the speed-run net with ``recipe`` and measure it the way the records do.

    Images must be normalised already (:func:`normalize_images`); labels are int
    class ids. The training set is cut to whole batches. A warm-up (one short
    ``fit`` and a ``predict``) compiles everything first; then weights and
    optimizer state are restored and ``fit`` is timed (data already in memory).
    Returns a dict:

    * ``steps``, ``train_seconds`` (the timed ``fit``), ``warmup_seconds``,
      ``images_per_second``, ``loss_first``/``loss_last`` (epoch means);
    * ``accuracy_plain``/``accuracy_plain_tta`` (the raw weights, without/with
      flip TTA) and ``eval_seconds_plain``; with the recipe's "ema" also
      ``accuracy_ema``/``accuracy_ema_tta``/``eval_seconds_ema`` (the EMA weights);
    * ``ema_weight_change``: relative L2 distance between EMA and raw weights
      (0 without EMA);
    * ``accuracy``: the recipe's own, with its EMA and TTA switches;
    * ``model`` (holding the EMA weights when EMA is on) if ``keep_model``.

    Introduced in notebook 12.
    """
    if not isinstance(recipe, Recipe):
        raise TypeError(f"Expected a lib.speedrun.Recipe. Received: {type(recipe).__name__}")
    num_classes = checks.num_classes(num_classes)
    x_train, y_train, x_test, y_test = _check_data(x_train, y_train, x_test, y_test, recipe.batch_size)
    targets = np.eye(num_classes, dtype=np.float32)[y_train]  # the loss applies the smoothing
    total_steps = len(x_train) // recipe.batch_size * recipe.epochs
    model = _compiled_net(recipe, x_train.shape[1:], num_classes, total_steps, seed)
    warmup_seconds = _warm_up(model, x_train, targets, x_test, recipe.batch_size)
    history, train_seconds, raw_weights = _timed_fit(model, x_train, targets, recipe, verbose)
    out = {
        "steps": total_steps,
        "train_seconds": train_seconds,
        "warmup_seconds": warmup_seconds,
        "images_per_second": total_steps * recipe.batch_size / train_seconds,
        "loss_first": float(history.history["loss"][0]),
        "loss_last": float(history.history["loss"][-1]),
        **_score(model, raw_weights, recipe.uses("ema"), x_test, y_test, recipe.batch_size),
    }
    out["accuracy"] = out[
        "accuracy_" + ("ema" if recipe.uses("ema") else "plain") + ("_tta" if recipe.uses("tta") else "")
    ]
    if keep_model:
        out["model"] = model
    return out


# --------------------------------------------------------------------------- #
# The ablation
# --------------------------------------------------------------------------- #
def variant_names(tricks: Iterable[str]) -> list[str]:
    """Rows of a leave-one-out ablation: ``"all tricks"``, then ``"- trick"`` for each. Introduced in notebook 12."""
    return ["all tricks"] + [f"- {t}" for t in sorted(_check_tricks(tricks), key=TRICKS.index)]


def ablate(
    recipe: Recipe,
    data,
    tricks: Iterable[str] = TRICKS,
    seeds: Iterable[int] = (0,),
    num_classes: int = 10,
    verbose: int = 0,
) -> list[dict]:
    """Leave-one-out ablation: the full recipe, then each trick in ``tricks`` switched off.

    ``data`` is ``(x_train, y_train, x_test, y_test)`` (normalised). Tricks that act
    at evaluation ("ema", "tta") are scored on the full recipe's models, with no
    extra training. Returns one row per variant: ``variant``, ``accuracies`` (one per
    seed), ``trained`` (False for the evaluation-only rows) and the means over
    ``seeds`` of :func:`train`'s ``accuracy``, ``train_seconds``, ``warmup_seconds``,
    ``loss_first``, ``loss_last`` and ``ema_weight_change``.
    Unknown trick names raise ``ValueError``. Introduced in notebook 12.
    """
    tricks = sorted(_check_tricks(tricks), key=TRICKS.index)
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("Expected at least one seed. Received: seeds=[]")
    missing = [t for t in tricks if not recipe.uses(t)]
    if missing:
        raise ValueError(
            f"Expected the recipe to use every trick it ablates. Received tricks not in the recipe: {missing!r}"
        )
    x_train, y_train, x_test, y_test = data

    def run(r):
        return [
            train(r, x_train, y_train, x_test, y_test, num_classes=num_classes, seed=s, verbose=verbose) for s in seeds
        ]

    def row(name, runs, acc_key="accuracy", trained=True):
        accs = [r[acc_key] for r in runs]
        return {
            "variant": name,
            "accuracy": float(np.mean(accs)),
            "accuracies": accs,
            "train_seconds": float(np.mean([r["train_seconds"] for r in runs])),
            "loss_first": float(np.mean([r["loss_first"] for r in runs])),
            "loss_last": float(np.mean([r["loss_last"] for r in runs])),
            "trained": trained,
            "ema_weight_change": float(np.mean([r["ema_weight_change"] for r in runs])),
            "warmup_seconds": float(np.mean([r["warmup_seconds"] for r in runs])),
        }

    full = run(recipe)
    tta = "_tta" if recipe.uses("tta") else ""
    rows = [row("all tricks", full)]
    for trick in tricks:
        if trick == "ema":
            rows.append(row("- ema", full, f"accuracy_plain{tta}", trained=False))
        elif trick == "tta":
            rows.append(row("- tta", full, "accuracy_ema" if recipe.uses("ema") else "accuracy_plain", trained=False))
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


def bench(
    batch: int = 512,
    steps: int = 20,
    width: int = 64,
    policies=("float32", "mixed_bfloat16"),
    jit=(True, False),
    seed: int = 0,
) -> list[dict]:
    """Time training steps of the speed-run net on random CIFAR-shaped data (32x32x3, 10 classes).

    For every dtype policy and jit setting: one warm-up ``fit`` epoch of ``steps``
    batches (compilation), then a timed one. Returns rows with ``policy``, ``jit``,
    ``seconds``, ``images_per_second``. Timings only: nothing is asserted.
    Introduced in notebook 12.
    """
    batch, steps, width = (checks.positive_int(v, n) for n, v in (("batch", batch), ("steps", steps), ("width", width)))
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch * steps, 32, 32, 3)).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, batch * steps)]
    rows = []
    for policy in policies:
        for use_jit in jit:
            recipe = Recipe(
                width=width,
                batch_size=batch,
                epochs=1,
                mixed_policy=policy if policy != "float32" else "mixed_bfloat16",
            )
            model = _fresh_net(policy, (32, 32, 3), 10, width, recipe.max_shift, seed)
            model.compile(
                optimizer=make_optimizer(recipe, steps),
                jit_compile=use_jit,
                loss=keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.2),
            )
            model.fit(x[: 2 * batch], y[: 2 * batch], batch_size=batch, epochs=1, verbose=0)  # compile
            _unalias(model)
            start = time.perf_counter()
            model.fit(x, y, batch_size=batch, epochs=1, verbose=0, shuffle=False)
            seconds = time.perf_counter() - start
            rows.append(
                {"policy": policy, "jit": use_jit, "seconds": seconds, "images_per_second": batch * steps / seconds}
            )
    return rows


def main(argv: list[str] | None = None) -> int:
    """``python -m lib.speedrun bench [--batch 512] [--steps 20] [--width 64] [--policies ...] [--no-eager]``.

    Introduced in notebook 12.
    """
    parser = argparse.ArgumentParser(prog="python -m lib.speedrun", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("bench", help="images/s of training steps: float32 vs mixed precision, jit on vs off")
    b.add_argument("--batch", type=int, default=512)
    b.add_argument("--steps", type=int, default=20)
    b.add_argument("--width", type=int, default=64)
    b.add_argument(
        "--policies",
        nargs="+",
        default=None,
        help="dtype policies (default: float32 and mixed_bfloat16 on a GPU, float32 on a CPU)",
    )
    b.add_argument("--no-eager", action="store_true", help="skip the jit-off rows (slow, above all on JAX)")
    args = parser.parse_args(argv)
    import keras

    device = device_name()
    policies = args.policies or (("float32", "mixed_bfloat16") if device.startswith("GPU") else ("float32",))
    print(f"backend={keras.backend.backend()} | keras {keras.__version__} | device: {device}")
    print(f"speed-run net width {args.width}, batch {args.batch}, {args.steps} timed steps, random 32x32x3 data")
    rows = bench(args.batch, args.steps, args.width, policies=policies, jit=(True,) if args.no_eager else (True, False))
    from lib.viz import table

    print(table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
