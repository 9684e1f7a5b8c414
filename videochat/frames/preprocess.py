"""What each model family is fed: the cards' `load_video` transforms, on decoded RGB frames.

The cards use torchvision; it is not imported here (its PyPI build does not load on a CPU-only
torch), so its semantics are written out, from torchvision's own source:

- `transforms.Resize(n)` on a float tensor is `F.interpolate(bicubic, align_corners=False,
  antialias=True)` to short side n and long side `int(n * long / short)`; nothing at all when
  the size already matches.
- `transforms.CenterCrop(n)` starts at `int(round((size - n) / 2))`.
- `ToTensor` divides uint8 by 255; `Normalize` subtracts the mean, then divides by the std.
- PIL's `Image.resize` defaults to bicubic (antialiased, a = -0.5) and rounds to uint8.

Every function takes frames as a uint8 array T x H x W x 3 (RGB, upright) and returns float32
tensors; they work on any number of frames, so the pipeline can feed them in small batches
while decoding.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
INTERNVIDEO2_SIZE = 224
INTERNVL_SIZE = 448


def _normalize(tensor):
    import torch

    mean = torch.tensor(IMAGENET_MEAN, dtype=tensor.dtype).view(-1, 1, 1)
    std = torch.tensor(IMAGENET_STD, dtype=tensor.dtype).view(-1, 1, 1)
    return tensor.sub_(mean).div_(std)


def _to_float_tchw(frames: np.ndarray):
    import torch

    return torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float()


def short_side_size(height: int, width: int, short: int) -> tuple[int, int]:
    """torchvision's output size for `Resize(short)`: the long side is truncated, not rounded."""
    if width <= height:
        return int(short * height / width), short
    return short, int(short * width / height)


# -- InternVideo2-Chat ------------------------------------------------------------------


def internvideo2(frames: np.ndarray, size: int = INTERNVIDEO2_SIZE):
    """T x 3 x 224 x 224: /255, short side 224 (bicubic, antialiased), centre crop, ImageNet norm."""
    import torch.nn.functional as F

    tensor = _to_float_tchw(frames).div_(255.0)
    height, width = tensor.shape[-2:]
    new_h, new_w = short_side_size(height, width, size)
    if (new_h, new_w) != (height, width):
        tensor = F.interpolate(tensor, size=(new_h, new_w), mode="bicubic", align_corners=False, antialias=True)
    top, left = int(round((new_h - size) / 2.0)), int(round((new_w - size) / 2.0))
    tensor = tensor[..., top : top + size, left : left + size].contiguous()
    return _normalize(tensor)


def internvideo2_hd(frames: np.ndarray, size: int = INTERNVIDEO2_SIZE):
    """3 x T x 3 x 224 x 224: the left and right halves of a 2:1 resize, then the whole of it.

    The card's `HD_transform_no_padding` with its fixed (2, 1) ratio: every frame, portrait
    ones too, is resized to 448 x 224 (bicubic, no antialias) on 0-255 floats, normalised,
    split into two 224 tiles, and the normalised 448 x 224 picture is resized again to
    224 x 224 as the global view. The model takes this with a leading batch axis of 1.
    """
    import torch
    import torch.nn.functional as F

    tensor = _to_float_tchw(frames)
    tensor = F.interpolate(tensor, size=(size, 2 * size), mode="bicubic", align_corners=False)
    tensor = _normalize(tensor.div_(255.0))
    left, right = tensor[..., :size], tensor[..., size:]
    whole = F.interpolate(tensor, size=(size, size), mode="bicubic", align_corners=False)
    return torch.stack([left.contiguous(), right.contiguous(), whole])


# -- InternVL2 / InternVideo2.5 ---------------------------------------------------------


def closest_aspect_ratio(aspect_ratio: float, width: int, height: int, max_tiles: int, image_size: int) -> tuple[int, int]:
    """The card's `find_closest_aspect_ratio` over its tile grids of 1..max_tiles tiles."""
    ratios = sorted(
        {(i, j) for n in range(1, max_tiles + 1) for i in range(1, n + 1) for j in range(1, n + 1) if 1 <= i * j <= max_tiles},
        key=lambda ratio: ratio[0] * ratio[1],
    )
    best_diff, best = float("inf"), (1, 1)
    area = width * height
    for ratio in ratios:
        diff = abs(aspect_ratio - ratio[0] / ratio[1])
        if diff < best_diff:
            best_diff, best = diff, ratio
        elif diff == best_diff and area > 0.5 * image_size * image_size * ratio[0] * ratio[1]:
            best = ratio
    return best


def internvl_tiles(frame: np.ndarray, max_tiles: int = 1, image_size: int = INTERNVL_SIZE) -> np.ndarray:
    """The card's `dynamic_preprocess` on one frame: tiles (and a thumbnail if more than one), uint8."""
    from PIL import Image

    image = Image.fromarray(frame)
    width, height = image.size
    columns, rows = closest_aspect_ratio(width / height, width, height, max_tiles, image_size)
    resized = np.asarray(image.resize((image_size * columns, image_size * rows)))
    tiles = [
        resized[row * image_size : (row + 1) * image_size, column * image_size : (column + 1) * image_size]
        for row in range(rows)
        for column in range(columns)
    ]
    if len(tiles) > 1:
        tiles.append(np.asarray(image.resize((image_size, image_size))))
    return np.stack(tiles)


def internvl(frames: np.ndarray, max_tiles: int = 1, image_size: int = INTERNVL_SIZE):
    """(sum of tiles) x 3 x 448 x 448 and the tiles per frame (`num_patches_list`).

    PIL resizes each frame (it is the card's resampler, and its uint8 rounding is part of
    what the model was trained on); conversion and normalisation run once on the batch.
    """
    per_frame = [internvl_tiles(frame, max_tiles, image_size) for frame in frames]
    tiles = np.concatenate(per_frame)
    tensor = _to_float_tchw(tiles).div_(255.0)
    return _normalize(tensor), [len(t) for t in per_frame]


# -- native transformers models --------------------------------------------------------

NATIVE_MAX_SIDE = 1280


def native_frames(frames: np.ndarray, max_side: int = NATIVE_MAX_SIDE):
    """T x H x W x 3 uint8 for a model's own processor, which resizes them itself (to 384 px or so).

    Frames whose long side exceeds `max_side` are first shrunk (PIL bicubic) so that 64 frames
    of a 4K clip do not sit in memory at full size; smaller frames pass untouched.
    """
    import torch
    from PIL import Image

    height, width = frames.shape[1:3]
    if max(height, width) > max_side:
        scale = max_side / max(height, width)
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        frames = np.stack([np.asarray(Image.fromarray(frame).resize(size, Image.BICUBIC)) for frame in frames])
    return torch.from_numpy(np.ascontiguousarray(frames))


def concat_frames(parts: Sequence, dim: int):
    import torch

    return torch.cat(list(parts), dim=dim)
