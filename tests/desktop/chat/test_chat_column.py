"""The chat's column and looks: bubbles that never move when a later one grows, and no style sheet."""

from __future__ import annotations

import gc

from PySide6.QtCore import QEvent, QObject, QPoint, Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QLabel, QProxyStyle, QStyle, QWidget

from desktop.chat.column_layout import ColumnLayout
from desktop.chat.wrapping_label import WrappingLabel
from desktop.style import ERROR_COLOR
from tests.support.chat_pane import make_answer

LONG_LINE = "The video shows a red ball rolling across a wooden table while a hand reaches in from the left. "


def _answered(pane, qtbot, count: int) -> None:
    for number in range(count):
        pane.begin_answer(f"Question {number}?")
        pane.append_answer_text(LONG_LINE * 3)
        pane.finish_answer(make_answer(text=LONG_LINE * 3, times=[0.5, 1.0, 1.5, 2.0], indices=[5, 10, 15, 20]))
    qtbot.wait(50)


class _Moves(QObject):
    def __init__(self):
        super().__init__()
        self.moved: list[str] = []

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.Move:
            self.moved.append(type(watched).__name__)
        return False


def test_bubbles_above_a_growing_answer_never_move(pane, qtbot):
    # In a box layout the column first squeezed every bubble into its old height, then the scroll
    # area made it taller and they moved back: every visible widget was painted again at each piece.
    _answered(pane, qtbot, 4)
    assert pane.scroll.verticalScrollBar().isVisible()  # else its showing would rightly move them all
    moves = _Moves()
    earlier = pane.bubbles()
    for widget in earlier:
        widget.installEventFilter(moves)
    pane.begin_answer("And then?")
    for _ in range(12):
        pane.append_answer_text(LONG_LINE)
        qtbot.wait(5)
    pane.finish_answer(make_answer(text=LONG_LINE * 12))
    qtbot.wait(50)
    assert moves.moved == []
    assert [w.y() for w in earlier] == sorted(w.y() for w in earlier)


def test_the_column_is_as_tall_as_its_bubbles_and_follows_the_newest(pane, qtbot):
    _answered(pane, qtbot, 4)
    widgets = pane.bubbles()
    column = pane.message_layout
    qtbot.waitUntil(lambda: pane.messages.height() == column.heightForWidth(pane.messages.width()))
    for above, below in zip(widgets, widgets[1:]):
        assert above.geometry().bottom() < below.y()  # in order, none overlapping
    assert widgets[-1].geometry().bottom() <= pane.messages.height()
    bar = pane.scroll.verticalScrollBar()
    assert bar.maximum() > 0 and bar.value() == bar.maximum()


def test_a_hidden_widget_takes_no_room_and_a_cleared_chat_none(pane, qtbot):
    _answered(pane, qtbot, 2)
    width = pane.messages.width()
    before = pane.message_layout.heightForWidth(width)
    pane.bubbles()[0].hide()
    assert pane.message_layout.heightForWidth(width) < before
    pane.clear()
    qtbot.waitUntil(lambda: pane.message_layout.count() == 0)
    assert pane.message_layout.heightForWidth(width) == pane.message_layout.contentsMargins().top() + pane.message_layout.contentsMargins().bottom()


def test_no_style_sheet_styles_the_chat(pane, qtbot):
    # A style sheet on the chat made every widget in it go through QStyleSheetStyle (bench/chat_turns.py).
    _answered(pane, qtbot, 1)
    pane.show_note("A new conversation starts: the model changed.")
    pane.show_error("The model process stopped.")
    styled = {type(w).__name__ for w in pane.messages.findChildren(QWidget) if w.style().metaObject().className() == "QStyleSheetStyle"}
    assert styled == set()


def _pixel(widget: QWidget, x: int, y: int) -> str:
    return widget.grab().toImage().pixelColor(x, y).name()


