"""Gradients with respect to inputs, in one place, for every backend.

Adversarial examples (notebook 10) and style transfer (notebook 11) need the
gradient of a loss with respect to the *input image*, which Keras 3 has no
backend-agnostic API for. This module is the only place the course does it:
TensorFlow watches a ``tf.Variable`` under a ``GradientTape``; JAX uses
``jax.value_and_grad``; PyTorch uses ``requires_grad``.

Introduced in notebook 10.
"""

from __future__ import annotations

from typing import Callable

import numpy as np


def value_and_input_grad(loss_fn: Callable, x):
    """Return ``(loss, dloss/dx)`` for a scalar ``loss_fn(x)`` built from ``keras.ops``.

    ``x`` is an array (NumPy or backend tensor). The gradient has ``x``'s shape and
    is never ``None``: if the loss does not depend on ``x`` a ``ValueError`` says so.
    Introduced in notebook 10.
    """
    import keras

    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        var = tf.Variable(tf.convert_to_tensor(x, dtype=tf.float32))
        with tf.GradientTape() as tape:
            tape.watch(var)
            loss = loss_fn(var)
        grad = tape.gradient(loss, var)
    elif backend == "jax":
        import jax
        import jax.numpy as jnp

        loss, grad = jax.value_and_grad(lambda v: jnp.asarray(loss_fn(v), dtype=jnp.float32).reshape(()))(
            jnp.asarray(x, dtype=jnp.float32)
        )
    elif backend == "torch":
        import torch

        var = torch.tensor(np.asarray(keras.ops.convert_to_numpy(x)), dtype=torch.float32, requires_grad=True)
        loss = loss_fn(var)
        loss.backward()
        grad = var.grad
    else:  # pragma: no cover - numpy backend has no autodiff
        raise NotImplementedError(f"Input gradients need an autodiff backend. Received backend={backend!r}")
    if grad is None:
        raise ValueError(
            "The loss does not depend on the input: its gradient is None. Build the loss from the "
            "input tensor passed to loss_fn with keras.ops."
        )
    return loss, grad
