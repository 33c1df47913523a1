"""Small networks: the lectures' LeNet-5 and MNIST net, and the small nets the notebooks' experiments train.

* :func:`lenet5` / :func:`lenet5_layers`: LeNet-5 (LeCun et al., 1998),
  [CONV-POOL-CONV-POOL-FC-FC]: 5x5 convolutions at stride 1, 2x2 pooling at
  stride 2.
* :func:`mnist_net` / :func:`mnist_net_layers`: the lectures' MNIST example
  network (CS182), the Caffe / PyTorch-example LeNet: conv 20@5x5, max pool,
  conv 50@5x5, max pool, fc 500, fc 10.

  Both are described once as a list of :mod:`lib.anatomy` layer specs
  (``*_layers``), which read like the decks (``Conv(20, 5)``, ``Pool(2)``,
  ``Dense(500)``) and are counted by hand in notebook 02, and built into a Keras
  ``Sequential`` from them; the last layer is a softmax over ``num_classes``.
* :func:`deep_mlp`: a plain stack of ``Dense`` layers to push an
  initialization scheme through (notebook 03).
* :func:`small_cnn`: a small convolutional base to pretrain and fine-tune
  (notebook 09).
* :func:`random_vgg`: a VGG-style stack with random weights, the style-transfer
  feature extractor of the default profile (notebook 11).

Inputs are channels-last; models come uncompiled.

Introduced in notebook 02 (pooling and the anatomy of a CNN).
"""

from __future__ import annotations

import numpy as np

from lib import anatomy, checks

__all__ = [
    "lenet5_layers",
    "lenet5",
    "mnist_net_layers",
    "mnist_net",
    "deep_mlp",
    "small_cnn",
    "random_vgg",
]


# ---------------------------------------------------------------------------
# the lectures' networks, as layer specs
# ---------------------------------------------------------------------------


def _build(model_name: str, input_shape, layers, name: str, what: str):
    shape = checks.image_shape(input_shape)
    try:
        anatomy.walk(shape, layers)
    except ValueError as err:
        side = anatomy.min_input_size(layers, shape[2])
        raise ValueError(
            f"Expected an input of at least {side}x{side} for {model_name} ({what}). "
            f"Received: input_shape={shape} ({err})"
        ) from None
    return anatomy.to_keras(shape, layers, name=name)


def lenet5_layers(
    num_classes: int = 10, activation: str = "tanh", pooling: str = "average", c1_padding: str = "valid"
) -> list:
    """LeNet-5 as :mod:`lib.anatomy` specs: C1 6@5x5, S2 2x2, C3 16@5x5, S4 2x2, C5 120, F6 84, output.

    C5 is a fully connected layer on the flattened S4 maps (on a 32x32 input
    those are 5x5, so a 5x5 convolution there is the same thing). The paper's
    subsampling layers averaged 2x2 windows (then scaled by a trained
    coefficient); ``pooling="max"`` gives the modern variant. ``c1_padding="same"``
    keeps a 28x28 input at 28x28 after C1, as a 32x32 input would give.
    Introduced in notebook 02 (pooling and the anatomy of a CNN).
    """
    num_classes = checks.num_classes(num_classes)
    pooling = checks.one_of(pooling, "pooling", ("max", "average"))
    return [
        anatomy.Conv(6, 5, padding=c1_padding, activation=activation, name="c1"),
        anatomy.Pool(2, 2, mode=pooling, name="s2"),
        anatomy.Conv(16, 5, activation=activation, name="c3"),
        anatomy.Pool(2, 2, mode=pooling, name="s4"),
        anatomy.Flatten(name="flatten"),
        anatomy.Dense(120, activation=activation, name="c5"),
        anatomy.Dense(84, activation=activation, name="f6"),
        anatomy.Dense(num_classes, activation="softmax", name="output"),
    ]


