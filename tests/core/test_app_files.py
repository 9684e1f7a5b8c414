"""The one reader and writer of the app's own files: hostile files are refused, never followed."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from videochat.app_files import BadAppFile, field, parse_json, read_json, read_regular_file, set_aside, write_atomically


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "session.json"
    os.mkfifo(fifo)
    done = threading.Event()

    def read():
        with pytest.raises(BadAppFile, match="not a regular file"):
            read_json(fifo)
        done.set()

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    thread.join(5)
    assert done.is_set(), "reading a FIFO blocked"


def test_a_link_to_a_device_is_refused_even_where_links_are_followed(tmp_path):
    link = tmp_path / "settings.json"
    link.symlink_to("/dev/zero")
    with pytest.raises(BadAppFile, match="is a link"):
        read_regular_file(link)
    with pytest.raises(BadAppFile, match="not a regular file"):
        read_regular_file(link, follow_links=True)


@pytest.fixture
def outside(tmp_path):
    """A readable file elsewhere, as /etc/passwd is: what a planted link would have the app read."""
    target = tmp_path / "elsewhere" / "passwd"
    target.parent.mkdir()
    target.write_text('{"root": "x:0:0:root:/root:/bin/bash"}')
    return target


def test_a_link_planted_in_place_of_an_apps_file_is_refused_and_says_what_to_do(tmp_path, outside):
    link = tmp_path / "settings.json"
    link.symlink_to(outside)
    for read in (read_regular_file, read_json):
        with pytest.raises(BadAppFile, match="is a link") as refused:
            read(link)
        assert "x:0:0" not in str(refused.value) and "delete the link" in refused.value.reason
    assert read_json(link, follow_links=True) == {"root": "x:0:0:root:/root:/bin/bash"}  # a file the user chose may be a link


def test_a_relative_link_and_a_link_to_a_link_are_refused_too(tmp_path, outside):
    (tmp_path / "first.json").symlink_to(outside)
    (tmp_path / "second.json").symlink_to("first.json")
    with pytest.raises(BadAppFile, match="is a link"):
        read_regular_file(tmp_path / "second.json")


def test_a_link_loop_is_refused_without_following_it_forever(tmp_path):
    (tmp_path / "a.json").symlink_to(tmp_path / "b.json")
    (tmp_path / "b.json").symlink_to(tmp_path / "a.json")
    with pytest.raises(BadAppFile, match="is a link"):
        read_json(tmp_path / "a.json")
    with pytest.raises(BadAppFile, match="cannot be opened"):
        read_json(tmp_path / "a.json", follow_links=True)


def test_a_link_to_a_fifo_is_refused_without_waiting_for_a_writer_when_followed(tmp_path):
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "session.json").symlink_to(tmp_path / "pipe")
    outcome = []
    thread = threading.Thread(target=lambda: outcome.append(pytest.raises(BadAppFile, read_json, tmp_path / "session.json", follow_links=True)), daemon=True)
    thread.start()
    thread.join(5)
    assert outcome and "not a regular file" in str(outcome[0].value)


@pytest.mark.parametrize("follow_links", [False, True])
def test_a_directory_or_a_link_to_one_is_refused(tmp_path, follow_links):
    (tmp_path / "sessions").mkdir()
    (tmp_path / "settings.json").symlink_to(tmp_path / "sessions")
    with pytest.raises(BadAppFile, match="not a regular file"):
        read_json(tmp_path / "sessions", follow_links=follow_links)
    with pytest.raises(BadAppFile, match="not a regular file" if follow_links else "is a link"):
        read_json(tmp_path / "settings.json", follow_links=follow_links)


def test_a_link_swapped_in_after_the_check_is_still_not_followed(tmp_path, outside, monkeypatch):
    """No check before the open to race with: the open itself refuses the link (O_NOFOLLOW)."""
    path = tmp_path / "settings.json"
    path.write_text("{}")
    real_open = os.open

    def swapped_then_opened(name, flags, *args):
        if Path(name) == path:  # an attacker's rename lands just before the open
            path.unlink()
            path.symlink_to(outside)
        return real_open(name, flags, *args)

    monkeypatch.setattr(os, "open", swapped_then_opened)
    with pytest.raises(BadAppFile, match="is a link"):
        read_json(path)


def test_a_file_over_the_size_cap_is_refused(tmp_path):
    big = tmp_path / "big.json"
    big.write_bytes(b" " * 2048)
    with pytest.raises(BadAppFile, match="too large"):
        read_regular_file(big, max_bytes=1024)
    assert read_regular_file(big, max_bytes=2048) == b" " * 2048


def test_a_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_json(tmp_path / "absent.json")


@pytest.mark.parametrize("text", ["[" * 100_000 + "]" * 100_000, '{"a":' * 40 + "1" + "}" * 40])
def test_deep_nesting_is_refused_before_the_parser_recurses(text):
    with pytest.raises(BadAppFile, match="nested too deeply"):
        parse_json(text)


def test_brackets_inside_strings_do_not_count_as_nesting():
    assert parse_json('{"a": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\"{{{{"}', max_depth=2) == {"a": '[' * 40 + '"{{{{'}


def test_bytes_that_are_not_utf8_are_refused():
    with pytest.raises(BadAppFile, match="not UTF-8"):
        parse_json(b'{"q": "\xff"}')


def test_field_checks_the_kind_and_bool_is_not_a_number():
    data = {"count": True, "name": "x", "size": 3}
    assert field(data, "size", int) == 3
    assert field(data, "count", int, 0) == 0
    with pytest.raises(BadAppFile, match="'count'"):
        field(data, "count", int)
    with pytest.raises(BadAppFile, match="lacks 'missing'"):
        field(data, "missing", str)
    with pytest.raises(BadAppFile, match="list where an object"):
        field([], "name", str)


def test_set_aside_keeps_every_damaged_copy(tmp_path):
    path = tmp_path / "settings.json"
    names = set()
    for _ in range(3):
        path.write_text("{")
        names.add(set_aside(path).name)
    assert len(names) == 3 and not path.exists()
    assert all(name.startswith("settings.damaged-") and name.endswith(".json") for name in names)


def test_write_atomically_with_a_mode_is_never_readable_by_others(tmp_path):
    old = os.umask(0o022)
    try:
        write_atomically(tmp_path / "token", "secret", mode=0o600)
        write_atomically(tmp_path / "plain.json", "{}")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "token").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "plain.json").stat().st_mode) == 0o644
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_failed_write_leaves_the_previous_file_and_no_partial_one(tmp_path, monkeypatch):
    path = tmp_path / "s.json"
    write_atomically(path, "old")

    def refuse(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError):
        write_atomically(path, "new")
    assert path.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["s.json"]


def test_only_app_files_replaces_or_renames_the_apps_files():
    """One atomic writer and one set-aside name: no other module renames a file into place
    (a verified download's blob is the cache's, not the app's; a runtime is a folder renamed into place whole)."""
    import ast

    from tests.support import REPO_ROOT

    allowed = {"videochat/app_files.py", "videochat/models/downloads.py", "videochat/runtimes/install.py"}
    renamers = set()
    for path in [*(REPO_ROOT / "videochat").rglob("*.py"), *(REPO_ROOT / "desktop").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("replace", "rename"):
                owner = node.func.value
                # str.replace takes two strings and dataclasses.replace an object; os.replace,
                # Path.replace and Path.rename take a path
                named = owner.id if isinstance(owner, ast.Name) else None
                if named == "os" or node.func.attr == "rename" or (named != "dataclasses" and len(node.args) == 1 and not node.keywords):
                    renamers.add(str(path.relative_to(REPO_ROOT)))
    assert renamers <= allowed, renamers - allowed


def test_escaped_backslashes_and_quotes_end_a_string_where_json_ends_it():
    text = '{"a": "x\\\\", "b": "[[[", "c": "\\\\\\"{{", "d": [[1]]}'
    assert parse_json(text, max_depth=3) == {"a": "x\\", "b": "[[[", "c": '\\"{{', "d": [[1]]}
    with pytest.raises(BadAppFile, match="nested too deeply"):
        parse_json(text, max_depth=2)


@pytest.mark.parametrize("follow_links", [False, True])
def test_a_fifo_is_refused_without_being_opened_even_without_blocking(tmp_path, monkeypatch, follow_links):
    # Its other end sees any open, even a non-blocking one: a writer waiting there would start writing.
    fifo = tmp_path / "settings.json"
    os.mkfifo(fifo)
    opened = []
    real_open = os.open
    monkeypatch.setattr(os, "open", lambda path, *args, **kwargs: opened.append(path) or real_open(path, *args, **kwargs))
    with pytest.raises(BadAppFile, match="not a regular file"):
        read_regular_file(fifo, follow_links=follow_links)
    assert opened == []


@pytest.mark.parametrize("body", ['[["' + '\\"' * 500_000, '[["' + '\\"' * 250_000 + "\\\n", '{"a": "' + "x\\\n" * 300_000])
def test_a_string_left_open_is_scanned_once_not_from_every_quote_in_it(body):
    # Scanned again from each quote, the first took about 75 minutes; it is refused as bad JSON now.
    from videochat.app_files import _STRING_OR_BRACKET

    start = body[:3000]
    tokens = [match.group() for match in _STRING_OR_BRACKET.finditer(start)]
    assert len(tokens) <= 4 and len(tokens[-1]) > len(start) - 10  # the open string is one token, to the end
    done = threading.Event()
    refused = []
    worker = threading.Thread(target=lambda: (refused.append(pytest.raises(BadAppFile, parse_json, body)), done.set()), daemon=True)
    worker.start()
    assert done.wait(60) and refused
