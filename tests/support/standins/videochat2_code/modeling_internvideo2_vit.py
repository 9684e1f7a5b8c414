# Stand-in for InternVideo2-Chat's vision encoder: (batch, 3, frames, H, W) -> (batch, frames x
# patches, width): a patch embedding, a per-frame position and one self-attention block. Like the
# real file it imports timm's DropPath (transformers refuses it where timm is missing).
import torch
import torch.nn.functional as F
from timm.models.layers import DropPath
from torch import nn

try:
    from .flash_attention_class import flash_self_attention
except ImportError:
    flash_self_attention = None


class VisionEncoder(nn.Module):
    def __init__(self, patch_size, width, num_frames, use_flash_attn=False):
        super().__init__()
        if use_flash_attn and flash_self_attention is None:
            raise ImportError("use_flash_attn needs the flash_attn package")
        self.use_flash_attn = use_flash_attn
        self.patch_embed = nn.Conv3d(3, width, kernel_size=(1, patch_size, patch_size), stride=(1, patch_size, patch_size))
        self.frame_embed = nn.Parameter(torch.randn(num_frames, width) * 0.02)
        self.norm = nn.LayerNorm(width)
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)
        self.drop_path = DropPath(0.0)  # no weights; the identity, as at the real checkpoint's inference

    def forward(self, video):
        x = self.patch_embed(video.to(self.patch_embed.weight.dtype))  # batch, width, frames, h, w
        batch, width, frames = x.shape[:3]
        x = (x.flatten(3).permute(0, 2, 3, 1) + self.frame_embed[:frames, None]).reshape(batch, -1, width)
        qkv = self.qkv(self.norm(x)).reshape(batch, x.shape[1], 3, 1, width)
        if self.use_flash_attn:
            attended = flash_self_attention(qkv)
        else:
            q, k, v = qkv.unbind(2)
            attended = F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)).transpose(1, 2)
        return x + self.drop_path(self.proj(attended.reshape(batch, -1, width)))


def build_vision_encoder(model_config):
    settings = model_config.vision_encoder
    if settings.name != "internvideo2-1B":
        raise ValueError(f"Not implemented: {settings.name}")
    return VisionEncoder(settings.patch_size, settings.encoder_embed_dim, settings.num_frames, settings.get("use_flash_attn", False))
