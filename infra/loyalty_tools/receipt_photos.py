"""Receipt-like photos made to order: a QR code printed among lines of text on a paper strip, then
photographed badly (rotated, tilted, blurred, noisy, pale, small). Tests and `make bench` use them."""

from __future__ import annotations

import io
import random
from collections.abc import Sequence
from dataclasses import dataclass

import qrcode
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter


@dataclass(frozen=True)
class Defects:
    rotate: float = 0.0  # degrees
    tilt: float = 0.0  # perspective strength, 0..0.3
    blur: float = 0.0  # Gaussian radius in pixels of the final photo
    noise: float = 0.0  # 0..1, share of sensor noise mixed in
    contrast: float = 1.0  # below 1: a pale print or a dim room
    width: int = 1200  # of the final photo, in pixels

    @classmethod
    def random(cls, rng: random.Random) -> Defects:
        """One photo's defects, each drawn independently, from mild to as bad as a readable photo gets."""
        return cls(rotate=rng.uniform(-180, 180), tilt=rng.uniform(0, 0.25), blur=rng.choice([0, 0, 0.7, 1.2, 2.0]),
                   noise=rng.choice([0, 0.05, 0.1, 0.2]), contrast=rng.choice([1, 0.7, 0.5, 0.35]),
                   width=rng.choice([1600, 1280, 1080, 800, 640]))


def receipt_photo(qr_text: str, defects: Defects = Defects(), seed: int = 0) -> bytes:
    rng = random.Random(seed)  # noqa: S311 - reproducible test images, not secrets
    paper = Image.new("L", (620, 1100), 250)
    draw = ImageDraw.Draw(paper)
    for row in range(24):  # lines of "text" above and below the code, as a cash register prints them
        y = 30 + row * 26 + (330 if row >= 17 else 0)
        if y > 1070:
            break
        words = " ".join("".join(rng.choice("АБВГДЕЖЗИКЛМНОПРСТ0123456789") for _ in range(rng.randint(2, 9)))
                         for _ in range(rng.randint(2, 5)))
        draw.text((30, y), words, fill=rng.randint(20, 60))
    code = qrcode.QRCode(border=2, box_size=6, error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(qr_text)
    image = code.make_image(fill_color="black", back_color="white").get_image().convert("L")
    paper.paste(image, ((paper.width - image.width) // 2, 480))

    table = Image.new("L", (1400, 1400), rng.randint(90, 160))  # the surface the receipt lies on
    table.paste(paper, ((table.width - paper.width) // 2, (table.height - paper.height) // 2))
    photo = table.rotate(defects.rotate, resample=Image.Resampling.BICUBIC, fillcolor=table.getpixel((0, 0)))
    if defects.tilt:
        photo = _tilt(photo, defects.tilt)
    if defects.contrast != 1:
        photo = ImageEnhance.Contrast(photo).enhance(defects.contrast)
    scale = defects.width / photo.width
    photo = photo.resize((defects.width, round(photo.height * scale)), Image.Resampling.LANCZOS)
    if defects.blur:
        photo = photo.filter(ImageFilter.GaussianBlur(defects.blur))
    if defects.noise:
        noise = Image.effect_noise(photo.size, 64).convert("L")
        photo = Image.blend(photo, noise, defects.noise)
    out = io.BytesIO()
    photo.convert("RGB").save(out, "JPEG", quality=80)
    return out.getvalue()


def _tilt(image: Image.Image, strength: float) -> Image.Image:
    """A phone held at an angle: the far edge of the receipt looks narrower than the near one."""
    w, h = image.size
    d = strength * w / 2
    # Coefficients mapping the output quad to the input rectangle (PIL's PERSPECTIVE transform).
    source = [(0, 0), (w, 0), (w, h), (0, h)]
    target = [(d, 0), (w - d, 0), (w, h), (0, h)]
    return image.transform(image.size, Image.Transform.PERSPECTIVE, _coefficients(target, source),
                           Image.Resampling.BICUBIC, fillcolor=image.getpixel((0, 0)))


def _coefficients(target: Sequence[tuple[float, float]], source: Sequence[tuple[float, float]]) -> list[float]:
    """Solve the 8 perspective coefficients (Gaussian elimination; no numpy in the tools)."""
    rows, rhs = [], []
    for (x, y), (u, v) in zip(target, source, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        rhs += [u, v]
    n = 8
    matrix = [[*row, value] for row, value in zip(rows, rhs, strict=True)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(matrix[r][col]))
        matrix[col], matrix[pivot] = matrix[pivot], matrix[col]
        for r in range(n):
            if r != col:
                factor = matrix[r][col] / matrix[col][col]
                matrix[r] = [a - factor * b for a, b in zip(matrix[r], matrix[col], strict=True)]
    return [matrix[i][n] / matrix[i][i] for i in range(n)]
