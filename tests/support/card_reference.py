"""The model cards' `get_index` and `load_video`, transcribed as they are written, for comparison.

Only two things differ from the cards: frames come in as an already decoded uint8 array (the
cards call decord; the readers are tested separately), and torchvision, which cannot be
imported on a CPU-only torch, is replaced by what its functions do (torchvision 0.17+ source):
`Resize` on tensors = `interpolate(bicubic, align_corners=False, antialias=True)` with the
long side truncated and a no-op when the size already matches, `CenterCrop` offsets rounded,
`ToTensor` = uint8 / 255, `Normalize` = sub mean, div std.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)


# -- InternVideo2-Chat card -------------------------------------------------------------


def iv2_get_index(num_frames, num_segments):
    seg_size = float(num_frames - 1) / num_segments
    start = int(seg_size / 2)
    offsets = np.array([start + int(np.round(seg_size * idx)) for idx in range(num_segments)])
    return offsets


def iv2_msg(frame_indices, fps):
    sec = ", ".join([str(round(f / fps, 1)) for f in frame_indices])
    return f"The video contains {len(frame_indices)} frames sampled at {sec} seconds."


def tv_resize_tensor(img, size, antialias=True, mode="bicubic"):
    """torchvision.transforms.Resize(size) (size an int) on a float tensor."""
    h, w = img.shape[-2:]
    short, long = (w, h) if w <= h else (h, w)
    new_short, new_long = size, int(size * long / short)
    new_w, new_h = (new_short, new_long) if w <= h else (new_long, new_short)
    if [h, w] == [new_h, new_w]:
        return img
    return F.interpolate(img, size=[new_h, new_w], mode=mode, align_corners=False, antialias=antialias)


def tv_center_crop(img, size):
    h, w = img.shape[-2:]
    crop_top = int(round((h - size) / 2.0))
    crop_left = int(round((w - size) / 2.0))
    return img[..., crop_top : crop_top + size, crop_left : crop_left + size]


def tv_normalize(tensor, mean=MEAN, std=STD):
    mean = torch.as_tensor(mean, dtype=tensor.dtype).view(-1, 1, 1)
    std = torch.as_tensor(std, dtype=tensor.dtype).view(-1, 1, 1)
    return tensor.sub(mean).div(std)


def iv2_load_video(batch_thwc, resize_antialias=True, resize_mode="bicubic"):
    """InternVideo2-Chat-8B card `load_video` from `frames = vr.get_batch(frame_indices)` on."""
    frames = torch.from_numpy(batch_thwc)  # decord's torch bridge: T x H x W x C uint8
    frames = frames.permute(0, 3, 1, 2)
    frames = frames.float().div(255.0)  # transforms.Lambda
    frames = tv_resize_tensor(frames, 224, antialias=resize_antialias, mode=resize_mode)
    frames = tv_center_crop(frames, 224)
    frames = tv_normalize(frames)
    return frames


# -- InternVideo2-Chat-HD card ----------------------------------------------------------


def HD_transform_no_padding(frames, image_size=224, hd_num=6, fix_ratio=(2, 1)):
    min_num = 1
    max_num = hd_num
    _, _, orig_height, orig_width = frames.shape
    aspect_ratio = orig_width / orig_height
    target_ratios = set(
        (i, j) for n in range(min_num, max_num + 1) for i in range(1, n + 1) for j in range(1, n + 1) if i * j <= max_num and i * j >= min_num
    )
    target_ratios = sorted(target_ratios, key=lambda x: x[0] * x[1])
    if fix_ratio:
        target_aspect_ratio = fix_ratio
    else:
        raise NotImplementedError
    target_width = image_size * target_aspect_ratio[0]
    target_height = image_size * target_aspect_ratio[1]
    resized_frame = F.interpolate(frames, size=(target_height, target_width), mode="bicubic", align_corners=False)
    return resized_frame


def iv2_hd_load_video(batch_thwc, resolution=224, hd_num=6):
    frames = torch.from_numpy(batch_thwc)
    frames = frames.permute(0, 3, 1, 2)
    frames = HD_transform_no_padding(frames.float(), image_size=resolution, hd_num=hd_num)
    frames = tv_normalize(frames.float().div(255.0))
    T_, C, H, W = frames.shape
    sub_img = (
        frames.reshape(1, T_, 3, H // resolution, resolution, W // resolution, resolution)
        .permute(0, 3, 5, 1, 2, 4, 6)
        .reshape(-1, T_, 3, resolution, resolution)
        .contiguous()
    )
    glb_img = F.interpolate(frames.float(), size=(resolution, resolution), mode="bicubic", align_corners=False).to(sub_img.dtype).unsqueeze(0)
    frames = torch.cat([sub_img, glb_img]).unsqueeze(0)
    return frames


# -- InternVL2 card (also InternVideo2.5) -----------------------------------------------


def vl_get_index(bound, fps, max_frame, first_idx=0, num_segments=32):
    if bound:
        start, end = bound[0], bound[1]
    else:
        start, end = -100000, 100000
    start_idx = max(first_idx, round(start * fps))
    end_idx = min(round(end * fps), max_frame)
    seg_size = float(end_idx - start_idx) / num_segments
    frame_indices = np.array([int(start_idx + (seg_size / 2) + np.round(seg_size * idx)) for idx in range(num_segments)])
    return frame_indices


def find_closest_aspect_ratio(aspect_ratio, target_ratios, width, height, image_size):
    best_ratio_diff = float("inf")
    best_ratio = (1, 1)
    area = width * height
    for ratio in target_ratios:
        target_aspect_ratio = ratio[0] / ratio[1]
        ratio_diff = abs(aspect_ratio - target_aspect_ratio)
        if ratio_diff < best_ratio_diff:
            best_ratio_diff = ratio_diff
            best_ratio = ratio
        elif ratio_diff == best_ratio_diff:
            if area > 0.5 * image_size * image_size * ratio[0] * ratio[1]:
                best_ratio = ratio
    return best_ratio


def dynamic_preprocess(image, min_num=1, max_num=12, image_size=448, use_thumbnail=False):
    orig_width, orig_height = image.size
    aspect_ratio = orig_width / orig_height
    target_ratios = set(
        (i, j) for n in range(min_num, max_num + 1) for i in range(1, n + 1) for j in range(1, n + 1) if i * j <= max_num and i * j >= min_num
    )
    target_ratios = sorted(target_ratios, key=lambda x: x[0] * x[1])
    target_aspect_ratio = find_closest_aspect_ratio(aspect_ratio, target_ratios, orig_width, orig_height, image_size)
    target_width = image_size * target_aspect_ratio[0]
    target_height = image_size * target_aspect_ratio[1]
    blocks = target_aspect_ratio[0] * target_aspect_ratio[1]
    resized_img = image.resize((target_width, target_height))
    processed_images = []
    for i in range(blocks):
        box = (
            (i % (target_width // image_size)) * image_size,
            (i // (target_width // image_size)) * image_size,
            ((i % (target_width // image_size)) + 1) * image_size,
            ((i // (target_width // image_size)) + 1) * image_size,
        )
        split_img = resized_img.crop(box)
        processed_images.append(split_img)
    assert len(processed_images) == blocks
    if use_thumbnail and len(processed_images) != 1:
        thumbnail_img = image.resize((image_size, image_size))
        processed_images.append(thumbnail_img)
    return processed_images


def build_transform(input_size, channel_order="RGB"):
    def transform(img):
        img = img.convert("RGB") if img.mode != "RGB" else img
        if img.size != (input_size, input_size):  # T.Resize((s, s), BICUBIC) on PIL
            img = img.resize((input_size, input_size), Image.BICUBIC)
        array = np.array(img, copy=True)
        if channel_order == "BGR":
            array = array[..., ::-1].copy()
        tensor = torch.from_numpy(array).permute(2, 0, 1).contiguous().float().div(255)  # ToTensor
        return tv_normalize(tensor)

    return transform


def vl_load_video(frames_in_order, input_size=448, max_num=1, channel_order="RGB"):
    """InternVL2 card `load_video` from its loop over `frame_indices` on."""
    pixel_values_list, num_patches_list = [], []
    transform = build_transform(input_size=input_size, channel_order=channel_order)
    for frame in frames_in_order:
        img = Image.fromarray(frame).convert("RGB")
        img = dynamic_preprocess(img, image_size=input_size, use_thumbnail=True, max_num=max_num)
        pixel_values = [transform(tile) for tile in img]
        pixel_values = torch.stack(pixel_values)
        num_patches_list.append(pixel_values.shape[0])
        pixel_values_list.append(pixel_values)
    pixel_values = torch.cat(pixel_values_list)
    return pixel_values, num_patches_list
