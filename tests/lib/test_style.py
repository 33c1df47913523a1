"""lib.style: Gram matrix vs loops, losses vs the paper's formulas and TensorFlow, the optimization
(loss falls, pixels stay in [0, 1]), HED VGG16 preprocessing, per-layer scales, bad input."""

import importlib.util
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import numpy as np
import pytest

from lib import models, style

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def extractor():
    model = models.random_vgg(widths=(4, 8), convs_per_block=(1, 2), seed=0)
    return style.FeatureExtractor(model, ["block1_conv1", "block2_conv1", "block2_conv2"])


def images(size=12, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(0, 1, (size, size, 3)).astype("float32")


def gram_loops(f):
    flat = f.reshape(-1, f.shape[-1]).astype(np.float64)
    m, c = flat.shape
    return np.array([[sum(flat[k, i] * flat[k, j] for k in range(m)) / m for j in range(c)] for i in range(c)])


@pytest.mark.parametrize("shape", [(3, 4, 2), (5, 2, 3), (1, 1, 4)])
def test_gram_matches_loops_and_einsum(shape):
    f = np.random.default_rng(1).standard_normal(shape).astype("float32")
    g = keras.ops.convert_to_numpy(style.gram_matrix(f))
    np.testing.assert_allclose(g, gram_loops(f), rtol=1e-5, atol=1e-6)
    batch = np.stack([f, 2 * f])
    gb = keras.ops.convert_to_numpy(style.gram_matrix(batch))
    assert gb.shape == (2, shape[-1], shape[-1])
    np.testing.assert_allclose(gb[1], 4 * np.einsum("hwi,hwj->ij", f, f) / (shape[0] * shape[1]), rtol=1e-5, atol=1e-6)


def test_gram_ignores_layout():
    f = np.random.default_rng(2).standard_normal((4, 5, 3)).astype("float32")
    perm = np.random.default_rng(3).permutation(20)
    shuffled = f.reshape(20, 3)[perm].reshape(4, 5, 3)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(style.gram_matrix(shuffled)),
        keras.ops.convert_to_numpy(style.gram_matrix(f)),
        rtol=1e-5,
        atol=1e-6,
    )
    assert float(style.content_loss(shuffled, f)) > 0.1


def test_content_and_style_losses_match_paper_formulas():
    rng = np.random.default_rng(4)
    f, p = rng.standard_normal((2, 6, 7, 3)).astype("float64")
    n, m = 3, 42
    paper_content = 0.5 * np.sum((f - p) ** 2)
    np.testing.assert_allclose(float(style.content_loss(f, p)) * n * m, paper_content, rtol=1e-5)
    a = rng.standard_normal((5, 5, 3))
    F, A = f.reshape(-1, 3), a.reshape(-1, 3)
    G, GA = F.T @ F, A.T @ A  # unnormalized sums, the style image has another size
    e_paper = np.sum((G / m - GA / 25) ** 2) / 4 / n**2  # Gatys's E_l with per-image averages
    e = float(style.style_layer_loss(f.astype("float32"), style.gram_matrix(a.astype("float32"))))
    np.testing.assert_allclose(e, e_paper, rtol=1e-4)
    # same-size images: exactly the paper's 1/(4 N^2 M^2) sum (G - A)^2 with sums
    b = rng.standard_normal((6, 7, 3))
    GB = b.reshape(-1, 3).T @ b.reshape(-1, 3)
    e_same = float(style.style_layer_loss(f.astype("float32"), style.gram_matrix(b.astype("float32"))))
    np.testing.assert_allclose(e_same, np.sum((G - GB) ** 2) / (4 * n**2 * m**2), rtol=1e-4)


def test_style_loss_averages_layers():
    rng = np.random.default_rng(5)
    feats = {"a": rng.standard_normal((1, 4, 4, 2)), "b": rng.standard_normal((1, 2, 2, 3))}
    targets = {"a": np.eye(2, dtype="float32"), "b": np.zeros((3, 3), "float32")}
    expected = np.mean([float(style.style_layer_loss(feats[k], targets[k])) for k in targets])
    np.testing.assert_allclose(float(style.style_loss(feats, targets)), expected, rtol=1e-6)
    weighted = float(style.style_loss(feats, targets, {"a": 1.0, "b": 0.0}))
    np.testing.assert_allclose(weighted, float(style.style_layer_loss(feats["a"], targets["a"])), rtol=1e-6)


def tv_direct(x, p):
    d1 = np.abs(x[1:, :, :] - x[:-1, :, :]) ** p
    d2 = np.abs(x[:, 1:, :] - x[:, :-1, :]) ** p
    return d1.sum() + d2.sum()


