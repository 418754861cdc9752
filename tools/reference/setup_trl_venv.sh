#!/usr/bin/env bash
# Creates tools/reference/.venv-trl: TRL's GRPOTrainer with torch, transformers, peft and accelerate from PyPI,
# for the TRL hand-off tests (tools/e2e/trl-*.test.ts), the loss/advantage parity scripts and the peer benchmark
# (tools/reference/trl_*.py). Test tooling only: never a runtime dependency, never installed into the system Python.
#
# Separate from tools/reference/.venv (which sits over Debian's torch 1.13 for the older oracles): TRL 1.x needs
# transformers >= 4.56 and accelerate >= 1.10, which need torch >= 2, so this venv has no system site packages.
#
#   tools/reference/setup_trl_venv.sh            # create or update; prints the venv's python
#   RAGRPO_PYTHON=python3.12 tools/reference/setup_trl_venv.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="$here/.venv-trl"
base="${RAGRPO_PYTHON:-/usr/bin/python3}"
"$base" -c 'import sys; assert sys.version_info >= (3, 11), "TRL 1.x needs Python >= 3.11"' \
  || { echo "setup_trl_venv: $base is older than Python 3.11 (TRL 1.x needs 3.11+); set RAGRPO_PYTHON" >&2; exit 1; }
[ -x "$venv/bin/python" ] || "$base" -m venv "$venv"
# git-ignored without touching the repository's .gitignore (what Python 3.13's venv writes itself)
[ -f "$venv/.gitignore" ] || echo '*' > "$venv/.gitignore"
"$venv/bin/python" -m pip install -q --disable-pip-version-check -U pip
"$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$here/requirements-trl.txt"
"$venv/bin/python" -c 'import torch, transformers, trl, peft, accelerate, datasets; from trl import GRPOConfig, GRPOTrainer; print("setup_trl_venv: torch", torch.__version__, "transformers", transformers.__version__, "trl", trl.__version__, "peft", peft.__version__, "accelerate", accelerate.__version__, "datasets", datasets.__version__)' >&2
echo "$venv/bin/python"
