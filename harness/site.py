"""The rendered course: a static site of the executed notebooks, readable offline.

    python -m harness.site                           # results/default/ -> results/default/site/
    python -m harness.site results/full --output public/

``python3 course.py run`` writes it after each run (``--no-site`` to skip). The site is one folder that
works from ``file://`` and from any static web server, with nothing fetched from elsewhere:

* ``index.html``: the run's summary table (``summary.json``): each notebook's status, time, headline
  results and a thumbnail of its main figure, linking to its page;
* ``NN_name.html``: each executed notebook, rendered by nbconvert (JupyterLab's look; figures embedded),
  with links to the index and to the previous and next notebook;
* ``thumbs/NN_name.png``: the thumbnails;
* ``_static/mathjax/``: MathJax 2.7 from the pinned ``jupyter-server-mathjax`` package (PyPI), which
  typesets the notebooks' ``$...$`` math in the browser - the pages load it from the site, not from a CDN.

**The main figure** of a notebook is the last image output of a code cell tagged ``main-figure``; without
such a cell, the largest image output of the notebook (in pixels; the later one on a tie).

Introduced in notebook 01 (what "run the course" shows).
"""

from __future__ import annotations

import argparse
import base64
import html
import io
import json
import shutil
import sys
from pathlib import Path

from lib import paths

MAIN_FIGURE_TAG = "main-figure"
THUMBNAIL_SIZE = (320, 240)
MATHJAX_DIR = "_static/mathjax"
#: MathJax 2 with the TeX input and HTML-CSS output in one file; STIX-Web fonts (the ones the package ships).
MATHJAX_CONFIG_NAME = "TeX-AMS-MML_HTMLorMML-full,Safe"
#: What the pages need of jupyter-server-mathjax's MathJax: everything but the accessibility extensions, the SVG
#: output's fonts and the translations other than English (about 3 MB instead of 12).
MATHJAX_SKIP = ("extensions/a11y", "jax/output/SVG", "localization")
COLAB_BADGE = "https://colab.research.google.com/assets/colab-badge.svg"
BADGE_FILE = "_static/colab-badge.svg"
#: No icon: else a browser asks the server for /favicon.ico, which is not there.
NO_ICON = '<link rel="icon" href="data:,">'

MATHJAX_HTML = """\
<script type="text/x-mathjax-config">
MathJax.Hub.Config({
  tex2jax: {
    inlineMath: [["$", "$"], ["\\\\(", "\\\\)"]],
    displayMath: [["$$", "$$"], ["\\\\[", "\\\\]"]],
    processEscapes: true,
    processEnvironments: true
  },
  TeX: {equationNumbers: {autoNumber: "AMS", useLabelIds: true}},
  "HTML-CSS": {availableFonts: [], preferredFont: null, webFont: "STIX-Web", imageFont: null,
               linebreaks: {automatic: true}},
  displayAlign: "center",
  messageStyle: "none",
  showMathMenu: false
});
</script>
<script src="{url}"></script>
"""

PAGE_TEMPLATE = """\
{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block html_head_js_mathjax -%}{{ resources.course_mathjax }}{%- endblock html_head_js_mathjax -%}
{%- block extra_css -%}{{ resources.course_icon }}<style type="text/css">{{ resources.course_css }}</style>
{%- endblock extra_css -%}
{%- block body_header -%}{{ super() }}{{ resources.course_nav }}{%- endblock body_header -%}
{%- block body_footer -%}{{ resources.course_nav }}{{ super() }}{%- endblock body_footer -%}
"""

NAV_CSS = """
nav.course-nav { display: flex; gap: 1.5em; padding: 0.6em 1em; margin: 0 0 1em 0; font: 14px sans-serif;
                 background: #f3f5f7; border-bottom: 1px solid #d0d7de; }
nav.course-nav a { text-decoration: none; color: #0b5cad; }
nav.course-nav span.course-status { margin-left: auto; color: #555; }
"""

INDEX_CSS = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto; max-width: 1200px;
       padding: 0 1em; color: #1f2328; }
