"""Tiny checkpoint folders of each remote-code family, and the Hugging Face cache they read.

Each builder writes what the real checkpoint has: config.json with `auto_map`, the code files,
weights saved with `save_pretrained` (fixed seed) and a tokenizer with the family's special
tokens. InternVideo2-Chat builds parts of itself from two other hub repos at construction
time; `build_hub_extras` puts tiny stand-ins of those into a hub cache, in the hub's layout.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import sys
from pathlib import Path

from tests.support.tiny_tokenizer import CORPUS, build_tokenizer

CODE = Path(__file__).parent
INTERNVL_CODE = CODE / "internvl_code"
VIDEOCHAT2_CODE = CODE / "videochat2_code"
MARKER_CODE = CODE / "marker_code"
MARKER_ENV = "VIDEOCHAT_TEST_MARKER"  # the file marker_code's modules append to when imported
TIMM_STUB = CODE.parent / "timm_stub"  # a test-only timm: see its __init__.py

INTERNVL_SPECIAL_TOKENS = ["<img>", "</img>", "<IMG_CONTEXT>", "<quad>", "</quad>", "<ref>", "</ref>", "<box>", "</box>"]
VIDEOCHAT2_SPECIAL_TOKENS = ["<s>", "</s>"]

BERT_REPO = "bert-base-uncased"  # the name InternVideo2-Chat's code asks for
MISTRAL_REPO = "mistralai/Mistral-7B-Instruct-v0.3"
COMMIT = "0123456789abcdef0123456789abcdef01234567"


def _code_files(package: Path) -> list[Path]:
    return sorted(p for p in package.glob("*.py") if p.name != "__init__.py")


def _copy_code(package: Path, folder: Path) -> None:
    for path in _code_files(package):
        shutil.copy(path, folder / path.name)


def _rewrite_config(folder: Path, config: dict) -> None:
    (folder / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True), encoding="utf-8")


def provide_test_timm() -> None:
    """Where no timm is installed, make the test-only stub importable here and in every subprocess started from now on.

    The stand-ins import timm as the real code does; in CI no torchvision imports beside the CPU
    torch, so no real timm can be installed (scripts/setup-venv.sh takes it out again). The stub's
    folder goes last on sys.path and PYTHONPATH: a real timm, where there is one, is the one used.
    """
    folder = str(TIMM_STUB)
    if folder not in sys.path:
        if importlib.util.find_spec("timm") is not None:
            return
        sys.path.append(folder)
        importlib.invalidate_caches()
    parts = [part for part in os.environ.get("PYTHONPATH", "").split(os.pathsep) if part]
    if folder not in parts:  # again after a test's monkeypatch put PYTHONPATH back
        os.environ["PYTHONPATH"] = os.pathsep.join([*parts, folder])


def without_timm(environment: dict, mode: str = "absent") -> dict:
    """`environment` for a subprocess in which timm is missing (`mode="absent"`) or fails to import ("broken"), real or not."""
    path = [str(TIMM_STUB)] + [part for part in environment.get("PYTHONPATH", "").split(os.pathsep) if part and part != str(TIMM_STUB)]
    return {**environment, "PYTHONPATH": os.pathsep.join(path), "VIDEOCHAT_TEST_TIMM": mode}


# -- InternVL2 and InternVideo2.5 --------------------------------------------------------


# The seed checkpoints' chat templates (config.json's `template`) and the backbone each comes with:
# (LLM class, tokens the tokenizer adds for the template, the token that ends a turn).
INTERNVL_BACKBONES = {
    "Hermes-2": ("Qwen2ForCausalLM", [], "<|im_end|>"),  # InternVL2-1B
    "internlm2-chat": ("LlamaForCausalLM", [], "<|im_end|>"),  # InternVL2-2B/8B/26B (InternLM2, a Llama)
    "phi3-chat": ("Phi3ForCausalLM", ["<|system|>", "<|user|>", "<|assistant|>", "<|end|>"], "<|end|>"),  # InternVL2-4B
    "internvl2_5": ("Qwen2ForCausalLM", [], "<|im_end|>"),  # InternVideo2.5 (InternVL2.5)
}


def build_internvl2(folder: str | Path, seed: int = 0, template: str = "Hermes-2", hidden: int = 32, layers: int = 2,
                    patch_size: int = 56, vision_hidden: int = 16, init_range: float = 0.02) -> Path:
    """An InternVL2 checkpoint with `template`'s backbone (default: Qwen2, as InternVL2-1B): 448 tiles.

    A tile is (448 / patch_size / 2)^2 tokens: 16 by default, 256 (the real models' count) at patch_size=14.
    A wider `init_range` gives the language model weights whose answers follow every token of the prompt
    (at the default most random models say the same whatever they are asked).
    """
    import torch

    provide_test_timm()
    from tests.support.standins.internvl_code.configuration_internvl_chat import (
        InternVLChatConfig,
    )
    from tests.support.standins.internvl_code.modeling_internvl_chat import (
        InternVLChatModel,
    )

    folder = Path(folder)
    architecture, template_tokens, end_of_turn = INTERNVL_BACKBONES[template]
    tokenizer = build_tokenizer(folder, INTERNVL_SPECIAL_TOKENS + template_tokens)
    config = InternVLChatConfig(
        vision_config=dict(
            architectures=["InternVisionModel"], image_size=448, patch_size=patch_size, hidden_size=vision_hidden, num_attention_heads=2,
            intermediate_size=2 * vision_hidden, num_hidden_layers=1, norm_type="layer_norm",
        ),
        llm_config=dict(
            architectures=[architecture], vocab_size=len(tokenizer), hidden_size=hidden, intermediate_size=2 * hidden,
            num_hidden_layers=layers, num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=32768,
            bos_token_id=tokenizer.convert_tokens_to_ids("<|im_start|>"), eos_token_id=tokenizer.convert_tokens_to_ids(end_of_turn),
            tie_word_embeddings=False, initializer_range=init_range,
            # Phi-3's default pad id (32000) lies outside the tiny vocabulary.
            **({"pad_token_id": tokenizer.convert_tokens_to_ids("<|endoftext|>")} if architecture == "Phi3ForCausalLM" else {}),
        ),
        force_image_size=448, downsample_ratio=0.5, template=template, ps_version="v2", select_layer=-1,
        dynamic_image_size=True, use_thumbnail=True, max_dynamic_patch=12,
    )
    config.architectures = ["InternVLChatModel"]
    config.auto_map = {
        "AutoConfig": "configuration_internvl_chat.InternVLChatConfig",
        "AutoModel": "modeling_internvl_chat.InternVLChatModel",
        "AutoModelForCausalLM": "modeling_internvl_chat.InternVLChatModel",
    }
    torch.manual_seed(seed)
    model = InternVLChatModel(config, use_flash_attn=False)
    model.save_pretrained(folder)
    _copy_code(INTERNVL_CODE, folder)
    return folder


def build_internvideo25(folder: str | Path, seed: int = 0, **sizes) -> Path:
    """An InternVideo2.5 checkpoint: InternVL's code as modeling_internvl_chat_hico2.py, groups of 4 frames."""
    folder = build_internvl2(folder, seed=seed, template="internvl2_5", **sizes)
    entry = (folder / "modeling_internvl_chat.py").read_text(encoding="utf-8")
    assert "LOCAL_NUM_FRAMES = None" in entry
    (folder / "modeling_internvl_chat_hico2.py").write_text(entry.replace("LOCAL_NUM_FRAMES = None", "LOCAL_NUM_FRAMES = 4"), encoding="utf-8")
    (folder / "modeling_internvl_chat.py").unlink()
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    config["auto_map"] = {
        "AutoConfig": "configuration_internvl_chat.InternVLChatConfig",
        "AutoModel": "modeling_internvl_chat_hico2.InternVLChatModel",
        "AutoModelForCausalLM": "modeling_internvl_chat_hico2.InternVLChatModel",
    }
    _rewrite_config(folder, config)
    return folder


# -- InternVideo2-Chat and HD ------------------------------------------------------------


def write_hub_repo(hub_cache: str | Path, repo_id: str, files_from: Path) -> Path:
    """Put `files_from`'s files into `hub_cache` as the hub would: models--owner--name/snapshots/<commit>/ + refs/main."""
    repo = Path(hub_cache) / ("models--" + repo_id.replace("/", "--"))
    snapshot = repo / "snapshots" / COMMIT
    shutil.copytree(files_from, snapshot, dirs_exist_ok=True)
    (repo / "refs").mkdir(parents=True, exist_ok=True)
    (repo / "refs" / "main").write_text(COMMIT, encoding="utf-8")
    return snapshot


def videochat2_tokenizer(folder: str | Path):
    return build_tokenizer(folder, VIDEOCHAT2_SPECIAL_TOKENS)


def build_hub_extras(hub_cache: str | Path, scratch: str | Path, bert: bool = True, mistral: bool = True, init_range: float = 0.02) -> None:
    """Tiny stand-ins of bert-base-uncased (tokenizer + config) and the Mistral-7B-Instruct-v0.3 config.

    `init_range` is the Mistral config's: InternVideo2-Chat builds its language model from it (see build_internvl2).
    """
    from transformers import BertConfig, BertTokenizer, MistralConfig

    scratch = Path(scratch)
    if bert:
        words = sorted({w.strip(".?,").lower() for line in CORPUS for w in line.split()} - {""})
        vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *"abcdefghijklmnopqrstuvwxyz0123456789.,?!", *words]
        source = scratch / "bert"
        source.mkdir(parents=True, exist_ok=True)
        (source / "vocab.txt").write_text("\n".join(dict.fromkeys(vocab)) + "\n", encoding="utf-8")
        tokenizer = BertTokenizer(str(source / "vocab.txt"))
        tokenizer.save_pretrained(str(source))
        BertConfig(
            vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
            hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
        ).save_pretrained(str(source))
        write_hub_repo(hub_cache, BERT_REPO, source)
    if mistral:
        tokenizer = videochat2_tokenizer(scratch / "llm-tokenizer")
        source = scratch / "mistral"
        MistralConfig(
            vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=2, max_position_embeddings=4096, bos_token_id=tokenizer.convert_tokens_to_ids("<s>"),
            eos_token_id=tokenizer.convert_tokens_to_ids("</s>"), sliding_window=None, initializer_range=init_range,
        ).save_pretrained(str(source))
        write_hub_repo(hub_cache, MISTRAL_REPO, source)


