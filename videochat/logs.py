"""The app's log file, with secrets and terminal control characters kept out of it.

One rotating file at the platform's log folder (`videochat.log`) gets this app's records and
huggingface_hub's. Every record passes a filter that blanks every secret the app knows, by its
value (`safe_text.blank_secrets`: the Hugging Face token however it is stored, registered API
keys, anything shaped like a hub token), and escapes control characters (a log read with `cat`
or `tail -f` in a terminal must not act on them), whatever wrote the record.
"""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

from videochat import paths
from videochat.safe_text import BLANK, blank_secrets, for_terminal

_handler: logging.Handler | None = None


def log_path() -> Path:
    return paths.log_file()


class RedactTokens(logging.Filter):
    def __init__(self, secrets: list[str] | None = None):
        super().__init__()
        self._secrets = [secret for secret in secrets or [] if secret]

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        cleaned = redact(text, self._secrets)
        if cleaned != text:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info), self._secrets)
        return True


def redact(text: str, secrets: list[str] | None = None) -> str:
    """`text` as the log file may hold it: secrets (these and every known one) blanked, controls escaped."""
    for secret in secrets or []:
        text = text.replace(secret, BLANK)
    return for_terminal(blank_secrets(text), keep="\n\t")


def start_logging(level: int = logging.INFO) -> Path:
    """Send this app's and huggingface_hub's records to the log file (once per process); returns its path."""
    global _handler
    path = log_path()
    if _handler is None:
        path.parent.mkdir(parents=True, exist_ok=True)
        _handler = logging.handlers.RotatingFileHandler(path, maxBytes=2_000_000, backupCount=2, encoding="utf-8")
        _handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        _handler.addFilter(RedactTokens())
        for name in ("videochat", "huggingface_hub", "urllib3"):
            logger = logging.getLogger(name)
            logger.addHandler(_handler)
            logger.setLevel(min(logger.level or level, level))
    return path
