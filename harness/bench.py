"""Timing helpers and the course benchmarks. Timings are shown, never asserted (they depend on the machine).

    python3 course.py bench                       # every part, quick (a few minutes) -> results/bench/BENCHMARKS.md
    python -m harness.bench --only ops,zoo            # some parts: notebooks, ops, zoo, pretrained, pipeline, precision
    python -m harness.bench --run-notebooks           # run the notebooks first (python3 course.py run), then time them
    KERAS_BACKEND=jax python -m harness.bench --run-notebooks --summary results/jax/summary.json --append
                                                  # the same on JAX, added to the same file
    python -m harness.bench conv                      # one table: from-scratch convolutions, a few seconds
    python -m harness.bench conv --size 64 --in-channels 16 --out-channels 32

The parts: ``notebooks`` (each notebook's default-profile run time, from
``results/default/summary.json``), ``ops`` (the from-scratch convolutions and
poolings of :mod:`lib.ops` against the Keras built-ins), ``zoo`` (inference
images/s of :mod:`lib.models.zoo` models), ``pipeline`` (``tf.data`` throughput with
and without :mod:`lib.augment`'s augmentation) and ``precision`` (a small conv
net's training step in float32 / mixed_bfloat16, XLA off / on); ``race``, not in the
default set (it trains on all of Fashion-MNIST: many minutes on a CPU), notebook 12's
speed-run recipe against keras-io's convnet: seconds to 92% test accuracy and their ratio
(``--only race``; ``--only race --race-json FILE`` tabulates a race saved by
``python -m lib.speedrun race --json FILE`` instead of running one).

Introduced in notebook 01 (convolution).
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from lib.timing import conv_benchmark, pool_benchmark, time_call
from lib.viz import markdown_table
from lib.viz import table as format_rows

__all__ = [
    "notebook_times",
    "ops_benchmark",
    "zoo_table",
    "pipeline_benchmark",
    "precision_benchmark",
    "race_table",
    "PARTS",
    "DEFAULT_PARTS",
    "BACKEND_NAMES",
    "run_parts",
    "main",
]


# --------------------------------------------------------------------------- #
# The parts of `python3 course.py bench`
# --------------------------------------------------------------------------- #


def ops_benchmark(size: int = 32, in_channels: int = 8, out_channels: int = 16, repeats: int = 3) -> list[dict]:
    """From-scratch operators against the built-ins: :func:`conv_benchmark` rows plus :func:`pool_benchmark` rows.

    Each row: ``operator``, ``method``, ``shape``, ``seconds``, ``ratio`` (to the
    built-in; > 1 means slower) and ``max_abs_error``.
    Introduced in notebook 02 (pooling).
    """
    rows = [
        {
            "operator": "conv2d",
            "method": r["method"],
            "shape": r["shape"],
            "seconds": r["seconds"],
            "ratio": r["ratio"],
            "max_abs_error": r["max_abs_error"],
        }
        for r in conv_benchmark(size=size, in_channels=in_channels, out_channels=out_channels, repeats=repeats)
    ]
    for r in pool_benchmark(size=size, channels=out_channels, repeats=repeats):
        rows.append(
            {
                "operator": "pool2d",
                "method": r["method"],
                "shape": r["shape"],
                "seconds": r["seconds"],
                "ratio": r["ratio"],
                "max_abs_error": r["max_abs_error"],
            }
        )
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
    rows = [
        {"notebook": n["notebook"], "status": n.get("status", "?"), "seconds": float(n.get("seconds", 0.0))}
        for n in data.get("notebooks", [])
    ]
    ok = sum(r["status"] == "ok" for r in rows)
    rows.append(
        {"notebook": "total", "status": f"{ok}/{len(rows)} ok", "seconds": float(sum(r["seconds"] for r in rows))}
    )
    return rows


def zoo_table(
    names=("alexnet", "googlenet", "resnet18", "mobilenet"), input_size: int = 64, batch: int = 8, repeats: int = 2
) -> list[dict]:
    """Inference throughput of :mod:`lib.models.zoo` models (reuses ``lib.models.zoo.zoo_benchmark``).

    Introduced in notebook 08 (architectures).
    """
    from lib.models import zoo

    return zoo.zoo_benchmark(names, input_size=input_size, batch=batch, repeats=repeats, num_classes=10)


def pipeline_benchmark(
    n: int = 2048, size: int = 32, batch_size: int = 64, epochs: int = 2, seed: int = 0
) -> list[dict]:
    """Images/s of a ``tf.data`` pipeline (:func:`lib.augment.make_pipeline`) with and without augmentation.

    Augmentations: a random flip and a random translation (Keras layers, one
    image at a time, inside ``tf.data``), then CutMix on batches. Each row:
    ``pipeline``, ``images``, ``seconds`` (best epoch after the first, which
    fills the cache) and ``images_per_s``. TensorFlow only (``tf.data``).
    Introduced in notebook 06 (data augmentation).
    """
    from lib import environment

    keras = environment.import_keras()

    from lib import augment, data

    x, y = data.shapes(n, image_size=size, seed=seed)
    flip_translate = keras.Sequential(
        [keras.layers.RandomFlip("horizontal", seed=seed), keras.layers.RandomTranslation(0.1, 0.1, seed=seed)],
        name="augment",
    )
    variants = {
        "no augmentation": dict(),
        "flip + translate": dict(augment=flip_translate),
        "flip + translate + CutMix": dict(
            augment=flip_translate, batch_augment=keras.layers.CutMix(seed=seed), num_classes=10
        ),
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


def precision_benchmark(
    size: int = 32, batch_size: int = 64, steps: int = 10, width: int = 32, seed: int = 0
) -> list[dict]:
    """A small conv net's training step in float32 and mixed_bfloat16, XLA (``jit_compile``) off and on.

    Each row: ``policy``, ``jit_compile``, ``seconds_per_step`` (best of
    ``steps`` ``train_on_batch`` calls after a compiling warm-up) and
    ``speedup`` against float32 without XLA. On a CPU, bfloat16 often *slows*
    training (few CPUs have bfloat16 arithmetic); on a recent GPU it is the
    usual ~2x. The global dtype policy is restored afterwards.
    Introduced in notebook 12 (fast training).
    """
    from lib import environment

    keras = environment.import_keras()

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
                model = keras.Sequential(
                    [
                        keras.Input((size, size, 3)),
                        keras.layers.Conv2D(width, 3, padding="same", activation="relu", name="conv1"),
                        keras.layers.MaxPooling2D(name="pool1"),
                        keras.layers.Conv2D(2 * width, 3, padding="same", activation="relu", name="conv2"),
                        keras.layers.GlobalAveragePooling2D(name="gap"),
                        keras.layers.Dense(10, name="logits"),
                        keras.layers.Activation("softmax", dtype="float32", name="probs"),
                    ],
                    name="bench_cnn",
                )
                model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", jit_compile=jit)
                try:
                    model.train_on_batch(x, y)  # compile
                    seconds = time_call(lambda m=model: m.train_on_batch(x, y), repeats=steps, warmup=1)
                except Exception as exc:  # e.g. an XLA build without CPU support
                    rows.append(
                        {
                            "policy": policy,
                            "jit_compile": jit,
                            "seconds_per_step": float("nan"),
                            "speedup": float("nan"),
                            "note": f"{type(exc).__name__}",
                        }
                    )
                    continue
                rows.append(
                    {"policy": policy, "jit_compile": jit, "seconds_per_step": seconds, "speedup": 0.0, "note": ""}
                )
    finally:
        keras.mixed_precision.set_dtype_policy(previous)
        keras.backend.clear_session()
    base = rows[0]["seconds_per_step"]
    for r in rows:
        r["speedup"] = base / r["seconds_per_step"] if r["seconds_per_step"] == r["seconds_per_step"] else float("nan")
    return rows


def pretrained_benchmark(sizes=(96, 160, 224), batches=(1, 32), repeats: int = 3, seed: int = 0) -> list[dict]:
    """Inference images/s of the course's pretrained networks (EfficientNet-Lite0, HED's VGG16 convolutions).

    One row per network, input size and batch size, through a compiled ``predict_on_batch`` (the first call
    compiles and is not timed: eager calls are about ten times slower and measure Python, not the network).
    """
    from lib import environment

    keras = environment.import_keras()

    from lib.models import pretrained

    rng = np.random.default_rng(seed)
    builders = {
        "efficientnet_lite0": lambda s: pretrained.efficientnet_lite0(input_shape=(s, s, 3)),
        "vgg16_hed": lambda s: pretrained.vgg16_hed(input_shape=(s, s, 3)),
    }
    rows = []
    for name, build in builders.items():
        for size in sizes:
            keras.backend.clear_session()
            model = build(size)
            for batch in batches:
                x = pretrained.preprocess_input(name, rng.uniform(0, 255, (batch, size, size, 3)))
                model.predict_on_batch(x)  # compile for this shape
                seconds = time_call(lambda m=model, x=x: m.predict_on_batch(x), repeats=repeats, warmup=0)
                rows.append(
                    {
                        "network": name,
                        "input": f"{batch}x{size}x{size}x3",
                        "params": model.count_params(),
                        "seconds": seconds,
                        "images_per_s": batch / seconds,
                    }
                )
    keras.backend.clear_session()
    return rows


#: Keras backend name -> how the benchmark headings write it.
BACKEND_NAMES = {"tensorflow": "TensorFlow", "jax": "JAX", "torch": "PyTorch", "numpy": "NumPy"}


def race_table(tiny: bool = False, target: float = 0.92, saved: dict | None = None) -> list[dict]:
    """Notebook 12's recipe vs keras-io's convnet with Adam: seconds to ``target`` test accuracy, one run each.

    Calls :func:`lib.speedrun.race` (all 60,000 Fashion-MNIST training images); ``tiny`` runs a toy
    version (600 images, one epoch each, target 0.3) that checks the wiring, not the speed; ``saved``
    tabulates a race already run (the JSON of ``python -m lib.speedrun race --json``) instead of running one.
    One row per clock (CPU, wall) and target: ``target`` and, below it, 0.90 and 0.91 (where the baseline
    may get to but not to ``target`` within its epochs; ``ratio_at_least`` is then its whole time over the
    recipe's, a lower bound), then one row per epoch of each run
    (:func:`lib.speedrun.race_curves`). Introduced in notebook 12 (training fast).
    """
    from lib import speedrun

    if saved is not None:
        out = saved
    elif tiny:
        recipe = speedrun.Recipe(width=4, epochs=1, batch_size=64, learning_rate=0.2)
        out, target = speedrun.race(recipe, target=0.3, baseline_epochs=1, train_size=600), 0.3
    else:
        out = speedrun.race(target=target)
    targets = sorted({t for t in (0.90, 0.91) if t < target} | {target})
    rows = []
    for t in targets:
        for clock in ("cpu", "wall"):
            times = speedrun.race_ratio(out["recipe"], out["baseline"], t, clock)
            rows.append(
                {
                    "clock": clock,
                    "target": t,
                    "recipe_seconds": times[f"recipe_{clock}_seconds"],
                    "baseline_seconds": times[f"baseline_{clock}_seconds"],
                    "ratio": times[f"ratio_{clock}"],
                    "ratio_at_least": times[f"ratio_{clock}_at_least"],
                    "baseline_epochs": len(out["baseline"]["epoch"]),
                    # as text with two decimals: 0.9199 must not read as 0.92 beside a 92% target
                    "recipe_best_accuracy": f"{max(out['recipe']['accuracy']):.2%}",
                    "baseline_best_accuracy": f"{max(out['baseline']['accuracy']):.2%}",
                    "device": out["device"],
                }
            )
    return rows


#: part name -> (title, function of the ``tiny`` flag returning rows, what the table shows)
PARTS = {
    "notebooks": (
        "Notebooks, default profile",
        None,
        "Each notebook's run time with its default (offline, CPU) parameters, from the results "
        "summary of a `python3 course.py run`",
    ),
    "ops": (
        "From-scratch operators vs the built-ins",
        lambda tiny: ops_benchmark(
            size=8 if tiny else 32,
            in_channels=2 if tiny else 8,
            out_channels=4 if tiny else 16,
            repeats=1 if tiny else 3,
        ),
        "`lib.ops` convolutions (direct loops, im2col, FFT, Winograd) against `keras.ops.conv` (what "
        "`keras.layers.Conv2D` calls) and `lib.ops.pool` against `keras.layers.MaxPooling2D` / "
        "`AveragePooling2D`; ratio > 1 means the from-scratch version is slower.",
    ),
    "zoo": (
        "Model zoo inference",
        lambda tiny: zoo_table(
            names=("mobilenet",) if tiny else ("alexnet", "googlenet", "resnet18", "mobilenet"),
            input_size=32 if tiny else 64,
            batch=2 if tiny else 8,
            repeats=1 if tiny else 2,
        ),
        "`lib.models.zoo` models, random weights, `model(x, training=False)`.",
    ),
    "pretrained": (
        "Pretrained networks inference",
        lambda tiny: pretrained_benchmark(
            sizes=(32,) if tiny else (96, 160, 224), batches=(1,) if tiny else (1, 32), repeats=1 if tiny else 3
        ),
        "`lib.models.pretrained`: EfficientNet-Lite0 (ImageNet) and VGG16's convolutions (HED), real "
        "weights, compiled `predict_on_batch`; images per second by input size and batch.",
    ),
    "pipeline": (
        "Input pipeline throughput",
        lambda tiny: pipeline_benchmark(n=64 if tiny else 2048, size=16 if tiny else 32, batch_size=16 if tiny else 64),
        "`lib.augment.make_pipeline` (tf.data) iterated without a model: the cost of augmentation alone.",
    ),
    "precision": (
        "Mixed precision and XLA (one training step)",
        lambda tiny: precision_benchmark(
            size=8 if tiny else 32, batch_size=4 if tiny else 64, steps=2 if tiny else 10, width=4 if tiny else 32
        ),
        "A small conv net's `train_on_batch`, float32 vs `mixed_bfloat16`, `jit_compile` off / on; "
        "speedup against float32 without XLA.",
    ),
    "race": (
        "Time to 92%: the speed-run recipe vs keras-io's convnet",
        lambda tiny: race_table(tiny),
        "`lib.speedrun.race`: notebook 12's recipe (ResNet-9-style net, patch whitening, warm-up and decay) and "
        "keras-io's `mnist_convnet` with Adam, one run each on all of Fashion-MNIST, compilation not timed; "
        "ratio > 1 means the recipe gets there first",
    ),
}
#: What ``python -m harness.bench`` runs without ``--only``: every part but the long race.
DEFAULT_PARTS = tuple(part for part in PARTS if part != "race")


def run_parts(
    parts=DEFAULT_PARTS,
    tiny: bool = False,
    summary: str | None = "results/default/summary.json",
    log=print,
    race_json: str | None = None,
) -> str:
    """Run benchmark parts and return one Markdown document with a table per part.

    ``tiny=True`` runs each part at a toy size (for tests: the tables' shape, not the timings);
    ``race_json`` tabulates a saved race (``python -m lib.speedrun race --json FILE``) instead of running it.
    Introduced in notebook 01 (convolution).
    """
    import platform

    from lib import environment

    keras = environment.import_keras()

    unknown = [p for p in parts if p not in PARTS]
    if unknown:
        raise ValueError(f"Expected parts from {list(PARTS)}. Received unknown: {unknown}")
    from harness.runner import environment_info

    env = environment_info()
    backend = keras.backend.backend()
    lines = [
        f"# Benchmarks: {BACKEND_NAMES.get(backend, backend)} backend",
        "",
        f"{time.strftime('%Y-%m-%d %H:%M:%S %Z')} - {env.get('cpu', platform.machine())}"
        f"{' - GPU ' + env['gpu'] if env.get('gpu') else ''} - Python {platform.python_version()}, "
        f"TensorFlow {env.get('tensorflow', '?')}, Keras {keras.__version__} ({keras.backend.backend()} backend)."
        + (" Tiny sizes (a test run): the timings mean nothing." if tiny else ""),
        "",
        "Timings depend on the machine and its load; they are shown, never asserted.",
    ]
    for part in parts:
        title, fn, what = PARTS[part]
        log(f"[bench] {part} ...")
        start = time.perf_counter()
        lines += [
            "",
            f"## {title}",
            "",
            what + (f" (`{summary}`)." if part == "notebooks" and summary else "." if part == "notebooks" else ""),
            "",
        ]
        if part == "notebooks":
            rows = notebook_times(summary)
            if not rows:
                where = (
                    f"No summary at `{summary}`: run `python3 course.py run` first"
                    if summary
                    else "No summary given: pass the `summary.json` of a `python3 course.py run`"
                )
                lines.append(f"{where} (or `python3 course.py bench --run-notebooks`).")
                continue
        elif part == "race" and race_json:
            import json

            from lib import paths

            rows = race_table(saved=json.loads(paths.resolve(race_json).read_text()))
        else:
            rows = fn(tiny)
        lines.append(markdown_table(rows))
        log(f"[bench] {part} done in {time.perf_counter() - start:.0f} s")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m harness.bench [--only ops,zoo] [--out FILE]``, or ``... conv [options]``.

    Introduced in notebook 01 (convolution).
    """
    parser = argparse.ArgumentParser(prog="python -m harness.bench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only",
        default=",".join(DEFAULT_PARTS),
        help=f"comma-separated parts, from {','.join(PARTS)} (default: all but race)",
    )
    parser.add_argument("--out", default="results/bench/BENCHMARKS.md", help="Markdown file to write ('-': none)")
    parser.add_argument(
        "--summary", default="results/default/summary.json", help="the runner summary the notebook times come from"
    )
    parser.add_argument(
        "--run-notebooks",
        action="store_true",
        help="run every notebook with its defaults first (python3 course.py run), then time them",
    )
    parser.add_argument("--tiny", action="store_true", help="toy sizes (checks that everything runs)")
    parser.add_argument(
        "--race-json", default=None, help="tabulate this saved race (python -m lib.speedrun race --json) instead"
    )
    parser.add_argument(
        "--append", action="store_true", help="add to --out instead of replacing it (e.g. a second backend's run)"
    )
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
        rows = conv_benchmark(
            methods=args.methods,
            batch=args.batch,
            size=args.size,
            in_channels=args.in_channels,
            out_channels=args.out_channels,
            kernel_size=args.kernel_size,
            stride=args.stride,
            padding=args.padding,
            repeats=args.repeats,
        )
        print(format_rows(rows))
        return 0
    parts = [p.strip() for p in args.only.split(",") if p.strip()]
    unknown = [p for p in parts if p not in PARTS]
    if unknown:
        parser.error(f"unknown part(s) {unknown}; expected some of {','.join(PARTS)}")
    if args.run_notebooks and "notebooks" in parts:
        from harness import runner
        from lib import paths

        summary_dir = paths.resolve(args.summary).parent
        code = runner.main(["--output", str(summary_dir)])
        if code:
            print("[bench] some notebooks failed; their times are still listed", flush=True)
    text = run_parts(
        parts, tiny=args.tiny, summary=args.summary, log=lambda m: print(m, flush=True), race_json=args.race_json
    )
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
