"""A model's own code runs only with consent: which files a load would import, the one naming rule, the remembered yes.

The stand-in folder's only code is a tokenizer module named in tokenizer_config.json (config.json
names none); importing it writes a marker file, so "nothing ran" is read from the disk.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest

from tests.support.standins import build_marker_folder, isolate_hf_caches
from tests.support.standins.builders import COMMIT, MARKER_ENV, write_hub_repo
from videochat.models import record as download_record
from videochat import errors
from videochat.backends import create_backend
from videochat.backends.base import LoadOptions
from videochat.backends.consent import check_consent, consent_path, model_code
from videochat.models.resolve import resolve_model
from videochat.cli.commands import main


@pytest.fixture
def marker(tmp_path, monkeypatch):
    """The file the folder's code writes when it runs; the app's data and the HF caches are this test's own."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "app-data"))
    path = tmp_path / "ran.txt"
    monkeypatch.setenv(MARKER_ENV, str(path))
    with isolate_hf_caches(tmp_path / "hf-root") as (hub_cache, _modules):
        yield path


def ran(marker: Path) -> bool:
    return marker.exists()


# -- which code a load would run --------------------------------------------------------------


def test_the_code_of_a_folder_includes_a_tokenizer_module_named_only_in_tokenizer_config(tmp_path):
    folder = build_marker_folder(tmp_path / "model")
    code = model_code(folder)
    assert code.files == ("tokenization_marker.py",) and code.named_in == ("tokenizer_config.json",)


def test_the_code_follows_relative_imports_and_leaves_out_files_nothing_imports(tmp_path):
    folder = build_marker_folder(tmp_path / "model")
    (folder / "tokenization_marker.py").write_text("from .helpers import x\nfrom . import other\n")
    (folder / "helpers.py").write_text("from .deep import y\n")
    (folder / "deep.py").write_text("y = 1\n")
    (folder / "other.py").write_text("")
    (folder / "unused.py").write_text("raise SystemExit\n")
    assert model_code(folder).files == ("deep.py", "helpers.py", "other.py", "tokenization_marker.py")


def test_the_digest_changes_with_any_code_file_and_not_with_other_files(tmp_path):
    folder = build_marker_folder(tmp_path / "model")
    (folder / "tokenization_marker.py").write_text("from .helpers import x\n")
    (folder / "helpers.py").write_text("x = 1\n")
    first = model_code(folder).digest
    (folder / "README.md").write_text("hello")
    assert model_code(folder).digest == first
    (folder / "helpers.py").write_text("x = 2\n")
    assert model_code(folder).digest != first


def test_code_named_from_another_repo_is_refused(tmp_path):
    folder = build_marker_folder(tmp_path / "model")
    (folder / "tokenizer_config.json").write_text(json.dumps({"auto_map": {"AutoTokenizer": ["someone/else--tok.Tok", None]}}))
    with pytest.raises(errors.BadModelFolder, match="another repo"):
        model_code(folder)


@pytest.mark.parametrize(
    "file,content,words",
    [
        ("config.json", "[" * 5000 + "]" * 5000, "config.json is nested too deeply"),
        ("config.json", "[1, 2]", "config.json holds list"),
        ("config.json", '{"model_type": "internvl_chat", "architectures": 5}', "config.json has int for 'architectures'"),
        ("config.json", '{"model_type": 7}', "config.json has int for 'model_type'"),
        ("config.json", '{"model_type": "InternVideo2_VideoChat2", "model_config": []}', "config.json has list for 'model_config'"),
        ("tokenizer_config.json", '{"auto_map": 3}', "tokenizer_config.json has int for 'auto_map'"),
        ("tokenizer_config.json", '{"auto_map": {"AutoTokenizer": [7, null]}}', "tokenizer_config.json has int in 'auto_map'"),
        ("tokenizer_config.json", b"\xff\xfe{}", "tokenizer_config.json is not UTF-8"),
    ],
)
def test_a_hostile_json_file_of_a_model_folder_is_a_one_line_typed_error(tmp_path, file, content, words):
    folder = build_marker_folder(tmp_path / "model")
    (folder / file).write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(errors.BadModelFolder) as caught:
        model_code(resolve_model(str(folder)).local_folder) if file != "config.json" else resolve_model(str(folder))
    message = str(caught.value)
    assert words in message and "the model folder's" in message.lower() and "\n" not in message


