"""The app's calls to the Hugging Face Hub: listings, access checks and the token, errors told apart.

Everything goes through huggingface_hub (HfApi's listing, its endpoint, session, headers, token
files and error types), read at call time so that `HF_ENDPOINT`, `HF_HOME` and `HF_HUB_OFFLINE`
work as in every other Hugging Face tool. Every request here has a short time limit and no retry
loop: with the network gone, a call fails in seconds with `HubUnreachable`, not after
huggingface_hub's own retries. In offline mode nothing here touches the network at all.
"""

from __future__ import annotations

import re
import socket
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

from videochat.models import hub_names
from videochat.app_files import read_regular_file, write_atomically
from videochat.errors import (
    AccessError,
    HubUnreachable,
    InvalidToken,
    LicenceNotAccepted,
    RepoNotFound,
    RevisionNotFound,
    TokenRequired,
    UnsafeHubName,
)
from videochat.safe_text import register_secret

REQUEST_TIMEOUT_S = 10.0
CONNECT_CHECK_TIMEOUT_S = 1.5
MAX_TOKEN_FILE_BYTES = 1 << 20
TOKEN_HELP = "Create a read token at https://huggingface.co/settings/tokens and give it to the app (Model manager ▸ Token) or run `hf auth login`."


@dataclass(frozen=True)
class RemoteFile:
    """One file of one commit, as the hub lists it."""

    repo_id: str
    path: str
    size: int
    blob_id: str  # git object id
    sha256: str | None = None  # LFS files only

    @property
    def etag(self) -> str:
        """The name of its blob in the cache, as huggingface_hub names it."""
        return self.sha256 or self.blob_id


def git_blob_digest(size: int):
    """The hash whose hexdigest, once fed a regular git file's `size` bytes, is its blob id (`RemoteFile.blob_id`)."""
    import hashlib

    return hashlib.sha1(b"blob %d\0" % size)


def offline_mode() -> bool:
    from huggingface_hub import constants

    return bool(constants.HF_HUB_OFFLINE)


def endpoint() -> str:
    from huggingface_hub import constants

    return constants.ENDPOINT.rstrip("/")


def cache_dir() -> Path:
    from huggingface_hub import constants

    return Path(constants.HF_HUB_CACHE)


def repo_url(repo_id: str) -> str:
    return f"{endpoint()}/{repo_id}"


def stored_token() -> str | None:
    """The token `hf auth login` (or this app) stored, or HF_TOKEN; None when there is none."""
    from huggingface_hub import get_token

    return get_token()


def ensure_reachable() -> None:
    """Raise `HubUnreachable` at once in offline mode, or within ~1.5 s when the hub's host does not answer."""
    if offline_mode():
        raise HubUnreachable("Offline mode is on (HF_HUB_OFFLINE=1): models on disk work, downloads wait until it is off.")
    from requests.utils import get_environ_proxies

    if get_environ_proxies(endpoint()):
        return  # only the proxy knows; the request itself fails fast enough (REQUEST_TIMEOUT_S)
    parts = urlsplit(endpoint())
    port = parts.port or (443 if parts.scheme == "https" else 80)
    outcome: list[BaseException | None] = []

    def connect() -> None:  # on a thread: the name lookup has no time limit of its own
        try:
            socket.create_connection((parts.hostname, port), timeout=CONNECT_CHECK_TIMEOUT_S).close()
            outcome.append(None)
        except OSError as error:
            outcome.append(error)

    probe = threading.Thread(target=connect, name="hub-reachable", daemon=True)
    probe.start()
    probe.join(CONNECT_CHECK_TIMEOUT_S + 0.5)
    error = outcome[0] if outcome else TimeoutError("no answer")
    if error is not None:
        raise HubUnreachable(f"The Hugging Face Hub ({parts.hostname}) cannot be reached: {error}. Models on disk still work.") from None


def headers(token: str | None) -> dict[str, str]:
    from huggingface_hub.utils import build_hf_headers

    return build_hf_headers(token=token or False, library_name="videochat")


def session():
    from huggingface_hub.utils import get_session

    return get_session()


MAX_REPO_FILES = 2000  # a model repo holds tens; each file fetched is recorded and checked on its own


def list_files(repo_id: str, revision: str | None = None, token: str | None = None) -> tuple[str, list[RemoteFile]]:
    """(commit, files) of `repo_id` at `revision` (default: main), with sizes and LFS checksums.

    Every name in the answer is checked (`hub_names`) before the caller can make a path of it:
    `UnsafeHubName` for one that would not stay inside the repo's folder of the cache.
    """
    hub_names.check_repo_id(repo_id)
    if revision is not None:
        hub_names.check_revision(repo_id, revision)
    ensure_reachable()
    info = _model_info(repo_id, revision or "main", token)
    if not isinstance(info.sha, str) or not isinstance(info.siblings, list):
        raise HubUnreachable(_not_the_hubs(repo_id, "no commit or no files"))
    hub_names.check_commit(repo_id, info.sha)
    if len(info.siblings) > MAX_REPO_FILES:
        raise HubUnreachable(_not_the_hubs(repo_id, f"{len(info.siblings)} files, more than any model has (at most {MAX_REPO_FILES} are fetched)"))
    files = [_remote_file(repo_id, sibling) for sibling in info.siblings]
    _check_no_clash(repo_id, files)
    return info.sha, files