@pytest.mark.parametrize("p", [1, 2, 1.5])
def test_total_variation_matches_formula(p):
    x = images(7).astype("float64")
    np.testing.assert_allclose(float(style.total_variation_loss(x, power=p)), tv_direct(x, p), rtol=1e-5)
    batch = np.stack([x, x[::-1]])
    np.testing.assert_allclose(float(style.total_variation_loss(batch, power=p)), 2 * tv_direct(x, p), rtol=1e-5)
    assert float(style.total_variation_loss(np.ones((4, 4, 3)))) == 0.0


def test_total_variation_matches_tensorflow():
    tf = pytest.importorskip("tensorflow")
    x = images(9)
    np.testing.assert_allclose(
        float(style.total_variation_loss(x, power=1)), float(tf.image.total_variation(tf.constant(x))), rtol=1e-5
    )


def test_vgg16_hed_preprocess_matches_the_declared_preprocessing():
    from lib.models import pretrained

    x = images(5)[None]
    ours = keras.ops.convert_to_numpy(style.vgg16_hed_preprocess(x))
    np.testing.assert_allclose(ours, pretrained.preprocess_input("vgg16_hed", 255.0 * x), atol=1e-3)
    np.testing.assert_allclose(pretrained.unpreprocess("vgg16_hed", ours) / 255.0, x, atol=1e-5)


def test_scales_multiply_features_and_mean_activation_scales_normalize(extractor):
    batch = np.stack([images(12, s) for s in range(3)])
    scales = style.mean_activation_scales(extractor, batch)
    assert set(scales) == set(extractor.layers)
    scaled = style.FeatureExtractor(extractor.model, extractor.layers, scales=scales)
    for name, f in scaled(batch).items():
        np.testing.assert_allclose(float(np.mean(keras.ops.convert_to_numpy(f))), 1.0, rtol=1e-4)
        raw = keras.ops.convert_to_numpy(extractor(batch)[name])
        np.testing.assert_allclose(keras.ops.convert_to_numpy(f), raw * scales[name], rtol=1e-5, atol=1e-7)
    with pytest.raises(ValueError, match="Expected scales for the layers"):
        style.FeatureExtractor(extractor.model, ["block1_conv1"], scales={"block2_conv1": 1.0})
    with pytest.raises(ValueError, match=r"scales\['block1_conv1'\]"):
        style.FeatureExtractor(extractor.model, ["block1_conv1"], scales={"block1_conv1": 0.0})
    with pytest.raises(ValueError, match="mean activation"):
        style.mean_activation_scales(extractor, np.full((1, 8, 8, 3), 0.5, "float32"))  # maps to 0: all-zero features


def test_compiled_gives_the_same_numbers(extractor):
    def loss(x):
        return style.gram_matrix(extractor(x)["block2_conv2"])

    x = keras.ops.convert_to_tensor(images(8)[None])
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(style.compiled(loss)(x)), keras.ops.convert_to_numpy(loss(x)), rtol=1e-5, atol=1e-6
    )


def test_transfer_lowers_loss_and_keeps_range(extractor):
    content, style_img = images(12, 0), images(10, 1)  # the style image may have another size
    result = style.transfer_style(
        content,
        style_img,
        extractor,
        "block2_conv2",
        ["block1_conv1", "block2_conv1"],
        style_weight=100.0,
        tv_weight=0.01,
        steps=15,
        learning_rate=0.05,
        verbose=0,
        log_every=5,
    )
    h = result.history
    assert h["step"] == [0, 5, 10, 15]
    assert h["total"][-1] < h["total"][0]
    assert h["style"][-1] < h["style"][0] and h["content"][0] == 0.0
    assert result.image.shape == (12, 12, 3)
    assert result.image.min() >= 0.0 and result.image.max() <= 1.0
    assert result.factor("style") > 1


def test_transfer_with_content_target_and_noise_init(extractor):
    content = images(8, 2)
    target = keras.ops.zeros_like(extractor(content)["block2_conv1"])
    r = style.transfer_style(
        content,
        content,
        extractor,
        "block2_conv1",
        [],
        content_target=target,
        style_weight=0.0,
        steps=5,
        init="noise",
        verbose=0,
        compile=False,
    )
    assert r.history["content"][-1] < r.history["content"][0]
    assert r.history["style"] == [0.0] * len(r.history["step"])


def test_edge_correlation():
    x = images(16)
    assert style.edge_correlation(x, x) == pytest.approx(1.0)
    assert abs(style.edge_correlation(x, images(16, 9))) < 0.3


