"""Data augmentation: mixup, CutMix and cutout from scratch, PCA colour augmentation, an input pipeline.

* :func:`mixup`, :func:`cutmix`, :func:`cutout` are short NumPy versions written
  to be read (Zhang et al. 2018; Yun et al. 2019; DeVries & Taylor 2017). They
  return what they did (the mixing weights, partners, masks) so that a notebook
  or a test can check the labels against the pixels. For training use the Keras
  built-ins ``keras.layers.MixUp``, ``keras.layers.CutMix`` and
  ``keras.layers.RandomErasing``; the tests check the two against each other.
* :class:`PCAColorAugmentation` is AlexNet's "fancy PCA" colour augmentation as
  a serializable Keras layer (Keras has no built-in for it), with
  :func:`rgb_pca` computing the principal components of the training set's RGB
  pixels.
* :func:`make_pipeline` is the ``tf.data`` input pipeline in the order that
  gives every epoch new augmentations: load -> cache -> shuffle -> augment ->
  batch -> (batch-level augment) -> prefetch. ``tf.data`` is TensorFlow's;
  Keras preprocessing layers run inside it whatever the Keras backend.

Introduced in notebook 06 (data augmentation).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import keras
import numpy as np

from lib import checks

__all__ = [
    "MixResult",
    "mixup",
    "cutmix",
    "cutout",
    "rgb_pca",
    "PCAColorAugmentation",
    "make_pipeline",
    "apply_in_pipeline",
]


class MixResult(NamedTuple):
    """What :func:`mixup` / :func:`cutmix` made, and how.

    ``images`` and ``labels`` are the mixed batch; ``lam`` is the Beta(alpha, alpha)
    draw per image; ``weight`` the weight of the image's own label (equal to
    ``lam`` for mixup; for CutMix one minus the fraction of pixels actually
    pasted); ``partner`` the index of the image mixed in; ``mask`` (CutMix only,
    else ``None``) is True where the partner's pixels were pasted.
    Introduced in notebook 06 (data augmentation).
    """

    images: np.ndarray
    labels: np.ndarray
    lam: np.ndarray
    weight: np.ndarray
    partner: np.ndarray
    mask: np.ndarray | None


# --------------------------------------------------------------------------- #
# Argument checks, worded like Keras's
# --------------------------------------------------------------------------- #
def _rng(rng) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, (int, np.integer)):
        return np.random.default_rng(rng)
    raise ValueError(f"Expected rng to be a numpy Generator, an int seed or None. Received: rng={rng!r}")


def _float_images(images) -> np.ndarray:
    images = checks.image_batch(images)
    return images if np.issubdtype(images.dtype, np.floating) else images.astype(np.float32)


def _check_labels(labels, batch: int) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.ndim != 2:
        raise ValueError(
            "Expected one-hot labels of shape (batch, num_classes); convert class ids with "
            f"keras.ops.one_hot(labels, num_classes). Received: labels.shape={labels.shape}"
        )
    if labels.shape[0] != batch:
        raise ValueError(f"Expected as many labels as images. Received: {labels.shape[0]} labels for {batch} images")
    labels = labels.astype(np.float32) if not np.issubdtype(labels.dtype, np.floating) else labels
    if labels.size and ((labels < 0).any() or not np.allclose(labels.sum(axis=1), 1.0, atol=1e-5)):
        raise ValueError(
            "Expected one-hot (or soft) labels: non-negative rows that sum to 1. "
            f"Received: row sums in [{labels.sum(axis=1).min():.4g}, {labels.sum(axis=1).max():.4g}]"
        )
    return labels


def _box_mask(h: int, w: int, y0, y1, x0, x1) -> np.ndarray:
    """(batch, h, w) masks, True inside each image's box ``[y0, y1) x [x0, x1)``."""
    rows, cols = np.arange(h), np.arange(w)
    inside_rows = (rows[None, :] >= y0[:, None]) & (rows[None, :] < y1[:, None])
    inside_cols = (cols[None, :] >= x0[:, None]) & (cols[None, :] < x1[:, None])
    return inside_rows[:, :, None] & inside_cols[:, None, :]


