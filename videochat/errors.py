"""Typed errors of the core, each with a message that tells the user what to do.

Front ends show `str(error)` as is: keep messages to one or two plain sentences that
name the file or setting concerned and the way out.
"""

from __future__ import annotations


class VideoChatError(Exception):
    """Base of every expected failure in the core."""


class UnreadableVideo(VideoChatError):
    """The file cannot be read as a video (missing, empty, not a video, damaged, ...)."""


class NoVideoStream(UnreadableVideo):
    """The file opens but holds no video track (audio only, subtitles, ...)."""


class NoFrames(UnreadableVideo):
    """The file has a video track but not a single frame can be read from it."""


class UnsupportedCodec(UnreadableVideo):
    """The video track uses a codec the bundled FFmpeg cannot decode."""


class CorruptVideo(UnreadableVideo):
    """Part of the video is damaged: some requested frames cannot be decoded."""


class VideoTimeout(UnreadableVideo):
    """Opening or decoding took longer than its time limit."""


class SavedFramesChanged(UnreadableVideo):
    """A saved conversation's frames are not this video's as they were (the file was replaced or edited)."""

    def __init__(self, message: str, reason: str = ""):
        super().__init__(message)
        self.reason = reason or message


class ReaderUnavailable(VideoChatError):
    """A frame reader cannot be used here (not installed, or it cannot handle this file)."""


class InvalidSegment(VideoChatError):
    """The requested in/out segment is empty or lies outside the video; the message names the points given."""


class InvalidPosition(VideoChatError):
    """A typed position (a time or a frame number) is not one, or lies outside the video."""


class InvalidFrameCount(VideoChatError):
    """The requested number of frames does not fit the model family's rule."""


class Cancelled(VideoChatError):
    """The user stopped the work; whatever was done so far is dropped."""


class ModelError(VideoChatError):
    """Base of the model side's expected failures."""


class UnknownModel(ModelError):
    """The name is neither a catalog model, nor a model folder, nor a repo id; or its config is of no family."""


class ModelNotDownloaded(ModelError):
    """The model (or a repo its code reads at load time) is not on this machine."""


class RemoteCodeRefused(ModelError):
    """The model runs its own code and the user has not agreed to run it; `code` says which files (a `ModelCode`)."""

    def __init__(self, message: str, code=None):
        super().__init__(message)
        self.code = code


class ModelLoadError(ModelError):
    """The model's files are there but do not load (broken folder, wrong config, missing package)."""


class MissingPackages(ModelLoadError):
    """The model's own code imports packages that are missing, or do not import, where the model runs; the message has the command that installs them."""


class BadModelFolder(ModelLoadError):
    """A local folder that does not hold a loadable model (no config.json, or one that cannot be read)."""


class InvalidQuestion(ModelError):
    """The question is empty, or holds a marker the model reads as a place for a picture."""


class OutOfMemory(ModelError):
    """The GPU (or the machine) ran out of memory; the model stays loaded."""


class ModelProcessEnded(ModelError):
    """The window's model process ended unexpectedly (killed, crashed, out of memory); the next question starts a new one."""


class RuntimeNotInstalled(ModelLoadError):
    """The model runs in a Python environment (a runtime, `videochat.runtimes`) that is not installed here."""

    def __init__(self, message: str, runtime: str):
        super().__init__(message)
        self.runtime = runtime


class RuntimeInstallError(VideoChatError):
    """A runtime could not be installed (pip failed, no network, no matching torch); nothing half-made is left."""


class UnsupportedSetting(ModelError):
    """A device, precision or option this model or machine cannot use."""


class DownloadError(VideoChatError):
    """A model could not be fetched; what was fetched so far stays on disk for the next try."""


class HubUnreachable(DownloadError):
    """Offline mode is on, or the Hugging Face Hub cannot be reached."""


class NotEnoughDisk(DownloadError):
    """The disk holding the Hugging Face cache has too little free space, or filled up."""


class DownloadCorrupted(DownloadError):
    """A file arrived with the wrong size or checksum twice in a row; it is not kept."""


class AccessError(DownloadError):
    """The hub refused a repo; `repo_id` says which one (a model may need several)."""

    def __init__(self, message: str, repo_id: str):
        super().__init__(message)
        self.repo_id = repo_id


class TokenRequired(AccessError):
    """A gated repo and no Hugging Face token on this machine."""


class InvalidToken(AccessError):
    """The token on this machine was refused by the hub (mistyped, revoked or expired)."""


class LicenceNotAccepted(AccessError):
    """The token is good but its account has not been granted this gated repo yet."""


class RepoNotFound(AccessError):
    """No such repo, or a private one this token cannot see."""


class RevisionNotFound(RepoNotFound):
    """The repo exists but has no such branch, tag or commit (any more)."""


class UnsafeHubName(DownloadError):
    """A file name, blob id, commit or revision that cannot be stored safely in the cache; nothing was written."""
