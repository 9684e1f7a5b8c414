"""InternVL2 (every backbone) and InternVideo2.5: the checkpoints' own remote code, called as their cards do.

The first question goes to `chat(tokenizer, pixel_values, question, generation_config,
num_patches_list=..., history=..., return_history=True)` as `Frame1: <image>\\nFrame2: ...` +
the question; follow-ups are the plain question with the same frames and the history `chat`
returned (the earlier questions keep their `<image>` places, which `chat` fills again). Its call
of the model's `generate` is taken over (chat_cache.py) so that a follow-up reads only what the
conversation's key/value cache does not hold: the prompt is still chat()'s own. A checkpoint whose class has only `chat(video_path=..., user_prompt=..., max_num_frames=...)`
(VideoChat-Flash style) is called that way instead, without the cache.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from functools import partial
from typing import Any

from videochat.backends.base import Capabilities, GenerationSettings, Progress
from videochat.backends.chat_cache import GenerateCall, generation_reusing
from videochat.backends.consent import check_consent
from videochat.backends.loading import model_location, quantization_config, resolve_device, resolve_precision
from videochat.backends.remote_code import (
    RemoteChatBackend,
    RemoteChatState,
    check_model_files,
    flash_attn_installed,
    no_progress,
    remote_code_loading,
)
from videochat.errors import ModelLoadError, UnsupportedSetting
from videochat.frames.pipeline import PreparedVideo


# -- InternVL2 / InternVideo2.5 ------------------------------------------------------------


def frame_prefix(num_frames: int) -> str:
    """The card's video prompt: `Frame1: <image>\\nFrame2: <image>\\n...`, one `<image>` per frame."""
    return "".join(f"Frame{i + 1}: <image>\n" for i in range(num_frames))


def chat_style(model) -> str:
    """'pixels' for InternVL's chat(tokenizer, pixel_values, question, ...), 'video_path' for VideoChat-Flash's.

    InternVL's call is preferred where a class has both: it sees exactly the frames the app
    sampled (and shows the times of).
    """
    chat = getattr(model, "chat", None)
    if chat is None:
        raise ModelLoadError(f"{type(model).__name__} has no chat() method: it is not an InternVL-style model.")
    parameters = inspect.signature(chat).parameters
    if "pixel_values" in parameters:
        return "pixels"
    if "video_path" in parameters:
        return "video_path"
    raise ModelLoadError(f"{type(model).__name__}.chat() takes neither pixel_values nor video_path: this app cannot call it.")


def generate_call(model, pixel_values=None, input_ids=None, attention_mask=None, visual_features=None, **settings) -> GenerateCall:
    """What chat() asks of the model's generate: the frames go where chat() wrote its IMG_CONTEXT token (it sets the id first)."""
    return GenerateCall(input_ids, input_ids == model.img_context_token_id, settings)


class InternVLBackend(RemoteChatBackend):
    name = "internvl"
    # The cache is reused through chat(pixel_values, ...); the video_path form reads the file itself on every call.
    capabilities = Capabilities(streaming=True, multi_turn=True, reuses_kv_cache=True, quantization=("8bit", "4bit"))
    inner_language_model = "language_model"
    media_markers = ("<image>",)  # chat() turns each into a frame's tokens, left to right

    def load(self, progress: Progress | None = None) -> None:
        report: Callable[[str, float], None] = progress or no_progress
        device = resolve_device(self.options.device)
        dtype, quantization = resolve_precision(device, self.options.precision, self.ref)
        use_flash_attn = self._use_flash_attn()
        location = model_location(self.ref)
        check_model_files(location, self.ref)
        code = check_consent(self.ref, self.options.trust_remote_code, self.options.approved_code, location)

        from transformers import AutoModel, AutoTokenizer

        report("Reading the tokenizer", 0.05)
        with remote_code_loading(location, self.ref, code):
            # use_fast=False as the cards say; local_files_only, or transformers asks [y/N] on the terminal.
            tokenizer = AutoTokenizer.from_pretrained(location, trust_remote_code=True, use_fast=False, local_files_only=True)
            report("Loading the weights", 0.2)
            kwargs: dict[str, Any] = dict(
                trust_remote_code=True, torch_dtype=dtype, local_files_only=True, low_cpu_mem_usage=True, use_flash_attn=use_flash_attn
            )
            if quantization is not None:
                kwargs.update(quantization_config=quantization_config(quantization), device_map={"": device.index or 0})
            model = AutoModel.from_pretrained(location, **kwargs)
            if quantization is None:
                model = model.to(device)
            style = chat_style(model)
        self.model, self.tokenizer, self.device, self.dtype = model.eval(), tokenizer, device, dtype
        self._chat_style = style
        report("Ready", 1.0)

    def _use_flash_attn(self) -> bool:
        attention = self.options.attention
        if attention == "flash" and not flash_attn_installed():
            raise UnsupportedSetting("flash attention needs the flash-attn package (pip install flash-attn), on a CUDA GPU.")
        return attention in ("auto", "flash") and flash_attn_installed()

    def _asked(self, prepared: PreparedVideo, number: int, question: str) -> str:
        pixels = self._chat_style != "video_path"
        return frame_prefix(len(prepared.num_patches_list)) + question if pixels and number == 0 else question

    def _chat(self, prepared: PreparedVideo, state: RemoteChatState, question: str, settings: GenerationSettings):
        if self._chat_style == "video_path":
            return self._chat_by_path(prepared, state, question, settings)
        patches = list(prepared.num_patches_list)
        prompt = question if state.history else frame_prefix(len(patches)) + question
        language_model = getattr(self.model, self.inner_language_model)
        with generation_reusing(self.model, "generate", language_model, state.memory, partial(generate_call, self.model)):
            return self.model.chat(
                self.tokenizer,
                state.media,
                prompt,
                settings.as_kwargs(),  # fresh: chat() writes eos_token_id into it
                history=list(state.history),
                return_history=True,
                num_patches_list=patches,
            )

    def _chat_by_path(self, prepared: PreparedVideo, state: RemoteChatState, question: str, settings: GenerationSettings):
        # This form reads and samples the file itself: it needs the path, and the frames it sees
        # are its own choice of `max_num_frames`, not necessarily the ones the app sampled.
        path = prepared.path
        if path is None:
            raise UnsupportedSetting(
                f"{self.ref.display_name} reads the video file itself (chat(video_path=...)), and this prepared video does not "
                "say which file it came from."
            )
        return self.model.chat(
            video_path=str(path),
            tokenizer=self.tokenizer,
            user_prompt=question,
            chat_history=list(state.history),
            return_history=True,
            max_num_frames=len(prepared.indices),
            generation_config=settings.as_kwargs(),
        )
