"""Where are the parameters? Counting a CNN's shapes, parameters and activations by hand.

A network is described by a short list of layer specs - :class:`Conv`,
:class:`Pool`, :class:`GlobalPool`, :class:`Flatten`, :class:`Dense`,
:class:`BatchNorm` and :class:`Elementwise` (activation, dropout) - and
:func:`walk` pushes an input shape through it with the formulas of the
lectures, one :class:`Row` per layer:

* convolution ``F x F x D1 -> D2``, stride ``S``: output ``floor((I - F) / S) + 1``
  (``"valid"``) or ``ceil(I / S)`` (``"same"``) per side, ``(F * F * D1 + 1) * D2``
  parameters (the ``+ 1`` is the bias);
* pooling: the same output-size rule with the pool window, depth unchanged,
  no parameters (LeNet-5's subsampling, ``Pool(mode="subsample")``, has two per
  map: a trainable coefficient and a bias);
* flatten: ``H * W * D`` values in a row, no parameters;
* dense ``n -> m``: ``(n + 1) * m`` parameters;
* activations: the number of values a layer outputs for one example.

Output sizes come from :func:`lib.flops.conv_output_size` (the one home of
that formula); :func:`to_keras` builds the Keras model the specs describe, so
the hand counts can be checked against ``layer.count_params()`` and against
:func:`lib.flops.profile`, which counts a built Keras model layer by layer.

Introduced in notebook 02 (pooling and the anatomy of a CNN).
"""

from __future__ import annotations

import dataclasses
import math

from lib import checks
from lib.flops import conv_output_size

# fmt: off
__all__ = [
    "POOL_MODES", "Conv", "Pool", "GlobalPool", "Flatten", "Dense", "BatchNorm", "Elementwise", "Row", "walk",
    "totals", "format_table", "min_input_size", "to_keras",
]
# fmt: on


def _padding(padding) -> str:
    return checks.one_of(padding, "padding", ("valid", "same"))


def _mode(mode) -> str:
    return checks.one_of(mode, "mode", ("max", "average"))


#: What :class:`Pool` summarises a window with: its max, its mean, or LeNet-5's trainable subsampling.
POOL_MODES = ("max", "average", "subsample")


def _maps(shape, window, strides, padding: str, depth: int) -> tuple[int, int, int]:
    """Output ``(H2, W2, depth)`` of a window sliding over ``(H, W, C)`` maps, by :func:`lib.flops.conv_output_size`."""
    (kh, kw), (sh, sw) = window, strides
    return conv_output_size(shape[0], kh, sh, padding), conv_output_size(shape[1], kw, sw, padding), depth


# ---------------------------------------------------------------------------
# layer specs
# ---------------------------------------------------------------------------


class _Spec:
    """What a layer spec does unless it says otherwise: keep the input's shape and hold no weights."""

    def output_shape(self, shape):
        return tuple(shape)

    def params(self, shape):
        return 0, "0"


@dataclasses.dataclass(frozen=True)
class Conv(_Spec):
    """A 2D convolution: ``filters`` kernels of ``kernel_size``, ``strides``, ``padding``.

    Introduced in notebook 02 (pooling and the anatomy of a CNN).
    """

    filters: int
    kernel_size: int | tuple = 3
    strides: int | tuple = 1
    padding: str = "valid"
    use_bias: bool = True
    activation: str | None = None
    name: str | None = None
    kind = "conv"

    def __post_init__(self):
        checks.positive_int(self.filters, "filters")
        checks.int_pair(self.kernel_size, "kernel_size")
        checks.int_pair(self.strides, "strides")
        _padding(self.padding)

    def output_shape(self, shape):
        return _maps(
            shape,
            checks.int_pair(self.kernel_size, "kernel_size"),
            checks.int_pair(self.strides, "strides"),
            self.padding,
            self.filters,
        )

    def params(self, shape):
        kh, kw = checks.int_pair(self.kernel_size, "kernel_size")
        bias = " + 1" if self.use_bias else ""
        return (
            (kh * kw * shape[2] + int(self.use_bias)) * self.filters,
            f"({kh}*{kw}*{shape[2]}{bias})*{self.filters}",
        )


