"""lib.gradcheck: central differences against gradients known in closed form (x**3, a matrix product's backward
pass, a quadratic form), the relative error's properties, and bad input."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib import gradcheck


def test_gradient_of_the_sum_of_cubes_is_three_x_squared():
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    np.testing.assert_allclose(gradcheck.numerical_gradient(lambda a: np.sum(a**3), x), 3 * x**2, rtol=1e-8)


def test_matrix_product_backward_pass():
    """y = X W: for an upstream gradient G, dL/dW = X^T G and dL/dX = G W^T (CS231n's affine layer)."""
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((5, 4)), rng.standard_normal((4, 3))
    upstream = rng.standard_normal((5, 3))
    dw = gradcheck.numerical_gradient_array(lambda v: x @ v, w, upstream)
    dx = gradcheck.numerical_gradient_array(lambda v: v @ w, x, upstream)
    assert gradcheck.relative_error(dw, x.T @ upstream) < 1e-8
    assert gradcheck.relative_error(dx, upstream @ w.T) < 1e-8


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**16), n=st.integers(1, 5))
def test_gradient_of_a_quadratic_form(seed, n):
    """d/dx (x^T A x) = (A + A^T) x; central differences are exact for quadratics up to rounding."""
    rng = np.random.default_rng(seed)
    a, x = rng.standard_normal((n, n)), rng.standard_normal(n)
    numeric = gradcheck.numerical_gradient(lambda v: v @ a @ v, x)
    np.testing.assert_allclose(numeric, (a + a.T) @ x, rtol=1e-6, atol=1e-8)


def test_the_input_is_left_alone_and_worked_on_in_float64():
    x = np.array([0.5, -1.5], dtype=np.float32)
    seen = []
    gradcheck.numerical_gradient(lambda v: seen.append(v.dtype) or float(np.sum(v)), x)
    assert x.tolist() == [0.5, -1.5] and set(seen) == {np.dtype("float64")}


def test_relative_error_properties():
    a = np.array([1.0, -2.0, 3.0])
    assert gradcheck.relative_error(a, a) == 0.0
    assert gradcheck.relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert gradcheck.relative_error(a, a + 1e-6) == gradcheck.relative_error(a + 1e-6, a)
    assert gradcheck.relative_error(a, -a) == pytest.approx(1.0)  # the largest it can be
    assert 0 < gradcheck.relative_error(a, 1.01 * a) < 1e-2


def test_bad_input_raises():
    with pytest.raises(ValueError, match=r"Expected h > 0. Received: h=0"):
        gradcheck.numerical_gradient(np.sum, np.ones(2), h=0)
    with pytest.raises(ValueError, match=r"Expected arrays of the same shape. Received: shapes \(2,\) and \(3,\)"):
        gradcheck.relative_error(np.ones(2), np.ones(3))
