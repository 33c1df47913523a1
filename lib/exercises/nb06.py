"""Checks for notebook 06 (data augmentation). Each computes the right answer with Keras, NumPy or SciPy."""

from __future__ import annotations

import numpy as np

from lib.exercises import Wrong, exercise, expect_close, expect_equal, expect_true, is_number

MIXUP_ALPHAS = (0.1, 0.2, 0.4, 1.0, 4.0)  # the alphas exercise 06.2 asks about


def _numpy(value):
    import keras

    return np.asarray(keras.ops.convert_to_numpy(value), dtype="float64")


def _tiny_classifier():
    """A small softmax classifier with fixed, asymmetric weights (no global seed touched)."""
    import keras

    init = keras.initializers.RandomNormal(stddev=1.0, seed=6)
    return keras.Sequential(
        [
            keras.Input((4, 5, 2)),
            keras.layers.Flatten(),
            keras.layers.Dense(3, activation="softmax", kernel_initializer=init),
        ],
        name="tiny",
    )


@exercise("06.1", "Test-time augmentation")
def _test_time_augmentation(tta_predict_1):
    expect_true(
        callable(tta_predict_1),
        f"tta_predict_1: expected a function tta_predict_1(model, images), received {type(tta_predict_1).__name__}.",
    )
    model = _tiny_classifier()
    images = np.random.default_rng(6).random((6, 4, 5, 2)).astype("float32")
    plain = _numpy(model(images))
    mirror = _numpy(model(images[:, :, ::-1]))
    got = _numpy(tta_predict_1(model, images))
    expect_true(
        got.shape == plain.shape,
        f"tta_predict_1(model, images): expected class probabilities of shape "
        f"{plain.shape} (images x classes), received shape {got.shape}.",
    )
    wrong_guesses = {
        "the sum of the two predictions (each row sums to 2)": plain + mirror,
        "the prediction for the plain images only": plain,
        "the prediction for the mirrored images only": mirror,
        "the average with a vertical flip (images[:, ::-1]) instead of a horizontal one": (
            plain + _numpy(model(images[:, ::-1]))
        )
        / 2,
    }
    expected = (plain + mirror) / 2
    if not np.allclose(got, expected, atol=1e-5):
        for what, value in wrong_guesses.items():
            if np.allclose(got, value, atol=1e-5):
                raise Wrong(
                    f"tta_predict_1 returned {what}. Expected the average of model(images) and "
                    f"model(images[:, :, ::-1]) (axis 2 is the width in (N, H, W, C))."
                )
    expect_close(
        "tta_predict_1(model, images) on a test model",
        got,
        expected,
        atol=1e-5,
        hint="(model(images) + model(images[:, :, ::-1])) / 2, as probabilities.",
    )


@exercise("06.2", "How much mixing does alpha give?")
def _how_much_mixing(minor_weight_2, almost_none_alpha_2):
    from scipy import stats

    expect_true(
        isinstance(minor_weight_2, dict),
        f"minor_weight_2: expected a dict {{alpha: mean weight of the minor "
        f"image}}, received {type(minor_weight_2).__name__}.",
    )
    exact = {a: 2 * stats.beta(a, a).expect(lambda t: t, ub=0.5) for a in MIXUP_ALPHAS}
    missing = [a for a in MIXUP_ALPHAS if a not in minor_weight_2]
    expect_true(
        not missing,
        f"minor_weight_2: expected the keys {list(MIXUP_ALPHAS)}; "
        f"missing {missing}, received {sorted(minor_weight_2)}.",
    )
    for a in MIXUP_ALPHAS:
        got = minor_weight_2[a]
        expect_true(is_number(got), f"minor_weight_2[{a}]: expected a number, received {type(got).__name__}.")
        if abs(got - 0.5) < 0.01:
            raise Wrong(
                f"minor_weight_2[{a}] = {got:.3f} is E[lambda], which is 1/2 for every alpha by symmetry. "
                f"Expected E[min(lambda, 1 - lambda)] (about {exact[a]:.3f})."
            )
        if abs(got - (1 - exact[a])) < 0.01:
            raise Wrong(
                f"minor_weight_2[{a}] = {got:.3f} is E[max(lambda, 1 - lambda)], the weight of the major "
                f"image. Expected the minor one, E[min(lambda, 1 - lambda)] (about {exact[a]:.3f})."
            )
        expect_close(
            f"minor_weight_2[{a}] (E[min(lambda, 1 - lambda)] for lambda ~ Beta({a}, {a}))",
            got,
            exact[a],
            rtol=0,
            atol=0.01,
            hint="draw lambda with lib.augment.mixup(...).lam (20,000 draws) and average np.minimum(lam, 1 - lam).",
        )
    least = min(exact, key=exact.get)
    expect_equal(
        "almost_none_alpha_2 (the alpha whose mixed images are mostly one image)",
        almost_none_alpha_2,
        least,
        hint="the smaller the minor image's weight, the closer mixup is to no augmentation.",
    )