def videochat2_model_config(hd: bool) -> dict:
    model_config = {
        "model_cls": "InternVideo2_VideoChat2",
        "vision_encoder": {
            "name": "internvideo2-1B", "img_size": 224, "patch_size": 56, "encoder_embed_dim": 32, "num_frames": 64,
            "vit_add_ln": True, "use_flash_attn": False,
        },
        "bridge": {
            "name": "qformer", "num_query_token": 4, "extra_num_query_token": 4, "qformer_hidden_dropout_prob": 0.0,
            "qformer_attention_probs_dropout_prob": 0.0, "qformer_drop_path_rate": 0.0,
        },
        "llm": {
            "name": "mistral_7b", "pretrained_llm_path": MISTRAL_REPO, "use_lora": True, "lora_r": 4, "lora_alpha": 8,
            "lora_dropout": 0.0,
        },
        "loss": {"use_vision_regression_loss": False},
        "freeze_vision_encoder": False,
        "freeze_bridge": False,
        "freeze_llm": True,
    }
    if hd:
        model_config["hd_num"] = 6
    return model_config


def build_internvideo2(folder: str | Path, hd: bool = False, seed: int = 0) -> Path:
    """An InternVideo2-Chat(-HD) checkpoint; the hub cache in use must hold `build_hub_extras`' repos."""
    import torch

    provide_test_timm()
    from tests.support.standins.videochat2_code.model_config import VideoChat2Config
    from tests.support.standins.videochat2_code.modeling_videochat2 import (
        InternVideo2_VideoChat2,
    )

    folder = Path(folder)
    videochat2_tokenizer(folder)
    model_config = videochat2_model_config(hd)
    torch.manual_seed(seed)
    model = InternVideo2_VideoChat2(VideoChat2Config(model_config=model_config))
    model.save_pretrained(folder)
    _copy_code(VIDEOCHAT2_CODE, folder)
    _rewrite_config(folder, {
        "architectures": ["InternVideo2_VideoChat2"],
        "auto_map": {
            "AutoConfig": "model_config.VideoChat2Config",
            "AutoModel": "modeling_videochat2.InternVideo2_VideoChat2",
        },
        "model_config": model_config,
        "model_type": "InternVideo2_VideoChat2",
        "torch_dtype": "bfloat16",
        "transformers_version": "4.39.1",
    })
    return folder


