#!/usr/bin/env bash
# Before the window starts: is there a display, and are Qt's system libraries here? Says which
# packages to install (each once) or how to run without a display, instead of Qt aborting with a
# message about plugins. Exit 0: all there. Usage: scripts/check-system.sh
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ] && [ -z "${QT_QPA_PLATFORM:-}" ]; then
    echo "There is no display to show the window on (DISPLAY and WAYLAND_DISPLAY are unset): run it in a desktop session, or with xvfb-run ./run.sh, or QT_QPA_PLATFORM=offscreen ./run.sh (no window shown)." >&2
    exit 1
fi
# Qt's X11 plugin is the one used unless Wayland or another platform is chosen.
x11=no
case "${QT_QPA_PLATFORM:-}" in
    xcb*) x11=yes ;;
    "") [ -z "${WAYLAND_DISPLAY:-}" ] && x11=yes ;;
esac

# Read once: `ldconfig -p | grep -q` fails under pipefail whenever grep stops reading early (SIGPIPE).
known="$(ldconfig -p 2>/dev/null || /sbin/ldconfig -p 2>/dev/null || true)"
missing=""
while read -r package library scope; do
    case "$package" in "" | "#"*) continue ;; esac
    [ "$scope" = x11 ] && [ "$x11" = no ] && continue
    grep -qF "	$library " <<<"$known" || missing="$missing $package"
done <scripts/system-packages.txt
if [ -n "$missing" ]; then
    echo "The window needs system libraries missing here. On Debian/Ubuntu: sudo apt-get install$missing" >&2
    exit 1
fi
