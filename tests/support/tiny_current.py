"""Tiny random checkpoints of the current runtime's families (Qwen2.5-VL, Qwen3-VL, InternVL3 -hf), built under transformers 5.x.

Each builder saves what the real checkpoint holds (config.json with its model_type and
transformers_version, safetensors weights, generation config, a tokenizer with the real special
tokens, the processor's configs and the card's chat template), so that the folder loads back through
the app's own loader. The seed runtime cannot import transformers 5, so the tests run this module with
the current runtime's interpreter:

    python -m tests.support.tiny_current FAMILY FOLDER
"""

from __future__ import annotations

import sys
from pathlib import Path

from tests.support.tiny_native import INIT_STD, QWEN2_VL_TEMPLATE, SEED, _save_model
from tests.support.tiny_tokenizer import CHAT_SPECIAL_TOKENS, CORPUS

# Qwen/Qwen2.5-VL-*-Instruct ship Qwen2-VL's template unchanged (the default system prompt included).
QWEN2_5_VL_TEMPLATE = QWEN2_VL_TEMPLATE

# The chat template of Qwen/Qwen3-VL-*-Instruct without its tool-calling branches (the app sends no tools):
# no default system prompt, each message's content rendered by one macro, `<|im_start|>assistant\n` to answer.
QWEN3_VL_TEMPLATE = (
    "{%- set image_count = namespace(value=0) %}{%- set video_count = namespace(value=0) %}"
    "{%- macro render_content(content, do_vision_count) %}{%- if content is string %}{{- content }}{%- else %}"
    "{%- for item in content %}"
    "{%- if 'image' in item or 'image_url' in item or item.type == 'image' %}"
    "{%- if do_vision_count %}{%- set image_count.value = image_count.value + 1 %}{%- endif %}"
    "{%- if add_vision_id %}Picture {{ image_count.value }}: {% endif -%}<|vision_start|><|image_pad|><|vision_end|>"
    "{%- elif 'video' in item or item.type == 'video' %}"
    "{%- if do_vision_count %}{%- set video_count.value = video_count.value + 1 %}{%- endif %}"
    "{%- if add_vision_id %}Video {{ video_count.value }}: {% endif -%}<|vision_start|><|video_pad|><|vision_end|>"
    "{%- elif 'text' in item %}{{- item.text }}{%- endif %}{%- endfor %}{%- endif %}{%- endmacro %}"
    "{%- if messages[0].role == 'system' %}"
    "{{- '<|im_start|>system\\n' + render_content(messages[0].content, false) + '<|im_end|>\\n' }}{%- endif %}"
    "{%- for message in messages %}{%- set content = render_content(message.content, True) %}"
    "{%- if (message.role == 'user') or (message.role == 'system' and not loop.first) %}"
    "{{- '<|im_start|>' + message.role + '\\n' + content + '<|im_end|>' + '\\n' }}"
    "{%- elif message.role == 'assistant' %}{{- '<|im_start|>' + message.role + '\\n' + content }}{{- '<|im_end|>\\n' }}"
    "{%- endif %}{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)

# The chat template of OpenGVLab/InternVL3-*-hf (transformers' convert_internvl_weights_to_hf.py): no system prompt.
INTERNVL3_TEMPLATE = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n'}}"
    "{% if message['content'] is string %}{{ message['content'] }}{% else %}"
    "{% for content in message['content'] %}{% if content['type'] == 'image' %}{{ '<image>\n' }}"
    "{% elif content['type'] == 'video' %}{{ '<video>\n' }}{% elif content['type'] == 'text' %}{{ content['text'] }}"
    "{% endif %}{% endfor %}{% endif %}{{'<|im_end|>\n'}}{% endfor %}"
    "{% if add_generation_prompt %}{{'<|im_start|>assistant\n' }}{% endif %}"
)

