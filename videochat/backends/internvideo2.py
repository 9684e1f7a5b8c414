"""InternVideo2-Chat and InternVideo2-Chat-HD: the checkpoints' own remote code, called as their cards do.

`chat(tokenizer, msg, question, media_type='video', media_tensor=..., chat_history=...,
return_history=True, generation_config=...)` with the card's "The video contains N frames
sampled at ..." as `msg`, the frames as the card's `load_video` returns them (T x 3 x 224 x
224; HD: 1 x 3 x T x 3 x 224 x 224), and the history passed every time: its default is a
shared mutable list that would carry one conversation into the next. Its prompt puts the video
first and appends each turn, so follow-ups reuse the key/value cache: its call of
`generate_caption` is taken over (chat_cache.py) and a follow-up skips the vision encoder.

Loading handles what this code needs (measured on the real checkpoints): every code file
copied into the module cache first (transformers copies only the entry module's direct
imports from a local folder), flash_attn left out of transformers' import check, a failed
attempt's module cache removed, the bert-base-uncased tokenizer/config and the Mistral config
it builds itself from read offline from the Hugging Face cache, and no `low_cpu_mem_usage`
(its constructor computes from weights, which fails on the meta device).
"""

from __future__ import annotations

import inspect
from typing import Any

from videochat.backends.base import Capabilities, GenerationSettings, Progress
from videochat.backends.chat_cache import GenerateCall, generation_reusing
from videochat.backends.remote_code import RemoteChatBackend, RemoteChatState, check_model_files, no_progress, remote_code_loading
from videochat.backends.consent import check_consent
from videochat.backends.loading import model_location, resolve_device, resolve_precision
from videochat.models.model_json import config_value
from videochat.models.resolve import ModelRef
from videochat.errors import UnsupportedSetting
from videochat.frames.pipeline import PreparedVideo

# The only generation settings its chat() passes on (generate_caption's parameters).
CHAT_GENERATION_KEYS = ("num_beams", "max_new_tokens", "do_sample", "top_p", "top_k", "temperature", "length_penalty", "repetition_penalty")

# Its code builds the Q-Former's tokenizer and config from this repo, by this name.
QFORMER_REPO = "bert-base-uncased"


def repos_read_at_load(ref: ModelRef) -> tuple[str, ...]:
    """The hub repos the code reads while it builds itself, by the names it asks for them (the cache's names)."""
    names = [QFORMER_REPO]
    llm = config_value(config_value(ref.config, "model_config", dict, {}), "llm", dict, {})
    llm_path = config_value(llm, "pretrained_llm_path", str, None)
    if llm_path:
        names.append(llm_path)
    if ref.entry is not None:
        names.extend(ref.entry.extra_repos)
    return tuple(dict.fromkeys(names))


def chat_generation_config(settings: GenerationSettings) -> dict[str, Any]:
    config = {key: value for key, value in settings.as_kwargs().items() if key in CHAT_GENERATION_KEYS}
    if not config.get("do_sample"):
        # generate_caption's own default top_p=0.9 would make greedy decoding warn on every call.
        config.setdefault("top_p", 1.0)
    return config


def caption_call_reader(generate_caption):
    """What chat() asks of generate_caption(input_ids, attention_mask, image_idx, video_idx, image, video, <settings>)."""
    import torch

    signature = inspect.signature(generate_caption)

    def read(*args, **kwargs) -> GenerateCall:
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        arguments = bound.arguments
        input_ids = arguments["input_ids"]
        slots = arguments.get("video_idx") if arguments.get("video") is not None else arguments.get("image_idx")
        frames = torch.zeros_like(input_ids, dtype=torch.bool) if slots is None else slots.to(torch.bool)
        # Its own min_length=1 changes nothing either way: transformers counts the prompt in it.
        return GenerateCall(input_ids, frames, {key: arguments[key] for key in CHAT_GENERATION_KEYS if key in arguments})

    return read


class InternVideo2Backend(RemoteChatBackend):
    name = "internvideo2"
    # 8-bit/4-bit loading builds the model on the meta device, which its constructor cannot survive.
    capabilities = Capabilities(streaming=True, multi_turn=True, reuses_kv_cache=True, quantization=())
    inner_language_model = "lm"
    media_markers = ("[<VID_PLH>]", "[<IMG_PLH>]")  # where chat() splits the prompt to put the video in

    def load(self, progress: Progress | None = None) -> None:
        report = progress or no_progress
        device = resolve_device(self.options.device)
        dtype, quantization = resolve_precision(device, self.options.precision, self.ref)
        if quantization is not None:
            raise UnsupportedSetting(f"{self.ref.display_name} cannot be loaded in {quantization}: use bfloat16 or float16.")
        if self.options.attention == "flash":
            raise UnsupportedSetting(f"{self.ref.display_name} chooses its own attention: leave the attention setting on auto.")
        location = model_location(self.ref)
        check_model_files(location, self.ref)
        code = check_consent(self.ref, self.options.trust_remote_code, self.options.approved_code, location)

        from transformers import AutoModel, AutoTokenizer

        report("Reading the tokenizer", 0.05)
        with remote_code_loading(location, self.ref, code, needs=repos_read_at_load(self.ref)):
            tokenizer = AutoTokenizer.from_pretrained(location, trust_remote_code=True, use_fast=False, local_files_only=True)
            report("Building the model", 0.2)
            model = AutoModel.from_pretrained(location, trust_remote_code=True, torch_dtype=dtype, local_files_only=True, low_cpu_mem_usage=False)
            # Its LLM is built from a config that asks for bfloat16: one dtype for the whole model.
            model = model.to(device=device, dtype=dtype)
        self.model, self.tokenizer, self.device, self.dtype = model.eval(), tokenizer, device, dtype
        report("Ready", 1.0)

    def _chat(self, prepared: PreparedVideo, state: RemoteChatState, question: str, settings: GenerationSettings):
        language_model = getattr(self.model, self.inner_language_model)
        read_call = caption_call_reader(self.model.generate_caption)
        with generation_reusing(self.model, "generate_caption", language_model, state.memory, read_call):
            return self._chat_as_card(prepared, state, question, settings)

    def _chat_as_card(self, prepared: PreparedVideo, state: RemoteChatState, question: str, settings: GenerationSettings):
        return self.model.chat(
            self.tokenizer,
            prepared.sample.message or "",
            question,
            media_type="video",
            media_tensor=state.media,
            chat_history=list(state.history),
            return_history=True,
            generation_config=chat_generation_config(settings),
        )
