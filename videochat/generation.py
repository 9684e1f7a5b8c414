"""How one answer is generated: the settings a user changes, as every backend takes them.

The one home of their defaults: the settings file, the chat pane, `videochat ask` and
`videochat batch` read them from `GenerationSettings`. The desktop reads them before its first
paint, so this module is plain Python: no dataclass (the dataclasses module would be the first
paint's only user of it).
"""

from __future__ import annotations

# The most tokens one answer may ask for: the seed models' context (InternVL2's and Qwen2-VL's 32K). A
# request for more is refused, where it kept the one model thread generating until its client gave up.
MAX_NEW_TOKENS = 32768


class GenerationSettings:
    """Immutable; equal when every field is. `DEFAULTS` below is the app's defaults."""

    FIELDS = ("max_new_tokens", "temperature", "top_p", "repetition_penalty")
    __slots__ = FIELDS

    max_new_tokens: int
    temperature: float  # 0 means greedy
    top_p: float
    repetition_penalty: float

    def __init__(self, max_new_tokens: int = 512, temperature: float = 0.0, top_p: float = 0.9, repetition_penalty: float = 1.0):
        for name, value in zip(self.FIELDS, (max_new_tokens, temperature, top_p, repetition_penalty)):
            object.__setattr__(self, name, value)

    def __setattr__(self, name, value):
        raise AttributeError(f"GenerationSettings is immutable: make a new one to change {name}")

    def __delattr__(self, name):
        raise AttributeError(f"GenerationSettings is immutable: {name} stays")

    def as_dict(self) -> dict:
        return {name: getattr(self, name) for name in self.FIELDS}

    def __eq__(self, other) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self.as_dict() == other.as_dict()

    def __reduce__(self):  # pickle and copy through __init__: __setattr__ refuses
        return (self.__class__, tuple(self.as_dict().values()))

    def __hash__(self) -> int:
        return hash(tuple(self.as_dict().values()))

    def __repr__(self) -> str:
        return f"GenerationSettings({', '.join(f'{name}={value!r}' for name, value in self.as_dict().items())})"

    @property
    def do_sample(self) -> bool:
        return self.temperature > 0

    def as_kwargs(self) -> dict:
        """A fresh dict for every call: InternVL's chat() writes into the one it gets."""
        kwargs: dict = {"max_new_tokens": self.max_new_tokens, "do_sample": self.do_sample, "num_beams": 1}
        if self.do_sample:
            kwargs.update(temperature=self.temperature, top_p=self.top_p)
        if self.repetition_penalty != 1.0:
            kwargs["repetition_penalty"] = self.repetition_penalty
        return kwargs


DEFAULTS = GenerationSettings()
