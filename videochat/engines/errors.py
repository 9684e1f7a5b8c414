"""The protocol's error codes, one table for both sides: the server answers a core exception with
its code and HTTP status, the client raises the same exception from the code (docs/engine-protocol.md)."""

from __future__ import annotations

from videochat import errors

# code -> (HTTP status, the core exception it stands for); the first code listed for a class wins
CODES: dict[str, tuple[int, type[Exception] | None]] = {
    "invalid_request": (400, None),
    "invalid_question": (400, errors.InvalidQuestion),
    "invalid_frame_count": (400, errors.InvalidFrameCount),
    "invalid_segment": (400, errors.InvalidSegment),
    "unsupported_setting": (400, errors.UnsupportedSetting),
    "invalid_api_key": (401, None),
    "media_path_not_allowed": (403, None),
    "model_not_found": (404, errors.UnknownModel),
    "model_not_downloaded": (409, errors.ModelNotDownloaded),
    "consent_required": (409, errors.RemoteCodeRefused),
    "request_too_large": (413, None),
    "unreadable_video": (422, errors.UnreadableVideo),
    "cancelled": (499, errors.Cancelled),
    "model_load_error": (500, errors.ModelLoadError),
    "missing_packages": (500, errors.MissingPackages),
    "internal_error": (500, None),
    "model_loading": (503, None),
    "server_busy": (503, None),
    "out_of_memory": (507, errors.OutOfMemory),
}


class EngineError(errors.ModelError):
    """An engine answered with an error that has no core exception of its own (or with no JSON at all)."""

    def __init__(self, message: str, code: str = "internal_error", status: int = 500):
        super().__init__(message)
        self.code = code
        self.status = status


def code_for(error: BaseException) -> tuple[str, int]:
    """The code and HTTP status for a core exception (the most specific class listed)."""
    for cls in type(error).__mro__:
        for code, (status, listed) in CODES.items():
            if listed is cls:
                return code, status
    return "internal_error", 500


def error_from(code: object, message: object, status: int) -> Exception:
    """The exception a client raises for an error answer; the message is the server's text."""
    text = message if isinstance(message, str) and message else f"The engine answered with HTTP status {status}."
    if isinstance(code, str) and code in CODES and CODES[code][1] is not None:
        return CODES[code][1](text)
    return EngineError(text, code if isinstance(code, str) and code in CODES else "internal_error", status)
