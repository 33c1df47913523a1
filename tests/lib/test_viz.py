"""lib.viz's figures: panels, labels and titles as promised, bad input as a clear error.

The tables are tested in test_timing_and_tables.py; figures use the Agg backend (tests/conftest.py)."""

import numpy as np
import pytest

from lib import viz


def test_training_curves_one_panel_per_metric_validation_dashed():
    history = {"loss": [1.0, 0.5], "val_loss": [1.1, 0.7], "accuracy": [0.5, 0.8]}
    fig = viz.training_curves({"run": history}, metrics=("loss", "accuracy"), title="t")
    loss, accuracy = fig.axes
    assert [ax.get_title() for ax in fig.axes] == ["loss", "accuracy"] and fig._suptitle.get_text() == "t"
    assert [line.get_linestyle() for line in loss.lines] == ["-", "--"] and len(accuracy.lines) == 1
    assert loss.get_xlabel() == "epoch" and loss.get_legend() is not None
    with pytest.raises(KeyError, match="Metric 'f1' not in history"):
        viz.training_curves(history, metrics="f1")


def test_panels_label_panel_and_finish():
    fig, axes = viz.panels(3, width=2.0, height=1.5)
    assert len(axes) == 3 and tuple(fig.get_size_inches()) == (6.0, 1.5)
    axes[0].plot([1, 2], [1, 10], label="a")
    viz.label_panel(axes[0], "x", "y", "title", log=True)
    assert (axes[0].get_xlabel(), axes[0].get_ylabel(), axes[0].get_title()) == ("x", "y", "title")
    assert axes[0].get_yscale() == "log" and axes[0].get_legend() is not None
    assert viz.finish(fig, "all") is fig and fig._suptitle.get_text() == "all"


def test_image_grid_and_bars():
    fig = viz.image_grid(np.zeros((5, 4, 4, 3)), labels=[0, 1, 2, 0, 1], class_names=["a", "b", "c"], ncols=3)
    assert len(fig.axes) == 6 and fig.axes[1].get_title() == "b"
    with pytest.raises(ValueError, match=r"Expected images of shape \(N, H, W\) or \(N, H, W, C\)"):
        viz.image_grid(np.zeros((4, 4)))
    fig = viz.bars({"a": 1.0, "b": 100.0}, title="t", ylabel="y", log=True)
    assert fig.axes[0].get_yscale() == "log" and fig.axes[0].get_title() == "t"
    with pytest.raises(ValueError, match="Expected at least one value"):
        viz.bars({}, title="t", ylabel="y")
