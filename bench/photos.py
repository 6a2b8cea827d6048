"""QR decoders side by side on the same generated receipt photos.

Each photo prints a real-looking receipt QR among lines of text, then rotates, tilts, blurs, adds noise,
lowers contrast and scales it down (each defect drawn independently; see loyalty_tools.receipt_photos).
Every decoder starts from the same JPEG bytes. Times are reported next to the time it takes just to
decode the JPEG into grey pixels, measured on the same photos in the same run.
"""

from __future__ import annotations

import io
import random
import statistics
import time
from collections.abc import Callable

import cv2
import numpy as np
import zxingcpp
from PIL import Image
from pyzbar import pyzbar

from loyalty.adapters.qr_image import decode_qr
from loyalty_tools.local.receipts import marketplace_receipt, qr_of
from loyalty_tools.receipt_photos import Defects, receipt_photo

PHOTOS = 240


def _gray(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data)).convert("L")


def _zxing_plain(data: bytes) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(_gray(data), formats=zxingcpp.BarcodeFormats(zxingcpp.QRCode))]


def _opencv(data: bytes) -> list[str]:
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)
    if image is None:  # not an image OpenCV can read
        return []
    text, _, _ = cv2.QRCodeDetector().detectAndDecode(image)
    return [text] if text else []


def _pyzbar(data: bytes) -> list[str]:
    return [symbol.data.decode() for symbol in pyzbar.decode(_gray(data), symbols=[pyzbar.ZBarSymbol.QRCODE])]


DECODERS: dict[str, Callable[[bytes], list[str]]] = {
    "ours (zxing-cpp + preparation passes)": decode_qr,
    "zxing-cpp, one pass": _zxing_plain,
    "opencv QRCodeDetector": _opencv,
    "pyzbar": _pyzbar,
}
GROUPS: dict[str, Callable[[Defects], bool]] = {
    "all": lambda d: True,
    "rotated > 30°": lambda d: 30 < abs(d.rotate) < 150,
    "tilted > 0.15": lambda d: d.tilt > 0.15,
    "blurred ≥ 1.2 px": lambda d: d.blur >= 1.2,
    "noisy ≥ 0.1": lambda d: d.noise >= 0.1,
    "low contrast ≤ 0.5": lambda d: d.contrast <= 0.5,
    "small ≤ 800 px": lambda d: d.width <= 800,
}


def photo_set(count: int = PHOTOS) -> list[tuple[str, Defects, bytes]]:
    rng = random.Random(20261123)
    photos = []
    for n in range(count):
        qr = qr_of(marketplace_receipt("7700000024", [("Крем", rng.randint(100, 99999) * 100, 1)], fd=n + 1))
        defects = Defects.random(rng)
        photos.append((qr, defects, receipt_photo(qr, defects, seed=n)))
    return photos


def compare() -> dict[str, object]:
    photos = photo_set()
    jpeg_seconds = []
    for _, _, data in photos:
        start = time.perf_counter()
        _gray(data).load()
        jpeg_seconds.append(time.perf_counter() - start)
    baseline = statistics.mean(jpeg_seconds)
    results: dict[str, object] = {}
    for name, decoder in DECODERS.items():
        hits, seconds = [], []
        for qr, _, data in photos:
            start = time.perf_counter()
            try:
                found = decoder(data)
            except Exception:  # a decoder that crashes on a photo has simply not read it
                found = []
            seconds.append(time.perf_counter() - start)
            hits.append(qr in found)
        results[name] = {
            "success_rate": {group: _rate([hit for hit, (_, d, _) in zip(hits, photos, strict=True) if wanted(d)])
                             for group, wanted in GROUPS.items()},
            "ms_per_image_mean": round(1000 * statistics.mean(seconds), 1),
            "ms_per_image_median": round(1000 * statistics.median(seconds), 1),
            "time_ratio_to_jpeg_decode": round(statistics.mean(seconds) / baseline, 1),
        }
    return {"photos": len(photos), "baseline_jpeg_decode_ms": round(1000 * baseline, 2),
            "photos_per_group": {group: sum(wanted(d) for _, d, _ in photos) for group, wanted in GROUPS.items()},
            "decoders": results}


def _rate(hits: list[bool]) -> float | None:
    return round(sum(hits) / len(hits), 3) if hits else None
