"""Backends for transformers' own video models (LLaVA-OneVision, Qwen2-VL): AutoProcessor, chat template, generate.

The model gets exactly the frames the core sampled (`prepared.pixel_values`, uint8 T x H x W x 3), so the
times the app shows are the times the model saw; its processor only resizes and normalises them.

Follow-up questions reuse the key/value cache. After each answer the conversation keeps the token ids of
everything said so far and the `DynamicCache` that holds their keys and values. A follow-up renders the whole
conversation again, keeps the part of the cache that matches it token for token (the video, the earlier turns)
and feeds the model only the rest, so the vision tower does not run again and the video's thousands of tokens
are not read again. Greedy answers are the same as without the cache.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

from videochat.backends.base import (
    Backend,
    Capabilities,
    Conversation,
    GenerationSettings,
    LoadOptions,
    Turn,
)
from videochat.backends.streaming import StreamedCall, free_cached_memory, is_out_of_memory, load_out_of_memory
from videochat.backends.loading import (
    model_location,
    quantization_config,
    resolve_device,
    resolve_precision,
)
from videochat.models.resolve import ModelRef
from videochat.errors import ModelLoadError, UnsupportedSetting

ATTENTION = {"sdpa": "sdpa", "eager": "eager", "flash": "flash_attention_2"}

# What a broken folder raises inside from_pretrained: missing files (OSError), configs that do not
# describe the weights (ValueError, KeyError, TypeError), weights of the wrong shape (RuntimeError).
LOAD_FAILURES = (OSError, ValueError, KeyError, TypeError, RuntimeError)


@dataclass
class NativeState:
    """What a conversation keeps between questions (`Conversation.state`)."""

    prepared: Any  # the PreparedVideo these were made from
    video_inputs: dict  # the processor's video tensors (pixel_values_videos, ...), on the CPU
    video_token_count: int  # how many tokens the video's placeholder stands for
    cached_ids: Any = None  # 1 x L token ids whose keys and values `cache` holds
    cache: Any = None  # DynamicCache after the last answer; None when it cannot be trusted


@dataclass
class Request:
    """One call of generate: the whole conversation's ids, and how much of it the cache already holds."""

    input_ids: Any
    reused: int  # tokens taken from the cache (0: everything is computed, video included)