def build_tokenizer(folder, special_tokens: list[str] = (), vocab_size: int = 512, chat_template: str | None = None, **named):
    """tests/support/tiny_tokenizer.py's tokenizer, made with transformers 5's constructor (which takes the vocabulary
    and merges as `vocab`/`merges`: given as 4.x's `vocab_file`/`merges_file` they are dropped without a word)."""
    from tokenizers import ByteLevelBPETokenizer
    from transformers import Qwen2Tokenizer

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    trainer = ByteLevelBPETokenizer()
    trainer.train_from_iterator(CORPUS, vocab_size=vocab_size, min_frequency=1, show_progress=False)
    trainer.save_model(str(folder))
    tokenizer = Qwen2Tokenizer(
        vocab=str(folder / "vocab.json"), merges=str(folder / "merges.txt"), unk_token=None, bos_token=None,
        eos_token="<|im_end|>", pad_token="<|endoftext|>", **named,
    )
    tokenizer.add_special_tokens({"additional_special_tokens": list(dict.fromkeys([*CHAT_SPECIAL_TOKENS, *special_tokens]))})
    if chat_template is not None:
        tokenizer.chat_template = chat_template
    tokenizer.save_pretrained(str(folder))
    return tokenizer


QWEN_SPECIAL = ["<|vision_start|>", "<|vision_end|>", "<|image_pad|>", "<|video_pad|>"]


