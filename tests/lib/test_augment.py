"""lib.augment: mixup / CutMix / cutout against NumPy references and the Keras built-ins,
PCA colour augmentation as a layer, and the tf.data pipeline's epoch behaviour."""

import keras
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from lib import augment


def batch(n=16, h=8, w=8, c=3, classes=5, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, h, w, c)).astype(np.float32)
    y = np.eye(classes, dtype=np.float32)[rng.integers(0, classes, n)]
    return x, y


def identity_batch(n, h, w):
    """Image i is the constant i and has label class i: pixel values say where they came from."""
    x = np.broadcast_to(np.arange(n, dtype=np.float32)[:, None, None, None], (n, h, w, 3)).copy()
    return x, np.eye(n, dtype=np.float32)


def np_(t):
    return keras.ops.convert_to_numpy(t)


# --------------------------------------------------------------------------- #
# mixup
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("alpha", [0.2, 0.4, 1.0])
@pytest.mark.parametrize("shape", [(4, 5, 5, 1), (16, 8, 6, 3)])
def test_mixup_matches_numpy_formula(alpha, shape):
    x, y = batch(*shape)
    out = augment.mixup(x, y, alpha=alpha, rng=1)
    lam, p = out.lam, out.partner
    assert sorted(p) == list(range(len(x)))
    np.testing.assert_allclose(
        out.images, lam[:, None, None, None] * x + (1 - lam[:, None, None, None]) * x[p], rtol=1e-6, atol=1e-7
    )
    np.testing.assert_allclose(out.labels, lam[:, None] * y + (1 - lam[:, None]) * y[p], rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(out.weight, lam)
    assert out.mask is None


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 12), classes=st.integers(2, 10), alpha=st.floats(0.05, 5.0), seed=st.integers(0, 10**6))
def test_mixup_labels_are_probability_vectors(n, classes, alpha, seed):
    x, y = batch(n, 4, 4, 3, classes, seed)
    out = augment.mixup(x, y, alpha=alpha, rng=seed)
    np.testing.assert_allclose(out.labels.sum(axis=1), 1.0, rtol=1e-6)
    assert (out.labels >= 0).all() and ((0 <= out.lam) & (out.lam <= 1)).all()
    # A mixed image lies between its two parents, pixel by pixel.
    lo, hi = np.minimum(x, x[out.partner]), np.maximum(x, x[out.partner])
    assert ((out.images >= lo - 1e-6) & (out.images <= hi + 1e-6)).all()


@pytest.mark.parametrize("alpha", [0.2, 0.4, 1.0])
def test_mixup_lambda_is_beta_distributed(alpha):
    x, y = batch(4000, 1, 1, 1, 2, seed=3)
    lam = augment.mixup(x, y, alpha=alpha, rng=7).lam
    assert stats.kstest(lam, stats.beta(alpha, alpha).cdf).pvalue > 0.01
    # ... and not some other Beta: the test has power at this sample size.
    assert stats.kstest(lam, stats.beta(2 * alpha, 2 * alpha).cdf).pvalue < 0.01


def weights_from_labels(labels):
    """Own-label weight of image i in an identity batch (label i = class i), partner class, and fixed points."""
    n = len(labels)
    own = labels[np.arange(n), np.arange(n)]
    other = labels.copy()
    other[np.arange(n), np.arange(n)] = 0
    return own, other.argmax(axis=1), np.isclose(own, 1.0) & np.isclose(other.max(axis=1), 0.0)


