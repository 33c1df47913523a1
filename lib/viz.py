"""Plotting helpers so that notebooks hold no plotting boilerplate.

Every function returns the matplotlib ``Figure`` (titled, axes labelled) and
leaves showing it to the notebook. Figures are small (``dpi=80``) so executed
notebooks stay light. Introduced in notebook 01.
"""

from __future__ import annotations

import math

import numpy as np

DPI = 80


def _plt():
    import matplotlib.pyplot as plt

    return plt


def _as_numpy(x) -> np.ndarray:
    if hasattr(x, "numpy"):
        x = x.numpy()
    return np.asarray(x)


def panels(n: int, width: float = 4.2, height: float = 3.2):
    """A figure of ``n`` panels side by side: ``(fig, axes)`` with ``axes`` a list of ``n`` axes.

    Introduced in notebook 01.
    """
    fig, axes = _plt().subplots(1, n, figsize=(width * n, height), dpi=DPI, squeeze=False)
    return fig, list(axes[0])


def label_panel(ax, xlabel: str, ylabel: str, title: str, log: bool = False, legend_size: int = 8):
    """Label a panel of curves: axis labels, title, a light grid, the legend (and a log y-axis with ``log``).

    Introduced in notebook 01.
    """
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if log:
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=legend_size)


def finish(fig, title: str | None = None):
    """Give ``fig`` its overall ``title`` (if any), lay it out tightly and return it.

    Introduced in notebook 01.
    """
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def image_grid(
    images,
    labels=None,
    class_names=None,
    ncols: int = 8,
    title: str | None = None,
    cmap: str | None = None,
    size: float = 1.3,
    normalize: bool = False,
):
    """Show images (N, H, W[, C]) in a grid, optionally captioned with labels.

    ``labels`` may be ints (looked up in ``class_names``) or strings. Single-channel
    images use ``cmap`` (grey by default). ``normalize=True`` rescales each image
    to [0, 1] (for perturbations and filters). Introduced in notebook 01.
    """
    plt = _plt()
    images = _as_numpy(images)
    if images.ndim not in (3, 4):
        raise ValueError(f"Expected images of shape (N, H, W) or (N, H, W, C). Received shape {images.shape}")
    n = len(images)
    if n == 0:
        raise ValueError("Expected at least one image. Received an empty array")
    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(size * ncols, size * nrows + (0.4 if title else 0)), dpi=DPI, squeeze=False
    )
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= n:
            continue
        img = images[i].astype(np.float32)
        if normalize:
            lo, hi = img.min(), img.max()
            img = (img - lo) / (hi - lo) if hi > lo else np.zeros_like(img)
        if img.ndim == 3 and img.shape[-1] == 1:
            img = img[..., 0]
        if img.ndim == 3:
            ax.imshow(np.clip(img, 0, 1))
        else:
            ax.imshow(img, cmap=cmap or "gray")
        if labels is not None:
            label = labels[i]
            if class_names is not None and not isinstance(label, str):
                label = class_names[int(label)]
            ax.set_title(str(label), fontsize=8)
    return finish(fig, title)


def feature_maps(maps, ncols: int = 8, title: str | None = None, max_maps: int = 32, cmap: str = "viridis"):
    """Show the channels of one feature map (H, W, C) - or (1, H, W, C) - as a grid.

    Introduced in notebook 01.
    """
    maps = _as_numpy(maps)
    if maps.ndim == 4:
        if maps.shape[0] != 1:
            raise ValueError(f"Expected the feature maps of one input, (1, H, W, C). Received shape {maps.shape}")
        maps = maps[0]
    if maps.ndim != 3:
        raise ValueError(f"Expected feature maps of shape (H, W, C). Received shape {maps.shape}")
    channels = np.moveaxis(maps[..., :max_maps], -1, 0)
    fig = image_grid(
        channels, labels=[f"#{i}" for i in range(len(channels))], ncols=ncols, title=title, cmap=cmap, size=1.1
    )
    return fig


def filters(kernel, ncols: int = 8, title: str | None = None):
    """Show convolution kernels (kh, kw, in, out): RGB when in=3, else the first input channel.

    Each filter is rescaled to [0, 1] on its own. Introduced in notebook 01.
    """
    kernel = _as_numpy(kernel)
    if kernel.ndim != 4:
        raise ValueError(f"Expected a conv kernel of shape (kh, kw, in, out). Received shape {kernel.shape}")
    shown = kernel if kernel.shape[2] == 3 else kernel[:, :, :1, :]
    tiles = np.moveaxis(shown, -1, 0)
    return image_grid(
        tiles,
        labels=[f"#{i}" for i in range(len(tiles))],
        ncols=ncols,
        title=title,
        normalize=True,
        cmap="gray",
        size=1.0,
    )


