"""The catalog, resolving what the user names into a model, loading rules and the fit estimate."""

from __future__ import annotations

import json

import pytest
import torch

from videochat import errors
from videochat.models import fit
from videochat.backends.consent import check_consent
from videochat.backends.loading import module_safe_folder, resolve_device, resolve_precision
from videochat.errors import BadModelFolder, UnknownModel
from videochat.families import FAMILIES
from videochat.models.catalog import CATALOG, find_entry
from videochat.models.resolve import entry_backend, resolve_model
from videochat.models.fit import estimate_fit

SEED_CHECKPOINTS = [
    "OpenGVLab/InternVL2-1B", "OpenGVLab/InternVL2-2B", "OpenGVLab/InternVL2-4B", "OpenGVLab/InternVL2-8B",
    "OpenGVLab/InternVL2-26B", "OpenGVLab/InternVL2-40B", "OpenGVLab/InternVL2-Llama3-76B",
    "OpenGVLab/InternVideo2-Chat-8B", "OpenGVLab/InternVideo2_chat_8B_HD", "OpenGVLab/InternVideo2_5_Chat_8B",
    "llava-hf/llava-onevision-qwen2-0.5b-ov-hf", "llava-hf/llava-onevision-qwen2-7b-ov-hf",
    "Qwen/Qwen2-VL-2B-Instruct", "Qwen/Qwen2-VL-7B-Instruct",
]


# The current runtime's (transformers 5.x) checkpoints; InternVL3.5's repos end in capital -HF.
CURRENT_CHECKPOINTS = [
    *(f"Qwen/Qwen2.5-VL-{size}-Instruct" for size in ("3B", "7B", "32B", "72B")),
    *(f"Qwen/Qwen3-VL-{size}-Instruct" for size in ("2B", "4B", "8B", "32B", "30B-A3B")),
    *(f"OpenGVLab/InternVL3-{size}-hf" for size in ("1B", "2B", "8B", "9B", "14B", "38B", "78B")),
    *(f"OpenGVLab/InternVL3_5-{size}-HF" for size in ("1B", "2B", "4B", "8B", "14B", "38B", "30B-A3B")),
]


def test_every_catalog_checkpoint_has_a_backend_a_family_and_the_runtime_it_needs():
    assert sorted(e.repo_id for e in CATALOG) == sorted(SEED_CHECKPOINTS + CURRENT_CHECKPOINTS)
    for entry in CATALOG:
        assert FAMILIES[entry.family].runtime == ("seed" if entry.repo_id in SEED_CHECKPOINTS else "current"), entry.repo_id
        assert entry.family in FAMILIES and entry_backend(entry) in {backend.name for backend in FAMILIES[entry.family].backends}
        assert entry.download_bytes > entry.parameters * 1e9  # at least one byte per parameter
        FAMILIES[entry.family].check_frame_count(entry.default_frames)


def test_the_newer_models_resolve_by_label_to_their_exact_repo_and_the_current_runtime():
    assert resolve_model("InternVL3.5-8B").source == "OpenGVLab/InternVL3_5-8B-HF"  # the cache's folder keeps the capitals
    assert resolve_model("internvl3-1b").source == "OpenGVLab/InternVL3-1B-hf"
    qwen = resolve_model("Qwen3-VL-30B-A3B-Instruct")
    assert (qwen.family, qwen.backend, qwen.runtime) == ("qwen3-vl", "qwen3-vl-moe", "current")
    assert resolve_model("InternVL2-1B").runtime == "seed"


@pytest.mark.parametrize("model_type,family,runtime", [("qwen2_5_vl", "qwen2.5-vl", "current"), ("qwen3_vl", "qwen3-vl", "current"),
                                                      ("internvl", "internvl3", "current"), ("qwen2_vl", "native", "seed")])
def test_a_folder_picks_its_runtime_from_its_config(tmp_path, model_type, family, runtime):
    ref = resolve_model(write_config(tmp_path / "model", {"model_type": model_type, "transformers_version": "4.57.1"}))
    assert (ref.family, ref.runtime) == (family, runtime)


def test_a_model_type_of_two_runtimes_goes_to_the_runtime_whose_transformers_wrote_the_config(monkeypatch):
    from dataclasses import replace

    import videochat.families as registry

    seed = FAMILIES["native"]
    current = replace(seed, name="native-current", runtime="current")
    monkeypatch.setattr(registry, "all_families", lambda: {"native": seed, "native-current": current})
    config = {"model_type": "qwen2_vl"}
    assert registry.backend_for_config({**config, "transformers_version": "4.45.0"})[1] == "native"
    assert registry.backend_for_config({**config, "transformers_version": "5.25.0"})[1] == "native-current"
    assert registry.backend_for_config(config)[1] == "native"  # unsaid: the seed's
    assert registry.backend_for_config({**config, "transformers_version": "five"})[1] == "native"


