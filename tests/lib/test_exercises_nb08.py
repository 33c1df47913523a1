"""Notebook 08's exercise checks: right answers pass, typical mistakes get a helpful message, None is unanswered."""

from lib import flops
from lib.exercises import evaluate


def status(key, **answers):
    result = evaluate(key, **answers)
    return result.status, result.message


def _bottleneck(use_bias=True, expand=4, project=True, stride_in_first=True):
    import keras

    layers = keras.layers

    def block(x, filters, stride):
        shortcut = x
        if project and (stride != 1 or x.shape[-1] != expand * filters):
            shortcut = layers.BatchNormalization()(
                layers.Conv2D(expand * filters, 1, strides=stride, use_bias=use_bias)(x)
            )
        s1, s2 = (stride, 1) if stride_in_first else (1, stride)
        y = layers.ReLU()(layers.BatchNormalization()(layers.Conv2D(filters, 1, strides=s1, use_bias=use_bias)(x)))
        y = layers.Conv2D(filters, 3, strides=s2, padding="same", use_bias=use_bias)(y)
        y = layers.ReLU()(layers.BatchNormalization()(y))
        y = layers.BatchNormalization()(layers.Conv2D(expand * filters, 1, use_bias=use_bias)(y))
        return layers.ReLU()(layers.Add()([shortcut, y]))

    return block


def test_01_bottleneck_block():
    assert status("08.1", bottleneck_1=_bottleneck())[0] == "correct"
    assert status("08.1", bottleneck_1=_bottleneck(use_bias=False))[0] == "correct"
    st, msg = status("08.1", bottleneck_1=_bottleneck(project=False))
    assert st == "wrong" and "project it" in msg
    st, msg = status("08.1", bottleneck_1=_bottleneck(expand=1))
    assert st == "wrong" and "expands to 4 * filters" in msg
    assert status("08.1", bottleneck_1=None)[0] == "unanswered"
    assert status("08.1", bottleneck_1=3)[0] == "wrong"


def _macs(h, w, c_in, filters, stride, projection=True, stride_early=True):
    ho, wo = (h // stride, w // stride) if stride_early else (h, w)
    extra = c_in * 4 * filters if projection and (stride != 1 or c_in != 4 * filters) else 0
    return ho * wo * (c_in * filters + 9 * filters**2 + 4 * filters**2 + extra)


def test_02_bottleneck_macs():
    assert status("08.2", bottleneck_macs_2=_macs)[0] == "correct"
    st, msg = status("08.2", bottleneck_macs_2=lambda *a: _macs(*a, projection=False))
    assert st == "wrong" and "projection shortcut" in msg
    st, msg = status("08.2", bottleneck_macs_2=lambda *a: _macs(*a, stride_early=False))
    assert st == "wrong" and "stride" in msg
    st, msg = status("08.2", bottleneck_macs_2=lambda h, w, c, f, s: h * w * 17 * f * f)
    assert st == "wrong"
    assert status("08.2", bottleneck_macs_2=None)[0] == "unanswered"
    assert status("08.2", bottleneck_macs_2=lambda *a: "many")[0] == "wrong"


def test_03_width_multiplier():
    from lib.models import zoo

    full = flops.summarize(flops.profile(zoo.mobilenet()))
    half = flops.summarize(flops.profile(zoo.mobilenet(width=0.5)))
    right = dict(params_ratio_3=half["params"] / full["params"], macs_ratio_3=half["macs"] / full["macs"])
    assert status("08.3", **right)[0] == "correct"
    st, msg = status("08.3", **dict(right, params_ratio_3=0.25))
    assert st == "wrong" and "alpha squared" in msg
    st, msg = status("08.3", **dict(right, macs_ratio_3=1 / right["macs_ratio_3"]))
    assert st == "wrong" and "below 1" in msg
    assert status("08.3", params_ratio_3=None, macs_ratio_3=0.3)[0] == "unanswered"
    assert status("08.3", params_ratio_3=[0.3], macs_ratio_3=0.3)[0] == "wrong"


def test_04_gap_params():
    convs = sum(
        flops.conv2d_params(i, o, 3)
        for i, o in [
            (3, 64),
            (64, 64),
            (64, 128),
            (128, 128),
            (128, 256),
            (256, 256),
            (256, 256),
            (256, 512),
            (512, 512),
            (512, 512),
            (512, 512),
            (512, 512),
            (512, 512),
        ]
    )
    assert status("08.4", gap_params_4=convs + flops.dense_params(512, 1000))[0] == "correct"
    st, msg = status("08.4", gap_params_4=convs)
    assert st == "wrong" and "classifier" in msg
    st, msg = status("08.4", gap_params_4=138_357_544)
    assert st == "wrong" and "expected" in msg
    assert status("08.4", gap_params_4=None)[0] == "unanswered"
    assert status("08.4", gap_params_4="many")[0] == "wrong"


def test_05_shortcut_params():
    convs = sum(flops.conv2d_params(c, 2 * c, 1) for c in (64, 128, 256))
    assert status("08.5", extra_params_5=convs + sum(4 * 2 * c for c in (64, 128, 256)))[0] == "correct"
    st, msg = status("08.5", extra_params_5=convs)
    assert st == "wrong" and "BN" in msg
    st, msg = status("08.5", extra_params_5=convs + sum(2 * 2 * c for c in (64, 128, 256)))
    assert st == "wrong" and "moving" in msg
    assert status("08.5", extra_params_5=None)[0] == "unanswered"
    assert status("08.5", extra_params_5=(1, 2))[0] == "wrong"