@exercise("06.3", "Make Keras's CutMix labels exact")
def _exact_cutmix_labels(exact_cutmix_labels_3):
    import keras

    expect_true(
        callable(exact_cutmix_labels_3),
        f"exact_cutmix_labels_3: expected a function exact_cutmix_labels_3(labels, transformation), "
        f"received {type(exact_cutmix_labels_3).__name__}.",
    )
    n, h, w = 32, 20, 24
    images = np.broadcast_to(np.arange(n, dtype="float32")[:, None, None, None], (n, h, w, 3)).copy()
    labels = np.eye(n, dtype="float32")  # image i is the constant i with the one-hot label of class i
    layer = keras.layers.CutMix(factor=(1.0, 1.0), seed=3)
    transformation = layer.get_random_transformation({"images": images, "labels": labels})
    mixed = _numpy(layer.transform_images(images, transformation))
    perm = _numpy(transformation["permutation_order"]).astype(int)
    own_pixels = (mixed[..., 0] == np.arange(n)[:, None, None]).mean(axis=(1, 2))
    moved = perm != np.arange(n)
    got = _numpy(exact_cutmix_labels_3(labels, transformation))
    expect_true(
        got.shape == labels.shape,
        f"exact_cutmix_labels_3: expected labels of shape {labels.shape}, received shape {got.shape}.",
    )
    expect_close(
        "row sums of the mixed labels",
        got.sum(axis=1),
        np.ones(n),
        atol=1e-5,
        hint="w * labels + (1 - w) * labels[permutation_order] sums to one for any w.",
    )
    own_label = got[np.arange(n), np.arange(n)]
    keras_weight = _numpy(transformation["mix_weight"]).ravel()
    if np.allclose(own_label[moved], keras_weight[moved], atol=1e-5) and not np.allclose(
        keras_weight[moved], own_pixels[moved], atol=1e-5
    ):
        raise Wrong(
            "exact_cutmix_labels_3 reproduces Keras's own weight (transformation['mix_weight'], from the "
            "continuous box), which is what the exercise fixes. Count the pasted pixels in "
            "transformation['batch_masks'] instead."
        )
    if np.allclose(own_label[moved], 1 - own_pixels[moved], atol=1e-5):
        raise Wrong(
            "exact_cutmix_labels_3 gives each image the weight of the pasted area. batch_masks is True "
            "where the partner's pixels are pasted, so the own weight is 1 - mask.mean(axis=(1, 2, 3))."
        )
    expect_close(
        "own-label weight vs the fraction of own pixels left (images with a partner)",
        own_label[moved],
        own_pixels[moved],
        atol=1e-5,
        hint="w = 1 - mask.mean(axis=(1, 2, 3)), labels w * labels + (1 - w) * labels[permutation_order].",
    )