# --------------------------------------------------------------------------- #
# From-scratch mixing (NumPy, to be read)
# --------------------------------------------------------------------------- #
def mixup(images, labels, alpha: float = 0.2, rng=None) -> MixResult:
    """mixup: blend each image with a random partner, and its one-hot label by the same weight.

    ``x~ = lam * x_i + (1 - lam) * x_j`` and ``y~ = lam * y_i + (1 - lam) * y_j``
    with ``lam ~ Beta(alpha, alpha)`` drawn per image and ``j`` a random
    permutation of the batch (an image may be paired with itself), as
    ``keras.layers.MixUp`` does. (The paper's reference code draws one ``lam``
    per batch.) ``labels`` must be one-hot (or already soft), shape
    (batch, num_classes). Returns a :class:`MixResult`.
    Introduced in notebook 06 (data augmentation).
    """
    images = _float_images(images)
    labels = _check_labels(labels, len(images))
    alpha = checks.positive(alpha, "alpha")
    rng = _rng(rng)
    n = len(images)
    lam = rng.beta(alpha, alpha, size=n)
    partner = rng.permutation(n)
    w = lam.astype(images.dtype)[:, None, None, None]
    mixed = w * images + (1 - w) * images[partner]
    wl = lam.astype(labels.dtype)[:, None]
    mixed_labels = wl * labels + (1 - wl) * labels[partner]
    return MixResult(mixed, mixed_labels, lam, lam.copy(), partner, None)


