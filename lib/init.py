"""Weight initialization: named schemes, their variances, deep plain nets to test them on,
per-layer activation and gradient statistics, and LSUV.

* :data:`SCHEMES` / :func:`initializer`: the lectures' schemes by name - all zeros,
  small random ``N(0, 0.01^2)``, Xavier/Glorot, Kaiming/He, LeCun, orthogonal - as
  ``keras.initializers`` objects; an unknown name raises a ``ValueError`` listing the
  known ones.
* :func:`fans` and :func:`expected_variance`: ``fan_in``/``fan_out`` the way Keras
  counts them (a conv kernel's fan-in is receptive field x input channels) and the
  variance each scheme is designed to give: ``2 / (fan_in + fan_out)`` for Xavier,
  ``2 / fan_in`` for Kaiming, ``1 / fan_in`` for LeCun.
* :func:`lib.models.deep_mlp` (in :mod:`lib.models.small`): a plain stack of ``Dense``
  layers to push a scheme through.
* :func:`layer_statistics`: for every layer with a kernel, the mean and standard
  deviation of its output and the norm of the loss gradient with respect to its kernel
  on one batch (TensorFlow ``GradientTape``); :func:`plot_layer_statistics` plots them.
* :func:`lsuv_init`: layer-sequential unit-variance initialization (Mishkin & Matas
  2016): orthogonal weights, then each ``Dense``/``Conv`` layer in turn rescaled until
  the variance of its output on a batch is 1 within ``tol``.

Introduced in notebook 03 (activations and initialization).
"""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import ops

from lib import checks

__all__ = [
    "SCHEMES",
    "initializer",
    "fans",
    "expected_variance",
    "kernel_layers",
    "layer_statistics",
    "plot_layer_statistics",
    "lsuv_init",
]

#: name -> what the scheme is. :func:`initializer` turns a name into a Keras initializer.
SCHEMES = {
    "zeros": "all weights 0 (keras.initializers.Zeros)",
    "small_normal": "N(0, 0.01^2): small random numbers (RandomNormal(stddev=0.01))",
    "xavier": "Xavier/Glorot normal, Var = 2 / (fan_in + fan_out) (GlorotNormal)",
    "xavier_uniform": "Xavier/Glorot uniform, Var = 2 / (fan_in + fan_out) (GlorotUniform)",
    "kaiming": "Kaiming/He normal, Var = 2 / fan_in (HeNormal)",
    "kaiming_uniform": "Kaiming/He uniform, Var = 2 / fan_in (HeUniform)",
    "lecun": "LeCun normal, Var = 1 / fan_in, for SELU (LecunNormal)",
    "orthogonal": "a random orthogonal matrix (kernel flattened to (rows, out)), mean square 1 / max(rows, out)",
}

_LAYER_TYPES = (keras.layers.Dense, keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D)


def _check_scheme(name):
    if name not in SCHEMES:
        raise ValueError(f"Expected an initializer name in {sorted(SCHEMES)}. Received: name={name!r}")


def initializer(name: str, seed: int | None = None):
    """The Keras initializer of a scheme in :data:`SCHEMES` (``"xavier"``, ``"kaiming"``, ...).

    ``seed`` seeds it (``None``: Keras's global seeding). Unknown names raise
    ``ValueError``. Introduced in notebook 03.
    """
    _check_scheme(name)
    init = keras.initializers
    return {
        "zeros": lambda: init.Zeros(),
        "small_normal": lambda: init.RandomNormal(mean=0.0, stddev=0.01, seed=seed),
        "xavier": lambda: init.GlorotNormal(seed=seed),
        "xavier_uniform": lambda: init.GlorotUniform(seed=seed),
        "kaiming": lambda: init.HeNormal(seed=seed),
        "kaiming_uniform": lambda: init.HeUniform(seed=seed),
        "lecun": lambda: init.LecunNormal(seed=seed),
        "orthogonal": lambda: init.Orthogonal(seed=seed),
    }[name]()