@exercise("06.4", "Per-image augmentation before batching")
def _per_image_before_batching(distinct_batch_first_4, distinct_per_image_4, possible_offsets_4):
    import keras

    for name, value in (
        ("distinct_batch_first_4", distinct_batch_first_4),
        ("distinct_per_image_4", distinct_per_image_4),
        ("possible_offsets_4", possible_offsets_4),
    ):
        expect_true(
            is_number(value) and float(value) == int(value),
            f"{name}: expected a whole number (a count), received {value!r}.",
        )
    # the possible left edges of a 24-wide window in a 32-wide image, found by trying them all
    row = np.arange(32, dtype="float32")
    offsets = len({tuple(row[j : j + 24]) for j in range(32) if j + 24 <= 32})
    expect_equal(
        "possible_offsets_4 (left edges of a 24-pixel crop in a 32-pixel image)",
        possible_offsets_4,
        offsets,
        hint="edges 0, 1, ..., 32 - 24: count both ends.",
    )
    ramp = np.broadcast_to(row[None, None, :, None], (32, 32, 32, 3)).copy()  # pixel value = column
    cropped = _numpy(keras.layers.RandomCrop(24, 24, seed=4)(ramp, training=True))
    batch_first = len(set(cropped[:, 0, 0, 0]))
    expect_equal(
        "distinct_batch_first_4 (crop positions in one batch when RandomCrop sees the whole batch)",
        distinct_batch_first_4,
        batch_first,
        hint="RandomCrop's docstring: it crops all the images in a batch at the same location.",
    )
    expect_true(
        2 <= distinct_per_image_4 <= min(32, offsets),
        f"distinct_per_image_4: expected between 2 and {min(32, offsets)} distinct left edges in a batch of 32 "
        f"when each image is cropped on its own (32 draws from {offsets} positions), received "
        f"{distinct_per_image_4!r}. Hint: read the left edge as the value of pixel [0, 0] of each crop.",
    )


@exercise("06.5", "Mixing labels is mixing losses")
def _mixup_loss(mixup_loss_5):
    import keras

    expect_true(
        callable(mixup_loss_5),
        "mixup_loss_5: expected a function (logits, labels_a, labels_b, lam) -> per-image losses.",
    )
    rng = np.random.default_rng(5)
    logits = rng.normal(size=(6, 10)).astype("float32")
    labels_a = np.eye(10, dtype="float32")[rng.integers(0, 10, 6)]
    labels_b = np.eye(10, dtype="float32")[rng.integers(0, 10, 6)]
    lam = rng.beta(0.4, 0.4, size=(6, 1)).astype("float32")
    loss = keras.losses.CategoricalCrossentropy(from_logits=True, reduction=None)
    expected = _numpy(loss(lam * labels_a + (1 - lam) * labels_b, logits))
    got = _numpy(mixup_loss_5(logits, labels_a, labels_b, lam))
    expect_true(
        got.shape == expected.shape,
        f"mixup_loss_5: expected one loss per image, shape {expected.shape}, received shape {got.shape}.",
    )
    swapped = lam[:, 0] * _numpy(loss(labels_b, logits)) + (1 - lam[:, 0]) * _numpy(loss(labels_a, logits))
    if np.allclose(got, swapped, rtol=1e-4) and not np.allclose(got, expected, rtol=1e-4):
        raise Wrong("mixup_loss_5: the weights are swapped: labels_a gets lam, labels_b gets 1 - lam.")
    expect_close(
        "per-image mixup losses vs cross-entropy on the mixed labels",
        got,
        expected,
        rtol=1e-4,
        atol=1e-5,
        hint="lam * CE(labels_a, logits) + (1 - lam) * CE(labels_b, logits), one value per image.",
    )
    return (
        "correct: cross-entropy is linear in the target, so training on mixed labels is training on the "
        "mixed losses - mixup never needs a special loss."
    )
