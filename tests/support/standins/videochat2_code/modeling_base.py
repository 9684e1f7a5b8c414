# Stand-in for InternVideo2-Chat's modeling_base.py: the model builds its parts in its
# constructor, two of them from other hub repos by name (the real model does the same):
# the LLM from the config at `model_config.llm.pretrained_llm_path` (Mistral-7B-Instruct-v0.3),
# read first, then the Q-Former's tokenizer and config from "bert-base-uncased".
# The modules imported here are not imported by modeling_videochat2.py, so transformers, which
# copies only the entry module's own imports from a local folder, leaves them behind.
import torch
from torch import nn
from transformers import (
    AutoConfig,
    AutoModelForCausalLM,
    BertTokenizer,
    PreTrainedModel,
)

from .model_config import VideoChat2Config
from .modeling_internvideo2_vit import build_vision_encoder
from .modeling_qformer import QFORMER_REPO, QFormer


class BaseMLLM(PreTrainedModel):
    config_class = VideoChat2Config

    def __init__(self, config):
        super().__init__(config)
        self.model_config = settings = config.model_config
        self.vision_encoder = build_vision_encoder(settings)
        width = settings.vision_encoder.encoder_embed_dim
        self.vision_layernorm = nn.LayerNorm(width, eps=1e-12) if settings.vision_encoder.vit_add_ln else nn.Identity()
        self.lm = self.build_llm(settings.llm)
        self.qformer = QFormer(self.media_tokens, width)
        self.qformer_tokenizer = BertTokenizer.from_pretrained(QFORMER_REPO, truncation_side="left")
        self.qformer_tokenizer.add_special_tokens({"bos_token": "[DEC]"})
        self.qformer.grow_vocabulary(len(self.qformer_tokenizer))  # fails on the meta device
        self.project_up = nn.Linear(self.qformer.hidden_size, self.lm.config.hidden_size)

    @property
    def media_tokens(self):
        """LLM tokens per clip: the Q-Former's queries."""
        return self.model_config.bridge.num_query_token + self.model_config.bridge.extra_num_query_token

    @staticmethod
    def build_llm(settings):
        if settings.name != "mistral_7b":
            raise NotImplementedError(settings.name)
        # The config asks for bfloat16, so the LLM is built in bfloat16 whatever the caller's dtype.
        lm = AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(settings.pretrained_llm_path, torch_dtype=torch.bfloat16))
        if settings.get("use_lora"):
            from peft import LoraConfig, get_peft_model

            lora = LoraConfig(r=settings.lora_r, lora_alpha=settings.lora_alpha, lora_dropout=settings.lora_dropout,
                              target_modules=["q_proj", "k_proj", "v_proj", "o_proj"], task_type="CAUSAL_LM")
            lm = get_peft_model(lm, lora)
        return lm

    def encode_vision(self, clips, instruction=None):
        """(clips, frames, 3, H, W) -> (clips, media_tokens, Q-Former width)."""
        features = self.vision_layernorm(self.vision_encoder(clips.permute(0, 2, 1, 3, 4)))
        instruction_ids = self.qformer_tokenizer(instruction, return_tensors="pt").input_ids if instruction else None
        return self.qformer(features, instruction_ids)
