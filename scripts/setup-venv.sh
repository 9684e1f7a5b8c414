#!/usr/bin/env bash
# Create or update .venv for this checkout: torch first (so that pip never resolves an
# unpinned torch and pulls several GB of CUDA packages on a CPU machine), then the project.
# Usage: scripts/setup-venv.sh [EXTRAS]   e.g. "test"
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"
TORCH_VERSION="${VIDEOCHAT_TORCH_VERSION:-2.13.0}"

if [ ! -x .venv/bin/python ]; then
    echo "setting up .venv (first run only, a few minutes)..." >&2
    python3 -m venv .venv
    .venv/bin/python -m pip install --quiet --upgrade pip
fi
# Reinstall only when the dependencies or the extras asked for change.
stamp=".venv/.installed-$(cat pyproject.toml scripts/setup-venv.sh | sha1sum | cut -c1-12)-${extras:-none}"
if [ ! -e "$stamp" ]; then
    .venv/bin/python -c "import torch" 2>/dev/null || .venv/bin/python -m pip install --quiet "torch==${TORCH_VERSION}"
    target="."
    [ -n "$extras" ] && target=".[${extras}]"
    .venv/bin/python -m pip install --quiet -e "$target"
    rm -f .venv/.installed-*
    touch "$stamp"
fi
