"""Follow-ups that reuse the key/value cache under a checkpoint's own InternVL-style `chat()`.

`chat()` builds its prompt from the checkpoint's own conversation template with the whole history
as text, expands each `<image>` into `<img><IMG_CONTEXT>*n</img>`, tokenizes it, and hands the ids
to the model's `generate`, which puts the frames' features where the `<IMG_CONTEXT>` tokens are
and calls the language model's `generate` on the embeddings. Left alone, it reads the whole prompt
(every frame's tokens, the vision tower included) again on every follow-up.

Here `chat()` still builds the prompt, so the ids are exactly the ones it reads, whatever the
template or the code's version. Its call of the model's `generate` is taken over for the time of
the call:

- with nothing reusable (a first question, a resumed conversation, a cache dropped by unload or a
  failure), the checkpoint's own `generate` runs as it would, with a fresh cache that it fills;
- otherwise the cache is cut to the longest common token prefix of what it holds (the prompt and
  the tokens generated) and what `chat()` now reads. `chat()` keeps the answer stripped and
  tokenizes the history text again, so its tokens may part from the generated ones before the
  answer's end: the rest is read as text ids (it holds no frame: the frames come first in the
  first question), and the vision tower does not run.

Either way `chat()` gets the new token ids as the checkpoint's `generate` returns them (without
the prompt), and goes on to decode, strip and record the answer itself.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

IMAGE_CONTEXT_TOKEN = "<IMG_CONTEXT>"  # chat()'s default IMG_CONTEXT_TOKEN: the frames' feature slots


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


def reusable_length(memory: PromptCache, input_ids, image_token_id: int) -> int:
    """How many leading tokens of `input_ids` the cache can supply: 0 where the rest would hold frames."""
    if memory.cache is None or memory.cached_ids is None:
        return 0
    ids = input_ids[0].cpu()
    common = min(common_prefix_length(memory.cached_ids[0], ids), len(ids) - 1)  # generate needs one token to read
    if bool((ids[common:] == image_token_id).any()):
        return 0  # the rest needs the frames' features, which only the checkpoint's generate puts in
    return common


def as_cache(past_key_values):
    """A DynamicCache, also from the tuple of tuples that older remote language models return."""
    from transformers import DynamicCache

    if past_key_values is None or hasattr(past_key_values, "crop"):
        return past_key_values
    return DynamicCache.from_legacy_cache(past_key_values)


@contextlib.contextmanager
def generation_reusing(model, language_model, memory: PromptCache, image_token_id: int):
    """Meanwhile, `model.generate` (what chat() calls) keeps `memory` and reads only what it does not hold."""
    import torch
    from transformers import DynamicCache

    had_own = "generate" in vars(model)
    previous = vars(model).get("generate")
    own_generate = model.generate

    def generate(pixel_values=None, input_ids=None, attention_mask=None, **kwargs):
        # chat() sets the id it expands `<image>` with just before this call.
        reused = reusable_length(memory, input_ids, getattr(model, "img_context_token_id", None) or image_token_id)
        cache = memory.cache
        # Cropped in place, and a failed generate may leave layers of unequal length: kept again only on success.
        memory.drop()
        memory.read, memory.reused = input_ids.shape[1] - reused, reused
        if reused:
            cache.crop(reused)
            ids = input_ids.to(language_model.device)
            output = language_model.generate(
                input_ids=ids, attention_mask=torch.ones_like(ids), past_key_values=cache, use_cache=True, return_dict_in_generate=True, **kwargs
            )
            new_ids = output.sequences[:, ids.shape[1] :]
        else:
            output = own_generate(
                pixel_values=pixel_values, input_ids=input_ids, attention_mask=attention_mask, past_key_values=DynamicCache(),
                return_dict_in_generate=True, **kwargs,
            )
            # Fed embeddings only, the language model's generate returns just the new tokens.
            new_ids = output.sequences
        cache = as_cache(output.past_key_values)
        if cache is not None:
            # The last token generated was never fed back, so the cache ends one short of the sequence.
            everything = torch.cat([input_ids.cpu(), new_ids.cpu()], dim=1)
            memory.cached_ids, memory.cache = everything[:, : cache.get_seq_length()], cache
        return new_ids

    model.generate = generate
    try:
        yield
    finally:
        if had_own:
            model.generate = previous
        else:
            del model.generate
