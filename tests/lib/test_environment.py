"""lib.setup and friends: readable version errors, idempotent GPU set-up, seeding."""

import numpy as np
import pytest

import lib
from lib import environment


def test_old_versions_get_a_readable_message():
    with pytest.raises(RuntimeError) as info:
        environment.check_versions({"keras": "2.15.0", "tensorflow": "2.15.1", "numpy": "2.0.0"})
    message = str(info.value)
    assert "keras 2.15.0 (need >= 3.8.0)" in message and "tensorflow 2.15.1" in message
    assert "numpy" not in message.split("need")[0].split(";")[-1] or "numpy 2.0.0" not in message
    assert "course.py" in message


def test_current_versions_pass_and_prerelease_suffixes_parse():
    found = environment.check_versions()
    assert "keras" in found
    assert environment.check_versions({"keras": "3.10.0rc1", "numpy": "2.1.0.dev0"}) == {
        "keras": "3.10.0rc1",
        "numpy": "2.1.0.dev0",
    }


def test_setup_is_idempotent_and_reports_facts(capsys):
    first = lib.setup(seed=1)
    second = lib.setup(seed=1)
    import keras

    backend = keras.backend.backend()
    assert first["backend"] == second["backend"] == backend
    assert first["gpus"] == second["gpus"]
    assert first["versions"][backend]  # the backend's own version is reported, whichever it is
    assert capsys.readouterr().out.splitlines() == [environment.describe(first)] * 2  # one line per call
    assert environment.enable_gpu_memory_growth() == first["gpus"]


def test_seeding_makes_keras_reproducible():
    import keras

    environment.set_seed(7)
    a = keras.random.normal((3,)), np.random.rand(2)  # noqa: NPY002 - the global NumPy generator is what is seeded
    environment.set_seed(7)
    b = keras.random.normal((3,)), np.random.rand(2)  # noqa: NPY002
    np.testing.assert_array_equal(np.asarray(a[0]), np.asarray(b[0]))
    np.testing.assert_array_equal(a[1], b[1])


@pytest.mark.parametrize("seed", [-1, 1.5, "0", True])
def test_bad_seed(seed):
    with pytest.raises(ValueError, match="Expected seed to be a non-negative integer. Received: seed="):
        environment.set_seed(seed)


def test_lib_imports_lazily_and_rejects_unknown_names():
    assert lib.data.__name__ == "lib.data"
    with pytest.raises(AttributeError):
        lib.nonexistent_module  # noqa: B018 - the attribute access is the test


def test_float64_keeps_float64_inside_the_block_on_every_backend():
    import keras

    def third_in_float64():
        return keras.ops.convert_to_numpy(keras.ops.convert_to_tensor(np.full(3, 1 / 3), dtype="float64"))

    jax = None
    if keras.backend.backend() == "jax":
        import jax

        before = jax.config.jax_enable_x64
        jax.config.update("jax_enable_x64", False)  # JAX's default (tests/lib/conftest.py turns it on)
    try:
        with environment.float64():
            inside = third_in_float64()
            variable = keras.Variable(np.array([0.1, 0.2]), dtype="float64")
            assert keras.ops.convert_to_numpy(variable).dtype == np.float64
        assert inside.dtype == np.float64 and inside[0] == 1 / 3  # not rounded to float32
        if jax is not None:
            assert not jax.config.jax_enable_x64, "the block must restore JAX's setting"
            assert third_in_float64().dtype == np.float32  # outside: JAX's float32 again
    finally:
        if jax is not None:
            jax.config.update("jax_enable_x64", before)


def test_tensorflow_available_says_whether_tensorflow_imports(monkeypatch):
    import importlib.util
    import sys

    assert environment.tensorflow_available() == (importlib.util.find_spec("tensorflow") is not None)
    with monkeypatch.context() as m:
        m.setitem(sys.modules, "tensorflow", None)  # blocked: `import tensorflow` raises ImportError
        assert environment.tensorflow_available() is False
    m = monkeypatch
    m.delitem(sys.modules, "tensorflow", raising=False)
    real = importlib.util.find_spec
    m.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "tensorflow" else real(name, *a))
    assert environment.tensorflow_available() is False


def test_cpu_description_names_the_processor_and_its_cores():
    import os

    from lib import environment

    text = environment.cpu_description()
    assert text.endswith(f"({os.cpu_count()} cores)") and len(text) > len(" cores)") + 3
