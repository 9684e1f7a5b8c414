"""A byte-level BPE tokenizer trained here in a second, saved as Qwen2's (slow and fast both load it).

Real checkpoints cannot be downloaded on the build machines; tiny models built by the tests
use this tokenizer so that text goes through the same tokenizer classes as the real models.
"""

from __future__ import annotations

from pathlib import Path

CORPUS = [
    "The video shows a person walking across a room and sitting down on a chair.",
    "What is happening in this video? Describe the action step by step.",
    "Frame1: <image> Frame2: <image> The red panda is eating bamboo in the snow.",
    "user assistant system You are a helpful assistant. Answer the question about the video.",
    "A woman performs yoga on a rooftop with mountains in the background.",
    "How many people appear in the video? What is she wearing? Why is it funny?",
] * 20

CHAT_SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]


def build_tokenizer(folder: str | Path, special_tokens: list[str] = (), vocab_size: int = 512, chat_template: str | None = None):
    """Train, wrap as Qwen2TokenizerFast with `special_tokens` added, save into `folder`, return it."""
    from tokenizers import ByteLevelBPETokenizer
    from transformers import Qwen2TokenizerFast

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    trainer = ByteLevelBPETokenizer()
    trainer.train_from_iterator(CORPUS, vocab_size=vocab_size, min_frequency=1, show_progress=False)
    trainer.save_model(str(folder))
    tokenizer = Qwen2TokenizerFast(
        vocab_file=str(folder / "vocab.json"),
        merges_file=str(folder / "merges.txt"),
        unk_token=None,
        bos_token=None,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
    )
    tokenizer.add_special_tokens({"additional_special_tokens": list(dict.fromkeys([*CHAT_SPECIAL_TOKENS, *special_tokens]))})
    if chat_template is not None:
        tokenizer.chat_template = chat_template
    tokenizer.save_pretrained(str(folder))
    return tokenizer
