"""lib.timing and lib.viz's tables: the shapes they promise (timings are never asserted)."""

import pytest

from lib import timing, viz


def test_time_call_and_bad_repeats():
    assert timing.time_call(lambda: None, repeats=2) >= 0.0
    with pytest.raises(ValueError, match="Expected repeats to be a positive integer. Received: repeats=0"):
        timing.time_call(lambda: None, repeats=0)


def test_time_calls_counts_calls_and_both_clocks():
    calls = []
    times = timing.time_calls(lambda: calls.append(sum(range(20_000))), repeats=3, warmup=2)
    assert len(calls) == 5 and len(times["wall"]) == len(times["cpu"]) == 3
    assert all(t >= 0 for t in times["wall"] + times["cpu"])
    with pytest.raises(ValueError, match="warmup"):
        timing.time_calls(lambda: None, warmup=-1)


def test_conv_benchmark_rows_match_the_builtin():
    rows = timing.conv_benchmark(size=6, in_channels=2, out_channels=3, repeats=1)
    assert [r["method"] for r in rows] == ["keras.ops.conv", "direct", "im2col", "fft", "winograd"]
    assert all(r["max_abs_error"] < 1e-4 for r in rows)


def test_text_table_aligns_columns():
    text = viz.table([{"a": 1.23456, "name": "x"}, {"a": 20, "name": "longer"}])
    lines = text.splitlines()
    assert lines[0].split() == ["a", "name"] and set(lines[1]) <= {"-", " "}
    assert lines[2].split() == ["1.23", "x"] and len({len(line.rstrip()) for line in lines[1:2]}) == 1
    assert viz.table([]) == "(no rows)"


def test_markdown_table_shape():
    md = viz.markdown_table([{"a": 1.23456, "b": "x|y"}, {"a": 2, "b": "z"}])
    lines = md.splitlines()
    assert lines[0] == "| a | b |" and lines[1] == "|---|---|" and lines[2] == "| 1.23 | x\\|y |"
    assert viz.markdown_table([]) == "(no rows)"
