# Stand-in for InternVL's configuration code. As in the real checkpoints, config.json holds a
# `vision_config` and an `llm_config` (whose `architectures` picks the LLM class) next to the
# fields the model reads: template, force_image_size, downsample_ratio, select_layer.
from transformers import LlamaConfig, Phi3Config, PretrainedConfig, Qwen2Config

LLM_CONFIGS = {"Qwen2ForCausalLM": Qwen2Config, "LlamaForCausalLM": LlamaConfig, "Phi3ForCausalLM": Phi3Config}


class InternVisionConfig(PretrainedConfig):
    model_type = "intern_vit_6b"

    def __init__(self, image_size=448, patch_size=14, hidden_size=1024, num_attention_heads=16, intermediate_size=4096,
                 num_hidden_layers=24, layer_norm_eps=1e-6, use_flash_attn=True, **kwargs):
        super().__init__(**kwargs)
        self.image_size = image_size
        self.patch_size = patch_size
        self.hidden_size = hidden_size
        self.num_attention_heads = num_attention_heads
        self.intermediate_size = intermediate_size
        self.num_hidden_layers = num_hidden_layers
        self.layer_norm_eps = layer_norm_eps
        self.use_flash_attn = use_flash_attn


class InternVLChatConfig(PretrainedConfig):
    model_type = "internvl_chat"
    is_composition = True

    def __init__(self, vision_config=None, llm_config=None, template=None, force_image_size=None, downsample_ratio=0.5,
                 select_layer=-1, ps_version="v1", dynamic_image_size=False, use_thumbnail=False, min_dynamic_patch=1,
                 max_dynamic_patch=6, **kwargs):
        super().__init__(**kwargs)
        self.vision_config = InternVisionConfig(**(vision_config or {}))
        llm_config = llm_config or {"architectures": ["Qwen2ForCausalLM"]}
        architecture = (llm_config.get("architectures") or [None])[0]
        if architecture not in LLM_CONFIGS:
            raise ValueError(f"Unsupported architecture: {architecture}")
        self.llm_config = LLM_CONFIGS[architecture](**llm_config)
        self.template = template
        self.force_image_size = force_image_size
        self.downsample_ratio = downsample_ratio
        self.select_layer = select_layer
        self.ps_version = ps_version
        self.dynamic_image_size = dynamic_image_size
        self.use_thumbnail = use_thumbnail
        self.min_dynamic_patch = min_dynamic_patch
        self.max_dynamic_patch = max_dynamic_patch
