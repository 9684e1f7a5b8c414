"""Follow-ups that reuse the key/value cache under a checkpoint's own `chat()` (InternVL2, InternVideo2.5, InternVideo2-Chat).

`chat()` builds its prompt with the whole history as text (InternVL: the checkpoint's conversation
template, each `<image>` expanded to `<img><IMG_CONTEXT>*n</img>`; InternVideo2-Chat: `[INST] ...
[/INST]` turns around a video placeholder), tokenizes it, and hands the ids to the model's own
generate method (`generate`; `generate_caption`), which runs the vision encoder, puts the frames'
features into the slots and calls the language model's `generate` on the embeddings. Left alone,
it reads the whole prompt (every frame's tokens, the vision tower included) on every follow-up.

Here `chat()` still builds the prompt, so the ids are exactly the ones it reads, whatever the
template or the code's version. Its call of the generate method is taken over meanwhile:

- with nothing reusable (a first question, a resumed conversation, a cache dropped by unload or a
  failure), the checkpoint's own method runs as it would, and the cache its language model fills
  is kept;
- otherwise the cache is cut to the longest common token prefix of what it holds (the prompt and
  the tokens generated) and what `chat()` now reads. `chat()` keeps the answer stripped (InternVL)
  and tokenizes the history text again, so its tokens may part from the generated ones before the
  answer's end: the rest is read as text ids with the settings the method would have passed (it
  holds no frame: the frames come first), and the vision encoder does not run.

Either way `chat()` gets the new token ids as the method returns them (without the prompt), and
goes on to decode and record the answer itself.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from collections.abc import Callable
from typing import Any

@dataclass
class PromptCache:
    """The keys and values of everything said in one conversation, and the token ids they stand for."""

    cached_ids: Any = None  # 1 x L ids whose keys and values `cache` holds (on the CPU)
    cache: Any = None  # DynamicCache; None when nothing can be trusted
    read: int = 0  # tokens the last question's prefill read (the whole prompt when nothing was reused)
    reused: int = 0  # tokens the last question took from the cache

    def drop(self) -> None:
        self.cached_ids, self.cache = None, None


def common_prefix_length(first, second) -> int:
    """How many leading entries two 1-D tensors share."""
    length = min(len(first), len(second))
    differ = (first[:length].cpu() != second[:length].cpu()).nonzero()
    return int(differ[0]) if len(differ) else length


@dataclass
class GenerateCall:
    """What the checkpoint's code hands its own generate method: the prompt's ids, where the frames go, the settings."""

    input_ids: Any  # 1 x L
    frames: Any  # 1 x L bool: the slots the frames' features fill
    settings: dict  # generation settings it passes on to the language model's generate


def reusable_length(memory: PromptCache, call: GenerateCall) -> int:
    """How many leading tokens of the call's prompt the cache can supply: 0 where the rest would hold frames."""
    if memory.cache is None or memory.cached_ids is None:
        return 0
    ids = call.input_ids[0].cpu()
    common = min(common_prefix_length(memory.cached_ids[0], ids), len(ids) - 1)  # generate needs one token to read
    if bool(call.frames[0, common:].any()):
        return 0  # the rest needs the frames' features, which only the checkpoint's own method puts in
    return common


def as_cache(past_key_values):
    """A DynamicCache, also from the tuple of tuples that older remote language models return."""
    from transformers import DynamicCache

    if past_key_values is None or hasattr(past_key_values, "crop"):
        return past_key_values
    return DynamicCache.from_legacy_cache(past_key_values)


@contextlib.contextmanager
def instance_attribute(owner, name: str, value):
    """`owner.name` is `value` meanwhile (on the instance), then what it was."""
    had_own, previous = name in vars(owner), vars(owner).get(name)
    setattr(owner, name, value)
    try:
        yield
    finally:
        if had_own:
            setattr(owner, name, previous)
        else:
            delattr(owner, name)


@contextlib.contextmanager
def generation_reusing(model, method: str, language_model, memory: PromptCache, read_call: Callable[..., GenerateCall]):
    """Meanwhile `model.<method>` (the generate method chat() calls) keeps `memory` and reads only what it does not hold.

    `read_call(*args, **kwargs)` says what a call of that method asks for. The method returns what the
    checkpoint's own returns: the new token ids only (its language model is fed embeddings).
    """
    import torch
    from transformers import DynamicCache

    own = getattr(model, method)
    inner_generate = language_model.generate  # with the streamer and the stop criterion added (remote_code.generate_with)

    def generate(*args, **kwargs):
        call = read_call(*args, **kwargs)
        reused = reusable_length(memory, call)
        cache = memory.cache
        # Cropped in place, and a failed generate may leave layers of unequal length: kept again only on success.
        memory.drop()
        memory.read, memory.reused = call.input_ids.shape[1] - reused, reused
        outputs = []
        if reused:
            cache.crop(reused)
            ids = call.input_ids.to(language_model.device)
            output = inner_generate(
                input_ids=ids, attention_mask=torch.ones_like(ids), past_key_values=cache, use_cache=True, return_dict_in_generate=True,
                **call.settings,
            )
            new_ids = output.sequences[:, ids.shape[1] :]
        else:

            def first_generate(*inner_args, **inner_kwargs):
                inner_kwargs.update(past_key_values=DynamicCache(), return_dict_in_generate=True)
                outputs.append(inner_generate(*inner_args, **inner_kwargs))
                return outputs[-1].sequences  # fed embeddings only: the new tokens

            with instance_attribute(language_model, "generate", first_generate):
                new_ids = own(*args, **kwargs)
            output = outputs[-1]
        cache = as_cache(output.past_key_values)
        if cache is not None:
            # The last token generated was never fed back, so the cache ends one short of the sequence.
            everything = torch.cat([call.input_ids.cpu(), new_ids.cpu()], dim=1)
            memory.cached_ids, memory.cache = everything[:, : cache.get_seq_length()], cache
        return new_ids

    with instance_attribute(model, method, generate):
        yield