# -- whether it may run -----------------------------------------------------------------------


def test_a_tokenizer_module_does_not_run_without_consent_and_runs_with_it(marker, tmp_path):
    folder = build_marker_folder(tmp_path / "Someones-model")
    backend = create_backend(resolve_model(str(folder)), LoadOptions())
    with pytest.raises(errors.RemoteCodeRefused) as caught:
        backend.load()
    assert not ran(marker)
    assert "tokenization_marker.py" in str(caught.value) and str(folder) in str(caught.value) and "--trust-remote-code" in str(caught.value)
    assert caught.value.code.files == ("tokenization_marker.py",)
    with pytest.raises(errors.ModelError):  # its code ran; the placeholder weights then fail
        create_backend(resolve_model(str(folder)), LoadOptions(approved_code=caught.value.code.digest)).load()
    assert ran(marker)


def test_a_yes_is_remembered_per_digest_and_a_changed_code_file_is_asked_about_again(marker, tmp_path):
    folder = build_marker_folder(tmp_path / "model")
    ref = resolve_model(str(folder))
    with pytest.raises(errors.RemoteCodeRefused) as first:
        check_consent(ref)
    assert check_consent(ref, approved=first.value.code.digest).digest == first.value.code.digest
    assert check_consent(ref).digest == first.value.code.digest  # the same files: not asked again
    assert first.value.code.digest in json.loads(consent_path().read_text())["allowed"]
    with (folder / "tokenization_marker.py").open("a") as stream:
        stream.write("# changed\n")
    with pytest.raises(errors.RemoteCodeRefused) as second:
        check_consent(ref)
    assert second.value.code.digest != first.value.code.digest
    with pytest.raises(errors.RemoteCodeRefused):  # a yes to the old files is not a yes to these
        check_consent(ref, approved=first.value.code.digest)
    check_consent(ref, trust_remote_code=True)  # the CLI's yes, remembered too
    check_consent(ref)


def test_code_changed_in_the_folder_after_it_was_allowed_does_not_run(marker, tmp_path, monkeypatch):
    from videochat.backends import internvl

    folder = build_marker_folder(tmp_path / "model")
    allowed = check_consent(resolve_model(str(folder)), trust_remote_code=True)
    evil = tmp_path / "evil.txt"

    def consent_then_swap(*args, **kwargs):  # what one who can write in the folder does once it is allowed
        code = check_consent(*args, **kwargs)
        with (folder / "tokenization_marker.py").open("a") as stream:
            stream.write(f"\nopen({str(evil)!r}, 'w').write('never allowed')\n")
        return code

    monkeypatch.setattr(internvl, "check_consent", consent_then_swap)
    with pytest.raises(errors.ModelLoadError, match="changed after it was allowed"):
        create_backend(resolve_model(str(folder)), LoadOptions(approved_code=allowed.digest)).load()
    assert not evil.exists() and not ran(marker)


def test_an_unreadable_consent_file_counts_as_no_yes(marker, tmp_path):
    folder = build_marker_folder(tmp_path / "model")
    ref = resolve_model(str(folder))
    check_consent(ref, trust_remote_code=True)
    consent_path().write_text("[" * 100)
    with pytest.raises(errors.RemoteCodeRefused):
        check_consent(ref)


def _downloaded_catalog_repo(hub_cache: Path, source: Path, repo_id: str = "OpenGVLab/InternVL2-1B") -> Path:
    """`source` as the app's download leaves it: a snapshot at COMMIT and a record of its files, each verified."""
    snapshot = write_hub_repo(hub_cache, repo_id, source)
    files, verified = {}, {}
    for path in sorted(snapshot.iterdir()):
        etag = hashlib.sha256(path.read_bytes()).hexdigest()  # a blob id as the record keeps them (checked on read)
        info = path.stat()
        files[path.name], verified[etag] = [info.st_size, etag], [info.st_size, info.st_mtime_ns]
    download_record.update_record(repo_id, revision=COMMIT, files=files, verified=verified)
    return snapshot


