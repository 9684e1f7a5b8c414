"""Backends of the families that run in the "current" runtime (transformers 5.x): Qwen2.5-VL, Qwen3-VL, InternVL3.

They are the native backends (`native.py`: AutoProcessor, chat template, generate, the key/value cache kept
between questions) with what transformers 5.x and these models change:

- Frames stay the app's: the processor gets exactly the sampled frames (`do_sample_frames=False`: it never
  samples or decodes) with `video_metadata` that describes them, so that the model's own time marks are the
  frames' true times (`video_metadata` below). Without it Qwen3-VL would assume 24 fps.
- A follow-up's prompt is the whole conversation again, with the video's part as the processor expanded it
  the first time (Qwen3-VL's `<t seconds>` marks and per-frame tokens, InternVL's `Frame1: <img>...`),
  tokenized as the processor would; the cache supplies everything up to the new text.
- Qwen's multimodal positions: the offset left on the model by the last prefill is set again for this
  conversation before its cache is reused (another conversation may have run since).

Nothing of transformers is imported here at module level: the seed runtime imports the core too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from videochat.backends.native import NativeBackend, NativeState, Request

# Qwen3-VL writes its time marks to 0.1 s: a model's time for a frame within half of that is the frame's time.
TIME_PRECISION = 0.05

# transformers 5 renamed from_pretrained's torch_dtype (still accepted, with a warning).
RENAMED_LOAD_KWARGS = {"torch_dtype": "dtype"}


@dataclass
class CurrentState(NativeState):
    """A native conversation's state, and the video's part of the prompt as the processor wrote it."""

    prompt_before: str = ""  # the first prompt's text up to the video's part (the same in every later prompt)
    replaced: str = ""  # the template's text there, which the processor replaced ...
    expanded: str | None = None  # ... with this (None: it could not be recovered exactly; every question reads the video)
    token_types: dict | None = None  # token id -> mm_token_type_ids value, for the ids that are not text
    model_times: list[float] | None = None  # the time the model was told for each frame (Qwen3-VL: per two frames)


class CurrentBackend(NativeBackend):
    """A transformers 5.x video model fed the app's frames with their true times."""

    processor_kwargs: dict = {}

    def _from_pretrained(self, model_class, location: str, kwargs: dict):
        kwargs = {RENAMED_LOAD_KWARGS.get(key, key): value for key, value in kwargs.items()}
        return super()._from_pretrained(model_class, location, kwargs)

    # -- the video, once per conversation ----------------------------------------------------

    def _process_video(self, conversation, prompt: str):
        prepared = conversation.prepared
        frames = self._frames_for_processor(prepared.pixel_values)
        metadata = self.video_metadata(prepared.times, frames.shape)
        inputs = self.processor(
            text=prompt, videos=[frames], video_metadata=[metadata], do_sample_frames=False, return_tensors="pt", **self.processor_kwargs
        )
        input_ids = inputs.pop("input_ids")
        inputs.pop("attention_mask", None)
        token_types = inputs.pop("mm_token_type_ids", None)
        inputs.pop("video_metadata", None)
        count = int((input_ids == self._video_token_id).sum())
        state = CurrentState(prepared, dict(inputs), count)
        state.token_types = self._token_type_table(input_ids, token_types)
        self._remember_expansion(state, prompt, input_ids)
        state.model_times = self.told_times(prepared.times)
        return state, input_ids

    def video_metadata(self, times, shape) -> dict:
        """What the processor is told about the frames it gets: their count and rate, and their times.

        transformers reads a frame's time as `frames_indices[i] / fps`; positions counted at `fps` whose
        time is the frame's true time make that exact whatever the clip's rate (see Qwen3VLBackend).
        """
        fps = self.frames_rate(times)
        return {
            "total_num_frames": len(times),
            "fps": fps,
            "duration": len(times) / fps,
            "frames_indices": [float(time) * fps for time in times],
            "height": int(shape[1]),
            "width": int(shape[2]),
        }

    def frames_rate(self, times) -> float:
        """The frames' mean rate (frames a second between the first and the last), the card's 2 when it has none."""
        span = float(times[-1]) - float(times[0])
        return (len(times) - 1) / span if len(times) > 1 and span > 0 else 2.0

    def told_times(self, times) -> list[float] | None:
        """The times the model reads (per frame, or per two frames for Qwen3-VL); None: no time marks (InternVL3)."""
        return None

    def model_times(self, conversation) -> list[float] | None:
        state = conversation.state
        told, times = getattr(state, "model_times", None), conversation.prepared.times
        if told is None or len(told) != len(times):  # none, or Qwen3-VL's marks, written from the true times
            return None
        if max(abs(float(a) - float(b)) for a, b in zip(told, times)) <= TIME_PRECISION:
            return None
        return [round(float(time), 6) for time in told]

    def _token_type_table(self, input_ids, token_types) -> dict | None:
        if token_types is None:
            return None
        table: dict = {}
        for token, kind in zip(input_ids[0].tolist(), token_types[0].tolist()):
            if kind:
                table.setdefault(token, kind)
        return table

    def _remember_expansion(self, state: CurrentState, prompt: str, input_ids) -> None:
        """Find the text the processor put in place of the video's marker, and check it tokenizes back to the same ids."""
        text = self.processor.tokenizer.decode(input_ids[0], skip_special_tokens=False, clean_up_tokenization_spaces=False)
        before = common_prefix(prompt, text)
        after = common_prefix(prompt[before:][::-1], text[before:][::-1])
        state.prompt_before = prompt[:before]
        state.replaced = prompt[before : len(prompt) - after]
        expanded = text[before : len(text) - after]
        again = self.processor.tokenizer(text, return_tensors="pt", add_special_tokens=False)["input_ids"]
        if again.shape == input_ids.shape and bool((again == input_ids).all()):
            state.expanded = expanded

    # -- follow-ups -------------------------------------------------------------------------

    def _request(self, conversation, question: str) -> Request:
        state = conversation.state
        if state is None or state.prepared is not conversation.prepared or state.expanded is None:
            if state is not None:
                conversation.state = None  # read the video again: its expansion cannot be rebuilt from text
            return super()._request(conversation, question)
        import torch

        messages = self._messages(conversation.turns, question)
        prompt = self.processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        at = len(state.prompt_before)
        if prompt[:at] != state.prompt_before or prompt[at : at + len(state.replaced)] != state.replaced:
            conversation.state = None
            return super()._request(conversation, question)
        text = prompt[:at] + state.expanded + prompt[at + len(state.replaced) :]
        input_ids = self.processor.tokenizer(text, return_tensors="pt", add_special_tokens=False)["input_ids"].to(torch.long)
        return Request(input_ids, self._reusable_length(state, input_ids))

    def _token_types(self, state: CurrentState, input_ids):
        import torch

        types = torch.zeros_like(input_ids)
        for token, kind in (state.token_types or {}).items():
            types[input_ids == token] = kind
        return types

    def _generate(self, state: CurrentState, request: Request, cache, settings, streamer, criteria):
        input_ids = request.input_ids.to(self.device)
        inputs: dict[str, Any] = {"input_ids": input_ids, "attention_mask": input_ids.new_ones(input_ids.shape)}
        if request.reused:
            surplus = cache.get_seq_length() - request.reused
            if surplus:
                cache.crop(-surplus)  # transformers 5 counts what to remove, no longer what to keep
            inputs["cache"] = cache
            self._before_reuse(state, input_ids)
        else:
            inputs.update(self._video_tensors(state))
            if state.token_types is not None:
                inputs["mm_token_type_ids"] = self._token_types(state, input_ids)
        return self.model.generate(
            **inputs,
            **settings.as_kwargs(),
            use_cache=True,
            return_dict_in_generate=True,
            streamer=streamer,
            stopping_criteria=criteria,
            pad_token_id=self.processor.tokenizer.pad_token_id,
        )

    def _keep_cache(self, state: NativeState, output) -> None:
        cache = output.cache
        state.cache = cache
        # The last token generated was never fed back, so the cache ends one short of the sequence.
        state.cached_ids = output.sequences[:, : cache.get_seq_length()].cpu()


