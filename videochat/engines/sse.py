"""Server-sent events as an engine streams its answer, each line and event and the whole stream capped."""

from __future__ import annotations

from typing import Callable, Iterator

from videochat import safe_text

MAX_LINE_BYTES = 1024 * 1024  # one line: a chunk holds a few tokens, or the last one's frame lists
MAX_EVENT_BYTES = 2 * 1024 * 1024  # one event (its data lines together)
MAX_STREAM_BYTES = 64 * 1024 * 1024  # a whole streamed answer, every line counted (comments too)


def events(response, malformed: Callable[[str], Exception]) -> Iterator[str]:
    """The data of each event of `response` (http.client's: chunked bodies are decoded); comments and
    other fields (event:, id:, retry:) are skipped. What breaks a rule raises `malformed(what it was)`.
    Ends at the end of the stream, or at a line cut short (a deadline, a stop, a server gone: the caller
    knows which)."""
    data_lines: list[str] = []
    size = received = 0
    while True:
        raw = response.readline(MAX_LINE_BYTES + 1)
        if len(raw) > MAX_LINE_BYTES:
            raise malformed(f"a line longer than {MAX_LINE_BYTES // 1024} KiB")
        if not raw.endswith(b"\n"):
            return
        received += len(raw)
        if received > MAX_STREAM_BYTES:
            raise malformed(f"a streamed answer larger than {MAX_STREAM_BYTES // (1024 * 1024)} MiB")
        try:
            line = raw.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError:
            raise malformed("a line that is not UTF-8") from None
        if not line:
            if data_lines:
                yield "\n".join(data_lines)
            data_lines, size = [], 0
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        if name == "data":
            value = value[1:] if value.startswith(" ") else value
            size += len(value)
            if size > MAX_EVENT_BYTES:
                raise malformed(f"an event larger than {MAX_EVENT_BYTES // (1024 * 1024)} MiB")
            data_lines.append(value)
        elif name not in ("event", "id", "retry"):
            raise malformed(f"a line that is not server-sent events ({safe_text.shown(line[:60], keep='')})")