def _model_info(repo_id: str, revision: str, token: str | None):
    """huggingface_hub's listing with sizes and checksums: one request (model_info retries nothing),
    with the app's time limit; its errors and an answer that is not the hub's told apart."""
    import requests
    from huggingface_hub import HfApi

    register_secret(token)  # a token being tried is not stored yet; the hub's answer may echo it
    api = HfApi(endpoint=endpoint(), library_name="videochat")
    try:
        return api.model_info(repo_id, revision=revision, files_metadata=True, timeout=REQUEST_TIMEOUT_S, token=token or False)
    except requests.JSONDecodeError:  # before RequestException, which it also is
        raise HubUnreachable(_not_the_hubs(repo_id, "not JSON")) from None
    except requests.RequestException as error:
        raise access_error(error, repo_id, token) from None
    except (KeyError, TypeError, ValueError, AttributeError) as error:  # huggingface_hub could not read the answer
        raise HubUnreachable(_not_the_hubs(repo_id, type(error).__name__)) from None


def _not_the_hubs(repo_id: str, why: str) -> str:
    return f"The answer from {endpoint()} about {repo_id} is not the hub's (a captive portal or a proxy?): {why}."


def _remote_file(repo_id: str, sibling) -> RemoteFile:
    """A file of the listing (huggingface_hub's `RepoSibling`, its fields as the hub sent them)."""
    path = hub_names.check_path(repo_id, sibling.rfilename)
    lfs = sibling.lfs
    size = lfs.size if lfs is not None else sibling.size
    if size is None:
        raise HubUnreachable(f"The hub listed {repo_id}/{hub_names.shown(path)} without a size; try again later.")
    blob_id = hub_names.check_blob_id(repo_id, path, sibling.blob_id)
    sha256 = hub_names.check_sha256(repo_id, path, lfs.sha256) if lfs is not None else None
    return RemoteFile(repo_id, path, hub_names.check_size(repo_id, path, size), blob_id, sha256)


def _check_no_clash(repo_id: str, files: list[RemoteFile]) -> None:
    """A name that is a file and a folder at once (`a` and `a/b`) cannot both be in a snapshot."""
    paths = {f.path for f in files}
    for f in files:
        parts = f.path.split("/")
        for depth in range(1, len(parts)):
            folder = "/".join(parts[:depth])
            if folder in paths:
                raise UnsafeHubName(f"{repo_id} lists {hub_names.shown(folder)} both as a file and as a folder; nothing was written. Do not use this repo.")


def check_file_access(repo_id: str, commit: str, path: str, token: str | None) -> None:
    """A gated repo lists its files to anyone; only fetching one tells whether this token may."""
    _request("HEAD", resolve_url(repo_id, commit, path), repo_id, token, allow_redirects=False)


def resolve_url(repo_id: str, revision: str, path: str) -> str:
    return f"{endpoint()}/{repo_id}/resolve/{quote(revision, safe='')}/{quote(path)}"


def open_stream(file: RemoteFile, commit: str, token: str | None, start: int):
    """A streaming GET of `file` from byte `start` (redirects followed, the token not sent off the hub)."""
    request_headers = headers(token)
    if start:
        request_headers["Range"] = f"bytes={start}-"
    return _request("GET", resolve_url(file.repo_id, commit, file.path), file.repo_id, token, request_headers, stream=True)


def whoami(token: str) -> str:
    """The account name of `token`; `InvalidToken` when the hub refuses it."""
    name = _whoami(token).get("name", "")
    return name if isinstance(name, str) else ""


def _whoami(token: str) -> dict:
    ensure_reachable()
    response = _request("GET", f"{endpoint()}/api/whoami-v2", "", token)
    try:
        info = response.json()
    except ValueError:
        info = None
    if not isinstance(info, dict):
        raise HubUnreachable(f"The answer from {endpoint()} is not the hub's (a captive portal or a proxy?).")
    return info


def save_token(token: str) -> str:
    """Check `token` with the hub, then store it in huggingface_hub's token store (where `hf auth
    login` keeps it, so both share it, and HF_TOKEN still wins); returns the account name."""
    token = token.strip()
    if not token or not all("!" <= c <= "~" for c in token):
        raise InvalidToken(f"That is not a Hugging Face token (it holds spaces or other characters no token has). {TOKEN_HELP}", "")
    info = _whoami(token)
    auth = info.get("auth")
    access = auth.get("accessToken") if isinstance(auth, dict) else None
    _store_token(token, _token_name(access.get("displayName") if isinstance(access, dict) else None))
    name = info.get("name", "")
    return name if isinstance(name, str) else ""


