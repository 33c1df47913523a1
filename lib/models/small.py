"""Small networks: the lectures' LeNet-5 and MNIST net, and the small nets the notebooks' experiments train.

* :func:`lenet5` / :func:`lenet5_layers`: LeNet-5 (LeCun et al., 1998),
  [CONV-POOL-CONV-POOL-FC-FC]: 5x5 convolutions at stride 1, 2x2 pooling at
  stride 2.
* :func:`mnist_net` / :func:`mnist_net_layers`: the lectures' MNIST example
  network (CS182), the Caffe / PyTorch-example LeNet: conv 20@5x5, max pool,
  conv 50@5x5, max pool, fc 500, fc 10.

  :class:`LeNetSubsampling` is LeNet-5's subsampling layer as the paper has it
  (each window's sum times a trainable coefficient, plus a trainable bias, then
  the squashing function): ``lenet5(pooling="subsample")``.
* :func:`subsampling_net`: the small nets of notebook 02's shift experiment -
  the same three convolutions, subsampled by max pooling or by strided
  convolutions, read out by flatten + dense or by global pooling.

  The lectures' networks are described once as a list of :mod:`lib.anatomy` layer specs
  (``*_layers``), which read like the decks (``Conv(20, 5)``, ``Pool(2)``,
  ``Dense(500)``) and are counted by hand in notebook 02, and built into a Keras
  ``Sequential`` from them; the last layer is a softmax over ``num_classes``.
* :func:`deep_mlp`: a plain stack of ``Dense`` layers to push an
  initialization scheme through (notebook 03); :func:`deep_cnn`, its
  convolutional twin; :func:`tower_mlp`, many such MLPs side by side in one
  model, with :func:`set_tower_weights` and :func:`tower_loss` (notebook 03).
* :func:`small_cnn`: a small convolutional base to pretrain and fine-tune
  (notebook 09).
* :func:`random_vgg`: a VGG-style stack with random weights, what style transfer
  gets from features that were never trained (notebook 11).

Inputs are channels-last; models come uncompiled.

Introduced in notebook 02 (pooling and the anatomy of a CNN).
"""

from __future__ import annotations

import keras
import numpy as np

from lib import anatomy, checks

# fmt: off
__all__ = [
    "LeNetSubsampling", "subsampling_net", "lenet5_layers", "lenet5", "mnist_net_layers", "mnist_net", "deep_mlp",
    "deep_cnn", "tower_mlp", "set_tower_weights", "tower_loss", "small_cnn", "random_vgg", "mnist_convnet",
]
# fmt: on


# ---------------------------------------------------------------------------
# the lectures' networks, as layer specs
# ---------------------------------------------------------------------------


def _build(model_name: str, input_shape, layers, name: str, what: str, make_layer=None):
    shape = checks.image_shape(input_shape)
    try:
        anatomy.walk(shape, layers)
    except ValueError as err:
        side = anatomy.min_input_size(layers, shape[2])
        raise ValueError(
            f"Expected an input of at least {side}x{side} for {model_name} ({what}). "
            f"Received: input_shape={shape} ({err})"
        ) from None
    return anatomy.to_keras(shape, layers, name=name, make_layer=make_layer)