def lenet5(
    input_shape=(32, 32, 1),
    num_classes: int = 10,
    activation: str = "tanh",
    pooling: str = "average",
    c1_padding: str = "valid",
    name: str = "lenet5",
):
    """LeNet-5 as an uncompiled Keras ``Sequential`` (about 60k parameters on 32x32x1).

    Raises ``ValueError`` for ``num_classes < 2`` or an input too small for its
    convolutions and poolings (the message gives the smallest that fits).
    Introduced in notebook 02 (pooling and the anatomy of a CNN).
    """
    layers = lenet5_layers(num_classes, activation, pooling, c1_padding)
    return _build("lenet5", input_shape, layers, name, "two 5x5 convolutions, each followed by 2x2 pooling")


def mnist_net_layers(num_classes: int = 10) -> list:
    """The lectures' MNIST network as :mod:`lib.anatomy` specs.

    conv 20@5x5 + ReLU, 2x2 max pool, conv 50@5x5 + ReLU, 2x2 max pool,
    flatten, fc 500 + ReLU, fc ``num_classes`` + softmax.
    Introduced in notebook 02 (pooling and the anatomy of a CNN).
    """
    num_classes = checks.num_classes(num_classes)
    return [
        anatomy.Conv(20, 5, activation="relu", name="conv1"),
        anatomy.Pool(2, 2, mode="max", name="pool1"),
        anatomy.Conv(50, 5, activation="relu", name="conv2"),
        anatomy.Pool(2, 2, mode="max", name="pool2"),
        anatomy.Flatten(name="flatten"),
        anatomy.Dense(500, activation="relu", name="fc1"),
        anatomy.Dense(num_classes, activation="softmax", name="fc2"),
    ]


def mnist_net(input_shape=(28, 28, 1), num_classes: int = 10, name: str = "mnist_net"):
    """The lectures' MNIST network as an uncompiled Keras ``Sequential`` (431,080 parameters on 28x28x1).

    Raises ``ValueError`` for ``num_classes < 2`` or an input too small for its
    convolutions and poolings (the message gives the smallest that fits).
    Introduced in notebook 02 (pooling and the anatomy of a CNN).
    """
    layers = mnist_net_layers(num_classes)
    return _build("mnist_net", input_shape, layers, name, "two 5x5 convolutions, each followed by 2x2 max pooling")


# ---------------------------------------------------------------------------
# the experiments' small nets
# ---------------------------------------------------------------------------


def deep_mlp(
    input_shape,
    depth: int,
    width: int,
    activation: str = "relu",
    init: str = "kaiming",
    num_classes: int = 10,
    seed: int | None = None,
    name: str | None = None,
):
    """A plain net of ``depth`` ``Dense`` layers: ``depth - 1`` hidden ones of ``width`` units
    with ``activation``, then ``num_classes`` logits (no softmax). Kernels from the
    :mod:`lib.init` scheme ``init`` (layer ``i`` seeded ``seed + i`` when ``seed`` is given),
    biases zero.

    Inputs of more than one axis are flattened first. Introduced in notebook 03.
    """
    import keras

    from lib.init import initializer

    depth, width = checks.positive_int(depth, "depth"), checks.positive_int(width, "width")
    num_classes = checks.num_classes(num_classes)
    initializer(init)  # an unknown scheme fails here, before any layer is made
    input_shape = tuple(input_shape) if isinstance(input_shape, (tuple, list)) else (input_shape,)
    layers = [keras.Input(input_shape, name="inputs")]
    if len(input_shape) > 1:
        layers.append(keras.layers.Flatten(name="flatten"))

    def kernel_init(i):
        return initializer(init, None if seed is None else seed + i)

    for i in range(1, depth):
        layers.append(
            keras.layers.Dense(width, activation=activation, kernel_initializer=kernel_init(i), name=f"dense_{i}")
        )
    layers.append(keras.layers.Dense(num_classes, kernel_initializer=kernel_init(depth), name="logits"))
    return keras.Sequential(layers, name=name or f"mlp_{depth}x{width}_{activation}_{init}")


