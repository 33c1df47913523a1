"""The rendered course (harness.site) on a tiny executed notebook: pages, index, thumbnails, offline math.

The same site in a real browser (headless Chromium) is tests/harness/test_site_browser.py, ``-m browser``.
"""

import base64
import io
import json
import re

import pytest

from harness import notebooks as nbtools
from harness import runner, site

pytestmark = pytest.mark.xdist_group("site")  # one worker executes the module's notebook, once

SCRIPT = """# %% [markdown]
# # A tiny notebook
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/x)
#
# Inline math $y = w^\\top x + b$ and a display:
#
# $$\\frac{\\partial L}{\\partial w} = x$$
# %% tags=["parameters"]
SEED = 0
OUTPUT_DIR = "results/interactive"
# %%
import matplotlib.pyplot as plt

import lib.report

fig, ax = plt.subplots(figsize=(2, 2))
ax.plot([0, 1], [0, 1])
plt.show()
# %% tags=["main-figure"]
fig, ax = plt.subplots(figsize=(2, 4))
ax.bar([0, 1], [1, 2])
plt.show()
# %%
fig, ax = plt.subplots(figsize=(8, 3))
ax.plot([0, 1], [1, 0])
plt.show()
lib.report.save("01_tiny", {"test_accuracy": 0.912345, "params": 1234, "curve": [1, 2]}, OUTPUT_DIR)
"""


def png(width, height, color=(255, 0, 0)):
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, format="PNG")
    return buffer.getvalue()


def image_cell(*sizes, tags=()):
    outputs = [
        {"output_type": "display_data", "metadata": {}, "data": {"image/png": base64.b64encode(png(w, h)).decode()}}
        for w, h in sizes
    ]
    return {"cell_type": "code", "metadata": {"tags": list(tags)}, "source": "", "outputs": outputs}


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """A results folder as `course.py run` writes it: one executed notebook and summary.json."""
    folder = tmp_path_factory.mktemp("results")
    notebook = folder / "src" / "01_tiny.ipynb"
    notebook.parent.mkdir()
    nbtools.write(nbtools.script_to_notebook(SCRIPT), notebook)
    (folder / "cwd").mkdir()
    out = folder / "default"
    run = runner.run_notebook(notebook, out, cwd=folder / "cwd", timeout=120)
    assert run.status == "ok", run.error
    missing = runner.RunResult("02_missing", "timeout", 900.0, out / "02_missing.ipynb", {}, "did not finish")
    runner.write_summary([run, missing], out, "default")
    return out


@pytest.fixture(scope="module")
def built(results):
    return site.build(results)


def test_main_figure_is_the_tagged_cells_last_image_else_the_largest():
    big, small = image_cell((60, 40)), image_cell((10, 10), (30, 20), tags=["main-figure"])
    nb = {"cells": [big, small, image_cell((5, 5))]}
    assert site.main_figure(nb) == png(30, 20)  # tagged: its last image, though another is larger
    assert site.main_figure({"cells": [big, image_cell((5, 5))]}) == png(60, 40)  # the largest
    assert site.main_figure({"cells": [image_cell((8, 8)), image_cell((8, 8))]}) is not None
    assert site.main_figure({"cells": [{"cell_type": "markdown", "source": "x"}]}) is None


def test_thumbnail_fits_the_box_and_keeps_the_aspect(tmp_path):
    from PIL import Image

    path = site.write_thumbnail(png(1000, 500), tmp_path / "t.png")
    with Image.open(path) as img:
        assert img.size == (320, 160)


def test_index_lists_every_notebook_with_status_time_results_and_thumbnail(built):
    text = built.read_text()
    assert built.name == "index.html" and built.parent.name == "site"
    assert '<a href="01_tiny.html">01_tiny</a>' in text
    assert '<img src="thumbs/01_tiny.png"' in text
    assert "test_accuracy=0.9123" in text and "params=1234" in text and "curve=[...]" in text
    assert 'class="status-timeout">timeout' in text and "did not finish" in text
    assert "02_missing.html" not in text, "no link to a page that does not exist"
    assert re.search(r'class="time">\d+ s<', text)


def test_thumbnail_is_the_main_figure(built):
    from PIL import Image

    with Image.open(built.parent / "thumbs" / "01_tiny.png") as img:
        width, height = img.size
    assert width <= 320 and height <= 240
    assert height > 1.5 * width, "the cell tagged main-figure (2x4 inches), not the larger 8x3 one"


def test_page_shows_the_outputs_and_loads_math_from_the_site(built):
    page = (built.parent / "01_tiny.html").read_text()
    assert "data:image/png;base64," in page  # figures embedded
    assert '<a href="index.html">All notebooks</a>' in page
    scripts = re.findall(r'<script[^>]*src="([^"]+)"', page)
    assert scripts == ["_static/mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe"]
    assert "$y = w^\\top x + b$" in page  # left for MathJax to typeset
    remote = re.findall(r'<(?:img|script|link)[^>]+(?:src|href)="(https?:[^"]+)"', page)
    assert remote == [], f"the page loads from the network: {remote}"
    assert 'src="_static/colab-badge.svg"' in page


def test_every_local_reference_resolves(built):
    root = built.parent
    for page in root.glob("*.html"):
        for ref in re.findall(r'(?:src|href)="([^"#?]+)[^"]*"', page.read_text()):
            if ref.startswith(("http:", "https:", "data:", "mailto:")):
                continue
            assert (root / ref).exists(), f"{page.name} refers to {ref}, which is not in the site"


def test_mathjax_is_copied_without_what_the_pages_do_not_need(built):
    mathjax = built.parent / "_static" / "mathjax"
    assert (mathjax / "MathJax.js").exists() and (mathjax / "config" / "TeX-AMS-MML_HTMLorMML-full.js").exists()
    assert any((mathjax / "fonts" / "HTML-CSS" / "STIX-Web" / "woff").glob("*.woff"))
    assert not (mathjax / "extensions" / "a11y").exists() and not (mathjax / "jax" / "output" / "SVG").exists()
    size = sum(p.stat().st_size for p in mathjax.rglob("*") if p.is_file())
    assert size < 5e6, f"{size / 1e6:.1f} MB of MathJax"


def test_cli_needs_a_summary(tmp_path, capsys):
    assert site.main([str(tmp_path)]) == 2
    assert "summary.json" in capsys.readouterr().err


def test_runner_writes_the_site_after_the_run(results, monkeypatch, tmp_path):
    """`course.py run` = harness.runner.main: the run, the summary, then the site (stubbed run here)."""
    monkeypatch.setattr(runner, "select", lambda only: [results / "01_tiny.ipynb"])
    summary = json.loads((results / "summary.json").read_text())["notebooks"][0]

    def fake_run(nb, output_dir, **kwargs):
        output_dir.mkdir(parents=True, exist_ok=True)
        (output_dir / nb.name).write_text((results / nb.name).read_text())
        return runner.RunResult(nb.stem, "ok", summary["seconds"], output_dir / nb.name, summary["results"])

    monkeypatch.setattr(runner, "run_notebook", fake_run)
    monkeypatch.setattr(runner, "profile_parameters", lambda stem, profile: {})
    assert runner.main(["--output", str(tmp_path / "run")]) == 0
    assert (tmp_path / "run" / "site" / "index.html").exists() and (tmp_path / "run" / "site" / "01_tiny.html").exists()
    assert runner.main(["--output", str(tmp_path / "bare"), "--no-site"]) == 0
    assert not (tmp_path / "bare" / "site").exists()