def test_internvideo2_chat_is_gated_and_brings_its_load_time_repos():
    entry = find_entry("InternVideo2-Chat-8B")
    assert entry.gated and "mistralai/Mistral-7B-Instruct-v0.3" in entry.extra_repos and "bert-base-uncased" in entry.extra_repos
    assert find_entry("internvideo2_5_chat_8b").default_frames == 128


def test_names_resolve_case_insensitively_to_catalog_models():
    ref = resolve_model("internvl2-1b")
    assert (ref.source, ref.backend, ref.family, ref.entry.repo_id) == ("OpenGVLab/InternVL2-1B", "internvl", "internvl2", "OpenGVLab/InternVL2-1B")


def write_config(folder, config):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(config))
    return folder


def test_a_local_folder_is_recognised_by_its_config(tmp_path):
    folder = write_config(tmp_path / "my-llava", {"model_type": "llava_onevision", "architectures": ["LlavaOnevisionForConditionalGeneration"]})
    ref = resolve_model(str(folder))
    assert (ref.backend, ref.family, ref.local_folder, ref.entry) == ("llava-onevision", "native", folder, None)
    assert check_consent(ref) is None  # transformers' own classes: no code of the folder runs
    assert resolve_model(folder) == ref  # a Path works as well as its text


def test_a_folders_name_is_the_name_answers_carry_exactly_as_it_is(tmp_path):
    # Stored in answers and compared when a saved conversation goes on: never rewritten (what shows it escapes it).
    config = {"model_type": "llava_onevision", "architectures": ["LlavaOnevisionForConditionalGeneration"]}
    for name in ("my  model", "مدل\u200cها", "llava\u202e\n# x"):
        assert resolve_model(str(write_config(tmp_path / name, config))).display_name == name


def test_an_internvideo2_folder_named_hd_is_the_hd_family(tmp_path):
    config = {"model_type": "InternVideo2_VideoChat2", "auto_map": {"AutoModel": "modeling_videochat2.InternVideo2_VideoChat2"}}
    plain = resolve_model(write_config(tmp_path / "InternVideo2-Chat-8B", config))
    hd = resolve_model(write_config(tmp_path / "InternVideo2_chat_8B_HD", config))
    assert (plain.family, hd.family) == ("internvideo2", "internvideo2-hd")


def test_unknown_remote_code_needs_the_users_yes(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "app-data"))
    folder = write_config(tmp_path / "someones-internvl", {"model_type": "internvl_chat", "architectures": ["InternVLChatModel"], "auto_map": {"AutoModel": "modeling_x.InternVLChatModel"}})
    (folder / "modeling_x.py").write_text("print('hello')\n")
    ref = resolve_model(str(folder))
    with pytest.raises(errors.RemoteCodeRefused, match="--trust-remote-code"):
        check_consent(ref, trust_remote_code=False)
    check_consent(ref, trust_remote_code=True)


@pytest.mark.parametrize("content,error", [(None, BadModelFolder), ("{not json", BadModelFolder), ('{"model_type": "bert"}', UnknownModel)])
def test_bad_model_folders_give_clear_errors(tmp_path, content, error):
    folder = tmp_path / "model"
    folder.mkdir()
    if content is not None:
        (folder / "config.json").write_text(content)
    with pytest.raises(error) as caught:
        resolve_model(str(folder))
    assert str(folder) in str(caught.value) or "model_type" in str(caught.value)


def test_an_uncatalogued_repo_not_downloaded_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path))
    with pytest.raises(errors.ModelNotDownloaded, match="not downloaded"):
        resolve_model("someone/video-model")


def test_unknown_names_are_refused():
    with pytest.raises(UnknownModel):
        resolve_model("not a model")