@dataclasses.dataclass(frozen=True)
class Pool(_Spec):
    """Max (``mode="max"``) or average pooling; ``strides=None`` means ``pool_size``.

    ``mode="subsample"`` is LeNet-5's subsampling layer (LeCun et al., 1998): each
    window's sum times a trainable coefficient plus a trainable bias, per map - two
    parameters per channel. :func:`to_keras` needs a ``make_layer`` for it
    (:func:`lib.models.small.lenet5` gives one).

    Introduced in notebook 02 (pooling and the anatomy of a CNN).
    """

    pool_size: int | tuple = 2
    strides: int | tuple | None = None
    padding: str = "valid"
    mode: str = "max"
    name: str | None = None
    kind = "pool"

    def __post_init__(self):
        checks.int_pair(self.pool_size, "pool_size")
        if self.strides is not None:
            checks.int_pair(self.strides, "strides")
        _padding(self.padding)
        checks.one_of(self.mode, "mode", POOL_MODES)

    def output_shape(self, shape):
        window = checks.int_pair(self.pool_size, "pool_size")
        strides = window if self.strides is None else checks.int_pair(self.strides, "strides")
        return _maps(shape, window, strides, self.padding, shape[2])

    def params(self, shape):
        if self.mode == "subsample":
            return 2 * shape[2], f"2*{shape[2]}"
        return 0, "0"


@dataclasses.dataclass(frozen=True)
class GlobalPool(_Spec):
    """Global max or average pooling: one value per channel.

    Introduced in notebook 02 (pooling and the anatomy of a CNN).
    """

    mode: str = "average"
    name: str | None = None
    kind = "global_pool"

    def __post_init__(self):
        _mode(self.mode)

    def output_shape(self, shape):
        return (shape[-1],)


@dataclasses.dataclass(frozen=True)
class Flatten(_Spec):
    """Reshape ``(H, W, D)`` maps into one vector of ``H * W * D`` values.

    Introduced in notebook 02 (pooling and the anatomy of a CNN).
    """

    name: str | None = None
    kind = "flatten"

    def output_shape(self, shape):
        return (math.prod(shape),)


@dataclasses.dataclass(frozen=True)
class Dense(_Spec):
    """A fully connected layer of ``units`` on a vector input.

    Introduced in notebook 02 (pooling and the anatomy of a CNN).
    """

    units: int
    use_bias: bool = True
    activation: str | None = None
    name: str | None = None
    kind = "dense"

    def __post_init__(self):
        checks.positive_int(self.units, "units")

    def output_shape(self, shape):
        if len(shape) != 1:
            raise ValueError(
                f"Dense layer {self.name or ''!r} expects a vector; received maps of shape {shape}. "
                "Put a Flatten (or GlobalPool) before it"
            )
        return (self.units,)

    def params(self, shape):
        bias = " + 1" if self.use_bias else ""
        return (shape[0] + int(self.use_bias)) * self.units, f"({shape[0]}{bias})*{self.units}"


@dataclasses.dataclass(frozen=True)
class BatchNorm(_Spec):
    """Batch normalization over the last axis: gamma, beta, moving mean and variance.

    Introduced in notebook 02 (pooling and the anatomy of a CNN).
    """

    name: str | None = None
    kind = "batch_norm"

    def params(self, shape):
        return 4 * shape[-1], f"4*{shape[-1]}"


@dataclasses.dataclass(frozen=True)
class Elementwise(_Spec):
    """A layer that keeps the shape and has no weights: ``what`` is an activation name or ``"dropout"``.

    Introduced in notebook 02 (pooling and the anatomy of a CNN).
    """

    what: str = "relu"
    name: str | None = None
    kind = "elementwise"


@dataclasses.dataclass(frozen=True)
class Row:
    """One layer of a :func:`walk`: its output shape, parameters and activations per example.

    Introduced in notebook 02 (pooling and the anatomy of a CNN).
    """

    name: str
    kind: str
    output_shape: tuple
    params: int
    activations: int
    formula: str


def walk(input_shape, layers, include_input: bool = True) -> list[Row]:
    """Push ``input_shape`` (H, W, C) through ``layers`` and count by hand, layer by layer.

    Returns one :class:`Row` per layer (plus an ``input`` row first when
    ``include_input``). Raises ``ValueError`` naming the layer when a window does
    not fit its input, or a dense layer gets maps.

    Introduced in notebook 02 (pooling and the anatomy of a CNN).
    """
    shape = checks.image_shape(input_shape)
    rows = [Row("input", "input", shape, 0, math.prod(shape), "0")] if include_input else []
    counters: dict[str, int] = {}
    for layer in layers:
        if not hasattr(layer, "output_shape") or not hasattr(layer, "kind"):
            raise ValueError(f"Expected lib.anatomy layer specs (Conv, Pool, ...). Received: {layer!r}")
        counters[layer.kind] = counters.get(layer.kind, 0) + 1
        name = layer.name or f"{layer.kind}{counters[layer.kind]}"
        if layer.kind in ("conv", "pool", "global_pool", "flatten") and len(shape) != 3:
            raise ValueError(f"Layer {name!r} expects maps (H, W, C); received a vector of shape {shape}")
        try:
            out = tuple(layer.output_shape(shape))
        except ValueError as err:
            raise ValueError(f"Layer {name!r} cannot take an input of shape {shape}: {err}") from None
        params, formula = layer.params(shape)
        rows.append(Row(name, layer.kind, out, params, math.prod(out), formula))
        shape = out
    return rows