class NativeBackend(Backend):
    """A transformers model with a video processor and a chat template; subclasses name the model class."""

    capabilities = Capabilities(reuses_kv_cache=True, quantization=("8bit", "4bit"))
    model_class_name: str = ""

    def __init__(self, ref: ModelRef, options: LoadOptions = LoadOptions()):
        super().__init__(ref, options)
        self.processor = None

    # -- loading ---------------------------------------------------------------------------

    def load(self, progress=None) -> None:
        report = progress or (lambda what, fraction: None)
        location = model_location(self.ref)
        self.device = resolve_device(self.options.device)
        self.dtype, quantization = resolve_precision(self.device, self.options.precision, self.ref)
        report("Loading the processor", 0.1)
        self.processor = self._load_processor(location)
        report("Loading the weights", 0.3)
        self.model = self._load_model(location, quantization)
        report("Ready", 1.0)

    def _load_processor(self, location: str):
        from transformers import AutoProcessor

        try:
            # Never the folder's own code: these are transformers' classes (consent.py covers the remote-code backends).
            return AutoProcessor.from_pretrained(location, local_files_only=True, trust_remote_code=False)
        except LOAD_FAILURES as error:
            raise ModelLoadError(f"The processor (tokenizer, image settings) of {self.ref.display_name} does not load: {error}") from error

    def _load_model(self, location: str, quantization: str | None):
        import transformers

        model_class = getattr(transformers, self.model_class_name)
        kwargs: dict[str, Any] = {"torch_dtype": self.dtype, "local_files_only": True, "trust_remote_code": False}
        if quantization is not None:
            # bitsandbytes places the weights itself: a quantised model cannot be moved with .to().
            kwargs.update(quantization_config=quantization_config(quantization), device_map={"": self.device})
        try:
            model = self._from_pretrained(model_class, location, kwargs)
        except LOAD_FAILURES as error:
            if is_out_of_memory(error):
                raise load_out_of_memory(self.ref.display_name) from error
            raise ModelLoadError(
                f"{self.ref.display_name} does not load from {location}: {error}. Its files may be incomplete: download it again."
            ) from error
        if quantization is None:
            model = model.to(self.device)
        return model.eval()

    def _from_pretrained(self, model_class, location: str, kwargs: dict):
        requested = self.options.attention
        if requested == "flash":
            try:
                return model_class.from_pretrained(location, attn_implementation=ATTENTION[requested], **kwargs)
            except (ImportError, ValueError) as error:
                raise UnsupportedSetting(f"Flash attention cannot be used here ({error}): choose sdpa or auto.") from error
        if requested != "auto":
            if requested not in ATTENTION:
                raise UnsupportedSetting(f"{requested!r} is not an attention setting: use auto, flash, sdpa or eager.")
            return model_class.from_pretrained(location, attn_implementation=ATTENTION[requested], **kwargs)
        try:
            return model_class.from_pretrained(location, attn_implementation="sdpa", **kwargs)
        except ValueError as error:
            if "sdpa" not in str(error).lower():
                raise
            return model_class.from_pretrained(location, attn_implementation="eager", **kwargs)

    def _release(self) -> None:
        self.model = None
        self.processor = None
        free_cached_memory()

    # -- answering -------------------------------------------------------------------------

    @property
    def tokenizer_for_text(self):
        return self.processor.tokenizer if self.processor is not None else None

    def stream(self, conversation: Conversation, question: str, settings: GenerationSettings = GenerationSettings()) -> Iterator[str]:
        self._require_loaded()
        question = self.check_question(question)
        self._conversations.add(conversation)
        self._stop.clear()
        request = self._request(conversation, question)
        state: NativeState = conversation.state
        # The cache is cropped in place and a failed generate may leave some layers longer than others:
        # it is kept again only once generate has succeeded, so that it always holds `cached_ids`.
        cache, state.cache = state.cache if request.reused else None, None
        call = StreamedCall(partial(self._generate, state, request, cache, settings), self.processor.tokenizer, self._stop)
        pieces: list[str] = []
        try:
            for piece in call:
                pieces.append(piece)
                yield piece
        finally:
            # Also when the caller walks away mid-answer: generate has stopped by then, and what it said is kept.
            if call.result is not None:
                self._keep_cache(state, call.result)
                conversation.turns.append(Turn(question, "".join(pieces), stopped=self._stop.is_set()))

    def _request(self, conversation: Conversation, question: str) -> Request:
        """The whole conversation with `question` as token ids, the video's placeholder expanded."""
        import torch

        messages = self._messages(conversation.turns, question)
        prompt = self.processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        if conversation.state is None or conversation.state.prepared is not conversation.prepared:
            conversation.state, input_ids = self._process_video(conversation, prompt)
            return Request(input_ids, reused=0)
        state: NativeState = conversation.state
        ids = self.processor.tokenizer(prompt, return_tensors="pt")["input_ids"]
        input_ids = self._expand_video_tokens(ids, state.video_token_count)
        reused = self._reusable_length(state, input_ids)
        return Request(input_ids.to(torch.long), reused)

    def _messages(self, turns: list[Turn], question: str) -> list[dict]:
        """The chat in the processor's format; the video belongs to the first question only."""
        messages = []
        for number, text in enumerate([*(turn.question for turn in turns), question]):
            content = [{"type": "text", "text": text}]
            if number == 0:
                content.insert(0, {"type": "video"})
            messages.append({"role": "user", "content": content})
            if number < len(turns):
                messages.append({"role": "assistant", "content": [{"type": "text", "text": turns[number].answer}]})
        return messages

    def _process_video(self, conversation: Conversation, prompt: str):
        """(the conversation's state, the prompt's ids): the processor sees the core's frames once per conversation."""
        frames = self._frames_for_processor(conversation.prepared.pixel_values)
        inputs = self.processor(text=prompt, videos=frames, return_tensors="pt")
        input_ids = inputs.pop("input_ids")
        inputs.pop("attention_mask", None)
        count = int((input_ids == self._video_token_id).sum())
        return NativeState(conversation.prepared, dict(inputs), count), input_ids

    def _frames_for_processor(self, pixel_values):
        """The sampled frames as the processor takes a video: a uint8 T x H x W x 3 array."""
        return pixel_values.numpy() if hasattr(pixel_values, "numpy") else pixel_values

    @property
    def _video_token_id(self) -> int:
        return self.processor.tokenizer.convert_tokens_to_ids(self.processor.video_token)

    def _expand_video_tokens(self, ids, count: int):
        """Replace the one video placeholder with `count` of them, as the processor does in text."""
        import torch

        positions = (ids[0] == self._video_token_id).nonzero().flatten()
        if len(positions) != 1:
            raise ValueError(f"the chat template wrote {len(positions)} video placeholders, not one")
        at = int(positions[0])
        video = torch.full((1, count), self._video_token_id, dtype=ids.dtype)
        return torch.cat([ids[:, :at], video, ids[:, at + 1 :]], dim=1)

    def _reusable_length(self, state: NativeState, input_ids) -> int:
        """How many leading tokens the cache can supply; the video is among them, as it precedes every question."""
        if state.cache is None:
            return 0
        common = common_prefix_length(state.cached_ids[0], input_ids[0])
        return min(common, input_ids.shape[1] - 1)  # generate needs at least one new token to read

    def _generate(self, state: NativeState, request: Request, cache, settings: GenerationSettings, streamer, criteria):
        from transformers import DynamicCache

        input_ids = request.input_ids.to(self.device)
        inputs: dict[str, Any] = {"input_ids": input_ids, "attention_mask": input_ids.new_ones(input_ids.shape)}
        if request.reused:
            cache.crop(request.reused)
            self._before_reuse(state, input_ids)
        else:
            cache = DynamicCache()
            inputs.update(self._video_tensors(state))
        return self.model.generate(
            **inputs,
            **settings.as_kwargs(),
            past_key_values=cache,
            use_cache=True,
            return_dict_in_generate=True,
            streamer=streamer,
            stopping_criteria=criteria,
            pad_token_id=self.processor.tokenizer.pad_token_id,
        )

    def _video_tensors(self, state: NativeState) -> dict:
        moved = {}
        for name, tensor in state.video_inputs.items():
            # Pixels take the model's precision; grids and sizes stay integers.
            moved[name] = tensor.to(self.device, self.dtype) if tensor.is_floating_point() else tensor.to(self.device)
        return moved

    def _before_reuse(self, state: NativeState, input_ids) -> None:
        """Anything the model must know about the cached part before it reads only the rest."""

    def _keep_cache(self, state: NativeState, output) -> None:
        cache = output.past_key_values
        state.cache = cache
        # The last token generated was never fed back, so the cache ends one short of the sequence.
        state.cached_ids = output.sequences[:, : cache.get_seq_length()].cpu()


