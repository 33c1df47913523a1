"""Neural style transfer (Gatys, Ecker and Bethge, 2016): content and style representations, their
losses, and the optimization of the image itself.

* :func:`gram_matrix` - the style representation of one layer, ``G = F^T F / M``
  (channels x channels, ``M = H * W`` positions).
* :func:`content_loss`, :func:`style_layer_loss`, :func:`style_loss`,
  :func:`total_variation_loss` - the losses, written with ``keras.ops``
  (backend-agnostic). Their normalization and how it relates to the paper's
  sums is in each docstring.
* :func:`vgg16_hed_preprocess` - images in [0, 1] to the input of
  :func:`lib.models.pretrained.vgg16_hed` (VGG16's convolutions with the weights
  of the HED edge detector: ImageNet VGG16 fine-tuned on edge maps at learning
  rate 1e-6), written with ``keras.ops`` so gradients flow to the pixels.
* :class:`FeatureExtractor` - images in ``[0, 1]`` -> ``{layer name: feature maps}``,
  optionally rescaled per layer (:func:`mean_activation_scales`: Gatys et al.'s
  normalization, mean activation 1); :func:`content_representation`,
  :func:`style_representation`.
* :func:`transfer_style` - Gatys's optimization: the image is a variable, updated
  by Adam with the gradient from :func:`lib.autodiff.value_and_input_grad`
  (TensorFlow, JAX or PyTorch) and clipped to ``[0, 1]`` after every step, with a
  ``keras.utils.Progbar``. Notebook 11 writes the same loop itself and checks it
  against this one.
* :func:`compiled` - a loss traced into a graph (``tf.function`` / ``jax.jit``).
* :func:`edge_correlation` - how much of the content's edges an image keeps.

Benchmark (timings printed, never asserted)::

    python -m lib.style bench            # optimization steps per second at 64 and 128 px

Introduced in notebook 11 (style transfer).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time

import numpy as np

from lib import checks

__all__ = [
    "CONTENT_LAYER",
    "STYLE_LAYERS",
    "vgg16_hed_preprocess",
    "gram_matrix",
    "content_loss",
    "style_layer_loss",
    "style_loss",
    "total_variation_loss",
    "FeatureExtractor",
    "mean_activation_scales",
    "content_representation",
    "style_representation",
    "compiled",
    "StyleResult",
    "transfer_style",
    "edge_correlation",
    "benchmark",
    "main",
]

#: Gatys et al.'s choice (VGG19's layer names, which VGG16 shares): content from conv4_2, style from
#: conv1_1 ... conv5_1.
CONTENT_LAYER = "block4_conv2"
STYLE_LAYERS = ("block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1", "block5_conv1")


# --------------------------------------------------------------------------- #
# validation
# --------------------------------------------------------------------------- #
def _shape(x) -> tuple:
    return tuple(getattr(x, "shape", np.shape(x)))


def _check_image(image, what: str) -> np.ndarray:
    """One RGB image as float32 (1, H, W, 3) in [0, 1]; accepts (H, W, 3) or (1, H, W, 3)."""
    shape = _shape(image)
    if len(shape) == 4 and shape[0] == 1:
        shape = shape[1:]
    if len(shape) != 3 or shape[-1] != 3:
        raise ValueError(
            f"Expected {what} to be one RGB image of shape (height, width, 3) or (1, height, width, 3). "
            f"Received: {what} of shape {_shape(image)}"
        )
    import keras

    arr = np.asarray(keras.ops.convert_to_numpy(image), dtype="float32").reshape((1,) + shape)
    if arr.min() < 0 or arr.max() > 1:
        raise ValueError(
            f"Expected {what} with pixel values in [0, 1]. Received: min={arr.min():.3g}, max={arr.max():.3g}"
        )
    return arr


# --------------------------------------------------------------------------- #
# HED's VGG16: its preprocessing, differentiable
# --------------------------------------------------------------------------- #
def vgg16_hed_preprocess(images):
    """RGB images in [0, 1] -> the input of :func:`lib.models.pretrained.vgg16_hed`, with ``keras.ops``.

    The same numbers as ``lib.models.pretrained.preprocess_input("vgg16_hed", 255 * images)``
    (RGB -> BGR, 0-255 scale, minus HED's mean pixel), but differentiable, so
    the gradient of a loss on the features reaches the pixels. Introduced in
    notebook 11 (style transfer).
    """
    from keras import ops

    from lib.models import pretrained

    spec = pretrained.PREPROCESSING["vgg16_hed"]
    x = ops.cast(images, "float32") * (255.0 * spec.scale)
    if spec.channel_order == "BGR":
        x = ops.flip(x, axis=-1)
    return x + ops.convert_to_tensor(np.asarray(spec.offset, "float32"))


# --------------------------------------------------------------------------- #
# representations and losses (keras.ops: any backend)
# --------------------------------------------------------------------------- #
def gram_matrix(features):
    """The Gram matrix of feature maps: ``G_ij = (1/M) sum_k F_ik F_jk`` over the ``M = H * W`` positions.

    ``features`` is (H, W, C) -> (C, C), or (B, H, W, C) -> (B, C, C). Entry
    ``(i, j)`` is the average over positions of the product of channels ``i``
    and ``j``: which features occur *together*, wherever they are - the layout
    is summed away. Gatys et al. use the sum (no ``1/M``); dividing makes the
    Gram independent of the image size. Introduced in notebook 11 (style transfer).
    """
    from keras import ops

    shape = _shape(features)
    if len(shape) not in (3, 4):
        raise ValueError(
            f"Expected feature maps of shape (height, width, channels) or (batch, height, width, channels). "
            f"Received: features of shape {shape}"
        )
    x = ops.cast(ops.convert_to_tensor(features), "float32")
    if len(shape) == 3:
        x = ops.expand_dims(x, 0)
    b, h, w, c = ops.shape(x)
    flat = ops.reshape(x, (b, h * w, c))
    gram = ops.einsum("bmi,bmj->bij", flat, flat) / ops.cast(h * w, "float32")
    return gram[0] if len(shape) == 3 else gram


def content_loss(features, target):
    """``0.5 * mean((F - P)^2)``: the generated image's features ``F`` against the content's ``P``.

    Gatys et al.'s ``L_content = 1/2 sum_ij (F_ij - P_ij)^2`` divided by the
    number of entries ``N * M`` (channels x positions), so that the weight that
    balances it against the style loss does not depend on the image size. The
    two must have the same shape (same image size). Introduced in notebook 11 (style transfer).
    """
    from keras import ops

    fs, ts = _shape(features), _shape(target)
    if len(fs) != len(ts) or any(a is not None and b is not None and a != b for a, b in zip(fs, ts)):
        raise ValueError(
            "Expected features and target of the same shape (the generated and the content image must have "
            f"the same size). Received: features of shape {fs}, target of shape {ts}"
        )
    return 0.5 * ops.mean(ops.square(ops.cast(features, "float32") - ops.cast(target, "float32")))


def style_layer_loss(features, target_gram):
    """Gatys et al.'s per-layer style loss ``E_l = 1/(4 N^2 M^2) sum_ij (G_ij - A_ij)^2``.

    With unnormalized Grams (sums over the ``M`` positions) that is exactly
    ``0.25 * mean((G - A)^2)`` of the normalized Grams of :func:`gram_matrix`,
    which is what is computed: ``features`` (the generated image's maps) and
    ``target_gram`` (the style image's Gram, which may come from an image of
    another size). Introduced in notebook 11 (style transfer).
    """
    from keras import ops

    gram = gram_matrix(features)
    gs, ts = _shape(gram), _shape(target_gram)
    if len(ts) < 2 or any(a is not None and b is not None and a != b for a, b in zip(gs[-2:], ts[-2:])):
        raise ValueError(
            f"Expected a target Gram matrix of shape {gs[-2:]} (channels x channels of the features). "
            f"Received: target_gram of shape {ts}"
        )
    return 0.25 * ops.mean(ops.square(gram - ops.cast(target_gram, "float32")))


def style_loss(features: dict, target_grams: dict, layer_weights: dict | None = None):
    """``L_style = sum_l w_l E_l`` over the layers of ``target_grams`` (:func:`style_layer_loss`).

    ``layer_weights`` defaults to ``w_l = 1 / (number of layers)``, Gatys et
    al.'s choice. Introduced in notebook 11 (style transfer).
    """
    if not target_grams:
        raise ValueError("Expected at least one style layer. Received: target_grams={}")
    missing = [name for name in target_grams if name not in features]
    if missing:
        raise ValueError(f"Expected features for every style layer. Missing: {missing}; have {sorted(features)}")
    if layer_weights is None:
        layer_weights = {name: 1.0 / len(target_grams) for name in target_grams}
    unknown = [name for name in layer_weights if name not in target_grams]
    if unknown:
        raise ValueError(f"Expected layer_weights for style layers {sorted(target_grams)}. Received: {unknown}")
    total = 0.0
    for name, gram in target_grams.items():
        w = checks.non_negative(layer_weights.get(name, 0.0), f"layer_weights[{name!r}]")
        if w:
            total = total + w * style_layer_loss(features[name], gram)
    return total


def total_variation_loss(images, power: float = 2.0):
    """``sum |x[i+1, j] - x[i, j]|^p + sum |x[i, j+1] - x[i, j]|^p`` over every image and channel.

    ``images`` is (H, W, C) or (B, H, W, C). With ``power=1`` this is
    ``tf.image.total_variation`` summed over the batch; ``power=2`` (the
    default) penalizes large jumps more and small ones less. A smoothness
    prior: it discourages the high-frequency noise that pixel-wise optimization
    produces. Introduced in notebook 11 (style transfer).
    """
    from keras import ops

    shape = _shape(images)
    if len(shape) not in (3, 4):
        raise ValueError(
            f"Expected images of shape (height, width, channels) or (batch, height, width, channels). "
            f"Received: images of shape {shape}"
        )
    power = float(power)
    if not power > 0:
        raise ValueError(f"Expected power > 0. Received: power={power!r}")
    x = ops.cast(images, "float32")
    if len(shape) == 3:
        x = ops.expand_dims(x, 0)
    dy = ops.abs(x[:, 1:, :, :] - x[:, :-1, :, :])
    dx = ops.abs(x[:, :, 1:, :] - x[:, :, :-1, :])
    if power == 2.0:
        return ops.sum(ops.square(dy)) + ops.sum(ops.square(dx))
    return ops.sum(ops.power(dy, power)) + ops.sum(ops.power(dx, power))


# --------------------------------------------------------------------------- #
# feature extractors
# --------------------------------------------------------------------------- #
class FeatureExtractor:
    """Images in [0, 1] -> ``{layer name: feature maps}`` for chosen layers of a convolutional model.

    ``model`` is a Keras model (e.g. :func:`lib.models.pretrained.vgg16_hed` or
    :func:`lib.models.random_vgg`); ``preprocess`` maps [0, 1] images to its
    input (``None``: identity, e.g. :func:`vgg16_hed_preprocess`); ``scales``
    (``{layer: factor}``, e.g. from :func:`mean_activation_scales`) multiplies
    each layer's maps. Only the part of the model up to the deepest requested
    layer is computed. Unknown layer names raise a ``ValueError`` listing the
    known ones. Introduced in notebook 11 (style transfer).
    """

    def __init__(self, model, layers, preprocess=None, scales: dict | None = None):
        import keras

        layers = [layers] if isinstance(layers, str) else list(dict.fromkeys(layers))
        if not layers:
            raise ValueError("Expected at least one layer name. Received: layers=[]")
        known = [layer.name for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
        unknown = [name for name in layers if name not in known]
        if unknown:
            raise ValueError(f"Unknown layer names {unknown} for model {model.name!r}. Expected names from: {known}")
        scales = dict(scales or {})
        extra = [name for name in scales if name not in layers]
        if extra:
            raise ValueError(f"Expected scales for the layers {layers}. Received scales for {extra}")
        self.scales = {name: checks.positive(value, f"scales[{name!r}]") for name, value in scales.items()}
        self.model = model
        self.layers = layers
        self.preprocess = preprocess
        self._features = keras.Model(
            model.inputs, {n: model.get_layer(n).output for n in layers}, name=f"{model.name}_features"
        )

    def __call__(self, images) -> dict:
        from keras import ops

        x = ops.cast(images, "float32")
        if len(_shape(x)) == 3:
            x = ops.expand_dims(x, 0)
        if self.preprocess is not None:
            x = self.preprocess(x)
        features = self._features(x)
        return {name: f * self.scales[name] if name in self.scales else f for name, f in features.items()}

    def __repr__(self) -> str:
        return f"FeatureExtractor({self.model.name!r}, layers={self.layers})"


def mean_activation_scales(extractor: FeatureExtractor, images) -> dict:
    """``{layer: 1 / mean activation}`` over ``images`` (a batch in [0, 1]) for every layer of ``extractor``.

    Gatys et al. (2015, texture synthesis) rescaled VGG19's weights so that the
    mean activation of each filter over images and positions is 1; otherwise the
    style loss, quartic in the activations, is dominated by whichever layer has
    the largest ones. This is the per-layer version: pass the result as
    ``FeatureExtractor(..., scales=...)``. Computed on the unscaled features.
    Introduced in notebook 11 (style transfer).
    """
    from keras import ops

    raw = FeatureExtractor(extractor.model, extractor.layers, extractor.preprocess)
    features = raw(ops.convert_to_tensor(np.asarray(images, dtype="float32")))
    scales = {}
    for name, f in features.items():
        mean = float(np.mean(ops.convert_to_numpy(f)))
        if not mean > 0:
            raise ValueError(f"Layer {name!r} has mean activation {mean:.3g} over these images: nothing to rescale")
        scales[name] = 1.0 / mean
    return scales


def content_representation(extractor: FeatureExtractor, image, layer: str):
    """The content representation: the feature maps of one (deep) layer, (1, H', W', C).

    Introduced in notebook 11 (style transfer).
    """
    if layer not in extractor.layers:
        raise ValueError(f"Unknown content layer {layer!r}. Expected one of the extractor's {extractor.layers}")
    return extractor(image)[layer]


def style_representation(extractor: FeatureExtractor, image, layers) -> dict:
    """The style representation: ``{layer: Gram matrix (C, C)}`` of several layers.

    Introduced in notebook 11 (style transfer).
    """
    layers = [layers] if isinstance(layers, str) else list(layers)
    unknown = [n for n in layers if n not in extractor.layers]
    if unknown:
        raise ValueError(f"Unknown style layers {unknown}. Expected names from the extractor's {extractor.layers}")
    feats = extractor(image)
    return {n: gram_matrix(feats[n])[0] for n in layers}


# --------------------------------------------------------------------------- #
# Gatys's optimization
# --------------------------------------------------------------------------- #
def _loss_functions(extractor, content_layer: str, style_layers: tuple, compile: bool):
    """``(terms, weighted)`` for :func:`transfer_style`, built once per extractor and layer choice.

    ``terms(x, targets)`` -> stacked ``[content, style, tv per pixel]``;
    ``weighted(x, targets, weights)`` -> their weighted sum. Targets and weights
    are arguments (not constants), so a compiled graph is reused by every call
    with the same layers.
    """
    from keras import ops

    cache = extractor.__dict__.setdefault("_loss_cache", {})
    key = (content_layer, style_layers, bool(compile))
    if key in cache:
        return cache[key]

    def terms(x, targets):
        target_content, target_grams = targets
        feats = extractor(x)
        c = content_loss(feats[content_layer], target_content)
        s = style_loss(feats, target_grams) if style_layers else ops.zeros(())
        shape = ops.shape(x)
        t = total_variation_loss(x) / ops.cast(shape[1] * shape[2], "float32")
        return ops.stack([ops.cast(c, "float32"), ops.cast(s, "float32"), t])

    def weighted(x, targets, weights):
        return ops.sum(terms(x, targets) * weights)

    if compile:
        terms, weighted = compiled(terms), compiled(weighted)
    cache[key] = (terms, weighted)
    return cache[key]


def compiled(fn):
    """``fn`` traced into a graph for speed: ``tf.function`` (TensorFlow) or ``jax.jit`` (JAX), else as is.

    Gradients still come from :func:`lib.autodiff.value_and_input_grad`: a
    ``GradientTape`` records through a ``tf.function`` and ``jax.value_and_grad``
    differentiates through ``jax.jit``. The only backend-specific lines of this
    module. Introduced in notebook 11 (style transfer).
    """
    import keras

    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        return tf.function(fn)
    if backend == "jax":
        import jax

        return jax.jit(fn)
    return fn


@dataclasses.dataclass
class StyleResult:
    """What :func:`transfer_style` returns.

    ``image`` (H, W, 3) in [0, 1]; ``history`` with lists ``step``, ``total``,
    ``content``, ``style``, ``tv`` (the weighted total and the *unweighted*
    terms, every ``log_every`` steps and at the end, step 0 = the initial image);
    ``seconds`` of optimization. Introduced in notebook 11 (style transfer).
    """

    image: np.ndarray
    history: dict
    seconds: float

    def factor(self, key: str = "style") -> float:
        """``history[key]`` at the start divided by at the end (how many times it fell)."""
        first, last = self.history[key][0], self.history[key][-1]
        return float(first / last) if last > 0 else float("inf")


def _initial_image(content: np.ndarray, init, seed: int) -> np.ndarray:
    """The image the optimization starts from, (1, H, W, 3) like ``content``: the content image itself
    (``init="content"``), uniform noise seeded by ``seed`` (``"noise"``) or a given image of its shape."""
    if isinstance(init, str):
        init = checks.one_of(init, "init", ("content", "noise"))
        if init == "content":
            return content.copy()
        return np.random.default_rng(seed).uniform(0, 1, content.shape).astype("float32")
    x0 = _check_image(init, "init")
    if x0.shape != content.shape:
        raise ValueError(
            f"Expected init of the content image's shape {content.shape[1:]}. Received: init of shape {x0.shape[1:]}"
        )
    return x0


def _targets(
    extractor: FeatureExtractor,
    content: np.ndarray,
    style: np.ndarray,
    content_layer: str,
    style_layers: list,
    content_target=None,
) -> tuple:
    """``(content target, {style layer: target Gram matrix})``: what the image's features are pulled towards.

    The content target is the content image's features at ``content_layer`` unless ``content_target`` (of
    that shape) replaces them."""
    from keras import ops

    content_features = extractor(content)[content_layer]
    if content_target is None:
        content_target = content_features
    if _shape(content_target) != _shape(content_features):
        raise ValueError(
            f"Expected content_target of shape {_shape(content_features)} (the content image's {content_layer} "
            f"features). Received: content_target of shape {_shape(content_target)}"
        )
    style_features = extractor(style)
    return ops.convert_to_tensor(content_target), {n: gram_matrix(style_features[n]) for n in style_layers}


def _optimize_image(
    x0: np.ndarray,
    terms,
    weighted,
    targets,
    weights: tuple,
    steps: int,
    learning_rate: float,
    log_every: int,
    verbose: int,
) -> StyleResult:
    """``steps`` Adam steps on the image ``x0`` down the gradient of ``weighted(x, targets, weights)``, each
    followed by clipping to [0, 1]; ``terms`` is logged at step 0, every ``log_every`` steps and at the end.

    Returns the :class:`StyleResult` (the final image, that history, the seconds the steps took)."""
    import keras
    from keras import ops

    from lib.autodiff import value_and_input_grad

    weights_tensor = ops.convert_to_tensor(np.array(weights, "float32"))

    def loss_fn(x):
        # a tensor, not the variable value_and_input_grad makes: compiled graphs are traced per tensor shape
        return weighted(ops.convert_to_tensor(x), targets, weights_tensor)

    history = {"step": [], "total": [], "content": [], "style": [], "tv": []}

    def log(step, x):
        values = [float(v) for v in ops.convert_to_numpy(terms(ops.convert_to_tensor(x), targets))]
        history["step"].append(step)
        for key, value in zip(("content", "style", "tv"), values, strict=True):
            history[key].append(value)
        history["total"].append(sum(w * v for w, v in zip(weights, values, strict=True)))

    image = keras.Variable(x0, dtype="float32", name="generated_image", trainable=True)
    optimizer = keras.optimizers.Adam(learning_rate)
    optimizer.build([image])
    progbar = keras.utils.Progbar(steps, verbose=verbose, interval=1.0, stateful_metrics=["loss"])
    log(0, image.value)
    start = time.perf_counter()
    for step in range(1, steps + 1):
        loss, grad = value_and_input_grad(loss_fn, image.value)
        optimizer.apply([grad], [image])
        image.assign(ops.clip(image.value, 0.0, 1.0))
        if verbose:
            progbar.update(step, [("loss", float(ops.convert_to_numpy(loss)))])
        if step % log_every == 0 and step != steps:
            log(step, image.value)
    seconds = time.perf_counter() - start
    if steps:
        log(steps, image.value)
    out = np.asarray(ops.convert_to_numpy(image.value), dtype="float32")[0]
    return StyleResult(image=out, history=history, seconds=seconds)


def transfer_style(
    content_image,
    style_image,
    extractor: FeatureExtractor,
    content_layer: str,
    style_layers,
    *,
    content_weight: float = 1.0,
    style_weight: float = 1.0,
    tv_weight: float = 0.0,
    steps: int = 200,
    learning_rate: float = 0.02,
    init="content",
    content_target=None,
    log_every: int = 10,
    verbose: int = 1,
    seed: int = 0,
    compile: bool = True,
) -> StyleResult:
    """Gatys et al.'s style transfer: optimize the *image* ``x`` to minimize

        L(x) = content_weight * L_content(x) + style_weight * L_style(x) + tv_weight * TV(x) / (H W)

    (:func:`content_loss` at ``content_layer``, :func:`style_loss` over
    ``style_layers``, :func:`total_variation_loss` per pixel). ``x`` starts as the
    content image (``init="content"``), uniform noise (``"noise"``) or a given
    image of the content's size, and takes ``steps`` Adam steps of
    ``learning_rate`` in [0, 1] pixel units; the gradient comes from
    :func:`lib.autodiff.value_and_input_grad` (any autodiff backend) and ``x``
    is clipped to [0, 1] after every step. The style image may have another
    size than the content image. ``content_target`` replaces the content
    image's features at ``content_layer`` (e.g. AdaIN features). A
    ``keras.utils.Progbar`` shows the loss (``verbose=0`` silences it);
    ``compile`` traces the losses into a graph (``tf.function``/``jax.jit``).

    Returns a :class:`StyleResult`: the image (H, W, 3) in [0, 1], the history
    of the weighted total and the unweighted terms, and the seconds the steps took.
    Introduced in notebook 11 (style transfer).
    """
    content = _check_image(content_image, "content_image")
    style = _check_image(style_image, "style_image")
    weights = (
        checks.non_negative(content_weight, "content_weight"),
        checks.non_negative(style_weight, "style_weight"),
        checks.non_negative(tv_weight, "tv_weight"),
    )
    steps = checks.non_negative_int(steps, "steps")
    log_every = checks.positive_int(log_every, "log_every")
    learning_rate = checks.positive(learning_rate, "learning_rate")
    style_layers = [style_layers] if isinstance(style_layers, str) else list(style_layers)
    unknown = [n for n in [content_layer] + style_layers if n not in extractor.layers]
    if unknown:
        raise ValueError(f"Unknown layer names {unknown}. Expected names from the extractor's {extractor.layers}")
    x0 = _initial_image(content, init, seed)
    targets = _targets(extractor, content, style, content_layer, style_layers, content_target)
    terms, weighted = _loss_functions(extractor, content_layer, tuple(style_layers), compile)
    return _optimize_image(x0, terms, weighted, targets, weights, steps, learning_rate, log_every, verbose)


def edge_correlation(image, reference) -> float:
    """Pearson correlation of the Sobel edge magnitudes of two images' luminance (NumPy).

    1 means the same edges; a photo against an unrelated texture gives about 0.
    The images must have the same height and width. Introduced in notebook 11 (style transfer).
    """
    from scipy import ndimage

    a, b = np.asarray(image, dtype="float64"), np.asarray(reference, dtype="float64")
    a = a[0] if a.ndim == 4 else a
    b = b[0] if b.ndim == 4 else b
    if a.ndim != 3 or b.ndim != 3 or a.shape[:2] != b.shape[:2]:
        raise ValueError(
            f"Expected two images (height, width, channels) of the same size. Received shapes {a.shape} and {b.shape}"
        )

    def edges(img):
        grey = img.mean(axis=-1)
        return np.hypot(ndimage.sobel(grey, axis=0), ndimage.sobel(grey, axis=1)).ravel()

    ea, eb = edges(a), edges(b)
    if ea.std() == 0 or eb.std() == 0:
        return 0.0
    return float(np.corrcoef(ea, eb)[0, 1])


# --------------------------------------------------------------------------- #
# benchmark
# --------------------------------------------------------------------------- #
def benchmark(sizes=(64, 128), steps: int = 10, network: str = "vgg16_hed") -> list[dict]:
    """Optimization steps per second of :func:`transfer_style` at each image size (timed, not asserted).

    ``network`` is ``"vgg16_hed"`` (notebook 11's) or ``"random_vgg"`` (the same
    widths with random weights: the same cost). Introduced in notebook 11 (style transfer).
    """
    import keras

    from lib import models

    if network == "vgg16_hed":
        model, preprocess = models.pretrained.vgg16_hed(), vgg16_hed_preprocess
    elif network == "random_vgg":
        model, preprocess = models.random_vgg((64, 128, 256, 512), (2, 2, 3, 3), pooling="max"), None
    else:
        raise ValueError(f"Expected network 'vgg16_hed' or 'random_vgg'. Received: network={network!r}")
    style_layers = list(STYLE_LAYERS[:4])
    extractor = FeatureExtractor(model, [CONTENT_LAYER] + style_layers, preprocess)
    rows = []
    for size in sizes:
        rng = np.random.default_rng(0)
        content = rng.uniform(0, 1, (size, size, 3)).astype("float32")
        style = rng.uniform(0, 1, (size, size, 3)).astype("float32")
        transfer_style(content, style, extractor, CONTENT_LAYER, style_layers, steps=1, verbose=0)  # warm-up
        result = transfer_style(
            content, style, extractor, CONTENT_LAYER, style_layers, steps=steps, verbose=0, log_every=steps + 1
        )
        rows.append(
            {
                "network": network,
                "backend": keras.backend.backend(),
                "size": f"{size}x{size}",
                "steps": steps,
                "seconds": result.seconds,
                "steps_per_second": steps / result.seconds,
            }
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m lib.style bench [--sizes 128 256] [--steps 10] [--network random_vgg]``.

    Introduced in notebook 11 (style transfer).
    """
    parser = argparse.ArgumentParser(prog="python -m lib.style", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    bench = sub.add_parser("bench", help="optimization steps per second at several image sizes")
    bench.add_argument("--sizes", type=int, nargs="+", default=[64, 128])
    bench.add_argument("--steps", type=int, default=10)
    bench.add_argument("--network", default="vgg16_hed", choices=["vgg16_hed", "random_vgg"])
    args = parser.parse_args(argv)
    from lib.viz import table as format_rows

    print(format_rows(benchmark(sizes=args.sizes, steps=args.steps, network=args.network)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