def test_the_selected_answer_is_outlined_in_the_highlight_colour(pane, qtbot):
    _answered(pane, qtbot, 2)
    first, second = pane.answer_bubbles()
    highlight, midlight = (second.palette().color(role).name() for role in (QPalette.ColorRole.Highlight, QPalette.ColorRole.Midlight))
    middle = second.height() // 2
    assert second.outlined and not first.outlined  # the newest is selected as it finishes
    assert _pixel(second, 0, middle) == _pixel(second, 1, middle) == highlight  # 2 px wide
    assert _pixel(first, 0, first.height() // 2) == midlight
    qtbot.mouseClick(first, Qt.MouseButton.LeftButton, pos=QPoint(3, first.height() // 2))  # its margin, no label
    assert first.outlined and not second.outlined
    assert _pixel(first, 1, first.height() // 2) == highlight and _pixel(second, 0, middle) == midlight
    qtbot.mouseClick(second.meta_label, Qt.MouseButton.LeftButton)  # a selectable label keeps the press: it says so
    assert second.outlined and not first.outlined


def test_a_question_is_filled_and_errors_and_meta_lines_keep_their_colours(pane, qtbot):
    _answered(pane, qtbot, 1)
    question = pane.bubbles()[0]
    assert _pixel(question, 3, question.height() // 2) == question.palette().color(QPalette.ColorRole.AlternateBase).name()
    pane.begin_answer("Why?")
    pane.fail_answer("It stopped.")
    failed = pane.answer_bubbles()[-1]
    assert failed.error_label.palette().color(failed.error_label.foregroundRole()) == QColor(ERROR_COLOR)
    meta = pane.answer_bubbles()[0].meta_label
    assert meta.foregroundRole() == QPalette.ColorRole.PlaceholderText
    assert _contrast(meta.palette().color(meta.foregroundRole()), meta.palette().color(QPalette.ColorRole.Window)) > 3  # the mid colour had 1.7


def _contrast(text: QColor, background: QColor) -> float:
    """WCAG's contrast ratio of `text` (its alpha blended over `background`) against `background`."""

    def luminance(red: float, green: float, blue: float) -> float:
        channels = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (red, green, blue)]
        return 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2]

    alpha = text.alphaF()
    shown = [t * alpha + b * (1 - alpha) for t, b in zip(text.getRgbF()[:3], background.getRgbF()[:3])]
    lighter, darker = sorted((luminance(*shown), luminance(*background.getRgbF()[:3])), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def test_setting_the_same_text_again_keeps_the_heights_it_was_laid_out_at(qtbot):
    label = WrappingLabel(LONG_LINE * 4)
    label.setWordWrap(True)
    qtbot.addWidget(label)
    height = label.heightForWidth(300)
    label.setText(LONG_LINE * 4)
    assert label._heights == {300: height}
    label.setText(LONG_LINE)
    assert label._heights == {} and label.heightForWidth(300) < height
    QLabel.clear(label)  # Qt's own ways of changing it, which do not go through setText
    label.setText(LONG_LINE)
    assert QLabel.text(label) == LONG_LINE


def test_the_column_inserts_where_asked_and_lets_go_of_what_it_removes(qtbot):
    holder = QWidget()
    qtbot.addWidget(holder)
    column = ColumnLayout(holder)
    first, second, third, last = (QLabel(name) for name in ("first", "second", "third", "last"))
    column.insertWidget(0, first)
    column.insertWidget(1, second)
    column.insertWidget(0, third)
    column.insertWidget(-1, last)
    assert [column.itemAt(i).widget().text() for i in range(column.count())] == ["third", "first", "second", "last"]
    column.removeWidget(first)  # Qt deletes the item it takes back: one Qt made
    gc.collect()
    assert [column.itemAt(i).widget().text() for i in range(column.count())] == ["third", "second", "last"]
    assert column.itemAt(3) is None and column.takeAt(-1) is None


class _NoLayoutSpacing(QProxyStyle):
    """As macOS's style: no spacing for a plain QLayout, which must ask layoutSpacing (as QBoxLayout does)."""

    def pixelMetric(self, metric, option=None, widget=None) -> int:  # noqa: N802 (Qt's name)
        if metric in (QStyle.PixelMetric.PM_LayoutHorizontalSpacing, QStyle.PixelMetric.PM_LayoutVerticalSpacing):
            return -1
        return super().pixelMetric(metric, option, widget)

    def layoutSpacing(self, control1, control2, orientation, option=None, widget=None) -> int:  # noqa: N802 (Qt's name)
        return 7


def test_a_style_without_a_plain_layout_spacing_still_parts_the_bubbles(qtbot):
    holder = QWidget()
    qtbot.addWidget(holder)
    style = _NoLayoutSpacing()
    holder.setStyle(style)
    column = ColumnLayout(holder)
    labels = [QLabel(name) for name in ("one", "two", "three")]
    for label in labels:
        column.insertWidget(column.count(), label)
    holder.resize(200, 200)
    holder.show()
    qtbot.waitExposed(holder)
    assert [below.y() - above.geometry().bottom() - 1 for above, below in zip(labels, labels[1:])] == [7, 7]


def test_a_bubble_ends_its_painter_even_when_its_paint_frame_outlives_the_paint(pane, qtbot, qtlog):
    import sys

    _answered(pane, qtbot, 1)
    [bubble] = pane.answer_bubbles()
    held = []  # what a profiler or a sampling thread does: keep the frame, and with it the painter

    def keep_paint_frames(frame, event, arg):
        if event == "return" and frame.f_code.co_name == "paintEvent":
            held.append(frame)

    sys.setprofile(keep_paint_frames)
    try:
        bubble.repaint()  # painted now, through the window's backing store
    finally:
        sys.setprofile(None)
    assert held  # the bubble's own paintEvent ran
    assert not [record for record in qtlog.records if "active painter" in record.message]
