"""Timing what the course builds: best-of-N wall-clock time (and CPU time), the from-scratch convolutions and poolings
against the Keras built-ins.

Timings depend on the machine and its load: notebooks show them, tests never
assert them. ``python3 course.py bench`` collects them into BENCHMARKS.md.

Introduced in notebook 01 (convolution).
"""

from __future__ import annotations

import time

import numpy as np

from lib import checks

__all__ = ["time_call", "time_calls", "conv_benchmark", "pool_benchmark"]


def time_call(fn, repeats: int = 3, warmup: int = 1) -> float:
    """Best wall-clock seconds of ``repeats`` calls of ``fn()`` after ``warmup`` calls.

    The minimum is the least noisy estimate on a shared machine.

    Introduced in notebook 01 (convolution).
    """
    return min(time_calls(fn, repeats, warmup)["wall"])


def time_calls(fn, repeats: int = 3, warmup: int = 1) -> dict:
    """Seconds of each of ``repeats`` calls of ``fn()`` after ``warmup`` untimed calls, on two clocks:
    ``{"wall": [...], "cpu": [...]}``. Wall-clock time is the latency a user sees; CPU time
    (``time.process_time``: all threads of this process) counts only the work the call made the processor
    do, so on a machine shared with other programs it is the steadier measure of *cost* (take its median).

    Introduced in notebook 08 (architectures).
    """
    repeats = checks.positive_int(repeats, "repeats")
    for _ in range(checks.non_negative_int(warmup, "warmup")):
        fn()
    out = {"wall": [], "cpu": []}
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        out["wall"].append(time.perf_counter() - wall)
        out["cpu"].append(time.process_time() - cpu)
    return out


def conv_benchmark(
    methods=("direct", "im2col", "fft", "winograd"),
    batch: int = 1,
    size: int = 32,
    in_channels: int = 8,
    out_channels: int = 16,
    kernel_size: int = 3,
    stride: int = 1,
    padding: str = "same",
    repeats: int = 3,
    seed: int = 0,
) -> list[dict]:
    """Time the from-scratch 2D convolutions of :mod:`lib.ops.conv` against ``keras.ops.conv``.

    Returns one dict per method, built-in first: ``method``, ``shape`` (input ->
    output), ``seconds`` (best of ``repeats``), ``ratio`` (seconds / built-in
    seconds) and ``max_abs_error`` against the built-in. Methods that cannot
    run the configuration (Winograd needs 3x3, stride 1) are skipped. The
    default (one 32x32x8 image, 16 filters of 3x3) takes a few seconds, most
    of it in the nested-loop ``direct`` method.

    Introduced in notebook 01 (convolution).
    """
    import keras

    from lib.ops import conv as C

    unknown = [m for m in methods if m not in C.CONV2D_METHODS]
    if unknown:
        raise ValueError(f"Expected methods from {sorted(C.CONV2D_METHODS)}. Received unknown: {unknown}")
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, size, size, in_channels)).astype("float32")
    w = rng.standard_normal((kernel_size, kernel_size, in_channels, out_channels)).astype("float32")

    def builtin():
        return keras.ops.convert_to_numpy(keras.ops.conv(x, w, strides=stride, padding=padding))

    ref = builtin()
    shape = f"{'x'.join(map(str, x.shape))} -> {'x'.join(map(str, ref.shape))}"
    base = time_call(builtin, repeats)
    rows = [{"method": "keras.ops.conv", "shape": shape, "seconds": base, "ratio": 1.0, "max_abs_error": 0.0}]
    for name in methods:
        if name == "winograd" and (kernel_size != 3 or stride != 1):
            continue
        fn = C.CONV2D_METHODS[name]
        out = fn(x, w, stride=stride, padding=padding)
        seconds = time_call(
            lambda fn=fn: fn(x, w, stride=stride, padding=padding), repeats if name != "direct" else 1, warmup=0
        )
        rows.append(
            {
                "method": name,
                "shape": shape,
                "seconds": seconds,
                "ratio": seconds / base if base > 0 else float("inf"),
                "max_abs_error": float(np.max(np.abs(out - ref))),
            }
        )
    return rows


def pool_benchmark(
    size: int = 32, channels: int = 16, batch: int = 8, pool_size: int = 2, repeats: int = 3, seed: int = 0
) -> list[dict]:
    """Time :mod:`lib.ops.pool`'s max and average pooling against ``keras.layers.MaxPooling2D`` / ``AveragePooling2D``.

    One row per mode: ``method``, ``shape``, ``seconds`` (from scratch),
    ``builtin_seconds``, ``ratio`` (from scratch / built-in) and ``max_abs_error``.
    Introduced in notebook 02 (pooling).
    """
    import keras

    from lib.ops import pool as P

    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, size, size, channels)).astype("float32")
    rows = []
    for mode, ours, layer in (
        ("max", P.max_pool2d, keras.layers.MaxPooling2D(pool_size)),
        ("average", P.average_pool2d, keras.layers.AveragePooling2D(pool_size)),
    ):

        def builtin(layer=layer):
            return keras.ops.convert_to_numpy(layer(x))

        ref = builtin()
        out = ours(x, pool_size)
        base = time_call(builtin, repeats)
        seconds = time_call(lambda ours=ours: ours(x, pool_size), repeats)
        rows.append(
            {
                "method": f"{mode}_pool2d vs {type(layer).__name__}",
                "shape": f"{'x'.join(map(str, x.shape))} -> {'x'.join(map(str, ref.shape))}",
                "seconds": seconds,
                "builtin_seconds": base,
                "ratio": seconds / base if base > 0 else float("inf"),
                "max_abs_error": float(np.max(np.abs(out - ref))),
            }
        )
    return rows
