"""Reading the QR code from photos, each kind of bad photo on its own."""

import io

import pytest
import zxingcpp
from PIL import Image

from loyalty.adapters.qr_image import UnreadableImage, _open, _passes, decode_qr
from loyalty_tools.receipt_photos import Defects, receipt_photo

QR = "t=20241229T1739&s=586.00&fn=7380440801033258&i=215785&fp=2905316734&n=1"


@pytest.mark.parametrize("defects", [
    Defects(),
    Defects(rotate=90), Defects(rotate=180), Defects(rotate=-37),
    Defects(tilt=0.25),
    Defects(blur=1.5),
    Defects(contrast=0.35),
    Defects(noise=0.2),
    Defects(width=640),  # a phone's small preview
    Defects(width=1600, rotate=12, tilt=0.1, blur=0.7, noise=0.05, contrast=0.7),
], ids=repr)
def test_the_code_is_read_from_a_bad_photo(defects: Defects) -> None:
    assert decode_qr(receipt_photo(QR, defects, seed=1)) == [QR]


def test_a_small_photo_out_of_focus_is_read_by_the_dear_passes_only_after_the_cheap_ones_fail() -> None:
    """Blurred by two pixels at 800 wide: every cheap pass fails; enlarged four times and sharpened, it reads."""
    photo = receipt_photo(QR, Defects(rotate=23, tilt=0.1, blur=2.0, width=800), seed=1)
    tried = list(_passes(_open(photo)))
    cheap, dear = tried[:-2], tried[-2:]
    assert not any(QR in _read(image, binarizer) for image, binarizer in cheap)
    assert dear[0][0].width == 4 * 800 and decode_qr(photo) == [QR]
    clear = list(_passes(_open(receipt_photo(QR, Defects(width=1600), seed=1))))
    assert len(clear) == len(tried) - 4  # a large photo gets neither the enlarged passes nor the dear ones


def _read(image: Image.Image, binarizer: zxingcpp.Binarizer) -> list[str]:
    return [result.text for result in zxingcpp.read_barcodes(
        image, formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode), binarizer=binarizer)]


def test_a_huge_photo_is_read_at_a_working_size() -> None:
    photo = Image.open(io.BytesIO(receipt_photo(QR, Defects(width=1600)))).resize((4000, 4000))
    out = io.BytesIO()
    photo.save(out, "JPEG", quality=85)
    assert decode_qr(out.getvalue()) == [QR]


def test_exif_orientation_is_honoured() -> None:
    photo = Image.open(io.BytesIO(receipt_photo(QR, Defects(width=1080)))).rotate(90, expand=True)
    exif = photo.getexif()
    exif[0x0112] = 8  # "rotate 270 to view": what a phone writes instead of turning the pixels
    out = io.BytesIO()
    photo.save(out, "JPEG", exif=exif)
    assert decode_qr(out.getvalue()) == [QR]


def test_a_photo_without_a_code_yields_nothing() -> None:
    assert decode_qr(receipt_photo("", Defects(blur=15), seed=2)) == []


@pytest.mark.parametrize("data", [b"", b"GIF89a broken", b"\x89PNG\r\n\x1a\n" + b"\0" * 50])
def test_what_is_not_an_image_is_a_clear_error(data: bytes) -> None:
    with pytest.raises(UnreadableImage):
        decode_qr(data)