# ----- bad input -------------------------------------------------------------------------------------------------
def test_errors_wrong_rank_and_sizes(extractor):
    with pytest.raises(ValueError, match=r"Expected feature maps of shape .* Received: features of shape \(5, 3\)"):
        style.gram_matrix(np.zeros((5, 3)))
    with pytest.raises(ValueError, match="same shape"):
        style.content_loss(np.zeros((1, 4, 4, 2)), np.zeros((1, 5, 4, 2)))
    with pytest.raises(ValueError, match=r"Expected a target Gram matrix of shape \(2, 2\)"):
        style.style_layer_loss(np.zeros((4, 4, 2)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match=r"Expected images of shape"):
        style.total_variation_loss(np.zeros((4, 4)))
    with pytest.raises(ValueError, match=r"one RGB image .* Received: content_image of shape \(8, 8\)"):
        style.transfer_style(np.zeros((8, 8)), images(8), extractor, "block2_conv2", ["block1_conv1"], verbose=0)
    with pytest.raises(ValueError, match=r"Received: style_image of shape \(2, 8, 8, 3\)"):
        style.transfer_style(images(8), np.zeros((2, 8, 8, 3)), extractor, "block2_conv2", ["block1_conv1"])
    with pytest.raises(ValueError, match=r"Expected init of the content image's shape \(8, 8, 3\)"):
        style.transfer_style(images(8), images(8), extractor, "block2_conv2", ["block1_conv1"], init=images(9))
    with pytest.raises(ValueError, match="pixel values in \\[0, 1\\]"):
        style.transfer_style(images(8) * 255, images(8), extractor, "block2_conv2", ["block1_conv1"])
    with pytest.raises(ValueError, match="Expected two images"):
        style.edge_correlation(images(8), images(9))


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"content_weight": -1.0}, "content_weight"),
        ({"style_weight": -0.5}, "style_weight"),
        ({"tv_weight": float("nan")}, "tv_weight"),
    ],
)
def test_errors_negative_weights(extractor, kwargs, name):
    with pytest.raises(ValueError, match=rf"Expected {name} >= 0. Received: {name}="):
        style.transfer_style(images(8), images(8), extractor, "block2_conv2", ["block1_conv1"], **kwargs)


def test_errors_unknown_layers(extractor):
    model = extractor.model
    with pytest.raises(ValueError, match=r"Unknown layer names \['block9_conv1'\].*Expected names from"):
        style.FeatureExtractor(model, ["block1_conv1", "block9_conv1"])
    with pytest.raises(ValueError, match=r"Unknown layer names \['conv5'\]"):
        style.transfer_style(images(8), images(8), extractor, "conv5", ["block1_conv1"])
    with pytest.raises(ValueError, match="Unknown style layers"):
        style.style_representation(extractor, images(8), ["nope"])
    with pytest.raises(ValueError, match="Unknown content layer"):
        style.content_representation(extractor, images(8), "nope")
    with pytest.raises(ValueError, match="Expected layer_weights for style layers"):
        style.style_loss({"a": np.zeros((2, 2, 1))}, {"a": np.zeros((1, 1))}, {"b": 1.0})
    with pytest.raises(ValueError, match=r"Expected layer_weights\['a'\] >= 0"):
        style.style_loss({"a": np.zeros((2, 2, 1))}, {"a": np.zeros((1, 1))}, {"a": -1.0})


@pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="jax is not installed")
@pytest.mark.skipif(
    os.environ.get("CNN_COURSE_JAX_PASS") == "1", reason="the test command's JAX pass runs this module's tests on JAX"
)
@pytest.mark.backend_independent("starts its own JAX process: the JAX pass runs this module's tests on JAX anyway")
def test_transfer_runs_on_jax_backend():
    code = textwrap.dedent("""
        import numpy as np, keras
        from lib import models, style
        assert keras.backend.backend() == "jax"
        ex = style.FeatureExtractor(models.random_vgg((4, 4), (1, 1)), ["block1_conv1", "block2_conv1"])
        rng = np.random.default_rng(0)
        c, s = rng.uniform(0, 1, (8, 8, 3)).astype("float32"), rng.uniform(0, 1, (8, 8, 3)).astype("float32")
        r = style.transfer_style(c, s, ex, "block2_conv1", ["block1_conv1"], style_weight=100.0, steps=5,
                                 learning_rate=0.05, verbose=0)
        assert r.history["total"][-1] < r.history["total"][0], r.history
        assert 0.0 <= r.image.min() and r.image.max() <= 1.0
        print("ok")
    """)
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu", "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert out.returncode == 0 and "ok" in out.stdout, out.stderr[-2000:]
