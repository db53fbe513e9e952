#!/bin/sh
# The full (slow) variants of the reliability attacks (issue 7); figures go in docs/reliability.md.
# 220 hostile corpus files (a 20 MB single line among them), 20 SIGKILLs of `trainer fit`,
# 20 SIGKILLs of `make html`, plus everything the fast run does. Takes 15-30 minutes on 2 cores.
# Each test prints one JSON line of figures (-s).
set -u
cd "$(dirname "$0")/../.."
PY=${PY:-.venv/bin/python}
RELIABILITY_FULL=1 exec "$PY" -m pytest -s -q -p no:cacheprovider tests/reliability "$@"
