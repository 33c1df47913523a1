"""nbval, as the design promises: ``pytest --nbval-lax`` runs a notebook cell by cell in a fresh kernel, each
cell a test item, and fails the cell that raises (outputs are not compared: they hold timings and figures).

On one notebook, the cheapest and steadiest (01, about a minute on the 2-core CPU), with ``-m nbval``
(``python3 course.py test -m nbval``): it is not in the default run, where test_execute.py already executes
every notebook once and the test command must stay under 20 minutes on 2 cores. On all of them (about as long
as ``python3 course.py run``; ``--dist loadscope`` keeps each notebook's cells on one worker, in order)::

    python3 course.py test --dist loadscope --nbval-lax --nbval-current-env notebooks/
"""

import json
import re
import subprocess
import sys

import pytest

from harness import runner
from lib import paths

NOTEBOOK = paths.NOTEBOOKS / "01_convolution.ipynb"
TIMEOUT = 600  # seconds for the whole nbval run of the notebook


@pytest.mark.notebook
@pytest.mark.nbval
def test_nbval_lax_passes_on_one_notebook():
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "--nbval-lax",
        "--nbval-current-env",
        f"--nbval-cell-timeout={TIMEOUT}",
        str(NOTEBOOK.relative_to(paths.ROOT)),
    ]
    proc = subprocess.run(
        cmd, cwd=paths.ROOT, env=runner.kernel_environment(), capture_output=True, text=True, timeout=TIMEOUT + 120
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"nbval failed on {NOTEBOOK.name}:\n{out[-6000:]}"
    passed = re.search(r"(\d+) passed", out)
    code_cells = sum(c["cell_type"] == "code" for c in json.loads(NOTEBOOK.read_text())["cells"])
    assert passed and int(passed.group(1)) == code_cells, (
        f"expected one item per code cell ({code_cells}):\n{out[-2000:]}"
    )
