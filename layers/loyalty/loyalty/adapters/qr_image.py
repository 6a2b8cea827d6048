"""QR codes in photos of receipts, read with zxing-cpp.

Phone photos of receipts are large, tilted, rotated, blurred or pale. zxing-cpp already searches every
rotation and scale; what it cannot fix we prepare for it: the EXIF orientation, a size it reads quickly,
denoised and stretched contrast, a sharpened copy, an enlarged copy of a small photo and a threshold.
Passes run cheapest first and stop at the first code found, so a photo read at once costs one pass.

What is left after them is a small photo out of focus: its modules two or three pixels wide, each smeared into its
neighbours. For those alone come the dear passes: the photo enlarged four times, then sharpened hard with a radius
as wide as the smear, read with zxing-cpp's local threshold and then its global one (`make bench`'s photo groups
"blurred" and "small" count what they rescue).
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import zxingcpp
from PIL import Image, ImageFilter, ImageOps, UnidentifiedImageError

from loyalty.domain.errors import DomainError

_WORKING_SIDE = 1600  # pixels: large enough for a receipt's QR, small enough to read in tens of ms
_MAX_PIXELS = 40_000_000  # refuse decompression bombs


class UnreadableImage(DomainError):
    reason = "unreadable_image"


def decode_qr(data: bytes) -> list[str]:
    """The texts of the QR codes found in an image file (JPEG, PNG, WebP...), first pass that finds any."""
    qr_only = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)  # not kept: nanobind reports it at exit
    for image, binarizer in _passes(_open(data)):
        found = [result.text for result in zxingcpp.read_barcodes(image, formats=qr_only, binarizer=binarizer)
                 if result.text]
        if found:
            return found
    return []


def _open(data: bytes) -> Image.Image:
    try:
        opened = Image.open(io.BytesIO(data))
        if opened.width * opened.height > _MAX_PIXELS:
            raise UnreadableImage(f"image too large: {opened.width}x{opened.height}")
        return ImageOps.exif_transpose(opened).convert("L")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as error:
        raise UnreadableImage(f"not an image file ({type(error).__name__})") from error


def _passes(gray: Image.Image) -> Iterator[tuple[Image.Image, zxingcpp.Binarizer]]:
    """Cheapest first; on generated bad photos each later pass rescues a few per cent more."""
    local = zxingcpp.Binarizer.LocalAverage
    scale = _WORKING_SIDE / max(gray.size)
    if scale < 1:
        gray = gray.resize((round(gray.width * scale), round(gray.height * scale)), Image.Resampling.LANCZOS)
    yield gray, local
    cleaned = ImageOps.autocontrast(gray.filter(ImageFilter.MedianFilter(3)), cutoff=2)  # noise, pale print
    yield cleaned, local
    yield cleaned.filter(ImageFilter.UnsharpMask(radius=3, percent=200, threshold=2)), local  # blur
    if max(gray.size) < _WORKING_SIDE * 7 // 8:  # a small photo: modules may be under two pixels wide
        enlarged = gray.resize((gray.width * 2, gray.height * 2), Image.Resampling.BICUBIC)
        yield enlarged, local
        yield enlarged.filter(ImageFilter.UnsharpMask(radius=2, percent=250, threshold=1)), local
    yield cleaned.point(lambda value: 255 if value > 128 else 0), local
    if max(gray.size) <= _SMALL_SIDE:  # small and still unread: out of focus, most likely
        enlarged = gray.resize((gray.width * 4, gray.height * 4), Image.Resampling.LANCZOS)
        sharpened = ImageOps.autocontrast(enlarged.filter(ImageFilter.UnsharpMask(radius=8, percent=800,
                                                                                  threshold=0)), cutoff=1)
        yield sharpened, local
        yield sharpened, zxingcpp.Binarizer.GlobalHistogram


_SMALL_SIDE = 1100  # pixels: a photo this small whose code is still unread is worth enlarging four times
