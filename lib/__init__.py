"""`lib`: the small, tested package behind the CNN course notebooks.

Every notebook imports it as ``lib`` after its Setup cell. Submodules are
imported lazily (``lib.data``, ``lib.viz``, ...) so that ``import lib`` is cheap
and never imports Keras before the notebook has chosen ``KERAS_BACKEND``.

One module per subject; each public function's docstring names the notebook
that introduces it.
"""

import importlib

__version__ = "0.1.0"

#: Where the course lives, and the release tag that hosted notebooks (Colab, Kaggle, a downloaded notebook)
#: fetch `lib` at. The one place these are written: the notebooks' Setup cell is generated from them
#: (harness.notebooks.SETUP_CELL; a test checks every notebook) and so are the Colab badges. Releasing: tag
#: the commit (git tag v1.1 && git push --tags), then set COURSE_REF here and regenerate (CONTRIBUTING.md).
REPO_URL = "https://github.com/cnn-course/cnn-course"
COURSE_REF = "v1.0"
#: One base URL for every "Open in Colab" badge; a notebook's badge is this + its path (at the release tag).
COLAB_BASE = (
    f"https://colab.research.google.com/github/{REPO_URL.removeprefix('https://github.com/')}/blob/{COURSE_REF}/"
)

_SUBMODULES = {
    # helpers every notebook uses
    "environment",
    "data",
    "viz",
    "report",
    "paths",
    "exercises",
    "timing",
    "checks",
    "gradcheck",
    # teaching modules, one per subject
    "ops",
    "flops",
    "anatomy",
    "activations",
    "init",
    "optim",
    "regularizers",
    "augment",
    "norm",
    "models",
    "transfer",
    "attacks",
    "style",
    "speedrun",
    "autodiff",
}


def setup(*args, **kwargs):
    """Prepare a notebook session; see :func:`lib.environment.setup`.

    Introduced in notebook 01 (every notebook's Setup cell calls it).
    """
    from lib.environment import setup as _setup

    return _setup(*args, **kwargs)


def __getattr__(name):
    if name in _SUBMODULES:
        module = importlib.import_module(f"lib.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'lib' has no attribute {name!r}")
