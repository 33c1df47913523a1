"""Timing helpers and the course benchmarks. Timings are shown, never asserted (they depend on the machine).

    python3 course.py bench                       # every part, quick (a few minutes) -> results/bench/BENCHMARKS.md
    python -m lib.bench --only ops,zoo            # some parts: notebooks, ops, zoo, pipeline, precision
    python -m lib.bench --run-notebooks           # run the notebooks first (python3 course.py run), then time them
    KERAS_BACKEND=jax python -m lib.bench --run-notebooks --summary results/jax/summary.json --append
                                                  # the same on JAX, added to the same file
    python -m lib.bench conv                      # one table: from-scratch convolutions, a few seconds
    python -m lib.bench conv --size 64 --in-channels 16 --out-channels 32

The parts: ``notebooks`` (each notebook's default-profile run time, from
``results/default/summary.json``), ``ops`` (the from-scratch convolutions and
poolings of :mod:`lib.ops` against the Keras built-ins), ``zoo`` (inference
images/s of :mod:`lib.zoo` models), ``pipeline`` (``tf.data`` throughput with
and without :mod:`lib.augment`'s augmentation) and ``precision`` (a small conv
net's training step in float32 / mixed_bfloat16, XLA off / on).

Introduced in notebook 01 (convolution).
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

__all__ = [
    "time_call", "conv_benchmark", "pool_benchmark", "format_rows", "markdown_table", "notebook_times",
    "ops_benchmark", "zoo_table", "pipeline_benchmark", "precision_benchmark", "PARTS", "BACKEND_NAMES", "run_parts",
    "main",
]


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


def markdown_table(rows: list[dict]) -> str:
    """A Markdown table of benchmark rows (floats to 3 significant digits).

    Introduced in notebook 01 (convolution).
    """
    if not rows:
        return "(no rows)"
    keys = list(rows[0])

    def cell(v):
        if isinstance(v, float):
            return f"{v:.3g}"
        return str(v).replace("|", "\\|")

    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(cell(r.get(k, "")) for k in keys) + " |" for r in rows]
    return "\n".join(lines)


# --------------------------------------------------------------------------- #
# The parts of `python3 course.py bench`
# --------------------------------------------------------------------------- #
def pool_benchmark(size: int = 32, channels: int = 16, batch: int = 8, pool_size: int = 2,
                   repeats: int = 3, seed: int = 0) -> list[dict]:
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
    for mode, ours, layer in (("max", P.max_pool2d, keras.layers.MaxPooling2D(pool_size)),
                              ("average", P.average_pool2d, keras.layers.AveragePooling2D(pool_size))):
        def builtin(layer=layer):
            return keras.ops.convert_to_numpy(layer(x))

        ref = builtin()
        out = ours(x, pool_size)
        base = time_call(builtin, repeats)
        seconds = time_call(lambda ours=ours: ours(x, pool_size), repeats)
        rows.append({"method": f"{mode}_pool2d vs {type(layer).__name__}",
                     "shape": f"{'x'.join(map(str, x.shape))} -> {'x'.join(map(str, ref.shape))}",
                     "seconds": seconds, "builtin_seconds": base,
                     "ratio": seconds / base if base > 0 else float("inf"),
                     "max_abs_error": float(np.max(np.abs(out - ref)))})
    return rows


def ops_benchmark(size: int = 32, in_channels: int = 8, out_channels: int = 16, repeats: int = 3) -> list[dict]:
    """From-scratch operators against the built-ins: :func:`conv_benchmark` rows plus :func:`pool_benchmark` rows.

    Each row: ``operator``, ``method``, ``shape``, ``seconds``, ``ratio`` (to the
    built-in; > 1 means slower) and ``max_abs_error``.
    Introduced in notebook 02 (pooling).
    """
    rows = [{"operator": "conv2d", "method": r["method"], "shape": r["shape"], "seconds": r["seconds"],
             "ratio": r["ratio"], "max_abs_error": r["max_abs_error"]}
            for r in conv_benchmark(size=size, in_channels=in_channels, out_channels=out_channels, repeats=repeats)]
    for r in pool_benchmark(size=size, channels=out_channels, repeats=repeats):
        rows.append({"operator": "pool2d", "method": r["method"], "shape": r["shape"], "seconds": r["seconds"],
                     "ratio": r["ratio"], "max_abs_error": r["max_abs_error"]})
    return rows


def notebook_times(summary: str | None = "results/default/summary.json") -> list[dict]:
    """Each notebook's run time from a runner summary, plus a total row; empty when there is no summary.

    Introduced in notebook 01 (running the course).
    """
    import json

    from lib import paths

    path = paths.resolve(summary) if summary else None
    if path is None or not path.exists():
        return []
    data = json.loads(path.read_text())
    rows = [{"notebook": n["notebook"], "status": n.get("status", "?"), "seconds": float(n.get("seconds", 0.0))}
            for n in data.get("notebooks", [])]
    ok = sum(r["status"] == "ok" for r in rows)
    rows.append({"notebook": "total", "status": f"{ok}/{len(rows)} ok",
                 "seconds": float(sum(r["seconds"] for r in rows))})
    return rows


def zoo_table(names=("alexnet", "googlenet", "resnet18", "mobilenet"), input_size: int = 64, batch: int = 8,
              repeats: int = 2) -> list[dict]:
    """Inference throughput of :mod:`lib.zoo` models (reuses ``lib.zoo.zoo_benchmark``).

    Introduced in notebook 08 (architectures).
    """
    from lib import zoo

    return zoo.zoo_benchmark(names, input_size=input_size, batch=batch, repeats=repeats, num_classes=10)


def pipeline_benchmark(n: int = 2048, size: int = 32, batch_size: int = 64, epochs: int = 2, seed: int = 0) -> list[dict]:
    """Images/s of a ``tf.data`` pipeline (:func:`lib.augment.make_pipeline`) with and without augmentation.

    Augmentations: a random flip and a random translation (Keras layers, one
    image at a time, inside ``tf.data``), then CutMix on batches. Each row:
    ``pipeline``, ``images``, ``seconds`` (best epoch after the first, which
    fills the cache) and ``images_per_s``. TensorFlow only (``tf.data``).
    Introduced in notebook 06 (data augmentation).
    """
    import keras

    from lib import augment, data

    x, y = data.shapes(n, image_size=size, seed=seed)
    flip_translate = keras.Sequential([keras.layers.RandomFlip("horizontal", seed=seed),
                                       keras.layers.RandomTranslation(0.1, 0.1, seed=seed)], name="augment")
    variants = {
        "no augmentation": dict(),
        "flip + translate": dict(augment=flip_translate),
        "flip + translate + CutMix": dict(augment=flip_translate, batch_augment=keras.layers.CutMix(seed=seed),
                                          num_classes=10),
    }
    rows = []
    for name, kwargs in variants.items():
        ds = augment.make_pipeline(x, y, batch_size=batch_size, seed=seed, **kwargs)
        times = []
        for _ in range(max(epochs, 2)):
            start = time.perf_counter()
            for _batch in ds:
                pass
            times.append(time.perf_counter() - start)
        seconds = min(times[1:])
        rows.append({"pipeline": name, "images": n, "seconds": seconds, "images_per_s": n / seconds})
    return rows


def precision_benchmark(size: int = 32, batch_size: int = 64, steps: int = 10, width: int = 32,
                        seed: int = 0) -> list[dict]:
    """A small conv net's training step in float32 and mixed_bfloat16, XLA (``jit_compile``) off and on.

    Each row: ``policy``, ``jit_compile``, ``seconds_per_step`` (best of
    ``steps`` ``train_on_batch`` calls after a compiling warm-up) and
    ``speedup`` against float32 without XLA. On a CPU, bfloat16 often *slows*
    training (few CPUs have bfloat16 arithmetic); on a recent GPU it is the
    usual ~2x. The global dtype policy is restored afterwards.
    Introduced in notebook 12 (fast training).
    """
    import keras

    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, (batch_size, size, size, 3)).astype("float32")
    y = rng.integers(0, 10, batch_size)
    previous = keras.mixed_precision.dtype_policy().name
    rows = []
    try:
        for policy in ("float32", "mixed_bfloat16"):
            for jit in (False, True):
                keras.mixed_precision.set_dtype_policy(policy)
                keras.backend.clear_session()
                keras.utils.set_random_seed(seed)
                model = keras.Sequential([
                    keras.Input((size, size, 3)),
                    keras.layers.Conv2D(width, 3, padding="same", activation="relu", name="conv1"),
                    keras.layers.MaxPooling2D(name="pool1"),
                    keras.layers.Conv2D(2 * width, 3, padding="same", activation="relu", name="conv2"),
                    keras.layers.GlobalAveragePooling2D(name="gap"),
                    keras.layers.Dense(10, name="logits"),
                    keras.layers.Activation("softmax", dtype="float32", name="probs"),
                ], name="bench_cnn")
                model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", jit_compile=jit)
                try:
                    model.train_on_batch(x, y)  # compile
                    seconds = time_call(lambda m=model: m.train_on_batch(x, y), repeats=steps, warmup=1)
                except Exception as exc:  # e.g. an XLA build without CPU support
                    rows.append({"policy": policy, "jit_compile": jit, "seconds_per_step": float("nan"),
                                 "speedup": float("nan"), "note": f"{type(exc).__name__}"})
                    continue
                rows.append({"policy": policy, "jit_compile": jit, "seconds_per_step": seconds,
                             "speedup": 0.0, "note": ""})
    finally:
        keras.mixed_precision.set_dtype_policy(previous)
        keras.backend.clear_session()
    base = rows[0]["seconds_per_step"]
    for r in rows:
        r["speedup"] = base / r["seconds_per_step"] if r["seconds_per_step"] == r["seconds_per_step"] else float("nan")
    return rows


#: Keras backend name -> how the benchmark headings write it.
BACKEND_NAMES = {"tensorflow": "TensorFlow", "jax": "JAX", "torch": "PyTorch", "numpy": "NumPy"}

#: part name -> (title, function of the ``tiny`` flag returning rows, what the table shows)
PARTS = {
    "notebooks": ("Notebooks, default profile", None,
                  "Each notebook's run time with its default (offline, CPU) parameters, from the results "
                  "summary of a `python3 course.py run`"),
    "ops": ("From-scratch operators vs the built-ins",
            lambda tiny: ops_benchmark(size=8 if tiny else 32, in_channels=2 if tiny else 8,
                                       out_channels=4 if tiny else 16, repeats=1 if tiny else 3),
            "`lib.ops` convolutions (direct loops, im2col, FFT, Winograd) against `keras.ops.conv` (what "
            "`keras.layers.Conv2D` calls) and `lib.ops.pool` against `keras.layers.MaxPooling2D` / "
            "`AveragePooling2D`; ratio > 1 means the from-scratch version is slower."),
    "zoo": ("Model zoo inference",
            lambda tiny: zoo_table(names=("mobilenet",) if tiny else ("alexnet", "googlenet", "resnet18", "mobilenet"),
                                   input_size=32 if tiny else 64, batch=2 if tiny else 8, repeats=1 if tiny else 2),
            "`lib.zoo` models, random weights, `model(x, training=False)`."),
    "pipeline": ("Input pipeline throughput",
                 lambda tiny: pipeline_benchmark(n=64 if tiny else 2048, size=16 if tiny else 32,
                                                 batch_size=16 if tiny else 64),
                 "`lib.augment.make_pipeline` (tf.data) iterated without a model: the cost of augmentation alone."),
    "precision": ("Mixed precision and XLA (one training step)",
                  lambda tiny: precision_benchmark(size=8 if tiny else 32, batch_size=4 if tiny else 64,
                                                   steps=2 if tiny else 10, width=4 if tiny else 32),
                  "A small conv net's `train_on_batch`, float32 vs `mixed_bfloat16`, `jit_compile` off / on; "
                  "speedup against float32 without XLA."),
}


def run_parts(parts=tuple(PARTS), tiny: bool = False, summary: str | None = "results/default/summary.json",
              log=print) -> str:
    """Run benchmark parts and return one Markdown document with a table per part.

    ``tiny=True`` runs each part at a toy size (for tests: the tables' shape, not the timings).
    Introduced in notebook 01 (convolution).
    """
    import platform

    import keras

    unknown = [p for p in parts if p not in PARTS]
    if unknown:
        raise ValueError(f"Expected parts from {list(PARTS)}. Received unknown: {unknown}")
    from lib.runner import environment_info

    env = environment_info()
    backend = keras.backend.backend()
    lines = [f"# Benchmarks: {BACKEND_NAMES.get(backend, backend)} backend", "",
             f"{time.strftime('%Y-%m-%d %H:%M:%S %Z')} - {env.get('cpu', platform.machine())}"
             f"{' - GPU ' + env['gpu'] if env.get('gpu') else ''} - Python {platform.python_version()}, "
             f"TensorFlow {env.get('tensorflow', '?')}, Keras {keras.__version__} ({keras.backend.backend()} backend)."
             + (" Tiny sizes (a test run): the timings mean nothing." if tiny else ""),
             "", "Timings depend on the machine and its load; they are shown, never asserted."]
    for part in parts:
        title, fn, what = PARTS[part]
        log(f"[bench] {part} ...")
        start = time.perf_counter()
        lines += ["", f"## {title}", "", what + (f" (`{summary}`)." if part == "notebooks" and summary else
                                                           "." if part == "notebooks" else ""), ""]
        if part == "notebooks":
            rows = notebook_times(summary)
            if not rows:
                where = f"No summary at `{summary}`: run `python3 course.py run` first" if summary else \
                    "No summary given: pass the `summary.json` of a `python3 course.py run`"
                lines.append(f"{where} (or `python3 course.py bench --run-notebooks`).")
                continue
        else:
            rows = fn(tiny)
        lines.append(markdown_table(rows))
        log(f"[bench] {part} done in {time.perf_counter() - start:.0f} s")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m lib.bench [--only ops,zoo] [--out FILE]`` or ``python -m lib.bench conv [options]``.

    Introduced in notebook 01 (convolution).
    """
    parser = argparse.ArgumentParser(prog="python -m lib.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(PARTS),
                        help=f"comma-separated parts, from {','.join(PARTS)} (default: all)")
    parser.add_argument("--out", default="results/bench/BENCHMARKS.md", help="Markdown file to write ('-': none)")
    parser.add_argument("--summary", default="results/default/summary.json",
                        help="the runner summary the notebook times come from")
    parser.add_argument("--run-notebooks", action="store_true",
                        help="run every notebook with its defaults first (python3 course.py run), then time them")
    parser.add_argument("--tiny", action="store_true", help="toy sizes (checks that everything runs)")
    parser.add_argument("--append", action="store_true",
                        help="add to --out instead of replacing it (e.g. a second backend's run)")
    sub = parser.add_subparsers(dest="what")
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
    if args.what == "conv":
        rows = conv_benchmark(methods=args.methods, batch=args.batch, size=args.size, in_channels=args.in_channels,
                              out_channels=args.out_channels, kernel_size=args.kernel_size, stride=args.stride,
                              padding=args.padding, repeats=args.repeats)
        print(format_rows(rows))
        return 0
    parts = [p.strip() for p in args.only.split(",") if p.strip()]
    unknown = [p for p in parts if p not in PARTS]
    if unknown:
        parser.error(f"unknown part(s) {unknown}; expected some of {','.join(PARTS)}")
    if args.run_notebooks and "notebooks" in parts:
        from lib import paths, runner

        summary_dir = paths.resolve(args.summary).parent
        code = runner.main(["--output", str(summary_dir)])
        if code:
            print("[bench] some notebooks failed; their times are still listed", flush=True)
    text = run_parts(parts, tiny=args.tiny, summary=args.summary, log=lambda m: print(m, flush=True))
    print(text)
    if args.out != "-":
        from lib import paths

        out = paths.resolve(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        if args.append and out.exists():
            text = out.read_text().rstrip("\n") + "\n\n" + text
        out.write_text(text)
        print(f"Wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
