# Stand-in for InternVL's vision tower (modeling_intern_vit.py): a tiny ViT that returns, as the
# real one does, a class token followed by one token per patch. Like the real file, it tries to
# import flash-attn when imported and remembers whether it could, and imports timm's DropPath
# (as the real file does: a model whose timm is missing is refused by transformers' import check).
import torch
from timm.models.layers import DropPath
from torch import nn
from transformers import PreTrainedModel
from transformers.modeling_outputs import BaseModelOutputWithPooling

from .configuration_internvl_chat import InternVisionConfig

try:
    import flash_attn  # noqa: F401
    has_flash_attn = True
except ImportError:
    has_flash_attn = False


class InternVisionModel(PreTrainedModel):
    config_class = InternVisionConfig
    main_input_name = "pixel_values"

    def __init__(self, config):
        super().__init__(config)
        width, grid = config.hidden_size, config.image_size // config.patch_size
        self.patch_embedding = nn.Conv2d(3, width, kernel_size=config.patch_size, stride=config.patch_size)
        self.class_embedding = nn.Parameter(torch.randn(1, 1, width))
        self.position_embedding = nn.Parameter(torch.randn(1, grid * grid + 1, width))
        self.layers = nn.ModuleList(
            nn.TransformerEncoderLayer(width, config.num_attention_heads, config.intermediate_size, dropout=0.0,
                                       activation="gelu", layer_norm_eps=config.layer_norm_eps, batch_first=True, norm_first=True)
            for _ in range(config.num_hidden_layers)
        )
        self.drop_path = DropPath(0.0)  # no weights; the identity, as at the real checkpoints' inference

    def forward(self, pixel_values, output_hidden_states=False, return_dict=True):
        patches = self.patch_embedding(pixel_values.to(self.patch_embedding.weight.dtype)).flatten(2).transpose(1, 2)
        cls = self.class_embedding.expand(len(patches), -1, -1).to(patches.dtype)
        states = [torch.cat([cls, patches], dim=1) + self.position_embedding.to(patches.dtype)]
        for layer in self.layers:
            states.append(self.drop_path(layer(states[-1])))
        return BaseModelOutputWithPooling(
            last_hidden_state=states[-1], pooler_output=states[-1][:, 0], hidden_states=tuple(states) if output_hidden_states else None
        )
