"""Checks for notebook 11's exercises (style transfer). Each computes the right answer independently
(NumPy, or ``lib.style`` against a direct formula) and says what was expected and received.

Introduced in notebook 11 (style transfer).
"""

from __future__ import annotations

import numpy as np

from lib.exercises import Wrong, exercise, expect_close, expect_equal, expect_true, is_number, part


def _as_array(name: str, value) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype="float64")
    except (TypeError, ValueError):
        raise Wrong(f"{name}: expected an array, received {type(value).__name__}.") from None
    return arr


@exercise("11.1", "Size of a style representation")
def check_gram_size(gram_shape_1, distinct_entries_1, positions_1):
    channels, side = 256, 512 // 2 // 2  # block3_conv1 of VGG16 comes after two 2x2 poolings
    try:
        shape = tuple(int(s) for s in gram_shape_1)
    except TypeError:
        raise Wrong(
            f"gram_shape_1: expected a tuple (rows, columns), received {type(gram_shape_1).__name__}."
        ) from None
    expect_equal(
        "gram_shape_1",
        shape,
        (channels, channels),
        hint="a Gram matrix is channels x channels, whatever the image size.",
    )
    if distinct_entries_1 == channels * channels:
        raise Wrong(
            f"distinct_entries_1: {channels * channels} counts G_ij and G_ji twice. Hint: G is symmetric; "
            "count the diagonal and one triangle."
        )
    expect_equal(
        "distinct_entries_1",
        distinct_entries_1,
        channels * (channels + 1) // 2,
        hint="the diagonal (C numbers) plus one triangle (C (C - 1) / 2).",
    )
    if positions_1 == 512 * 512:
        raise Wrong("positions_1: 512 x 512 is the input's size. Hint: two 2x2 poolings halve each side twice.")
    expect_equal("positions_1", positions_1, side * side, hint="M = H_l x W_l at that layer.")
    return f"correct: {channels}x{channels}, {channels * (channels + 1) // 2:,} distinct numbers, M = {side * side:,}."


@exercise("11.2", "The Gram matrix forgets the layout")
def check_shuffle(features_2, shuffled_2, gram_change_2):
    f = _as_array("features_2", features_2)
    s = _as_array("shuffled_2", shuffled_2)
    expect_true(
        f.ndim == 3,
        f"features_2: expected feature maps (H, W, C), received shape {f.shape}. Keep the given cell that defines it.",
    )
    expect_equal("shuffled_2 shape", s.shape, f.shape)
    flat_f, flat_s = f.reshape(-1, f.shape[-1]), s.reshape(-1, s.shape[-1])
    expect_true(not np.array_equal(flat_f, flat_s), "shuffled_2 equals features_2: nothing was shuffled.")
    # a spatial permutation moves whole pixels: the set of C-vectors is unchanged
    same_rows = np.array_equal(np.unique(flat_f, axis=0), np.unique(flat_s, axis=0)) and np.array_equal(
        np.sort(flat_f, axis=0), np.sort(flat_s, axis=0)
    )
    expect_true(
        same_rows,
        "shuffled_2 is not a rearrangement of the positions of features_2. Hint: permute the "
        "H*W rows of features_2.reshape(-1, C), keeping each row (all channels of a pixel) whole; "
        "shuffling channels or single values changes the Gram matrix.",
    )
    expect_true(is_number(gram_change_2), f"gram_change_2: expected a number, received {gram_change_2!r}.")
    g_f = flat_f.T @ flat_f / len(flat_f)
    g_s = flat_s.T @ flat_s / len(flat_s)
    true_change = float(np.abs(g_f - g_s).max())
    scale = float(np.abs(g_f).max()) or 1.0
    expect_true(true_change <= 1e-5 * scale, "the Gram matrices differ: shuffled_2 is not a pure permutation.")
    expect_close(
        "gram_change_2",
        gram_change_2,
        true_change,
        rtol=0,
        atol=1e-4 * scale,
        hint="max |G(shuffled) - G(features)|, which is zero up to float rounding.",
    )
    moved = float(np.mean((flat_f - flat_s) ** 2) / 2)
    return (
        f"correct: the Gram matrix did not change (up to {true_change:.1g}), while the content loss between "
        f"the two maps is {moved:.3g}."
    )


@exercise("11.3", "Total variation of a checkerboard")
def check_tv(tv1_3, tv2_3, tv_constant_3):
    x = (np.indices((8, 8)).sum(axis=0) % 2).astype("float64")
    jumps = np.abs(np.diff(x, axis=0)).ravel().tolist() + np.abs(np.diff(x, axis=1)).ravel().tolist()
    tv1, tv2 = float(sum(jumps)), float(sum(j**2 for j in jumps))
    if is_number(tv1_3) and np.isclose(tv1_3, 2 * 8 * 8):
        raise Wrong(
            "tv1_3: 128 counts 2 differences for every pixel. Hint: the last row has no neighbour below "
            "and the last column none to the right: 2 x 8 x 7 pairs."
        )
    expect_close("tv1_3", tv1_3, tv1, hint="every neighbouring pair differs by exactly 1.")
    expect_close("tv2_3", tv2_3, tv2, hint="with jumps of 1, squaring changes nothing.")
    expect_close("tv_constant_3", tv_constant_3, 0.0, hint="a constant image has no differences.")
    return f"correct: TV_1 = TV_2 = {tv1:.0f} (2 x 8 x 7 neighbouring pairs, each differing by 1)."


