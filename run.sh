#!/usr/bin/env bash
# Set up .venv on first use, then start the app: ./run.sh [clip.mp4]
# (the command line is .venv/bin/videochat: probe, sample, preprocess, ask).
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup-venv.sh
missing=""
# Read once: `ldconfig -p | grep -q` fails under pipefail whenever grep stops reading early (SIGPIPE).
known="$(ldconfig -p 2>/dev/null || true)"
for library in libpulse.so.0 libEGL.so.1 libxkbcommon.so.0 libfontconfig.so.1; do
    grep -q "$library" <<<"$known" || missing="$missing $library"
done
if [ -n "$missing" ]; then
    echo "The window needs Qt's system libraries, missing here:$missing" >&2
    echo "On Debian/Ubuntu: sudo apt-get install libpulse0 libegl1 libgl1 libxkbcommon0 libfontconfig1 libdbus-1-3" >&2
    exit 1
fi
exec .venv/bin/videochat-desktop "$@"
