"""Timing helpers. Timings are shown, never asserted (they depend on the machine).

    python -m lib.bench conv                      # small default, a few seconds
    python -m lib.bench conv --size 64 --in-channels 16 --out-channels 32

Introduced in notebook 01 (convolution).
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

__all__ = ["time_call", "conv_benchmark", "format_rows", "main"]


def time_call(fn, repeats: int = 3, warmup: int = 1) -> float:
    """Best wall-clock seconds of ``repeats`` calls of ``fn()`` after ``warmup`` calls.

    The minimum is the least noisy estimate on a shared machine.

    Introduced in notebook 01 (convolution).
    """
    if repeats < 1:
        raise ValueError(f"Expected repeats >= 1. Received: repeats={repeats}")
    for _ in range(max(warmup, 0)):
        fn()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def conv_benchmark(methods=("direct", "im2col", "fft", "winograd"), batch: int = 1, size: int = 32,
                   in_channels: int = 8, out_channels: int = 16, kernel_size: int = 3, stride: int = 1,
                   padding: str = "same", repeats: int = 3, seed: int = 0) -> list[dict]:
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
        seconds = time_call(lambda fn=fn: fn(x, w, stride=stride, padding=padding),
                            repeats if name != "direct" else 1, warmup=0)
        rows.append({
            "method": name,
            "shape": shape,
            "seconds": seconds,
            "ratio": seconds / base if base > 0 else float("inf"),
            "max_abs_error": float(np.max(np.abs(out - ref))),
        })
    return rows


def format_rows(rows: list[dict]) -> str:
    """A plain-text table of benchmark rows (numbers rounded for reading).

    Introduced in notebook 01 (convolution).
    """
    if not rows:
        return "(no rows)"
    keys = list(rows[0])

    def cell(v):
        if isinstance(v, float):
            return f"{v:.3g}"
        return str(v)

    table = [keys] + [[cell(r[k]) for k in keys] for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(keys))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m lib.bench conv [options]``.

    Introduced in notebook 01 (convolution).
    """
    parser = argparse.ArgumentParser(prog="python -m lib.bench", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    conv = sub.add_parser("conv", help="from-scratch 2D convolutions vs keras.ops.conv")
    conv.add_argument("--batch", type=int, default=1)
    conv.add_argument("--size", type=int, default=32)
    conv.add_argument("--in-channels", type=int, default=8)
    conv.add_argument("--out-channels", type=int, default=16)
    conv.add_argument("--kernel-size", type=int, default=3)
    conv.add_argument("--stride", type=int, default=1)
    conv.add_argument("--padding", default="same", choices=["same", "valid"])
    conv.add_argument("--repeats", type=int, default=3)
    conv.add_argument("--methods", nargs="+", default=["direct", "im2col", "fft", "winograd"])
    args = parser.parse_args(argv)
    rows = conv_benchmark(methods=args.methods, batch=args.batch, size=args.size, in_channels=args.in_channels,
                          out_channels=args.out_channels, kernel_size=args.kernel_size, stride=args.stride,
                          padding=args.padding, repeats=args.repeats)
    print(format_rows(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
