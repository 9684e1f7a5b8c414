#!/usr/bin/env bash
# Create or update .venv for this checkout: torch first (so that pip never resolves an
# unpinned torch and pulls several GB of CUDA packages on a CPU machine), then the project.
# Usage: scripts/setup-venv.sh [EXTRAS]   e.g. "test". pip's output goes to .venv/setup.log.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"
TORCH_VERSION="${VIDEOCHAT_TORCH_VERSION:-2.13.0}"

if [ ! -x .venv/bin/python ]; then
    echo "setting up .venv (first run only, a few minutes)..." >&2
    python3 -m venv .venv
fi
# Install again only when the dependencies change, or extras not installed yet are asked for.
digest="$(cat pyproject.toml scripts/setup-venv.sh | sha1sum | cut -c1-12)"
stamp=".venv/.installed-${digest}-${extras:-none}"
[ -e "$stamp" ] && exit 0
find .venv -maxdepth 1 -name ".installed-*" ! -name ".installed-${digest}-*" -delete

log=.venv/setup.log
install() {
    if ! .venv/bin/python -m pip install --disable-pip-version-check "$@" >>"$log" 2>&1; then
        tail -n 30 "$log" >&2
        echo "setup failed: pip install $* (whole log: $log)" >&2
        exit 1
    fi
}
.venv/bin/python -c "import torch" 2>/dev/null || install "torch==${TORCH_VERSION}"
install -e ".${extras:+[$extras]}"
touch "$stamp"
