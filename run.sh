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
# On X11, Qt's platform plugin needs the xcb libraries too (libxcb-cursor0 since Qt 6.5); without
# one, Qt aborts before the app can say anything.
if [ -n "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
    for plugin in .venv/lib/python3*/site-packages/PySide6/Qt/plugins/platforms/libqxcb.so; do
        [ -f "$plugin" ] || continue
        missing="$(ldd "$plugin" 2>/dev/null | awk '/not found/ { printf " %s", $1 }')"
        if [ -n "$missing" ]; then
            echo "Qt's X11 plugin needs libraries missing here:$missing" >&2
            echo "On Debian/Ubuntu: sudo apt-get install libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-randr0 libxcb-render-util0 libxcb-image0 libxcb-xkb1 libxkbcommon-x11-0" >&2
            exit 1
        fi
    done
fi
exec .venv/bin/videochat-desktop "$@"
