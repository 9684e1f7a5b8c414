"""Tiny random checkpoints of transformers' own video models, built into a folder in about a second.

Each builder saves what the real checkpoint on the hub holds (config.json, safetensors weights,
generation config, tokenizer, processor configs and the card's chat template), so that the
folder loads back through the app's own loader. The sizes are parameters so that the
benchmark can build bigger ones with the same code; weights are random from a fixed seed.
"""

from __future__ import annotations

from pathlib import Path

from tests.support.tiny_tokenizer import build_tokenizer

# Random weights answer in random tokens; with this seed both families' greedy answers contain spaces,
# so that the streamer (which hands text over word by word) delivers them in several pieces.
SEED = 1

# With transformers' default (0.02) a tiny model's answer hardly depends on anything but the last
# token, so a wrong position or a stale cache would go unnoticed; larger weights make it listen.
INIT_STD = 0.3

# The chat template of llava-hf/llava-onevision-qwen2-*-ov-hf (transformers' conversion script).
LLAVA_ONEVISION_TEMPLATE = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n'}}"
    "{# Render all images first #}{% for content in message['content'] | selectattr('type', 'equalto', 'image') %}"
    "{{ '<image>\n' }}{% endfor %}"
    "{# Render all video then #}{% for content in message['content'] | selectattr('type', 'equalto', 'video') %}"
    "{{ '<video>\n' }}{% endfor %}"
    "{# Render all text next #}{% if message['role'] != 'assistant' %}"
    "{% for content in message['content'] | selectattr('type', 'equalto', 'text') %}{{ content['text'] }}{% endfor %}"
    "{% else %}{% for content in message['content'] | selectattr('type', 'equalto', 'text') %}"
    "{% generation %}{{ content['text'] }}{% endgeneration %}{% endfor %}{% endif %}"
    "{{'<|im_end|>' + '\n'}}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