def lenet5_layers(
    num_classes: int = 10, activation: str = "tanh", pooling: str = "average", c1_padding: str = "valid"
) -> list:
    """LeNet-5 as :mod:`lib.anatomy` specs: C1 6@5x5, S2 2x2, C3 16@5x5, S4 2x2, C5 120, F6 84, output.

    C5 is a fully connected layer on the flattened S4 maps (on a 32x32 input
    those are 5x5, so a 5x5 convolution there is the same thing). The paper's
    subsampling layers add each 2x2 window, multiply by a trainable coefficient,
    add a trainable bias and squash: ``pooling="subsample"`` (:class:`LeNetSubsampling`,
    squashed by ``activation``); ``"average"`` (the default) drops the two
    parameters and the squashing, ``"max"`` gives the modern variant. ``c1_padding="same"``
    keeps a 28x28 input at 28x28 after C1, as a 32x32 input would give.
    Introduced in notebook 02 (pooling and the anatomy of a CNN).
    """
    num_classes = checks.num_classes(num_classes)
    pooling = checks.one_of(pooling, "pooling", ("max", "average", "subsample"))
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

    def make_layer(spec, layer_name):
        if spec.kind == "pool" and spec.mode == "subsample":
            return LeNetSubsampling(spec.pool_size, activation=activation, name=layer_name)
        return None

    return _build("lenet5", input_shape, layers, name, "two 5x5 convolutions, each followed by 2x2 pooling", make_layer)


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
    """A VGG-style stack with random (He-normal) weights, layers named like ``keras.applications.VGG16``/``VGG19``.

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


# ---------------------------------------------------------------------------
# notebook 03: plain deep CNNs, and many plain MLPs trained side by side ("towers")
# ---------------------------------------------------------------------------


def deep_cnn(
    input_shape,
    depth: int,
    filters: int,
    activation: str = "relu",
    init: str = "kaiming",
    num_classes: int = 10,
    seed: int | None = None,
    name: str | None = None,
):
    """A plain convolutional net of ``depth`` layers with weights: ``depth - 1`` 3x3 ``Conv2D`` layers of
    ``filters`` channels with ``activation`` (``conv_1`` and ``conv_2`` at stride 2, the rest at stride 1, all
    ``"same"``), global average pooling, then a ``Dense`` layer of ``num_classes`` logits.

    No BatchNorm and no shortcuts: the net a weight initialization has to carry on its own (He et al. 2015's
    22- and 30-layer comparison). Kernels come from the :mod:`lib.init` scheme ``init`` (layer ``i`` seeded
    ``seed + i`` when ``seed`` is given), biases are zero. Introduced in notebook 03.
    """
    import keras

    from lib.init import initializer

    depth, filters = checks.positive_int(depth, "depth"), checks.positive_int(filters, "filters")
    if depth < 2:
        raise ValueError(f"Expected depth >= 2 (one convolution and the logits). Received: depth={depth}")
    num_classes = checks.num_classes(num_classes)
    shape = checks.image_shape(input_shape)
    initializer(init)  # an unknown scheme fails here, before any layer is made

    def kernel_init(i):
        return initializer(init, None if seed is None else seed + i)

    layers = [keras.Input(shape, name="image")]
    for i in range(1, depth):
        layers.append(
            keras.layers.Conv2D(
                filters,
                3,
                strides=2 if i <= 2 else 1,
                padding="same",
                activation=activation,
                kernel_initializer=kernel_init(i),
                name=f"conv_{i}",
            )
        )
    layers.append(keras.layers.GlobalAveragePooling2D(name="pool"))
    layers.append(keras.layers.Dense(num_classes, kernel_initializer=kernel_init(depth), name="logits"))
    return keras.Sequential(layers, name=name or f"cnn_{depth}x{filters}_{activation}_{init}")


def _tower_activation_class():
    import keras
    from keras import ops

    @keras.saving.register_keras_serializable(package="lib")
    class TowerActivation(keras.layers.Layer):
        """One activation per tower: input ``(batch, towers, units)``, tower ``k`` through ``activations[k]``."""

        def __init__(self, activations, **kwargs):
            super().__init__(**kwargs)
            self.activations = [str(a) for a in activations]
            for a in self.activations:
                keras.activations.get(a)  # unknown names fail here

        def call(self, inputs):
            towers = len(self.activations)
            if inputs.shape[1] != towers:
                raise ValueError(f"Expected {towers} towers on axis 1. Received: input shape {inputs.shape}")
            out = 0.0
            for a in sorted(set(self.activations)):  # each activation once on everything, kept where it belongs
                mask = ops.convert_to_tensor([[1.0 if b == a else 0.0] for b in self.activations], inputs.dtype)
                out = out + keras.activations.get(a)(inputs) * mask
            return out

        def compute_output_shape(self, input_shape):
            return input_shape

        def get_config(self):
            return {**super().get_config(), "activations": self.activations}

    return TowerActivation


_TOWER_ACTIVATION = None


def _tower_activation(activations, name=None):
    """The layer that sends tower ``k`` of a ``(batch, towers, units)`` tensor through ``activations[k]``.

    Introduced in notebook 03 (see :func:`tower_mlp`).
    """
    global _TOWER_ACTIVATION
    if _TOWER_ACTIVATION is None:
        _TOWER_ACTIVATION = _tower_activation_class()
    return _TOWER_ACTIVATION(activations, name=name)


def tower_mlp(
    input_shape,
    depth: int,
    width: int,
    towers: int,
    activation="relu",
    num_classes: int = 10,
    name: str | None = None,
):
    """``towers`` independent :func:`deep_mlp` nets side by side, as one Keras model: for trying many
    initializations, seeds or activations at the price of one compiled model.

    Layer ``i`` is an ``EinsumDense`` named ``dense_i`` (``logits`` for the last) whose kernel has shape
    ``(towers, inputs, units)`` - one ``Dense`` kernel per tower - followed by the activation. ``activation``
    is one name for every tower or a list with one name per tower. The output is ``(batch, towers,
    num_classes)`` logits. No weight is shared and no tower sees another's values, so with a loss that sums
    the towers' losses (:func:`tower_loss`) each tower gets exactly the gradient it would get alone, and SGD
    (with or without momentum) takes exactly the steps it would take on each net alone. Put weights in with
    :func:`set_tower_weights`. Introduced in notebook 03.
    """
    import keras

    depth, width = checks.positive_int(depth, "depth"), checks.positive_int(width, "width")
    towers = checks.positive_int(towers, "towers")
    num_classes = checks.num_classes(num_classes)
    if isinstance(activation, str):
        activations = [activation] * towers
    else:
        activations = [str(a) for a in activation]
        if len(activations) != towers:
            raise ValueError(
                f"Expected one activation per tower ({towers}). Received {len(activations)}: {activations}"
            )
    input_shape = tuple(input_shape) if isinstance(input_shape, (tuple, list)) else (input_shape,)
    inputs = keras.Input(input_shape, name="inputs")
    h = keras.layers.Flatten(name="flatten")(inputs) if len(input_shape) > 1 else inputs
    for i in range(1, depth + 1):
        last = i == depth
        equation = "bi,kio->bko" if i == 1 else "bki,kio->bko"
        units = num_classes if last else width
        h = keras.layers.EinsumDense(
            equation, (towers, units), bias_axes="ko", name="logits" if last else f"dense_{i}"
        )(h)
        if not last:
            if len(set(activations)) == 1:
                h = keras.layers.Activation(activations[0], name=f"activation_{i}")(h)
            else:
                h = _tower_activation(activations, name=f"activation_{i}")(h)
    return keras.Model(inputs, h, name=name or f"towers_{towers}x{depth}x{width}")


def set_tower_weights(tower_model, nets) -> None:
    """Copy the weights of plain nets (:func:`deep_mlp` nets of the tower model's depth and width), one per
    tower, into a :func:`tower_mlp`: tower ``k`` gets ``nets[k]``'s kernels and biases. Introduced in notebook 03."""
    import keras

    einsum = [layer for layer in tower_model.layers if isinstance(layer, keras.layers.EinsumDense)]
    towers = int(einsum[0].kernel.shape[0])
    nets = list(nets)
    if len(nets) != towers:
        raise ValueError(f"Expected one net per tower ({towers}). Received {len(nets)} nets")
    dense = [[layer for layer in net.layers if isinstance(layer, keras.layers.Dense)] for net in nets]
    for depth, net in zip(map(len, dense), nets):
        if depth != len(einsum):
            raise ValueError(f"Expected nets of {len(einsum)} Dense layers. Received {depth} in {net.name!r}")
    for i, tower_layer in enumerate(einsum):
        shape = tuple(tower_layer.kernel.shape[1:])
        for layers in dense:
            if tuple(layers[i].kernel.shape) != shape:
                raise ValueError(
                    f"Expected a kernel of shape {shape} for {tower_layer.name!r}. "
                    f"Received {tuple(layers[i].kernel.shape)} from {layers[i].name!r}"
                )
        tower_layer.kernel.assign(np.stack([keras.ops.convert_to_numpy(layers[i].kernel) for layers in dense]))
        tower_layer.bias.assign(np.stack([keras.ops.convert_to_numpy(layers[i].bias) for layers in dense]))


def tower_loss(weights=None):
    """A loss for :func:`tower_mlp`: the sum over towers of each tower's mean sparse categorical cross-entropy
    (from logits), tower ``k``'s multiplied by ``weights[k]`` (default 1).

    With plain SGD or SGD with momentum, multiplying a tower's loss by ``c`` is the same as multiplying its
    learning rate by ``c`` (every step is linear in the gradient): one model can then try several learning
    rates at once. Adaptive optimizers (Adam, RMSProp, AdaGrad) divide the scale out again. Introduced in
    notebook 03.
    """
    import keras
    from keras import ops

    w = None if weights is None else np.asarray([checks.positive(v, "weights") for v in weights], "float32")

    def loss(y_true, y_pred):
        towers = y_pred.shape[1]
        if w is not None and len(w) != towers:
            raise ValueError(f"Expected {towers} tower weights. Received {len(w)}")
        labels = ops.repeat(ops.reshape(ops.cast(y_true, "int32"), (-1, 1)), towers, axis=1)
        per_tower = keras.losses.sparse_categorical_crossentropy(labels, y_pred, from_logits=True)
        return ops.sum(per_tower if w is None else per_tower * w, axis=-1)

    return loss


# ---------------------------------------------------------------------------
# notebook 02: LeNet-5's subsampling layer, and the shift experiment's nets
# ---------------------------------------------------------------------------


@keras.saving.register_keras_serializable(package="lib")
class LeNetSubsampling(keras.layers.Layer):
    """LeNet-5's subsampling layer (S2, S4) as LeCun et al. (1998) describe it.

    "The four inputs to a unit in S2 are added, then multiplied by a trainable
    coefficient, and added to a trainable bias. The result is passed through a
    sigmoidal function": ``activation(coefficient_c * sum(window) + bias_c)``,
    one coefficient and one bias per feature map (``2 x channels`` parameters),
    non-overlapping ``pool_size`` windows. The coefficient starts at
    ``1 / (pool_h * pool_w)`` and the bias at 0, so before training (and with
    ``activation=None``) it is average pooling.

    Introduced in notebook 02 (pooling and the anatomy of a CNN).
    """

    def __init__(self, pool_size=2, activation="tanh", **kwargs):
        super().__init__(**kwargs)
        self.pool_size = checks.int_pair(pool_size, "pool_size")
        self.activation = keras.activations.get(activation)

    def build(self, input_shape):
        channels = input_shape[-1]
        area = self.pool_size[0] * self.pool_size[1]
        self.coefficient = self.add_weight(
            shape=(channels,), initializer=keras.initializers.Constant(1.0 / area), name="coefficient"
        )
        self.bias = self.add_weight(shape=(channels,), initializer="zeros", name="bias")

    def call(self, inputs, training=None):
        area = self.pool_size[0] * self.pool_size[1]
        sums = keras.ops.average_pool(inputs, self.pool_size, self.pool_size, padding="valid") * area
        return self.activation(sums * self.coefficient + self.bias)

    def compute_output_shape(self, input_shape):
        n, h, w, c = input_shape
        ph, pw = self.pool_size
        return (n, None if h is None else h // ph, None if w is None else w // pw, c)

    def get_config(self):
        return {
            **super().get_config(),
            "pool_size": self.pool_size,
            "activation": keras.activations.serialize(self.activation),
        }


#: The subsampling and the read-out of :func:`subsampling_net`.
SUBSAMPLINGS = ("max", "strided")
HEADS = ("flatten", "global_max", "global_average")


def subsampling_net(
    input_shape,
    num_classes: int = 10,
    subsampling: str = "max",
    head: str = "flatten",
    filters=(8, 16, 32),
    name: str | None = None,
):
    """Three 3x3 ReLU convolutions (``conv1``-``conv3``, ``filters``), subsampled twice by 2, then a classifier.

    ``subsampling="max"``: ``conv1``, 2x2 max pooling (``pool1``), ``conv2``, ``pool2``,
    ``conv3``; ``"strided"``: ``conv1`` and ``conv2`` at stride 2, no pooling (the
    "all-convolutional" alternative, Springenberg et al. 2015). ``head``: ``"flatten"``
    then a dense softmax (one weight per position and channel), or a global max or
    average pooling (``"global_max"``, ``"global_average"``: one number per channel,
    wherever it was) then the dense softmax. The last hidden layer is named
    ``features``. Introduced in notebook 02 (translation invariance, measured).
    """
    shape = checks.image_shape(input_shape)
    num_classes = checks.num_classes(num_classes)
    subsampling = checks.one_of(subsampling, "subsampling", SUBSAMPLINGS)
    head = checks.one_of(head, "head", HEADS)
    if not isinstance(filters, (tuple, list)) or len(filters) != 3:
        raise ValueError(f"Expected three numbers of filters. Received: filters={filters!r}")
    f1, f2, f3 = (checks.positive_int(f, "filters") for f in filters)
    stride = 2 if subsampling == "strided" else 1
    layers = [keras.Input(shape, name="image")]
    for i, (f, s) in enumerate([(f1, stride), (f2, stride)], start=1):
        layers.append(keras.layers.Conv2D(f, 3, strides=s, activation="relu", name=f"conv{i}"))
        if subsampling == "max":
            layers.append(keras.layers.MaxPooling2D(2, name=f"pool{i}"))
    layers.append(keras.layers.Conv2D(f3, 3, activation="relu", name="conv3"))
    readout = {
        "flatten": keras.layers.Flatten,
        "global_max": keras.layers.GlobalMaxPooling2D,
        "global_average": keras.layers.GlobalAveragePooling2D,
    }[head]
    layers.append(readout(name="features"))
    layers.append(keras.layers.Dense(num_classes, activation="softmax", name="classifier"))
    try:
        return keras.Sequential(layers, name=name or f"{subsampling}_{head}")
    except ValueError as err:
        raise ValueError(
            f"Expected an input large enough for three 3x3 convolutions and two subsamplings. {err}"
        ) from None


def mnist_convnet(input_shape=(28, 28, 1), num_classes: int = 10, name: str = "mnist_convnet"):
    """keras-io's "Simple MNIST convnet" (conv 32@3x3 + ReLU, 2x2 max pool, conv 64@3x3 + ReLU, 2x2 max pool,
    flatten, dropout 0.5, dense softmax; 34,826 parameters on 28x28x1), uncompiled: the baseline of notebook 12's
    time-to-accuracy race. Introduced in notebook 12 (training fast).
    """
    num_classes = checks.num_classes(num_classes)
    shape = checks.image_shape(input_shape)
    layers = keras.layers
    return keras.Sequential(
        [
            keras.Input(shape),
            layers.Conv2D(32, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Conv2D(64, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(num_classes, activation="softmax"),
        ],
        name=name,
    )
