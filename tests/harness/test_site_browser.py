"""The rendered course in a real browser: headless Chromium loads every page of a site built by a real run.

Slow and deselected by default: ``python3 course.py test -m browser``. Needs Debian's ``chromium`` and
``chromium-driver`` (``apt-get install chromium chromium-driver``); skipped, saying so, without them. Nothing
is installed or fetched: the browser is driven through chromedriver's WebDriver protocol by the small
standard-library client below, and every page must load with the network unused.

The site is built from a run of notebook 01 (``harness.runner``, as ``python3 course.py run --only 01`` does),
or from an existing results folder: ``COURSE_SITE_RESULTS=results/default python3 course.py test -m browser``
checks the site of a whole run. Every page, from ``file://`` and from a static web server on 127.0.0.1:
each ``<img>`` decoded (``naturalWidth > 0``), each local link resolves (fragments to an element of the
page), the math typeset (MathJax's output elements present, no raw ``$...$`` left in the Markdown, no
MathJax error), no error on the browser console.
"""

import base64
import contextlib
import functools
import http.server
import json
import os
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from harness import runner, site
from lib import paths

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,1000",
]
PAGE_TIMEOUT = 90  # seconds for a page to load and MathJax to finish

pytestmark = [
    pytest.mark.browser,
    pytest.mark.notebook,
    pytest.mark.skipif(
        not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
        reason="needs Debian's chromium and chromium-driver (/usr/bin/chromium, /usr/bin/chromedriver): "
        "apt-get install chromium chromium-driver",
    ),
]


# --- a WebDriver client, standard library only ------------------------------------------------------


