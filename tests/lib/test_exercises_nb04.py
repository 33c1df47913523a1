"""Notebook 04's exercise checks: right answers pass, typical mistakes get a helpful message, None is unanswered."""

import math

import numpy as np

from lib import optim
from lib.exercises import evaluate


def status(key, **answers):
    result = evaluate(key, **answers)
    return result.status, result.message


def test_01_momentum_warm_up():
    rosen = optim.rosenbrock()
    constant = rosen.distance_to_minimum(optim.trajectory(optim.SGD(0.002, momentum=0.9), rosen, 500)[-1])
    opt, x = optim.SGD(0.002, momentum=0.1), rosen.start.copy()
    for step in range(500):
        if step == 50:
            opt.momentum = 0.9
        opt.step([x], [rosen.grad(x)])
    warm = rosen.distance_to_minimum(x)
    closer = "warm-up" if warm < constant else "constant"
    other = "constant" if closer == "warm-up" else "warm-up"
    right = dict(distance_constant_1=constant, distance_warm_1=warm, closer_1=closer)
    assert status("04.1", **right)[0] == "correct"
    st, msg = status("04.1", **dict(right, distance_constant_1=warm, distance_warm_1=constant))
    assert st == "wrong" and "swapped" in msg
    st, msg = status("04.1", **dict(right, closer_1=other))
    assert st == "wrong" and "smaller final distance" in msg
    assert status("04.1", **dict(right, closer_1="both"))[0] == "wrong"
    assert status("04.1", **dict(right, closer_1=None))[0] == "unanswered"


def test_02_adaptivity_per_coordinate():
    grid = np.geomspace(1e-4, 3.0, 16)

    def best(make, angle):
        surface = optim.ravine(50, angle=math.radians(angle))
        runs = []
        for lr in grid[::2]:
            path = optim.trajectory(make(lr), surface, 500)
            steps = surface.steps_to_reach(path, 0.01)
            runs.append((steps if steps is not None else math.inf, surface.distances(path)[-1]))
        return min(runs)[0]

    momentum = [best(lambda lr: optim.SGD(lr, momentum=0.9), a) for a in (0, 15, 30, 45)]
    adagrad = [best(optim.AdaGrad, a) for a in (0, 15, 30, 45)]
    assert len(set(momentum)) == 1 and len(set(adagrad)) > 1
    right = dict(momentum_steps_2=momentum, adagrad_steps_2=adagrad, why_2="a")
    assert status("04.2", **right)[0] == "correct"
    st, msg = status("04.2", **dict(right, why_2="c"))
    assert st == "wrong" and "AdaGrad" in msg
    st, msg = status("04.2", **dict(right, why_2="d"))
    assert st == "wrong" and "eigenvalue" in msg
    st, msg = status("04.2", **dict(right, adagrad_steps_2=[adagrad[0]] * 4))
    assert st == "wrong" and "AdaGrad" in msg
    assert status("04.2", **dict(right, momentum_steps_2=[1, 2]))[0] == "wrong"
    assert status("04.2", **dict(right, why_2=None))[0] == "unanswered"


class AMSGrad(optim.Adam):
    def _make_slots(self, param):
        return {**super()._make_slots(param), "v_max": np.zeros_like(param)}

    def _update(self, slots, param, grad, lr, t):
        b1, b2 = self.beta_1, self.beta_2
        slots["m"] = b1 * slots["m"] + (1 - b1) * grad
        slots["v"] = b2 * slots["v"] + (1 - b2) * grad * grad
        slots["v_max"] = np.maximum(slots["v_max"], slots["v"])
        param -= lr * math.sqrt(1 - b2**t) / (1 - b1**t) * slots["m"] / (np.sqrt(slots["v_max"]) + self.epsilon)


class MaxOfCorrected(AMSGrad):
    def _update(self, slots, param, grad, lr, t):  # a plausible mistake: a different epsilon placement
        b1, b2 = self.beta_1, self.beta_2
        slots["m"] = b1 * slots["m"] + (1 - b1) * grad
        slots["v"] = b2 * slots["v"] + (1 - b2) * grad * grad
        slots["v_max"] = np.maximum(slots["v_max"], slots["v"])
        param -= lr / (1 - b1**t) * slots["m"] / (np.sqrt(slots["v_max"] / (1 - b2**t)) + 1e-3)


def test_03_amsgrad():
    assert status("04.3", amsgrad_class_3=AMSGrad)[0] == "correct"
    st, msg = status("04.3", amsgrad_class_3=optim.Adam)
    assert st == "wrong" and "plain Adam" in msg
    st, msg = status("04.3", amsgrad_class_3=MaxOfCorrected)
    assert st == "wrong" and "differ from Keras" in msg
    st, msg = status("04.3", amsgrad_class_3=AMSGrad(0.01))
    assert st == "wrong" and "the class itself" in msg
    assert status("04.3", amsgrad_class_3=None)[0] == "unanswered"


def test_04_warm_up_cannot_fix_a_rate_above_two_over_lambda():
    ravine = optim.ravine(50)
    paths = [
        optim.trajectory(optim.SGD(rate), ravine, 50) for rate in (0.045, lambda t: 0.045 * min(1.0, (t + 1) / 20))
    ]
    growth = [abs(p[50, 1] / p[40, 1]) for p in paths]
    np.testing.assert_allclose(growth, 1.25**10, rtol=1e-6)
    right = dict(threshold_4=2 / 50, growth_4=growth, warmup_fixes_4=False)
    assert status("04.4", **right)[0] == "correct"
    st, msg = status("04.4", **dict(right, growth_4=[1 / g for g in growth]))
    assert st == "wrong" and "upside down" in msg
    st, msg = status("04.4", **dict(right, warmup_fixes_4=True))
    assert st == "wrong" and "for good" in msg
    st, msg = status("04.4", **dict(right, threshold_4=1 / 50))
    assert st == "wrong" and "twice" in msg
    assert status("04.4", **dict(right, warmup_fixes_4="no"))[0] == "wrong"
    assert status("04.4", **dict(right, growth_4=[1.0]))[0] == "wrong"
    assert status("04.4", **dict(right, growth_4=None))[0] == "unanswered"


def test_05_momentum_with_schedule():
    def sizes(form):
        x, opt, out = np.zeros(1), optim.SGD(lambda t: optim.annealing(t, 0.2, 5.0), momentum=0.9, form=form), []
        for _ in range(100):
            before = x.copy()
            opt.step([x], [np.ones(1)])
            out.append(float(abs(x - before)[0]))
        return out

    v, g = sizes("velocity"), sizes("gradient")
    larger = "velocity" if v[-1] > g[-1] else "gradient"
    right = dict(velocity_step_100_5=v[-1], gradient_step_100_5=g[-1], larger_5=larger)
    assert status("04.5", **right)[0] == "correct"
    st, msg = status("04.5", **dict(right, velocity_step_100_5=g[-1], gradient_step_100_5=v[-1]))
    assert st == "wrong" and "swapped" in msg
    st, msg = status("04.5", **dict(right, velocity_step_100_5=v[0]))
    assert st == "wrong" and "first step" in msg
    st, msg = status("04.5", **dict(right, larger_5="gradient"))
    assert st == "wrong" and "velocity form keeps" in msg
    assert status("04.5", **dict(right, larger_5=None))[0] == "unanswered"
    assert status("04.5", **dict(right, larger_5=1))[0] == "wrong"