def common_prefix(first: str, second: str) -> int:
    """How many leading characters two strings share."""
    length = min(len(first), len(second))
    for position in range(length):
        if first[position] != second[position]:
            return position
    return length


class QwenBackend(CurrentBackend):
    """Qwen2.5-VL and Qwen3-VL: the card's pixel budget, and multimodal positions to set again before a reuse."""

    # qwen-vl-utils' per-frame budget (fetch_video): the processors do it themselves when asked.
    processor_kwargs = {"cap_pixels_per_frame": True}

    def _before_reuse(self, state: NativeState, input_ids) -> None:
        inner = self.model.model
        video = {name: value.to(input_ids.device) for name, value in state.video_inputs.items() if name.endswith("grid_thw")}
        if "second_per_grid_ts" in state.video_inputs:
            video["second_per_grid_ts"] = state.video_inputs["second_per_grid_ts"]
        _, deltas = inner.get_rope_index(
            input_ids, mm_token_type_ids=self._token_types(state, input_ids), attention_mask=input_ids.new_ones(input_ids.shape), **video
        )
        inner.rope_deltas = deltas


class Qwen25VLBackend(QwenBackend):
    """Qwen2.5-VL reads time as positions: each two-frame step is `2 / fps` seconds, fps the frames' mean rate here."""

    name = "qwen2.5-vl"
    model_class_name = "Qwen2_5_VLForConditionalGeneration"

    def told_times(self, times) -> list[float]:
        """The times its positions say: evenly spaced from the first frame at the mean rate (true times on constant-rate video)."""
        start, step = float(times[0]), 1.0 / self.frames_rate(times)
        return [start + number * step for number in range(len(times))]


class Qwen3VLBackend(QwenBackend):
    """Qwen3-VL writes `<t seconds>` before every two frames: the mean of their times, which here are the true times."""

    name = "qwen3-vl"
    model_class_name = "Qwen3VLForConditionalGeneration"

    def told_times(self, times) -> list[float]:
        pairs = [(float(times[i]) + float(times[min(i + 1, len(times) - 1)])) / 2 for i in range(0, len(times), 2)]
        return [round(time, 1) for time in pairs]


class Qwen3VLMoeBackend(Qwen3VLBackend):
    name = "qwen3-vl-moe"
    model_class_name = "Qwen3VLMoeForConditionalGeneration"


class InternVL3Backend(CurrentBackend):
    """InternVL3/3.5 (-hf): `Frame{i}: <img>...</img>` per frame, no times in the prompt (the app shows them)."""

    name = "internvl3"
    model_class_name = "InternVLForConditionalGeneration"

    @property
    def _video_token_id(self) -> int:
        # The processor writes each frame as image tokens; the video marker itself does not survive.
        return self.processor.image_token_id
