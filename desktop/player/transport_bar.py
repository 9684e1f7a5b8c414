"""The row of controls under the player's scrub bar: play/pause, frame steps, the frame's time and
number, speed, mute, volume.

A view only: it emits what the user asked for and shows what the pane tells it. None of its
controls takes the keyboard focus, so clicking one leaves the focus (and the keys) on the pane.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSlider, QToolButton, QWidget

from desktop.player.media_icons import media_icon
from desktop.style import TIME_STYLE
from videochat.settings import Settings
from videochat.video.timecode import format_time

SPEEDS = (0.25, 0.5, 1.0, 1.5, 2.0)


class TransportBar(QWidget):
    sig_play_toggled = Signal()
    sig_step_requested = Signal(int)  # frames, negative: back
    sig_speed_changed = Signal(float)
    sig_volume_changed = Signal(float)  # 0..1
    sig_muted_changed = Signal(bool)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        icon_color = self.palette().color(QPalette.ColorRole.ButtonText)
        self._icons = {kind: media_icon(kind, icon_color) for kind in ("play", "pause", "frame-back", "frame-forward", "sound", "muted")}
        self._play_button = self._tool_button("play", "Play / pause (Space)")
        self._play_button.clicked.connect(self.sig_play_toggled)
        back = self._tool_button("frame-back", "Previous frame (,)")
        back.clicked.connect(lambda: self.sig_step_requested.emit(-1))
        forward = self._tool_button("frame-forward", "Next frame (.)")
        forward.clicked.connect(lambda: self.sig_step_requested.emit(1))
        self._time_label = QLabel()
        self._time_label.setObjectName("playerTime")
        self._time_label.setStyleSheet(TIME_STYLE)
        self._frame_label = QLabel()
        self._frame_label.setObjectName("playerFrame")
        self._frame_label.setStyleSheet(TIME_STYLE)
        self._frame_label.setToolTip("The frame on screen, numbered from 0 as the answers' frames are")
        self.show_frame(0.0, None, 0.0)
        self._speed = QComboBox()
        self._speed.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._speed.setToolTip("Playback speed ([ and ])")
        for speed in SPEEDS:
            self._speed.addItem(f"{speed:g}×")
        self._speed.setCurrentIndex(SPEEDS.index(1.0))
        self._speed.currentIndexChanged.connect(lambda index: self.sig_speed_changed.emit(SPEEDS[index]))
        self._volume = QSlider(Qt.Orientation.Horizontal)
        self._volume.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._volume.setRange(0, 100)
        self._volume.setValue(round(Settings.volume * 100))  # the app's default; the window sets the user's own
        self._volume.setMaximumWidth(100)
        self._volume.setToolTip("Volume (M mutes)")
        self._muted = False
        self._mute_button = self._tool_button("sound", "")
        self._mute_button.setObjectName("playerMute")
        self._mute_button.setCheckable(True)
        self._mute_button.toggled.connect(self.set_muted)
        self._show_muted()
        self._volume.valueChanged.connect(lambda value: self.sig_volume_changed.emit(value / 100.0))
        self._video_controls = (self._play_button, back, forward, self._speed)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self._play_button, back, forward, self._time_label, self._frame_label):
            layout.addWidget(widget)
        layout.addStretch(1)
        layout.addWidget(self._speed)
        layout.addWidget(self._mute_button)
        layout.addWidget(self._volume)

    def _tool_button(self, icon: str, tooltip: str) -> QToolButton:
        button = QToolButton()
        button.setIcon(self._icons[icon])
        button.setToolTip(tooltip)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        return button

    def set_video_controls_enabled(self, enabled: bool) -> None:
        for widget in self._video_controls:
            widget.setEnabled(enabled)

    def show_frame(self, seconds: float, index: int | None, duration: float) -> None:
        """The frame on screen: its own time and its number (None: no video)."""
        self._time_label.setText(f"{format_time(seconds)} / {format_time(duration)}")
        self._frame_label.setText(f"frame {index}" if index is not None else "")

    def show_playing(self, playing: bool) -> None:
        self._play_button.setIcon(self._icons["pause" if playing else "play"])

    def speed(self) -> float:
        return SPEEDS[self._speed.currentIndex()]

    def change_speed(self, steps: int) -> None:
        """One step of the speed list up (positive) or down, stopping at its ends."""
        index = min(max(self._speed.currentIndex() + steps, 0), len(SPEEDS) - 1)
        self._speed.setCurrentIndex(index)

    def is_muted(self) -> bool:
        return self._muted

    def set_muted(self, muted: bool) -> None:
        if muted == self._muted:
            return
        self._muted = muted
        self._show_muted()
        self.sig_muted_changed.emit(muted)

    def _show_muted(self) -> None:
        self._mute_button.setChecked(self._muted)
        self._mute_button.setIcon(self._icons["muted" if self._muted else "sound"])
        self._mute_button.setToolTip("Muted: unmute (M)" if self._muted else "Mute (M)")

    def volume(self) -> float:
        return self._volume.value() / 100.0

    def set_volume(self, fraction: float) -> None:
        self._volume.setValue(round(min(max(fraction, 0.0), 1.0) * 100))
