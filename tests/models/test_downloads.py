"""The model manager's core against a local stand-in of the Hub (tests/support/hub_server.py), through HF_ENDPOINT.

Downloads land in the standard Hugging Face cache layout, resume after any interruption (SIGKILL
included) from the bytes on disk, verify every file, record the commit, and never wait on a
network that is not there. Each access failure has its own error and message.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.hub_server import FakeHub, serving_this_process
from videochat.models import record as download_record, downloads, hub, on_disk as models_on_disk, plan as planning
from videochat.models.catalog import find_entry
from videochat.errors import Cancelled, HubUnreachable, InvalidToken, LicenceNotAccepted, RepoNotFound, TokenRequired
from tests.support import REPO_ROOT

ROOT = REPO_ROOT
ALICE = "hf_" + "a" * 34  # may open the gated repos
BOB = "hf_" + "b" * 34  # may not
BIG = "test/big-weights"
BIG_SIZE = 24 << 20
LLAVA = "llava-hf/llava-onevision-qwen2-0.5b-ov-hf"  # a catalog model with no remote code


@pytest.fixture(scope="module")
def tiny_llava(tmp_path_factory) -> Path:
    from tests.support.tiny_native import build_llava_onevision

    return build_llava_onevision(tmp_path_factory.mktemp("llava"))


@pytest.fixture(scope="module")
def big_files() -> dict[str, bytes]:
    return {"config.json": b'{"model_type": "big"}', "model.safetensors": os.urandom(BIG_SIZE)}


@pytest.fixture
def fake_hub(tmp_path, monkeypatch, big_files):
    """The hub on 127.0.0.1, this process's huggingface_hub pointed at it with its cache in tmp_path."""
    with serving_this_process(tmp_path, monkeypatch) as server:
        server.add_repo(BIG, big_files)
        server.add_repo("OpenGVLab/InternVideo2-Chat-8B", {"config.json": b"{}", "model.safetensors": b"w" * 4000})
        server.add_repo("mistralai/Mistral-7B-Instruct-v0.3", {"config.json": b"{}", "model.safetensors": b"m" * 4000}, gated=True)
        server.add_repo("bert-base-uncased", {"config.json": b"{}", "vocab.txt": b"v" * 2000})
        server.add_token(ALICE, user="alice", gated_access={"mistralai/Mistral-7B-Instruct-v0.3"})
        server.add_token(BOB, user="bob")
        yield server


def child_env(server: FakeHub, tmp_path: Path, token: str | None = None, **extra) -> dict[str, str]:
    env = server.client_env(tmp_path / "hf", token=token)
    env.update(XDG_DATA_HOME=str(tmp_path / "data"), XDG_STATE_HOME=str(tmp_path / "state"), PYTHONPATH=str(ROOT), **extra)
    return env


