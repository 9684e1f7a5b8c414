"""desktop/resources.py: the files the app ships beside its code."""

from __future__ import annotations

from desktop.resources import WINDOW_ICON_MAX_PX, application_icon, icon_files


def test_the_window_icon_has_the_small_sizes_only_and_the_icon_files_have_them_all(qapp):
    sides = [side for _path, side in icon_files()]
    assert sides == sorted(sides) and 16 in sides and max(sides) > WINDOW_ICON_MAX_PX  # the theme's sizes are shipped
    icon = application_icon()
    assert sorted(size.width() for size in icon.availableSizes()) == [side for side in sides if side <= WINDOW_ICON_MAX_PX]