def training_curves(
    histories, metrics=("loss",), title: str | None = None, validation: bool = True, xlabel: str = "epoch"
):
    """Plot training curves of one or several runs side by side, one panel per metric.

    ``histories`` is a ``keras.callbacks.History``, a dict of lists, or a dict
    ``{run name: History or dict}``. Validation curves (``val_<metric>``) are
    drawn dashed in the same colour. Introduced in notebook 01.
    """
    if hasattr(histories, "history") or (
        isinstance(histories, dict) and histories and all(isinstance(v, (list, tuple)) for v in histories.values())
    ):
        histories = {"": histories}
    if isinstance(metrics, str):
        metrics = (metrics,)
    fig, axes = panels(len(metrics))
    for ax, metric in zip(axes, metrics):
        for i, (name, hist) in enumerate(histories.items()):
            h = hist.history if hasattr(hist, "history") else hist
            if metric not in h:
                raise KeyError(f"Metric {metric!r} not in history of run {name!r}; it has {sorted(h)}")
            color = f"C{i}"
            epochs = np.arange(1, len(h[metric]) + 1)
            ax.plot(epochs, h[metric], color=color, label=f"{name} train".strip())
            if validation and f"val_{metric}" in h:
                ax.plot(epochs, h[f"val_{metric}"], color=color, linestyle="--", label=f"{name} validation".strip())
        label_panel(ax, xlabel, metric, metric)
    return finish(fig, title)


def bars(values: dict, title: str, ylabel: str, log: bool = False, rotate: int = 45):
    """A labelled bar chart of ``{name: value}`` (per-layer parameters, timings, ...).

    Introduced in notebook 01.
    """
    plt = _plt()
    if not values:
        raise ValueError("Expected at least one value to plot. Received an empty dict")
    fig, ax = plt.subplots(figsize=(max(4.0, 0.45 * len(values) + 1.5), 3.2), dpi=DPI)
    ax.bar(range(len(values)), list(values.values()), color="C0")
    ax.set_xticks(
        range(len(values)), list(values.keys()), rotation=rotate, ha="right" if rotate else "center", fontsize=8
    )
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if log:
        ax.set_yscale("log")
    ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- #
# Tables
# --------------------------------------------------------------------------- #
def _cells(rows: list[dict], escape: bool = False) -> tuple[list[str], list[list[str]]]:
    """The column names (the first row's keys) and every row's cells as text (floats to 3 significant digits)."""
    keys = list(rows[0])

    def cell(v):
        text = f"{v:.3g}" if isinstance(v, float) else str(v)
        return text.replace("|", "\\|") if escape else text

    return keys, [[cell(r.get(k, "")) for k in keys] for r in rows]


def _is_number(v) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))


def table(rows: list[dict], right=None) -> str:
    """A plain-text table of rows (dicts with the same keys; floats to 3 significant digits).

    The one table formatter of the course: profiles, benchmarks and results print through it.
    Columns named in ``right`` are right-aligned; by default, the columns whose values are all numbers.

    Introduced in notebook 01 (convolution).
    """
    if not rows:
        return "(no rows)"
    keys, body = _cells(rows)
    if right is None:
        right = [k for k in keys if all(_is_number(r.get(k)) for r in rows)]
    lines = [keys] + body
    widths = [max(len(line[i]) for line in lines) for i in range(len(keys))]

    def fmt(line):
        return "  ".join(
            c.rjust(w) if k in right else c.ljust(w) for k, c, w in zip(keys, line, widths, strict=True)
        ).rstrip()

    return "\n".join([fmt(keys), "  ".join("-" * w for w in widths)] + [fmt(line) for line in body])


def markdown_table(rows: list[dict]) -> str:
    """A Markdown table of rows (dicts; floats to 3 significant digits), for BENCHMARKS.md and RESULTS.md.

    Introduced in notebook 01 (convolution).
    """
    if not rows:
        return "(no rows)"
    keys, body = _cells(rows, escape=True)
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(line) + " |" for line in body]
    return "\n".join(lines)