def videochat(*args: str, env: dict, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "videochat.cli", *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def blob(repo_id: str, etag: str) -> Path:
    return models_on_disk.repo_folder(repo_id) / "blobs" / etag


# -- downloading ------------------------------------------------------------------------------


def test_a_downloaded_catalog_model_is_ready_recorded_and_loads_offline(tmp_path, fake_hub, tiny_llava, clips):
    commit = fake_hub.add_repo(LLAVA, tiny_llava)
    env = child_env(fake_hub, tmp_path)

    fetched = videochat("download", "llava-onevision-qwen2-0.5b-ov-hf", env=env)
    assert fetched.returncode == 0, fetched.stderr
    assert "LLaVA-OneVision-Qwen2-0.5B-OV is ready" in fetched.stderr  # the label, not the repo's name it was asked by
    snapshot = tmp_path / "hf" / "hub" / f"models--{LLAVA.replace('/', '--')}" / "snapshots" / commit
    for path in tiny_llava.rglob("*"):
        if path.is_file():
            assert (snapshot / path.relative_to(tiny_llava)).read_bytes() == path.read_bytes()

    offline = {**env, "HF_HUB_OFFLINE": "1"}
    listed = {row["name"]: row for row in json.loads(videochat("models", "--json", env=offline).stdout)}
    assert listed["llava-onevision-qwen2-0.5b-ov-hf"]["status"] == "ready"
    assert listed["llava-onevision-qwen2-0.5b-ov-hf"]["revision"] == commit
    assert listed["InternVL2-1B"]["status"] == "not downloaded"

    fake_hub.update_repo(LLAVA, {"README.md": b"a newer commit"}, keep_others=True)  # loads stay on the recorded one
    answer = videochat("ask", str(clips("plain.mp4")), "What is shown?", "--model", "llava-onevision-qwen2-0.5b-ov-hf",
                       "--max-new-tokens", "3", "--json", env=offline, timeout=300)
    assert answer.returncode == 0, answer.stderr
    assert json.loads(answer.stdout.splitlines()[-1])["model"]


def test_a_download_killed_half_way_resumes_with_only_the_remaining_bytes(tmp_path, fake_hub, big_files):
    env = child_env(fake_hub, tmp_path)
    fake_hub.bytes_per_second = 8 << 20
    child = subprocess.Popen([sys.executable, "-m", "videochat.cli", "download", BIG], env=env, cwd=ROOT,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    weights = hashlib.sha256(big_files["model.safetensors"]).hexdigest()
    partial = tmp_path / "hf" / "hub" / "models--test--big-weights" / "blobs" / f"{weights}.incomplete"
    deadline = time.monotonic() + 60
    while not (partial.is_file() and partial.stat().st_size >= BIG_SIZE // 3):
        assert child.poll() is None, child.stderr.read().decode()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    child.send_signal(signal.SIGKILL)
    child.wait(10)
    fake_hub.wait_idle()
    kept = partial.stat().st_size
    assert 0 < kept < BIG_SIZE
    fake_hub.reset_counters()
    fake_hub.bytes_per_second = None

    resumed = videochat("download", BIG, env=env)
    assert resumed.returncode == 0, resumed.stderr
    sent = fake_hub.bytes_sent(BIG, "model.safetensors")
    assert BIG_SIZE - kept <= sent <= BIG_SIZE - kept + downloads.CHUNK_BYTES
    assert fake_hub.bytes_sent(BIG, "config.json") == 0  # finished before the kill: not fetched again
    final = partial.with_name(weights)
    assert final.read_bytes() == big_files["model.safetensors"] and not partial.exists()


def test_pause_keeps_the_partial_file_and_the_next_download_resumes(fake_hub, big_files):
    plan = planning.plan(BIG)
    seen = []

    def stop_after_some():
        return bool(seen) and seen[-1].done > BIG_SIZE // 4

    fake_hub.bytes_per_second = 16 << 20
    with pytest.raises(Cancelled, match="resumes"):
        downloads.download(plan, progress=seen.append, should_stop=stop_after_some)
    fake_hub.bytes_per_second = None
    status = models_on_disk.status_of_repo(BIG)
    assert status.state == "partial" and 0.2 < status.fraction < 0.9
    assert (models_on_disk.repo_folder(BIG) / "snapshots").exists()  # config.json is there; the model is not ready
    fake_hub.wait_idle()
    fake_hub.reset_counters()

    plan = planning.plan(BIG)
    assert plan.on_disk_bytes >= BIG_SIZE // 4
    downloads.download(plan)
    assert fake_hub.bytes_sent(BIG) <= BIG_SIZE - plan.on_disk_bytes + len(big_files["config.json"]) + downloads.CHUNK_BYTES
    assert models_on_disk.status_of_repo(BIG).state == "ready"
    assert seen[-1].total == plan.total_bytes and seen[-1].file_total == BIG_SIZE


def test_a_corrupted_finished_file_is_fetched_again(fake_hub, big_files):
    downloads.download(planning.plan(BIG))
    weights = blob(BIG, hashlib.sha256(big_files["model.safetensors"]).hexdigest())
    damaged = bytearray(weights.read_bytes())
    damaged[BIG_SIZE // 2] ^= 0xFF
    weights.write_bytes(bytes(damaged))
    fake_hub.reset_counters()

    downloads.download(planning.plan(BIG))
    assert fake_hub.bytes_sent(BIG, "model.safetensors") == BIG_SIZE
    assert weights.read_bytes() == big_files["model.safetensors"]


def test_a_file_that_arrives_damaged_is_never_linked_into_the_snapshot(fake_hub, monkeypatch):
    monkeypatch.setattr(downloads, "_content_matches", lambda path, file, *stop: file.path != "model.safetensors")
    the_plan = planning.plan(BIG)
    with pytest.raises(downloads.DownloadCorrupted):
        downloads.download(the_plan)
    snapshot = models_on_disk.repo_folder(BIG) / "snapshots" / the_plan.repos[0].commit
    assert (snapshot / "config.json").exists() and not (snapshot / "model.safetensors").exists()
    assert not list((models_on_disk.repo_folder(BIG) / "blobs").glob("*.incomplete"))


def test_a_plan_names_a_catalog_model_by_its_label_and_any_other_by_its_repo_id():
    display, repos = planning.repos_of("InternVideo2_chat_8B_HD")  # the old name, still accepted
    assert display == "InternVideo2-Chat-8B-HD"
    assert repos[1] == ("mistralai/Mistral-7B-Instruct-v0.3", "read by InternVideo2-Chat-8B-HD's code at load time")
    assert planning.repos_of("someone/Some_Model")[0] == "someone/Some_Model"


def test_not_enough_disk_is_said_before_anything_is_fetched(fake_hub, monkeypatch):
    the_plan = planning.plan(BIG)
    the_plan.free_bytes = 1000
    with pytest.raises(downloads.NotEnoughDisk, match="free"):
        downloads.download(the_plan)
    assert fake_hub.bytes_sent(BIG) == 0


# -- access -----------------------------------------------------------------------------------


def test_each_access_failure_has_its_own_error(fake_hub):
    with pytest.raises(TokenRequired, match="huggingface.co/mistralai/Mistral-7B-Instruct-v0.3"):
        planning.plan("mistralai/Mistral-7B-Instruct-v0.3", token="")
    with pytest.raises(LicenceNotAccepted, match="accept its licence"):
        planning.plan("mistralai/Mistral-7B-Instruct-v0.3", token=BOB)
    with pytest.raises(InvalidToken, match="refused"):
        planning.plan(BIG, token="hf_" + "x" * 34)
    with pytest.raises(RepoNotFound, match="nobody/nothing"):
        planning.plan("nobody/nothing", token=ALICE)
    assert planning.plan("mistralai/Mistral-7B-Instruct-v0.3", token=ALICE).repos[0].repo_id == "mistralai/Mistral-7B-Instruct-v0.3"


def test_internvideo2_chat_names_the_gate_that_is_missing(fake_hub):
    with pytest.raises(LicenceNotAccepted) as refused:
        planning.plan("InternVideo2-Chat-8B", token=BOB)
    assert refused.value.repo_id == "mistralai/Mistral-7B-Instruct-v0.3"
    assert "InternVideo2-Chat-8B also needs mistralai/Mistral-7B-Instruct-v0.3" in str(refused.value)
    repos = [repo.repo_id for repo in planning.plan("InternVideo2-Chat-8B", token=ALICE).repos]
    assert repos == ["OpenGVLab/InternVideo2-Chat-8B", *find_entry("InternVideo2-Chat-8B").extra_repos]


def test_the_cli_exits_with_the_access_message_when_a_gate_is_closed(tmp_path, fake_hub):
    result = videochat("download", "mistralai/Mistral-7B-Instruct-v0.3", env=child_env(fake_hub, tmp_path))
    assert result.returncode == 3
    assert "gated" in result.stderr and "token" in result.stderr


def test_a_token_is_checked_then_stored_where_hf_auth_login_keeps_it_and_can_be_removed(fake_hub):
    from huggingface_hub import get_token

    with pytest.raises(InvalidToken):
        hub.save_token("hf_" + "x" * 34)
    assert get_token() is None
    assert hub.save_token(f"  {ALICE}\n") == "alice"
    assert get_token() == ALICE
    assert planning.plan("mistralai/Mistral-7B-Instruct-v0.3").repos  # the stored token is used
    hub.remove_token()
    assert get_token() is None


def test_the_token_never_reaches_the_log_file(tmp_path, fake_hub):
    env = child_env(fake_hub, tmp_path, token=ALICE, VIDEOCHAT_LOG_LEVEL="DEBUG")
    assert videochat("download", "mistralai/Mistral-7B-Instruct-v0.3", env=env).returncode == 0
    bad = videochat("download", "mistralai/Mistral-7B-Instruct-v0.3", env={**env, "HF_TOKEN": "hf_" + "z" * 34})
    assert bad.returncode == 3
    logs = list((tmp_path / "state").rglob("*.log*"))
    assert logs and "mistralai" in "".join(path.read_text() for path in logs)
    for path in logs:
        text = path.read_text()
        assert ALICE not in text and "z" * 34 not in text


# -- offline ----------------------------------------------------------------------------------


def test_offline_mode_never_touches_the_network(fake_hub, monkeypatch):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    started = time.monotonic()
    with pytest.raises(HubUnreachable, match="Offline mode"):
        planning.plan(BIG)
    assert time.monotonic() - started < 0.5
    assert fake_hub.requests == []


def test_with_the_hub_gone_nothing_waits(fake_hub):
    downloads.download(planning.plan(BIG))
    fake_hub.go_offline()
    started = time.monotonic()
    with pytest.raises(HubUnreachable, match="cannot be reached"):
        planning.plan(BIG)
    with pytest.raises(HubUnreachable):
        models_on_disk.update_available(BIG)
    assert time.monotonic() - started < 1.0
    assert models_on_disk.status_of_repo(BIG).state == "ready"  # from the disk alone


def test_update_available_compares_the_hub_with_the_recorded_commit(fake_hub):
    downloads.download(planning.plan(BIG))
    assert not models_on_disk.update_available(BIG)
    first = download_record.recorded_revision(BIG)
    fake_hub.update_repo(BIG, {"README.md": b"new"}, keep_others=True)
    assert models_on_disk.update_available(BIG)
    assert planning.plan(BIG).repos[0].commit == first  # a plain download keeps the recorded commit
    newer = planning.plan(BIG, update=True)
    downloads.download(newer)
    assert download_record.recorded_revision(BIG) == newer.repos[0].commit != first


def test_delete_frees_the_model_and_its_record(fake_hub):
    downloads.download(planning.plan(BIG))
    assert models_on_disk.delete(BIG) >= BIG_SIZE
    assert models_on_disk.status_of_repo(BIG).state == "not downloaded"
    assert download_record.recorded_revision(BIG) is None


def test_a_half_downloaded_catalog_model_is_not_offered_for_loading(fake_hub, tiny_llava):
    from videochat.models.resolve import downloaded_entries

    fake_hub.add_repo(LLAVA, tiny_llava)
    the_plan = planning.plan(LLAVA)
    answers = iter([False, False])  # go on into the first file and through its chunk (all of config.json), stop at the next
    with pytest.raises(Cancelled):
        downloads.download(the_plan, should_stop=lambda: next(answers, True))
    assert models_on_disk.status(find_entry(LLAVA)).state == "partial"
    assert find_entry(LLAVA) not in downloaded_entries()
    downloads.download(planning.plan(LLAVA))
    assert find_entry(LLAVA) in downloaded_entries()



def test_a_dropped_connection_keeps_the_partial_file_and_says_so(fake_hub):
    the_plan = planning.plan(BIG)
    fake_hub.bytes_per_second = 8 << 20
    seen = []

    def cut_when_a_third_is_in(progress):
        seen.append(progress)
        if progress.file_done > BIG_SIZE // 3 and fake_hub.running:
            fake_hub.go_offline()  # closes the port and the open connections

    started = time.monotonic()
    with pytest.raises(HubUnreachable, match="kept"):
        downloads.download(the_plan, progress=cut_when_a_third_is_in)
    assert time.monotonic() - started < 30
    assert models_on_disk.status_of_repo(BIG).state == "partial"
    fake_hub.go_online()
    fake_hub.bytes_per_second = None
    resumed = planning.plan(BIG)
    assert resumed.on_disk_bytes > BIG_SIZE // 3
    downloads.download(resumed)
    assert models_on_disk.status_of_repo(BIG).state == "ready"


def test_a_full_disk_keeps_the_partial_file_and_says_what_to_do(fake_hub, monkeypatch):
    import errno

    the_plan = planning.plan(BIG)
    real_fsync = os.fsync
    def full_while_streaming(fd):  # the record, written elsewhere, still fits
        if sys._getframe(1).f_code.co_name == "_stream_into":
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(downloads.os, "fsync", full_while_streaming)
    with pytest.raises(downloads.NotEnoughDisk, match="free some space"):
        downloads.download(the_plan)
    monkeypatch.setattr(downloads.os, "fsync", real_fsync)
    assert models_on_disk.status_of_repo(BIG).state == "partial"
    downloads.download(planning.plan(BIG))
    assert models_on_disk.status_of_repo(BIG).state == "ready"


def test_empty_files_and_files_with_the_same_content_download_and_count_once(fake_hub):
    same = b"s" * 5000
    fake_hub.add_repo("test/odd", {"config.json": b"{}", "__init__.py": b"", "a.safetensors": same, "b.safetensors": same})
    the_plan = planning.plan("test/odd")
    assert the_plan.total_bytes == 2 + 5000
    seen = []
    downloads.download(the_plan, progress=seen.append)
    done = [p.done for p in seen]
    assert done == sorted(done) and all(0 <= d <= the_plan.total_bytes for d in done) and done[-1] == the_plan.total_bytes
    snapshot = models_on_disk.repo_folder("test/odd") / "snapshots" / the_plan.repos[0].commit
    assert (snapshot / "__init__.py").read_bytes() == b"" and (snapshot / "b.safetensors").read_bytes() == same
    assert models_on_disk.status_of_repo("test/odd").state == "ready"


def test_a_paused_update_leaves_the_downloaded_commit_loadable(fake_hub, big_files):
    downloads.download(planning.plan(BIG))
    first = download_record.recorded_revision(BIG)
    fake_hub.update_repo(BIG, {"model.safetensors": os.urandom(BIG_SIZE)}, keep_others=True)
    answers = iter([False, False])
    with pytest.raises(Cancelled):
        downloads.download(planning.plan(BIG, update=True), should_stop=lambda: next(answers, True))
    assert download_record.recorded_revision(BIG) == first
    assert models_on_disk.status_of_repo(BIG).state == "ready"
    resumed = planning.plan(BIG)  # a plain download now resumes the update it started
    assert resumed.repos[0].commit == fake_hub.head(BIG) and resumed.on_disk_bytes > 0
    downloads.download(resumed)
    assert download_record.recorded_revision(BIG) == fake_hub.head(BIG)


def test_fetching_an_older_commit_by_hash_leaves_refs_main_alone(fake_hub):
    old = fake_hub.head(BIG)
    new = fake_hub.update_repo(BIG, {"README.md": b"new"}, keep_others=True)
    downloads.download(planning.plan(BIG))  # main: refs/main names the newest commit
    assert (models_on_disk.repo_folder(BIG) / "refs" / "main").read_text() == new
    downloads.download(planning.plan(BIG, revision=old))
    assert (models_on_disk.repo_folder(BIG) / "refs" / "main").read_text() == new
    assert download_record.recorded_revision(BIG) == old


def test_a_damaged_record_is_kept_aside_and_the_cache_still_counts(fake_hub):
    downloads.download(planning.plan(BIG))
    download_record.record_path().write_text("{ not json", encoding="utf-8")
    assert models_on_disk.status_of_repo(BIG).state == "ready"  # from the cache's own refs and snapshot
    assert list(download_record.record_path().parent.glob("downloads.damaged-*.json"))


DEEP = '{"repos": {"test/big-weights": {"revision": ' + "[" * 100_000 + "]" * 100_000 + "}}}"
DAMAGED_RECORDS = {
    "a list where the commit belongs": json.dumps({"repos": {BIG: {"revision": ["abc"], "files": {}}}}),
    "files as a list": json.dumps({"repos": {BIG: {"revision": "a" * 40, "files": [["config.json", 21, "b" * 40]]}}}),
    "a pending download that is a string": json.dumps({"repos": {BIG: {"pending": "yes"}}}),
    "a checked blob with a nested size": json.dumps({"repos": {BIG: {"verified": {"c" * 64: [[1], {"a": 2}]}}}}),
    "a recorded file climbing out": json.dumps({"repos": {BIG: {"revision": "a" * 40, "files": {"../../../../x": [1, "d" * 40]}}}}),
    "a recorded commit climbing out": json.dumps({"repos": {BIG: {"revision": "../../outside", "files": {}}}}),
    "repos as a list": json.dumps({"repos": [BIG]}),
    "JSON nested 100000 deep": DEEP,
}


@pytest.mark.parametrize("text", DAMAGED_RECORDS.values(), ids=DAMAGED_RECORDS.keys())
def test_a_record_with_wrong_fields_is_set_aside_and_nothing_raises(tmp_path, fake_hub, tiny_llava, text):
    from videochat.models.resolve import resolve_model

    fake_hub.add_repo(LLAVA, tiny_llava)
    path = download_record.record_path()
    path.parent.mkdir(parents=True, exist_ok=True)

    path.write_text(text, encoding="utf-8")
    assert resolve_model("llava-onevision-qwen2-0.5b-ov-hf").revision is None  # loads then use the cache's main
    assert list(path.parent.glob("downloads.damaged-*.json")) and not path.exists()

    path.write_text(text, encoding="utf-8")
    assert {status.state for _, status in models_on_disk.catalog_status()} == {"not downloaded"}
    assert models_on_disk.status_of_repo(BIG).state == "not downloaded"

    path.write_text(text, encoding="utf-8")
    listed = videochat("models", "--json", env={**child_env(fake_hub, tmp_path), "HF_HUB_OFFLINE": "1"})
    assert listed.returncode == 0 and "Traceback" not in listed.stderr, listed.stderr
    assert {row["status"] for row in json.loads(listed.stdout)} == {"not downloaded"}

    path.write_text(text, encoding="utf-8")
    fetched = videochat("download", BIG, env=child_env(fake_hub, tmp_path))
    assert fetched.returncode == 0, fetched.stderr
    assert models_on_disk.status_of_repo(BIG).state == "ready"
    assert len(list(path.parent.glob("downloads.damaged-*.json"))) == 4  # each kept for a person to look at


def test_a_recorded_commit_gone_from_the_hub_says_to_update(tmp_path, fake_hub):
    downloads.download(planning.plan(BIG))
    old = download_record.recorded_revision(BIG)
    fake_hub.update_repo(BIG, {"README.md": b"history rewritten"}, keep_others=True)
    fake_hub.forget_commit(BIG, old)

    with pytest.raises(RepoNotFound) as gone:
        planning.plan(BIG)
    assert "--update" in str(gone.value) and "Update in the model manager" in str(gone.value)
    result = videochat("download", BIG, env=child_env(fake_hub, tmp_path))
    assert result.returncode != 0 and f"videochat download {BIG} --update" in result.stderr

    downloads.download(planning.plan(BIG, update=True))
    assert download_record.recorded_revision(BIG) == fake_hub.head(BIG)


def test_the_stored_token_files_are_readable_by_their_owner_only(fake_hub):
    from huggingface_hub import constants, get_token

    stored = Path(constants.HF_STORED_TOKENS_PATH)
    stored.parent.mkdir(parents=True, exist_ok=True)
    stored.write_text("[older]\nhf_token = hf_older\n", encoding="utf-8")
    os.chmod(stored, 0o644)  # as `hf auth login` leaves it
    old_umask = os.umask(0o022)
    try:
        hub.save_token(ALICE)
    finally:
        os.umask(old_umask)
    for path in (Path(constants.HF_TOKEN_PATH), stored):
        assert path.stat().st_mode & 0o777 == 0o600, path
    assert get_token() == ALICE
    from huggingface_hub.utils import get_stored_tokens

    assert get_stored_tokens() == {"older": "hf_older", "tests": ALICE}


@pytest.mark.timeout(30)
def test_a_stored_tokens_file_that_is_not_a_regular_file_neither_hangs_nor_keeps_the_token_out(fake_hub):
    from huggingface_hub import constants, get_token

    stored = Path(constants.HF_STORED_TOKENS_PATH)
    stored.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(stored)  # reading it would wait for a writer forever

    assert hub.save_token(ALICE) == "alice"
    assert stored.is_file() and stored.stat().st_mode & 0o777 == 0o600
    assert get_token() == ALICE


def test_the_app_uses_no_private_huggingface_hub_name():
    """Underscored modules and names change without notice between releases."""
    import ast

    private = []
    for path in sorted((ROOT / "videochat").rglob("*.py")) + sorted((ROOT / "desktop").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "huggingface_hub":
                names = node.module.split(".") + [alias.name for alias in node.names]
            elif isinstance(node, ast.Import):
                names = [part for alias in node.names if alias.name.split(".")[0] == "huggingface_hub" for part in alias.name.split(".")]
            else:
                continue
            private += [f"{path.relative_to(ROOT)}:{node.lineno}" for name in names if name.startswith("_")]
    assert private == []


def test_a_model_from_another_tool_with_a_fifo_index_or_a_bad_ref_neither_hangs_nor_counts(tmp_path, fake_hub):
    commit = "e" * 40
    folder = models_on_disk.repo_folder(LLAVA)
    snapshot = folder / "snapshots" / commit
    snapshot.mkdir(parents=True)
    (snapshot / "config.json").write_text("{}", encoding="utf-8")
    os.mkfifo(snapshot / "model.safetensors.index.json")  # reading it would wait for a writer forever
    (folder / "refs").mkdir()
    (folder / "refs" / "main").write_text(commit, encoding="utf-8")
    env = {**child_env(fake_hub, tmp_path), "HF_HUB_OFFLINE": "1"}

    listed = videochat("models", "--json", env=env, timeout=60)
    assert {row["name"]: row["status"] for row in json.loads(listed.stdout)}["llava-onevision-qwen2-0.5b-ov-hf"] != "ready"

    outside = tmp_path / "outside"
    (outside / "config.json").parent.mkdir()
    (outside / "config.json").write_text("{}", encoding="utf-8")
    (outside / "model.safetensors").write_bytes(b"w")
    (folder / "refs" / "main").write_text("../../../../outside", encoding="utf-8")  # snapshots/<that> is `outside`
    assert models_on_disk.status_of_repo(LLAVA).state != "ready"

    (folder / "refs" / "main").unlink()
    os.mkfifo(folder / "refs" / "main")
    listed = videochat("models", "--json", env=env, timeout=60)
    assert listed.returncode == 0, listed.stderr


def test_a_model_fetched_by_another_tool_counts_beside_damaged_repo_folders(fake_hub):
    from huggingface_hub import snapshot_download

    shards = {"config.json": b"{}", "model.safetensors.index.json": b'{"weight_map": {"a": "model-1.safetensors", "b": "model-2.safetensors"}}',
              "model-1.safetensors": b"1" * 100, "model-2.safetensors": b"2" * 100}
    fake_hub.add_repo("other/sharded", shards)
    cache = hub.cache_dir()
    for repo in (BIG, "other/sharded"):
        snapshot_download(repo, cache_dir=cache, endpoint=fake_hub.endpoint, token=False)
    missing_shard = models_on_disk.repo_folder("other/sharded") / "snapshots" / fake_hub.head("other/sharded") / "model-2.safetensors"
    missing_shard.unlink()
    (cache / "models--stray-file").write_text("not a folder", encoding="utf-8")
    (cache / "models--no--snapshots" / "blobs").mkdir(parents=True)
    dangling = cache / "models--dangling--ref"
    (dangling / "snapshots").mkdir(parents=True)
    (dangling / "refs").mkdir()
    (dangling / "refs" / "main").write_text("f" * 40, encoding="utf-8")  # no such snapshot

    assert models_on_disk.status_of_repo(BIG).state == "ready"
    assert models_on_disk.status_of_repo(BIG).revision == fake_hub.head(BIG)
    assert models_on_disk.status_of_repo("other/sharded").state == "partial"  # a shard the index names is gone
    assert models_on_disk.status_of_repo("dangling/ref").state == "not downloaded"
    assert {state.state for _, state in models_on_disk.catalog_status()} == {"not downloaded"}  # no catalog model is there



def test_a_pause_is_heard_between_files_of_a_repo_of_many_small_ones(fake_hub):
    fake_hub.add_repo("someone/many-files", {f"part-{number:03d}.txt": b"x" for number in range(40)})
    the_plan = planning.plan("someone/many-files")
    done = []
    with pytest.raises(Cancelled, match="paused"):
        downloads.download(the_plan, progress=lambda state: done.append(state.files_done), should_stop=lambda: len(done) >= 3)
    fetched = [name for (repo, name), sent in fake_hub.bytes_sent_by_file.items() if repo == "someone/many-files" and sent]
    assert 0 < len(fetched) < 10


def test_a_listing_of_more_files_than_any_model_has_is_refused_before_anything_is_fetched(fake_hub, monkeypatch):
    monkeypatch.setattr(hub, "MAX_REPO_FILES", 30)
    fake_hub.add_repo("someone/too-many", {f"part-{number:03d}.txt": b"x" for number in range(31)})
    with pytest.raises(HubUnreachable, match="31 files, more than any model has"):
        planning.plan("someone/too-many")
    assert fake_hub.bytes_sent("someone/too-many") == 0


def test_a_pause_is_heard_within_a_small_piece_of_a_slow_download(fake_hub):
    calls = []

    def stop_at_the_second_piece() -> bool:  # asked before the file, then before writing each piece
        calls.append(1)
        return len(calls) >= 3

    with pytest.raises(Cancelled):
        downloads.download(planning.plan(BIG), should_stop=stop_at_the_second_piece)
    [partial] = (models_on_disk.repo_folder(BIG) / "blobs").glob("*.incomplete")
    assert 0 < partial.stat().st_size <= downloads.STREAM_PIECE_BYTES < (1 << 20)  # one piece kept; a MiB took 10 s at 100 KB/s
