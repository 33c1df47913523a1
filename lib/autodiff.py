"""Gradients with respect to inputs and to chosen variables, in one place, for every backend.

Adversarial examples (notebook 10) and style transfer (notebook 11) need the
gradient of a loss with respect to the *input image*; weight-initialisation
diagnostics (notebook 03) need the gradient with respect to chosen layer
weights outside ``fit``. Keras 3 has no backend-agnostic API for either, so this
module is the only place the course does it, one implementation per backend
behind one function:

* TensorFlow watches a ``tf.Variable`` under a ``tf.GradientTape``;
* JAX differentiates a pure function with ``jax.value_and_grad`` (Keras
  variables are swapped for traced values with ``keras.StatelessScope``);
* PyTorch sets ``requires_grad`` and calls ``torch.autograd.grad``.

Everything else in ``lib`` is written with ``keras.ops`` and runs on any backend.

Introduced in notebook 10 (adversarial examples).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

BACKENDS = ("tensorflow", "jax", "torch")


def _backend() -> str:
    import keras

    backend = keras.backend.backend()
    if backend not in BACKENDS:
        raise NotImplementedError(
            f"Gradients need an autodiff backend, one of {BACKENDS}. Received: KERAS_BACKEND={backend!r}"
        )
    return backend


def _not_none(grad, what: str):
    if grad is None:
        raise ValueError(
            f"The loss does not depend on {what}: its gradient is None. Build the loss from "
            f"{what} with keras.ops (for an input: from the tensor passed to loss_fn)."
        )
    return grad


def _jax_depends_on_input(fn, *args) -> bool:
    """Whether ``fn(*args)``'s output is computed from its first argument (a data-flow walk of the jaxpr)."""
    import jax
    from jax.extend import core as jcore

    closed = jax.make_jaxpr(fn)(*args)
    jaxpr = closed.jaxpr
    live = {jaxpr.invars[0]}
    for eqn in jaxpr.eqns:
        if any(isinstance(v, jcore.Var) and v in live for v in eqn.invars):
            live.update(eqn.outvars)
    return any(isinstance(v, jcore.Var) and v in live for v in jaxpr.outvars)


def _scalar(value, backend: str):
    import keras

    value = keras.ops.convert_to_tensor(value)
    shape = tuple(keras.ops.shape(value))
    if any(int(d) != 1 for d in shape):
        raise ValueError(f"Expected loss_fn to return a scalar. Received: a loss of shape {shape}")
    return keras.ops.reshape(value, ())


def value_and_input_grad(loss_fn: Callable, x):
    """Return ``(loss, dloss/dx)`` for a scalar ``loss_fn(x)`` built from ``keras.ops``.

    ``x`` is an array (NumPy or backend tensor), converted to float32. The
    gradient is a backend tensor of ``x``'s shape and is never ``None``: if the
    loss does not depend on ``x`` a ``ValueError`` says so (on every backend).
    One implementation per backend (TensorFlow, JAX, PyTorch) behind this one
    function. Introduced in notebook 10 (adversarial examples).
    """
    import keras

    backend = _backend()
    if backend == "tensorflow":
        import tensorflow as tf

        var = tf.Variable(tf.cast(tf.convert_to_tensor(x), tf.float32))
        with tf.GradientTape() as tape:
            tape.watch(var)
            loss = _scalar(loss_fn(var), backend)
        grad = tape.gradient(loss, var)
    elif backend == "jax":
        import jax
        import jax.numpy as jnp

        def fn(v):
            return _scalar(loss_fn(v), backend)

        x = jnp.asarray(x, dtype=jnp.float32)
        loss, grad = jax.value_and_grad(fn)(x)
        # JAX returns zeros (never None) for an unused input; only an all-zero gradient needs the check.
        if not bool(jnp.any(grad != 0)) and not _jax_depends_on_input(fn, x):
            grad = None
    else:  # torch
        import torch

        var = keras.ops.convert_to_tensor(x, dtype="float32").detach().clone().requires_grad_(True)
        loss = _scalar(loss_fn(var), backend)
        if not loss.requires_grad:
            grad = None
        else:
            (grad,) = torch.autograd.grad(loss, [var], allow_unused=True)
        loss = loss.detach()
    return loss, _not_none(grad, "the input")


def value_and_grads(loss_fn: Callable, variables: Sequence, *, allow_unused: bool = False):
    """Return ``(loss, [dloss/dv for v in variables])`` for a scalar ``loss_fn()`` and Keras variables.

    ``loss_fn`` takes no argument and reads the variables (layer weights such as
    ``layer.kernel``, or ``keras.Variable`` objects) by calling the layers that
    own them or through ``keras.ops``. The variables are not changed. Gradients
    are backend tensors, in the variables' order. A variable the loss does not
    reach raises a ``ValueError`` naming it; with ``allow_unused=True`` it gets a
    zero gradient instead (for diagnostics over many layers). One implementation
    per backend behind this one function.
    Introduced in notebook 03 (activations and initialization).
    """
    import keras

    backend = _backend()
    variables = list(variables)
    if not variables:
        raise ValueError("Expected at least one variable to differentiate with respect to. Received: variables=[]")
    for v in variables:
        if not isinstance(v, keras.Variable):
            raise ValueError(f"Expected Keras variables (e.g. layer.kernel). Received: a {type(v).__name__}")
    if backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            for v in variables:  # trainable variables are watched anyway; this adds the others
                if isinstance(v.value, tf.Variable):
                    tape.watch(v.value)
            loss = _scalar(loss_fn(), backend)
        grads = tape.gradient(loss, variables)
    elif backend == "jax":
        import jax
        import jax.numpy as jnp

        def fn(values):
            with keras.StatelessScope(state_mapping=list(zip(variables, values))):
                return _scalar(loss_fn(), backend)  # in the loss's own dtype (float64 stays float64)

        values = [v.value for v in variables]
        loss, grads = jax.value_and_grad(fn)(values)
        grads = list(grads)
        for i, grad in enumerate(grads):
            if not bool(jnp.any(grad != 0)):

                def only_i(value_i, i=i):
                    return fn(values[:i] + [value_i] + values[i + 1 :])

                if not _jax_depends_on_input(only_i, values[i]):
                    grads[i] = None
    else:  # torch
        import torch

        tensors = [v.value for v in variables]
        loss = _scalar(loss_fn(), backend)
        if loss.requires_grad:
            grads = list(torch.autograd.grad(loss, tensors, allow_unused=True))
        else:
            grads = [None] * len(tensors)
        loss = loss.detach()
    out = []
    for v, grad in zip(variables, grads):
        if grad is None and allow_unused:
            grad = keras.ops.zeros(v.shape, dtype=v.dtype)
        out.append(_not_none(grad, f"variable {v.path!r}"))
    return loss, out
