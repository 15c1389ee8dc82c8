#!/usr/bin/env bash
# Create .venv-spynnaker (Python 3.11) with sPyNNaker, the peer that compile_scale.py --spynnaker runs.
#
#     bash benchmarks/spynnaker_setup.sh            # from the repository root; idempotent
#
# The venv is separate from .venv (Python 3.10, lava) and ignored by git. SPYNNAKER_VERSION and
# PYTHON311 override the pinned version and the interpreter.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv-spynnaker
VERSION=${SPYNNAKER_VERSION:-1!7.4.1}   # PyPI spells 7.4.1 with epoch 1
PY=${PYTHON311:-}
if [ -z "$PY" ]; then
    for cand in python3.11 "$HOME/.pyenv/versions/3.11.7/bin/python" /usr/bin/python3.11; do
        if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import sys; assert sys.version_info[:2] == (3, 11)' 2>/dev/null; then
            PY=$cand; break
        fi
    done
fi
[ -n "$PY" ] || { echo "spynnaker_setup: no Python 3.11 found (set PYTHON311=/path/to/python3.11)" >&2; exit 1; }
if [ ! -x "$VENV/bin/python" ]; then
    "$PY" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q "spynnaker==$VERSION"
"$VENV/bin/python" -c 'import pyNN.spiNNaker, spynnaker; from importlib.metadata import version; print("sPyNNaker", version("sPyNNaker"), "ready in .venv-spynnaker")'
