"""Convolution arithmetic: output sizes, parameter counts and compute cost.

Two conventions for counting compute are in use, and this module names both:

* **MACs** (multiply-accumulates): one multiplication plus one addition into
  an accumulator. A convolution layer costs ``D1 x F^2 x D2 x H2 x W2`` MACs
  (``D1`` input channels, ``F x F`` kernel, ``D2`` filters, ``H2 x W2`` output
  positions). This is the UPV deck's "cost" ``N x O_R x O_C x K_r x K_c x K_M``
  and the papers' "FLOPs" (ResNet's "3.8 billion FLOPs" are multiply-adds).
* **FLOPs** as the NTU deck counts them: every multiplication and every
  addition, ``[(D1 F^2) + (D1 F^2 - 1) + 1] x D2 x H2 x W2 = 2 x D1 x F^2 x D2
  x H2 x W2`` (the ``+ 1`` is the bias). So FLOPs = 2 x MACs for convolution
  and dense layers.

FLOPs (floating point operations) are a count, not FLOPS (per second).

:func:`profile` walks a built Keras model and tabulates, for every layer, its
parameters, MACs, FLOPs and activation count; :func:`summarize` totals them.

Introduced in notebook 01 (convolution). :func:`profile` is also used in notebook 08.
"""

from __future__ import annotations

import dataclasses
import math

from lib import checks

__all__ = [
    "conv_output_size",
    "same_padding",
    "conv2d_output_shape",
    "receptive_field",
    "conv2d_params",
    "conv2d_macs",
    "conv2d_flops",
    "conv2d_cost",
    "dense_params",
    "dense_macs",
    "dense_flops",
    "depthwise_params",
    "depthwise_macs",
    "depthwise_flops",
    "pointwise_params",
    "pointwise_macs",
    "pointwise_flops",
    "separable_params",
    "separable_macs",
    "separable_flops",
    "separable_cost_ratio",
    "stack_vs_single_params",
    "LayerProfile",
    "profile",
    "summarize",
    "format_profile",
]


def _area(value, name: str) -> int:
    a, b = checks.int_pair(value, name)
    return a * b


# ---------------------------------------------------------------------------
# output sizes
# ---------------------------------------------------------------------------


def _axis(input_size, kernel_size, stride, dilation) -> tuple[int, int, int, int]:
    """Input size, kernel size, stride and dilation of one axis, each checked to be a positive integer."""
    return (
        checks.positive_int(input_size, "input_size"),
        checks.positive_int(kernel_size, "kernel_size"),
        checks.positive_int(stride, "strides"),
        checks.positive_int(dilation, "dilation_rate"),
    )


