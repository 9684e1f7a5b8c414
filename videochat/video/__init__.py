"""Reading video: metadata and per-frame timestamps (`probe`), exact frames by index (`VideoSource`)."""

from videochat.video.info import TimestampTable, VideoInfo, probe
from videochat.video.source import DEFAULT_READER_ORDER, READERS, VideoSource

__all__ = ["DEFAULT_READER_ORDER", "READERS", "TimestampTable", "VideoInfo", "VideoSource", "probe"]
