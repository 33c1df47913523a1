"""Checks for notebook 12 (training fast).

Each computes the right answer with Keras or NumPy, never a typed-in number.
"""

from __future__ import annotations

import numpy as np

from lib.exercises import Wrong, exercise, expect_close, expect_equal, expect_true, is_number


def _test_images(seed: int = 0, n: int = 64, size: int = 12) -> np.ndarray:
    """Smooth random grey images: neighbouring pixels correlated, as in photos."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, size + 2, size + 2))
    x = (x[:, :-2, :-2] + x[:, 1:-1, 1:-1] + x[:, 2:, 2:] + x[:, 1:-1, :-2] + x[:, :-2, 1:-1]) / 5
    return x[..., None].astype("float32")


def _zca(images, eps):
    patches = np.lib.stride_tricks.sliding_window_view(images[..., 0], (3, 3), axis=(1, 2)).reshape(-1, 9)
    lam, vecs = np.linalg.eigh(np.cov(patches.astype(np.float64), rowvar=False))
    return (vecs @ np.diag(1 / np.sqrt(lam + eps)) @ vecs.T).reshape(3, 3, 1, 9), lam, vecs


@exercise("12.1", "Implement ZCA whitening")
def _zca_whitening(zca_kernel_1):
    expect_true(callable(zca_kernel_1), "zca_kernel_1: expected a function zca_kernel_1(images, eps).")
    images = _test_images()
    want, lam, vecs = _zca(images, 0.01)
    got = np.asarray(zca_kernel_1(images, 0.01), dtype=np.float64)
    if got.shape != (3, 3, 1, 9):
        raise Wrong(f"zca_kernel_1: expected a kernel of shape (3, 3, 1, 9). Received shape {got.shape}.")
    matrix = got.reshape(9, 9)
    pca = vecs / np.sqrt(lam + 0.01)
    if np.allclose(np.abs(matrix), np.abs(pca), rtol=1e-3, atol=1e-6) and not np.allclose(matrix, matrix.T):
        raise Wrong(
            "zca_kernel_1: received PCA whitening, V diag(1/sqrt(lam + eps)). ZCA rotates back into pixel space: "
            "multiply by V^T on the right, so the kernel matrix is symmetric."
        )
    no_eps = _zca(images, 1e-12)[0]
    if np.allclose(got, no_eps, rtol=1e-3) and not np.allclose(got, want, rtol=1e-3):
        raise Wrong("zca_kernel_1: received the kernel without eps. Divide by sqrt(lam + eps), eps = 0.01.")
    expect_close(
        "ZCA kernel of 3x3 patches (eps = 0.01) on the check's images",
        got,
        want,
        rtol=1e-3,
        atol=1e-5,
        hint="take every 3x3 patch (stride 1, 'valid'), np.cov(..., rowvar=False), np.linalg.eigh, then "
        "V diag(1/sqrt(lam + eps)) V^T reshaped to (3, 3, 1, 9).",
    )
    return "correct: the kernel matrix is symmetric, and each filter is centred on its own pixel."


@exercise("12.2", "The largest stable learning rate")
def _largest_lr(largest_lr_2):
    expect_true(callable(largest_lr_2), "largest_lr_2: expected a function largest_lr_2(X).")
    X = np.hstack([_test_images(1, 50, 6).reshape(50, -1), np.ones((50, 1), "float32")]).astype(np.float64)
    got = largest_lr_2(X)
    expect_true(is_number(got), f"largest_lr_2(X): expected a number, received {type(got).__name__}.")
    lam_max = np.linalg.eigvalsh(X.T @ X / len(X)).max()
    want = 2 / lam_max
    if np.isclose(got, 1 / lam_max, rtol=1e-3):
        raise Wrong(
            "largest_lr_2: received 1 / lambda_max, the rate that removes the top direction in one step. "
            "Gradient descent still converges up to 2 / lambda_max (each step multiplies the error by 1 - lr lambda)."
        )
    if np.isclose(got, 2 / np.linalg.eigvalsh(X.T @ X).max(), rtol=1e-3):
        raise Wrong("largest_lr_2: the loss averages over n examples: the Hessian is X^T X / n, not X^T X.")
    expect_close(
        "largest stable learning rate of gradient descent on the check's least-squares problem",
        got,
        want,
        rtol=1e-3,
        hint="the Hessian of (1/2n)||Xw - y||^2 is X^T X / n; the limit is 2 over its largest eigenvalue.",
    )


@exercise("12.3", "The floor of a smoothed loss")
def _smoothed_floor(smoothed_floor_3):
    import keras

    expect_true(callable(smoothed_floor_3), "smoothed_floor_3: expected a function smoothed_floor_3(eps, k).")
    for eps, k in ((0.1, 10), (0.2, 10), (0.3, 2), (0.05, 100)):
        q = np.full((1, k), eps / k, dtype=np.float64)
        q[0, 0] += 1 - eps
        floor = float(
            keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=eps)(
                np.eye(k)[[0]], np.log(q).astype("float32")
            )
        )
        got = smoothed_floor_3(eps, k)
        expect_true(is_number(got), f"smoothed_floor_3({eps}, {k}): expected a number, received {got!r}.")
        if np.isclose(got, 0.0):
            raise Wrong(
                f"smoothed_floor_3({eps}, {k}): received 0, the floor of the plain loss. With smoothed targets q "
                "the loss -sum q log p is smallest at p = q, where it equals the entropy of q."
            )
        expect_close(
            f"lowest label-smoothed cross-entropy for eps = {eps}, K = {k}",
            got,
            floor,
            rtol=1e-4,
            hint="the entropy of the smoothed target: one class has 1 - eps + eps/K, the other K - 1 have eps/K.",
        )


@exercise("12.4", "Gradient accumulation: how many updates")
def _updates(updates_4):
    expect_true(is_number(updates_4), f"updates_4: expected a whole number, received {type(updates_4).__name__}.")
    images, batch, accumulate = 512, 32, 4
    if updates_4 == images // batch:
        raise Wrong(
            f"updates_4: received {updates_4}, the number of batches. With gradient_accumulation_steps=4 the "
            "weights change once every 4 batches."
        )
    expect_equal("weight updates in one epoch", updates_4, images // batch // accumulate)
