#!/usr/bin/env bash
# Build the double-click app: dist/VideoChat/ (one folder: VideoChat, videochat-console, the
# libraries, and in _internal/runtime/ a wheel of the project for installing the current runtime).
# Sets up .venv with PyInstaller first. Then, optionally, check the build:
#   scripts/build-app.sh              build
#   scripts/build-app.sh --check      build, then run build/smoke_test.py on the result
# The bundle holds the torch that .venv has: a CPU build here (scripts/setup-venv.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-venv.sh build
started=$SECONDS
.venv/bin/python -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath dist --workpath .pyinstaller-work build/videochat.spec
# torch's libraries come with their symbols (about 90 MB); PyInstaller's strip option would also
# strip numpy's OpenBLAS and Qt's media plugin, which then fail to load, so only these are stripped.
if [ "$(uname -s)" = Linux ] && command -v strip >/dev/null; then
    strip --strip-unneeded dist/VideoChat/_internal/torch/lib/*.so* 2>/dev/null || true
fi
echo "built dist/VideoChat in $((SECONDS - started)) s: $(du -sh dist/VideoChat | cut -f1)" >&2
# The spec put the project's wheel here (build/runtime_wheel.py): the current runtime installs it.
echo "with $(du -h dist/VideoChat/_internal/runtime/*.whl | cut -f1) of VideoChat's code as a wheel for the current runtime" >&2
if [ "${1:-}" = "--check" ]; then
    scripts/setup-venv.sh test  # the smoke test builds its tiny model with the test tools
    .venv/bin/python build/smoke_test.py dist/VideoChat
fi
