#!/usr/bin/env bash
# Creates tools/reference/.venv (git-ignored): the Python oracles for the real checkpoints
# (transformers + gguf for SmolLM2's GGUF, sentence-transformers for all-MiniLM-L6-v2).
# Test tooling only; never a runtime dependency, never installed into the system Python.
#
# The venv sees Debian's python3-torch and python3-numpy (--system-site-packages), so only the
# pure-Python packages below come from PyPI. transformers is pinned to a release that still runs
# on Debian's torch 1.13 (later 4.x releases disable torch < 2) and reads GGUF files.
#
#   tools/reference/setup_venv.sh            # create or update; prints the venv's python
#   RAGRPO_PYTHON=/usr/bin/python3 tools/reference/setup_venv.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="$here/.venv"
base="${RAGRPO_PYTHON:-/usr/bin/python3}"
if ! "$base" -c 'import torch, numpy' 2>/dev/null; then
  echo "setup_venv: $base cannot import torch and numpy (apt-get install python3-torch python3-numpy)" >&2
  exit 1
fi
[ -x "$venv/bin/python" ] || "$base" -m venv --system-site-packages "$venv"
"$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$here/requirements.txt"
"$venv/bin/python" -c 'import importlib.metadata as m, torch, transformers, gguf, sentence_transformers; print("setup_venv: torch", torch.__version__, "transformers", transformers.__version__, "gguf", m.version("gguf"), "sentence-transformers", sentence_transformers.__version__)' >&2
echo "$venv/bin/python"