# -- code that says it ran -----------------------------------------------------------------


def build_marker_folder(folder: str | Path) -> Path:
    """An InternVL-looking folder whose only code is a tokenizer module named in tokenizer_config.json's auto_map.

    config.json names no code: a consent check that reads only config.json lets this run.
    Importing the module writes the marker (`MARKER_ENV`); the placeholder weights only get the
    load as far as the tokenizer.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    _rewrite_config(folder, {"model_type": "internvl_chat", "architectures": ["InternVLChatModel"]})
    reference = "tokenization_marker.MarkerTokenizer"
    (folder / "tokenizer_config.json").write_text(
        json.dumps({"tokenizer_class": "MarkerTokenizer", "auto_map": {"AutoTokenizer": [reference, reference]}}), encoding="utf-8"
    )
    shutil.copy(MARKER_CODE / "tokenization_marker.py", folder / "tokenization_marker.py")
    (folder / "model.safetensors").write_bytes(b"")
    return folder


# -- keeping the tests' caches to themselves ---------------------------------------------


@contextlib.contextmanager
def isolate_hf_caches(root: str | Path):
    """Point the Hugging Face caches (hub, remote-code modules) and the app's cache at `root`.

    transformers and huggingface_hub read these paths once, at import, so the module constants
    are patched along with the environment; remote-code modules imported meanwhile are dropped
    from `sys.modules` afterwards.
    """
    import huggingface_hub.constants as hub_constants
    import pytest
    import transformers.dynamic_module_utils as dynamic_module_utils
    import transformers.utils.hub as transformers_hub

    root = Path(root)
    hub_cache, modules_cache = root / "hf" / "hub", root / "hf" / "modules"
    hub_cache.mkdir(parents=True, exist_ok=True)
    modules_cache.mkdir(parents=True, exist_ok=True)

    def remote_modules():
        return [name for name in sys.modules if name == "transformers_modules" or name.startswith("transformers_modules.")]

    saved_modules = {name: sys.modules.pop(name) for name in remote_modules()}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_HOME", str(root / "hf"))
        patch.setenv("HF_HUB_CACHE", str(hub_cache))
        patch.setenv("HF_MODULES_CACHE", str(modules_cache))
        patch.setenv("XDG_CACHE_HOME", str(root / "cache"))
        patch.setenv("HF_HUB_OFFLINE", "1")
        patch.setattr(hub_constants, "HF_HOME", str(root / "hf"))
        patch.setattr(hub_constants, "HF_HUB_CACHE", str(hub_cache))
        patch.setattr(hub_constants, "HF_HUB_OFFLINE", True)
        patch.setattr(transformers_hub, "_is_offline_mode", True)
        patch.setattr(transformers_hub, "TRANSFORMERS_CACHE", str(hub_cache))
        patch.setattr(transformers_hub, "HF_MODULES_CACHE", str(modules_cache))
        patch.setattr(dynamic_module_utils, "HF_MODULES_CACHE", str(modules_cache))
        # First on the path, so that `transformers_modules` is found here and nowhere else.
        patch.syspath_prepend(str(modules_cache))
        try:
            yield hub_cache, modules_cache
        finally:
            for name in remote_modules():
                del sys.modules[name]
            sys.modules.update(saved_modules)
