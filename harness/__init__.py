"""`harness`: the machinery that runs, tests, benchmarks and grades the course.

Notebooks never import it; it imports `lib` (never the reverse; a test checks).

* :mod:`harness.runner` - execute notebooks with papermill, write the results summary
* :mod:`harness.floors` - the rules recorded results must meet in the tests
* :mod:`harness.bench` - the benchmark tables of BENCHMARKS.md
* :mod:`harness.results` - RESULTS.md from a ``full``-profile summary
* :mod:`harness.site` - the rendered course: a static site of a run's executed notebooks
* :mod:`harness.run_times` - README's run times from a measured run
* :mod:`harness.classroom` - student versions and grading of submitted notebooks (points, feedback, in parallel)
* :mod:`harness.otter` - the exercises in otter-grader's assignment format (otter assign, Gradescope)
* :mod:`harness.notebooks` - the canonical Setup cell, notebooks <-> percent scripts, stripping outputs
"""
