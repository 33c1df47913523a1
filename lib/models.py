"""Model builders: the networks the lectures name, as Keras models.

Each builder describes its network once as a list of :mod:`lib.anatomy` layer
specs (``*_layers``), which read like the decks (``Conv(20, 5)``, ``Pool(2)``,
``Dense(500)``) and are counted by hand in the notebooks, and builds the
Keras ``Sequential`` from them. Inputs are channels-last; the last layer is a
softmax over ``num_classes``; models come uncompiled.

* :func:`lenet5`: LeNet-5 (LeCun et al., 1998), [CONV-POOL-CONV-POOL-FC-FC]:
  5x5 convolutions at stride 1, 2x2 pooling at stride 2.
* :func:`mnist_net`: the lectures' MNIST example network (CS182), the Caffe /
  PyTorch-example LeNet: conv 20@5x5, max pool, conv 50@5x5, max pool, fc 500, fc 10.

Introduced in notebook 02 (pooling and the anatomy of a CNN).
"""

from __future__ import annotations

import numbers

from lib import anatomy

__all__ = [
    "lenet5_layers",
    "lenet5",
    "mnist_net_layers",
    "mnist_net",
]


def _num_classes(num_classes) -> int:
    if isinstance(num_classes, bool) or not isinstance(num_classes, numbers.Integral) or num_classes < 2:
        raise ValueError(f"Expected num_classes to be an integer >= 2. Received: num_classes={num_classes!r}")
    return int(num_classes)


def _build(model_name: str, input_shape, layers, name: str, what: str):
    shape = tuple(input_shape) if isinstance(input_shape, (tuple, list)) else input_shape
    if not isinstance(shape, tuple) or len(shape) != 3 or any(
        isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1 for v in shape
    ):
        raise ValueError(
            f"Expected input_shape (height, width, channels) of positive ints. Received: input_shape={input_shape!r}"
        )
    try:
        anatomy.walk(shape, layers)
    except ValueError as err:
        side = anatomy.min_input_size(layers, shape[2])
        raise ValueError(
            f"Expected an input of at least {side}x{side} for {model_name} ({what}). "
            f"Received: input_shape={tuple(shape)} ({err})"
        ) from None
    return anatomy.to_keras(shape, layers, name=name)


def lenet5_layers(num_classes: int = 10, activation: str = "tanh", pooling: str = "average",
                  c1_padding: str = "valid") -> list:
    """LeNet-5 as :mod:`lib.anatomy` specs: C1 6@5x5, S2 2x2, C3 16@5x5, S4 2x2, C5 120, F6 84, output.

    C5 is a fully connected layer on the flattened S4 maps (on a 32x32 input
    those are 5x5, so a 5x5 convolution there is the same thing). The paper's
    subsampling layers averaged 2x2 windows (then scaled by a trained
    coefficient); ``pooling="max"`` gives the modern variant. ``c1_padding="same"``
    keeps a 28x28 input at 28x28 after C1, as a 32x32 input would give.
    Introduced in notebook 02 (pooling and the anatomy of a CNN).
    """
    num_classes = _num_classes(num_classes)
    if pooling not in ("max", "average"):
        raise ValueError(f"Expected pooling to be 'max' or 'average'. Received: pooling={pooling!r}")
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


def lenet5(input_shape=(32, 32, 1), num_classes: int = 10, activation: str = "tanh", pooling: str = "average",
           c1_padding: str = "valid", name: str = "lenet5"):
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
    num_classes = _num_classes(num_classes)
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
