"""The frame under the mouse on the scrub bar: a small picture above the cursor, with its time.

As mpv's thumbfast does: hovering the bar asks for the frame shown at that time, decoded at
preview size by the thumbnail machinery (`desktop/player/thumbnails.py`) on a pool thread of its own,
never on the GUI thread. Latest wins: while one frame decodes, only the newest hovered frame
waits, so a fast sweep across the bar costs two decodes rather than a queue of hundreds. Decoded
pictures are kept (`CACHED_FRAMES`, a few MB) so that going back over the bar is immediate. The
popup shows the frame's own time and number at once, the picture when it is decoded, and hides
when the mouse leaves the bar or starts dragging it (the player then shows the frames itself).
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QObject, QPoint, Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from desktop.player.thumbnails import ThumbnailLoader
from desktop.style import POPUP_STYLE
from videochat.video.timecode import format_time
from videochat.video.timeline import Timeline

if TYPE_CHECKING:
    from desktop.player.scrub_bar import ScrubBar
    from videochat.video.info import VideoInfo

PREVIEW_HEIGHT = 108
CACHED_FRAMES = 120  # 192 x 108 RGB pictures: about 7 MB
GAP_ABOVE_BAR = 6


class FramePopup(QWidget):
    """A frameless window that takes no focus: the picture, and under it the frame's time."""

    def __init__(self, parent: QWidget, picture_size: tuple[int, int]):
        super().__init__(parent, Qt.WindowType.ToolTip | Qt.WindowType.FramelessWindowHint)
        self.setObjectName("scrubPreview")
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self.setStyleSheet(POPUP_STYLE)
        self.picture = QLabel()
        self.picture.setFixedSize(*picture_size)  # the popup keeps its size while the picture decodes
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.time_label = QLabel()
        self.time_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(2)
        layout.addWidget(self.picture)
        layout.addWidget(self.time_label)


class ScrubPreview(QObject):
    """Follows a `ScrubBar`'s hover signals; `set_video` says which video the bar is of."""

    sig_shown = Signal(int)  # the frame index whose picture the popup shows now

    def __init__(self, bar: ScrubBar):
        super().__init__(bar)
        self._bar = bar
        self._loader = ThumbnailLoader(self, height=PREVIEW_HEIGHT)
        self._loader.sig_ready.connect(self._on_decoded)
        self._loader.sig_failed.connect(self._on_failed)
        self._info: VideoInfo | None = None
        self._timeline: Timeline | None = None
        self._pictures: OrderedDict[int, QImage] = OrderedDict()
        self._failed: set[int] = set()
        self._keys = itertools.count(1)
        self._requests: dict[int, tuple[VideoInfo, int]] = {}  # key -> (video, frame index)
        self._decoding: int | None = None  # the key being decoded
        self._wanted: int | None = None  # the frame under the mouse
        self._shown: int | None = None  # the frame whose picture the popup shows
        self._popup: FramePopup | None = None  # made at the first hover of a video
        bar.sig_hovered.connect(self.hover)
        bar.sig_hover_ended.connect(self.hide)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

    def set_video(self, info: VideoInfo | None) -> None:
        self.hide()
        self._info = info
        self._timeline = Timeline.of(info) if info is not None and info.frame_count > 0 else None
        self._pictures.clear()
        self._failed.clear()
        self._shown = None
        if self._popup is not None:
            self._popup.deleteLater()
            self._popup = None

    def popup(self) -> FramePopup | None:
        return self._popup

    def shown_frame(self) -> int | None:
        """The frame whose picture is on show, None while the popup is hidden or waits for its picture."""
        return self._shown if self._popup is not None and self._popup.isVisible() else None

    def hover(self, seconds: float) -> None:
        info, timeline = self._info, self._timeline
        if info is None or timeline is None:
            return
        index = timeline.frame_at(seconds)  # the frame on screen then, as the player names it
        popup = self._popup or self._make_popup(info)
        popup.time_label.setText(f"{format_time(timeline.time_of(index))}  ·  frame {index}")
        self._wanted = index
        if index in self._pictures:
            self._show_picture(index)
        elif self._decoding is None and index not in self._failed:
            self._request(index)
        # Else the newest hovered frame waits for the one decoding now: see _next.
        self._place(popup, seconds)
        popup.show()

    def hide(self) -> None:
        self._wanted = None
        if self._popup is not None:
            self._popup.hide()

    def shutdown(self) -> bool:
        self.hide()
        return self._loader.shutdown()

    def _make_popup(self, info: VideoInfo) -> FramePopup:
        height = PREVIEW_HEIGHT - PREVIEW_HEIGHT % 2  # the size the loader decodes at
        width = max(2, round(height * info.width / max(1, info.height) / 2) * 2)
        self._popup = FramePopup(self._bar, (width, height))
        return self._popup

    def _place(self, popup: FramePopup, seconds: float) -> None:
        popup.adjustSize()
        anchor = self._bar.mapToGlobal(QPoint(round(self._bar.x_for_seconds(seconds)), 0))
        x, y = anchor.x() - popup.width() // 2, anchor.y() - popup.height() - GAP_ABOVE_BAR
        screen = self._bar.screen()
        if screen is not None:  # kept on the screen at the bar's ends
            area = screen.availableGeometry()
            x = min(max(x, area.left()), area.right() - popup.width() + 1)
            y = max(y, area.top())
        popup.move(x, y)

    def _show_picture(self, index: int) -> None:
        self._pictures.move_to_end(index)
        self._popup.picture.setPixmap(QPixmap.fromImage(self._pictures[index]))
        if self._shown != index:
            self._shown = index
            self.sig_shown.emit(index)

    def _request(self, index: int) -> None:
        key = next(self._keys)
        self._decoding = key
        self._requests[key] = (self._info, index)
        self._loader.request(key, self._info.path, [index])

    def _on_decoded(self, key: int, images: list) -> None:
        info, index = self._requests.pop(key, (None, -1))
        if info is self._info and images:
            self._pictures[index] = images[0]
            while len(self._pictures) > CACHED_FRAMES:
                self._pictures.popitem(last=False)
            if index == self._wanted:
                self._show_picture(index)
        self._next(key)

    def _on_failed(self, key: int, _error: object) -> None:
        # A frame that does not decode leaves the popup with its time only; it is not asked for again.
        info, index = self._requests.pop(key, (None, -1))
        if info is self._info:
            self._failed.add(index)
        self._next(key)

    def _next(self, finished_key: int) -> None:
        if self._decoding == finished_key:
            self._decoding = None
        wanted = self._wanted
        if self._decoding is None and wanted is not None and wanted not in self._pictures and wanted not in self._failed:
            self._request(wanted)
