"""A hub that lies: names in a repo listing (file names, blob ids, LFS checksums, the commit) and
the revision asked for never reach outside the repo's folder of the Hugging Face cache.

Each case downloads from a hostile repo on the stand-in hub (tests/support/hub_server.py), through the real
path (`plan.plan` then `downloads.download`, and the `videochat download` command), with a canary file
outside the cache and another model's files inside it: nothing there may be created, changed or
deleted, the download fails with `UnsafeHubName` naming the bad name escaped, and nothing is ready.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.hub_server import serving_this_process
from videochat.models import record as download_record, downloads, on_disk as models_on_disk, plan as planning
from videochat.errors import HubUnreachable, UnsafeHubName
from tests.support import REPO_ROOT

ROOT = REPO_ROOT
EVIL = "test/evil"
VICTIM = "test/victim"
VICTIM_COMMIT = "1" * 40
VICTIM_CONFIG = b'{"model_type": "victim"}'
CANARY = b"the user's own file"
GOOD = {"config.json": b"{}", "model.safetensors": b"w" * 3000}
# From snapshots/<commit>/ up to tmp_path: snapshots, models--test--evil, hub, hf, tmp_path.
UP_FROM_SNAPSHOT = "../../../../../"
UP_FROM_BLOBS = "../../../../"  # models--test--evil, hub, hf, tmp_path


def victim_blob() -> str:
    return hashlib.sha1(b"blob %d\0" % len(VICTIM_CONFIG) + VICTIM_CONFIG).hexdigest()


def _absolute(hub, tmp):
    name = str(tmp / "outside" / "canary.txt")
    hub.add_repo(EVIL, {**GOOD, name: b"attacker's bytes"}, raw_paths=True)
    return name, {}


def _climbing(hub, tmp):
    name = UP_FROM_SNAPSHOT + "outside/canary.txt"
    hub.add_repo(EVIL, {**GOOD, name: b"attacker's bytes"}, raw_paths=True)
    return name, {}


def _climbing_from_the_middle(hub, tmp):
    name = "sub/../../" + UP_FROM_SNAPSHOT + "outside/canary.txt"
    hub.add_repo(EVIL, {**GOOD, name: b"attacker's bytes"}, raw_paths=True)
    return name, {}


def _into_another_model(hub, tmp):
    name = f"../../../models--test--victim/snapshots/{VICTIM_COMMIT}/config.json"
    hub.add_repo(EVIL, {**GOOD, name: b"attacker's config"}, raw_paths=True)
    return name, {}


def _backslashes(hub, tmp):
    name = UP_FROM_SNAPSHOT.replace("/", "\\") + "outside\\canary.txt"
    hub.add_repo(EVIL, {**GOOD, name: b"attacker's bytes"}, raw_paths=True)
    return name, {}


def _empty_segment(hub, tmp):
    name = "sub//config.json"
    hub.add_repo(EVIL, {**GOOD, name: b"{}"}, raw_paths=True)
    return name, {}


def _terminal_escape(hub, tmp):
    name = "config\x1b[2J\x1b]0;owned\x07.json"
    hub.add_repo(EVIL, {**GOOD, name: b"{}"}, raw_paths=True)
    return name, {}


def _invisible_characters(hub, tmp):
    name = "model\u202egnp.safetensors\u200b"  # reads as "modelsrosnetefas.png"
    hub.add_repo(EVIL, {**GOOD, name: b"w" * 10}, raw_paths=True)
    return name, {}


def _blob_id_climbing(hub, tmp):
    name = UP_FROM_BLOBS + "outside/canary.txt"
    hub.add_repo(EVIL, GOOD)
    hub.misreport(EVIL, "config.json", blobId=name)
    return name, {}


def _blob_id_into_another_model(hub, tmp):
    name = "../../models--test--victim/blobs/" + victim_blob()
    hub.add_repo(EVIL, GOOD)
    hub.misreport(EVIL, "config.json", blobId=name)
    return name, {}


def _blob_id_not_hex(hub, tmp):
    name = "z" * 40
    hub.add_repo(EVIL, GOOD)
    hub.misreport(EVIL, "config.json", blobId=name)
    return name, {}


def _sha256_climbing(hub, tmp):
    name = UP_FROM_BLOBS + "outside/canary.txt"
    hub.add_repo(EVIL, GOOD)
    hub.misreport(EVIL, "model.safetensors", lfs={"sha256": name, "size": 3000})
    return name, {}


def _sha256_too_short(hub, tmp):
    name = "ab" * 16
    hub.add_repo(EVIL, GOOD)
    hub.misreport(EVIL, "model.safetensors", lfs={"sha256": name, "size": 3000})
    return name, {}


def _commit_climbing(hub, tmp):
    name = UP_FROM_BLOBS + "outside"  # snapshots/<commit>/canary.txt is then the canary
    hub.add_repo(EVIL, {**GOOD, "canary.txt": b"attacker's bytes"}, commit=name)
    return name, {}


def _commit_not_hex(hub, tmp):
    name = "not-a-commit"
    hub.add_repo(EVIL, GOOD, commit=name)
    return name, {}


def _revision_climbing(hub, tmp):
    name = "main/" + UP_FROM_SNAPSHOT + "outside/canary.txt"  # refs/<revision> is then the canary
    hub.add_repo(EVIL, GOOD)
    hub.set_ref(EVIL, name, hub.head(EVIL))
    return name, {"revision": name}


HOSTILE = {
    "absolute file name": _absolute,
    "file name climbing out with ../": _climbing,
    "file name with .. in the middle": _climbing_from_the_middle,
    "file name reaching another model": _into_another_model,
    "file name with backslashes": _backslashes,
    "file name with an empty part": _empty_segment,
    "file name with terminal escapes": _terminal_escape,
    "file name with invisible characters": _invisible_characters,
    "blob id climbing out of blobs": _blob_id_climbing,
    "blob id reaching another model's blob": _blob_id_into_another_model,
    "blob id that is not hex": _blob_id_not_hex,
    "lfs sha256 climbing out of blobs": _sha256_climbing,
    "lfs sha256 of the wrong length": _sha256_too_short,
    "commit climbing out of snapshots": _commit_climbing,
    "commit that is not 40 hex": _commit_not_hex,
    "revision climbing out of refs": _revision_climbing,
}


@pytest.fixture
def hostile_hub(tmp_path, monkeypatch):
    """The stand-in hub with a victim model already downloaded, and a canary outside the cache."""
    with serving_this_process(tmp_path, monkeypatch) as server:
        server.add_repo(VICTIM, {"config.json": VICTIM_CONFIG, "model.safetensors": b"v" * 3000}, commit=VICTIM_COMMIT)
        downloads.download(planning.plan(VICTIM))
        (tmp_path / "outside").mkdir()
        (tmp_path / "outside" / "canary.txt").write_bytes(CANARY)
        yield server


def manifest(root: Path) -> dict[str, object]:
    """Every entry under `root` but the hostile repo's own folder (and the app's lock and log files):
    link targets, file bytes, folders."""
    seen: dict[str, object] = {}
    skip = ("hf/hub/models--test--evil", "hf/hub/.locks", "data/", "state/")
    for folder, names, files in os.walk(root):
        for name in names + files:
            path = Path(folder) / name
            relative = path.relative_to(root).as_posix()
            if relative.startswith(skip) or relative in ("data", "state"):
                continue
            if path.is_symlink():
                seen[relative] = ("link", os.readlink(path))
            elif path.is_file():
                seen[relative] = ("file", path.read_bytes())
            else:
                seen[relative] = "folder"
    return seen


def assert_untouched(tmp_path: Path, before: dict[str, object]) -> None:
    assert (tmp_path / "outside" / "canary.txt").read_bytes() == CANARY
    assert not (tmp_path / "outside" / "canary.txt").is_symlink()
    snapshot = models_on_disk.repo_folder(VICTIM) / "snapshots" / VICTIM_COMMIT
    assert (snapshot / "config.json").read_bytes() == VICTIM_CONFIG
    assert manifest(tmp_path) == before
    assert models_on_disk.status_of_repo(EVIL).state != "ready"
    assert download_record.recorded_revision(EVIL) is None
    assert models_on_disk.status_of_repo(VICTIM).state == "ready"


@pytest.mark.parametrize("case", HOSTILE.values(), ids=HOSTILE.keys())
def test_a_hostile_listing_is_refused_and_nothing_outside_the_repo_changes(tmp_path, hostile_hub, case):
    bad_name, options = case(hostile_hub, tmp_path)
    before = manifest(tmp_path)

    with pytest.raises(UnsafeHubName) as refused:
        downloads.download(planning.plan(EVIL, **options))

    message = str(refused.value)
    assert repr(bad_name) in message or repr(bad_name)[:100] in message  # named, escaped
    assert "\x1b" not in message and "\x07" not in message
    assert_untouched(tmp_path, before)


@pytest.mark.parametrize("case", [_absolute, _climbing, _blob_id_climbing, _commit_climbing, _revision_climbing, _terminal_escape],
                         ids=["absolute file name", "climbing file name", "climbing blob id", "climbing commit", "climbing revision", "terminal escapes"])
def test_videochat_download_refuses_a_hostile_listing_and_reports_nothing_ready(tmp_path, hostile_hub, case):
    bad_name, options = case(hostile_hub, tmp_path)
    before = manifest(tmp_path)
    env = hostile_hub.client_env(tmp_path / "hf")
    env.update(XDG_DATA_HOME=str(tmp_path / "data"), XDG_STATE_HOME=str(tmp_path / "state"), PYTHONPATH=str(ROOT))
    revision = ["--revision", options["revision"]] if "revision" in options else []

    result = subprocess.run([sys.executable, "-m", "videochat.cli", "download", EVIL, *revision], env=env, cwd=ROOT,
                            capture_output=True, text=True, timeout=120)

    assert result.returncode != 0
    assert "is ready" not in result.stderr and "verified" not in result.stderr
    assert "Traceback" not in result.stderr
    assert repr(bad_name)[:60] in result.stderr
    assert "\x1b" not in result.stderr + result.stdout
    assert_untouched(tmp_path, before)


def test_a_plan_made_by_hand_with_a_climbing_name_is_refused_before_anything_is_touched(tmp_path, hostile_hub):
    from videochat.models.hub import RemoteFile

    hostile_hub.add_repo(EVIL, GOOD)
    the_plan = planning.plan(EVIL)
    repo = the_plan.repos[0]
    good = repo.files[0]
    bad = RemoteFile(EVIL, UP_FROM_SNAPSHOT + "outside/canary.txt", good.size, good.blob_id, good.sha256)
    the_plan.repos[0] = planning.RepoPlan(repo.repo_id, repo.commit, (*repo.files, bad), repo.reason, repo.branch)
    before = manifest(tmp_path)

    with pytest.raises(UnsafeHubName, match="canary"):
        downloads.download(the_plan)
    assert_untouched(tmp_path, before)
    assert not (models_on_disk.repo_folder(EVIL) / "snapshots").exists()  # the good files did not go first


@pytest.mark.parametrize("linked", ["sub", "."], ids=["a folder in the snapshot", "the snapshot itself"])
def test_a_snapshot_folder_replaced_by_a_link_outside_is_not_written_through(tmp_path, hostile_hub, linked):
    commit = hostile_hub.add_repo(EVIL, {**GOOD, "sub/canary.txt": b"attacker's bytes", "canary.txt": b"attacker's bytes"})
    snapshot = models_on_disk.repo_folder(EVIL) / "snapshots" / commit
    link = snapshot / linked
    link.parent.mkdir(parents=True, exist_ok=True)
    link.resolve().symlink_to(tmp_path / "outside", target_is_directory=True)
    before = manifest(tmp_path)

    with pytest.raises(UnsafeHubName, match="outside"):
        downloads.download(planning.plan(EVIL))
    assert_untouched(tmp_path, before)


@pytest.mark.parametrize(("listed", "error", "message"), [
    ({"lfs": "not an object"}, HubUnreachable, "not the hub's"),
    ({"rfilename": None}, UnsafeHubName, "not a file name"),
], ids=["lfs details not an object", "no file name"])
def test_a_listing_of_the_wrong_shape_is_refused_before_anything_is_written(tmp_path, hostile_hub, listed, error, message):
    hostile_hub.add_repo(EVIL, GOOD)
    hostile_hub.misreport(EVIL, "model.safetensors", **listed)
    before = manifest(tmp_path)

    with pytest.raises(error, match=message):
        downloads.download(planning.plan(EVIL))
    assert_untouched(tmp_path, before)


def test_a_file_served_longer_than_listed_is_never_written_past_its_listed_size(tmp_path, hostile_hub, monkeypatch):
    hostile_hub.add_repo(EVIL, {**GOOD, "notes.txt": b"n" * 200_000}, lfs_threshold=10**9)  # a plain git file: its size is the listing's
    hostile_hub.misreport(EVIL, "notes.txt", size=10)
    sizes = []
    checks = downloads._content_matches
    monkeypatch.setattr(downloads, "_content_matches", lambda path, file, *stop: (sizes.append((file.path, path.stat().st_size)), checks(path, file, *stop))[1])
    with pytest.raises(downloads.DownloadCorrupted, match="notes.txt"):
        downloads.download(planning.plan(EVIL))
    assert [size for name, size in sizes if name == "notes.txt"] == [10, 10]  # two tries, each cut at the listed size


def test_a_link_planted_where_a_partial_download_goes_is_removed_not_written_through(tmp_path, hostile_hub):
    commit = hostile_hub.add_repo(EVIL, GOOD)
    blobs = models_on_disk.repo_folder(EVIL) / "blobs"
    blobs.mkdir(parents=True)
    for name in GOOD:
        served = hostile_hub.file(EVIL, name)
        for blob in {served.sha256, served.blob_id, served.etag} - {None}:
            (blobs / f"{blob}.incomplete").symlink_to(tmp_path / "outside" / "canary.txt")
    before = manifest(tmp_path)

    downloads.download(planning.plan(EVIL))
    assert (tmp_path / "outside" / "canary.txt").read_bytes() == CANARY and manifest(tmp_path) == before
    snapshot = models_on_disk.repo_folder(EVIL) / "snapshots" / commit
    assert {name: (snapshot / name).read_bytes() for name in GOOD} == GOOD
