# Stand-in for InternVideo2-Chat's model_config.py: the whole model description sits in one
# nested `model_config` field, which the model code reads with attribute access.
from transformers import PretrainedConfig


class AttrDict(dict):
    """A dict whose keys, nested ones included, also read as attributes (easydict in the real code)."""

    def __getattr__(self, name):
        if name not in self:
            raise AttributeError(name)
        value = self[name]
        return AttrDict(value) if isinstance(value, dict) else value


class VideoChat2Config(PretrainedConfig):
    model_type = "InternVideo2_VideoChat2"

    def __init__(self, model_config=None, **kwargs):
        super().__init__(**kwargs)
        self.model_config = AttrDict(model_config or {})