def small_cnn(input_shape=(32, 32, 3), filters=(16, 32, 64, 128), bn_momentum: float = 0.9, name: str = "base"):
    """A small convolutional base to pretrain in a notebook: blocks ``block{i}_conv/bn/relu(/pool)``.

    Block 1 is a stride-2 3x3 convolution (cheap on a CPU); every later block is
    a 3x3 convolution and 2x2 max pooling. Convolutions have no bias (BatchNorm's
    beta replaces it). Returns the base (feature maps out); put a head on it with
    :func:`lib.transfer.build_transfer_model`.

    Introduced in notebook 09 (transfer learning).
    """
    import keras
    from keras import layers

    shape = checks.image_shape(input_shape)
    if not isinstance(filters, (tuple, list)) or not filters:
        raise ValueError(f"Expected filters to be a non-empty list of positive integers. Received: filters={filters!r}")
    filters = [checks.positive_int(f, "filters") for f in filters]
    inputs = keras.Input(shape, name="image")
    x = inputs
    for i, f in enumerate(filters, start=1):
        x = layers.Conv2D(f, 3, strides=2 if i == 1 else 1, padding="same", use_bias=False, name=f"block{i}_conv")(x)
        x = layers.BatchNormalization(momentum=bn_momentum, name=f"block{i}_bn")(x)
        x = layers.ReLU(name=f"block{i}_relu")(x)
        if i > 1:
            x = layers.MaxPooling2D(name=f"block{i}_pool")(x)
    return keras.Model(inputs, x, name=name)


def random_vgg(
    widths=(32, 64, 128, 256),
    convs_per_block=(1, 1, 2, 2),
    pooling: str = "avg",
    seed: int = 0,
    name: str = "random_vgg",
):
    """A VGG-style stack with random (He-normal) weights, layers named like ``keras.applications.VGG19``.

    Block ``b`` has ``convs_per_block[b-1]`` 3x3 convolutions with ReLU
    (``block{b}_conv{c}``) of ``widths[b-1]`` filters, then a 2x2 pooling
    (``block{b}_pool``; ``"avg"`` as Gatys et al. recommend for synthesis, or
    ``"max"``). The input is RGB in [0, 1], centred by a first
    ``Rescaling(2, -1)`` layer. Kernels are He et al.'s normal (standard
    deviation ``sqrt(2 / fan_in)``), drawn with NumPy from ``seed`` - so the
    network is the same on every Keras backend, whose own random generators
    differ - biases are zero, and nothing is trained. Any image size works
    (``(None, None, 3)`` input). Introduced in notebook 11 (style transfer).
    """
    import keras

    if len(widths) != len(convs_per_block) or not widths:
        raise ValueError(
            f"Expected one number of convolutions per block. Received: widths={widths!r}, "
            f"convs_per_block={convs_per_block!r}"
        )
    pooling = checks.one_of(pooling, "pooling", ("avg", "max"))
    inputs = keras.Input((None, None, 3), name="image")
    x = keras.layers.Rescaling(2.0, -1.0, name="preprocess")(inputs)
    pool = keras.layers.AveragePooling2D if pooling == "avg" else keras.layers.MaxPooling2D
    convolutions = []
    for b, (width, convs) in enumerate(zip(widths, convs_per_block, strict=True), start=1):
        for c in range(1, convs + 1):
            conv = keras.layers.Conv2D(width, 3, padding="same", activation="relu", name=f"block{b}_conv{c}")
            x = conv(x)
            convolutions.append(conv)
        x = pool(2, name=f"block{b}_pool")(x)
    model = keras.Model(inputs, x, name=name)
    rng = np.random.default_rng(seed)
    for conv in convolutions:
        shape = tuple(conv.kernel.shape)
        fan_in = shape[0] * shape[1] * shape[2]
        conv.kernel.assign(rng.normal(0.0, np.sqrt(2.0 / fan_in), size=shape).astype("float32"))
    return model
