"""Notebook 11's exercise checks: right answers pass, typical mistakes get a helpful message."""

import numpy as np
import pytest

from lib import exercises, style


def status(key, **answers):
    return exercises.evaluate(key, **answers)


def test_11_1_gram_size():
    assert status("11.1", gram_shape_1=(256, 256), distinct_entries_1=32896, positions_1=128 * 128).passed
    r = status("11.1", gram_shape_1=(256, 256), distinct_entries_1=256 * 256, positions_1=128 * 128)
    assert r.status == "wrong" and "symmetric" in r.message
    r = status("11.1", gram_shape_1=(256, 256), distinct_entries_1=32896, positions_1=512 * 512)
    assert r.status == "wrong" and "poolings" in r.message
    r = status("11.1", gram_shape_1=(128, 128, 256), distinct_entries_1=32896, positions_1=16384)
    assert r.status == "wrong" and "channels x channels" in r.message
    assert status("11.1", gram_shape_1=None, distinct_entries_1=1, positions_1=1).status == "unanswered"
    assert status("11.1", gram_shape_1=3, distinct_entries_1=1, positions_1=1).status in ("wrong", "error")


def features():
    return np.random.default_rng(0).standard_normal((6, 5, 4)).astype("float32")


def test_11_2_shuffle():
    f = features()
    perm = np.random.default_rng(1).permutation(30)
    s = f.reshape(30, 4)[perm].reshape(f.shape)
    change = float(np.abs(np.asarray(style.gram_matrix(s)) - np.asarray(style.gram_matrix(f))).max())
    r = status("11.2", features_2=f, shuffled_2=s, gram_change_2=change)
    assert r.passed, r.message
    # shuffling every value independently breaks pixels apart
    flat = f.ravel().copy()
    np.random.default_rng(2).shuffle(flat)
    r = status("11.2", features_2=f, shuffled_2=flat.reshape(f.shape), gram_change_2=0.0)
    assert r.status == "wrong" and "rearrangement of the positions" in r.message
    r = status("11.2", features_2=f, shuffled_2=f.copy(), gram_change_2=0.0)
    assert r.status == "wrong" and "nothing was shuffled" in r.message
    r = status("11.2", features_2=f, shuffled_2=s, gram_change_2=5.0)
    assert r.status == "wrong" and "gram_change_2" in r.message
    assert status("11.2", features_2=f, shuffled_2=None, gram_change_2=None).status == "unanswered"
    assert status("11.2", features_2=f, shuffled_2="abc", gram_change_2=0.0).status in ("wrong", "error")


def test_11_3_tv():
    assert status("11.3", tv1_3=112.0, tv2_3=112.0, tv_constant_3=0.0).passed
    r = status("11.3", tv1_3=128.0, tv2_3=128.0, tv_constant_3=0.0)
    assert r.status == "wrong" and "2 x 8 x 7" in r.message
    r = status("11.3", tv1_3=112.0, tv2_3=112.0, tv_constant_3=1.0)
    assert r.status == "wrong" and "constant" in r.message
    assert status("11.3", tv1_3=None, tv2_3=1.0, tv_constant_3=0.0).status == "unanswered"
    assert status("11.3", tv1_3="many", tv2_3=1.0, tv_constant_3=0.0).status in ("wrong", "error")


def test_11_4_scaling():
    assert status("11.4", gram_factor_4=4, content_factor_4=4, style_factor_4=16).passed
    r = status("11.4", gram_factor_4=4, content_factor_4=4, style_factor_4=4)
    assert r.status == "wrong" and "squares the Gram" in r.message
    r = status("11.4", gram_factor_4=2, content_factor_4=4, style_factor_4=16)
    assert r.status == "wrong" and "product of two activations" in r.message
    assert status("11.4", gram_factor_4=None, content_factor_4=4, style_factor_4=16).status == "unanswered"
    assert status("11.4", gram_factor_4=[4, 4], content_factor_4=4, style_factor_4=16).status in ("wrong", "error")


@pytest.mark.parametrize("key", ["11.1", "11.2", "11.3", "11.4"])
def test_registered(key):
    assert key in [ex.key for ex in exercises.exercises_of("11")]


def test_11_5_gram_from_moments():
    def right(mu, cov):
        return np.asarray(cov) + np.outer(mu, mu)

    def adain(mu_s, sigma_s):
        return np.diag(np.asarray(sigma_s) ** 2) + np.outer(mu_s, mu_s)

    r = status("11.5", gram_from_moments_5=right, adain_gram_5=adain)
    assert r.passed, r.message
    r = status("11.5", gram_from_moments_5=lambda mu, cov: cov, adain_gram_5=adain)
    assert r.status == "partial" and "mu mu^T" in r.message
    r = status(
        "11.5", gram_from_moments_5=right, adain_gram_5=lambda m, s: np.diag(np.asarray(s) ** 2 + np.asarray(m) ** 2)
    )
    assert r.status == "partial" and "off-diagonal" in r.message
    r = status("11.5", gram_from_moments_5=right, adain_gram_5=lambda m, s: np.diag(s) + np.outer(m, m))
    assert r.status == "partial" and "sigma^2" in r.message
    assert status("11.5", gram_from_moments_5=None, adain_gram_5=None).status == "unanswered"
