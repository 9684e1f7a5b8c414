#!/usr/bin/env bash
# Start the app, setting up .venv on first use: ./run.sh [clip.mp4]
# (the command line is .venv/bin/videochat: probe, sample, preprocess, ask, export, batch).
set -euo pipefail
cd "$(dirname "$0")"
# First, as it takes a moment: a display, and Qt's system libraries (scripts/system-packages.txt).
scripts/check-system.sh
scripts/setup-venv.sh
exec .venv/bin/videochat-desktop "$@"