def cutmix(images, labels, alpha: float = 1.0, rng=None) -> MixResult:
    """CutMix: paste a random box of a partner image; weight the labels by the area actually pasted.

    As in Yun et al. (2019): ``lam ~ Beta(alpha, alpha)`` (the paper uses
    ``alpha = 1``, i.e. uniform), a box of ``int(H sqrt(1 - lam))`` by
    ``int(W sqrt(1 - lam))`` pixels centred on a uniformly drawn pixel, clipped
    to the image. Because of the clipping (and rounding), the pasted area is
    at most ``1 - lam``, so the label weight is recomputed from the pixels
    pasted: ``weight = 1 - mask.mean()`` and ``y~ = weight * y_i + (1 - weight) * y_j``.
    One box and ``lam`` per image, partners a random permutation.
    Returns a :class:`MixResult` (``mask`` is True where pixels were pasted).
    Introduced in notebook 06 (data augmentation).
    """
    images = _float_images(images)
    labels = _check_labels(labels, len(images))
    alpha = checks.positive(alpha, "alpha")
    rng = _rng(rng)
    n, h, w = images.shape[:3]
    lam = rng.beta(alpha, alpha, size=n)
    partner = rng.permutation(n)
    cut = np.sqrt(1.0 - lam)
    cut_h, cut_w = (h * cut).astype(int), (w * cut).astype(int)
    cy, cx = rng.integers(0, h, size=n), rng.integers(0, w, size=n)
    y0, y1 = np.clip(cy - cut_h // 2, 0, h), np.clip(cy + cut_h // 2, 0, h)
    x0, x1 = np.clip(cx - cut_w // 2, 0, w), np.clip(cx + cut_w // 2, 0, w)
    mask = _box_mask(h, w, y0, y1, x0, x1)
    mixed = np.where(mask[..., None], images[partner], images)
    weight = 1.0 - mask.mean(axis=(1, 2))  # the pixels actually pasted, after clipping
    wl = weight.astype(labels.dtype)[:, None]
    mixed_labels = wl * labels + (1 - wl) * labels[partner]
    return MixResult(mixed, mixed_labels, lam, weight, partner, mask)


def cutout(images, size: int, probability: float = 1.0, fill: float = 0.0, rng=None):
    """Cutout: set a ``size`` x ``size`` square, centred on a random pixel, to ``fill``.

    As in DeVries & Taylor (2017): the centre is uniform over the image, so
    squares near an edge are clipped (smaller); each image is cut with
    ``probability``. Labels are unchanged. (The paper fills with 0 after
    normalizing, i.e. the dataset mean.) Returns ``(images, mask)`` with
    ``mask`` (batch, height, width) True where pixels were filled.
    Introduced in notebook 06 (data augmentation).
    """
    images = _float_images(images)
    size = checks.positive_int(size, "size")
    probability = checks.probability(probability, "probability", allow_one=True)
    rng = _rng(rng)
    n, h, w = images.shape[:3]
    cy, cx = rng.integers(0, h, size=n), rng.integers(0, w, size=n)
    applied = rng.random(n) < probability
    y0, y1 = np.clip(cy - size // 2, 0, h), np.clip(cy - size // 2 + size, 0, h)
    x0, x1 = np.clip(cx - size // 2, 0, w), np.clip(cx - size // 2 + size, 0, w)
    mask = _box_mask(h, w, y0, y1, x0, x1) & applied[:, None, None]
    out = np.where(mask[..., None], np.asarray(fill, dtype=images.dtype), images)
    return out, mask


# --------------------------------------------------------------------------- #
# AlexNet's PCA colour augmentation
# --------------------------------------------------------------------------- #
def rgb_pca(data):
    """Principal components of RGB pixel values: ``(eigenvalues, eigenvectors)``, largest first.

    ``data`` is an array of images (N, H, W, 3) or pixels (P, 3), or an iterable
    of such batches (a ``tf.data.Dataset`` of images or of ``(images, labels)``),
    accumulated in float64. The covariance is ``np.cov``'s (divided by P - 1);
    ``eigenvectors[:, i]`` is the unit vector of ``eigenvalues[i]``, its sign fixed
    so that its largest component is positive. Introduced in notebook 06.
    """
    if isinstance(data, np.ndarray) or hasattr(data, "shape"):
        batches = [data]
    else:
        batches = data
    count, total, outer = 0, np.zeros(3), np.zeros((3, 3))
    for batch in batches:
        if isinstance(batch, (tuple, list)):
            batch = batch[0]
        pixels = np.asarray(keras.ops.convert_to_numpy(batch), dtype=np.float64)
        if pixels.shape[-1] != 3 or pixels.ndim < 2:
            raise ValueError(f"Expected RGB images or pixels with 3 channels last. Received: shape={pixels.shape}")
        pixels = pixels.reshape(-1, 3)
        count += len(pixels)
        total += pixels.sum(axis=0)
        outer += pixels.T @ pixels
    if count < 2:
        raise ValueError(f"Expected at least 2 pixels to compute a covariance. Received: {count}")
    mean = total / count
    cov = (outer - count * np.outer(mean, mean)) / (count - 1)
    values, vectors = np.linalg.eigh(cov)
    order = np.argsort(values)[::-1]
    values, vectors = np.clip(values[order], 0.0, None), vectors[:, order]
    signs = np.sign(vectors[np.abs(vectors).argmax(axis=0), np.arange(3)])
    return values.astype(np.float32), (vectors * signs).astype(np.float32)


@keras.saving.register_keras_serializable(package="lib")
class PCAColorAugmentation(keras.layers.Layer):
    """AlexNet's PCA colour augmentation ("fancy PCA"), training only.

    Adds ``sum_i alpha_i * eigenvalue_i * eigenvector_i`` to every pixel of an
    image, with ``alpha_i ~ N(0, sigma)`` drawn once per image (Krizhevsky et al.
    2012 use ``sigma = 0.1``), where the eigenvalues and eigenvectors are those
    of the 3x3 covariance of the training set's RGB pixels. The offset shifts
    the image's colour along the directions in which natural colours vary.
    At inference (``training`` False or None) the layer is the identity.
    With ``use_std=True`` the eigenvalues are replaced by their square roots
    (the standard deviations along the components), which makes the shift
    independent of the pixel range: ``sigma = 0.1`` then moves colours by a
    tenth of their natural spread.

    Give the principal components with ``eigenvalues``/``eigenvectors`` (the
    columns of ``eigenvectors``) or compute them with :meth:`adapt`. Until
    then they are zero and the layer does nothing. Note the formula is not
    unit-free: the eigenvalues are variances, so they depend on the pixel
    range ([0, 1] or [0, 255]). Outputs are not clipped.

    Args:
        sigma: standard deviation of ``alpha``, >= 0.
        eigenvalues: optional, shape (3,).
        eigenvectors: optional, shape (3, 3), eigenvectors as columns.
        use_std: weight by ``sqrt(eigenvalue)`` instead of ``eigenvalue``.
        seed: optional int for the layer's ``SeedGenerator``.

    Introduced in notebook 06 (data augmentation).
    """

    def __init__(self, sigma=0.1, eigenvalues=None, eigenvectors=None, use_std=False, seed=None, **kwargs):
        super().__init__(**kwargs)
        sigma = checks.non_negative(sigma, "sigma")
        if (eigenvalues is None) != (eigenvectors is None):
            raise ValueError(
                "Expected both eigenvalues and eigenvectors, or neither (then call adapt()). "
                f"Received: eigenvalues={eigenvalues!r}, eigenvectors={eigenvectors!r}"
            )
        if eigenvalues is not None:
            values = np.asarray(eigenvalues, dtype=np.float32)
            vectors = np.asarray(eigenvectors, dtype=np.float32)
            if values.shape != (3,) or vectors.shape != (3, 3):
                raise ValueError(
                    "Expected eigenvalues of shape (3,) and eigenvectors of shape (3, 3). "
                    f"Received: eigenvalues.shape={values.shape}, eigenvectors.shape={vectors.shape}"
                )
            self._init_values, self._init_vectors = values, vectors
        else:
            self._init_values = self._init_vectors = None
        self.sigma = float(sigma)
        self.use_std = bool(use_std)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.supports_masking = True

    def build(self, input_shape):
        if input_shape[-1] != 3:
            raise ValueError(f"Expected RGB inputs with 3 channels last. Received: input_shape={tuple(input_shape)}")
        values, vectors = self._init_values, self._init_vectors
        self.eigenvalues = self.add_weight(
            name="eigenvalues",
            shape=(3,),
            trainable=False,
            initializer=keras.initializers.Constant(values) if values is not None else "zeros",
        )
        self.eigenvectors = self.add_weight(
            name="eigenvectors",
            shape=(3, 3),
            trainable=False,
            initializer=keras.initializers.Constant(vectors) if vectors is not None else "zeros",
        )

    def adapt(self, data):
        """Set the principal components from training images (array or iterable of batches).

        See :func:`rgb_pca`. Introduced in notebook 06.
        """
        values, vectors = rgb_pca(data)
        if not self.built:
            self.build((None, None, None, 3))
        self.eigenvalues.assign(values)
        self.eigenvectors.assign(vectors)
        return self

    def call(self, inputs, training=None):
        if not training or self.sigma == 0:
            return inputs
        rank = len(inputs.shape)
        if rank not in (3, 4):
            raise ValueError(f"Expected images of rank 3 or 4. Received: inputs.shape={inputs.shape}")
        batch = 1 if rank == 3 else keras.ops.shape(inputs)[0]
        alpha = keras.random.normal((batch, 3), stddev=self.sigma, seed=self.seed_generator, dtype=self.compute_dtype)
        values = keras.ops.cast(self.eigenvalues, self.compute_dtype)
        if self.use_std:
            values = keras.ops.sqrt(keras.ops.maximum(values, 0.0))
        vectors = keras.ops.cast(self.eigenvectors, self.compute_dtype)
        offset = keras.ops.matmul(alpha * values, keras.ops.transpose(vectors))  # (batch, 3)
        offset = keras.ops.reshape(offset, (3,) if rank == 3 else (-1, 1, 1, 3))
        return keras.ops.cast(inputs, self.compute_dtype) + offset

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        given = self._init_values is not None
        return {
            **super().get_config(),
            "sigma": self.sigma,
            "eigenvalues": self._init_values.tolist() if given else None,
            "eigenvectors": self._init_vectors.tolist() if given else None,
            "use_std": self.use_std,
            "seed": self.seed,
        }


# --------------------------------------------------------------------------- #
# The input pipeline (tf.data)
# --------------------------------------------------------------------------- #
def make_pipeline(
    x,
    y,
    augment: Callable | None = None,
    batch_size: int = 32,
    shuffle: bool = True,
    seed: int | None = 0,
    *,
    batch_augment: Callable | None = None,
    num_classes: int | None = None,
    cache: bool = True,
    drop_remainder: bool = False,
):
    """A ``tf.data`` input pipeline: load -> cache -> shuffle -> augment -> batch -> batch_augment -> prefetch.

    The order matters. The un-augmented data is cached, so nothing random is
    frozen into the cache; the shuffle reshuffles every epoch (seeded by
    ``seed``, so runs repeat); ``augment`` runs after both, once per example per
    epoch, so every epoch sees new augmentations and each image gets its own
    random crop/flip (a Keras layer called on a batch may share one draw across
    the batch, as ``RandomCrop`` does). Mixing augmentations need a batch to
    mix, so ``batch_augment`` runs after batching; it is called Keras-style on
    ``{"images": ..., "labels": ...}`` (``keras.layers.MixUp`` / ``CutMix``) and
    returns such a dict. Prefetching overlaps input preparation with training.

    ``augment`` maps one image (H, W, C) to one image (any Keras preprocessing
    layer or ``keras.Sequential`` of them; Keras layers are called with
    ``training=True``). Integer labels are one-hot encoded
    when ``num_classes`` is given (required with ``batch_augment``). This is
    TensorFlow's ``tf.data``; Keras' built-in preprocessing layers (alone or in a
    ``keras.Sequential``) run inside it on any Keras backend. Other callables
    (such as :class:`PCAColorAugmentation`) are traced by TensorFlow, so they need
    the TensorFlow backend; on another backend a ``NotImplementedError`` says so.
    Returns a ``tf.data.Dataset`` of ``(images, labels)``.
    Introduced in notebook 06 (data augmentation).
    """
    import tensorflow as tf

    x = checks.image_batch(x, "x")
    y = np.asarray(y)
    if len(x) != len(y):
        raise ValueError(f"Expected as many labels as images. Received: {len(y)} labels for {len(x)} images")
    batch_size = checks.positive_int(batch_size, "batch_size")
    if num_classes is not None:
        num_classes = checks.num_classes(num_classes)
        if y.ndim != 1:
            raise ValueError(f"Expected integer class ids with num_classes. Received: y.shape={y.shape}")
        if (y < 0).any() or (y >= num_classes).any():
            raise ValueError(f"Expected labels in [0, {num_classes}). Received: labels in [{y.min()}, {y.max()}]")
        y = np.eye(num_classes, dtype=np.float32)[y.astype(int)]
    if batch_augment is not None and y.ndim != 2:
        raise ValueError(
            "Expected one-hot labels with batch_augment (mixing needs label vectors): pass num_classes. "
            f"Received: y.shape={y.shape}"
        )

    autotune = tf.data.AUTOTUNE
    ds = tf.data.Dataset.from_tensor_slices((x.astype(np.float32), y))  # load
    if cache:
        ds = ds.cache()  # before anything random
    if shuffle:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    if augment is not None:
        # One map call at a time so the draws of a seeded layer land on the same images every run.
        ds = _map(ds, lambda image, label: (apply_in_pipeline(augment, image), label), augment, "augment")
    ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    if batch_augment is not None:

        def mix(images, labels):
            out = apply_in_pipeline(batch_augment, {"images": images, "labels": labels})
            return out["images"], out["labels"]

        ds = _map(ds, mix, batch_augment, "batch_augment")
    return ds.prefetch(autotune)


def apply_in_pipeline(fn, data):
    """Call an augmentation inside a ``tf.data`` map, in training mode, on any Keras backend.

    Keras layers get ``training=True`` explicitly (layers such as
    :class:`PCAColorAugmentation`, and Dropout-style layers, are the identity
    when it is left unset). Inside ``tf.data`` each built-in preprocessing
    layer switches itself to TensorFlow, but a ``keras.Sequential`` of them
    would run on the Keras backend, and JAX cannot trace ``tf.data``'s
    tensors: on other backends a Sequential is applied layer by layer. Used by
    :func:`make_pipeline`; introduced in notebook 06.
    """
    if isinstance(fn, keras.Sequential) and keras.backend.backend() != "tensorflow":
        for layer in fn.layers:
            data = apply_in_pipeline(layer, data)
        return data
    if isinstance(fn, keras.layers.Layer):
        return fn(data, training=True)
    return fn(data)


def _map(ds, fn, what, name: str):
    """``ds.map(fn)``; on a non-TensorFlow backend a callable tf.data cannot trace gets a clear error."""
    try:
        return ds.map(fn)
    except Exception as error:
        backend = keras.backend.backend()
        if backend == "tensorflow":
            raise
        raise NotImplementedError(
            f"make_pipeline runs {name} inside tf.data, which only Keras' built-in preprocessing layers "
            f"(alone or in a keras.Sequential) can do on KERAS_BACKEND={backend}. Received: {name}="
            f"{type(what).__name__}, which needs the TensorFlow backend; KERAS_BACKEND is {backend}. "
            f"Apply it to batches outside the pipeline, or set KERAS_BACKEND=tensorflow."
        ) from error
