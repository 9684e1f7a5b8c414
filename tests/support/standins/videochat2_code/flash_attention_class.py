# Stand-in for InternVideo2-Chat's flash_attention_class.py: it imports flash-attn at the top,
# with no fallback; the vision encoder imports this module inside a try block.
from flash_attn import flash_attn_qkvpacked_func


def flash_self_attention(qkv):
    """(batch, length, 3, heads, head width) -> (batch, length, heads, head width)."""
    return flash_attn_qkvpacked_func(qkv)