def conv_output_size(input_size: int, kernel_size: int, stride: int = 1, padding="valid", dilation: int = 1) -> int:
    """Output length of a convolution along one axis.

    ``O = floor((I + 2P - K_eff) / S) + 1`` with ``K_eff = dilation x (K - 1) + 1``
    (the UPV deck's ``floor((I_R + 2 pad - k_r) / stride_r + 1)``).

    ``padding`` is ``"valid"`` (P = 0), ``"same"`` (Keras/TensorFlow: the output is
    ``ceil(I / S)`` whatever the kernel, zeros added as needed), a non-negative
    int ``P`` added on *both* sides, or a pair ``(before, after)``.

    Raises ``ValueError`` for non-positive sizes, ``stride < 1``, negative padding
    and a kernel larger than the padded input.

    Introduced in notebook 01 (convolution).
    """
    i, k, s, d = _axis(input_size, kernel_size, stride, dilation)
    k_eff = d * (k - 1) + 1
    if isinstance(padding, str):
        if padding == "same":
            return -(-i // s)
        if padding != "valid":
            raise ValueError(
                f"Expected padding to be 'valid', 'same', a non-negative int or a pair. Received: padding={padding!r}"
            )
        total = 0
    elif isinstance(padding, (tuple, list)) and len(padding) == 2:
        total = sum(checks.non_negative_int(p, "padding") for p in padding)
    else:
        total = 2 * checks.non_negative_int(padding, "padding")
    if k_eff > i + total:
        raise ValueError(
            f"Kernel of size {k_eff} is larger than the padded input ({i + total}). "
            f"Received: input_size={i}, kernel_size={k}, dilation={d}, padding={padding!r}"
        )
    return (i + total - k_eff) // s + 1


def same_padding(input_size: int, kernel_size: int, stride: int = 1, dilation: int = 1) -> tuple[int, int]:
    """Zeros added (before, after) along one axis by Keras/TensorFlow ``padding="same"``.

    The output has ``ceil(I / S)`` positions; the total padding is
    ``max((O - 1) S + K_eff - I, 0)``, split with the extra zero (when odd) at the
    end: TensorFlow pads more at the bottom/right. E.g. ``same_padding(8, 2)`` is
    ``(0, 1)`` and ``same_padding(8, 3, stride=2)`` is ``(0, 1)``.

    Introduced in notebook 01 (convolution).
    """
    i, k, s, d = _axis(input_size, kernel_size, stride, dilation)
    k_eff = d * (k - 1) + 1
    out = -(-i // s)
    total = max((out - 1) * s + k_eff - i, 0)
    return (total // 2, total - total // 2)


def conv2d_output_shape(input_shape, kernel_size, stride=1, padding="valid", dilation=1) -> tuple[int, int]:
    """``(H2, W2)`` of a 2D convolution over an ``(H, W)`` input.

    ``kernel_size``, ``stride`` and ``dilation`` are ints or pairs; ``padding`` as
    in :func:`conv_output_size` (an int or ``"valid"``/``"same"``, same on both axes).

    Introduced in notebook 01 (convolution).
    """
    h, w = checks.int_pair(input_shape, "input_shape")
    kh, kw = checks.int_pair(kernel_size, "kernel_size")
    sh, sw = checks.int_pair(stride, "strides")
    dh, dw = checks.int_pair(dilation, "dilation_rate")
    return (conv_output_size(h, kh, sh, padding, dh), conv_output_size(w, kw, sw, padding, dw))


def receptive_field(kernel_sizes, strides=None) -> int:
    """Receptive field (in input pixels, along one axis) of a stack of convolutions.

    ``r = 1 + sum_l (K_l - 1) x prod_{m<l} S_m``. Three stacked 3x3 stride-1
    convolutions see 7 pixels, like one 7x7.

    Introduced in notebook 01 (convolution).
    """
    kernel_sizes = list(kernel_sizes)
    if not kernel_sizes:
        raise ValueError("Expected at least one kernel size. Received an empty list")
    strides = [1] * len(kernel_sizes) if strides is None else list(strides)
    if len(strides) != len(kernel_sizes):
        raise ValueError(
            f"Expected one stride per kernel. Received {len(kernel_sizes)} kernel sizes and {len(strides)} strides"
        )
    r, jump = 1, 1
    for k, s in zip(kernel_sizes, strides, strict=True):
        k = checks.positive_int(k, "kernel_size")
        r += (k - 1) * jump
        jump *= checks.positive_int(s, "strides")
    return r


# ---------------------------------------------------------------------------
# standard convolution
# ---------------------------------------------------------------------------


def conv2d_params(in_channels: int, out_channels: int, kernel_size, use_bias: bool = True, groups: int = 1) -> int:
    """Weights of a ``Conv2D`` layer: ``F_h x F_w x (D1 / groups) x D2`` (+ ``D2`` biases).

    Ten 3x5x5 filters: ``(5 x 5 x 3 + 1) x 10 = 760``.

    Introduced in notebook 01 (convolution).
    """
    d1 = checks.positive_int(in_channels, "in_channels")
    d2 = checks.positive_int(out_channels, "out_channels")
    g = _groups(d1, d2, groups)
    return _area(kernel_size, "kernel_size") * (d1 // g) * d2 + (d2 if use_bias else 0)


def _groups(d1: int, d2: int, groups) -> int:
    g = checks.positive_int(groups, "groups")
    if d1 % g or d2 % g:
        raise ValueError(
            f"Expected in_channels and out_channels divisible by groups. "
            f"Received: in_channels={d1}, out_channels={d2}, groups={g}"
        )
    return g


def _out_positions(output_size) -> int:
    return _area(output_size, "output_size")


def conv2d_macs(in_channels: int, out_channels: int, kernel_size, output_size, groups: int = 1) -> int:
    """Multiply-accumulates of a 2D convolution: ``D1 x F^2 x D2 x H2 x W2`` (divided by ``groups``).

    ``output_size`` is ``H2`` (square) or ``(H2, W2)``. This is the UPV deck's
    cost ``N x O_R x O_C x K_r x K_c x K_M`` and what papers call FLOPs.

    Introduced in notebook 01 (convolution).
    """
    d1 = checks.positive_int(in_channels, "in_channels")
    d2 = checks.positive_int(out_channels, "out_channels")
    g = _groups(d1, d2, groups)
    return (d1 // g) * _area(kernel_size, "kernel_size") * d2 * _out_positions(output_size)


def conv2d_flops(in_channels: int, out_channels: int, kernel_size, output_size, groups: int = 1) -> int:
    """FLOPs of a 2D convolution as the NTU deck counts them: ``2 x D1 x F^2 x D2 x H2 x W2``.

    ``D1 F^2`` multiplications, ``D1 F^2 - 1`` additions and one bias addition
    per output value, i.e. 2 x :func:`conv2d_macs`. One 5x5 filter over a
    3x32x32 volume (output 1x28x28): 117,600.

    Introduced in notebook 01 (convolution).
    """
    return 2 * conv2d_macs(in_channels, out_channels, kernel_size, output_size, groups)


def conv2d_cost(input_shape, filters: int, kernel_size, stride=1, padding="valid", use_bias: bool = True) -> dict:
    """Everything about one ``Conv2D`` layer from its input ``(H, W, C)``.

    Returns ``{"output_shape": (H2, W2, filters), "params", "macs", "flops"}``.
    The UPV exercise (input 32@64x64, 64 filters of 5x5, ``"same"``):
    ``conv2d_cost((64, 64, 32), 64, 5, padding="same")["macs"] == 209_715_200``.

    Introduced in notebook 01 (convolution).
    """
    h, w, c = checks.image_shape(input_shape)
    d2 = checks.positive_int(filters, "filters")
    h2, w2 = conv2d_output_shape((h, w), kernel_size, stride, padding)
    return {
        "output_shape": (h2, w2, d2),
        "params": conv2d_params(c, d2, kernel_size, use_bias),
        "macs": conv2d_macs(c, d2, kernel_size, (h2, w2)),
        "flops": conv2d_flops(c, d2, kernel_size, (h2, w2)),
    }


# ---------------------------------------------------------------------------
# dense, pointwise, depthwise, separable
# ---------------------------------------------------------------------------


def dense_params(in_features: int, units: int, use_bias: bool = True) -> int:
    """Weights of a ``Dense`` layer: ``in x units`` (+ ``units`` biases).

    Introduced in notebook 01 (convolution).
    """
    units = checks.positive_int(units, "units")
    return checks.positive_int(in_features, "in_features") * units + (units if use_bias else 0)


def dense_macs(in_features: int, units: int) -> int:
    """Multiply-accumulates of a ``Dense`` layer on one input vector: ``in x units``.

    Introduced in notebook 01 (convolution).
    """
    return checks.positive_int(in_features, "in_features") * checks.positive_int(units, "units")


def dense_flops(in_features: int, units: int) -> int:
    """FLOPs of a ``Dense`` layer on one input vector: ``2 x in x units`` (bias included).

    Introduced in notebook 01 (convolution).
    """
    return 2 * dense_macs(in_features, units)


def pointwise_params(in_channels: int, out_channels: int, use_bias: bool = True) -> int:
    """Weights of a 1x1 ("pointwise") convolution: ``D1 x D2`` (+ ``D2``).

    Introduced in notebook 01 (convolution).
    """
    return conv2d_params(in_channels, out_channels, 1, use_bias)


def pointwise_macs(in_channels: int, out_channels: int, output_size) -> int:
    """MACs of a 1x1 convolution: ``D1 x D2 x H2 x W2``.

    Introduced in notebook 01 (convolution).
    """
    return conv2d_macs(in_channels, out_channels, 1, output_size)


def pointwise_flops(in_channels: int, out_channels: int, output_size) -> int:
    """FLOPs of a 1x1 convolution (NTU deck): ``(2 x D1) x D2 x H2 x W2``.

    Introduced in notebook 01 (convolution).
    """
    return 2 * pointwise_macs(in_channels, out_channels, output_size)


def depthwise_params(in_channels: int, kernel_size, depth_multiplier: int = 1, use_bias: bool = True) -> int:
    """Weights of a ``DepthwiseConv2D``: ``F^2 x D1 x M`` (+ ``D1 x M`` biases).

    One ``F x F`` filter per input channel (``M`` per channel with a depth multiplier).

    Introduced in notebook 01 (convolution).
    """
    d1 = checks.positive_int(in_channels, "in_channels")
    m = checks.positive_int(depth_multiplier, "depth_multiplier")
    return _area(kernel_size, "kernel_size") * d1 * m + (d1 * m if use_bias else 0)


def depthwise_macs(in_channels: int, kernel_size, output_size, depth_multiplier: int = 1) -> int:
    """MACs of a depthwise convolution: ``F^2 x D1 x M x H2 x W2``.

    Introduced in notebook 01 (convolution).
    """
    d1 = checks.positive_int(in_channels, "in_channels")
    m = checks.positive_int(depth_multiplier, "depth_multiplier")
    return _area(kernel_size, "kernel_size") * d1 * m * _out_positions(output_size)


def depthwise_flops(in_channels: int, kernel_size, output_size, depth_multiplier: int = 1) -> int:
    """FLOPs of a depthwise convolution (NTU deck): ``(2 x F^2) x D1 x H2 x W2``.

    Introduced in notebook 01 (convolution).
    """
    return 2 * depthwise_macs(in_channels, kernel_size, output_size, depth_multiplier)


def separable_params(
    in_channels: int, out_channels: int, kernel_size, depth_multiplier: int = 1, use_bias: bool = True
) -> int:
    """Weights of a ``SeparableConv2D``: depthwise ``F^2 D1 M`` + pointwise ``D1 M D2`` (+ ``D2``).

    Keras puts the bias only after the pointwise step.

    Introduced in notebook 01 (convolution).
    """
    d1 = checks.positive_int(in_channels, "in_channels")
    m = checks.positive_int(depth_multiplier, "depth_multiplier")
    return depthwise_params(d1, kernel_size, m, use_bias=False) + pointwise_params(d1 * m, out_channels, use_bias)


def separable_macs(in_channels: int, out_channels: int, kernel_size, output_size, depth_multiplier: int = 1) -> int:
    """MACs of depthwise + pointwise: ``F^2 D1 M H2 W2 + D1 M D2 H2 W2``.

    Introduced in notebook 01 (convolution).
    """
    d1 = checks.positive_int(in_channels, "in_channels")
    m = checks.positive_int(depth_multiplier, "depth_multiplier")
    return depthwise_macs(d1, kernel_size, output_size, m) + pointwise_macs(d1 * m, out_channels, output_size)


def separable_flops(in_channels: int, out_channels: int, kernel_size, output_size, depth_multiplier: int = 1) -> int:
    """FLOPs of depthwise + pointwise (NTU deck): ``2 F^2 D1 H2 W2 + 2 D1 D2 H2 W2``.

    Introduced in notebook 01 (convolution).
    """
    return 2 * separable_macs(in_channels, out_channels, kernel_size, output_size, depth_multiplier)


def separable_cost_ratio(out_channels: int, kernel_size) -> float:
    """Cost of depthwise + pointwise over a standard convolution: ``1/D2 + 1/F^2``.

    Independent of the input channels and spatial size (depth multiplier 1).
    With 3x3 kernels and many filters it approaches 1/9, "roughly 1/8-1/9".

    Introduced in notebook 01 (convolution).
    """
    return 1 / checks.positive_int(out_channels, "out_channels") + 1 / _area(kernel_size, "kernel_size")


def stack_vs_single_params(channels: int, depth: int = 3, small_kernel: int = 3, large_kernel: int = 7) -> dict:
    """Weights of ``depth`` stacked ``small x small`` convs vs one ``large x large`` conv.

    ``C`` channels in and out, no bias: three 3x3 layers hold ``3 x 3^2 x C^2 =
    27 C^2`` weights, one 7x7 layer ``49 C^2`` (81% more), and both see a 7x7
    receptive field. Returns ``{"stacked", "single", "ratio" (single/stacked),
    "stacked_receptive_field", "single_receptive_field"}``.

    Introduced in notebook 01 (convolution).
    """
    c = checks.positive_int(channels, "channels")
    depth = checks.positive_int(depth, "depth")
    stacked = depth * conv2d_params(c, c, small_kernel, use_bias=False)
    single = conv2d_params(c, c, large_kernel, use_bias=False)
    return {
        "stacked": stacked,
        "single": single,
        "ratio": single / stacked,
        "stacked_receptive_field": receptive_field([small_kernel] * depth),
        "single_receptive_field": receptive_field([large_kernel]),
    }


# ---------------------------------------------------------------------------
# profiling a Keras model
# ---------------------------------------------------------------------------


@dataclasses.dataclass
class LayerProfile:
    """One row of :func:`profile`: a layer's cost (summed over all its calls).

    ``flops`` is 2 x ``macs`` for convolution and dense layers; other layers
    have ``macs = 0`` and the elementwise/reduction operations they do as
    ``flops`` (see :func:`profile`). ``activations`` is the number of output
    values per example. ``calls`` is how many times the layer runs in one
    forward pass (shared layers and models); params are counted once.

    Introduced in notebook 01 (convolution). Also used in notebook 08.
    """

    name: str
    type: str
    output_shape: tuple
    params: int
    macs: int
    flops: int
    activations: int
    calls: int = 1
    note: str = ""


def _shape(tensor) -> tuple:
    return tuple(tensor.shape)


def _elements(shape: tuple, layer) -> int:
    dims = shape[1:]
    if any(d is None for d in dims):
        raise ValueError(
            f"profile() needs fully defined shapes, but layer '{layer.name}' ({type(layer).__name__}) "
            f"has output shape {shape}. Build the model with a fixed input size, e.g. keras.Input((224, 224, 3))."
        )
    return math.prod(dims)


def _layer_calls(model):
    """[(layer, [(input shapes, output shapes), ...])] for the layers of a Functional/Sequential model.

    Uses the model's graph (``_nodes_by_depth``, the one private attribute this
    module relies on) so that shared layers are counted once per call; falls
    back to the public ``layer.input``/``layer.output``.
    """
    graph = model if hasattr(model, "_nodes_by_depth") else getattr(model, "_functional", None)
    order = {id(layer): i for i, layer in enumerate(model.layers)}
    calls = {id(layer): [] for layer in model.layers}
    if graph is not None and hasattr(graph, "_nodes_by_depth"):
        for depth in sorted(graph._nodes_by_depth, reverse=True):
            for node in graph._nodes_by_depth[depth]:
                op = node.operation
                if id(op) in calls:
                    ins = [_shape(t) for t in node.input_tensors] or [_shape(t) for t in node.output_tensors]
                    outs = [_shape(t) for t in node.output_tensors]
                    calls[id(op)].append((ins, outs))
    for layer in model.layers:
        if not calls[id(layer)]:
            try:
                ins = layer.input if isinstance(layer.input, (list, tuple)) else [layer.input]
                outs = layer.output if isinstance(layer.output, (list, tuple)) else [layer.output]
            except (AttributeError, ValueError) as err:
                raise ValueError(
                    f"profile() could not find the input/output shapes of layer '{layer.name}' "
                    f"({type(layer).__name__}): {err}. Profile a built Functional or Sequential model."
                ) from err
            calls[id(layer)].append(([_shape(t) for t in ins], [_shape(t) for t in outs]))
    layers = sorted(model.layers, key=lambda layer: order[id(layer)])
    return [(layer, calls[id(layer)]) for layer in layers]


def _layer_cost(layer, ins: list, outs: list) -> tuple[int, int, int, str]:
    """(params, macs, flops, note) of one call of a non-model layer."""
    from keras import layers as L

    out_elems = sum(_elements(s, layer) for s in outs)
    x_in, y = ins[0], outs[0]

    def spatial(shape):
        return _elements(shape[:-1] + (1,), layer)

    if isinstance(layer, L.InputLayer):
        return 0, 0, 0, ""
    if isinstance(layer, (L.Conv1DTranspose, L.Conv2DTranspose, L.Conv3DTranspose)):
        k = math.prod(layer.kernel_size)
        c_in, c_out = x_in[-1], y[-1]
        params = k * c_in * c_out + (c_out if layer.use_bias else 0)
        macs = spatial(x_in) * c_in * k * c_out
        return params, macs, 2 * macs, "macs = input positions x C_in x K x C_out"
    if isinstance(layer, (L.SeparableConv1D, L.SeparableConv2D)):
        k = math.prod(layer.kernel_size)
        c_in, m, c_out = x_in[-1], layer.depth_multiplier, y[-1]
        params = k * c_in * m + c_in * m * c_out + (c_out if layer.use_bias else 0)
        macs = spatial(y) * (k * c_in * m + c_in * m * c_out)
        return params, macs, 2 * macs, ""
    if isinstance(layer, (L.DepthwiseConv1D, L.DepthwiseConv2D)):
        k = math.prod(layer.kernel_size)
        c_in, m = x_in[-1], layer.depth_multiplier
        params = k * c_in * m + (c_in * m if layer.use_bias else 0)
        macs = out_elems * k
        return params, macs, 2 * macs, ""
    if isinstance(layer, (L.Conv1D, L.Conv2D, L.Conv3D)):
        if layer.data_format != "channels_last":
            raise ValueError(
                f"profile() supports channels_last convolutions only. Layer '{layer.name}' is channels_first"
            )
        k = math.prod(layer.kernel_size)
        c_in, c_out, g = x_in[-1], y[-1], layer.groups
        params = k * (c_in // g) * c_out + (c_out if layer.use_bias else 0)
        macs = out_elems * k * (c_in // g)
        return params, macs, 2 * macs, ""
    if isinstance(layer, L.Dense):
        c_in = x_in[-1]
        params = c_in * layer.units + (layer.units if layer.use_bias else 0)
        macs = out_elems * c_in
        return params, macs, 2 * macs, ""
    if isinstance(layer, L.BatchNormalization):
        c = x_in[layer.axis] if isinstance(layer.axis, int) else math.prod(x_in[a] for a in layer.axis)
        params = c * (2 + int(layer.center) + int(layer.scale))
        return params, 0, 2 * out_elems, "inference: one multiply and one add per value (folded)"
    if isinstance(layer, (L.MaxPooling1D, L.MaxPooling2D, L.MaxPooling3D)):
        k = math.prod(layer.pool_size)
        return 0, 0, out_elems * (k - 1), "K - 1 comparisons per output"
    if isinstance(layer, (L.AveragePooling1D, L.AveragePooling2D, L.AveragePooling3D)):
        k = math.prod(layer.pool_size)
        return 0, 0, out_elems * k, "K - 1 adds and 1 divide per output"
    if isinstance(layer, (L.GlobalAveragePooling1D, L.GlobalAveragePooling2D, L.GlobalAveragePooling3D)):
        return 0, 0, _elements(x_in, layer), "adds and one divide per channel"
    if isinstance(layer, (L.GlobalMaxPooling1D, L.GlobalMaxPooling2D, L.GlobalMaxPooling3D)):
        return 0, 0, _elements(x_in, layer) - out_elems, "comparisons"
    if isinstance(layer, (L.Add, L.Subtract, L.Multiply, L.Maximum, L.Minimum)):
        return 0, 0, (len(ins) - 1) * out_elems, ""
    if isinstance(layer, L.Average):
        return 0, 0, len(ins) * out_elems, ""
    if isinstance(layer, (L.Activation, L.ReLU, L.LeakyReLU, L.ELU, L.Softmax)):
        return 0, 0, out_elems, "nominal: 1 FLOP per value"
    if isinstance(layer, (L.Rescaling, L.Normalization)):
        return layer.count_params(), 0, 2 * out_elems, "one multiply and one add per value"
    if isinstance(
        layer,
        (
            L.Concatenate,
            L.Flatten,
            L.Reshape,
            L.Permute,
            L.Dropout,
            L.SpatialDropout1D,
            L.SpatialDropout2D,
            L.SpatialDropout3D,
            L.GaussianNoise,
            L.GaussianDropout,
            L.ZeroPadding1D,
            L.ZeroPadding2D,
            L.ZeroPadding3D,
            L.Cropping1D,
            L.Cropping2D,
            L.Cropping3D,
            L.Identity,
            L.UpSampling1D,
            L.UpSampling2D,
            L.UpSampling3D,
            L.RepeatVector,
            L.ActivityRegularization,
        ),
    ):
        return 0, 0, 0, ""
    if not layer.weights:
        return 0, 0, 0, "not counted (no cost rule for this weightless layer)"
    raise ValueError(
        f"profile() has no cost rule for layer '{layer.name}' of class {type(layer).__name__} "
        f"({layer.count_params()} parameters). Supported: convolutions (incl. depthwise, separable, "
        "transposed), Dense, BatchNormalization, pooling, merging, activation, reshaping and "
        "preprocessing layers, and nested Functional/Sequential models."
    )


def profile(model, *, include_input: bool = True) -> list[LayerProfile]:
    """Per-layer parameters, MACs, FLOPs and activation counts of a built Keras model.

    Walks ``model.layers`` in order and recurses into nested Functional and
    Sequential models (their rows are named ``outer/inner``). Shapes are taken
    without the batch axis: costs are per example. A layer called ``n`` times
    (shared) has its MACs, FLOPs and activations multiplied by ``n`` and its
    parameters counted once.

    Counting rules:

    * Convolutions (1D/2D/3D, grouped, depthwise, separable, transposed) and
      ``Dense``: MACs as in :func:`conv2d_macs` and friends; FLOPs = 2 x MACs
      (NTU convention; the bias is the ``+1``). Fused activations are not counted.
    * ``BatchNormalization``: 2 FLOPs per value (inference, scale and shift folded).
    * Max pooling: ``K - 1`` comparisons per output; average pooling: ``K``
      (adds and a divide); global pooling: one per input value.
    * ``Add``/``Multiply``/...: ``(inputs - 1)`` per output value.
    * Activation layers: a nominal 1 FLOP per value; ``Rescaling``/``Normalization``: 2.
    * Reshaping, padding, cropping, concatenation, dropout and noise layers: 0.
    * Any other weightless layer: 0, with a note. Any other layer with weights:
      ``ValueError`` naming its class (rather than a silently wrong total).

    Parameters computed by these rules are checked against
    ``layer.count_params()``; a mismatch (a subclass with extra weights) raises.

    Introduced in notebook 01 (convolution). Also used in notebook 08.
    """
    import keras

    if not isinstance(model, keras.Model):
        raise ValueError(f"Expected a keras.Model. Received: {type(model).__name__}")
    if not model.built:
        raise ValueError(
            f"Expected a built model. Model '{model.name}' is not built: give it a keras.Input "
            "or call model.build(input_shape) first"
        )
    rows = _profile(model, "", 1, include_input)
    if include_input and not any(r.type == "InputLayer" for r in rows):
        # Sequential models do not list their InputLayer; add its row like a Functional model's.
        for tensor in model.inputs or []:
            shape = _shape(tensor)
            size = _elements(shape, model)
            name = getattr(tensor, "name", None) or "input"
            name = "input" if name.startswith("keras_tensor") else name
            rows.insert(0, LayerProfile(name, "InputLayer", shape, 0, 0, 0, size))
    return rows


def _profile(model, prefix: str, multiplier: int, include_input: bool) -> list[LayerProfile]:
    import keras

    rows: list[LayerProfile] = []
    for layer, calls in _layer_calls(model):
        name = prefix + layer.name
        if isinstance(layer, keras.Model):
            rows.extend(_profile(layer, name + "/", multiplier * len(calls), include_input=False))
            continue
        if isinstance(layer, keras.layers.InputLayer) and not include_input:
            continue
        total = [0, 0, 0]
        params, note = 0, ""
        for ins, outs in calls:
            params, macs, flops, note = _layer_cost(layer, ins, outs)
            total[0] += macs
            total[1] += flops
            total[2] += sum(_elements(s, layer) for s in outs)
        if params != layer.count_params():
            raise ValueError(
                f"profile() counted {params} parameters for layer '{layer.name}' ({type(layer).__name__}) "
                f"but it holds {layer.count_params()}: its cost rule does not fit this layer"
            )
        out = calls[0][1]
        rows.append(
            LayerProfile(
                name=name,
                type=type(layer).__name__,
                output_shape=out[0] if len(out) == 1 else tuple(out),
                params=params,
                macs=total[0] * multiplier,
                flops=total[1] * multiplier,
                activations=total[2] * multiplier,
                calls=len(calls) * multiplier,
                note=note,
            )
        )
    return rows


def summarize(rows: list[LayerProfile]) -> dict:
    """Totals of a :func:`profile` table: ``{"layers", "params", "macs", "flops", "activations"}``.

    ``activations`` excludes the input layer (it counts what the layers produce).

    Introduced in notebook 01 (convolution). Also used in notebook 08.
    """
    rows = list(rows)
    return {
        "layers": sum(1 for r in rows if r.type != "InputLayer"),
        "params": sum(r.params for r in rows),
        "macs": sum(r.macs for r in rows),
        "flops": sum(r.flops for r in rows),
        "activations": sum(r.activations for r in rows if r.type != "InputLayer"),
    }


def format_profile(rows: list[LayerProfile], max_rows: int | None = None) -> str:
    """A plain-text table of a :func:`profile` (with a totals line), printed through :func:`lib.viz.table`.

    ``max_rows`` keeps the first and last rows of long models.

    Introduced in notebook 01 (convolution). Also used in notebook 08.
    """
    from lib.viz import table

    rows = list(rows)
    shown = rows
    if max_rows is not None and len(rows) > max_rows:
        half = max(max_rows // 2, 1)
        shown = rows[:half] + [None] + rows[-half:]
    numbers = ("params", "MACs", "FLOPs", "activations")
    lines = []
    for r in shown:
        if r is None:
            lines.append({"layer": "...", "type": "", "output shape": "", **dict.fromkeys(numbers, "")})
            continue
        nested = r.output_shape and isinstance(r.output_shape[0], tuple)
        shape = str(r.output_shape) if nested else "x".join(str(d) for d in r.output_shape[1:])
        lines.append(
            {
                "layer": r.name,
                "type": r.type,
                "output shape": shape,
                **dict(zip(numbers, (f"{v:,}" for v in (r.params, r.macs, r.flops, r.activations)))),
            }
        )
    totals = summarize(rows)
    lines.append(
        {
            "layer": "total",
            "type": f"{totals['layers']} layers",
            "output shape": "",
            **dict(zip(numbers, (f"{totals[k]:,}" for k in ("params", "macs", "flops", "activations")))),
        }
    )
    return table(lines, right=numbers)
