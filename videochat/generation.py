"""How one answer is generated: the settings a user changes, as every backend takes them.

Its own small module because the desktop's start-up needs it (for the chat pane's defaults)
and nothing else of the backend interface.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class GenerationSettings:
    max_new_tokens: int = 512
    temperature: float = 0.0  # 0 means greedy
    top_p: float = 0.9
    repetition_penalty: float = 1.0

    @property
    def do_sample(self) -> bool:
        return self.temperature > 0

    def as_kwargs(self) -> dict:
        """A fresh dict for every call: InternVL's chat() writes into the one it gets."""
        kwargs: dict[str, Any] = {"max_new_tokens": self.max_new_tokens, "do_sample": self.do_sample, "num_beams": 1}
        if self.do_sample:
            kwargs.update(temperature=self.temperature, top_p=self.top_p)
        if self.repetition_penalty != 1.0:
            kwargs["repetition_penalty"] = self.repetition_penalty
        return kwargs