def _token_name(name: object) -> str:
    """The hub's name for the token as a section name of the stored-tokens file (it is the hub's text)."""
    cleaned = re.sub(r"[^\w .-]", "", name)[:64].strip() if isinstance(name, str) else ""
    return cleaned if cleaned and cleaned.upper() != "DEFAULT" else "videochat"


def _store_token(token: str, token_name: str) -> None:
    """What `hf auth login` writes (the named token added to `stored_tokens`, the active one in
    `token`), but readable by this user alone: huggingface_hub writes both with the umask (0644)."""
    import configparser
    import io

    from huggingface_hub import constants

    stored = _stored_tokens(constants.HF_STORED_TOKENS_PATH)
    stored[token_name] = token
    config = configparser.ConfigParser(interpolation=None)
    for name in sorted(stored):
        config.add_section(name)
        config.set(name, "hf_token", stored[name])
    text = io.StringIO()
    config.write(text)
    write_atomically(constants.HF_STORED_TOKENS_PATH, text.getvalue(), mode=0o600)
    write_atomically(constants.HF_TOKEN_PATH, token, mode=0o600)


def _stored_tokens(path: str) -> dict[str, str]:
    """The named tokens of huggingface_hub's stored-tokens file (INI: a section per name, its
    `hf_token`); {} for a missing or unreadable file, as huggingface_hub reads it."""
    import configparser

    parser = configparser.ConfigParser(interpolation=None)
    try:
        # huggingface_hub's own file, read through a link as huggingface_hub reads it (refused, the other named tokens would be dropped)
        parser.read_string(read_regular_file(path, MAX_TOKEN_FILE_BYTES, follow_links=True).decode("utf-8"))
        return {name: parser.get(name, "hf_token") for name in parser.sections()}
    except (OSError, ValueError, configparser.Error):
        return {}


def remove_token() -> None:
    """Forget the stored tokens (huggingface_hub's `logout`); a token in HF_TOKEN is the environment's."""
    from huggingface_hub import logout

    try:
        logout()
    except OSError:
        pass  # "still logged in through HF_TOKEN": the stored files are gone, which is what was asked


def _request(method: str, url: str, repo_id: str, token: str | None, request_headers: dict | None = None, **kwargs):
    import requests
    from huggingface_hub.utils import hf_raise_for_status

    kwargs.setdefault("timeout", REQUEST_TIMEOUT_S)
    register_secret(token)  # a token being tried is not stored yet; the hub's answer may echo it
    try:
        response = session().request(method, url, headers=request_headers or headers(token), **kwargs)
        hf_raise_for_status(response)
    except requests.RequestException as error:
        raise access_error(error, repo_id, token) from None
    return response


def access_error(error: Exception, repo_id: str, token: str | None) -> Exception:
    """The app's error for what the hub (or the network) answered about `repo_id`."""
    import requests
    from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError, RevisionNotFoundError

    page = f"https://huggingface.co/{repo_id}"
    if isinstance(error, GatedRepoError):
        if not token:
            return TokenRequired(f"{repo_id} is gated: it needs a Hugging Face token of an account that has accepted its licence at {page}. {TOKEN_HELP}", repo_id)
        return LicenceNotAccepted(f"Your token's account has no access to {repo_id} yet: accept its licence at {page} (approval can take a while), then try again.", repo_id)
    if isinstance(error, RevisionNotFoundError):
        return RevisionNotFound(f"{repo_id} has no such revision.", repo_id)
    if isinstance(error, RepositoryNotFoundError):
        suffix = "" if token else " If it is private, give the app a token of an account that can see it."
        return RepoNotFound(f"{repo_id} was not found on the Hugging Face Hub: check the name.{suffix}", repo_id)
    response = getattr(error, "response", None)
    if response is not None and response.status_code == 401:
        if token:
            return InvalidToken(f"The Hugging Face token on this machine was refused (mistyped, revoked or expired). {TOKEN_HELP}", repo_id)
        return TokenRequired(f"{repo_id} needs a Hugging Face token. {TOKEN_HELP}", repo_id)
    if isinstance(error, (requests.ConnectionError, requests.Timeout)):
        return HubUnreachable(f"The connection to the Hugging Face Hub failed ({type(error).__name__}). What was downloaded is kept; try again to resume.")
    status = f" (HTTP {response.status_code})" if response is not None else ""
    return AccessError(f"The Hugging Face Hub refused {repo_id or 'the request'}{status}: {error}", repo_id)


def is_commit(revision: str) -> bool:
    return bool(hub_names.COMMIT.fullmatch(revision))
