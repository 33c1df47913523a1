"""The checks of notebook 12's exercises: right answers pass, typical mistakes get a helpful message."""

import numpy as np
import pytest

from lib import exercises


def _patches(images):
    return np.lib.stride_tricks.sliding_window_view(images[..., 0], (3, 3), axis=(1, 2)).reshape(-1, 9)


def zca_kernel(images, eps):
    lam, vecs = np.linalg.eigh(np.cov(_patches(images).astype(np.float64), rowvar=False))
    return (vecs @ np.diag(1 / np.sqrt(lam + eps)) @ vecs.T).reshape(3, 3, 1, 9)


def pca_kernel(images, eps):
    lam, vecs = np.linalg.eigh(np.cov(_patches(images).astype(np.float64), rowvar=False))
    return (vecs / np.sqrt(lam + eps)).reshape(3, 3, 1, 9)


def largest_lr(X):
    return 2 / np.linalg.eigvalsh(X.T @ X / len(X)).max()


def smoothed_floor(eps, k):
    top, rest = 1 - eps + eps / k, eps / k
    return -(top * np.log(top) + (k - 1) * rest * np.log(rest))


RIGHT = {
    "12.1": {"zca_kernel_1": zca_kernel},
    "12.2": {"largest_lr_2": largest_lr},
    "12.3": {"smoothed_floor_3": smoothed_floor},
    "12.4": {"updates_4": 4},
}

WRONG = [
    ("12.1", {"zca_kernel_1": pca_kernel}, "PCA whitening"),
    ("12.1", {"zca_kernel_1": lambda images, eps: zca_kernel(images, 1e-12)}, "without eps"),
    ("12.2", {"largest_lr_2": lambda X: 1 / np.linalg.eigvalsh(X.T @ X / len(X)).max()}, "1 / lambda_max"),
    ("12.2", {"largest_lr_2": lambda X: 2 / np.linalg.eigvalsh(X.T @ X).max()}, "X^T X / n"),
    ("12.3", {"smoothed_floor_3": lambda eps, k: 0.0}, "entropy of q"),
    ("12.3", {"smoothed_floor_3": lambda eps, k: -np.log(1 - eps)}, "K - 1 have eps/K"),
    ("12.4", {"updates_4": 16}, "number of batches"),
]


@pytest.mark.parametrize("key", sorted(RIGHT))
def test_right_answers_pass(key):
    result = exercises.evaluate(key, **RIGHT[key])
    assert result.passed, result.message


@pytest.mark.parametrize("key,answers,phrase", WRONG)
def test_typical_mistakes_get_a_helpful_message(key, answers, phrase):
    result = exercises.evaluate(key, **answers)
    assert not result.passed
    assert phrase in result.message, result.message