def fans(shape) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a kernel shape, as Keras counts them.

    Dense ``(in, out)``: ``(in, out)``. Conv ``(k1, ..., kd, in, out)``: the receptive
    field ``k1 * ... * kd`` times ``in``, and times ``out``. Introduced in notebook 03.
    """
    shape = tuple(int(s) for s in shape)
    if len(shape) < 1 or any(s < 1 for s in shape):
        raise ValueError(f"Expected a kernel shape of positive sizes. Received: shape={shape}")
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive_field = math.prod(shape[:-2])
    return receptive_field * shape[-2], receptive_field * shape[-1]


def expected_variance(name: str, shape) -> float:
    """The variance of the weights scheme ``name`` gives a kernel of ``shape`` (by its formula).

    Introduced in notebook 03.
    """
    _check_scheme(name)
    fan_in, fan_out = fans(shape)
    rows, cols = math.prod(tuple(shape)[:-1]) or 1, int(tuple(shape)[-1])  # how Orthogonal flattens a kernel
    return {
        "zeros": 0.0,
        "small_normal": 0.01**2,
        "xavier": 2.0 / (fan_in + fan_out),
        "xavier_uniform": 2.0 / (fan_in + fan_out),
        "kaiming": 2.0 / fan_in,
        "kaiming_uniform": 2.0 / fan_in,
        "lecun": 1.0 / fan_in,
        "orthogonal": 1.0 / max(rows, cols),
    }[name]


def kernel_layers(model) -> list:
    """The model's ``Dense`` and ``Conv1D/2D/3D`` layers, in order (what LSUV and the
    statistics look at). Introduced in notebook 03."""
    return [layer for layer in model.layers if isinstance(layer, _LAYER_TYPES)]


def _loss_fn(model, loss):
    if loss is None:
        loss = getattr(model, "loss", None) if getattr(model, "compiled", False) else None
    if loss is None:
        return keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    return keras.losses.get(loss)


def layer_statistics(model, x, y, loss=None) -> list[dict]:
    """Forward and backward statistics of every ``Dense``/``Conv`` layer on one batch.

    Returns one dict per layer, in order: ``name``, ``activation_mean`` and
    ``activation_std`` (of the layer's output, after its activation),
    ``gradient_norm`` (Frobenius norm of d loss / d kernel) and ``weight_std``.
    ``loss`` defaults to the model's compiled loss, else sparse categorical
    cross-entropy on logits. The gradients come from
    :func:`lib.autodiff.value_and_grads` (any Keras backend).
    Introduced in notebook 03.
    """
    from lib import autodiff

    layers = kernel_layers(model)
    if not layers:
        raise ValueError(f"Expected a model with Dense or Conv layers. Received: {model.name!r} has none")
    probe = keras.Model(model.inputs, [layer.output for layer in layers] + list(model.outputs))
    loss_fn = _loss_fn(model, loss)
    x = ops.convert_to_tensor(x)
    outputs = probe(x, training=False)

    def value():
        # loss functions (not Loss objects) return per-sample values
        return ops.mean(loss_fn(y, probe(x, training=False)[-1]))

    _, grads = autodiff.value_and_grads(value, [layer.kernel for layer in layers], allow_unused=True)
    stats = []
    for layer, out, grad in zip(layers, outputs[:-1], grads):
        out = ops.convert_to_numpy(out)
        grad = ops.convert_to_numpy(grad)
        stats.append(
            {
                "name": layer.name,
                "activation_mean": float(np.mean(out)),
                "activation_std": float(np.std(out)),
                "gradient_norm": float(np.linalg.norm(grad)),
                "weight_std": float(np.std(ops.convert_to_numpy(layer.kernel))),
            }
        )
    return stats


def plot_layer_statistics(
    stats: dict, keys=("activation_std", "gradient_norm"), title: str | None = None, log: bool = True
):
    """Plot per-layer statistics of several runs, one panel per key.

    ``stats`` maps a run's name to :func:`layer_statistics`'s list. Zeros are left out
    of log-scale panels. Returns the ``Figure``. Introduced in notebook 03.
    """
    from lib import viz

    if not stats:
        raise ValueError("Expected statistics of at least one run. Received an empty dict")
    keys = (keys,) if isinstance(keys, str) else tuple(keys)
    labels = {
        "activation_std": "std of the layer's output",
        "gradient_norm": "||dL/dW|| of the layer",
        "activation_mean": "mean of the layer's output",
        "weight_std": "std of the weights",
    }
    fig, axes = viz.panels(len(keys), width=4.4, height=3.3)
    for ax, key in zip(axes, keys):
        for i, (run, rows) in enumerate(stats.items()):
            values = np.array([row[key] for row in rows], dtype=float)
            depth = np.arange(1, len(values) + 1)
            if log:
                keep = values > 0
                depth, values = depth[keep], values[keep]
            ax.plot(depth, values, marker="o", markersize=3, color=f"C{i}", label=run)
        viz.label_panel(ax, "layer", labels.get(key, key), key.replace("_", " "), log=log, legend_size=7)
    return viz.finish(fig, title)


def _pre_activation(layer, inputs):
    """The layer's output without its activation (``Dense``/``Conv`` apply it last)."""
    activation = layer.activation
    try:
        layer.activation = None
        return layer(inputs)
    finally:
        layer.activation = activation


def lsuv_init(model, batch, tol: float = 0.1, max_iter: int = 10, seed: int | None = None) -> list[dict]:
    """Layer-sequential unit-variance initialization (Mishkin & Matas, "All you need is a good init").

    For each ``Dense``/``Conv1D/2D/3D`` layer, first to last: set the kernel to a random
    orthogonal matrix and the bias to zero, then, while ``|Var(B) - 1| >= tol`` and fewer
    than ``max_iter`` rescalings were made, divide the kernel by ``sqrt(Var(B))``, where
    ``B`` is the layer's output on ``batch`` before its activation (the paper's output
    blob of a conv/inner-product layer) with all earlier layers already rescaled.
    Changes ``model`` in place; returns one dict per layer: ``name``, ``variance`` (final),
    ``iterations`` (rescalings made) and ``converged``. Introduced in notebook 03.
    """
    tol = checks.positive(tol, "tol")
    max_iter = checks.positive_int(max_iter, "max_iter")
    layers = kernel_layers(model)
    if not layers:
        raise ValueError(f"Expected a model with Dense or Conv layers. Received: {model.name!r} has none")
    batch = ops.convert_to_tensor(batch)
    report = []
    for i, layer in enumerate(layers):
        layer_input = keras.Model(model.inputs, layer.input)(batch, training=False)
        orthogonal = keras.initializers.Orthogonal(seed=None if seed is None else seed + i)
        layer.kernel.assign(orthogonal(layer.kernel.shape, dtype=layer.kernel.dtype))
        if getattr(layer, "bias", None) is not None:
            layer.bias.assign(ops.zeros(layer.bias.shape, dtype=layer.bias.dtype))  # zeros_like(Variable) fails on JAX

        def variance(layer=layer, layer_input=layer_input):
            return float(ops.convert_to_numpy(ops.var(_pre_activation(layer, layer_input))))

        var, iterations = variance(), 0
        while abs(var - 1.0) >= tol and iterations < max_iter:
            if not var > 0:
                raise ValueError(
                    f"Layer {layer.name!r} has an output of variance {var} on the batch; LSUV cannot rescale "
                    "it. Pass a batch with varied inputs."
                )
            layer.kernel.assign(layer.kernel / math.sqrt(var))
            iterations += 1
            var = variance()
        report.append(
            {"name": layer.name, "variance": var, "iterations": iterations, "converged": abs(var - 1.0) < tol}
        )
    return report
