"""Optimizers, learning-rate schedules and weight averaging, from scratch in NumPy.

Every update rule the lecture decks write down, one small class each, with
``step(params, grads)`` updating a list of NumPy arrays in place:

* :class:`SGD` - plain gradient descent ``x <- x - alpha g``; with ``momentum``
  in either of the decks' two forms (``form="velocity"``: ``V <- gamma V -
  alpha g; W <- W + V`` as in the NTU deck and in Keras; ``form="gradient"``:
  ``v <- rho v + g; x <- x - alpha v`` as in the ShanghaiTech deck and in
  PyTorch) and ``nesterov``.
* :class:`AdaGrad`, :class:`RMSProp`, :class:`Adam` - the adaptive methods,
  with switches for the details where implementations disagree: where epsilon
  sits (outside or inside the square root), AdaGrad's initial accumulator,
  Adam's bias correction and its "epsilon hat" form.
* :class:`GradientAccumulator` - N forward/backward passes, one update.
* :class:`ExponentialMovingAverage` - Polyak averaging of the weights.

Each optimizer's :meth:`Optimizer.to_keras` builds the ``keras.optimizers``
object that takes exactly the same steps (or explains why none does); the tests
check them step by step against each other.

Learning-rate schedules as NumPy functions of the step (:func:`annealing`,
:func:`piecewise_constant`, :func:`exponential_decay`, :func:`cosine_decay`,
:func:`cosine_decay_restarts`), each equal to a ``keras.optimizers.schedules``
class, and 2-D test surfaces (:func:`ravine`, :func:`saddle`,
:func:`rosenbrock`) with :func:`trajectory` and :func:`plot_paths` to watch
optimizers move on them; softmax regression (:func:`softmax_regression`: loss
and gradients) as a real, convex problem to train with them.

Introduced in notebook 04 (optimizers and learning-rate schedules).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import numpy as np

from lib import checks

__all__ = [
    "Optimizer",
    "SGD",
    "AdaGrad",
    "RMSProp",
    "Adam",
    "GradientAccumulator",
    "ExponentialMovingAverage",
    "annealing",
    "annealing_as_inverse_time_decay",
    "piecewise_constant",
    "exponential_decay",
    "cosine_decay",
    "cosine_decay_restarts",
    "restart_ends",
    "keras_slot",
    "softmax_cross_entropy",
    "softmax_regression",
    "Surface",
    "ravine",
    "saddle",
    "rosenbrock",
    "trajectory",
    "plot_paths",
]


# --------------------------------------------------------------------------- #
# validation helpers (errors worded like Keras)
# --------------------------------------------------------------------------- #
def _check_learning_rate(learning_rate):
    """A schedule (a callable of the step) as it is, or a number >= 0 as a float."""
    return learning_rate if callable(learning_rate) else checks.non_negative(learning_rate, "learning_rate")


def _as_list(params):
    if isinstance(params, np.ndarray):
        return [params], True
    return list(params), False


# --------------------------------------------------------------------------- #
# optimizers
# --------------------------------------------------------------------------- #
class Optimizer:
    """Base class: keeps the step counter and per-parameter state, applies a rule.

    ``learning_rate`` is a float or a schedule: any callable of the step number
    (0, 1, 2, ...) returning a float - a function of this module or a
    ``keras.optimizers.schedules`` object. Subclasses implement
    ``_update(slots, param, grad, lr, t)`` for one array, where ``t`` is the
    1-based step number and ``slots`` a dict of state arrays for that parameter.
    Introduced in notebook 04.
    """

    def __init__(self, learning_rate=0.01):
        self.learning_rate = _check_learning_rate(learning_rate)
        self.iterations = 0
        self.state: dict[int, dict[str, np.ndarray]] = {}

    def current_learning_rate(self) -> float:
        """The learning rate the next step will use (the schedule at ``iterations``)."""
        if callable(self.learning_rate):
            return float(np.asarray(self.learning_rate(self.iterations)))
        return self.learning_rate

    def step(self, params, grads):
        """Update ``params`` (a NumPy array or a list of them) in place with ``grads``; return ``params``.

        Arrays must be floating point; state (velocities, accumulators) is made
        on the first call, one slot set per position in the list.
        Introduced in notebook 04.
        """
        plist, single = _as_list(params)
        glist, _ = _as_list(grads)
        if len(plist) != len(glist):
            raise ValueError(
                f"Expected one gradient per parameter. Received {len(plist)} parameters and {len(glist)} gradients"
            )
        lr = self.current_learning_rate()
        t = self.iterations + 1
        for i, (p, g) in enumerate(zip(plist, glist)):
            if not isinstance(p, np.ndarray) or not np.issubdtype(p.dtype, np.floating):
                raise TypeError(
                    f"Expected parameters to be floating-point NumPy arrays (updated in place). "
                    f"Received {type(p).__name__} {getattr(p, 'dtype', '')} at position {i}"
                )
            g = np.asarray(g, dtype=p.dtype)
            if g.shape != p.shape:
                raise ValueError(f"Expected gradient {i} of shape {p.shape}. Received shape {g.shape}")
            if i not in self.state:
                self.state[i] = self._make_slots(p)
            self._update(self.state[i], p, g, lr, t)
        self.iterations = t
        return plist[0] if single else params

    def _make_slots(self, param: np.ndarray) -> dict:
        return {}

    def _update(self, slots, param, grad, lr, t):  # pragma: no cover - abstract
        raise NotImplementedError

    def get_config(self) -> dict:
        return {"learning_rate": self.learning_rate}

    def to_keras(self):
        """The ``keras.optimizers`` object that takes exactly the same steps.

        Raises ``ValueError`` naming the setting when Keras has no equivalent.
        Introduced in notebook 04.
        """
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class SGD(Optimizer):
    """Gradient descent, optionally with (Nesterov) momentum, in either of the decks' two forms.

    * ``momentum=0``: ``x <- x - alpha g`` (both decks).
    * ``form="velocity"`` (NTU deck, and what ``keras.optimizers.SGD(momentum=)``
      does): ``V <- gamma V - alpha g``, ``W <- W + V``.
    * ``form="gradient"`` (ShanghaiTech deck, and PyTorch): ``v <- rho v + g``,
      ``x <- x - alpha v``.

    With a constant learning rate the two forms are the same trajectory
    (``V = -alpha v`` at every step); with a schedule they differ, because the
    gradient form rescales the whole remembered sum by today's rate.
    ``nesterov=True`` evaluates the step "after the momentum jump": velocity
    form ``W <- W + gamma V - alpha g`` (after updating V), gradient form
    ``x <- x - alpha (g + rho v)``. Introduced in notebook 04.
    """

    FORMS = ("velocity", "gradient")

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, form="velocity"):
        super().__init__(learning_rate)
        self.momentum = checks.probability(momentum, "momentum")
        self.nesterov = bool(nesterov)
        self.form = checks.one_of(form, "form", self.FORMS)

    def _make_slots(self, param):
        return {"velocity": np.zeros_like(param)} if self.momentum else {}

    def _update(self, slots, param, grad, lr, t):
        if not self.momentum:
            param -= lr * grad
            return
        v = slots["velocity"]
        mu = self.momentum
        if self.form == "velocity":
            v *= mu
            v -= lr * grad
            param += (mu * v - lr * grad) if self.nesterov else v
        else:
            v *= mu
            v += grad
            param -= lr * ((grad + mu * v) if self.nesterov else v)

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov, "form": self.form}

    def to_keras(self):
        import keras

        if self.momentum and self.form == "gradient" and callable(self.learning_rate):
            raise ValueError(
                "keras.optimizers.SGD keeps the velocity form (V <- momentum V - lr g). With a learning-rate "
                "schedule the gradient form takes different steps. Use form='velocity' to match Keras."
            )
        return keras.optimizers.SGD(learning_rate=self.learning_rate, momentum=self.momentum, nesterov=self.nesterov)


class AdaGrad(Optimizer):
    """AdaGrad: ``r <- r + g^2``, ``x <- x - alpha g / (sqrt(r) + eps)``.

    The decks put epsilon outside the square root (``epsilon_placement="outside"``,
    the default, with ``r`` starting at 0); ``keras.optimizers.Adagrad`` puts it
    inside, ``x <- x - alpha g / sqrt(r + eps)``, and starts the accumulator at
    ``initial_accumulator_value=0.1``. Introduced in notebook 04.
    """

    def __init__(self, learning_rate=0.001, epsilon=1e-7, initial_accumulator_value=0.0, epsilon_placement="outside"):
        super().__init__(learning_rate)
        self.epsilon = checks.positive(epsilon, "epsilon")
        self.initial_accumulator_value = checks.non_negative(initial_accumulator_value, "initial_accumulator_value")
        self.epsilon_placement = checks.one_of(epsilon_placement, "epsilon_placement", ("outside", "inside"))

    def _make_slots(self, param):
        return {"accumulator": np.full_like(param, self.initial_accumulator_value)}

    def _update(self, slots, param, grad, lr, t):
        r = slots["accumulator"]
        r += grad * grad
        if self.epsilon_placement == "inside":
            param -= lr * grad / np.sqrt(r + self.epsilon)
        else:
            param -= lr * grad / (np.sqrt(r) + self.epsilon)

    def get_config(self):
        return {
            **super().get_config(),
            "epsilon": self.epsilon,
            "initial_accumulator_value": self.initial_accumulator_value,
            "epsilon_placement": self.epsilon_placement,
        }

    def to_keras(self):
        import keras

        if self.epsilon_placement != "inside":
            raise ValueError(
                "keras.optimizers.Adagrad divides by sqrt(accumulator + epsilon). "
                "Use epsilon_placement='inside' to match it."
            )
        return keras.optimizers.Adagrad(
            learning_rate=self.learning_rate,
            epsilon=self.epsilon,
            initial_accumulator_value=self.initial_accumulator_value,
        )


class RMSProp(Optimizer):
    """RMSProp: ``r <- rho r + (1 - rho) g^2``, ``x <- x - alpha g / (sqrt(r) + eps)``.

    ``epsilon_placement="outside"`` is the ShanghaiTech deck's code;
    ``"inside"`` (``alpha g / sqrt(r + eps)``) is the NTU deck's formula and
    ``keras.optimizers.RMSprop`` (whose ``rho`` defaults to 0.9, PyTorch's
    ``alpha`` to 0.99). Introduced in notebook 04.
    """

    def __init__(self, learning_rate=0.001, rho=0.9, epsilon=1e-7, epsilon_placement="outside"):
        super().__init__(learning_rate)
        self.rho = checks.probability(rho, "rho")
        self.epsilon = checks.positive(epsilon, "epsilon")
        self.epsilon_placement = checks.one_of(epsilon_placement, "epsilon_placement", ("outside", "inside"))

    def _make_slots(self, param):
        return {"mean_square": np.zeros_like(param)}

    def _update(self, slots, param, grad, lr, t):
        r = slots["mean_square"]
        r *= self.rho
        r += (1 - self.rho) * grad * grad
        if self.epsilon_placement == "inside":
            param -= lr * grad / np.sqrt(r + self.epsilon)
        else:
            param -= lr * grad / (np.sqrt(r) + self.epsilon)

    def get_config(self):
        return {
            **super().get_config(),
            "rho": self.rho,
            "epsilon": self.epsilon,
            "epsilon_placement": self.epsilon_placement,
        }

    def to_keras(self):
        import keras

        if self.epsilon_placement != "inside":
            raise ValueError(
                "keras.optimizers.RMSprop divides by sqrt(mean_square + epsilon). "
                "Use epsilon_placement='inside' to match it."
            )
        return keras.optimizers.RMSprop(learning_rate=self.learning_rate, rho=self.rho, epsilon=self.epsilon)


class Adam(Optimizer):
    """Adam: momentum on the gradient plus RMSProp's scaling, with bias correction.

    ``s <- b1 s + (1 - b1) g``, ``r <- b2 r + (1 - b2) g^2``, ``s_hat = s / (1 - b1^t)``,
    ``r_hat = r / (1 - b2^t)``, ``x <- x - alpha s_hat / (sqrt(r_hat) + eps)``
    (Kingma & Ba's Algorithm 1; the NTU deck writes ``1 - rho`` where it means
    ``1 - rho^t``). ``bias_correction=False`` is the ShanghaiTech deck's "Adam
    (almost)". ``epsilon_hat=True`` is the paper's faster ordering that Keras
    uses: ``alpha_t = alpha sqrt(1 - b2^t) / (1 - b1^t)``, ``x <- x - alpha_t s /
    (sqrt(r) + eps)`` - the same as Algorithm 1 with epsilon replaced by
    ``eps * sqrt(1 - b2^t)``. Introduced in notebook 04.
    """

    def __init__(
        self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-8, bias_correction=True, epsilon_hat=False
    ):
        super().__init__(learning_rate)
        self.beta_1 = checks.probability(beta_1, "beta_1")
        self.beta_2 = checks.probability(beta_2, "beta_2")
        self.epsilon = checks.positive(epsilon, "epsilon")
        self.bias_correction = bool(bias_correction)
        self.epsilon_hat = bool(epsilon_hat)
        if self.epsilon_hat and not self.bias_correction:
            raise ValueError("epsilon_hat=True is a form of the bias-corrected update; it needs bias_correction=True")

    def _make_slots(self, param):
        return {"m": np.zeros_like(param), "v": np.zeros_like(param)}

    def _update(self, slots, param, grad, lr, t):
        m, v = slots["m"], slots["v"]
        b1, b2 = self.beta_1, self.beta_2
        m *= b1
        m += (1 - b1) * grad
        v *= b2
        v += (1 - b2) * grad * grad
        if not self.bias_correction:
            param -= lr * m / (np.sqrt(v) + self.epsilon)
        elif self.epsilon_hat:
            alpha_t = lr * math.sqrt(1 - b2**t) / (1 - b1**t)
            param -= alpha_t * m / (np.sqrt(v) + self.epsilon)
        else:
            m_hat = m / (1 - b1**t)
            v_hat = v / (1 - b2**t)
            param -= lr * m_hat / (np.sqrt(v_hat) + self.epsilon)

    def get_config(self):
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
            "bias_correction": self.bias_correction,
            "epsilon_hat": self.epsilon_hat,
        }

    def to_keras(self):
        import keras

        if not self.epsilon_hat:
            raise ValueError(
                "keras.optimizers.Adam uses the epsilon-hat form (epsilon added to sqrt(v), not sqrt(v_hat)). "
                "Use epsilon_hat=True to match it."
            )
        return keras.optimizers.Adam(
            learning_rate=self.learning_rate, beta_1=self.beta_1, beta_2=self.beta_2, epsilon=self.epsilon
        )


# --------------------------------------------------------------------------- #
# gradient accumulation and weight averaging
# --------------------------------------------------------------------------- #
class GradientAccumulator:
    """N forward/backward passes, one update: sum ``steps`` gradients, apply their mean.

    Wraps an :class:`Optimizer`. :meth:`step` adds the gradients to running
    sums; every ``steps``-th call it hands their mean to the optimizer and
    resets the sums - what ``keras.optimizers.*(gradient_accumulation_steps=N)``
    does. With equal-sized micro-batches and a mean loss, the mean of N
    micro-batch gradients is the large batch's gradient. Introduced in notebook 04.
    """

    def __init__(self, optimizer: Optimizer, steps: int):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"Expected a lib.optim.Optimizer. Received: optimizer={optimizer!r}")
        self.optimizer = optimizer
        self.steps = checks.positive_int(steps, "steps")
        self.micro_steps = 0
        self._sums: list[np.ndarray] | None = None

    def step(self, params, grads) -> bool:
        """Accumulate ``grads``; on every ``steps``-th call update ``params``. Returns whether it updated."""
        glist, _ = _as_list(grads)
        if self._sums is None:
            self._sums = [np.zeros_like(np.asarray(g, dtype=np.float64)) for g in glist]
        for s, g in zip(self._sums, glist):
            s += g
        self.micro_steps += 1
        if self.micro_steps % self.steps:
            return False
        plist, single = _as_list(params)
        means = [(s / self.steps).astype(p.dtype) for s, p in zip(self._sums, plist)]
        self.optimizer.step(plist[0] if single else plist, means[0] if single else means)
        for s in self._sums:
            s[...] = 0
        return True


class ExponentialMovingAverage:
    """Polyak averaging of weights: ``x_avg <- momentum x_avg + (1 - momentum) x``.

    The ShanghaiTech deck's ``x_test = 0.995 * x_test + 0.005 * x``. Like
    Keras's ``use_ema=True``, the first :meth:`update` copies the weights (so the
    average never mixes in an arbitrary starting value). Introduced in notebook 04.
    """

    def __init__(self, momentum: float = 0.99):
        self.momentum = checks.probability(momentum, "momentum")
        self.average: list[np.ndarray] | None = None
        self.updates = 0

    def update(self, params) -> list[np.ndarray]:
        """Fold the current ``params`` into the average; return the list of averaged arrays (owned by this object)."""
        plist, _ = _as_list(params)
        if self.average is None:
            self.average = [np.array(p, dtype=np.asarray(p).dtype, copy=True) for p in plist]
        else:
            mu = self.momentum
            for a, p in zip(self.average, plist):
                a *= mu
                a += (1 - mu) * np.asarray(p, dtype=a.dtype)
        self.updates += 1
        return self.average


def keras_slot(optimizer, variable, slot: str) -> np.ndarray:
    """The value of a Keras optimizer's ``slot`` variable for model ``variable``, as NumPy.

    Keras names an optimizer's per-weight state ``<variable path, '/' -> '_'>_<slot>``:
    ``"momentum"`` (SGD), ``"accumulator"`` (Adagrad), ``"velocity"`` (RMSprop,
    Adam), ``"momentum"`` (Adam), ``"average"`` (``use_ema=True``). Raises
    ``KeyError`` listing the names there are. Introduced in notebook 04.
    """
    import keras

    name = f"{variable.path.replace('/', '_')}_{slot}"
    for v in optimizer.variables:
        if v.name == name:
            return keras.ops.convert_to_numpy(v)
    raise KeyError(f"No optimizer variable named {name!r}. It has {[v.name for v in optimizer.variables]}")


# --------------------------------------------------------------------------- #
# learning-rate schedules (NumPy, vectorised over the step)
# --------------------------------------------------------------------------- #
def _steps(step):
    return np.asarray(step, dtype=np.float64)


def annealing(step, a: float, epsilon: float):
    """The NTU deck's annealing schedule ``alpha(t) = a / (epsilon + t)``.

    ``alpha(0) = a / epsilon`` and ``alpha(inf) = 0``. Introduced in notebook 04.
    """
    checks.positive(a, "a")
    checks.positive(epsilon, "epsilon")
    return a / (epsilon + _steps(step))


def annealing_as_inverse_time_decay(a: float, epsilon: float) -> dict:
    """Arguments of ``keras.optimizers.schedules.InverseTimeDecay`` equal to :func:`annealing`.

    ``a / (epsilon + t) = (a / epsilon) / (1 + t / epsilon)``: initial rate
    ``a / epsilon``, ``decay_steps = epsilon``, ``decay_rate = 1``.
    Introduced in notebook 04.
    """
    checks.positive(a, "a")
    checks.positive(epsilon, "epsilon")
    return {"initial_learning_rate": a / epsilon, "decay_steps": epsilon, "decay_rate": 1.0}


def piecewise_constant(step, boundaries, values):
    """Step decay: ``values[i]`` while ``boundaries[i-1] < t <= boundaries[i]``.

    Equals ``keras.optimizers.schedules.PiecewiseConstantDecay`` (note the
    ``<=``: the rate changes one step *after* each boundary).
    Introduced in notebook 04.
    """
    boundaries = list(boundaries)
    values = list(values)
    if len(values) != len(boundaries) + 1:
        raise ValueError(
            f"Expected len(values) == len(boundaries) + 1. Received: {len(boundaries)} boundaries, {len(values)} values"
        )
    if any(b2 <= b1 for b1, b2 in zip(boundaries, boundaries[1:])):
        raise ValueError(f"Expected increasing boundaries. Received: boundaries={boundaries}")
    t = _steps(step)
    index = np.searchsorted(np.asarray(boundaries, dtype=np.float64), t, side="left")
    return np.asarray(values, dtype=np.float64)[index]


def exponential_decay(step, initial_learning_rate, decay_steps, decay_rate, staircase=False):
    """``initial * decay_rate ** (t / decay_steps)`` (``floor`` of the exponent if staircase).

    Equals ``keras.optimizers.schedules.ExponentialDecay``. Introduced in notebook 04.
    """
    checks.positive(decay_steps, "decay_steps")
    p = _steps(step) / decay_steps
    if staircase:
        p = np.floor(p)
    return initial_learning_rate * decay_rate**p


def cosine_decay(step, initial_learning_rate, decay_steps, alpha=0.0, warmup_target=None, warmup_steps=0):
    """Cosine decay from the peak to ``alpha * peak`` over ``decay_steps``, after an optional linear warm-up.

    Without warm-up the peak is ``initial_learning_rate``. With ``warmup_target``
    the rate climbs linearly from ``initial_learning_rate`` to ``warmup_target``
    over ``warmup_steps``, then decays from there. Equals
    ``keras.optimizers.schedules.CosineDecay``. Introduced in notebook 04.
    """
    checks.positive(decay_steps, "decay_steps")
    t = _steps(step)

    def decay(s, peak):
        s = np.minimum(s, decay_steps)
        return peak * ((1 - alpha) * 0.5 * (1 + np.cos(np.pi * s / decay_steps)) + alpha)

    if warmup_target is None:
        return decay(t, initial_learning_rate)
    checks.positive(warmup_steps, "warmup_steps")  # a warm-up to warmup_target needs steps
    t = np.minimum(t, decay_steps + warmup_steps)
    warm = initial_learning_rate + (warmup_target - initial_learning_rate) * t / warmup_steps
    return np.where(t < warmup_steps, warm, decay(t - warmup_steps, warmup_target))


def cosine_decay_restarts(step, initial_learning_rate, first_decay_steps, t_mul=2.0, m_mul=1.0, alpha=0.0):
    """SGDR: cosine decay that restarts at the peak; cycle ``i`` lasts ``first_decay_steps * t_mul**i``
    steps and peaks at ``initial_learning_rate * m_mul**i``.

    Equals ``keras.optimizers.schedules.CosineDecayRestarts``. Introduced in notebook 04.
    """
    checks.positive(first_decay_steps, "first_decay_steps")
    checks.positive(t_mul, "t_mul")
    fraction = _steps(step) / first_decay_steps
    if t_mul == 1.0:
        i_restart = np.floor(fraction)
        fraction = fraction - i_restart
    else:
        i_restart = np.floor(np.log(1.0 - fraction * (1.0 - t_mul)) / np.log(t_mul))
        done = (1.0 - t_mul**i_restart) / (1.0 - t_mul)
        fraction = (fraction - done) / t_mul**i_restart
    cosine = 0.5 * m_mul**i_restart * (1.0 + np.cos(np.pi * fraction))
    return initial_learning_rate * ((1 - alpha) * cosine + alpha)


def restart_ends(first_decay_steps: int, cycles: int, t_mul: float = 2.0) -> list[int]:
    """The steps at which each of the first ``cycles`` SGDR cycles ends (where a snapshot is taken).

    Cycle ``i`` lasts ``first_decay_steps * t_mul**i`` steps, so cycle ``k``
    ends after ``first_decay_steps * (1 + t_mul + ... + t_mul**k)`` steps.
    Introduced in notebook 04.
    """
    cycles = checks.positive_int(cycles, "cycles")
    checks.positive(first_decay_steps, "first_decay_steps")
    ends, total = [], 0.0
    for i in range(cycles):
        total += first_decay_steps * t_mul**i
        ends.append(int(round(total)))
    return ends


# --------------------------------------------------------------------------- #
# softmax regression: a convex problem in NumPy to run the optimizers on
# --------------------------------------------------------------------------- #
def softmax_cross_entropy(logits, labels) -> tuple[float, np.ndarray]:
    """Mean cross-entropy of ``softmax(logits)`` for integer ``labels``, and its gradient with respect to the
    logits, ``(softmax(logits) - one_hot(labels)) / n``.

    ``logits`` is ``(n, classes)``; the row maximum is subtracted first, so large
    logits do not overflow. Computed in the logits' dtype. Introduced in notebook 03.
    """
    logits = np.asarray(logits)
    labels = np.asarray(labels)
    if logits.ndim != 2 or labels.shape != (len(logits),):
        raise ValueError(
            f"Expected logits (n, classes) and n integer labels. Received: logits of shape "
            f"{logits.shape}, labels of shape {labels.shape}"
        )
    rows = np.arange(len(labels))
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    total = e.sum(axis=1, keepdims=True)
    loss = float(-(z[rows, labels] - np.log(total[:, 0])).mean())
    grad = e / total
    grad[rows, labels] -= 1.0
    return loss, grad / len(labels)


def softmax_regression(kernel, bias, x, y) -> tuple[float, list[np.ndarray]]:
    """Softmax regression ``logits = x kernel + bias``: its mean cross-entropy on ``(x, y)`` and the gradients
    ``[d kernel, d bias]`` (:func:`softmax_cross_entropy`, then the chain rule).

    Introduced in notebook 04.
    """
    loss, dlogits = softmax_cross_entropy(x @ kernel + bias, y)
    return loss, [x.T @ dlogits, dlogits.sum(axis=0)]


# --------------------------------------------------------------------------- #
# 2-D surfaces to watch optimizers on
# --------------------------------------------------------------------------- #
@dataclasses.dataclass
class Surface:
    """A 2-D loss surface: value, gradient, where its minima are, a start point and a plot window.

    ``f`` and ``grad`` take a length-2 array (``f`` also takes ``(..., 2)`` grids).
    Introduced in notebook 04.
    """

    name: str
    f: Callable
    grad: Callable
    minima: np.ndarray
    start: np.ndarray
    xlim: tuple
    ylim: tuple

    def distance_to_minimum(self, point) -> float:
        """Euclidean distance from ``point`` to the nearest minimum."""
        return float(np.min(np.linalg.norm(self.minima - np.asarray(point)[None], axis=-1)))

    def distances(self, path) -> np.ndarray:
        """Distance of every point of a ``(steps + 1, 2)`` path to the nearest minimum (NaN stays NaN)."""
        path = np.asarray(path, dtype=np.float64)
        return np.min(np.linalg.norm(path[:, None, :] - self.minima[None], axis=-1), axis=1)

    def steps_to_reach(self, path, tolerance: float) -> int | None:
        """The first step at which ``path`` is within ``tolerance`` of a minimum and stays there; None if never."""
        d = self.distances(path)
        inside = np.nan_to_num(d, nan=np.inf) <= tolerance
        if not inside[-1]:
            return None
        outside = np.flatnonzero(~inside)
        return 0 if outside.size == 0 else int(outside[-1] + 1)


def ravine(condition: float = 50.0, angle: float = 0.0) -> Surface:
    """The quadratic ``f = (x'^2 + condition * y'^2) / 2`` in axes rotated by ``angle`` (radians).

    Its Hessian has eigenvalues 1 and ``condition``: a long narrow valley,
    minimum at the origin. Introduced in notebook 04.
    """
    checks.positive(condition, "condition")
    c, s = math.cos(angle), math.sin(angle)
    rot = np.array([[c, s], [-s, c]])  # rotates the plane into the valley's axes
    hessian = rot.T @ np.diag([1.0, condition]) @ rot

    def f(p):
        p = np.asarray(p, dtype=np.float64)
        return 0.5 * np.einsum("...i,ij,...j->...", p, hessian, p)

    def grad(p):
        return hessian @ np.asarray(p, dtype=np.float64)

    start = rot.T @ np.array([-4.5, 0.6])
    name = f"ravine (condition {condition:g})" + (f", rotated {math.degrees(angle):.0f} deg" if angle else "")
    return Surface(name, f, grad, np.zeros((1, 2)), start, (-5.0, 5.0), (-1.5, 1.5))


def saddle(stiffness: float = 10.0) -> Surface:
    """``f = stiffness x^2 / 2 + y^4 / 4 - y^2 / 2``: a saddle point at the origin, minima at (0, +-1).

    Curvature ``stiffness`` across, -1 along the way out. Started just off the
    saddle's stable line (y = 1e-3), gradient descent - whose learning rate the
    stiff direction caps at ``2 / stiffness`` - lingers where the gradient is
    nearly zero. Introduced in notebook 04.
    """
    checks.positive(stiffness, "stiffness")

    def f(p):
        p = np.asarray(p, dtype=np.float64)
        x, y = p[..., 0], p[..., 1]
        return 0.5 * stiffness * x**2 + 0.25 * y**4 - 0.5 * y**2

    def grad(p):
        x, y = np.asarray(p, dtype=np.float64)
        return np.array([stiffness * x, y**3 - y])

    return Surface(
        "saddle", f, grad, np.array([[0.0, 1.0], [0.0, -1.0]]), np.array([1.5, 1e-3]), (-2.0, 2.0), (-1.6, 1.6)
    )


def rosenbrock(a: float = 1.0, b: float = 100.0) -> Surface:
    """Rosenbrock's banana ``f = (a - x)^2 + b (y - x^2)^2``, minimum at ``(a, a^2)``.

    Introduced in notebook 04.
    """

    def f(p):
        p = np.asarray(p, dtype=np.float64)
        x, y = p[..., 0], p[..., 1]
        return (a - x) ** 2 + b * (y - x**2) ** 2

    def grad(p):
        x, y = np.asarray(p, dtype=np.float64)
        return np.array([-2 * (a - x) - 4 * b * x * (y - x**2), 2 * b * (y - x**2)])

    return Surface("Rosenbrock", f, grad, np.array([[a, a * a]]), np.array([-1.2, 1.0]), (-2.0, 2.0), (-1.0, 3.0))


def trajectory(optimizer: Optimizer, surface: Surface, steps: int, start=None) -> np.ndarray:
    """Run ``optimizer`` on ``surface`` for ``steps`` steps; return the ``(steps + 1, 2)`` path.

    Stops early (repeating the last point) if the iterate leaves the finite
    numbers, so a divergent learning rate gives a path, not an error.
    Introduced in notebook 04.
    """
    x = np.array(surface.start if start is None else start, dtype=np.float64)
    path = np.empty((steps + 1, 2))
    path[0] = x
    for i in range(1, steps + 1):
        optimizer.step([x], [surface.grad(x)])
        if not np.all(np.isfinite(x)) or np.abs(x).max() > 1e6:
            path[i:] = np.nan
            break
        path[i] = x
    return path


def plot_paths(surface: Surface, paths: dict, title: str | None = None, ax=None, levels: int = 30):
    """Contours of ``surface`` (log-spaced levels) with one line per ``{name: path}``.

    Returns the figure. Introduced in notebook 04.
    """
    import matplotlib.pyplot as plt

    from lib import viz

    if ax is None:
        fig, ax = plt.subplots(figsize=(4.6, 3.6), dpi=viz.DPI)
    else:
        fig = ax.figure
    xs = np.linspace(*surface.xlim, 200)
    ys = np.linspace(*surface.ylim, 200)
    grid = np.stack(np.meshgrid(xs, ys), axis=-1)
    z = surface.f(grid)
    z = z - z.min() + 1e-3
    ax.contour(xs, ys, z, levels=np.geomspace(z.min(), z.max(), levels), cmap="Greys", linewidths=0.6)
    for i, (name, path) in enumerate(paths.items()):
        path = np.asarray(path)
        ax.plot(path[:, 0], path[:, 1], "-", color=f"C{i}", lw=1.2, label=name)
        ax.plot(path[0, 0], path[0, 1], "o", color="k", ms=3)
    ax.plot(surface.minima[:, 0], surface.minima[:, 1], "*", color="gold", mec="k", ms=10)
    ax.set_xlim(*surface.xlim)
    ax.set_ylim(*surface.ylim)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title(title or surface.name)
    ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    return fig
