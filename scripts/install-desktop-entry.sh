#!/usr/bin/env bash
# Put the built app in the Linux desktop's menu and file manager ("Open with VideoChat"):
#   scripts/install-desktop-entry.sh [dist/VideoChat]      (for this user; --remove takes it out)
# Writes ~/.local/share/applications/videochat.desktop, pointing at the bundle where it is now,
# and the icon in every size to ~/.local/share/icons/hicolor.
set -euo pipefail
cd "$(dirname "$0")/.."
data="${XDG_DATA_HOME:-$HOME/.local/share}"
if [ "${1:-}" = "--remove" ]; then
    rm -f "$data/applications/videochat.desktop"
    find "$data/icons/hicolor" -name videochat.png -delete 2>/dev/null || true
    echo "removed the VideoChat menu entry" >&2
    exit 0
fi
bundle="$(cd "${1:-dist/VideoChat}" && pwd)"
[ -x "$bundle/VideoChat" ] || { echo "no built app at $bundle: run scripts/build-app.sh first" >&2; exit 1; }
mkdir -p "$data/applications"
sed -e "s|^Exec=VideoChat|Exec=\"$bundle/VideoChat\"|" -e "s|^Icon=.*|Icon=videochat|" \
    resources/videochat.desktop > "$data/applications/videochat.desktop"
for size in 16 24 32 48 64 128 256 512; do
    mkdir -p "$data/icons/hicolor/${size}x${size}/apps"
    cp "resources/icons/videochat-$size.png" "$data/icons/hicolor/${size}x${size}/apps/videochat.png"
done
command -v update-desktop-database >/dev/null && update-desktop-database "$data/applications" || true
echo "VideoChat is in the applications menu; video files offer \"Open with VideoChat\"" >&2
