"""Training fast: the speed-run recipe on Fashion-MNIST, its ablation, time-to-accuracy curves and benchmarks.

The recipe follows the CIFAR-10 speed-run records (Myrtle's ResNet-9,
hlb-CIFAR10, airbench): a small residual net (:func:`lib.models.speedrun_net`)
whose first layer is a frozen patch-whitening convolution
(:func:`whitening_filters`), random shifts and flips done inside the model,
label smoothing, SGD with Nesterov momentum and decoupled weight decay, a
warm-up then linear-decay learning rate (:class:`WarmupLinearDecay`) and flip
test-time augmentation (:func:`tta_predict`).

Timing is CPU time of this process (``time.process_time``: all its threads),
which other programs on a shared machine barely change, next to wall time.
Compilation is done first and not timed, as the records time it.

Backend-agnostic (``keras.ops``, NumPy arrays fed to ``model.fit``), so it runs
under ``KERAS_BACKEND=jax`` as well as TensorFlow.

Benchmark entry points (print timings, assert nothing)::

    python -m lib.speedrun bench [--batch 128] [--steps 20] [--width 16]
    python -m lib.speedrun select [--seeds 0 1] [--json F [--resume]]  # candidates on validation splits
    python -m lib.speedrun race [--target 0.92]    # recipe vs keras-io's convnet: time to target

Introduced in notebook 12 (training fast).
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from collections.abc import Iterable

import keras
import numpy as np

from lib import checks, environment
from lib.models.resnet9 import speedrun_net

__all__ = [
    "TRICKS",
    "RACE_RECIPE",
    "Recipe",
    "WarmupLinearDecay",
    "ablate",
    "baseline_model",
    "bench",
    "build",
    "device_name",
    "fit_curve",
    "main",
    "normalize_images",
    "race",
    "race_bar",
    "race_curves",
    "race_ratio",
    "raw_patch_filters",
    "run",
    "sampling_error",
    "SELECT_CANDIDATES",
    "select",
    "SELECT_SEEDS",
    "selection_pick",
    "selection_row",
    "selection_summary",
    "smooth_labels",
    "step_time",
    "sweep_learning_rates",
    "switch",
    "TEST_SIZE",
    "time_to",
    "tta_predict",
    "warm_up",
    "whitening_filters",
]

#: The tricks the recipe can switch off one at a time (the ablation's rows); "tta" acts at evaluation only.
TRICKS = ("whitening", "augment", "label_smoothing", "schedule", "tta")


def _check_tricks(tricks) -> frozenset:
    if isinstance(tricks, str):
        tricks = (tricks,)
    tricks = tuple(tricks)
    unknown = [t for t in tricks if t not in TRICKS]
    if unknown:
        raise ValueError(f"Expected trick names from {list(TRICKS)}. Received unknown: {unknown!r}")
    return frozenset(tricks)


# --------------------------------------------------------------------------- #
# The recipe
# --------------------------------------------------------------------------- #
@dataclasses.dataclass(frozen=True)
class Recipe:
    """Hyper-parameters of one speed-run and the set of tricks switched on.

    ``width`` is the first block's channels (Myrtle's ResNet-9: 64), ``multipliers`` its factors for the prep
    layer and the three stages (Myrtle's: 1, 2, 4, 8). ``learning_rate``
    is the peak of the warm-up/linear-decay schedule (the constant rate without
    "schedule"); ``weight_decay`` is decoupled (``w -= lr * weight_decay * w``).
    ``whiten_patch`` is the side of the whitening patches, ``stem_stride`` the first layer's stride. ``policy`` is the
    dtype policy ("float32" or "mixed_bfloat16"), ``jit`` XLA compilation (Keras's "auto": on
    JAX always, on TensorFlow only with a GPU).
    ``without("tta")`` returns a copy with one trick off. Introduced in notebook 12.
    """

    width: int = 16
    multipliers: tuple = (1, 2, 4, 8)
    epochs: int = 4
    batch_size: int = 128
    learning_rate: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 5e-4
    label_smoothing: float = 0.1
    warmup_fraction: float = 0.2
    max_shift: int = 2
    whiten_patch: int = 3
    stem_stride: int = 2
    logit_scale: float = 0.125
    policy: str = "float32"
    jit: bool | str = "auto"
    tricks: frozenset = frozenset(TRICKS)

    def __post_init__(self):
        for name in ("width", "epochs", "batch_size", "whiten_patch"):
            checks.positive_int(getattr(self, name), name)
        checks.non_negative_int(self.max_shift, "max_shift")
        checks.positive(self.learning_rate, "learning_rate")
        checks.non_negative(self.weight_decay, "weight_decay")
        for name in ("momentum", "label_smoothing", "warmup_fraction"):
            checks.probability(getattr(self, name), name)
        checks.one_of(self.policy, "policy", ("float32", "mixed_float16", "mixed_bfloat16"))
        if self.jit not in (True, False, "auto"):
            raise ValueError(f"Expected jit True, False or 'auto'. Received: jit={self.jit!r}")
        object.__setattr__(self, "tricks", _check_tricks(self.tricks))
        m = tuple(self.multipliers)
        if len(m) != 4 or any(isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1 for k in m):
            raise ValueError(f"Expected multipliers: 4 positive integers. Received: multipliers={self.multipliers!r}")
        object.__setattr__(self, "multipliers", tuple(int(k) for k in m))

    def without(self, *tricks: str) -> Recipe:
        """The same recipe with ``tricks`` switched off."""
        return dataclasses.replace(self, tricks=self.tricks - _check_tricks(tricks))

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


#: The recipe :func:`race` runs by default: :func:`selection_pick` of ``python -m lib.speedrun select`` (the
#: candidate of :data:`SELECT_CANDIDATES` with the least mean CPU time to :func:`race_bar` (92.27%) on validation
#: splits held out of the training set, among those that reached it with every seed of :data:`SELECT_SEEDS`; the
#: rows are in ``harness/race_select.json`` and RESULTS.md). Base width 8 with Myrtle's multipliers (1, 2, 4, 8)
#: and the first layer at stride 1, so the net sees the full 28x28 image (every candidate with a stride-2 first
#: layer, whatever its width, epochs or batch, ended near 92.2% and none cleared the bar with both seeds), 4 epochs
#: at batch 256, peak rate 0.2, augmentation and flip TTA off (the candidate with them on ended lowest on average:
#: a run this short is far from overfitting, where augmentation pays). Introduced in notebook 12.
RACE_RECIPE = Recipe(
    width=8,
    multipliers=(1, 2, 4, 8),
    stem_stride=1,
    epochs=4,
    batch_size=256,
    learning_rate=0.2,
    tricks=("whitening", "label_smoothing", "schedule"),
)


# --------------------------------------------------------------------------- #
# Data, labels, whitening, evaluation
# --------------------------------------------------------------------------- #
def normalize_images(x_train, *others):
    """Per-channel standardisation with the training set's mean and std (float32), applied to
    ``x_train`` and every array in ``others``; returns them in the same order. Introduced in notebook 12."""
    x_train = checks.image_batch(x_train, "x_train")
    mean = x_train.mean(axis=(0, 1, 2), dtype=np.float64)
    std = x_train.std(axis=(0, 1, 2), dtype=np.float64) + 1e-7
    out = [((checks.image_batch(x, "x") - mean) / std).astype(np.float32) for x in (x_train, *others)]
    return tuple(out)


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


def whitening_filters(x, patch_size: int = 3, eps: float = 1e-2, max_patches: int = 100_000, seed: int = 0):
    """PCA-whitening filters of the ``patch_size`` x ``patch_size`` patches of images ``x``, as a conv kernel.

    The covariance of the (mean-free) patches is ``V diag(lam) V^T``; filter k is
    ``v_k / sqrt(lam_k + eps)``, so a 'valid' convolution with the kernel gives
    outputs with (about) unit variance and no correlation. Returns float32
    ``(p, p, C, p*p*C)``, filters ordered by decreasing eigenvalue. The
    airbench / hlb-CIFAR10 idea (they also append the negated filters); notebook
    12 writes it itself and checks it against this. Introduced in notebook 12.
    """
    x = checks.image_batch(x, "x")
    p = checks.positive_int(patch_size, "patch_size")
    checks.positive(eps, "eps")
    n, h, w, c = x.shape
    if p > min(h, w):
        raise ValueError(f"Expected patch_size at most the image size {min(h, w)}. Received: patch_size={p}")
    rng = np.random.default_rng(seed)
    count = min(max_patches, n * (h - p + 1) * (w - p + 1))
    idx, i, j = rng.integers(0, n, count), rng.integers(0, h - p + 1, count), rng.integers(0, w - p + 1, count)
    offsets = np.arange(p)
    patches = x[
        idx[:, None, None], i[:, None, None] + offsets[None, :, None], j[:, None, None] + offsets[None, None, :]
    ]
    patches = patches.reshape(count, p * p * c).astype(np.float64)  # (count, p, p, c) flattened
    cov = np.cov(patches, rowvar=False)
    lam, vecs = np.linalg.eigh(cov)
    order = np.argsort(lam)[::-1]
    lam, vecs = lam[order], vecs[:, order]
    filters = vecs / np.sqrt(lam + eps)
    return filters.reshape(p, p, c, p * p * c).astype(np.float32)


def _softmax(logits):
    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def tta_predict(model, x, batch_size: int = 512, flip: bool = True):
    """Class probabilities averaged over the images and their mirror images (flip TTA).

    ``model`` returns logits. ``flip=False`` gives the plain probabilities.
    Returns float32 (N, classes). Introduced in notebook 12.
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
# Models: the baseline and the recipe's net, compiled
# --------------------------------------------------------------------------- #
def baseline_model(input_shape=(28, 28, 1), num_classes: int = 10, learning_rate: float = 1e-3):
    """keras-io's "Simple MNIST convnet" (conv 32 -> pool -> conv 64 -> pool -> dropout 0.5 -> dense), compiled
    as keras-io compiles it: Adam, categorical cross-entropy on softmax outputs, accuracy. The baseline of
    notebook 12's time-to-accuracy race. Introduced in notebook 12.
    """
    from lib.models.small import mnist_convnet

    model = mnist_convnet(input_shape, num_classes)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def raw_patch_filters(patch_size: int = 3, channels: int = 1):
    """The identity of patch space as a conv kernel ``(p, p, C, p*p*C)``: filter k copies the k-th pixel of
    the patch. The whitening layer holding these passes the raw patches on (the ablation's "no whitening",
    with the same architecture). Introduced in notebook 12."""
    p, c = checks.positive_int(patch_size, "patch_size"), checks.positive_int(channels, "channels")
    return np.eye(p * p * c, dtype=np.float32).reshape(p, p, c, p * p * c)


def _net(recipe: Recipe, input_shape, num_classes: int, seed: int):
    """The recipe's uncompiled net with its augmentation and whitening layers, seeded, under its dtype policy."""
    previous = keras.config.dtype_policy().name
    keras.utils.set_random_seed(seed)
    keras.config.set_dtype_policy(recipe.policy)
    try:
        return speedrun_net(
            input_shape,
            num_classes,
            recipe.width,
            max_shift=recipe.max_shift,
            whitening=raw_patch_filters(recipe.whiten_patch, input_shape[-1]),
            stem_stride=recipe.stem_stride,
            logit_scale=recipe.logit_scale,
            seed=seed,
            multipliers=recipe.multipliers,
        )
    finally:
        keras.config.set_dtype_policy(previous)


def switch(model, recipe: Recipe, whitening) -> None:
    """Set the tricks that need no new compilation: the augmentation layer on or off, and the frozen first
    layer to the ``whitening`` filters or to the raw patches (:func:`raw_patch_filters`). Introduced in
    notebook 12."""
    model.get_layer("augment").active.assign(1.0 if recipe.uses("augment") else 0.0)
    layer = model.get_layer("whiten")
    p, _, c, _ = layer.kernel.shape
    layer.kernel.assign(whitening if recipe.uses("whitening") else raw_patch_filters(p, c))


def build(recipe: Recipe, input_shape, steps_per_epoch: int, num_classes: int = 10, seed: int = 0):
    """The recipe's net (augmentation layer and frozen whitening layer included; :func:`switch` sets them),
    compiled with SGD (Nesterov, decoupled weight decay), the warm-up/linear-decay schedule over
    ``recipe.epochs * steps_per_epoch`` steps (or the constant peak rate without "schedule"),
    cross-entropy on logits against the targets :func:`run` passes (smoothed or one-hot) and jit.
    Introduced in notebook 12.
    """
    if not isinstance(recipe, Recipe):
        raise TypeError(f"Expected a lib.speedrun.Recipe. Received: {type(recipe).__name__}")
    total_steps = checks.positive_int(steps_per_epoch, "steps_per_epoch") * recipe.epochs
    model = _net(recipe, checks.image_shape(input_shape), num_classes, seed)
    if recipe.uses("schedule"):
        warmup = min(round(recipe.warmup_fraction * total_steps), total_steps - 1)
        lr = WarmupLinearDecay(recipe.learning_rate, total_steps, warmup)
    else:
        lr = recipe.learning_rate
    optimizer = keras.optimizers.SGD(
        learning_rate=lr,
        momentum=recipe.momentum,
        nesterov=True,
        weight_decay=recipe.weight_decay or None,
    )
    optimizer.exclude_from_weight_decay(var_names=["gamma", "beta"])
    model.compile(
        optimizer=optimizer,
        loss=keras.losses.CategoricalCrossentropy(from_logits=True),
        metrics=["categorical_accuracy"],
        jit_compile=recipe.jit,
    )
    return model


# --------------------------------------------------------------------------- #
# Timed training
# --------------------------------------------------------------------------- #
def _snapshot(variables) -> list[np.ndarray]:
    return [np.array(keras.ops.convert_to_numpy(v)) for v in variables]


def _assign(variables, values) -> None:
    for var, value in zip(variables, values, strict=True):
        var.assign(value)


def _unalias(model):
    """Give every variable its own buffer again (on JAX, ``set_weights`` of one array into two variables
    makes the next compiled step, which donates its inputs, fail)."""
    for var in model.variables:
        var.assign(np.array(keras.ops.convert_to_numpy(var)))


def warm_up(model, x, targets, batch_size: int, x_eval=None) -> tuple[list, list]:
    """Compile the train (and predict) functions on two batches, then put weights and optimizer state back.

    Returns ``(weights, optimizer_state)`` as they were before: pass them to :func:`fit_curve` to start
    every seed from a reset model without compiling again. Introduced in notebook 12.
    """
    model.optimizer.build(model.trainable_variables)
    weights, opt_state = model.get_weights(), _snapshot(model.optimizer.variables)
    n = min(len(x), 2 * batch_size)
    model.fit(x[:n], targets[:n], batch_size=batch_size, epochs=1, shuffle=False, verbose=0)
    if x_eval is not None:
        model.predict(x_eval[:batch_size], batch_size=batch_size, verbose=0)
    model.set_weights(weights)
    _assign(model.optimizer.variables, opt_state)
    _unalias(model)
    return weights, opt_state


def fit_curve(
    model,
    x,
    targets,
    x_eval,
    y_eval,
    epochs: int,
    batch_size: int,
    tta: bool = False,
    every_epoch: bool = True,
    stop_at: float | None = None,
) -> dict:
    """Train ``epochs`` epochs (whole batches only), scoring ``(x_eval, y_eval)`` after each.

    Each epoch is one ``fit`` call, timed in CPU seconds of this process and in
    wall seconds; the evaluation between epochs is not timed. Returns lists
    ``epoch``, ``cpu_seconds`` and ``wall_seconds`` (cumulative), ``accuracy``
    (with flip TTA if ``tta``), ``loss`` (the training loss the model minimises)
    and ``eval_loss`` (plain cross-entropy on the eval set, comparable between
    models trained with and without label smoothing). ``every_epoch=False`` scores only after the last
    epoch (the lists then hold that epoch alone): what an ablation row needs, for less evaluation work.
    ``stop_at`` ends training after the first epoch whose accuracy reaches it (a race needs no more).
    Introduced in notebook 12.
    """
    epochs, batch_size = checks.positive_int(epochs, "epochs"), checks.positive_int(batch_size, "batch_size")
    if stop_at is not None and not every_epoch:
        raise ValueError("Expected every_epoch=True with stop_at (each epoch must be scored to stop at a target).")
    n = len(x) // batch_size * batch_size
    y_eval = np.asarray(y_eval).astype(np.int64)
    out = {k: [] for k in ("epoch", "cpu_seconds", "wall_seconds", "accuracy", "loss", "eval_loss")}
    cpu = wall = 0.0
    for epoch in range(1, epochs + 1):
        c0, w0 = time.process_time(), time.perf_counter()
        history = model.fit(x[:n], targets[:n], batch_size=batch_size, epochs=1, shuffle=True, verbose=0)
        cpu += time.process_time() - c0
        wall += time.perf_counter() - w0
        if not every_epoch and epoch < epochs:
            continue
        probs = _eval_probs(model, x_eval, batch_size, tta)
        out["epoch"].append(epoch)
        out["cpu_seconds"].append(cpu)
        out["wall_seconds"].append(wall)
        out["accuracy"].append(float(np.mean(probs.argmax(-1) == y_eval)))
        out["loss"].append(float(history.history["loss"][-1]))
        out["eval_loss"].append(float(-np.mean(np.log(probs[np.arange(len(y_eval)), y_eval] + 1e-12))))
        if stop_at is not None and out["accuracy"][-1] >= stop_at:
            break
    return out


def _eval_probs(model, x, batch_size: int, tta: bool):
    if model.layers[-1].name == "logits":  # the speed-run net returns logits
        return tta_predict(model, x, batch_size=max(batch_size, 500), flip=tta)
    return np.asarray(model.predict(x, batch_size=max(batch_size, 500), verbose=0), np.float32)


def time_to(curve: dict, target: float, key: str = "cpu_seconds") -> float:
    """The first cumulative time in ``curve`` (from :func:`fit_curve`) at which its accuracy reached
    ``target``; ``inf`` if it never did. Introduced in notebook 12."""
    for seconds, accuracy in zip(curve[key], curve["accuracy"], strict=True):
        if accuracy >= target:
            return float(seconds)
    return float("inf")


def run(
    recipe: Recipe,
    data,
    seeds: Iterable[int] = (0,),
    num_classes: int = 10,
    model=None,
    whitening=None,
    every_epoch: bool = True,
    score_both: bool = True,
):
    """Train the recipe once per seed on one compiled model (compiled once, reset between seeds).

    ``data`` is ``(x_train, y_train, x_eval, y_eval)`` (normalised images, int labels).
    ``model`` reuses a net from :func:`build` compiled for the same schedule and
    epochs; ``whitening`` reuses filters from :func:`whitening_filters`. Returns
    ``(results, model)``: one :func:`fit_curve` dict per seed (its accuracies with
    flip TTA if the recipe uses it), plus ``seed``, ``final`` (the last epoch's
    accuracy), ``accuracy_plain`` and ``accuracy_tta`` (the last epoch without and
    with TTA); and the model, for the next call. ``every_epoch=False`` scores only the last epoch;
    ``score_both=False`` skips the second scoring (``accuracy_plain`` or ``accuracy_tta`` is then None).
    Between seeds the optimizer's state (step count, momenta) is reset to zeros; a constant learning rate
    (a recipe without "schedule") is kept. Introduced in notebook 12.
    """
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("Expected at least one seed. Received: seeds=[]")
    x_train, y_train, x_eval, y_eval = data
    y_train = np.asarray(y_train).astype(np.int64)
    steps = len(x_train) // recipe.batch_size
    if steps == 0:
        raise ValueError(f"Expected at least batch_size={recipe.batch_size} training images. Received: {len(x_train)}")
    if whitening is None:
        whitening = whitening_filters(x_train, recipe.whiten_patch)
    targets = smooth_labels(y_train, num_classes, recipe.label_smoothing if recipe.uses("label_smoothing") else 0.0)
    if model is None:
        model = build(recipe, x_train.shape[1:], steps, num_classes, seeds[0])
        warm_up(model, x_train, targets, recipe.batch_size, x_eval)
    out = []
    for seed in seeds:
        model.set_weights(_net(recipe, x_train.shape[1:], num_classes, seed).get_weights())
        for var in model.optimizer.variables:  # a fresh optimizer; a constant learning rate is a variable too
            if var.name != "learning_rate":
                var.assign(np.zeros(var.shape, var.dtype))
        switch(model, recipe, whitening)
        _unalias(model)
        keras.utils.set_random_seed(seed)
        use_tta = recipe.uses("tta")
        curve = fit_curve(
            model, x_train, targets, x_eval, y_eval, recipe.epochs, recipe.batch_size, use_tta, every_epoch
        )
        other = None
        if score_both:
            other = float(np.mean(tta_predict(model, x_eval, 500, flip=not use_tta).argmax(-1) == np.asarray(y_eval)))
        last = curve["accuracy"][-1]
        curve.update(
            seed=seed, final=last, accuracy_plain=other if use_tta else last, accuracy_tta=last if use_tta else other
        )
        out.append(curve)
    return out, model


def sweep_learning_rates(
    recipe: Recipe,
    data,
    rates: Iterable[float],
    seed: int = 0,
    num_classes=10,
    whitening=None,
    every_epoch: bool = True,
    score_both: bool = True,
):
    """Train ``recipe`` once (one seed) at each learning rate in ``rates``, scored on ``data``'s eval split.

    With the schedule, each rate is a peak compiled into its own model; without it (a constant rate, the
    optimizer's ``learning_rate`` variable) one compiled model serves every rate. Returns ``(rows, runs,
    models)``: one row per rate (``learning_rate``, ``accuracy`` - the last epoch's, with TTA if the recipe
    uses it -, ``eval_loss``, ``cpu_seconds``), the :func:`run` result of each rate and the compiled model
    that trained it (by rate), so that more seeds can follow without compiling again (``run(...,
    model=models[rate])``; for a constant rate, set ``model.optimizer.learning_rate`` first). Introduced in
    notebook 12.
    """
    rates = [checks.positive(float(r), "learning_rate") for r in rates]
    if not rates:
        raise ValueError("Expected at least one learning rate. Received: rates=[]")
    if whitening is None:
        whitening = whitening_filters(data[0], recipe.whiten_patch)
    rows, runs, models, model = [], {}, {}, None
    for rate in rates:
        if recipe.uses("schedule"):
            model = None  # the peak is compiled into the schedule
        elif model is not None:
            model.optimizer.learning_rate = rate
        this = dataclasses.replace(recipe, learning_rate=rate)
        (curve,), model = run(this, data, [seed], num_classes, model, whitening, every_epoch, score_both)
        runs[rate], models[rate] = curve, model
        rows.append(
            {
                "learning_rate": rate,
                "accuracy": curve["final"],
                "eval_loss": curve["eval_loss"][-1],
                "cpu_seconds": curve["cpu_seconds"][-1],
            }
        )
    return rows, runs, models


def ablate(
    recipe: Recipe,
    data,
    tricks: Iterable[str] = TRICKS,
    seeds: Iterable[int] = (0,),
    num_classes=10,
    full=None,
    done=None,
):
    """Leave-one-out ablation: the full recipe, then each trick in ``tricks`` switched off, same seeds.

    Two compiled models serve every row (with and without the schedule); "tta"
    acts at evaluation, so its row scores the full recipe's own models without
    it. The rows other than the full recipe are scored after their last epoch only. ``full`` reuses
    :func:`run`'s ``(results, model)`` of the full recipe on the same data and seeds; ``done`` maps a
    variant ("- schedule") to :func:`run` results already trained for it (same data, seeds and budget).
    Returns ``(rows, runs)``: one row per variant (``variant``,
    ``accuracies`` per seed, their ``mean`` and ``std``, the mean training
    ``cpu_seconds``, ``eval_loss``) and the :func:`run` results by variant.
    Introduced in notebook 12.
    """
    tricks = sorted(_check_tricks(tricks), key=TRICKS.index)
    missing = [t for t in tricks if not recipe.uses(t)]
    if missing:
        raise ValueError(f"Expected the recipe to use every trick it ablates. Received tricks not in it: {missing!r}")
    seeds = list(seeds)
    whitening = whitening_filters(data[0], recipe.whiten_patch)
    full, model = full if full is not None else run(recipe, data, seeds, num_classes, whitening=whitening)
    runs = {"full recipe": full}
    done = dict(done or {})
    for trick in tricks:
        if f"- {trick}" in done:
            runs[f"- {trick}"] = done[f"- {trick}"]
        elif trick == "schedule":
            runs["- schedule"] = run(recipe.without(trick), data, seeds, num_classes, None, whitening, False, False)[0]
        elif trick != "tta":
            runs[f"- {trick}"] = run(recipe.without(trick), data, seeds, num_classes, model, whitening, False, False)[0]
    rows = []
    for name, results in runs.items():
        rows.append(_row(name, results, "final"))
        if name == "full recipe" and "tta" in tricks:
            rows.append(_row("- tta", results, "accuracy_plain"))
    return rows, runs


def _row(name, results, key):
    accs = [r[key] for r in results]
    return {
        "variant": name,
        "accuracies": accs,
        "mean": float(np.mean(accs)),
        "std": float(np.std(accs, ddof=1)) if len(accs) > 1 else 0.0,
        "cpu_seconds": float(np.mean([r["cpu_seconds"][-1] for r in results])),
        "eval_loss": float(np.mean([r["eval_loss"][-1] for r in results])),
    }


# --------------------------------------------------------------------------- #
# Benchmarks
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
    return f"CPU ({backend})"


def step_time(model, x, targets, batch_size: int, steps: int) -> dict:
    """CPU and wall milliseconds per training step of a compiled (warmed-up) ``model``: one ``fit`` epoch of
    ``steps`` batches; the weights and optimizer state are put back afterwards. Introduced in notebook 12."""
    steps, batch_size = checks.positive_int(steps, "steps"), checks.positive_int(batch_size, "batch_size")
    n = steps * batch_size
    x, targets = np.resize(x, (n, *np.shape(x)[1:])), np.resize(targets, (n, *np.shape(targets)[1:]))
    weights, opt_state = model.get_weights(), _snapshot(model.optimizer.variables)
    c0, w0 = time.process_time(), time.perf_counter()
    model.fit(x, targets, batch_size=batch_size, epochs=1, shuffle=False, verbose=0)
    cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    model.set_weights(weights)
    _assign(model.optimizer.variables, opt_state)
    _unalias(model)
    return {
        "cpu_ms_per_step": 1e3 * cpu / steps,
        "wall_ms_per_step": 1e3 * wall / steps,
        "images_per_cpu_second": n / cpu,
    }


def bench(
    x,
    y,
    recipe: Recipe | None = None,
    settings=(("float32", False), ("float32", True), ("mixed_bfloat16", False)),
    steps: int = 20,
    num_classes: int = 10,
) -> list[dict]:
    """Time ``steps`` training steps of the recipe's net for each ``(policy, jit)`` in ``settings``.

    Per setting: build and compile (timed: ``compile_cpu_seconds``, the first
    ``fit`` included), then one timed ``fit`` epoch of ``steps`` batches.
    Returns rows with ``policy``, ``jit``, ``compile_cpu_seconds``,
    ``cpu_ms_per_step``, ``wall_ms_per_step``, ``images_per_cpu_second``.
    Timings only: nothing is asserted. Introduced in notebook 12.
    """
    recipe = recipe or Recipe()
    steps = checks.positive_int(steps, "steps")
    n = steps * recipe.batch_size
    x = np.resize(np.asarray(x, np.float32), (n, *np.shape(x)[1:]))
    targets = np.eye(num_classes, dtype=np.float32)[np.resize(np.asarray(y).astype(np.int64), n)]
    rows = []
    for policy, jit in settings:
        r = dataclasses.replace(recipe, policy=policy, jit=bool(jit), epochs=1)
        c0 = time.process_time()
        model = build(r, x.shape[1:], steps, num_classes)
        warm_up(model, x, targets, r.batch_size)
        compile_cpu = time.process_time() - c0
        rows.append(
            {"policy": policy, "jit": bool(jit), "compile_cpu_seconds": compile_cpu}
            | step_time(model, x, targets, r.batch_size, steps)
        )
    return rows


def race(
    recipe: Recipe | None = None,
    target: float = 0.92,
    baseline_epochs: int = 15,
    baseline_batch: int = 128,
    train_size: int | None = None,
    seed: int = 0,
    stop_at_target: bool = False,
) -> dict:
    """The benchmark of issue 18: the recipe's time to ``target`` Fashion-MNIST test accuracy vs the
    baseline's (keras-io's convnet with Adam, batch 128, up to ``baseline_epochs`` epochs), one run each on
    this machine, all 60,000 training images (or ``train_size``), compilation not timed.
    ``stop_at_target`` stops the baseline after the epoch that reaches ``target``.

    Returns ``{"recipe": curve, "baseline": curve, "recipe_config", "baseline_config", "device", "target",
    "train_size", "test_size"}`` and, for
    each clock, what :func:`race_ratio` returns (``recipe_cpu_seconds``, ``ratio_cpu``, ...; times to
    target; a ratio above 1 means the recipe is faster; ``inf`` where the baseline never reaches the target,
    and then ``ratio_*_at_least`` is the baseline's whole time over the recipe's: a lower bound).
    For ``harness/bench.py`` and ``python -m lib.speedrun race``. Introduced in notebook 12.
    """
    from lib import data as datasets

    recipe = recipe or RACE_RECIPE
    ds = datasets.load("fashion_mnist", train_size=train_size, seed=seed)
    x_train, x_test = normalize_images(ds.x_train, ds.x_test)
    y_train, y_test = ds.y_train, ds.y_test
    recipe_curve = run(recipe, (x_train, y_train, x_test, y_test), seeds=[seed])[0][0]
    keras.utils.set_random_seed(seed)
    model = baseline_model(x_train.shape[1:], 10)
    targets = np.eye(10, dtype=np.float32)[y_train]
    warm_up(model, ds.x_train, targets, baseline_batch, ds.x_test)
    baseline_curve = fit_curve(
        model, ds.x_train, targets, ds.x_test, y_test, baseline_epochs, baseline_batch,
        stop_at=target if stop_at_target else None,
    )  # fmt: skip
    config = {**dataclasses.asdict(recipe), "tricks": sorted(recipe.tricks)}
    out = {
        "recipe": recipe_curve,
        "baseline": baseline_curve,
        "device": device_name(),
        "target": target,
        "train_size": len(y_train),
        "test_size": len(y_test),
        "recipe_config": config,
        "baseline_config": {"epochs": baseline_epochs, "batch_size": baseline_batch, "stop_at_target": stop_at_target},
    }
    for clock in ("cpu", "wall"):
        out.update(race_ratio(recipe_curve, baseline_curve, target, clock))
    return out


#: The candidates ``python -m lib.speedrun select`` races on validation splits (fields of :class:`Recipe`
#: changed from its defaults; batch 256 and peak rate 0.2 unless given): Myrtle's widths (1, 2, 4, 8) at base 16 and
#: 12, the last stage narrowed to stage 2's width (1, 2, 4, 4), and that net with augmentation and flip TTA back
#: on, for 4 epochs; then the two cheaper nets (about 0.6x base 16's CPU time per epoch) for 6 epochs, which
#: cost about what base 16's 4 do; then the narrowed net for 8 epochs, aiming above :func:`race_bar`; then three
#: ways of spending more on 6 epochs (the narrowed net at batch 128 and peak rate 0.1: twice the steps; base width
#: 24; Myrtle's widths), asking whether more of the same lifts the ceiling near 92.2%; then base width 8 with the
#: first layer at stride 1 (the full 28x28 image; fewer multiply-adds than base 16) for 6 and 4 epochs.
#: Introduced in notebook 12.
_PLAIN = ("whitening", "label_smoothing", "schedule")
SELECT_CANDIDATES = tuple(
    {"batch_size": 256, "learning_rate": 0.2, "epochs": epochs, "tricks": tricks, **arm}
    for arm, tricks, epochs in [
        ({"width": 16, "multipliers": (1, 2, 4, 8)}, _PLAIN, 4),
        ({"width": 12, "multipliers": (1, 2, 4, 8)}, _PLAIN, 4),
        ({"width": 16, "multipliers": (1, 2, 4, 4)}, _PLAIN, 4),
        ({"width": 16, "multipliers": (1, 2, 4, 4)}, TRICKS, 4),
        ({"width": 12, "multipliers": (1, 2, 4, 8)}, _PLAIN, 6),
        ({"width": 16, "multipliers": (1, 2, 4, 4)}, _PLAIN, 6),
        ({"width": 16, "multipliers": (1, 2, 4, 4)}, _PLAIN, 8),
        ({"width": 16, "multipliers": (1, 2, 4, 4), "batch_size": 128, "learning_rate": 0.1}, _PLAIN, 6),
        ({"width": 24, "multipliers": (1, 2, 4, 4)}, _PLAIN, 6),
        ({"width": 16, "multipliers": (1, 2, 4, 8)}, _PLAIN, 6),
        ({"width": 8, "multipliers": (1, 2, 4, 8), "stem_stride": 1}, _PLAIN, 6),
        ({"width": 8, "multipliers": (1, 2, 4, 8), "stem_stride": 1}, _PLAIN, 4),
    ]
)

#: The seeds of ``python -m lib.speedrun select``: each draws its own validation split and initialization.
SELECT_SEEDS = (0, 1)

#: The size of Fashion-MNIST's test set, on which the race scores its one run.
TEST_SIZE = 10_000


def sampling_error(accuracy: float, n: int) -> float:
    """The standard error of an ``accuracy`` scored on ``n`` images (a binomial proportion): how far the same
    model scored on another ``n`` images typically lands. Introduced in notebook 12."""
    n = checks.positive_int(n, "n")
    if not 0 <= accuracy <= 1:
        raise ValueError(f"Expected an accuracy between 0 and 1. Received: accuracy={accuracy!r}")
    return float((accuracy * (1 - accuracy) / n) ** 0.5)


def race_bar(target: float = 0.92, test_size: int = TEST_SIZE) -> float:
    """The validation accuracy the race's pick must reach with every seed: ``target`` plus one
    :func:`sampling_error` of a test accuracy at ``target`` on ``test_size`` images (92.27% for 92% on
    10,000). A recipe that just reaches the target on validation lands below it on the test set about half the
    time (the picks made at the bare target before all did). Introduced in notebook 12."""
    return float(target + sampling_error(target, test_size))


def select(
    candidates=SELECT_CANDIDATES,
    target: float = 0.92,
    val_size: int = 5000,
    seeds: Iterable[int] = SELECT_SEEDS,
    train_size=None,
    log=None,
    recorded: Iterable[dict] = (),
) -> list[dict]:
    """Candidate recipes raced on validation data, never the test set. For each seed, ``val_size`` images of
    Fashion-MNIST's training set are held out (stratified by class, drawn by the seed) and each ``candidates``
    entry (a dict of :class:`Recipe` fields) trains once on the rest (that seed), scored on the held-out images
    after every epoch. One row per candidate and seed: ``config`` (the fields given), ``seed``, ``params``,
    per-epoch ``accuracy`` and cumulative ``cpu_seconds``, ``final`` and ``cpu_to_target`` (``inf`` if never
    reached). :func:`selection_summary` averages the seeds and :func:`selection_pick` picks the race's recipe.
    Compilation is not timed. ``log`` (e.g. ``print``) gets each row as it is done. ``recorded``: rows of an
    earlier run (same split sizes and target); a candidate and seed found there is not trained again, and the
    result is those rows followed by the new ones, each new one stamped with its ``created`` time (UTC).
    Introduced in notebook 12.
    """
    from lib import data as datasets

    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("Expected at least one seed. Received: seeds=[]")
    val_size = checks.positive_int(val_size, "val_size")
    rows = list(recorded)
    have = {(_config_key(r["config"]), r.get("seed", 0)) for r in rows}
    for seed in seeds:
        todo = [c for c in candidates if (_config_key(c), seed) not in have]
        if not todo:
            continue
        ds = datasets.load("fashion_mnist", train_size=train_size, val_size=val_size, seed=seed)
        x_train, x_val = normalize_images(ds.x_train, ds.x_val)
        split = (x_train, ds.y_train, x_val, ds.y_val)
        for config in todo:
            recipe = Recipe(**config)
            (curve,), model = run(recipe, split, seeds=[seed], score_both=False)
            rows.append(
                {
                    "created": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
                    "config": _config_json(config),
                    "seed": seed,
                    "params": model.count_params(),
                    "epoch": curve["epoch"],
                    "accuracy": curve["accuracy"],
                    "cpu_seconds": curve["cpu_seconds"],
                    "final": curve["final"],
                    "cpu_to_target": time_to(curve, target),
                }
            )
            if log is not None:
                log(rows[-1])
            del model
            keras.backend.clear_session()
    return rows


def _config_json(config: dict) -> dict:
    return {k: (sorted(v) if k == "tricks" else list(v) if isinstance(v, tuple) else v) for k, v in config.items()}


def _config_key(config: dict) -> str:
    return repr(sorted(_config_json(config).items()))


def selection_summary(rows: list[dict]) -> list[dict]:
    """:func:`select`'s rows grouped by candidate (in their order): ``config``, ``params``, ``seeds``, ``final``
    (each seed's last validation accuracy), ``mean`` and ``std`` (population) of those, ``cpu_per_epoch`` (mean)
    and ``cpu_to_target`` (the mean over seeds; ``inf`` unless every seed reached the target).
    Introduced in notebook 12."""
    groups: dict[str, list[dict]] = {}
    for row in rows:
        groups.setdefault(_config_key(row["config"]), []).append(row)
    out = []
    for group in groups.values():
        finals = [r["final"] for r in group]
        times = [r["cpu_to_target"] for r in group]
        out.append(
            {
                "config": group[0]["config"],
                "params": group[0]["params"],
                "seeds": [r.get("seed", 0) for r in group],
                "final": finals,
                "mean": float(np.mean(finals)),
                "std": float(np.std(finals)),
                "cpu_per_epoch": float(np.mean([r["cpu_seconds"][-1] / len(r["cpu_seconds"]) for r in group])),
                "cpu_to_target": float(np.mean(times)) if all(np.isfinite(times)) else float("inf"),
            }
        )
    return out


def selection_pick(rows: list[dict], bar: float | None = None) -> dict:
    """The race's recipe from :func:`select`'s rows: the config of the candidate with the least mean CPU time to
    the target among those that reached it with every seed; if none did, the highest mean validation accuracy.
    ``bar`` (e.g. :func:`race_bar`): the validation accuracy to time instead of the target the rows were timed
    at, read from each row's per-epoch curve. Introduced in notebook 12."""
    if bar is not None:
        rows = [{**r, "cpu_to_target": time_to(r, bar)} for r in rows]
    summary = selection_summary(rows)
    if not summary:
        raise ValueError("Expected at least one selection row. Received: rows=[]")
    reached = [s for s in summary if np.isfinite(s["cpu_to_target"])]
    best = min(reached, key=lambda s: s["cpu_to_target"]) if reached else max(summary, key=lambda s: s["mean"])
    return best["config"]


def race_ratio(recipe_curve: dict, baseline_curve: dict, target: float, clock: str = "cpu") -> dict:
    """Times to ``target`` of two :func:`fit_curve` curves on one clock ("cpu" or "wall") and their ratio
    (baseline / recipe; 0 if the recipe never gets there, ``inf`` if only the baseline never does). Where the
    baseline never gets there, ``ratio_{clock}_at_least`` is its whole time over the recipe's time: how much
    faster the recipe is at least. Introduced in notebook 12."""
    clock = checks.one_of(clock, "clock", ("cpu", "wall"))
    key = f"{clock}_seconds"
    r, b = time_to(recipe_curve, target, key), time_to(baseline_curve, target, key)
    budget = float(baseline_curve[key][-1])
    ratio = b / r if np.isfinite(r) else 0.0
    return {
        f"recipe_{clock}_seconds": r,
        f"baseline_{clock}_seconds": b,
        f"baseline_budget_{clock}_seconds": budget,
        f"ratio_{clock}": ratio,
        f"ratio_{clock}_at_least": (b if np.isfinite(b) else budget) / r if np.isfinite(r) else 0.0,
    }


def main(argv: list[str] | None = None) -> int:
    """``python -m lib.speedrun bench|race ...`` (see the module docstring). Introduced in notebook 12."""
    parser = argparse.ArgumentParser(prog="python -m lib.speedrun", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("bench", help="ms per training step: float32 vs mixed precision, jit on vs off")
    b.add_argument("--batch", type=int, default=128)
    b.add_argument("--steps", type=int, default=20)
    b.add_argument("--width", type=int, default=16)
    sel = sub.add_parser("select", help="the candidate recipes' time to a validation accuracy (picks the race's)")
    sel.add_argument("--target", type=float, default=0.92)
    sel.add_argument("--val-size", type=int, default=5000)
    sel.add_argument("--seeds", type=int, nargs="+", default=list(SELECT_SEEDS))
    sel.add_argument("--train-size", type=int, default=None)
    sel.add_argument("--json", default=None, help="also write the rows, curves included, to this JSON file")
    sel.add_argument(
        "--resume",
        action="store_true",
        help="keep the rows already in --json's file (same target and val-size) and train only the missing ones",
    )
    r = sub.add_parser("race", help="time to a test accuracy: the recipe vs keras-io's convnet with Adam")
    r.add_argument("--target", type=float, default=0.92)
    r.add_argument("--train-size", type=int, default=None)
    r.add_argument("--baseline-epochs", type=int, default=15, help="the baseline's budget (keras-io's: 15)")
    r.add_argument("--stop-at-target", action="store_true", help="stop the baseline once it reaches the target")
    r.add_argument("--json", default=None, help="also write the result, both curves included, to this JSON file")
    args = parser.parse_args(argv)
    from lib.viz import table

    print(f"backend={keras.backend.backend()} | keras {keras.__version__} | device: {device_name()}")
    if args.command == "bench":
        rng = np.random.default_rng(0)
        x = rng.standard_normal((args.batch, 28, 28, 1)).astype(np.float32)
        y = rng.integers(0, 10, args.batch)
        print(table(bench(x, y, Recipe(width=args.width, batch_size=args.batch), steps=args.steps)))
    elif args.command == "select":
        recorded = _recorded_selection(args) if args.resume else []
        rows = select(
            target=args.target,
            val_size=args.val_size,
            seeds=args.seeds,
            train_size=args.train_size,
            log=lambda row: print({"seed": row["seed"], **row["config"], "final": row["final"]}, flush=True),
            recorded=recorded,
        )
        print(table([selection_row(s) for s in selection_summary(rows)]))
        bar = race_bar(args.target)
        print(f"pick (least mean CPU time to {bar:.2%} on validation with every seed):", selection_pick(rows, bar))
        if args.json:
            seeds = sorted({*args.seeds, *(r.get("seed", 0) for r in recorded)})
            record = {"target": args.target, "val_size": args.val_size, "seeds": seeds, "candidates": rows}
            _write_json(args.json, record)
    else:
        out = race(
            target=args.target,
            train_size=args.train_size,
            baseline_epochs=args.baseline_epochs,
            stop_at_target=args.stop_at_target,
        )
        print(table([{k: v for k, v in out.items() if not isinstance(v, dict)}]))
        print(table(race_curves(out)))
        if args.json:
            _write_json(args.json, out)
    return 0


def _recorded_selection(args) -> list[dict]:
    """The rows of ``select --resume``'s JSON file, checked against this run's target and split size."""
    import json
    import os

    if not args.json:
        raise SystemExit("select --resume needs --json FILE: the file whose rows are kept")
    if not os.path.isfile(args.json):
        return []
    with open(args.json) as f:
        saved = json.load(f)
    for field in ("target", "val_size"):
        if saved[field] != getattr(args, field):
            raise SystemExit(
                f"select --resume: {args.json} was recorded with {field}={saved[field]!r}; this run has "
                f"{field}={getattr(args, field)!r}. Pass the same value, or write to another file."
            )
    created = saved.get("created", "?")
    return [{"created": created, **row} for row in saved["candidates"]]


def _write_json(path, out: dict) -> None:
    import json

    created = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    with open(path, "w") as f:
        header = {"created": created, "cpu": environment.cpu_description(), "device": device_name()}
        json.dump({**header, **out}, f, indent=1)


def selection_row(summary: dict) -> dict:
    """One :func:`selection_summary` entry as a table row: the config (first layer's stride, batch size and peak
    learning rate included), parameters, the seeds' mean validation
    accuracy +- their std as percents, how many seeds reached the target, CPU seconds per epoch and to the
    target (the seeds' mean). Introduced in notebook 12."""
    c = summary["config"]
    tricks = "+".join(t for t in TRICKS if t in c.get("tricks", TRICKS))
    n = len(summary["final"])
    return {
        "width": c.get("width", Recipe.width),
        "multipliers": "-".join(map(str, c.get("multipliers", Recipe.multipliers))),
        "stem_stride": c.get("stem_stride", Recipe.stem_stride),
        "epochs": c.get("epochs", Recipe.epochs),
        "batch": c.get("batch_size", Recipe.batch_size),
        "peak_lr": c.get("learning_rate", Recipe.learning_rate),
        "tricks": tricks,
        "params": summary["params"],
        "val_accuracy": f"{100 * summary['mean']:.2f} +- {100 * summary['std']:.2f}%",
        "seeds": n,
        "cpu_s_per_epoch": round(summary["cpu_per_epoch"]),
        "cpu_s_to_target": round(summary["cpu_to_target"]) if np.isfinite(summary["cpu_to_target"]) else "never",
    }


def race_curves(out: dict) -> list[dict]:
    """The epochs of a :func:`race` result as table rows: ``run``, ``epoch``, test ``accuracy`` and cumulative
    ``cpu_seconds`` / ``wall_seconds`` (what the time to the target is read from). Introduced in notebook 12."""
    return [
        {"run": name, **{k: out[name][k][i] for k in ("epoch", "accuracy", "cpu_seconds", "wall_seconds")}}
        for name in ("recipe", "baseline")
        for i in range(len(out[name]["epoch"]))
    ]


if __name__ == "__main__":
    raise SystemExit(main())