h1 { font-size: 1.8em; margin-bottom: 0.2em; }
p.meta { color: #555; margin-top: 0; }
table { border-collapse: collapse; width: 100%; }
th, td { border-bottom: 1px solid #d0d7de; padding: 0.5em; text-align: left; vertical-align: top; }
th { background: #f3f5f7; }
td.thumb img { display: block; max-width: 320px; max-height: 240px; border: 1px solid #d0d7de; }
td.time { white-space: nowrap; text-align: right; }
.status-ok { color: #1a7f37; font-weight: 600; }
.status-failed, .status-timeout { color: #cf222e; font-weight: 600; }
ul.results { margin: 0; padding-left: 1.1em; font-family: ui-monospace, monospace; font-size: 13px; }
"""

BADGE_SVG = """\
<svg xmlns="http://www.w3.org/2000/svg" width="117" height="20" role="img" aria-label="Open in Colab">
<rect width="117" height="20" rx="3" fill="#555"/><rect x="40" width="77" height="20" rx="3" fill="#f9ab00"/>
<rect x="40" width="4" height="20" fill="#f9ab00"/>
<g fill="#fff" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11">
<text x="6" y="14">Open</text><text x="46" y="14" fill="#222">in Colab</text></g></svg>
"""


# --- the main figure ------------------------------------------------------------------------------


def _images(cell: dict) -> list[bytes]:
    found = []
    for output in cell.get("outputs", []):
        data = output.get("data", {})
        for mime in ("image/png", "image/jpeg"):
            if mime in data:
                text = data[mime]
                text = "".join(text) if isinstance(text, list) else text
                found.append(base64.b64decode(text))
    return found


def _pixels(image: bytes) -> int:
    from PIL import Image

    try:
        with Image.open(io.BytesIO(image)) as img:
            return img.size[0] * img.size[1]
    except Exception:  # not an image PIL reads: never the main figure
        return -1


def main_figure(nb: dict) -> bytes | None:
    """The notebook's main figure (PNG or JPEG bytes), or None when it shows no image.

    The last image output of a code cell tagged ``main-figure``; without one, the largest image output
    (in pixels; the later one on a tie).
    """
    code = [c for c in nb.get("cells", []) if c.get("cell_type") == "code"]
    tagged = [img for c in code if MAIN_FIGURE_TAG in (c.get("metadata", {}).get("tags") or []) for img in _images(c)]
    if tagged:
        return tagged[-1]
    best, best_pixels = None, 0
    for image in (img for c in code for img in _images(c)):
        pixels = _pixels(image)
        if pixels > 0 and pixels >= best_pixels:
            best, best_pixels = image, pixels
    return best


def write_thumbnail(image: bytes, path: Path, size: tuple[int, int] = THUMBNAIL_SIZE) -> Path:
    """A PNG of ``image`` shrunk to fit ``size`` (never enlarged)."""
    from PIL import Image

    with Image.open(io.BytesIO(image)) as img:
        img = img.convert("RGBA") if img.mode in ("P", "LA", "RGBA") else img.convert("RGB")
        img.thumbnail(size)
        path.parent.mkdir(parents=True, exist_ok=True)
        img.save(path, format="PNG")
    return path


# --- pages ----------------------------------------------------------------------------------------


def mathjax_folder() -> Path:
    """The MathJax files of the installed ``jupyter-server-mathjax`` package."""
    try:
        import jupyter_server_mathjax
    except ImportError:
        raise RuntimeError(
            "The site typesets math with MathJax from the jupyter-server-mathjax package, which is not installed: "
            "it is in requirements.txt (`python3 course.py run` installs it)."
        ) from None
    return Path(jupyter_server_mathjax.__file__).parent / "static"


def copy_static(site: Path) -> None:
    """MathJax (what the pages need of it) and the local Colab badge into ``site/_static``."""
    source, target = mathjax_folder(), site / MATHJAX_DIR
    if target.exists():
        shutil.rmtree(target)

    def skipped(folder: str, names: list[str]) -> set[str]:
        rel = Path(folder).relative_to(source)
        return {n for n in names if (rel / n).as_posix() in MATHJAX_SKIP or n == "__pycache__"}

    shutil.copytree(source, target, ignore=skipped)
    shutil.copytree(source / "localization" / "en", target / "localization" / "en")
    (site / BADGE_FILE).write_text(BADGE_SVG)


def _exporter():
    import jinja2
    from nbconvert import HTMLExporter

    return HTMLExporter(
        extra_loaders=[jinja2.DictLoader({"course_page.html.j2": PAGE_TEMPLATE})],
        template_file="course_page.html.j2",
    )


def _nav(entry: dict, previous: str | None, following: str | None) -> str:
    links = ['<a href="index.html">All notebooks</a>']
    if previous:
        links.append(f'<a href="{html.escape(previous)}.html">Previous: {html.escape(previous)}</a>')
    if following:
        links.append(f'<a href="{html.escape(following)}.html">Next: {html.escape(following)}</a>')
    status = f"{entry.get('status', '?')}, {float(entry.get('seconds', 0)):.0f} s"
    links.append(f'<span class="course-status">{html.escape(entry["notebook"])}: {html.escape(status)}</span>')
    return '<nav class="course-nav">' + "".join(links) + "</nav>"


def render_page(notebook: Path, target: Path, nav: str = "", exporter=None) -> Path:
    """Write one executed notebook as an HTML page of the site (``target``'s folder is the site's root)."""
    import nbformat

    nb = nbformat.read(str(notebook), as_version=4)
    nb.metadata.pop("widgets", None)  # widget state would load the widget manager from a CDN
    resources = {
        "course_mathjax": MATHJAX_HTML.replace("{url}", f"{MATHJAX_DIR}/MathJax.js?config={MATHJAX_CONFIG_NAME}"),
        "course_css": NAV_CSS,
        "course_icon": NO_ICON,
        "course_nav": nav,
        "metadata": {"name": notebook.stem},
    }
    body, _ = (exporter or _exporter()).from_notebook_node(nb, resources=resources)
    body = body.replace(f'src="{COLAB_BADGE}"', f'src="{BADGE_FILE}"')
    target.write_text(body, encoding="utf-8")
    return target


# --- the index ------------------------------------------------------------------------------------


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, dict)):
        return "[...]"
    return str(value)


def headline_results(results: dict, limit: int = 8) -> list[str]:
    """The first ``limit`` recorded results as ``name=value`` (what the summary table shows)."""
    shown = [f"{k}={_fmt(v)}" for k, v in list(results.items())[:limit]]
    if len(results) > limit:
        shown.append(f"(+{len(results) - limit} more)")
    return shown


def _meta_line(meta: dict) -> str:
    parts = [meta.get("created", ""), f"Python {meta['python']}" if meta.get("python") else ""]
    parts += [f"{name} {meta[name]}" for name in ("tensorflow", "keras", "jax") if meta.get(name)]
    parts += [f"backend {meta['backend']}" if meta.get("backend") else "", meta.get("cpu", ""), meta.get("gpu", "")]
    return " - ".join(p for p in parts if p)


def index_html(summary: dict, pages: set[str], thumbs: set[str]) -> str:
    """The index page: the summary table with links to the pages and the thumbnails."""
    meta, entries = summary.get("meta", {}), summary.get("notebooks", [])
    total = sum(float(e.get("seconds", 0)) for e in entries)
    ok = sum(e.get("status") == "ok" for e in entries)
    rows = []
    for e in entries:
        stem = e["notebook"]
        name = html.escape(stem)
        link = f'<a href="{name}.html">{name}</a>' if stem in pages else name
        thumb = f'<img src="thumbs/{name}.png" alt="main figure of {name}">' if stem in thumbs else ""
        if thumb and stem in pages:
            thumb = f'<a href="{name}.html">{thumb}</a>'
        results = "".join(f"<li>{html.escape(r)}</li>" for r in headline_results(e.get("results", {})))
        error = f"<pre>{html.escape(e['error'][-600:])}</pre>" if e.get("error") else ""
        status = html.escape(e.get("status", "?"))
        rows.append(
            f'<tr><td class="thumb">{thumb}</td><td>{link}</td><td class="status-{status}">{status}</td>'
            f'<td class="time">{float(e.get("seconds", 0)):.0f} s</td>'
            f'<td><ul class="results">{results}</ul>{error}</td></tr>'
        )
    profile = html.escape(meta.get("profile", "default"))
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>The course, executed: {profile} profile</title>
{NO_ICON}
<style>{INDEX_CSS}</style>
</head>
<body>
<h1>The course, executed ({profile} profile)</h1>
<p class="meta">{html.escape(_meta_line(meta))}</p>
<p>{ok}/{len(entries)} notebooks ok in {total:.0f} s. Each notebook's page shows it as it ran, outputs included.</p>
<table>
<thead><tr><th>main figure</th><th>notebook</th><th>status</th><th>time</th><th>recorded results</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody>
</table>
</body>
</html>
"""


def build(results_dir: str | Path, output: str | Path | None = None, verbose: bool = False) -> Path:
    """Write the site of a results folder (its ``summary.json`` and executed notebooks); returns ``index.html``.

    ``output`` defaults to ``<results_dir>/site``.
    """
    results_dir = paths.resolve(results_dir)
    summary_path = results_dir / "summary.json"
    if not summary_path.exists():
        raise ValueError(
            f"Expected a results folder with a summary.json (what `python3 course.py run` writes). "
            f"Received: {results_dir}"
        )
    summary = json.loads(summary_path.read_text())
    site = paths.resolve(output) if output else results_dir / "site"
    site.mkdir(parents=True, exist_ok=True)
    copy_static(site)
    entries = summary.get("notebooks", [])
    present = [e["notebook"] for e in entries if (results_dir / f"{e['notebook']}.ipynb").exists()]
    exporter = _exporter()
    pages, thumbs = set(), set()
    for e in entries:
        stem = e["notebook"]
        notebook = results_dir / f"{stem}.ipynb"
        if stem not in present:
            continue
        i = present.index(stem)
        nav = _nav(e, present[i - 1] if i else None, present[i + 1] if i + 1 < len(present) else None)
        render_page(notebook, site / f"{stem}.html", nav, exporter)
        pages.add(stem)
        figure = main_figure(json.loads(notebook.read_text()))
        if figure is not None:
            write_thumbnail(figure, site / "thumbs" / f"{stem}.png")
            thumbs.add(stem)
        if verbose:
            print(f"  site: {stem}.html", flush=True)
    index = site / "index.html"
    index.write_text(index_html(summary, pages, thumbs), encoding="utf-8")
    return index


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.site", description=__doc__.split("\n\n")[0])
    parser.add_argument("results", nargs="?", default="results/default", help="a results folder (summary.json)")
    parser.add_argument("--output", default=None, help="folder for the site (default: RESULTS/site)")
    args = parser.parse_args(argv)
    try:
        index = build(args.results, args.output)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"site -> {index}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