def common_prefix_length(first, second) -> int:
    """How many leading entries two 1-D tensors share."""
    length = min(len(first), len(second))
    differ = (first[:length].cpu() != second[:length].cpu()).nonzero()
    return int(differ[0]) if len(differ) else length


class LlavaOneVisionBackend(NativeBackend):
    name = "llava-onevision"
    model_class_name = "LlavaOnevisionForConditionalGeneration"


# Qwen2-VL's card (qwen-vl-utils 0.0.8, fetch_video) resizes a video's frames to a pixel budget that
# shrinks as frames are added, before its processor sees them; the processor alone would keep up to
# 1.3 megapixels a frame (38,000 tokens for 64 frames of 720p).
QWEN_VIDEO_MIN_PIXELS = 128 * 28 * 28
QWEN_VIDEO_MAX_PIXELS = 768 * 28 * 28
QWEN_VIDEO_TOTAL_PIXELS = 24576 * 28 * 28
QWEN_FRAME_FACTOR = 2  # frames per temporal patch


class Qwen2VLBackend(NativeBackend):
    name = "qwen2-vl"
    model_class_name = "Qwen2VLForConditionalGeneration"

    def _frames_for_processor(self, pixel_values):
        import torch

        frames = torch.as_tensor(pixel_values)
        height, width = self._card_frame_size(*frames.shape[:3])
        if (height, width) == tuple(frames.shape[1:3]):
            return frames.numpy()
        # The card resizes with torchvision (bicubic, antialiased); this is the same filter without it.
        resized = torch.nn.functional.interpolate(
            frames.permute(0, 3, 1, 2).float(), size=(height, width), mode="bicubic", antialias=True, align_corners=False
        )
        return resized.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).contiguous().numpy()

    def _card_frame_size(self, count: int, height: int, width: int) -> tuple[int, int]:
        from transformers.models.qwen2_vl.image_processing_qwen2_vl import smart_resize

        image_processor = self.processor.image_processor
        budget = max(min(QWEN_VIDEO_MAX_PIXELS, QWEN_VIDEO_TOTAL_PIXELS / count * QWEN_FRAME_FACTOR), int(QWEN_VIDEO_MIN_PIXELS * 1.05))
        # A checkpoint whose processor allows fewer pixels (the tests' tiny ones) keeps its own limit.
        max_pixels = min(budget, image_processor.max_pixels)
        min_pixels = min(QWEN_VIDEO_MIN_PIXELS, max_pixels)
        factor = image_processor.patch_size * image_processor.merge_size
        return smart_resize(height, width, factor=factor, min_pixels=min_pixels, max_pixels=max_pixels)

    def _load_model(self, location: str, quantization: str | None):
        model = super()._load_model(location, quantization)
        if model.config.vision_config._attn_implementation != "flash_attention_2":
            run_vision_one_time_step_at_a_time(model.visual)
        return model

    def _before_reuse(self, state: NativeState, input_ids) -> None:
        # Qwen2-VL numbers text after a video by the video's grid, not by token count, and keeps the offset
        # (rope_deltas) from the last prefill on the model; another conversation may have set it since.
        _, deltas = self.model.get_rope_index(
            input_ids, None, state.video_inputs["video_grid_thw"].to(input_ids.device), input_ids.new_ones(input_ids.shape)
        )
        self.model.rope_deltas = deltas


def run_vision_one_time_step_at_a_time(visual) -> None:
    """Make Qwen2-VL's vision tower take a video one temporal patch (two frames) at a time.

    Its patches attend only within their own time step, but outside flash attention transformers
    (4.48) computes that as one attention over all the video's patches with a block mask: 32 frames
    at the card's budget are 25,000 patches, a 25,000 x 25,000 product per head. Step by step the
    result is the same (positions inside the tower depend on height and width only) for 1/T of it.
    """
    import torch

    whole_video_forward = visual.forward

    def forward(hidden_states, grid_thw):
        outputs, start = [], 0
        for steps, height, width in grid_thw.tolist():
            step_grid = torch.tensor([[1, height, width]], dtype=grid_thw.dtype, device=grid_thw.device)
            for _ in range(steps):
                outputs.append(whole_video_forward(hidden_states[start : start + height * width], grid_thw=step_grid))
                start += height * width
        return torch.cat(outputs)

    visual.forward = forward
