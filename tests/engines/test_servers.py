"""The servers a user adds: the address rule, the list the settings keep (hostile files ignored), the choice of a served model, the stored key."""

from __future__ import annotations

import json
import os
import stat

import pytest

from videochat.engines.keys import MAX_KEYS_BYTES, KeyFileError, forget_key, store_key, stored_key
from videochat.engines.servers import (
    MAX_SERVERS,
    InvalidServerAddress,
    engine_choice,
    parse_engine_choice,
    server_address,
    server_list,
    served_label,
)
from videochat.settings import Settings


@pytest.mark.parametrize(
    "typed, recorded",
    [
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("  HTTP://gpu-box:8000/v1/  ", "http://gpu-box:8000"),
        ("https://example.org:443/api?token=abc#frag", "https://example.org/api"),
        ("http://[::1]:9000", "http://[::1]:9000"),
    ],
)
def test_an_address_is_recorded_without_query_fragment_default_port_or_v1(typed, recorded):
    assert server_address(typed) == recorded


@pytest.mark.parametrize(
    "typed, said",
    [
        ("http://user:secret-pass@gpu-box:8000", "user name or password"),
        ("http://token@gpu-box:8000", "user name or password"),
        ("file:///etc/passwd", "not an http or https"),
        ("ftp://gpu-box", "not an http or https"),
        ("gpu-box:8000", "not an http or https"),
        ("http://gpu-box:99999", "port"),
        ("http://", "no host"),
        ("http://gpu box:8000", "spaces"),
        ("http://gpu-box:8000/\x1b[2J", "control"),
        ("", "No address"),
    ],
)
def test_an_address_with_credentials_another_scheme_or_garbage_is_refused_saying_why(typed, said):
    with pytest.raises(InvalidServerAddress) as refused:
        server_address(typed)
    assert said in str(refused.value)
    assert "secret-pass" not in str(refused.value)


def test_added_servers_survive_a_restart_of_the_settings(tmp_path):
    path = tmp_path / "settings.json"
    settings = Settings()
    settings.add_server(server_address("http://127.0.0.1:8000/v1"))
    settings.add_server(server_address("https://gpu-box"))
    settings.add_server(server_address("http://127.0.0.1:8000"))  # already there: moved last, not doubled
    settings.save(path)
    assert Settings.load(path).engine_servers == ["https://gpu-box", "http://127.0.0.1:8000"]


@pytest.mark.parametrize(
    "hostile",
    [
        "http://127.0.0.1:8000",
        {"url": "http://127.0.0.1:8000"},
        [1, None, True, ["http://a"], "file:///etc", "http://u:p@host", "javascript:alert(1)", "http://ok-host:1"],
        ["http://h%d" % n for n in range(500)],
    ],
)
def test_hostile_server_lists_in_the_settings_file_are_ignored_and_capped(tmp_path, hostile):
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"engine_servers": hostile, "volume": 0.5}))
    settings = Settings.load(path)
    assert settings.volume == 0.5  # the rest of the file is still read
    assert all(server_address(address) == address for address in settings.engine_servers)
    assert len(settings.engine_servers) <= MAX_SERVERS
    assert not any("@" in address or not address.startswith("http") for address in settings.engine_servers)
    if isinstance(hostile, list) and "http://ok-host:1" in hostile:
        assert settings.engine_servers == ["http://ok-host:1"]


def test_a_server_list_keeps_the_first_usable_addresses_once_each():
    assert server_list(["http://a", "http://a/", "http://b", 7]) == ["http://a", "http://b"]
    assert server_list("http://a") == []


def test_a_served_model_is_chosen_by_its_address_and_id_and_labelled_with_its_host():
    choice = engine_choice("http://127.0.0.1:8000/v1", "OpenGVLab/InternVL2-8B")
    assert parse_engine_choice(choice) == ("http://127.0.0.1:8000", "OpenGVLab/InternVL2-8B")
    assert parse_engine_choice(engine_choice("http://h:1", "a model with spaces")) == ("http://h:1", "a model with spaces")
    for other in ("OpenGVLab/InternVL2-8B", "/models/internvl", "engine:", "engine:http://u:p@h:1 m", "engine:ftp://h m", "engine:http://h:1 ", None):
        assert parse_engine_choice(other) is None, other
    assert served_label("OpenGVLab/InternVL2-8B", "http://127.0.0.1:8000") == "InternVL2-8B @ 127.0.0.1:8000"


