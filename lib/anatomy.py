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
  no parameters;
* flatten: ``H * W * D`` values in a row, no parameters;
* dense ``n -> m``: ``(n + 1) * m`` parameters;
* activations: the number of values a layer outputs for one example.

:func:`from_keras` reads a built Keras model's layer configs (not its weights)
into the same specs, so the hand counts can be checked against
``layer.count_params()``; :func:`to_keras` goes the other way.

Introduced in notebook 02 (pooling and the anatomy of a CNN).
"""

from __future__ import annotations

import dataclasses
import math
import numbers

__all__ = [
    "Conv",
    "Pool",
    "GlobalPool",
    "Flatten",
    "Dense",
    "BatchNorm",
    "Elementwise",
    "Row",
    "output_size",
    "walk",
    "totals",
    "format_table",
    "min_input_size",
    "from_keras",
    "count",
    "to_keras",
]


def _pair(value, name: str) -> tuple[int, int]:
    values = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(values) != 2 or any(isinstance(v, bool) or not isinstance(v, numbers.Integral) for v in values):
        raise ValueError(f"Expected {name} to be an int or a pair of ints. Received: {name}={value!r}")
    if any(v < 1 for v in values):
        raise ValueError(f"Expected {name} >= 1. Received: {name}={value!r}")
    return int(values[0]), int(values[1])


def _positive(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"Expected {name} to be a positive integer. Received: {name}={value!r}")
    return int(value)


def _padding(padding) -> str:
    if not isinstance(padding, str) or padding.lower() not in ("valid", "same"):
        raise ValueError(f"Expected padding to be 'valid' or 'same'. Received: padding={padding!r}")
    return padding.lower()


def output_size(input_size: int, window: int, stride: int = 1, padding: str = "valid") -> int:
    """Output length along one axis of a convolution or pooling window (Keras rules).

    ``"valid"``: ``floor((I - F) / S) + 1``, and ``ValueError`` when ``F > I``;
    ``"same"``: ``ceil(I / S)``.

    Introduced in notebook 02 (pooling and the anatomy of a CNN).
    """
    i = _positive(input_size, "input_size")
    f = _positive(window, "window")
    s = _positive(stride, "stride")
    if _padding(padding) == "same":
        return -(-i // s)
    if f > i:
        raise ValueError(f"Window of size {f} does not fit an input of size {i} with padding='valid'")
    return (i - f) // s + 1


# ---------------------------------------------------------------------------
# layer specs
# ---------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Conv:
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
        _positive(self.filters, "filters")
        _pair(self.kernel_size, "kernel_size")
        _pair(self.strides, "strides")
        _padding(self.padding)

    def output_shape(self, shape):
        (kh, kw), (sh, sw) = _pair(self.kernel_size, "kernel_size"), _pair(self.strides, "strides")
        return (output_size(shape[0], kh, sh, self.padding), output_size(shape[1], kw, sw, self.padding),
                self.filters)

    def params(self, shape):
        kh, kw = _pair(self.kernel_size, "kernel_size")
        bias = " + 1" if self.use_bias else ""
        return ((kh * kw * shape[2] + int(self.use_bias)) * self.filters,
                f"({kh}*{kw}*{shape[2]}{bias})*{self.filters}")


@dataclasses.dataclass(frozen=True)
class Pool:
    """Max (``mode="max"``) or average pooling; ``strides=None`` means ``pool_size``.

    Introduced in notebook 02 (pooling and the anatomy of a CNN).
    """

    pool_size: int | tuple = 2
    strides: int | tuple | None = None
    padding: str = "valid"
    mode: str = "max"
    name: str | None = None
    kind = "pool"

    def __post_init__(self):
        _pair(self.pool_size, "pool_size")
        if self.strides is not None:
            _pair(self.strides, "strides")
        _padding(self.padding)
        if self.mode not in ("max", "average"):
            raise ValueError(f"Expected mode to be 'max' or 'average'. Received: mode={self.mode!r}")

    def output_shape(self, shape):
        kh, kw = _pair(self.pool_size, "pool_size")
        sh, sw = (kh, kw) if self.strides is None else _pair(self.strides, "strides")
        return (output_size(shape[0], kh, sh, self.padding), output_size(shape[1], kw, sw, self.padding), shape[2])

    def params(self, shape):
        return 0, "0"


@dataclasses.dataclass(frozen=True)
class GlobalPool:
    """Global max or average pooling: one value per channel.

    Introduced in notebook 02 (pooling and the anatomy of a CNN).
    """

    mode: str = "average"
    name: str | None = None
    kind = "global_pool"

    def __post_init__(self):
        if self.mode not in ("max", "average"):
            raise ValueError(f"Expected mode to be 'max' or 'average'. Received: mode={self.mode!r}")

    def output_shape(self, shape):
        return (shape[-1],)

    def params(self, shape):
        return 0, "0"


@dataclasses.dataclass(frozen=True)
class Flatten:
    """Reshape ``(H, W, D)`` maps into one vector of ``H * W * D`` values.

    Introduced in notebook 02 (pooling and the anatomy of a CNN).
    """

    name: str | None = None
    kind = "flatten"

    def output_shape(self, shape):
        return (math.prod(shape),)

    def params(self, shape):
        return 0, "0"


@dataclasses.dataclass(frozen=True)
class Dense:
    """A fully connected layer of ``units`` on a vector input.

    Introduced in notebook 02 (pooling and the anatomy of a CNN).
    """

    units: int
    use_bias: bool = True
    activation: str | None = None
    name: str | None = None
    kind = "dense"

    def __post_init__(self):
        _positive(self.units, "units")

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
class BatchNorm:
    """Batch normalization over the last axis: gamma, beta, moving mean and variance.

    Introduced in notebook 02 (pooling and the anatomy of a CNN).
    """

    name: str | None = None
    kind = "batch_norm"

    def output_shape(self, shape):
        return tuple(shape)

    def params(self, shape):
        return 4 * shape[-1], f"4*{shape[-1]}"


@dataclasses.dataclass(frozen=True)
class Elementwise:
    """A layer that keeps the shape and has no weights: ``what`` is an activation name or ``"dropout"``.

    Introduced in notebook 02 (pooling and the anatomy of a CNN).
    """

    what: str = "relu"
    name: str | None = None
    kind = "elementwise"

    def output_shape(self, shape):
        return tuple(shape)

    def params(self, shape):
        return 0, "0"


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


def _shape(input_shape) -> tuple:
    shape = tuple(input_shape)
    if len(shape) != 3 or any(isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1 for v in shape):
        raise ValueError(
            f"Expected input_shape (height, width, channels) of positive ints. Received: input_shape={input_shape!r}"
        )
    return tuple(int(v) for v in shape)


def walk(input_shape, layers, include_input: bool = True) -> list[Row]:
    """Push ``input_shape`` (H, W, C) through ``layers`` and count by hand, layer by layer.

    Returns one :class:`Row` per layer (plus an ``input`` row first when
    ``include_input``). Raises ``ValueError`` naming the layer when a window does
    not fit its input, or a dense layer gets maps.

    Introduced in notebook 02 (pooling and the anatomy of a CNN).
    """
    shape = _shape(input_shape)
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
    """A plain-text table of a :func:`walk`, with totals and each layer's share of parameters.

    Introduced in notebook 02 (pooling and the anatomy of a CNN).
    """
    total = totals(rows)
    lines = [f"{'layer':<12} {'output':<15} {'params':>12} {'share':>6}  {'formula':<24} {'activations':>11}"]
    for r in rows:
        share = r.params / total["params"] if total["params"] else 0.0
        shape = "x".join(str(v) for v in r.output_shape)
        lines.append(f"{r.name:<12} {shape:<15} {r.params:>12,} {share:>6.1%}  {r.formula:<24} {r.activations:>11,}")
    lines.append(f"{'total':<12} {'':<15} {total['params']:>12,} {'':>6}  {'':<24} {total['activations']:>11,}")
    return "\n".join(lines)


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
# Keras <-> specs
# ---------------------------------------------------------------------------

_ELEMENTWISE = ("Activation", "ReLU", "LeakyReLU", "ELU", "PReLU", "Softmax", "Dropout", "SpatialDropout2D",
                "GaussianNoise", "GaussianDropout", "AlphaDropout")


def _spec(layer):
    """One Keras layer -> a spec, read from ``get_config()`` only."""
    cls = type(layer).__name__
    cfg = layer.get_config()
    name = cfg.get("name", layer.name)
    if cls == "Conv2D":
        if tuple(cfg.get("dilation_rate", (1, 1))) != (1, 1) or cfg.get("groups", 1) != 1:
            raise ValueError(f"lib.anatomy counts plain convolutions; layer {name!r} is dilated or grouped")
        if cfg.get("data_format", "channels_last") != "channels_last":
            raise ValueError(f"lib.anatomy counts channels_last layers; layer {name!r} is {cfg['data_format']}")
        return Conv(cfg["filters"], tuple(cfg["kernel_size"]), tuple(cfg["strides"]), cfg["padding"],
                    cfg["use_bias"], cfg.get("activation"), name)
    if cls in ("MaxPooling2D", "AveragePooling2D"):
        if cfg.get("data_format", "channels_last") != "channels_last":
            raise ValueError(f"lib.anatomy counts channels_last layers; layer {name!r} is {cfg['data_format']}")
        strides = None if cfg["strides"] is None else tuple(cfg["strides"])
        return Pool(tuple(cfg["pool_size"]), strides, cfg["padding"], "max" if cls.startswith("Max") else "average",
                    name)
    if cls in ("GlobalMaxPooling2D", "GlobalAveragePooling2D"):
        if cfg.get("keepdims"):
            raise ValueError(f"lib.anatomy counts global pooling without keepdims; layer {name!r} keeps them")
        return GlobalPool("max" if "Max" in cls else "average", name)
    if cls == "Flatten":
        return Flatten(name)
    if cls == "Dense":
        return Dense(cfg["units"], cfg["use_bias"], cfg.get("activation"), name)
    if cls == "BatchNormalization":
        if not (cfg.get("center", True) and cfg.get("scale", True)):
            raise ValueError(f"lib.anatomy counts BatchNormalization with center and scale; layer {name!r}")
        return BatchNorm(name)
    if cls == "Activation":
        return Elementwise(cfg["activation"], name)
    if cls in _ELEMENTWISE:
        return Elementwise(cls.lower(), name)
    raise ValueError(f"lib.anatomy does not know how to count layer {name!r} of class {cls}")


def from_keras(model) -> tuple[tuple, list]:
    """``(input_shape, specs)`` read from a built Keras model's layer configs (a plain stack of layers).

    Only configs are read (filters, kernel size, strides, padding, units, ...),
    never weights, so counting the specs is an independent check of
    ``count_params()``. Introduced in notebook 02 (pooling and the anatomy of a CNN).
    """
    import keras

    if not isinstance(model, keras.Model):
        raise ValueError(f"Expected a keras.Model. Received: {type(model).__name__}")
    try:
        shape = tuple(model.inputs[0].shape[1:])
    except (AttributeError, IndexError, ValueError):
        raise ValueError(
            f"Expected a built model with one input. Model '{model.name}' has none: give it a keras.Input"
        ) from None
    if len(model.inputs) != 1:
        raise ValueError(f"Expected a model with one input. Model '{model.name}' has {len(model.inputs)}")
    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    return shape, [_spec(layer) for layer in layers]


def count(model) -> list[Row]:
    """:func:`walk` of :func:`from_keras`: a Keras model's per-layer counts, by hand.

    Introduced in notebook 02 (pooling and the anatomy of a CNN).
    """
    shape, specs = from_keras(model)
    return walk(shape, specs)


def to_keras(input_shape, layers, name: str = "from_spec"):
    """Build the Keras ``Sequential`` model that ``layers`` describe (uncompiled).

    Introduced in notebook 02 (pooling and the anatomy of a CNN).
    """
    import keras

    rows = walk(input_shape, layers, include_input=False)  # validates shapes and fixes names
    built = [keras.Input(shape=_shape(input_shape), name="input")]
    for spec, row in zip(layers, rows):
        if spec.kind == "conv":
            built.append(keras.layers.Conv2D(spec.filters, spec.kernel_size, spec.strides, spec.padding,
                                             activation=spec.activation, use_bias=spec.use_bias, name=row.name))
        elif spec.kind == "pool":
            cls = keras.layers.MaxPooling2D if spec.mode == "max" else keras.layers.AveragePooling2D
            built.append(cls(spec.pool_size, spec.strides, spec.padding, name=row.name))
        elif spec.kind == "global_pool":
            cls = keras.layers.GlobalMaxPooling2D if spec.mode == "max" else keras.layers.GlobalAveragePooling2D
            built.append(cls(name=row.name))
        elif spec.kind == "flatten":
            built.append(keras.layers.Flatten(name=row.name))
        elif spec.kind == "dense":
            built.append(keras.layers.Dense(spec.units, activation=spec.activation, use_bias=spec.use_bias,
                                            name=row.name))
        elif spec.kind == "batch_norm":
            built.append(keras.layers.BatchNormalization(name=row.name))
        elif "dropout" in spec.what:
            built.append(keras.layers.Dropout(0.5, name=row.name))
        else:
            built.append(keras.layers.Activation(spec.what, name=row.name))
    return keras.Sequential(built, name=name)