def test_dotted_folder_names_get_a_module_safe_link(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    folder = write_config(tmp_path / "InternVL2.0-1B", {})
    safe = module_safe_folder(folder)
    assert safe.name == "InternVL2_0-1B" and (safe / "config.json").is_file()
    assert module_safe_folder(tmp_path) == tmp_path  # already safe: untouched


def test_cpu_gets_float32_and_quantisation_needs_a_gpu():
    cpu = resolve_device("cpu")
    assert resolve_precision(cpu, "auto") == (torch.float32, None)
    assert resolve_precision(cpu, "bfloat16") == (torch.bfloat16, None)
    with pytest.raises(errors.UnsupportedSetting, match="CUDA"):
        resolve_precision(cpu, "8bit")
    with pytest.raises(errors.UnsupportedSetting):
        resolve_precision(cpu, "int3")


def test_4bit_is_refused_for_internvit_6b_models_as_their_cards_warn():
    with pytest.raises(errors.UnsupportedSetting, match="InternViT-6B"):
        resolve_precision(torch.device("cuda"), "4bit", resolve_model("InternVL2-26B"))


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_asking_for_a_missing_gpu_is_a_clear_error():
    with pytest.raises(errors.UnsupportedSetting, match="--device cpu"):
        resolve_device("cuda")


def test_fit_estimate_verdicts():
    small, huge = find_entry("InternVL2-1B"), find_entry("InternVL2-Llama3-76B")
    gb = 1_000_000_000
    assert estimate_fit(small, "bfloat16", 8, 8 * gb).verdict == "fits"
    assert estimate_fit(huge, "bfloat16", 8, 24 * gb).verdict == "too big"
    assert "fewer frames" in estimate_fit(huge, "bfloat16", 8, 24 * gb).message
    eight, many = estimate_fit(small, "bfloat16", 8, 8 * gb), estimate_fit(small, "bfloat16", 64, 8 * gb)
    assert many.cache_bytes > eight.cache_bytes and many.context_tokens == eight.context_tokens + 56 * 256
    assert estimate_fit(huge, "4bit", 8, 80 * gb).weights_bytes < estimate_fit(huge, "bfloat16", 8, 80 * gb).weights_bytes


def test_models_in_the_hugging_face_cache_are_listed_as_downloaded(tmp_path, monkeypatch):
    from videochat.models.resolve import downloaded_entries

    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path))
    assert downloaded_entries() == []
    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "models--OpenGVLab--InternVL2-1B"
    write_config(repo / "snapshots" / commit, {"model_type": "internvl_chat"})
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    assert downloaded_entries() == []  # a config alone (what AutoConfig fetches) is not a model
    (repo / "snapshots" / commit / "model.safetensors").write_bytes(b"weights")
    assert [entry.repo_id for entry in downloaded_entries()] == ["OpenGVLab/InternVL2-1B"]


def test_available_ram_is_read_without_psutil_and_agrees_with_it(monkeypatch):
    import psutil

    assert abs(fit.available_ram_bytes() - psutil.virtual_memory().available) < 0.05 * psutil.virtual_memory().total

    def no_proc(*args, **kwargs):
        raise OSError("no /proc here")

    monkeypatch.setattr(fit, "open", no_proc, raising=False)  # as on Windows or macOS: psutil answers
    assert abs(fit.available_ram_bytes() - psutil.virtual_memory().available) < 0.05 * psutil.virtual_memory().total


def test_every_catalog_entry_has_one_label_in_the_one_style_naming_no_other_entry():
    from videochat.models.catalog import LABEL_STYLE

    for entry in CATALOG:
        assert LABEL_STYLE.fullmatch(entry.label) and "_" not in entry.label
        assert find_entry(entry.label) is entry
    assert find_entry("InternVideo2_chat_8B_HD").label == "InternVideo2-Chat-8B-HD"
    assert find_entry("OpenGVLab/InternVideo2_5_Chat_8B").label == "InternVideo2.5-Chat-8B"


def test_the_old_name_the_repo_id_and_the_label_resolve_to_the_same_model():
    refs = [resolve_model(name) for name in ("InternVideo2_5_Chat_8B", "OpenGVLab/InternVideo2_5_Chat_8B", "internvideo2.5-chat-8b")]
    assert {ref.key for ref in refs} == {refs[0].key} and {ref.source for ref in refs} == {"OpenGVLab/InternVideo2_5_Chat_8B"}
    assert refs[0].display_name == "InternVideo2.5-Chat-8B"


def test_models_compare_by_repo_id_and_revision_not_by_spelling():
    assert resolve_model("InternVL2-1B", "a" * 40).key == resolve_model("opengvlab/internvl2-1b", "a" * 40).key
    assert resolve_model("InternVL2-1B", "a" * 40).key != resolve_model("InternVL2-1B", "b" * 40).key


def test_videochat_models_lists_labels_in_aligned_columns_and_json_keeps_the_repo_id(capsys):
    from videochat.cli.commands import main

    assert main(["models", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {row["repo_id"]: row["label"] for row in rows}["OpenGVLab/InternVideo2_5_Chat_8B"] == "InternVideo2.5-Chat-8B"
    assert main(["models"]) == 0
    lines = capsys.readouterr().out.splitlines()[1:]
    assert any(line.startswith("InternVideo2-Chat-8B-HD ") for line in lines)
    assert len({line.index(" ", len(max((e.label for e in CATALOG), key=len))) for line in lines}) == 1  # the status column starts at one place