@pytest.mark.parametrize("alpha", [0.2, 0.4])
def test_keras_mixup_labels_sum_to_one_and_lambda_is_beta(alpha):
    layer = keras.layers.MixUp(alpha=alpha, seed=11)
    lams = []
    for _ in range(20):
        x, y = identity_batch(128, 2, 2)
        out = layer({"images": x, "labels": y})
        images, labels = np_(out["images"]), np_(out["labels"])
        np.testing.assert_allclose(labels.sum(axis=1), 1.0, rtol=1e-5)
        own, partner, fixed = weights_from_labels(labels)
        # The pixels agree with the labels: image i = own * i + (1 - own) * partner.
        expected = np.where(fixed, np.arange(128), own * np.arange(128) + (1 - own) * partner)
        np.testing.assert_allclose(images[:, 0, 0, 0], expected, rtol=1e-4, atol=1e-3)
        lams.append(own[~fixed])  # a fixed point (partner = itself) hides lambda
    lams = np.concatenate(lams)
    assert len(lams) > 2000
    assert stats.kstest(lams, stats.beta(alpha, alpha).cdf).pvalue > 0.01


def test_keras_mixup_is_identity_at_inference():
    x, y = batch()
    out = keras.layers.MixUp(alpha=0.2, seed=0)({"images": x, "labels": y}, training=False)
    np.testing.assert_array_equal(np_(out["images"]), x)
    np.testing.assert_array_equal(np_(out["labels"]), y)


# --------------------------------------------------------------------------- #
# CutMix
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("alpha", [0.25, 1.0])
@pytest.mark.parametrize("hw", [(8, 8), (32, 32), (7, 12)])
def test_cutmix_label_weight_equals_the_pasted_area(alpha, hw):
    x, y = identity_batch(64, *hw)
    out = augment.cutmix(x, y, alpha=alpha, rng=5)
    n = len(x)
    # Count the pasted pixels from the pixels themselves: a value j != i came from image j.
    from_partner = out.images[..., 0] != np.arange(n)[:, None, None]
    moved = out.partner != np.arange(n)
    np.testing.assert_array_equal(from_partner, out.mask & moved[:, None, None])
    pasted = out.mask.mean(axis=(1, 2))
    np.testing.assert_allclose(out.weight, 1 - pasted, atol=1e-7)
    np.testing.assert_allclose(out.labels.sum(axis=1), 1.0, rtol=1e-6)
    own, partner, fixed = weights_from_labels(out.labels)
    np.testing.assert_allclose(own[moved], 1 - from_partner.mean(axis=(1, 2))[moved], atol=1e-6)
    visible = moved & (pasted > 0)
    np.testing.assert_array_equal(partner[visible], out.partner[visible])
    # Clipping and rounding only ever shrink the box: the weight is at least lambda.
    assert (out.weight >= out.lam - 1e-12).all()


def test_cutmix_pastes_one_box_from_the_partner():
    x, y = batch(32, 16, 16, 3, 4, seed=2)
    out = augment.cutmix(x, y, alpha=1.0, rng=9)
    for i in range(len(x)):
        m = out.mask[i]
        np.testing.assert_array_equal(out.images[i][m], x[out.partner[i]][m])
        np.testing.assert_array_equal(out.images[i][~m], x[i][~m])
        if m.any():  # a rectangle: its bounding box is full
            rows, cols = np.where(m.any(axis=1))[0], np.where(m.any(axis=0))[0]
            assert m.sum() == (rows[-1] - rows[0] + 1) * (cols[-1] - cols[0] + 1)


def test_cutmix_lambda_is_beta_distributed_before_clipping():
    x, y = batch(4000, 4, 4, 1, 2, seed=1)
    out = augment.cutmix(x, y, alpha=1.0, rng=3)
    assert stats.kstest(out.lam, stats.beta(1.0, 1.0).cdf).pvalue > 0.01
    assert out.weight.mean() > out.lam.mean()  # clipping keeps more of the own image


