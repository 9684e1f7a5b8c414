"""`videochat-desktop --self-test CLIP --model MODEL`: the real window, driven end to end, then quit.

Opens the clip in the player, loads the model on the model thread, asks one question through
the chat pane and waits for the answer bubble; prints the answer as JSON and exits 0, or prints
what failed and exits 1. It is how a built bundle is checked (`build/smoke_test.py`), and works
the same on any install.
"""

from __future__ import annotations

import json
import sys

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

QUESTION = "What happens in this video?"


class SelfTest:
    def __init__(self, app: QApplication, window, clip: str, model: str, trust_remote_code: bool, timeout_s: float):
        self.app, self.window = app, window
        self.clip, self.model, self.trust_remote_code = clip, model, trust_remote_code
        self.status = 1
        window.player.sig_opened.connect(self._on_opened)
        window.player.sig_open_failed.connect(lambda message: self._fail(f"the clip did not open: {message}"))
        window.worker.sig_loaded.connect(self._on_loaded)
        window.worker.sig_load_failed.connect(lambda error: self._fail(f"the model did not load: {error}"))
        window.worker.sig_answer_finished.connect(self._on_answered)
        window.worker.sig_answer_failed.connect(lambda error: self._fail(f"no answer: {error}"))
        QTimer.singleShot(int(timeout_s * 1000), lambda: self._fail(f"no answer within {timeout_s:.0f} s"))

    def start(self) -> None:
        self.window.worker.start()
        self.window.open_video(self.clip)

    def _on_opened(self, _info) -> None:
        self.window.load_model(self.model, trust_remote_code=self.trust_remote_code)

    def _on_loaded(self, _ref) -> None:
        self.window.chat.tokens_spin.setValue(8)
        self.window.chat.question_box.setPlainText(QUESTION)
        self.window.chat.sig_ask_requested.emit(QUESTION)

    def _on_answered(self, answer) -> None:
        # Checked after the main window has drawn it: the bubble is what a user would see.
        QTimer.singleShot(0, lambda: self._check_shown(answer))

    def _check_shown(self, answer) -> None:
        bubbles = self.window.chat.answer_bubbles()
        if not bubbles or bubbles[-1].text != answer.text or len(bubbles[-1].chips) != len(answer.times):
            self._fail("the answer came back but the chat pane does not show it")
            return
        print(json.dumps({"frozen": bool(getattr(sys, "frozen", False)), **answer.to_dict()}, ensure_ascii=False), flush=True)
        self.status = 0
        self.app.quit()

    def _fail(self, message: str) -> None:
        if self.status == 0:
            return
        print(f"self-test failed: {message}", file=sys.stderr, flush=True)
        self.status = 1
        self.app.quit()
