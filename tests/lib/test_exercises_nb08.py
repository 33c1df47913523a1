"""Notebook 08's exercise checks: right answers pass, typical mistakes get a helpful message, None is unanswered."""

from lib import flops
from lib.exercises import evaluate


def status(key, **answers):
    result = evaluate(key, **answers)
    return result.status, result.message


CONV_ROW = (56 * 56 * 256, flops.conv2d_params(128, 256, 3, use_bias=False))
FC_ROW = (4096, flops.dense_params(7 * 7 * 512, 4096, use_bias=False))
# the deck's memory column: input, 13 convolutions, 5 pools, 3 FC layers
VGG_VALUES = (
    224 * 224 * 3
    + 2 * 224 * 224 * 64
    + 112 * 112 * 64
    + 2 * 112 * 112 * 128
    + 56 * 56 * 128
    + 3 * 56 * 56 * 256
    + 28 * 28 * 256
    + 3 * 28 * 28 * 512
    + 14 * 14 * 512
    + 3 * 14 * 14 * 512
    + 7 * 7 * 512
    + 4096
    + 4096
    + 1000
)


def test_01_vgg_rows():
    assert status("08.1", conv_row_1=CONV_ROW, fc_row_1=FC_ROW)[0] == "correct"
    st, msg = status("08.1", conv_row_1=(CONV_ROW[0], CONV_ROW[1] + 256), fc_row_1=FC_ROW)
    assert st == "wrong" and "biases" in msg
    st, msg = status("08.1", conv_row_1=(4 * CONV_ROW[0], CONV_ROW[1]), fc_row_1=FC_ROW)
    assert st == "wrong" and "bytes" in msg
    st, msg = status("08.1", conv_row_1=CONV_ROW, fc_row_1=(4096, 4096 * 4096))
    assert st == "wrong" and "fc1" in msg
    assert status("08.1", conv_row_1=None, fc_row_1=FC_ROW)[0] == "unanswered"
    assert status("08.1", conv_row_1=3, fc_row_1=FC_ROW)[0] == "wrong"


def test_02_vgg_memory():
    mb = VGG_VALUES * 4 / 1e6
    assert status("08.2", mb_per_image_2=mb, mb_batch_64_2=64 * mb)[0] == "correct"
    st, msg = status("08.2", mb_per_image_2=VGG_VALUES / 1e6, mb_batch_64_2=64 * mb)
    assert st == "wrong" and "4 bytes" in msg
    st, msg = status("08.2", mb_per_image_2=96, mb_batch_64_2=64 * 96)
    assert st == "wrong" and "24M" in msg
    st, msg = status("08.2", mb_per_image_2=mb, mb_batch_64_2=mb)
    assert st == "wrong" and "64 x" in msg
    assert status("08.2", mb_per_image_2=None, mb_batch_64_2=None)[0] == "unanswered"
    assert status("08.2", mb_per_image_2="61", mb_batch_64_2=1.0)[0] == "wrong"


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
