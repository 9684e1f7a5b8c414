# Stand-in for InternVL2's modeling_internvl_chat.py, written from what a caller can observe:
# - chat() renders the config's `template` with conversation.py (history as earlier user/assistant
#   messages), turns the n-th `<image>` of the whole prompt into <img> + <IMG_CONTEXT> x (tokens per
#   tile x tiles of the n-th num_patches_list entry) + </img>, writes eos_token_id (the template's
#   separator) into the generation config it was given, and returns (answer stripped, history);
# - generate() embeds the prompt, puts the frames' features where the <IMG_CONTEXT> tokens are,
#   and calls self.language_model.generate(inputs_embeds=...).
# InternVideo2.5's modeling_internvl_chat_hico2.py is this file with LOCAL_NUM_FRAMES = 4.
import torch
import torch.nn.functional as F
from torch import nn
from transformers import LlamaForCausalLM, Phi3ForCausalLM, PreTrainedModel, Qwen2ForCausalLM

from .configuration_internvl_chat import InternVLChatConfig
from .conversation import conv_templates, get_conv_template
from .modeling_intern_vit import InternVisionModel, has_flash_attn

# HiCo (InternVideo2.5) treats frames in groups of this many; None: each frame on its own.
LOCAL_NUM_FRAMES = None

# InternLM2 (InternVL2-2B/8B/26B) is a Llama with its own remote code: LlamaForCausalLM stands in for it.
LANGUAGE_MODELS = {"Qwen2ForCausalLM": Qwen2ForCausalLM, "LlamaForCausalLM": LlamaForCausalLM, "Phi3ForCausalLM": Phi3ForCausalLM}

def mix_frame_groups(features, group):
    """HiCo as far as a caller can tell: frames come in groups of `group`, and each frame's tokens
    also carry the mean of its group's tokens."""
    frames = features.shape[0]
    assert frames % group == 0, f"the number of frames ({frames}) must be a multiple of {group}"
    grouped = features.reshape(frames // group, group, *features.shape[1:])
    return (grouped + grouped.mean(dim=1, keepdim=True)).reshape(features.shape)


class InternVLChatModel(PreTrainedModel):
    config_class = InternVLChatConfig
    main_input_name = "pixel_values"

    def __init__(self, config, use_flash_attn=True):
        super().__init__(config)
        if config.template not in conv_templates:
            raise ValueError(f"unknown chat template {config.template!r}")
        vision, llm = config.vision_config, config.llm_config
        use_flash_attn = use_flash_attn and has_flash_attn
        vision.use_flash_attn = use_flash_attn
        llm._attn_implementation = "flash_attention_2" if use_flash_attn else "eager"
        self.template = config.template
        self.conv_template = get_conv_template(self.template)
        self.system_message = self.conv_template.system_message
        self.select_layer = config.select_layer
        self.merge = int(1 / config.downsample_ratio)  # neighbouring patches merged per side
        image_size = config.force_image_size or vision.image_size
        self.num_image_token = (image_size // vision.patch_size // self.merge) ** 2
        self.img_context_token_id = None  # chat() sets it; generate() reads it
        self.vision_model = InternVisionModel(vision)
        self.language_model = LANGUAGE_MODELS[llm.architectures[0]](llm)
        merged_width = vision.hidden_size * self.merge ** 2
        self.mlp1 = nn.Sequential(
            nn.LayerNorm(merged_width), nn.Linear(merged_width, llm.hidden_size), nn.GELU(), nn.Linear(llm.hidden_size, llm.hidden_size)
        )

    def extract_feature(self, pixel_values):
        """Tiles -> vision tower -> patch tokens (class token dropped) -> merge x merge neighbours -> mlp1."""
        out = self.vision_model(pixel_values=pixel_values, output_hidden_states=self.select_layer != -1)
        tokens = (out.last_hidden_state if self.select_layer == -1 else out.hidden_states[self.select_layer])[:, 1:]
        tiles, count, width = tokens.shape
        side = int(count ** 0.5)
        grid = tokens.transpose(1, 2).reshape(tiles, width, side, side)
        merged = F.pixel_unshuffle(grid, self.merge).flatten(2).transpose(1, 2)
        features = self.mlp1(merged)
        return mix_frame_groups(features, LOCAL_NUM_FRAMES) if LOCAL_NUM_FRAMES else features

    def chat(self, tokenizer, pixel_values, question, generation_config, history=None, return_history=False,
             num_patches_list=None, IMG_START_TOKEN='<img>', IMG_END_TOKEN='</img>', IMG_CONTEXT_TOKEN='<IMG_CONTEXT>',
             verbose=False):
        if history is None and pixel_values is not None and "<image>" not in question:
            question = "<image>\n" + question
        if num_patches_list is None:
            num_patches_list = [] if pixel_values is None else [pixel_values.shape[0]]
        assert pixel_values is None or len(pixel_values) == sum(num_patches_list)
        history = [] if history is None else history
        self.img_context_token_id = tokenizer.convert_tokens_to_ids(IMG_CONTEXT_TOKEN)

        template = get_conv_template(self.template)
        template.system_message = self.system_message
        eos_token_id = tokenizer.convert_tokens_to_ids(template.sep.strip())
        for old_question, old_answer in history:
            template.append_message(template.roles[0], old_question)
            template.append_message(template.roles[1], old_answer)
        template.append_message(template.roles[0], question)
        template.append_message(template.roles[1], None)
        prompt = template.get_prompt()
        for patches in num_patches_list:
            image = IMG_START_TOKEN + IMG_CONTEXT_TOKEN * (self.num_image_token * patches) + IMG_END_TOKEN
            prompt = prompt.replace("<image>", image, 1)
        if verbose:
            print(prompt)
        generation_config["eos_token_id"] = eos_token_id  # into the caller's dict

        inputs = tokenizer(prompt, return_tensors="pt")
        output_ids = self.generate(pixel_values=pixel_values, input_ids=inputs["input_ids"].to(self.device),
                                   attention_mask=inputs["attention_mask"].to(self.device), **generation_config)
        response = tokenizer.batch_decode(output_ids, skip_special_tokens=True)[0].split(template.sep.strip())[0].strip()
        history.append((question, response))
        return (response, history) if return_history else response

    @torch.no_grad()
    def generate(self, pixel_values=None, input_ids=None, attention_mask=None, visual_features=None, **generate_kwargs):
        embeds = self.language_model.get_input_embeddings()(input_ids)
        if pixel_values is not None or visual_features is not None:
            features = self.extract_feature(pixel_values) if visual_features is None else visual_features
            slots = input_ids == self.img_context_token_id
            embeds[slots] = features.reshape(-1, embeds.shape[-1]).to(embeds.dtype)
        return self.language_model.generate(inputs_embeds=embeds, attention_mask=attention_mask, use_cache=True, **generate_kwargs)
