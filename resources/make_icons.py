"""Draw the application icon and write it in every form the platforms take.

    python resources/make_icons.py      (writes resources/icons/; the files are committed)

A play triangle on a rounded blue square with a speech bubble: video, and a chat about it.
Drawn at 1024 px and scaled down, so every size comes from the same picture.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
BLUE, DARK_BLUE, AMBER, WHITE = (33, 102, 172, 255), (20, 64, 118, 255), (232, 163, 23, 255), (255, 255, 255, 255)


def draw(size: int = 1024) -> Image.Image:
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    unit = size / 64
    pen.rounded_rectangle((2 * unit, 2 * unit, 62 * unit, 62 * unit), radius=12 * unit, fill=BLUE, outline=DARK_BLUE, width=int(2 * unit))
    pen.polygon([(17 * unit, 14 * unit), (17 * unit, 44 * unit), (42 * unit, 29 * unit)], fill=WHITE)
    # The bubble sits over the bottom right corner, its tail pointing at the picture.
    pen.rounded_rectangle((33 * unit, 36 * unit, 59 * unit, 56 * unit), radius=6 * unit, fill=AMBER, outline=WHITE, width=int(1.5 * unit))
    pen.polygon([(37 * unit, 54 * unit), (34 * unit, 61 * unit), (43 * unit, 55 * unit)], fill=AMBER)
    for dot in range(3):
        x = (39 + 7 * dot) * unit
        pen.ellipse((x, 44 * unit, x + 4 * unit, 48 * unit), fill=WHITE)
    return image


def main() -> None:
    folder = HERE / "icons"
    folder.mkdir(exist_ok=True)
    picture = draw()
    for size in SIZES:
        picture.resize((size, size), Image.Resampling.LANCZOS).save(folder / f"videochat-{size}.png", optimize=True)
    picture.resize((256, 256), Image.Resampling.LANCZOS).save(folder / "videochat.ico", sizes=[(s, s) for s in SIZES if s <= 256])
    picture.save(folder / "videochat.icns")  # Pillow writes every size macOS asks for
    print(f"wrote {folder}")


if __name__ == "__main__":
    main()
