"""`lib` tests run on every Keras backend: `KERAS_BACKEND=jax pytest tests/lib` as well as TensorFlow.

* ``@pytest.mark.tf_only("why")`` marks a test that is TensorFlow by nature (``tf.data``,
  ``tf.distribute``, a comparison with a TensorFlow-only API); on another backend it is skipped
  with the reason and the backend in the skip message.
* Under JAX, float64 is enabled (``jax_enable_x64``) so that a float64 reference stays float64,
  as it does on TensorFlow; without it JAX silently truncates float64 to float32 and central
  differences at h=1e-5 lose every digit. Keras layers still compute in float32 (``floatx``).
* ``shapes_only`` builds models whose weights have shapes but no values, for tests of
  structure only (parameter counts, FLOPs, output shapes): drawing 10^8 random weights for
  VGG/ResNet/DenseNet dominated those tests (tens of seconds each on JAX's CPU RNG).
* ``forward(model, x)`` runs a model once, as a whole compiled function on JAX (``predict``:
  one XLA compile instead of one per op, 4 s instead of 24 s for DenseNet-121) and eagerly on
  the others (TensorFlow's eager call is quicker than tracing a tf.function for one batch).
* Under JAX, XLA compiles every new shape; at ``--xla_backend_optimization_level=0`` LLVM
  compiles the small test graphs ~3x faster (the tests are compile-bound, not compute-bound),
  and the persistent compilation cache shares compiled programs between the xdist workers and
  between runs (in the system temp folder, outside the repository).
* On a backend other than TensorFlow a parametrized test with ``GRID_MIN`` cases or more runs one
  case in ``GRID_SAMPLE`` (at least one), the same ones every run (chosen by a hash of the test
  id): the references they compare with (NumPy loops, SciPy, Keras's own layers) don't depend on
  the backend, the TensorFlow pass runs every case, and each backend-dependent path still runs on
  JAX; all of them on JAX cost minutes of CI time, most of it XLA compiling each case's shapes.
  ``CNN_COURSE_FULL_GRIDS=1`` runs them all.
* Tests whose subject doesn't depend on the backend run in the TensorFlow pass only: the files in
  ``BACKEND_INDEPENDENT_FILES`` (argument checks, data files, counting, tables, figures, the
  package's own layout, and modules written in NumPy that build Keras's own layers and optimizers:
  what those compute on JAX is Keras's part, checked where the notebooks run on JAX with
  ``-m jax_extra``) and tests marked ``@pytest.mark.backend_independent("why")`` (file and
  network handling, benchmark rows, a test that itself starts a JAX process). Outside TensorFlow
  they are deselected, like the sampled grid cases; ``CNN_COURSE_FULL_GRIDS=1`` runs them too.
"""

import contextlib
import os
import tempfile
import zlib

import pytest

BACKEND = os.environ.get("KERAS_BACKEND", "tensorflow")

if BACKEND == "jax":
    flags = os.environ.get("XLA_FLAGS", "")
    if "xla_backend_optimization_level" not in flags:
        os.environ["XLA_FLAGS"] = (flags + " --xla_backend_optimization_level=0").strip()
    import jax

    jax.config.update("jax_enable_x64", True)
    if not os.environ.get("JAX_COMPILATION_CACHE_DIR"):
        jax.config.update("jax_compilation_cache_dir", os.path.join(tempfile.gettempdir(), "cnn-course-jax-cache"))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.2)
    jax.devices()  # create the CPU client now, with the flags above
    os.environ["XLA_FLAGS"] = flags  # ... and leave none behind for subprocesses
    if not flags:
        del os.environ["XLA_FLAGS"]

import keras  # noqa: E402  (after the JAX set-up above)

assert keras.backend.backend() == BACKEND, (keras.backend.backend(), BACKEND)


#: Outside TensorFlow, parametrized tests with GRID_MIN cases or more run one case in GRID_SAMPLE (see the module doc).
GRID_MIN = 4
GRID_SAMPLE = 8

#: Test files whose subject is the same on every backend (NumPy checks and counts, files, tables, figures).
BACKEND_INDEPENDENT_FILES = {
    "test_anatomy.py",  # lib.anatomy: shape and parameter counts in NumPy, compared with a built Keras model's
    "test_checks.py",
    "test_data.py",
    "test_data_fashion_mnist.py",
    "test_flops.py",
    "test_optim.py",  # lib.optim: update rules in NumPy, compared step by step with keras.optimizers
    "test_pretrained.py",  # lib.models.pretrained: weight files read with NumPy into Keras's own layers
    "test_package.py",
    "test_report.py",
    "test_timing_and_tables.py",
    "test_viz.py",
}


def _backend_independent(item) -> bool:
    return item.path.name in BACKEND_INDEPENDENT_FILES or item.get_closest_marker("backend_independent") is not None


def _sampled(items) -> list:
    """The items a backend other than TensorFlow runs: no backend-independent ones, and one case in
    GRID_SAMPLE of each parametrized test with GRID_MIN cases or more (its first if the hash picks none)."""
    if os.environ.get("CNN_COURSE_FULL_GRIDS") == "1":
        return list(items)
    items = [item for item in items if not _backend_independent(item)]
    families: dict[tuple, list] = {}
    for item in items:
        families.setdefault((item.path, item.originalname), []).append(item)
    dropped = set()
    for cases in families.values():
        if len(cases) < GRID_MIN:
            continue
        kept = [c for c in cases if zlib.crc32(c.nodeid.encode()) % GRID_SAMPLE == 0] or cases[:1]
        dropped.update(id(c) for c in cases if c not in kept)
    return [item for item in items if id(item) not in dropped]


def pytest_collection_modifyitems(config, items):
    if BACKEND == "tensorflow":
        return
    kept = _sampled(items)
    if len(kept) < len(items):
        chosen = {id(item) for item in kept}
        config.hook.pytest_deselected(items=[item for item in items if id(item) not in chosen])
        items[:] = kept
    for item in items:
        marker = item.get_closest_marker("tf_only")
        if marker is not None:
            why = marker.args[0] if marker.args else marker.kwargs.get("reason", "")
            item.add_marker(
                pytest.mark.skip(reason=f"needs the TensorFlow backend ({why}); KERAS_BACKEND is {BACKEND}")
            )


@pytest.fixture
def backend():
    """The Keras backend the tests run on ("tensorflow", "jax", "torch")."""
    return BACKEND


@contextlib.contextmanager
def _shapes_only():
    # Variables made in a StatelessScope are registered for a deferred initialization that
    # initialize_variables=False skips; clear_session then forgets them, so no later scope's exit
    # initializes them either. Such models can be counted and profiled, not called on data.
    with keras.StatelessScope(initialize_variables=False):
        yield
    keras.backend.clear_session(free_memory=False)


@pytest.fixture(scope="session")
def shapes_only():
    """A context manager: models built inside have weight shapes but no values (see the module doc)."""
    return _shapes_only


@pytest.fixture(scope="session")
def forward():
    """``forward(model, x)``: the model's inference output on one batch, as NumPy (see the module doc)."""

    def run(model, x):
        if BACKEND == "jax":
            return model.predict(x, batch_size=len(x), verbose=0)
        return keras.ops.convert_to_numpy(model(x, training=False))

    return run
