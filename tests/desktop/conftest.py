"""Qt tests run offscreen: without a display and without this, the whole run aborts."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Qt's multimedia backend looks for PipeWire and PulseAudio; their absence is not an error here.
os.environ.setdefault("QT_LOGGING_RULES", "qt.multimedia.*=false;qt.qpa.*=false")
