#!/usr/bin/env bash
# Create or update .venv for this checkout: torch first (so that pip never resolves an
# unpinned torch and pulls several GB of CUDA packages on a CPU machine), then the project,
# then what the OpenGVLab models' own code imports: timm and the torchvision built for that torch.
# Usage: scripts/setup-venv.sh [EXTRAS]   e.g. "test". pip's output goes to .venv/setup.log.
# VIDEOCHAT_TORCH_INDEX: a package index for torch and torchvision (e.g. https://download.pytorch.org/whl/cpu).
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"
TORCH_VERSION="${VIDEOCHAT_TORCH_VERSION:-2.13.0}"
# torchvision comes from where torch came from: pip's own sources, and this index when given.
torch_source=()
[ -n "${VIDEOCHAT_TORCH_INDEX:-}" ] && torch_source=(--extra-index-url "$VIDEOCHAT_TORCH_INDEX")

if [ ! -x .venv/bin/python ]; then
    echo "setting up .venv (first run only, a few minutes)..." >&2
    python3 -m venv .venv
fi
# Install again only when the dependencies change, or extras not installed yet are asked for.
digest="$(cat pyproject.toml scripts/setup-venv.sh videochat/models/torch_pairs.py | sha1sum | cut -c1-12)"
stamp=".venv/.installed-${digest}-${extras:-none}"
[ -e "$stamp" ] && exit 0
find .venv -maxdepth 1 -name ".installed-*" ! -name ".installed-${digest}-*" -delete

log=.venv/setup.log
python=.venv/bin/python
install() {
    if ! $python -m pip install --disable-pip-version-check "$@" >>"$log" 2>&1; then
        tail -n 30 "$log" >&2
        echo "setup failed: pip install $* (whole log: $log)" >&2
        exit 1
    fi
}

# timm and torchvision (videochat/models/torch_pairs.py has the pairs), torch held where it is by a
# constraint; then torch, torchvision and transformers must import together in a fresh interpreter
# (PyPI's torchvision installs beside a CPU torch from elsewhere, then breaks `import transformers`),
# or both are taken out again and torch put back: the app runs, the OpenGVLab models say what to do.
remote_code_packages() {
    local torch_version arguments constraint
    torch_version="$($python -c 'import importlib.metadata as m; print(m.version("torch"))')"
    if ! arguments="$($python -m videochat.models.torch_pairs install-args "$torch_version")"; then
        $python -m videochat.models.torch_pairs not-installed "$torch_version" "$python" >&2
        return 0
    fi
    constraint="$(mktemp)"
    echo "torch==$torch_version" >"$constraint"
    # shellcheck disable=SC2086  # one argument a line, none with spaces
    if $python -m pip install --disable-pip-version-check -c "$constraint" ${torch_source[@]+"${torch_source[@]}"} $arguments >>"$log" 2>&1 \
        && $python -c "
import sys, torch, torchvision, transformers
from timm.models.layers import DropPath
sys.exit(torch.__version__ != sys.argv[1])" "$torch_version" >>"$log" 2>&1; then
        rm -f "$constraint"
        return 0
    fi
    rm -f "$constraint"
    $python -m pip uninstall --disable-pip-version-check -y torchvision timm >>"$log" 2>&1 || true
    if [ "$($python -c 'import importlib.metadata as m; print(m.version("torch"))' 2>/dev/null)" != "$torch_version" ]; then
        install ${torch_source[@]+"${torch_source[@]}"} "torch==$torch_version"
    fi
    $python -m videochat.models.torch_pairs not-installed "$torch_version" "$python" >&2
}

$python -c "import torch" 2>/dev/null || install ${torch_source[@]+"${torch_source[@]}"} "torch==${TORCH_VERSION}"
install -e ".${extras:+[$extras]}"
remote_code_packages
touch "$stamp"
