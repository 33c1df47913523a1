"""Session set-up for notebooks: versions, logging, GPU memory, seeds.

Introduced in notebook 01; every notebook's Setup cell calls ``lib.setup()``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import platform
import warnings

#: Oldest versions the course is tested against. Newer ones should work.
MIN_VERSIONS = {"keras": "3.8.0", "tensorflow": "2.16.0", "numpy": "1.26.0"}


def _version_tuple(text: str) -> tuple[int, ...]:
    parts = []
    for piece in text.split(".")[:3]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


def check_versions(found: dict[str, str] | None = None, minimum: dict[str, str] | None = None) -> dict[str, str]:
    """Check that the installed packages are new enough; explain how to fix it if not.

    ``found`` maps package name to installed version (read from the packages when
    omitted). Raises ``RuntimeError`` with a readable message naming every package
    that is too old. Introduced in notebook 01.
    """
    minimum = dict(MIN_VERSIONS if minimum is None else minimum)
    if found is None:
        found = {}
        import keras
        import numpy

        found["keras"] = keras.__version__
        found["numpy"] = numpy.__version__
        backend = keras.backend.backend()
        if backend in ("tensorflow", "jax", "torch"):  # the backend's own version, whichever it is
            import importlib

            found[backend] = importlib.import_module(backend).__version__
    too_old = [
        f"{name} {found[name]} (need >= {need})"
        for name, need in minimum.items()
        if name in found and _version_tuple(found[name]) < _version_tuple(need)
    ]
    if too_old:
        raise RuntimeError(
            "This course needs newer packages: " + "; ".join(too_old) + ". "
            "Create the course environment with `python3 course.py test` (or "
            "`pip install -r requirements.txt`); on Colab, use a current runtime."
        )
    return found


def quiet_logging() -> None:
    """Silence TensorFlow's C++ and Python chatter (warnings stay visible)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    logging.getLogger("absl").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message=".*Protobuf gencode version.*")


def enable_gpu_memory_growth() -> list[str]:
    """Let TensorFlow grow GPU memory as needed instead of taking all of it.

    Idempotent: calling it again, or after the GPU was initialised, is harmless.
    Returns the names of the GPUs found (empty on CPU). On JAX, memory growth is
    ``XLA_PYTHON_CLIENT_PREALLOCATE=false``, set here if JAX has not started yet;
    on PyTorch there is nothing to do (it allocates as it goes). Introduced in notebook 01.
    """
    import keras

    backend = keras.backend.backend()
    if backend == "jax":
        os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
        import jax

        return [str(d) for d in jax.devices() if d.platform == "gpu"]
    if backend == "torch":
        import torch

        return [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    if backend != "tensorflow":
        return []
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    for gpu in gpus:
        try:
            if not tf.config.experimental.get_memory_growth(gpu):
                tf.config.experimental.set_memory_growth(gpu, True)
        except RuntimeError:
            # The device is already initialised; its setting can no longer change.
            pass
    return [gpu.name for gpu in gpus]


def set_seed(seed: int, deterministic: bool = False) -> None:
    """Seed Python, NumPy and the backend (``keras.utils.set_random_seed``).

    With ``deterministic=True`` TensorFlow ops are made deterministic too
    (slower; for exact reproductions; JAX on CPU is deterministic already).
    Introduced in notebook 01.
    """
    import keras

    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"Expected a non-negative integer seed. Received: seed={seed!r}")
    keras.utils.set_random_seed(seed)
    if deterministic and keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()


@contextlib.contextmanager
def float64():
    """Inside the block, float64 tensors stay float64 on every Keras backend.

    TensorFlow and PyTorch compute in float64 when asked; JAX truncates float64
    to float32 (with a warning) unless its x64 mode is on. This context turns
    JAX's x64 mode on for the block and restores it afterwards; on the other
    backends it does nothing. Use it for exact comparisons of from-scratch
    code against Keras (``rtol=1e-12``), not for models: Keras layers keep
    ``floatx()`` (float32) either way. Introduced in notebook 03.
    """
    import keras

    if keras.backend.backend() != "jax":
        yield
        return
    import jax

    if hasattr(jax, "enable_x64"):  # JAX >= 0.7: a configuration context
        with jax.enable_x64(True):
            yield
        return
    from jax.experimental import enable_x64  # older JAX

    with enable_x64():
        yield


def tensorflow_available() -> bool:
    """Whether TensorFlow can be imported here, whatever the Keras backend.

    Cells that are TensorFlow by nature (a ``tf.distribute`` strategy, a
    ``tf.image`` cross-check, ``tf.data`` pipelines) run under any Keras
    backend when TensorFlow is installed, and say they are skipped when it is
    not (a JAX-only machine). Introduced in notebook 07.
    """
    import importlib.util
    import sys

    if "tensorflow" in sys.modules:  # imported already, or blocked (None: "import tensorflow" raises)
        return sys.modules["tensorflow"] is not None
    try:
        return importlib.util.find_spec("tensorflow") is not None
    except (ImportError, ValueError):
        return False


def setup(seed: int | None = None, *, deterministic: bool = False, verbose: bool = True) -> dict:
    """Prepare a notebook session and return facts about it.

    Quiets logging, checks versions (readable error if too old), enables GPU
    memory growth (idempotent) and, when ``seed`` is given, seeds everything.
    Introduced in notebook 01; called by every notebook's Setup cell.
    """
    quiet_logging()
    import keras

    versions = check_versions()
    gpus = enable_gpu_memory_growth()
    _offer_fashion_mnist()
    if seed is not None:
        set_seed(seed, deterministic=deterministic)
    info = {
        "backend": keras.backend.backend(),
        "versions": versions,
        "python": platform.python_version(),
        "gpus": gpus,
        "in_colab": _in_colab(),
    }
    if verbose:
        device = ", ".join(gpus) if gpus else "CPU only"
        packages = ", ".join(f"{k} {v}" for k, v in versions.items())
        print(f"backend={info['backend']} | {packages} | python {info['python']} | {device}")
    return info


def _offer_fashion_mnist() -> None:
    """Link Fashion-MNIST into Keras's cache if the Debian package is here, so that
    ``keras.datasets.fashion_mnist.load_data()`` works offline; say nothing otherwise
    (``lib.data.load("fashion_mnist")`` explains how to get it when a notebook needs it)."""
    from lib import data

    try:
        data.prepare_fashion_mnist(download=False)
    except data.DatasetUnavailableError:
        pass


def _in_colab() -> bool:
    import sys

    return "google.colab" in sys.modules
