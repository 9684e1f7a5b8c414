"""The chat's generation controls: frames (by the loaded model's frame rule), HD, max tokens, temperature.

The frame control takes only the counts the loaded model's family takes (`set_frame_rule`); the
family says which, and why a count is refused, so nothing here knows a family's numbers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QDoubleSpinBox, QHBoxLayout, QLabel, QSpinBox, QWidget

from videochat.errors import VideoChatError
from videochat.settings import Settings

if TYPE_CHECKING:
    from videochat.generation import GenerationSettings


class GenerationControls(QWidget):
    sig_hd_toggled = Signal(bool)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.frames_spin = QSpinBox()
        self.frames_spin.setToolTip("How many frames of the clip (or segment) the model sees")
        self.frames_spin.setKeyboardTracking(False)  # typed values are checked when done, not per digit
        self.frames_spin.valueChanged.connect(self._on_frames_changed)
        self._frame_multiple = 1
        self._default_frames = 8
        self.hd_check = QCheckBox("HD")
        self.hd_check.setToolTip("More detail per frame (the model's HD variant): slower")
        self.hd_check.toggled.connect(self.sig_hd_toggled)
        self.hd_check.setEnabled(False)
        self.tokens_spin = QSpinBox()
        self.tokens_spin.setRange(1, 8192)
        self.tokens_spin.setValue(Settings.max_new_tokens)  # the app's defaults; the window shows the user's own
        self.tokens_spin.setToolTip("The longest answer, in tokens")
        self.temperature_spin = QDoubleSpinBox()
        self.temperature_spin.setRange(0.0, 2.0)
        self.temperature_spin.setSingleStep(0.1)
        self.temperature_spin.setValue(Settings.temperature)
        self.temperature_spin.setToolTip("0 answers the same way every time; higher values vary more")
        self._set_frame_range(64, 1)  # until a model is loaded: the most common rule, 1 to 64
        self.frames_spin.setValue(self._default_frames)

        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        for label, widget in (("Frames", self.frames_spin), (None, self.hd_check), ("Max tokens", self.tokens_spin), ("Temperature", self.temperature_spin)):
            if label:
                row.addWidget(QLabel(label))
            row.addWidget(widget)
        row.addStretch(1)

    def set_frame_rule(self, family, default: int) -> str | None:
        """Take only the frame counts the loaded model's family takes (a `videochat.families.Family`):
        from its multiple to its maximum, in steps of the multiple (InternVideo2.5: 4 to 512 in fours).

        A count left at the last model's default follows the new model's default. A count the user
        chose stays where the family takes it; where not, it becomes the nearest count the family
        takes, and the returned note says so in the family's own words (None otherwise).
        """
        chosen = self.frames_spin.value()
        untouched = chosen == self._default_frames
        self._set_frame_range(family.max_frames, family.frame_multiple)
        self._default_frames = self._snap(default)
        if untouched:
            self.frames_spin.setValue(self._default_frames)
            return None
        try:
            family.check_frame_count(chosen)
        except VideoChatError as refusal:
            adjusted = self._snap(chosen)
            self.frames_spin.setValue(adjusted)
            return f"{refusal} Frames set to {adjusted}."
        return None

    def _set_frame_range(self, maximum: int, multiple: int) -> None:
        """Frames from `multiple` to `maximum`, in steps of `multiple`; the value is left to the caller."""
        self._frame_multiple = max(1, int(multiple))
        top = max(self._frame_multiple, maximum - maximum % self._frame_multiple)
        self.frames_spin.blockSignals(True)
        self.frames_spin.setRange(self._frame_multiple, top)
        self.frames_spin.setSingleStep(self._frame_multiple)
        self.frames_spin.blockSignals(False)

    def set_hd_available(self, available: bool, checked: bool = False) -> None:
        """Whether the model has an HD variant, and whether the loaded one is it (no `sig_hd_toggled`)."""
        self.hd_check.setEnabled(available)
        self.hd_check.blockSignals(True)
        self.hd_check.setChecked(available and checked)
        self.hd_check.blockSignals(False)

    def hd(self) -> bool:
        return self.hd_check.isChecked()

    def frames(self) -> int:
        self.frames_spin.interpretText()
        return self._snap(self.frames_spin.value())

    def settings(self) -> GenerationSettings:
        from videochat.generation import GenerationSettings

        max_new_tokens, temperature = self.generation_values()
        return GenerationSettings(max_new_tokens=max_new_tokens, temperature=temperature)

    def generation_values(self) -> tuple[int, float]:
        """(max new tokens, temperature) as the controls show them."""
        return self.tokens_spin.value(), round(self.temperature_spin.value(), 2)

    def set_generation_values(self, max_new_tokens: int, temperature: float) -> None:
        self.tokens_spin.setValue(max_new_tokens)
        self.temperature_spin.setValue(temperature)

    def _snap(self, frames: int) -> int:
        multiple = self._frame_multiple
        snapped = int(round(frames / multiple)) * multiple
        return min(max(snapped, self.frames_spin.minimum()), self.frames_spin.maximum())

    def _on_frames_changed(self, value: int) -> None:
        snapped = self._snap(value)
        if snapped != value:
            self.frames_spin.setValue(snapped)