def _mrope_section(hidden: int, heads: int) -> list[int]:
    half_head = hidden // heads // 2
    return [half_head - 2 * (half_head // 3), half_head // 3, half_head // 3]


def _qwen_ids(tokenizer) -> dict:
    return dict(
        image_token_id=tokenizer.convert_tokens_to_ids("<|image_pad|>"),
        video_token_id=tokenizer.convert_tokens_to_ids("<|video_pad|>"),
        vision_start_token_id=tokenizer.convert_tokens_to_ids("<|vision_start|>"),
        vision_end_token_id=tokenizer.convert_tokens_to_ids("<|vision_end|>"),
    )


def build_qwen2_5_vl(folder, hidden: int = 32, layers: int = 1, vision_hidden: int = 32, vision_layers: int = 1,
                     max_pixels: int = 112 * 112, init_std: float = INIT_STD) -> Path:
    """A Qwen2.5-VL checkpoint whose processor keeps frames to at most `max_pixels` each."""
    import torch
    from transformers import (
        Qwen2_5_VLConfig,
        Qwen2_5_VLForConditionalGeneration,
        Qwen2_5_VLProcessor,
        Qwen2VLImageProcessor,
        Qwen2VLVideoProcessor,
    )

    folder = Path(folder)
    tokenizer = build_tokenizer(folder, QWEN_SPECIAL, chat_template=QWEN2_5_VL_TEMPLATE)
    heads = 4
    config = Qwen2_5_VLConfig(
        text_config=dict(
            vocab_size=len(tokenizer), hidden_size=hidden, intermediate_size=hidden * 2, num_hidden_layers=layers,
            num_attention_heads=heads, num_key_value_heads=2, max_position_embeddings=32768, max_window_layers=layers,
            bos_token_id=None, eos_token_id=tokenizer.convert_tokens_to_ids("<|im_end|>"),
            rope_parameters={"rope_type": "default", "rope_theta": 1000000.0, "mrope_section": _mrope_section(hidden, heads)},
            initializer_range=init_std,
        ),
        vision_config=dict(
            depth=vision_layers, hidden_size=vision_hidden, intermediate_size=vision_hidden * 2, num_heads=2,
            out_hidden_size=hidden, patch_size=14, spatial_merge_size=2, temporal_patch_size=2, window_size=56,
            fullatt_block_indexes=[vision_layers - 1], tokens_per_second=2, initializer_range=init_std,
        ),
        initializer_range=init_std,
        **_qwen_ids(tokenizer),
    )
    torch.manual_seed(SEED)
    model = Qwen2_5_VLForConditionalGeneration(config).eval()
    _save_model(model, tokenizer, folder)
    small = {"shortest_edge": min(56 * 56, max_pixels), "longest_edge": max_pixels}
    Qwen2_5_VLProcessor(
        image_processor=Qwen2VLImageProcessor(size=small),
        video_processor=Qwen2VLVideoProcessor(size=small),
        tokenizer=tokenizer,
        chat_template=QWEN2_5_VL_TEMPLATE,
    ).save_pretrained(str(folder))
    return folder


def build_qwen3_vl(folder, hidden: int = 32, layers: int = 1, vision_hidden: int = 32, vision_layers: int = 1,
                   max_pixels: int = 128 * 128, init_std: float = INIT_STD) -> Path:
    """A Qwen3-VL checkpoint (dense) whose processor keeps frames to at most `max_pixels` each."""
    import torch
    from transformers import (
        Qwen2VLImageProcessor,
        Qwen3VLConfig,
        Qwen3VLForConditionalGeneration,
        Qwen3VLProcessor,
        Qwen3VLVideoProcessor,
    )

    folder = Path(folder)
    tokenizer = build_tokenizer(folder, QWEN_SPECIAL, chat_template=QWEN3_VL_TEMPLATE)
    heads = 4
    config = Qwen3VLConfig(
        text_config=dict(
            vocab_size=len(tokenizer), hidden_size=hidden, intermediate_size=hidden * 2, num_hidden_layers=layers,
            num_attention_heads=heads, num_key_value_heads=2, head_dim=hidden // heads, max_position_embeddings=32768,
            rope_parameters={"rope_type": "default", "rope_theta": 5000000.0, "mrope_section": _mrope_section(hidden, heads),
                             "mrope_interleaved": True},
            initializer_range=init_std,
        ),
        vision_config=dict(
            depth=vision_layers, hidden_size=vision_hidden, intermediate_size=vision_hidden * 2, num_heads=2,
            out_hidden_size=hidden, patch_size=16, spatial_merge_size=2, temporal_patch_size=2,
            num_position_embeddings=64, deepstack_visual_indexes=[0], initializer_range=init_std,
        ),
        **_qwen_ids(tokenizer),
    )
    torch.manual_seed(SEED)
    model = Qwen3VLForConditionalGeneration(config).eval()
    _save_model(model, tokenizer, folder)
    small = {"shortest_edge": min(64 * 64, max_pixels), "longest_edge": max_pixels}
    Qwen3VLProcessor(
        image_processor=Qwen2VLImageProcessor(size=small, patch_size=16),
        video_processor=Qwen3VLVideoProcessor(size=small),
        tokenizer=tokenizer,
        chat_template=QWEN3_VL_TEMPLATE,
    ).save_pretrained(str(folder))
    return folder


def build_internvl3(folder, hidden: int = 32, layers: int = 1, vision_hidden: int = 32, vision_layers: int = 1,
                    image_size: int = 56, patch_size: int = 14, init_std: float = INIT_STD) -> Path:
    """An InternVL3 -hf checkpoint: InternViT, Qwen2 language model, (image_size/patch/2)^2 tokens a frame."""
    import torch
    from transformers import (
        AutoTokenizer,
        GotOcr2ImageProcessor,
        InternVLConfig,
        InternVLForConditionalGeneration,
        InternVLProcessor,
        InternVLVideoProcessor,
    )

    folder = Path(folder)
    # The -hf tokenizers name these so that the processor finds them (as the conversion script makes them).
    named = {"start_image_token": "<img>", "end_image_token": "</img>", "context_image_token": "<IMG_CONTEXT>", "video_token": "<video>"}
    build_tokenizer(folder, list(named.values()), chat_template=INTERNVL3_TEMPLATE)
    tokenizer = AutoTokenizer.from_pretrained(str(folder), extra_special_tokens=named)
    tokenizer.save_pretrained(str(folder))
    config = InternVLConfig(
        vision_config=dict(
            hidden_size=vision_hidden, num_hidden_layers=vision_layers, num_attention_heads=2, intermediate_size=vision_hidden * 2,
            image_size=[image_size, image_size], patch_size=[patch_size, patch_size], initializer_range=init_std,
        ),
        text_config=dict(
            model_type="qwen2", vocab_size=len(tokenizer), hidden_size=hidden, intermediate_size=hidden * 2,
            num_hidden_layers=layers, num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=32768,
            initializer_range=init_std,
        ),
        image_token_id=tokenizer.convert_tokens_to_ids("<IMG_CONTEXT>"),
        downsample_ratio=0.5,
        initializer_range=init_std,
    )
    torch.manual_seed(SEED)
    model = InternVLForConditionalGeneration(config).eval()
    _save_model(model, tokenizer, folder)
    square = {"height": image_size, "width": image_size}
    InternVLProcessor(
        image_processor=GotOcr2ImageProcessor(size=square, max_patches=1, crop_to_patches=False),
        video_processor=InternVLVideoProcessor(size=square),
        tokenizer=tokenizer,
        image_seq_length=(image_size // patch_size // 2) ** 2,
        chat_template=INTERNVL3_TEMPLATE,
    ).save_pretrained(str(folder))
    return folder


BUILDERS = {"qwen2.5-vl": build_qwen2_5_vl, "qwen3-vl": build_qwen3_vl, "internvl3": build_internvl3}


if __name__ == "__main__":
    family, target = sys.argv[1], sys.argv[2]
    print(BUILDERS[family](target))