@pytest.mark.parametrize("hw", [(32, 32), (20, 13)])
def test_keras_cutmix_label_weight_matches_pasted_pixels_up_to_one_row_and_column(hw):
    """keras.layers.CutMix weights labels by the continuous box area (x1 - x0) * (y1 - y0) while the mask
    takes the pixels whose integer coordinates fall in [x0, x1) x [y0, y1): up to one row and one
    column apart. Labels still sum to one."""
    h, w = hw
    layer = keras.layers.CutMix(factor=(1.0, 1.0), seed=4)
    errors = []
    for _ in range(10):
        x, y = identity_batch(64, h, w)
        out = layer({"images": x, "labels": y})
        images, labels = np_(out["images"]), np_(out["labels"])
        np.testing.assert_allclose(labels.sum(axis=1), 1.0, rtol=1e-5)
        own, partner, fixed = weights_from_labels(labels)
        own_pixels = (images[..., 0] == np.arange(64)[:, None, None]).mean(axis=(1, 2))
        np.testing.assert_array_equal(own_pixels[fixed], 1.0)
        errors.append(own[~fixed] - own_pixels[~fixed])
    errors = np.concatenate(errors)
    assert np.abs(errors).max() <= (h + w + 1) / (h * w)
    assert abs(errors.mean()) < 0.5 / (h * w) * 10  # unbiased on average, within noise


def test_keras_cutmix_lambda_is_beta_distributed_with_a_fixed_factor():
    alpha = 0.5
    layer = keras.layers.CutMix(factor=(alpha, alpha), seed=8)
    weights = []
    for _ in range(20):
        x, y = identity_batch(128, 4, 4)
        own, _, fixed = weights_from_labels(np_(layer({"images": x, "labels": y})["labels"]))
        weights.append(own[~fixed])
    weights = np.concatenate(weights)
    assert stats.kstest(weights, stats.beta(alpha, alpha).cdf).pvalue > 0.01