class WebDriver:
    """Just enough of the W3C WebDriver protocol: a session, navigation, scripts, the browser's log."""

    def __init__(self, port: int, user_data_dir: Path):
        self.base = f"http://127.0.0.1:{port}"
        options = {"binary": str(CHROMIUM), "args": [*FLAGS, f"--user-data-dir={user_data_dir}"]}
        capabilities = {"browserName": "chrome", "goog:chromeOptions": options, "goog:loggingPrefs": {"browser": "ALL"}}
        reply = self._call("POST", "/session", {"capabilities": {"alwaysMatch": capabilities}})
        self.session = f"/session/{reply['sessionId']}"
        self._call("POST", f"{self.session}/timeouts", {"pageLoad": PAGE_TIMEOUT * 1000, "script": PAGE_TIMEOUT * 1000})

    def _call(self, method: str, path: str, body: dict | None = None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=PAGE_TIMEOUT + 30) as response:
                return json.loads(response.read() or b"{}").get("value")
        except urllib.error.HTTPError as err:
            raise RuntimeError(f"WebDriver {method} {path}: {err.read().decode()[:2000]}") from None

    def get(self, url: str) -> None:
        self._call("POST", f"{self.session}/url", {"url": url})

    def execute_async(self, script: str):
        return self._call("POST", f"{self.session}/execute/async", {"script": script, "args": []})

    def console(self) -> list[dict]:
        """The browser console's entries since the last call (chromedriver's log endpoint)."""
        return self._call("POST", f"{self.session}/se/log", {"type": "browser"}) or []

    def screenshot(self, path: Path) -> None:
        path.write_bytes(base64.b64decode(self._call("GET", f"{self.session}/screenshot")))

    def quit(self) -> None:
        with contextlib.suppress(Exception):
            self._call("DELETE", self.session)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    port = free_port()
    log = tmp_path_factory.mktemp("chromedriver") / "chromedriver.log"
    driver = subprocess.Popen(
        [str(CHROMEDRIVER), f"--port={port}", f"--log-path={log}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=5) as response:
                    if json.loads(response.read())["value"]["ready"]:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"chromedriver did not start (log: {log})")
            time.sleep(0.2)
        web = WebDriver(port, tmp_path_factory.mktemp("chromium-profile"))
        yield web
        web.quit()
    finally:
        driver.terminate()
        driver.wait(timeout=30)


# --- the site of a run -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def site_dir(tmp_path_factory):
    given = os.environ.get("COURSE_SITE_RESULTS")
    if given:
        return site.build(paths.resolve(given), tmp_path_factory.mktemp("site") / "site").parent
    out = tmp_path_factory.mktemp("run") / "default"
    runner.main(["--only", "01", "--output", str(out)])  # the notebook's own failures are not this test's business
    index = out / "site" / "index.html"
    assert index.exists(), "the run wrote no site"
    return index.parent


@pytest.fixture(scope="module")
def server(site_dir):
    handler = functools.partial(QuietHandler, directory=str(site_dir))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


#: Runs in the page once it has loaded and MathJax has typeset it (or at once, where no MathJax is loaded).
INSPECT = r"""
const done = arguments[arguments.length - 1];
function inspect() {
  const markdown = [...document.querySelectorAll(".jp-RenderedMarkdown")].map(e => e.innerText).join("\n");
  done({
    url: location.href,
    images: [...document.images].map(i => ({src: i.getAttribute("src").slice(0, 60),
                                            ok: i.complete && i.naturalWidth > 0})),
    links: [...document.querySelectorAll("a[href]")].map(a => a.getAttribute("href")),
    ids: [...document.querySelectorAll("[id]")].map(e => e.id),
    mathjax: typeof MathJax !== "undefined" && !!MathJax.Hub,
    sources: document.querySelectorAll('script[type^="math/tex"]').length,
    typeset: document.querySelectorAll(".MathJax, .MathJax_Display, .MathJax_SVG, mjx-container, .katex").length,
    errors: document.querySelectorAll(".MathJax_Error, merror, .mjx-merror").length,
    raw: (markdown.match(/\$[^$\n]+\$/g) || []).slice(0, 5),
  });
}
function whenTypeset() {  // MathJax's queue runs the callback after the typesetting queued before it
  if (MathJax.isReady) { MathJax.Hub.Queue(inspect); } else { setTimeout(whenTypeset, 100); }
}
if (typeof MathJax !== "undefined" && MathJax.Hub) { whenTypeset(); } else { inspect(); }
"""
#: MathJax 2 detects when its web fonts have loaded with a blank test font at about:blank, which a file:// page
#: may not load: a console error that is part of how MathJax works, not a fault of the page.
MATHJAX_FONT_PROBE = "about:blank"


def pages_of(site_dir: Path) -> list[Path]:
    return sorted(site_dir.glob("*.html"))


def check_page(browser, url: str, page: Path, site_dir: Path) -> list[str]:
    browser.get(url)
    seen = browser.execute_async(INSPECT)
    problems = [f"image {img['src']!r} did not decode" for img in seen["images"] if not img["ok"]]
    for href in seen["links"]:
        target, _, fragment = href.partition("#")
        if urllib.parse.urlparse(target).scheme in ("http", "https", "mailto"):
            continue
        if target and not (page.parent / urllib.parse.unquote(target.split("?")[0])).exists():
            problems.append(f"link {href!r} leads nowhere")
        elif not target and fragment and urllib.parse.unquote(fragment) not in seen["ids"]:
            problems.append(f"link {href!r}: no element with that id")
    if page.name != "index.html":
        if not seen["mathjax"]:
            problems.append("MathJax did not load")
        elif seen["sources"] and not seen["typeset"]:
            problems.append(f"{seen['sources']} formulas found but none typeset")
        if seen["errors"]:
            problems.append(f"{seen['errors']} MathJax errors")
        if seen["raw"]:
            problems.append(f"raw math left in the Markdown: {seen['raw']}")
    severe = [
        e["message"][:300]
        for e in browser.console()
        if e.get("level") == "SEVERE" and MATHJAX_FONT_PROBE not in e["message"]
    ]
    problems += [f"console: {message}" for message in severe]
    return problems


def test_every_page_from_files(browser, site_dir, tmp_path):
    pages = pages_of(site_dir)
    assert len(pages) >= 2, f"expected the index and a notebook page in {site_dir}"
    problems = {}
    for page in pages:
        found = check_page(browser, page.as_uri(), page, site_dir)
        if found:
            problems[page.name] = found
    browser.screenshot(tmp_path / "last_page.png")  # for a person who looks (pytest's tmp_path keeps it)
    assert not problems, json.dumps(problems, indent=1)


def test_every_page_from_a_web_server(browser, site_dir, server):
    problems = {}
    for page in pages_of(site_dir):
        found = check_page(browser, server + urllib.parse.quote(page.name), page, site_dir)
        if found:
            problems[page.name] = found
    assert not problems, json.dumps(problems, indent=1)


def test_math_is_typeset_on_the_notebook_pages(browser, site_dir):
    """Beyond no raw math left: formulas exist on the pages and MathJax turned them into its output."""
    counts = {}
    for page in pages_of(site_dir):
        if page.name == "index.html":
            continue
        browser.get(page.as_uri())
        seen = browser.execute_async(INSPECT)
        counts[page.name] = (seen["sources"], seen["typeset"])
    assert any(sources for sources, _ in counts.values()), f"no math on any page: {counts}"
    assert all(typeset >= sources > 0 or sources == 0 for sources, typeset in counts.values()), counts