def totals(rows) -> dict:
    """Total parameters and activations (per example) of a :func:`walk`.

    Introduced in notebook 02 (pooling and the anatomy of a CNN).
    """
    return {"params": sum(r.params for r in rows), "activations": sum(r.activations for r in rows)}


def format_table(rows) -> str:
    """A plain-text table of a :func:`walk` (through :func:`lib.viz.table`), with totals and each layer's share
    of the parameters.

    Introduced in notebook 02 (pooling and the anatomy of a CNN).
    """
    from lib.viz import table

    total = totals(rows)
    lines = [
        {
            "layer": r.name,
            "output": "x".join(str(v) for v in r.output_shape),
            "params": f"{r.params:,}",
            "share": f"{r.params / total['params'] if total['params'] else 0.0:.1%}",
            "formula": r.formula,
            "activations": f"{r.activations:,}",
        }
        for r in rows
    ]
    lines.append(
        {
            "layer": "total",
            "output": "",
            "params": f"{total['params']:,}",
            "share": "",
            "formula": "",
            "activations": f"{total['activations']:,}",
        }
    )
    return table(lines, right=("params", "share", "activations"))


def min_input_size(layers, channels: int = 1, limit: int = 4096) -> int:
    """The smallest square input side that every window in ``layers`` fits.

    Introduced in notebook 02 (pooling and the anatomy of a CNN).
    """
    for side in range(1, limit + 1):
        try:
            walk((side, side, channels), layers)
        except ValueError:
            continue
        return side
    raise ValueError(f"No square input up to {limit}x{limit} fits these layers")


# ---------------------------------------------------------------------------
# specs -> Keras
# ---------------------------------------------------------------------------


def to_keras(input_shape, layers, name: str = "from_spec", make_layer=None):
    """Build the Keras ``Sequential`` model that ``layers`` describe (uncompiled).

    ``make_layer(spec, name)``, if given, is asked first for every spec: it returns
    a Keras layer, or ``None`` for the standard one. Specs with no standard layer
    (``Pool(mode="subsample")``) need it.

    Introduced in notebook 02 (pooling and the anatomy of a CNN).
    """
    import keras

    rows = walk(input_shape, layers, include_input=False)  # validates shapes and fixes names
    built = [keras.Input(shape=checks.image_shape(input_shape), name="input")]
    for spec, row in zip(layers, rows):
        custom = make_layer(spec, row.name) if make_layer is not None else None
        if custom is not None:
            built.append(custom)
        elif spec.kind == "pool" and spec.mode == "subsample":
            raise ValueError(
                f"Layer {row.name!r}: LeNet's subsampling has no built-in Keras layer. Pass make_layer "
                "(lib.models.small.lenet5 does) or use mode='max' or 'average'"
            )
        elif spec.kind == "conv":
            built.append(
                keras.layers.Conv2D(
                    spec.filters,
                    spec.kernel_size,
                    spec.strides,
                    spec.padding,
                    activation=spec.activation,
                    use_bias=spec.use_bias,
                    name=row.name,
                )
            )
        elif spec.kind == "pool":
            cls = keras.layers.MaxPooling2D if spec.mode == "max" else keras.layers.AveragePooling2D
            built.append(cls(spec.pool_size, spec.strides, spec.padding, name=row.name))
        elif spec.kind == "global_pool":
            cls = keras.layers.GlobalMaxPooling2D if spec.mode == "max" else keras.layers.GlobalAveragePooling2D
            built.append(cls(name=row.name))
        elif spec.kind == "flatten":
            built.append(keras.layers.Flatten(name=row.name))
        elif spec.kind == "dense":
            built.append(
                keras.layers.Dense(spec.units, activation=spec.activation, use_bias=spec.use_bias, name=row.name)
            )
        elif spec.kind == "batch_norm":
            built.append(keras.layers.BatchNormalization(name=row.name))
        elif "dropout" in spec.what:
            built.append(keras.layers.Dropout(0.5, name=row.name))
        else:
            built.append(keras.layers.Activation(spec.what, name=row.name))
    return keras.Sequential(built, name=name)
