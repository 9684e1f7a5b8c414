"""Streaming, stopping and error mapping around `generate`, shared by every backend.

`generate` (directly, or inside a remote-code `chat()`) runs on a helper thread and hands
text to the caller through a streamer; the stop flag reaches it as a stopping criterion
checked after every token. Whatever happens on that thread, the streamer is ended, so the
caller never waits on a queue that nobody fills.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Iterator

from videochat.errors import OutOfMemory

OUT_OF_MEMORY_HINT = "Ask with fewer frames, a shorter answer, or a lower precision (8-bit), or close other programs using the GPU."


def stop_criteria(stop: threading.Event):
    """A StoppingCriteriaList that ends generation once `stop` is set."""
    import torch
    from transformers import StoppingCriteria, StoppingCriteriaList

    class StopWhenAsked(StoppingCriteria):
        def __call__(self, input_ids, scores, **kwargs):
            return torch.full((input_ids.shape[0],), stop.is_set(), dtype=torch.bool, device=input_ids.device)

    return StoppingCriteriaList([StopWhenAsked()])


class StreamedCall:
    """Run `call(streamer, stopping_criteria)` on a thread; iterate to get its text; then `.result`.

    `stop` is the backend's flag: the backend clears it before each call, so that a Stop meant
    for one answer never ends the next.
    """

    def __init__(self, call: Callable[[Any, Any], Any], tokenizer, stop: threading.Event):
        from transformers import TextIteratorStreamer

        self._call = call
        self._stop = stop
        self._streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True)
        self._criteria = stop_criteria(stop)
        self._error: BaseException | None = None
        self.result: Any = None

    def _run(self) -> None:
        try:
            self.result = self._call(self._streamer, self._criteria)
        except BaseException as error:  # handed to the caller's thread below
            self._error = error
        finally:
            self._streamer.end()

    def __iter__(self) -> Iterator[str]:
        thread = threading.Thread(target=self._run, name="videochat-generate", daemon=True)
        thread.start()
        finished = False
        try:
            for text in self._streamer:
                if text:
                    yield text
            finished = True
        finally:
            # Only when the caller went away mid-answer: after the streamer ends, the thread is still
            # alive for a moment, and stopping it then would mark a complete answer as stopped.
            if not finished:
                self._stop.set()
            thread.join()
        if self._error is not None:
            raise map_generation_error(self._error) from self._error


def is_out_of_memory(error: BaseException) -> bool:
    import torch

    if isinstance(error, torch.cuda.OutOfMemoryError):
        return True
    return isinstance(error, RuntimeError) and "out of memory" in str(error).lower()


def map_generation_error(error: BaseException) -> BaseException:
    if is_out_of_memory(error):
        free_cached_memory()
        return OutOfMemory(f"The model ran out of memory while answering. {OUT_OF_MEMORY_HINT}")
    return error


def load_out_of_memory(name: str) -> OutOfMemory:
    """The error for a model that ran out of memory while loading (the memory it took is freed first)."""
    free_cached_memory()
    return OutOfMemory(
        f"{name} does not fit in memory. Load it with a lower precision (8-bit) or choose a smaller model, or close "
        "other programs using the GPU."
    )


def free_cached_memory() -> None:
    import gc

    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    if hasattr(torch, "mps") and torch.backends.mps.is_available():
        torch.mps.empty_cache()
