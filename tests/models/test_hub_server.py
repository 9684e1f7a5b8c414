"""The fake Hub (tests/support/hub_server.py) speaks the protocol huggingface_hub 0.36 downloads with."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from huggingface_hub import HfApi, hf_hub_download, snapshot_download
from huggingface_hub.errors import (
    EntryNotFoundError,
    GatedRepoError,
    HfHubHTTPError,
    LocalEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from tests.support.hub_repos import git_blob_sha1
from tests.support.hub_server import FakeHub, no_retry_waits

REPO = "org/tiny"
GATED = "org/gated"
PRIVATE = "alice/private"
WEIGHTS = os.urandom(300_000)
CONFIG = b'{"model_type": "tiny"}'
TOKENIZER = b"t" * 5000  # over the LFS threshold although it has no LFS suffix
FILES = {"config.json": CONFIG, "model.safetensors": WEIGHTS, "sub/tokenizer.json": TOKENIZER}
ALICE = "hf_alice_token"  # may open the gated repo
BOB = "hf_bob_token"  # may not


@pytest.fixture
def hub(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf_home"))
    with FakeHub() as server, server.patch_huggingface_hub(tmp_path / "token_dir"):
        server.add_repo(REPO, FILES)
        server.add_repo(GATED, {"config.json": CONFIG, "model.safetensors": WEIGHTS}, gated=True)
        server.add_repo(PRIVATE, {"config.json": CONFIG}, private=True)
        server.add_token(ALICE, user="alice", gated_access={GATED})
        server.add_token(BOB, user="bob")
        yield server


@pytest.fixture
def cache(tmp_path) -> Path:
    return tmp_path / "hub_cache"


def download(hub: FakeHub, cache: Path, filename: str, repo: str = REPO, token: str | bool = False, **kwargs) -> Path:
    return Path(hf_hub_download(repo, filename, endpoint=hub.endpoint, cache_dir=cache, token=token, **kwargs))


def test_model_info_gives_sizes_and_lfs_sha256(hub):
    info = HfApi(endpoint=hub.endpoint, token=False).model_info(REPO, files_metadata=True)

    assert info.sha == hub.head(REPO) and info.private is False and info.gated is False
    siblings = {s.rfilename: s for s in info.siblings}
    assert {name: s.size for name, s in siblings.items()} == {name: len(data) for name, data in FILES.items()}
    assert siblings["model.safetensors"].lfs.sha256 == hashlib.sha256(WEIGHTS).hexdigest()
    assert siblings["sub/tokenizer.json"].lfs.size == len(TOKENIZER)
    assert siblings["config.json"].lfs is None
    assert siblings["config.json"].blob_id == git_blob_sha1(CONFIG)


def test_model_info_by_revision_and_gated_flag(hub):
    api = HfApi(endpoint=hub.endpoint, token=False)
    sha = hub.head(REPO)

    assert api.model_info(REPO, revision=sha).sha == sha
    assert api.model_info(GATED).gated == "manual"  # the card is public, the files are not
    with pytest.raises(RevisionNotFoundError):
        api.model_info(REPO, revision="no-such-branch")


def test_a_misreported_listing_is_still_one_huggingface_hub_reads(hub):
    hub.misreport(REPO, "model.safetensors", lfs={"sha256": "ab" * 32}, blobId="cd" * 20)

    info = HfApi(endpoint=hub.endpoint, token=False).model_info(REPO, files_metadata=True)

    weights = next(s for s in info.siblings if s.rfilename == "model.safetensors")
    assert weights.lfs.sha256 == "ab" * 32 and weights.blob_id == "cd" * 20
    assert weights.lfs.size == len(WEIGHTS) and weights.lfs.pointer_size > 0


def test_list_repo_tree(hub):
    api = HfApi(endpoint=hub.endpoint, token=False)

    everything = {entry.path: entry for entry in api.list_repo_tree(REPO, recursive=True)}
    top = {entry.path for entry in api.list_repo_tree(REPO)}

    assert set(everything) == {"config.json", "model.safetensors", "sub", "sub/tokenizer.json"}
    assert top == {"config.json", "model.safetensors", "sub"}
    assert everything["model.safetensors"].size == len(WEIGHTS)
    assert everything["model.safetensors"].lfs.sha256 == hashlib.sha256(WEIGHTS).hexdigest()
    assert everything["config.json"].blob_id == git_blob_sha1(CONFIG) and everything["config.json"].lfs is None


def test_hf_hub_download_fills_the_cache(hub, cache):
    lfs_path = download(hub, cache, "model.safetensors")
    small_path = download(hub, cache, "config.json")

    assert lfs_path.read_bytes() == WEIGHTS and small_path.read_bytes() == CONFIG
    storage = cache / "models--org--tiny"
    commit = hub.head(REPO)
    assert (storage / "refs" / "main").read_text() == commit
    assert lfs_path == storage / "snapshots" / commit / "model.safetensors"
    blobs = {p.name for p in (storage / "blobs").iterdir()}
    assert blobs == {hashlib.sha256(WEIGHTS).hexdigest(), git_blob_sha1(CONFIG)}
    assert hub.bytes_sent(REPO, "model.safetensors") == len(WEIGHTS)
    assert hub.total_bytes_sent == len(WEIGHTS) + len(CONFIG)


def test_lfs_download_is_redirected_and_sent_without_the_token(hub, cache):
    download(hub, cache, "model.safetensors", token=ALICE)

    head, get = hub.requests
    assert (head.method, head.path, head.status, head.authorized) == (
        "HEAD",
        "/org/tiny/resolve/main/model.safetensors",
        302,
        True,
    )
    assert (get.method, get.status, get.authorized) == ("GET", 200, False)
    assert get.path.startswith("/_cdn/")
    assert all(ALICE not in repr(record) for record in hub.requests)


def test_snapshot_download(hub, cache):
    folder = Path(snapshot_download(REPO, endpoint=hub.endpoint, cache_dir=cache, token=False))

    assert folder.name == hub.head(REPO)
    assert {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()} == FILES


def test_download_resumes_from_the_incomplete_blob(hub, cache):
    already = 100_000
    blobs = cache / "models--org--tiny" / "blobs"
    blobs.mkdir(parents=True)
    (blobs / f"{hashlib.sha256(WEIGHTS).hexdigest()}.incomplete").write_bytes(WEIGHTS[:already])

    path = download(hub, cache, "model.safetensors")

    assert path.read_bytes() == WEIGHTS
    assert hub.bytes_sent(REPO, "model.safetensors") == len(WEIGHTS) - already
    assert [r.range for r in hub.requests if r.method == "GET"] == [f"bytes={already}-"]


def test_ranges_and_headers_over_plain_http(hub):
    commit = hub.head(REPO)
    with requests.Session() as session:
        lfs_head = session.head(f"{hub.endpoint}/{REPO}/resolve/main/model.safetensors", allow_redirects=False)
        small_head = session.head(f"{hub.endpoint}/{REPO}/resolve/{commit}/config.json")
        partial = session.get(f"{hub.endpoint}/{REPO}/resolve/main/config.json", headers={"Range": "bytes=5-"})
        tail = session.get(lfs_head.headers["Location"], headers={"Range": "bytes=-10"})
        beyond = session.get(lfs_head.headers["Location"], headers={"Range": f"bytes={len(WEIGHTS)}-"})

    assert lfs_head.status_code == 302 and lfs_head.headers["X-Repo-Commit"] == commit
    assert lfs_head.headers["X-Linked-Etag"] == f'"{hashlib.sha256(WEIGHTS).hexdigest()}"'
    assert lfs_head.headers["X-Linked-Size"] == str(len(WEIGHTS))
    assert small_head.status_code == 200 and small_head.headers["ETag"] == f'"{git_blob_sha1(CONFIG)}"'
    assert small_head.headers["X-Repo-Commit"] == commit
    assert small_head.headers["Content-Length"] == str(len(CONFIG))
    assert partial.status_code == 206 and partial.content == CONFIG[5:]
    assert partial.headers["Content-Range"] == f"bytes 5-{len(CONFIG) - 1}/{len(CONFIG)}"
    assert tail.status_code == 206 and tail.content == WEIGHTS[-10:]
    assert beyond.status_code == 416 and beyond.headers["Content-Range"] == f"bytes */{len(WEIGHTS)}"


def test_gated_repo_needs_a_token_with_access(hub, cache):
    with pytest.raises(GatedRepoError) as anonymous:
        download(hub, cache, "config.json", repo=GATED)
    with pytest.raises(GatedRepoError) as not_approved:
        download(hub, cache, "config.json", repo=GATED, token=BOB)

    assert anonymous.value.response.status_code == 401
    assert not_approved.value.response.status_code == 403
    assert download(hub, cache, "model.safetensors", repo=GATED, token=ALICE).read_bytes() == WEIGHTS


def test_invalid_token_is_neither_gated_nor_not_found(hub, cache):
    with pytest.raises(HfHubHTTPError) as on_download:
        download(hub, cache, "config.json", token="hf_wrong")
    with pytest.raises(HfHubHTTPError) as on_info:
        HfApi(endpoint=hub.endpoint).model_info(REPO, token="hf_wrong")

    for error in (on_download.value, on_info.value):
        assert not isinstance(error, (GatedRepoError, RepositoryNotFoundError))
        assert error.response.status_code == 401
        assert "Invalid credentials" in error.server_message


def test_unknown_or_private_repo_is_not_found(hub, cache):
    api = HfApi(endpoint=hub.endpoint)
    with pytest.raises(RepositoryNotFoundError):
        download(hub, cache, "config.json", repo="org/missing")
    with pytest.raises(RepositoryNotFoundError):
        api.model_info("org/missing", token=ALICE)
    with pytest.raises(RepositoryNotFoundError):
        download(hub, cache, "config.json", repo=PRIVATE, token=BOB)

    assert download(hub, cache, "config.json", repo=PRIVATE, token=ALICE).read_bytes() == CONFIG


def test_missing_file_and_revision(hub, cache):
    with pytest.raises(EntryNotFoundError):
        download(hub, cache, "nope.bin")
    with pytest.raises(RevisionNotFoundError):
        download(hub, cache, "config.json", revision="0" * 40)


def test_whoami(hub):
    api = HfApi(endpoint=hub.endpoint)

    me = api.whoami(token=ALICE)

    assert me["name"] == "alice" and me["auth"]["accessToken"]["role"] == "read"
    with pytest.raises(requests.HTTPError) as invalid:
        api.whoami(token="hf_wrong")
    assert invalid.value.response.status_code == 401


def test_update_repo_makes_a_new_head_and_keeps_the_old_commit(hub, cache):
    api = HfApi(endpoint=hub.endpoint, token=False)
    old = hub.head(REPO)

    new = hub.update_repo(REPO, {"config.json": b'{"model_type": "tinier"}'}, keep_others=True)

    assert new != old and api.model_info(REPO).sha == new
    assert download(hub, cache, "config.json").read_bytes() == b'{"model_type": "tinier"}'
    assert download(hub, cache, "config.json", revision=old).read_bytes() == CONFIG
    assert download(hub, cache, "model.safetensors").read_bytes() == WEIGHTS


def test_throttled_download_shows_progress_and_going_offline_cuts_it(hub):
    hub.bytes_per_second = 200_000
    hub.chunk_size = 16 * 1024
    location = f"{hub.endpoint}/{REPO}/resolve/main/config.json"
    received = []

    def read_weights():
        with requests.Session() as session:
            url = session.head(location.replace("config.json", "model.safetensors")).headers["Location"]
            try:
                with session.get(url, stream=True) as response:
                    for chunk in response.iter_content(16 * 1024):
                        received.append(len(chunk))
            except requests.RequestException:
                pass

    reader = threading.Thread(target=read_weights)
    started = time.monotonic()
    reader.start()
    assert hub.wait_for_bytes(REPO, "model.safetensors", 64 * 1024, timeout=10)
    assert time.monotonic() - started > 0.15  # 64 KiB at 200 kB/s takes about 0.25 s
    hub.go_offline()
    reader.join(timeout=10)

    assert not reader.is_alive()
    assert 0 < sum(received) < len(WEIGHTS)
    with pytest.raises(requests.ConnectionError):
        requests.get(location, timeout=5)


def test_offline_hub_serves_from_the_cache_only(hub, cache):
    cached = download(hub, cache, "config.json")
    hub.go_offline()

    with no_retry_waits() as waits:
        assert download(hub, cache, "config.json") == cached
        with pytest.raises(LocalEntryNotFoundError):
            download(hub, cache, "model.safetensors")
    assert waits == [1, 2, 4, 8, 8] * 2

    hub.go_online()
    assert download(hub, cache, "model.safetensors").read_bytes() == WEIGHTS


def test_child_process_uses_the_hub_through_hf_endpoint(hub, tmp_path):
    script = (
        "import sys; from huggingface_hub import hf_hub_download; "
        "sys.stdout.write(open(hf_hub_download(sys.argv[1], 'config.json'), 'rb').read().decode())"
    )
    env = hub.client_env(tmp_path / "child_home", token=ALICE)

    result = subprocess.run(
        [sys.executable, "-c", script, GATED], env=env, capture_output=True, text=True, timeout=120
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout == CONFIG.decode()
    assert (tmp_path / "child_home" / "hub" / "models--org--gated" / "refs" / "main").read_text() == hub.head(GATED)


def test_download_killed_half_way_resumes_with_the_rest(hub, tmp_path):
    # huggingface_hub writes the .incomplete blob 10 MiB at a time: a file of 24 MiB, sent in 3 s.
    big = os.urandom(24 * 1024 * 1024)
    hub.add_repo("org/big", {"model.safetensors": big})
    hub.bytes_per_second = 8_000_000
    script = "import sys; from huggingface_hub import hf_hub_download; hf_hub_download('org/big', 'model.safetensors')"
    child = subprocess.Popen([sys.executable, "-c", script], env=hub.client_env(tmp_path / "child_home"))
    blobs = tmp_path / "child_home" / "hub" / "models--org--big" / "blobs"
    try:
        deadline = time.monotonic() + 60
        while not any(p.stat().st_size for p in blobs.glob("*.incomplete")) and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        child.kill()
        child.wait(timeout=30)
    (incomplete,) = blobs.glob("*.incomplete")
    kept = incomplete.stat().st_size
    assert 0 < kept < len(big)
    hub.bytes_per_second = None
    assert hub.wait_idle()  # the stream to the dead child has ended
    hub.reset_counters()

    assert download(hub, blobs.parent.parent, "model.safetensors", repo="org/big").read_bytes() == big
    assert hub.bytes_sent("org/big", "model.safetensors") == len(big) - kept
    assert [r.range for r in hub.requests if r.method == "GET"] == [f"bytes={kept}-"]
