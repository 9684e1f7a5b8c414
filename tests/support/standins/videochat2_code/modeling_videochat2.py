# Stand-in for InternVideo2-Chat's modeling_videochat2.py (the entry module of its auto_map),
# written from what a caller can observe:
# - chat() builds "[INST] <Video>{video}</Video>{msg}[/INST]", then " [INST] q [/INST]a</s>" per
#   earlier exchange and " [INST] question [/INST]"; the video becomes the Q-Former's query
#   tokens (per sub-view on HD checkpoints); the shared mutable default `chat_history=[]` is kept;
# - build_input_ids() tokenizes the text before and after the placeholder apart, with zeros and a
#   mask (`video_idx`) for the media between; generate_caption(input_ids, attention_mask,
#   image_idx, video_idx, image, video, ...) takes only a fixed set of generation settings
#   (anything else, a streamer say, is a TypeError), runs the vision encoder and calls
#   self.lm.generate(inputs_embeds=...); the answer goes into the history as decoded, unstripped.
# This module imports only modeling_base.py; see there for what that does to a plain load.
import torch

from .modeling_base import BaseMLLM

VIDEO_PLACEHOLDER = "[<VID_PLH>]"
IMAGE_PLACEHOLDER = "[<IMG_PLH>]"


def require_flash_attn():
    # An import outside any try block, as in the real entry module: transformers' import check
    # finds it and refuses this file where flash-attn is not installed, though only configs with
    # use_flash_attn (GPU builds) ever run it.
    from flash_attn import flash_attn_qkvpacked_func
    return flash_attn_qkvpacked_func


class InternVideo2_VideoChat2(BaseMLLM):
    def __init__(self, config):
        if config.model_config.vision_encoder.get("use_flash_attn"):
            require_flash_attn()
        super().__init__(config)

    def clips(self, media_tensor):
        """The frames as (clips, T, 3, H, W): HD checkpoints take 1 x N x T x 3 x H x W (N views), others T x 3 x H x W."""
        if self.model_config.get("hd_num"):
            assert media_tensor.dim() == 6, f"the HD model takes 1 x N x T x 3 x H x W, not {tuple(media_tensor.shape)}"
            return media_tensor[0]
        assert media_tensor.dim() == 4, f"the model takes T x 3 x H x W, not {tuple(media_tensor.shape)}"
        return media_tensor[None]

    @staticmethod
    def build_input_ids(tokenizer, conversation, placeholder, media_length):
        """As the real build_input_ids: the text before and after the placeholder tokenized apart (each with the
        tokenizer's special tokens), `media_length` zeros for the media between them, and the mask of those."""
        before, _, after = conversation.partition(placeholder)
        head, tail = tokenizer(before).input_ids, tokenizer(after).input_ids
        input_ids = torch.tensor(head + [0] * media_length + tail)
        index = torch.zeros_like(input_ids, dtype=torch.bool)
        index[len(head): len(head) + media_length] = True
        return {"input_ids": input_ids, "attention_mask": torch.ones_like(input_ids), "index": index}

    def generate_caption(self, input_ids, attention_mask, image_idx=None, video_idx=None, image=None, video=None, num_beams=1,
                         max_new_tokens=200, do_sample=True, top_p=0.9, top_k=None, temperature=1.0, length_penalty=1,
                         repetition_penalty=1.0):
        media, slots = (image, image_idx) if image is not None else (video, video_idx)
        with torch.no_grad():
            embeds = self.lm.get_input_embeddings()(input_ids.to(self.device))
            visual = self.project_up(self.encode_vision(media.to(self.device)))
            embeds[slots.to(embeds.device)] = visual.reshape(-1, embeds.shape[-1]).to(embeds.dtype)
            return self.lm.generate(
                inputs_embeds=embeds, attention_mask=attention_mask, num_beams=num_beams, max_new_tokens=max_new_tokens,
                do_sample=do_sample, min_length=1, top_p=top_p, top_k=top_k, temperature=temperature,
                length_penalty=length_penalty, repetition_penalty=repetition_penalty,
            )

    # The real signature, shared mutable defaults included.
    def chat(self, tokenizer, msg, user_prompt, media_type, media_tensor, instruction=None, chat_history=[],  # noqa: B006
             return_history=False, generation_config={}):  # noqa: B006
        if media_type == "image":
            placeholder, media = IMAGE_PLACEHOLDER, "<Image>" + IMAGE_PLACEHOLDER + "</Image>"
        else:
            placeholder, media = VIDEO_PLACEHOLDER, "<Video>" + VIDEO_PLACEHOLDER + "</Video>"
        prompt = (instruction or "") + "[INST] " + media + msg.rstrip() + "[/INST]"
        for asked, answered in chat_history:
            prompt += f" [INST] {asked} [/INST]{answered}</s>"
        prompt += f" [INST] {user_prompt} [/INST]"

        clips = self.clips(media_tensor)
        tokenized = self.build_input_ids(tokenizer, prompt, placeholder, self.media_tokens * len(clips))
        slots = {"image_idx" if media_type == "image" else "video_idx": tokenized["index"][None]}
        media = {"image" if media_type == "image" else "video": clips}
        output_ids = self.generate_caption(tokenized["input_ids"][None].to(self.device), tokenized["attention_mask"][None].to(self.device),
                                           **slots, **media, **generation_config)
        response = tokenizer.batch_decode(output_ids, skip_special_tokens=True)[0]
        if return_history:
            chat_history.append((user_prompt, response))
            return response, chat_history
        return response