def test_a_catalog_repo_at_the_recorded_verified_commit_runs_without_asking_and_otherwise_asks(marker, tmp_path):
    import huggingface_hub.constants as hub_constants

    hub_cache = Path(hub_constants.HF_HUB_CACHE)
    snapshot = _downloaded_catalog_repo(hub_cache, build_marker_folder(tmp_path / "source"))
    ref = resolve_model("InternVL2-1B")
    assert ref.revision == COMMIT and check_consent(ref).files == ("tokenization_marker.py",)

    code_file = (snapshot / "tokenization_marker.py").resolve()
    data, info = code_file.read_bytes(), code_file.stat()
    code_file.write_bytes(data[:-1] + b" ")  # changed since the download, its size and time as they were
    os.utime(code_file, ns=(info.st_atime_ns, info.st_mtime_ns))
    with pytest.raises(errors.RemoteCodeRefused, match="not the commit this app downloaded"):
        check_consent(ref)
    code_file.write_bytes(data)
    assert check_consent(ref).files == ("tokenization_marker.py",)

    download_record.forget("OpenGVLab/InternVL2-1B")  # fetched by another tool: no record
    with pytest.raises(errors.RemoteCodeRefused):
        check_consent(resolve_model("InternVL2-1B"))
    assert snapshot.is_dir() and not ran(marker)


# -- one rule for what --model names ----------------------------------------------------------


@pytest.mark.parametrize("name", ["InternVL2-1B", "OpenGVLab/InternVL2-2B"])
def test_a_catalog_name_never_means_a_folder_of_the_current_directory(marker, tmp_path, monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    build_marker_folder(tmp_path / name)
    ref = resolve_model(name)
    assert ref.entry is not None and ref.local_folder is None and ref.source.startswith("OpenGVLab/")
    assert f"./{name}" in ref.hint
    with pytest.raises(errors.ModelNotDownloaded, match=f"\\./{name}"):
        create_backend(ref, LoadOptions(trust_remote_code=True)).load()
    assert not ran(marker)
    folder = resolve_model(f"./{name}")
    assert folder.entry is None and folder.local_folder == (tmp_path / name).resolve()
    assert folder.display_name == f"{Path(name).name} (folder)"  # its answers never carry the catalog's name alone


def test_a_bare_name_that_is_only_a_folder_here_suggests_the_folder_form(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    build_marker_folder(tmp_path / "my-model")
    with pytest.raises(errors.UnknownModel, match=r"\./my-model"):
        resolve_model("my-model")


@pytest.mark.parametrize("command", ["ask", "batch"])
@pytest.mark.parametrize("name", ["InternVL2-1B", "OpenGVLab/InternVL2-2B"])
def test_the_cli_loads_the_catalog_model_for_its_name_not_the_folder_here(marker, tmp_path, monkeypatch, capsys, clips, command, name):
    monkeypatch.chdir(tmp_path)
    build_marker_folder(tmp_path / name)
    assert main(_argv(command, tmp_path, clips, name, "--trust-remote-code")) == 1
    error = capsys.readouterr().err
    assert "not downloaded" in error and f"./{name}" in error
    assert not ran(marker)


def test_the_cli_uses_the_folder_given_as_dot_slash_with_consent(marker, tmp_path, monkeypatch, capsys, clips):
    monkeypatch.chdir(tmp_path)
    build_marker_folder(tmp_path / "InternVL2-1B")
    main(_argv("ask", tmp_path, clips, "./InternVL2-1B", "--trust-remote-code"))
    assert ran(marker)


@pytest.mark.parametrize("command", ["ask", "batch"])
def test_the_cli_refuses_a_tokenizer_module_without_trust_remote_code_and_says_what_would_run(marker, tmp_path, capsys, clips, command):
    folder = build_marker_folder(tmp_path / "Someones-model")
    assert main(_argv(command, tmp_path, clips, str(folder))) == 1
    error = capsys.readouterr().err
    assert "tokenization_marker.py" in error and str(folder) in error and "--trust-remote-code" in error
    assert len(error.strip().splitlines()) == 1
    assert not ran(marker)


def _argv(command: str, tmp_path: Path, clips, model: str, *extra: str) -> list[str]:
    clip = clips("short.mp4")
    if command == "ask":
        return ["ask", str(clip), "What happens?", "--model", model, "--max-new-tokens", "2", *extra]
    questions = tmp_path / "questions.txt"
    questions.write_text("What happens?\n")
    folder = tmp_path / "clips"
    folder.mkdir(exist_ok=True)
    if not (folder / clip.name).exists():
        shutil.copy(clip, folder / clip.name)
    return ["batch", str(folder), "--questions", str(questions), "--out", str(tmp_path / "out.jsonl"), "--model", model, "--max-new-tokens", "2", *extra]