# The chat template of Qwen/Qwen2-VL-*-Instruct.
QWEN2_VL_TEMPLATE = (
    "{% set image_count = namespace(value=0) %}{% set video_count = namespace(value=0) %}"
    "{% for message in messages %}{% if loop.first and message['role'] != 'system' %}"
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n{% endif %}"
    "<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}<|im_end|>\n"
    "{% else %}{% for content in message['content'] %}"
    "{% if content['type'] == 'image' or 'image' in content or 'image_url' in content %}"
    "{% set image_count.value = image_count.value + 1 %}{% if add_vision_id %}Picture {{ image_count.value }}: {% endif %}"
    "<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif content['type'] == 'video' or 'video' in content %}"
    "{% set video_count.value = video_count.value + 1 %}{% if add_vision_id %}Video {{ video_count.value }}: {% endif %}"
    "<|vision_start|><|video_pad|><|vision_end|>"
    "{% elif 'text' in content %}{{ content['text'] }}{% endif %}{% endfor %}<|im_end|>\n"
    "{% endif %}{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def _save_model(model, tokenizer, folder: Path) -> None:
    model.generation_config.eos_token_id = tokenizer.convert_tokens_to_ids("<|im_end|>")
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(str(folder))


def build_llava_onevision(
    folder: str | Path,
    hidden: int = 32,
    layers: int = 1,
    vision_hidden: int = 32,
    vision_layers: int = 1,
    image_size: int = 56,
    patch_size: int = 14,
    init_std: float = INIT_STD,
) -> Path:
    """A LLaVA-OneVision checkpoint: SigLIP tower, Qwen2 language model, (image_size/patch/2)^2 tokens a frame."""
    import torch
    from transformers import (
        LlavaOnevisionConfig,
        LlavaOnevisionForConditionalGeneration,
        LlavaOnevisionImageProcessor,
        LlavaOnevisionProcessor,
        LlavaOnevisionVideoProcessor,
    )

    folder = Path(folder)
    tokenizer = build_tokenizer(folder, ["<image>", "<video>"], chat_template=LLAVA_ONEVISION_TEMPLATE)
    config = LlavaOnevisionConfig(
        vision_config=dict(
            model_type="siglip_vision_model", hidden_size=vision_hidden, intermediate_size=vision_hidden * 2,
            num_hidden_layers=vision_layers, num_attention_heads=2, image_size=image_size, patch_size=patch_size,
            vision_use_head=False,
        ),
        text_config=dict(
            model_type="qwen2", vocab_size=len(tokenizer), hidden_size=hidden, intermediate_size=hidden * 2,
            num_hidden_layers=layers, num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=32768,
        ),
        image_token_index=tokenizer.convert_tokens_to_ids("<image>"),
        video_token_index=tokenizer.convert_tokens_to_ids("<video>"),
        image_grid_pinpoints=[[image_size, image_size]],
        vision_feature_select_strategy="full",
        vision_feature_layer=-1,
        initializer_range=init_std,
    )
    torch.manual_seed(SEED)
    model = LlavaOnevisionForConditionalGeneration(config).eval()
    _save_model(model, tokenizer, folder)
    square = {"height": image_size, "width": image_size}
    processor = LlavaOnevisionProcessor(
        image_processor=LlavaOnevisionImageProcessor(size=square, image_grid_pinpoints=[[image_size, image_size]]),
        tokenizer=tokenizer,
        video_processor=LlavaOnevisionVideoProcessor(size=square),
        num_image_tokens=(image_size // patch_size) ** 2,
        vision_feature_select_strategy="full",
        chat_template=LLAVA_ONEVISION_TEMPLATE,
    )
    processor.save_pretrained(str(folder))
    return folder


def build_qwen2_vl(
    folder: str | Path,
    hidden: int = 32,
    layers: int = 1,
    vision_hidden: int = 32,
    vision_layers: int = 1,
    max_pixels: int = 112 * 112,
    init_std: float = INIT_STD,
) -> Path:
    """A Qwen2-VL checkpoint whose processor shrinks frames to at most `max_pixels` (112 x 112: about 12 tokens a frame pair)."""
    import torch
    from transformers import (
        Qwen2VLConfig,
        Qwen2VLForConditionalGeneration,
        Qwen2VLImageProcessor,
        Qwen2VLProcessor,
    )

    folder = Path(folder)
    special = ["<|vision_start|>", "<|vision_end|>", "<|image_pad|>", "<|video_pad|>"]
    tokenizer = build_tokenizer(folder, special, chat_template=QWEN2_VL_TEMPLATE)
    heads = 4
    half_head = hidden // heads // 2
    # Multimodal RoPE splits each head's rotary half into temporal, height and width sections.
    mrope_section = [half_head - 2 * (half_head // 3), half_head // 3, half_head // 3]
    config = Qwen2VLConfig(
        vocab_size=len(tokenizer), hidden_size=hidden, intermediate_size=hidden * 2, num_hidden_layers=layers,
        num_attention_heads=heads, num_key_value_heads=2, max_position_embeddings=32768, max_window_layers=layers,
        rope_scaling={"type": "mrope", "mrope_section": mrope_section},
        vision_config=dict(
            depth=vision_layers, embed_dim=vision_hidden, hidden_size=hidden, num_heads=2, mlp_ratio=2,
            patch_size=14, spatial_merge_size=2, temporal_patch_size=2,
        ),
        image_token_id=tokenizer.convert_tokens_to_ids("<|image_pad|>"),
        video_token_id=tokenizer.convert_tokens_to_ids("<|video_pad|>"),
        vision_start_token_id=tokenizer.convert_tokens_to_ids("<|vision_start|>"),
        vision_end_token_id=tokenizer.convert_tokens_to_ids("<|vision_end|>"),
        initializer_range=init_std,
    )
    torch.manual_seed(SEED)
    model = Qwen2VLForConditionalGeneration(config).eval()
    _save_model(model, tokenizer, folder)
    image_processor = Qwen2VLImageProcessor(min_pixels=min(56 * 56, max_pixels), max_pixels=max_pixels)
    Qwen2VLProcessor(image_processor=image_processor, tokenizer=tokenizer, chat_template=QWEN2_VL_TEMPLATE).save_pretrained(str(folder))
    return folder


BUILDERS = {"llava-onevision": build_llava_onevision, "qwen2-vl": build_qwen2_vl}
