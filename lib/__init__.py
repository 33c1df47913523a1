"""`lib`: the small, tested package behind the CNN course notebooks.

Every notebook imports it as ``lib`` after its Setup cell. Submodules are
imported lazily (``lib.data``, ``lib.viz``, ...) so that ``import lib`` is cheap
and never imports Keras before the notebook has chosen ``KERAS_BACKEND``.

One module per subject; each public function's docstring names the notebook
that introduces it.
"""

import importlib

__version__ = "0.1.0"

#: Where the course lives; the Colab badges and Colab's Setup cell are built from it.
REPO_URL = "https://github.com/cnn-course/cnn-course"
#: The ref that Colab checks out. Release tags are pinned here (tests check that the
#: Setup cell of every notebook uses this same value).
COURSE_REF = "main"
#: One base URL for every "Open in Colab" badge; a notebook's badge is this + its path.
COLAB_BASE = "https://colab.research.google.com/github/cnn-course/cnn-course/blob/main/"

_SUBMODULES = {
    "autodiff", "bench", "data", "environment", "flops", "layers", "models",
    "ops", "report", "runner", "style", "attacks", "train", "viz", "optim",
    "init", "regularizers", "augment", "norm", "exercises", "paths", "notebook",
    "anatomy", "activations", "zoo", "transfer", "speedrun", "classroom", "results", "pretrained",
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