def test_the_key_of_a_server_is_stored_0600_under_its_address_and_found_only_for_it(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-meant-for-another-service-123456")
    path = tmp_path / "engine-keys.json"
    store_key("http://127.0.0.1:8000", "sk-server-key-1234567890", path=path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stored_key("http://127.0.0.1:8000", path=path) == "sk-server-key-1234567890"
    assert stored_key("http://127.0.0.1:8001", path=path) is None  # not OPENAI_API_KEY: that is another service's
    os.chmod(path, 0o644)
    with pytest.raises(KeyFileError, match="chmod 600"):
        stored_key("http://127.0.0.1:8000", path=path)


def test_forgetting_a_servers_key_deletes_only_its_entry_and_keeps_the_file_0600(tmp_path):
    path = tmp_path / "engine-keys.json"
    store_key("http://127.0.0.1:8000", "sk-removed-server-key-111111", path=path)
    store_key("http://127.0.0.1:8001", "sk-kept-server-key-2222222", path=path)
    assert forget_key("http://127.0.0.1:8000", path=path) is True
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert "sk-removed-server-key-111111" not in path.read_text()
    assert stored_key("http://127.0.0.1:8000", path=path) is None
    assert stored_key("http://127.0.0.1:8001", path=path) == "sk-kept-server-key-2222222"
    assert forget_key("http://127.0.0.1:8000", path=path) is False  # nothing left to delete
    assert forget_key("http://127.0.0.1:9", path=tmp_path / "none.json") is False and not (tmp_path / "none.json").exists()


def test_forgetting_a_key_in_a_file_others_can_read_removes_it_and_makes_the_file_0600(tmp_path):
    path = tmp_path / "engine-keys.json"
    store_key("http://h:1", "sk-exposed-key-3333333333", path=path)
    os.chmod(path, 0o644)
    assert forget_key("http://h:1", path=path) is True
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600 and "sk-exposed-key" not in path.read_text()


@pytest.mark.parametrize("damage", ["link", "too big", "not json", "a list"])
def test_a_key_file_that_is_a_link_too_big_or_not_json_is_neither_read_nor_rewritten_by_forgetting(tmp_path, damage):
    path = tmp_path / "engine-keys.json"
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_text(json.dumps({"http://h:1": "sk-someone-elses-key-44444"}))
    os.chmod(elsewhere, 0o600)
    if damage == "link":
        path.symlink_to(elsewhere)
    elif damage == "too big":
        path.write_text(json.dumps({"http://h:1": "k" * (MAX_KEYS_BYTES + 10)}))
    elif damage == "not json":
        path.write_bytes(b"\xff{not json")
    else:
        path.write_text(json.dumps(["http://h:1", "sk-in-a-list"]))
    if damage != "link":
        os.chmod(path, 0o600)
    before = path.read_bytes() if damage != "link" else None
    if damage == "a list":  # well-formed JSON of the wrong kind holds no key: nothing to delete, nothing written
        assert forget_key("http://h:1", path=path) is False and path.read_bytes() == before
        return
    with pytest.raises(KeyFileError) as refused:
        forget_key("http://h:1", path=path)
    assert "delete" in str(refused.value) and "sk-" not in str(refused.value)
    with pytest.raises(KeyFileError):
        stored_key("http://h:1", path=path)  # the readers refuse it too
    if damage == "link":
        assert path.is_symlink() and json.loads(elsewhere.read_text()) == {"http://h:1": "sk-someone-elses-key-44444"}
    else:
        assert path.read_bytes() == before


def test_a_settings_file_with_hostile_servers_still_loads_and_a_removal_saves_only_usable_addresses(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"engine_servers": [7, "http://u:p@h", "http://a:1", {"x": 1}] + [f"http://h{n}" for n in range(40)]}))
    settings = Settings.load(path)
    assert settings.engine_servers[0] == "http://a:1" and len(settings.engine_servers) == MAX_SERVERS
    settings.engine_servers = [address for address in settings.engine_servers if address != "http://a:1"]
    settings.save(path)
    again = json.loads(path.read_text())["engine_servers"]
    assert "http://a:1" not in again and len(again) == MAX_SERVERS - 1 and all(server_address(a) == a for a in again)
