"""The app's log file, with Hugging Face tokens kept out of it.

One rotating file at the platform's log folder (`videochat.log`) gets this app's records and
huggingface_hub's. Every record passes a filter that blanks anything shaped like a Hugging Face
token (`hf_` and 30+ letters) and the token stored on this machine, whatever wrote it.
"""

from __future__ import annotations

import logging
import logging.handlers
import re
from pathlib import Path

TOKEN_PATTERN = re.compile(r"\bhf_[A-Za-z0-9]{20,}")
REDACTED = "hf_***"
_handler: logging.Handler | None = None


def log_path() -> Path:
    from platformdirs import user_log_path

    return user_log_path("videochat", appauthor=False) / "videochat.log"


class RedactTokens(logging.Filter):
    def __init__(self, secrets: list[str] | None = None):
        super().__init__()
        self._secrets = [secret for secret in (secrets or []) if secret]

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        cleaned = redact(text, self._secrets)
        if cleaned != text:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info), self._secrets)
        return True


def redact(text: str, secrets: list[str] | None = None) -> str:
    for secret in secrets or []:
        text = text.replace(secret, REDACTED)
    return TOKEN_PATTERN.sub(REDACTED, text)


def start_logging(level: int = logging.INFO) -> Path:
    """Send this app's and huggingface_hub's records to the log file (once per process); returns its path."""
    global _handler
    path = log_path()
    if _handler is None:
        from videochat.hub import stored_token

        path.parent.mkdir(parents=True, exist_ok=True)
        _handler = logging.handlers.RotatingFileHandler(path, maxBytes=2_000_000, backupCount=2, encoding="utf-8")
        _handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        _handler.addFilter(RedactTokens([stored_token() or ""]))
        for name in ("videochat", "huggingface_hub", "urllib3"):
            logger = logging.getLogger(name)
            logger.addHandler(_handler)
            logger.setLevel(min(logger.level or level, level))
    return path