@exercise("11.4", "How the losses scale")
def check_scaling(gram_factor_4, content_factor_4, style_factor_4):
    from lib import style

    rng = np.random.default_rng(0)
    f = rng.standard_normal((6, 6, 4)).astype("float32")
    g1 = np.asarray(style.gram_matrix(f))
    g2 = np.asarray(style.gram_matrix(2 * f))
    gram = float(np.round(np.abs(g2).sum() / np.abs(g1).sum()))
    zero_gram = np.zeros((4, 4), "float32")
    content = float(np.round(float(style.content_loss(2 * f, 0 * f)) / float(style.content_loss(f, 0 * f))))
    style_f = float(
        np.round(float(style.style_layer_loss(2 * f, zero_gram)) / float(style.style_layer_loss(f, zero_gram)))
    )
    expect_close("gram_factor_4", gram_factor_4, gram, hint="each entry is a product of two activations.")
    expect_close("content_factor_4", content_factor_4, content, hint="the content loss squares the activations.")
    if is_number(style_factor_4) and np.isclose(style_factor_4, gram):
        raise Wrong(f"style_factor_4: {gram:g} is the Gram's factor. Hint: the style loss squares the Gram difference.")
    expect_close("style_factor_4", style_factor_4, style_f, hint="(2^2)^2.")
    return "correct: Gram x4, content loss x4, style loss x16 - the style term grows like the activations^4."


@exercise("11.5", "The Gram matrix from channel statistics", parts={"gram": 1, "adain": 1})
def check_gram_from_moments(gram_from_moments_5, adain_gram_5):
    from lib import style

    expect_true(callable(gram_from_moments_5), "gram_from_moments_5: expected a function (mu, cov) -> (C, C).")
    expect_true(callable(adain_gram_5), "adain_gram_5: expected a function (mu_s, sigma_s) -> (C, C).")
    rng = np.random.default_rng(5)
    # ReLU features: positive means, correlated channels
    f = np.maximum(rng.standard_normal((7, 9, 4)) @ rng.standard_normal((4, 4)) + 0.5, 0.0)
    flat = f.reshape(-1, 4)
    mu, cov = flat.mean(axis=0), np.cov(flat, rowvar=False, bias=True)
    expected = np.asarray(style.gram_matrix(f.astype("float32")), dtype="float64")
    with part("gram"):
        got = _as_array("gram_from_moments_5(mu, cov)", gram_from_moments_5(mu, cov))
        expect_equal("gram_from_moments_5(mu, cov) shape", got.shape, (4, 4))
        if np.allclose(got, cov, rtol=1e-3, atol=1e-6):
            raise Wrong(
                "gram_from_moments_5 returned the covariance. Hint: the Gram matrix averages products of the raw "
                "features, not of the centred ones: (1/M) F^T F = cov + mu mu^T."
            )
        if np.allclose(got, cov + np.diag(mu**2), rtol=1e-3, atol=1e-6):
            raise Wrong("gram_from_moments_5 adds mu_i^2 to the diagonal only. Hint: mu mu^T is a full C x C matrix.")
        expect_close("gram_from_moments_5(mu, cov)", got, expected, rtol=1e-4, atol=1e-6, hint="cov + outer(mu, mu).")
    with part("adain"):
        mu_s, sigma_s = np.array([1.0, 0.5, 2.0]), np.array([0.3, 1.0, 0.7])
        got = _as_array("adain_gram_5(mu_s, sigma_s)", adain_gram_5(mu_s, sigma_s))
        # AdaIN output of uncorrelated content channels: each channel has the style's mean and std, no correlations
        content = rng.standard_normal((200_000, 3))
        content = (content - content.mean(axis=0)) / content.std(axis=0)
        t = content * sigma_s + mu_s
        empirical = t.T @ t / len(t)
        if np.allclose(got, np.diag(sigma_s**2) + np.diag(mu_s**2), rtol=1e-3, atol=1e-3):
            raise Wrong("adain_gram_5: the off-diagonal entries are mu_i mu_j, not 0. Hint: outer(mu_s, mu_s).")
        if np.allclose(got, np.diag(sigma_s) + np.outer(mu_s, mu_s), rtol=1e-3, atol=1e-3):
            raise Wrong("adain_gram_5: the covariance holds variances, sigma^2, not standard deviations.")
        expect_close(
            "adain_gram_5(mu_s, sigma_s)",
            got,
            empirical,
            rtol=0,
            atol=0.03,
            hint="diag(sigma_s^2) + outer(mu_s, mu_s).",
        )
    return (
        "correct: G = cov + mu mu^T. AdaIN sets mu and the diagonal of cov to the style's; only the off-diagonal "
        "covariances stay the content's."
    )
