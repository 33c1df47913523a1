"""Transfer learning: pretrained backbones, freezing, fine-tuning, and what keeps BatchNorm still.

* :data:`BACKBONES` - the ``keras.applications`` backbones the course uses, each
  declared once: constructor, ``preprocess_input``, default input size, the
  affine map its preprocessing applies to ``[0, 255]`` RGB pixels (range and
  channel order), and its documented ImageNet top-1 accuracy with the source.
* :func:`build_backbone` - a backbone with ``weights="imagenet"``, ``None`` or
  the path of a weights file; missing ImageNet weights offline raise
  :class:`WeightsUnavailableError` naming the file and ``$KERAS_HOME/models/``.
* :func:`build_transfer_model`, :func:`freeze`, :func:`unfreeze_top`,
  :func:`param_counts`, :func:`batchnorm_statistics` - feature extraction
  (frozen base, new head) and fine-tuning (top layers unfrozen, BatchNorm kept
  in inference mode).
* :func:`tfds_images` - a TFDS image dataset as NumPy arrays at one size
  (``uint8`` images, integer labels), for features computed once.

What keeps BatchNorm statistics fixed in Keras 3 (measured in notebook 09):
``layer.trainable = False`` on a ``BatchNormalization`` layer (which
``base.trainable = False`` does for every layer of the base) runs it in
inference mode. Calling ``base(x, training=False)`` inside a Functional model
does *not* survive ``fit()``: the outer ``training=True`` replaces it
(keras-team/keras#20285). So :func:`unfreeze_top` keeps BatchNorm layers frozen.

Backend-agnostic except :func:`tfds_images` (tf.data) and the weights
download, which goes through Keras's own ``get_file``.

Introduced in notebook 09 (transfer learning).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from pathlib import Path

import numpy as np

from lib import checks

__all__ = [
    "Backbone",
    "BACKBONES",
    "WeightsUnavailableError",
    "get_backbone",
    "preprocess",
    "unpreprocess",
    "build_backbone",
    "build_transfer_model",
    "freeze",
    "unfreeze_top",
    "param_counts",
    "batchnorm_statistics",
    "max_statistics_change",
    "tfds_images",
]

KERAS_APPLICATIONS_URL = "https://keras.io/api/applications/"
_IMAGENET_MEAN_BGR = (103.939, 116.779, 123.68)  # keras.applications' "caffe" mode


class WeightsUnavailableError(RuntimeError):
    """ImageNet weights are not on this machine and could not be downloaded. Introduced in notebook 09."""


@dataclasses.dataclass(frozen=True)
class Backbone:
    """One ``keras.applications`` backbone, declared once.

    ``preprocess_input`` maps RGB pixels in [0, 255] to
    ``x[..., channel_order] * scale + offset`` (per output channel), so the
    values the network sees lie in ``input_range``. ``imagenet_top1`` and
    ``documented_params`` (with the classifier) are the keras.io table's.

    Introduced in notebook 09 (transfer learning).
    """

    name: str
    display_name: str
    constructor: str  # attribute of keras.applications
    module: str  # keras.applications submodule holding preprocess_input
    input_size: int
    channel_order: str  # "RGB" or "BGR": the order preprocess_input outputs
    scale: float
    offset: tuple  # per output channel
    imagenet_top1: float
    documented_params: int
    source: str = KERAS_APPLICATIONS_URL

    @property
    def input_range(self) -> tuple[float, float]:
        """(lowest, highest) value preprocessing gives a [0, 255] image."""
        lows = [self.scale * 0 + o for o in self.offset]
        highs = [self.scale * 255 + o for o in self.offset]
        return (float(min(lows)), float(max(highs)))

    def constructor_fn(self):
        import keras

        return getattr(keras.applications, self.constructor)

    def preprocess_input_fn(self):
        import keras

        return getattr(keras.applications, self.module).preprocess_input


#: name -> :class:`Backbone`. Accuracies: ImageNet top-1 from https://keras.io/api/applications/.
BACKBONES = {
    "mobilenet_v2": Backbone(
        "mobilenet_v2",
        "MobileNetV2",
        "MobileNetV2",
        "mobilenet_v2",
        224,
        "RGB",
        1 / 127.5,
        (-1.0, -1.0, -1.0),
        0.713,
        3_538_984,
    ),
    "efficientnet_b0": Backbone(
        # preprocess_input is the identity: the model rescales and normalizes inside itself
        "efficientnet_b0",
        "EfficientNetB0",
        "EfficientNetB0",
        "efficientnet",
        224,
        "RGB",
        1.0,
        (0.0, 0.0, 0.0),
        0.771,
        5_330_571,
    ),
    "resnet50": Backbone(
        # "caffe" mode: RGB -> BGR, minus the ImageNet mean, no scaling
        "resnet50",
        "ResNet50",
        "ResNet50",
        "resnet50",
        224,
        "BGR",
        1.0,
        tuple(-m for m in _IMAGENET_MEAN_BGR),
        0.749,
        25_636_712,
    ),
}


def get_backbone(name: str) -> Backbone:
    """The registry entry of backbone ``name``; unknown names list the known ones.

    Introduced in notebook 09 (transfer learning).
    """
    if isinstance(name, Backbone):
        return name
    if name not in BACKBONES:
        raise ValueError(f"Unknown backbone. Expected one of {sorted(BACKBONES)}. Received: name={name!r}")
    return BACKBONES[name]


def preprocess(name: str, images):
    """Backbone ``name``'s ``preprocess_input`` on RGB ``images`` in [0, 255], without touching the input.

    Keras's ``preprocess_input`` modifies float32 NumPy arrays in place; this
    works on a float32 copy. NumPy in, NumPy out; a tensor (e.g. inside
    ``tf.data.Dataset.map``) is cast to float32 and passed through.

    Introduced in notebook 09 (transfer learning).
    """
    backbone = get_backbone(name)
    checks.image_batch(images, channels=3, allow_single=True, convert=False)
    fn = backbone.preprocess_input_fn()
    if isinstance(images, np.ndarray) or not hasattr(images, "dtype"):
        return np.asarray(fn(np.array(images, dtype="float32", copy=True)), dtype="float32")
    import keras

    return fn(keras.ops.cast(images, "float32"))


def unpreprocess(name: str, images) -> np.ndarray:
    """Invert :func:`preprocess` with the registry's declared affine map: back to RGB in [0, 255].

    Introduced in notebook 09 (transfer learning).
    """
    backbone = get_backbone(name)
    checks.image_batch(images, channels=3, allow_single=True, convert=False)
    x = (np.asarray(images, dtype="float64") - np.asarray(backbone.offset)) / backbone.scale
    if backbone.channel_order == "BGR":
        x = x[..., ::-1]
    return x.astype("float32")


# --------------------------------------------------------------------------- #
# building
# --------------------------------------------------------------------------- #
def _keras_home() -> Path:
    from lib.data import keras_home

    return keras_home()


def _missing_message(backbone: Backbone, fname: str, origin: str, folder: Path, cause: str = "") -> str:
    return (
        f"ImageNet weights for {backbone.display_name} are not on this machine"
        + (f" and could not be downloaded ({cause})" if cause else "")
        + f". Expected the file {fname!r} in {folder}/ ($KERAS_HOME/models/). "
        f"Download it from {origin} on a machine with internet and copy it there (or set KERAS_HOME to a "
        f"folder whose models/ holds it); build_backbone({backbone.name!r}, weights='imagenet') downloads it "
        f"itself where there is internet. Offline, use weights=None (random) or the path of a weights file."
    )


@contextlib.contextmanager
def _imagenet_weights(backbone: Backbone, download: bool):
    """Make keras.applications fetch weights into ``$KERAS_HOME/models`` with a clear error when it can't.

    keras.applications download through ``keras.src.utils.file_utils.get_file``
    (a private module, patched here for the duration of one constructor call,
    as :mod:`lib.data` does for datasets) with Keras's import-time home folder;
    this honours a later ``KERAS_HOME`` and turns failures into
    :class:`WeightsUnavailableError`.
    """
    try:
        from keras.src.utils import file_utils
    except ImportError:  # a future Keras layout: let Keras do it its own way
        yield
        return
    original = file_utils.get_file

    def get_file(fname=None, origin=None, *args, **kwargs):
        folder = _keras_home() / "models"
        if not (folder / str(fname)).exists() and not download:
            raise WeightsUnavailableError(_missing_message(backbone, fname, origin, folder))
        kwargs.update(cache_dir=str(_keras_home()), cache_subdir="models")
        try:
            return original(fname, origin, *args, **kwargs)
        except Exception as exc:  # network errors, hash mismatches, ...
            cause = f"{type(exc).__name__}: {str(exc)[:200]}"
            raise WeightsUnavailableError(_missing_message(backbone, fname, origin, folder, cause)) from exc

    file_utils.get_file = get_file
    try:
        yield
    finally:
        file_utils.get_file = original


def build_backbone(
    name: str, weights="imagenet", input_shape=None, include_top: bool = False, pooling=None, download: bool = True
):
    """A ``keras.applications`` backbone by registry name.

    ``weights``: ``"imagenet"`` (read from ``$KERAS_HOME/models/``, downloaded
    there when missing and ``download`` is true; otherwise
    :class:`WeightsUnavailableError` naming the file), ``None`` (random), or
    the path of a weights file (e.g. saved with ``model.save_weights`` from a
    ``weights=None`` model of the same configuration). ``input_shape`` defaults
    to the backbone's ``(input_size, input_size, 3)``. ``include_top=False``
    (the default) drops the ImageNet classifier.

    Introduced in notebook 09 (transfer learning).
    """
    backbone = get_backbone(name)
    if input_shape is None:
        input_shape = (backbone.input_size, backbone.input_size, 3)
    input_shape = tuple(input_shape)
    if len(input_shape) != 3 or input_shape[-1] != 3:
        raise ValueError(f"Expected input_shape (height, width, 3). Received: input_shape={input_shape!r}")
    if include_top and input_shape[:2] != (backbone.input_size,) * 2:
        raise ValueError(
            f"Expected input_shape {(backbone.input_size, backbone.input_size, 3)} with include_top=True. "
            f"Received: input_shape={input_shape!r}"
        )
    if isinstance(weights, os.PathLike):
        weights = os.fspath(weights)
    if weights is not None and weights != "imagenet":
        if not isinstance(weights, str) or not Path(weights).is_file():
            raise ValueError(
                "Expected weights to be 'imagenet', None or the path of an existing weights file. "
                f"Received: weights={weights!r}"
            )
    constructor = backbone.constructor_fn()
    kwargs = dict(include_top=include_top, weights=weights, input_shape=input_shape, pooling=pooling)
    if weights == "imagenet":
        with _imagenet_weights(backbone, download):
            return constructor(**kwargs)
    return constructor(**kwargs)


def build_transfer_model(base, num_classes: int, dropout: float = 0.2, name: str = "transfer", base_training=False):
    """New head on a base: ``Input -> base(x, training=False) -> GAP -> Dropout -> Dense(num_classes)``.

    Outputs logits. The base is called with ``training=base_training``
    (``False``, as the Keras guide does; ``None`` to pretrain the base). In a
    Functional model trained with ``fit()`` that ``False`` is overridden (see
    the module docstring): what keeps BatchNorm fixed is its ``trainable=False``
    (:func:`freeze`, :func:`unfreeze_top`). Inputs are what the base expects
    (preprocessed images).

    Introduced in notebook 09 (transfer learning).
    """
    import keras

    num_classes = checks.num_classes(num_classes)
    dropout = checks.probability(dropout, "dropout")
    shape = tuple(base.input_shape[1:])
    if len(shape) != 3:
        raise ValueError(
            f"Expected a base taking images (batch, height, width, channels). "
            f"Received: base with input shape {base.input_shape}"
        )
    inputs = keras.Input(shape, name="images")
    x = base(inputs, training=base_training)
    if len(x.shape) == 4:
        x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name="dropout")(x)
    outputs = keras.layers.Dense(num_classes, name="head")(x)
    return keras.Model(inputs, outputs, name=name)


def _layers(model):
    """Every layer inside ``model``, nested models expanded, in order."""
    import keras

    out = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            out.extend(_layers(layer))
        else:
            out.append(layer)
    return out


def freeze(base) -> None:
    """Feature extraction: nothing in ``base`` trains, and its BatchNorm layers run in inference mode.

    Introduced in notebook 09 (transfer learning).
    """
    base.trainable = False


def unfreeze_top(base, n_layers: int, keep_batchnorm_frozen: bool = True) -> list[str]:
    """Fine-tuning: make the last ``n_layers`` layers of ``base`` trainable, the rest frozen.

    Layers are counted in ``base.layers`` order (layers without weights count
    too, as in the Keras guide's ``base.layers[:-n]``). With
    ``keep_batchnorm_frozen`` (the default) BatchNormalization layers stay
    ``trainable=False``, so they keep their ImageNet (source) statistics and run
    in inference mode during ``fit()``. Returns the names of the layers with
    weights that now train. Compile the model again afterwards.

    Introduced in notebook 09 (transfer learning).
    """
    import keras

    layers = base.layers
    n_layers = checks.integer(n_layers, "n_layers", 0, len(layers))  # the base has len(layers) layers
    base.trainable = True
    first = len(layers) - n_layers
    trained = []
    for i, layer in enumerate(layers):
        is_bn = isinstance(layer, keras.layers.BatchNormalization)
        layer.trainable = i >= first and not (keep_batchnorm_frozen and is_bn)
        if layer.trainable and layer.weights:
            trained.append(layer.name)
    return trained


def param_counts(model) -> dict:
    """``{"trainable", "non_trainable", "total"}`` numbers of scalars (``model.summary()``'s counts).

    Introduced in notebook 09 (transfer learning).
    """
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    non_trainable = sum(int(np.prod(w.shape)) for w in model.non_trainable_weights)
    return {"trainable": trainable, "non_trainable": non_trainable, "total": trainable + non_trainable}


def batchnorm_statistics(model) -> dict:
    """``{layer name: (moving_mean, moving_variance)}`` copies for every BatchNorm layer (nested too).

    Introduced in notebook 09 (transfer learning).
    """
    import keras

    return {
        layer.name: (
            keras.ops.convert_to_numpy(layer.moving_mean).copy(),
            keras.ops.convert_to_numpy(layer.moving_variance).copy(),
        )
        for layer in _layers(model)
        if isinstance(layer, keras.layers.BatchNormalization)
    }


def max_statistics_change(before: dict, after: dict) -> float:
    """Largest absolute change of any moving mean or variance between two :func:`batchnorm_statistics`.

    Introduced in notebook 09 (transfer learning).
    """
    if set(before) != set(after):
        raise ValueError(f"Expected statistics of the same layers. Received: {sorted(before)} and {sorted(after)}")
    if not before:
        return 0.0
    return float(max(np.max(np.abs(a - b)) for name in before for a, b in zip(before[name], after[name])))


# --------------------------------------------------------------------------- #
# data
# --------------------------------------------------------------------------- #
def tfds_images(name: str, image_size: int, split: str = "train", data_dir=None, take: int | None = None):
    """A TFDS image dataset as NumPy arrays: ``(images, labels)``, images ``uint8`` ``(N, size, size, 3)``.

    ``lib.data.load_tfds(name, split)`` -> (take) -> every image resized to
    ``image_size`` x ``image_size`` (bilinear with antialiasing, aspect ratio
    not kept) and rounded back to ``uint8`` -> one array. Labels are integer
    class ids (``int64``). Missing data raise ``lib.data.DatasetUnavailableError``
    with the command that prepares them. TensorFlow-only (tf.data), any Keras
    backend.

    Introduced in notebook 09 (transfer learning, full profile: tf_flowers).
    """
    import tensorflow as tf

    from lib.data import load_tfds

    size = checks.positive_int(image_size, "image_size")
    ds = load_tfds(name, split=split, data_dir=data_dir)
    if take is not None:
        ds = ds.take(checks.positive_int(take, "take"))

    def resize(image, label):
        image = tf.image.resize(tf.cast(image, tf.float32), (size, size), antialias=True)
        return tf.cast(tf.clip_by_value(tf.round(image), 0, 255), tf.uint8), label

    images, labels = [], []
    for x, y in ds.map(resize, num_parallel_calls=tf.data.AUTOTUNE).batch(256).as_numpy_iterator():
        images.append(x)
        labels.append(y)
    if not images:
        raise ValueError(f"Expected a non-empty dataset. Received: {name!r} split {split!r} with no examples")
    return np.concatenate(images), np.concatenate(labels).astype("int64")
