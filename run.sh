#!/usr/bin/env bash
# Set up .venv on first use, then run the app. Until the desktop window lands this is the
# `videochat` command line: ./run.sh probe clip.mp4, ./run.sh sample clip.mp4 --family internvl2
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup-venv.sh
exec .venv/bin/videochat "$@"