# --------------------------------------------------------------------------- #
# cutout
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("size", [1, 4, 8, 20])
def test_cutout_fills_a_clipped_square(size):
    x, _ = batch(64, 16, 16, 3)
    out, mask = augment.cutout(x, size=size, fill=0.5, rng=2)
    np.testing.assert_array_equal(out[mask], 0.5)
    np.testing.assert_array_equal(out[~mask], x[~mask])
    areas = mask.sum(axis=(1, 2))
    smallest = min(-(-size // 2), size // 2 + 1, 16)  # a centre on the border keeps about half a side
    assert (areas >= smallest**2).all() and (areas <= min(size, 16) ** 2).all()
    for m in mask:
        rows, cols = np.where(m.any(axis=1))[0], np.where(m.any(axis=0))[0]
        assert m.sum() == len(rows) * len(cols) and len(rows) <= size and len(cols) <= size
    if size <= 8:  # centres far from the border give the whole square
        assert (areas == size * size).any()


@pytest.mark.parametrize("probability", [0.0, 0.3, 1.0])
def test_cutout_probability(probability):
    x, _ = batch(2000, 6, 6, 1)
    _, mask = augment.cutout(x, size=2, probability=probability, rng=4)
    applied = mask.any(axis=(1, 2))
    if probability in (0.0, 1.0):
        assert applied.mean() == probability
    else:
        assert stats.binomtest(int(applied.sum()), len(x), probability).pvalue > 0.01


def test_keras_random_erasing_is_cutout_with_an_inside_box():
    """RandomErasing with scale=(s, s) erases a sqrt(s)H x sqrt(s)W box, always inside the image."""
    x, _ = batch(64, 32, 32, 3)
    layer = keras.layers.RandomErasing(
        factor=(1.0, 1.0), scale=(0.25, 0.25), fill_value=0.5, value_range=(0, 1), seed=3
    )
    out = np_(layer(x))
    changed = (out != x).any(axis=-1)
    assert changed.any(axis=(1, 2)).all()
    for i, m in enumerate(changed):
        rows, cols = np.where(m.any(axis=1))[0], np.where(m.any(axis=0))[0]
        assert m.sum() == len(rows) * len(cols)  # a rectangle
        assert len(rows) in (16, 17) and len(cols) in (16, 17)  # 16 x 16 up to the fractional corner
        np.testing.assert_allclose(out[i][m], 0.5)


# --------------------------------------------------------------------------- #
# Bad arguments
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("fn", [augment.mixup, augment.cutmix])
def test_mixing_bad_arguments(fn):
    x, y = batch()
    for alpha in (0, -1.0, None):
        with pytest.raises(ValueError, match=r"Expected alpha > 0. Received: alpha="):
            fn(x, y, alpha=alpha)
    with pytest.raises(ValueError, match=r"Expected images of shape \(batch, height, width, channels\)"):
        fn(x[0], y)
    with pytest.raises(ValueError, match=r"Expected one-hot labels of shape \(batch, num_classes\)"):
        fn(x, y.argmax(axis=1))
    with pytest.raises(ValueError, match="non-negative rows that sum to 1"):
        fn(x, 2 * y)
    with pytest.raises(ValueError, match="as many labels as images"):
        fn(x, y[:3])
    with pytest.raises(ValueError, match="Expected rng"):
        fn(x, y, rng="seed")


def test_cutout_bad_arguments():
    x, _ = batch()
    for p in (-0.1, 1.5):
        with pytest.raises(ValueError, match=r"Expected probability in \[0, 1\]. Received: probability="):
            augment.cutout(x, 4, probability=p)
    for size in (0, 2.5):
        with pytest.raises(ValueError, match="Expected size to be a positive integer"):
            augment.cutout(x, size)
    with pytest.raises(ValueError, match=r"Expected images of shape \(batch, height, width, channels\)"):
        augment.cutout(x[..., 0], 4)


# --------------------------------------------------------------------------- #
# PCA colour augmentation
# --------------------------------------------------------------------------- #
def coloured(n=64, seed=0):
    """Images whose pixel colours are correlated, like photos."""
    rng = np.random.default_rng(seed)
    base = rng.random((n, 8, 8, 1))
    tint = rng.normal(0, 0.05, (n, 8, 8, 3))
    return np.clip(0.2 + 0.6 * base * np.array([1.0, 0.8, 0.6]) + tint, 0, 1).astype(np.float32)


def test_rgb_pca_matches_numpy_cov_and_accepts_batches():
    x = coloured()
    values, vectors = augment.rgb_pca(x)
    ref_values, ref_vectors = np.linalg.eigh(np.cov(x.reshape(-1, 3).T))
    np.testing.assert_allclose(values, ref_values[::-1], rtol=1e-4)
    np.testing.assert_allclose(np.abs(vectors.T @ ref_vectors[:, ::-1]), np.eye(3), atol=1e-4)
    np.testing.assert_allclose(vectors.T @ vectors, np.eye(3), atol=1e-5)
    assert (values[:-1] >= values[1:]).all()
    v2, w2 = augment.rgb_pca([(x[:20], None), (x[20:], None)])
    np.testing.assert_allclose(v2, values, rtol=1e-4)
    np.testing.assert_allclose(w2, vectors, atol=1e-4)
    with pytest.raises(ValueError, match="3 channels"):
        augment.rgb_pca(x[..., :2])


def test_pca_layer_adapt_identity_at_inference_and_offsets():
    x = coloured()
    layer = augment.PCAColorAugmentation(sigma=0.1, seed=1)
    layer.adapt(x)
    values, vectors = augment.rgb_pca(x)
    np.testing.assert_allclose(np_(layer.eigenvalues), values)
    assert len(layer.weights) == 2 and len(layer.trainable_weights) == 0
    np.testing.assert_array_equal(np_(layer(x)), x)
    np.testing.assert_array_equal(np_(layer(x, training=False)), x)
    xs = np.repeat(x[:1], 4000, axis=0)
    out = np_(layer(xs, training=True))
    offset = out - xs
    np.testing.assert_allclose(offset, offset[:, :1, :1, :].repeat(8, 1).repeat(8, 2), atol=1e-6)  # per image
    offset = offset[:, 0, 0, :]
    alpha = offset @ vectors / values  # coordinates along the principal axes, divided by the eigenvalues
    np.testing.assert_allclose(alpha.std(axis=0), 0.1, rtol=0.06)
    np.testing.assert_allclose(alpha.mean(axis=0), 0.0, atol=0.01)
    # KS test per axis at 0.1%: the draws depend on the backend's random stream (seed 1 gives
    # p = 0.0055 on one axis under JAX, by chance), so a 1% threshold would fail 3% of streams.
    for i in range(3):
        assert stats.kstest(alpha[:, i], stats.norm(0, 0.1).cdf).pvalue > 1e-3
    # Covariance of the offsets: sigma^2 P diag(lambda^2) P^T.
    expected = 0.01 * vectors @ np.diag(values**2) @ vectors.T
    np.testing.assert_allclose(np.cov(offset.T), expected, atol=0.1 * expected.max())


def test_pca_layer_use_std_weights_by_square_roots():
    x = coloured()
    values, vectors = augment.rgb_pca(x)
    layer = augment.PCAColorAugmentation(sigma=0.1, use_std=True, seed=2)
    layer.adapt(x)
    offset = np_(layer(np.zeros((4000, 1, 1, 3), np.float32), training=True))[:, 0, 0, :]
    alpha = offset @ vectors / np.sqrt(values)
    np.testing.assert_allclose(alpha.std(axis=0), 0.1, rtol=0.06)
    expected = 0.01 * vectors @ np.diag(values) @ vectors.T
    np.testing.assert_allclose(np.cov(offset.T), expected, atol=0.1 * expected.max())


def test_pca_layer_given_components_rank3_and_shape():
    values = np.array([0.3, 0.02, 0.001], np.float32)
    vectors = np.linalg.qr(np.random.default_rng(0).normal(size=(3, 3)))[0].astype(np.float32)
    layer = augment.PCAColorAugmentation(sigma=1.0, eigenvalues=values, eigenvectors=vectors, seed=0)
    img = np.zeros((5, 6, 3), np.float32)
    out = np_(layer(img, training=True))
    assert out.shape == (5, 6, 3)
    alpha = (out[0, 0] @ vectors) / values
    np.testing.assert_allclose(out, np.broadcast_to(vectors @ (alpha * values), (5, 6, 3)), atol=1e-6)
    assert layer.compute_output_shape((None, 5, 6, 3)) == (None, 5, 6, 3)


def test_pca_layer_in_a_model_trains_saves_and_loads(tmp_path):
    x = coloured(32)
    y = np.eye(2, dtype=np.float32)[np.arange(32) % 2]
    pca = augment.PCAColorAugmentation(sigma=0.1, seed=3, name="pca")
    pca.adapt(x)
    model = keras.Sequential(
        [
            keras.Input((8, 8, 3)),
            pca,
            keras.layers.Flatten(name="flat"),
            keras.layers.Dense(2, activation="softmax", name="out"),
        ]
    )
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    before = [np_(w).copy() for w in model.trainable_weights]
    eig_before = np_(pca.eigenvalues).copy()
    loss = model.train_on_batch(x, y)
    assert np.isfinite(loss)
    assert any(not np.allclose(b, np_(w)) for b, w in zip(before, model.trainable_weights))
    np.testing.assert_array_equal(np_(pca.eigenvalues), eig_before)  # not trained
    path = tmp_path / "pca.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(np_(loaded.predict(x, verbose=0)), np_(model.predict(x, verbose=0)), rtol=1e-6)
    np.testing.assert_allclose(np_(loaded.get_layer("pca").eigenvectors), np_(pca.eigenvectors))


def test_pca_layer_config_round_trip():
    layer = augment.PCAColorAugmentation(
        sigma=0.2, eigenvalues=[1, 2, 3], eigenvectors=np.eye(3), use_std=True, seed=5, name="p"
    )
    config = layer.get_config()
    assert config["sigma"] == 0.2 and config["seed"] == 5 and config["eigenvalues"] == [1.0, 2.0, 3.0]
    assert config["use_std"] is True
    clone = augment.PCAColorAugmentation.from_config(config)
    assert clone.get_config() == config
    clone.build((None, 4, 4, 3))
    np.testing.assert_array_equal(np_(clone.eigenvectors), np.eye(3))
    plain = augment.PCAColorAugmentation()
    assert augment.PCAColorAugmentation.from_config(plain.get_config()).get_config() == plain.get_config()


def test_pca_layer_bad_arguments():
    with pytest.raises(ValueError, match=r"Expected sigma >= 0. Received: sigma=-0.1"):
        augment.PCAColorAugmentation(sigma=-0.1)
    with pytest.raises(ValueError, match="both eigenvalues and eigenvectors"):
        augment.PCAColorAugmentation(eigenvalues=[1, 2, 3])
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        augment.PCAColorAugmentation(eigenvalues=[1, 2], eigenvectors=np.eye(3))
    with pytest.raises(ValueError, match="3 channels"):
        augment.PCAColorAugmentation()(np.zeros((2, 4, 4, 1), np.float32), training=True)
    layer = augment.PCAColorAugmentation(eigenvalues=[1, 1, 1], eigenvectors=np.eye(3))
    with pytest.raises(ValueError, match="rank 3 or 4"):
        layer(np.zeros((1, 2, 4, 4, 3), np.float32), training=True)


# --------------------------------------------------------------------------- #
# The input pipeline
# --------------------------------------------------------------------------- #
def epoch(ds):
    xs, ys = zip(*[(np_(a), np_(b)) for a, b in ds])
    return np.concatenate(xs), np.concatenate(ys)


def sorted_rows(a):
    flat = a.reshape(len(a), -1)
    return flat[np.lexsort(flat.T[::-1])]


def test_pipeline_without_augmentation_repeats_the_images_in_a_new_order():
    x, _ = batch(40, 4, 4, 3)
    y = np.arange(40)
    ds = augment.make_pipeline(x, y, batch_size=8, shuffle=True, seed=1)
    (x1, y1), (x2, y2) = epoch(ds), epoch(ds)
    assert x1.shape == x.shape and not np.array_equal(y1, y2)  # reshuffled
    np.testing.assert_array_equal(sorted_rows(x1), sorted_rows(x))  # the same images, each once
    np.testing.assert_array_equal(sorted_rows(x2), sorted_rows(x))
    np.testing.assert_array_equal(x1, x[y1])  # labels travel with their images
    # The seed makes the order repeat from one pipeline to the next.
    np.testing.assert_array_equal(epoch(augment.make_pipeline(x, y, batch_size=8, seed=1))[1], y1)
    xs, ys = epoch(augment.make_pipeline(x, y, batch_size=8, shuffle=False))
    np.testing.assert_array_equal(xs, x)
    np.testing.assert_array_equal(ys, y)


def test_pipeline_with_augmentation_differs_every_epoch():
    x, _ = batch(32, 8, 8, 3)
    y = np.arange(32)
    aug = keras.Sequential(
        [keras.layers.RandomFlip("horizontal", seed=2), keras.layers.RandomTranslation(0.25, 0.25, seed=2)]
    )
    ds = augment.make_pipeline(x, y, augment=aug, batch_size=8, shuffle=True, seed=0)
    (x1, y1), (x2, y2) = epoch(ds), epoch(ds)
    # Align both epochs by label (= image index), then compare the same images.
    x1, x2 = x1[np.argsort(y1)], x2[np.argsort(y2)]
    differs = np.abs(x1 - x2).max(axis=(1, 2, 3)) > 1e-6
    assert differs.mean() > 0.8, "augmentations were frozen (cached?) across epochs"
    assert not np.array_equal(sorted_rows(x1), sorted_rows(x))


def test_pipeline_crops_each_image_on_its_own():
    """RandomCrop called on a batch uses one offset for the whole batch; per example it does not."""
    x = np.broadcast_to(np.arange(12, dtype=np.float32)[None, :, None, None], (64, 12, 12, 1)).copy()
    crop = keras.layers.RandomCrop(4, 4, seed=1)
    batched = np_(crop(x))
    assert len(np.unique(batched[:, 0, 0, 0])) == 1  # one column offset for all 64 images
    out, _ = epoch(augment.make_pipeline(x, np.zeros(64), augment=crop, batch_size=16, shuffle=False))
    assert out.shape == (64, 4, 4, 1) and len(np.unique(out[:, 0, 0, 0])) > 3


def test_apply_in_pipeline_runs_a_sequential_inside_tf_data_on_any_backend():
    """A hand-made tf.data map (augment *before* cache: every epoch the same) works on every backend."""
    import tensorflow as tf

    x, _ = batch(16, 8, 8, 3)
    aug = keras.Sequential(
        [keras.layers.RandomFlip("horizontal", seed=3), keras.layers.RandomTranslation(0.25, 0.25, seed=3)]
    )
    ds = tf.data.Dataset.from_tensor_slices(x).map(lambda image: augment.apply_in_pipeline(aug, image)).cache().batch(8)
    first, second = (np.concatenate([np_(b) for b in ds]) for _ in range(2))
    assert first.shape == x.shape and not np.allclose(first, x)  # augmented (training=True) ...
    np.testing.assert_array_equal(first, second)  # ... once: the cache froze the draws


def test_pipeline_batch_augment_mixes_one_hot_labels():
    x, _ = batch(64, 8, 8, 3)
    y = np.arange(64) % 10
    ds = augment.make_pipeline(
        x, y, batch_augment=keras.layers.MixUp(alpha=0.2, seed=0), num_classes=10, batch_size=16, seed=0
    )
    images, labels = epoch(ds)
    assert images.shape == x.shape and labels.shape == (64, 10)
    np.testing.assert_allclose(labels.sum(axis=1), 1.0, rtol=1e-5)
    assert (labels.max(axis=1) < 1 - 1e-3).mean() > 0.5  # most labels are mixed


@pytest.mark.tf_only("tf.data traces a custom keras.ops layer with TensorFlow ops")
def test_pipeline_calls_custom_layers_with_training_true():
    x, _ = batch(64, 8, 8, 3)
    y = np.arange(64) % 10
    pca = augment.PCAColorAugmentation(sigma=1.0, eigenvalues=[0.1, 0.01, 0.001], eigenvectors=np.eye(3), seed=0)
    out, _ = epoch(augment.make_pipeline(x, y, augment=pca, batch_size=16, shuffle=False))
    assert not np.allclose(out, x)  # the pipeline calls Keras layers with training=True


@pytest.mark.skipif(keras.backend.backend() == "tensorflow", reason="the error is for the other backends")
def test_pipeline_says_custom_layers_need_tensorflow():
    x, _ = batch(8, 4, 4, 3)
    pca = augment.PCAColorAugmentation(sigma=1.0, eigenvalues=[0.1, 0.01, 0.001], eigenvectors=np.eye(3), seed=0)
    with pytest.raises(
        NotImplementedError,
        match=r"Received: augment=PCAColorAugmentation, which needs the "
        r"TensorFlow backend; KERAS_BACKEND is ",
    ):
        augment.make_pipeline(x, np.zeros(8), augment=pca, batch_size=4)


def test_pipeline_bad_arguments():
    x, _ = batch(8, 4, 4, 3)
    y = np.arange(8)
    with pytest.raises(ValueError, match=r"Expected x of shape \(batch, height, width, channels\)"):
        augment.make_pipeline(x[0], y)
    with pytest.raises(ValueError, match="as many labels as images"):
        augment.make_pipeline(x, y[:3])
    with pytest.raises(ValueError, match="Expected batch_size to be a positive integer"):
        augment.make_pipeline(x, y, batch_size=0)
    with pytest.raises(ValueError, match="pass num_classes"):
        augment.make_pipeline(x, y, batch_augment=keras.layers.MixUp())
    with pytest.raises(ValueError, match=r"Expected labels in \[0, 5\)"):
        augment.make_pipeline(x, y, num_classes=5)
